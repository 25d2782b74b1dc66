"""The REST API: thin routes that validate, call the detector and shape responses."""
