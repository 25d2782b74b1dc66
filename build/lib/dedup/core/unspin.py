"""Spin normalisation: known spun phrases mapped back to what they replaced (pure).

A spinner that writes "Chilly Battle" for "Cold War" breaks every shingle around it. Before
shingling, the words of a known spun phrase (the `spin` pairs of `markers.json`) are
replaced by the canonical phrase's words, so a spun copy shingles like its original. Each hit
is still reported as a `spin` marker, the evidence a human can check.

Tokens keep pointing into the display text: the canonical words of a replaced phrase take the
spans of the spun words they stand in for (the last one reaches to the phrase's end), so the
passages of a spun copy still cover the spun words themselves.
"""

from collections.abc import Sequence
from functools import lru_cache

from dedup.core.markers import Rules, default_rules
from dedup.core.text import Tokens, words

Table = dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]  # first word -> (spun, canonical)


def table_of(rules: Rules) -> Table:
    """The spun phrases as word tuples, indexed by their first word, longest first."""
    table: Table = {}
    for spun, canonical in (rules.spin_canonical or {}).items():
        spun_words, canonical_words = tuple(words(spun)), tuple(words(canonical))
        if spun_words and canonical_words:
            table.setdefault(spun_words[0], []).append((spun_words, canonical_words))
    for entries in table.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return table


@lru_cache(maxsize=1)
def default_table() -> Table:
    return table_of(default_rules())


def _replacements(found: Sequence[str], table: Table) -> list[tuple[int, int, tuple[str, ...]]]:
    """(start, length, canonical words) of every spun phrase in a word sequence."""
    hits: list[tuple[int, int, tuple[str, ...]]] = []
    end = 0  # words before this index are inside a replaced phrase
    for i in [i for i, word in enumerate(found) if word in table]:  # few: skip the rest fast
        if i < end:
            continue
        for spun, canonical in table[found[i]]:
            if tuple(found[i : i + len(spun)]) == spun:
                hits.append((i, len(spun), canonical))
                end = i + len(spun)
                break
    return hits


def unspin_words(found: list[str], table: Table | None = None) -> list[str]:
    """The words with known spun phrases replaced by their canonical ones.

    >>> unspin_words("tensions in the center east recall the chilly battle".split())
    ['tensions', 'in', 'the', 'middle', 'east', 'recall', 'the', 'cold', 'war']
    >>> unspin_words("the very best courtroom ruled".split())
    ['the', 'supreme', 'court', 'ruled']
    """
    hits = _replacements(found, default_table() if table is None else table)
    if not hits:
        return found
    out: list[str] = []
    at = 0
    for start, length, canonical in hits:
        out += found[at:start]
        out += canonical
        at = start + length
    return out + found[at:]


def unspin_tokens(tokens: Tokens, table: Table | None = None) -> Tokens:
    """The tokens with known spun phrases replaced, spans kept in the display text.

    >>> from dedup.core.text import tokenize
    >>> t = unspin_tokens(tokenize("The Very Best Courtroom ruled"))
    >>> t.words, t.starts, t.ends
    (('the', 'supreme', 'court', 'ruled'), (0, 4, 9, 24), (3, 8, 23, 29))
    """
    hits = _replacements(tokens.words, default_table() if table is None else table)
    if not hits:
        return tokens
    found: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    at = 0
    for start, length, canonical in hits:
        found += tokens.words[at:start]
        starts += tokens.starts[at:start]
        ends += tokens.ends[at:start]
        for k, word in enumerate(canonical):
            source = start + min(k, length - 1)
            found.append(word)
            starts.append(tokens.starts[source])
            last = k == len(canonical) - 1
            ends.append(tokens.ends[start + length - 1] if last else tokens.ends[source])
        at = start + length
    found += tokens.words[at:]
    starts += tokens.starts[at:]
    ends += tokens.ends[at:]
    return Tokens(tuple(found), tuple(starts), tuple(ends))
