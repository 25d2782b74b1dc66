"""Everything that touches Redis for the index, the sites and the scans.

    keys.py     every key name, spelled from the prefix (the layout is documented there)
    codecs.py   how entries and records are packed into values
    scripts.py  the Lua scripts of lua/, called by the names their headers give
    client.py   errors translated once, scripts run in one round trip, drop_prefix
    index.py    Store: articles, their index entries, lookups
    sites.py    SiteStore: per-site sums and the copy graph
    scans.py    ScanStore: batch scans, their chunks, leases and results

The store imports the core's value types and nothing above it (no use cases, no settings).
"""

from dedup.store.client import Client, drop_prefix, unavailable_on_failure
from dedup.store.index import Store
from dedup.store.scans import ScanLine, ScanState, ScanStatus, ScanStore
from dedup.store.sites import SiteStore

__all__ = [
    "Client",
    "ScanLine",
    "ScanState",
    "ScanStatus",
    "ScanStore",
    "SiteStore",
    "Store",
    "drop_prefix",
    "unavailable_on_failure",
]
