"""Adapters to the world outside Redis, each behind a small interface the services use.

jobs.py     the worker queue (RQ), behind the `Jobs` port
html.py     main text and metadata of an HTML page (trafilatura), in a killable child
encoder.py  the sentence encoder (USE multilingual v3), behind the `Encoder` interface
"""
