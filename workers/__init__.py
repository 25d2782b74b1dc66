"""The worker edge: RQ job functions (`tasks`) and the process pool of `dedup worker` (`pool`).

The scan protocol itself lives in `dedup.services.scans`; the queue adapter in
`dedup.adapters.jobs`.
"""
