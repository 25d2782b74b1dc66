"""The word-level changes between two quoted passages (pure): what a copy deleted, inserted
or replaced inside a passage the alignment paired with its source's.

An aligned passage survives small edits (the alignment merges across gaps of a few words), so
two paired passages read alike but not the same: a spinner's "Chilly Battle" for "Cold War",
a subeditor's cut clause. Words compare by their letters and digits, case aside, so a moved
comma or a capital is no change.
"""

import difflib
import re
from dataclasses import dataclass
from typing import Literal

Op = Literal["same", "deleted", "inserted", "replaced"]
_WORD = re.compile(r"\S+")
_NOT_WORD = re.compile(r"\W+")
_OPS: dict[str, Op] = {
    "equal": "same",
    "delete": "deleted",
    "insert": "inserted",
    "replace": "replaced",
}


@dataclass(frozen=True, slots=True)
class Edit:
    """One run of words: the same in both, or changed. `old` is the source passage's words,
    `new` the copy's; `start`/`end` locate `new` in the copy's passage (characters)."""

    op: Op
    old: str
    new: str
    start: int
    end: int


def _key(word: str) -> str:
    return _NOT_WORD.sub("", word.casefold()) or word


def word_edits(old: str, new: str) -> tuple[Edit, ...]:
    """The runs of words that two passages share and the changes between them, in order.

    >>> for e in word_edits("the Cold War ended in 1991, historians say",
    ...                     "the Chilly Battle ended in 1991 historians say"):
    ...     print(e.op, repr(e.old), repr(e.new))
    same 'the' 'the'
    replaced 'Cold War' 'Chilly Battle'
    same 'ended in 1991, historians say' 'ended in 1991 historians say'
    >>> [(e.op, e.old, e.new) for e in word_edits("a b c", "a c d")]
    [('same', 'a', 'a'), ('deleted', 'b', ''), ('same', 'c', 'c'), ('inserted', '', 'd')]
    """
    a = [(m.start(), m.end()) for m in _WORD.finditer(old)]
    b = [(m.start(), m.end()) for m in _WORD.finditer(new)]
    matcher = difflib.SequenceMatcher(
        None, [_key(old[s:e]) for s, e in a], [_key(new[s:e]) for s, e in b], autojunk=False
    )
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_text = old[a[i1][0] : a[i2 - 1][1]] if i2 > i1 else ""
        start, end = (b[j1][0], b[j2 - 1][1]) if j2 > j1 else (b[j1 - 1][1] if j1 else 0,) * 2
        edits.append(Edit(_OPS[tag], old_text, new[start:end], start, end))
    return tuple(edits)


def changed(edits: tuple[Edit, ...]) -> bool:
    """Whether any word changed."""
    return any(e.op != "same" for e in edits)
