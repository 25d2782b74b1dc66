"""Background work on an RQ queue over the index's Redis (batch scans, follow-up scoring).

Not built yet: it is issue 3. Today every article is scored on the request path
(`dedup.detector.Detector.ingest`), which the workers will call too.
"""
