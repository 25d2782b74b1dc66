"""The pure core: from texts to fingerprints, verified matches, originals and site scores.

Every module here takes and returns plain data (frozen dataclasses, numpy arrays, tuples)
and imports no redis, rq, fastapi, pydantic or click, reads no environment and holds no
mutable global state: a cache is an argument (`shingles.WordHashes`,
`matching.DerivedCache`). Their parameters have no defaults of their own; the one source of
defaults is `dedup.config.Settings`. `tests/test_layout.py` keeps it so.

    text         normalisation and tokens with offsets
    shingles     word hashes and shingles
    signatures   MinHash with LSH bands, SimHash with blocks
    unspin       known spun phrases back to their words
    fingerprint  everything the index and verification need of a text
    candidates   which probed ids to verify, in which order
    score        shingle scores and the relation they show
    align        shared passages with offsets into both texts
    rewrite      the names-and-numbers skeleton and sentence pairs
    markers      credit lines, chrome, spun phrases, translator credits (markers.json)
    copytype     what kind of copy a pair shows
    attribution  the likely original and the reasons for it
    matching     verification of candidates, the use cases' result
    sites        what an article says about its site, and the farm score
"""
