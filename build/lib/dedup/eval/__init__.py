"""Labelled evaluation sets (synthetic copies, simulated site ecosystems) and their scoring."""
