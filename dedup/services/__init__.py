"""The use cases, over the store and the adapters: what the edges (api, workers, cli) call.

detector.py  ingest, check, matches, delete, bulk load (Explainer: the same without an index)
sites.py     the Sites service: finishing an ingest (counting, follow-ups, copy.found),
             rescoring, the sites table, dossiers and the copy graph
scans.py     the scan protocol: chunks, leases, the reaper's rules, stored results
retries.py   retrying a step while Redis is unreachable
access.py    API keys with scopes, and their quotas
lists.py     watched sites and exclusions, and the policy each check reads
hooks.py     webhooks: events, signatures, deliveries
input.py     ArticleIn (the one definition of a valid article) and reading files
batch.py     `dedup batch`: a dump's copy pairs and site sums as Parquet (local or Ray)
"""
