"""What the pages show, as plain data for the templates: texts cut into segments (each in
at most one shared passage, under any markers), matches with both texts, CSV rows.

The numbers are the API's own: a page's match is the `MatchOut` of the same result, so the
page and `POST /v1/check` never disagree.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from api.schemas import CheckOut, MarkerOut, MatchOut
from dedup.core.edits import Edit, changed, word_edits
from dedup.core.result import Result

PALETTE = 8  # passages 0-7 take app.css's colours (.p0 ... .p7); later ones a hue of their own
GOLDEN_ANGLE = 137.508  # degrees: successive hues as far apart as they can be, never equal


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of a text inside one passage (or none) and under the same markers."""

    text: str
    passage: int | None  # the passage's number in its match, shared by both sides
    markers: tuple[tuple[str, str], ...] = ()  # (kind, label) of each marker over it
    first: bool = False  # it opens its passage (where the passage's number is shown)

    @property
    def colour(self) -> str:
        """The passage's own class (one per passage of a match, however many)."""
        return "" if self.passage is None else f"p{self.passage}"

    @property
    def style(self) -> str:
        """A passage past the palette's 8 gets a hue of its own (the golden angle apart
        from the one before), so that "same colour, same passage" holds on long matches."""
        if self.passage is None or self.passage < PALETTE:
            return ""
        return f"background: hsl({self.passage * GOLDEN_ANGLE % 360:.0f} 75% 82%)"

    @property
    def label(self) -> str:
        return "; ".join(label for _, label in self.markers)


def segments(
    text: str,
    passages: Sequence[tuple[int, int]],
    markers: Sequence[tuple[int, int, str, str]] = (),
) -> list[Segment]:
    """The text cut at every passage and marker boundary. `passages` are (start, end) spans
    numbered by their position; `markers` (start, end, kind, label).

    >>> [(s.text, s.passage, s.label) for s in segments("a b c d", [(2, 5)], [(4, 7, "k", "L")])]
    [('a ', None, ''), ('b ', 0, ''), ('c', 0, 'L'), (' d', None, 'L')]
    """
    cuts = {0, len(text)}
    for start, end in passages:
        cuts.update((start, end))
    for start, end, _, _ in markers:
        cuts.update((start, end))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    found: list[Segment] = []
    for start, end in pairwise(points):
        if start == end:
            continue
        passage = next((n for n, (a, b) in enumerate(passages) if a <= start and end <= b), None)
        over = tuple((kind, label) for a, b, kind, label in markers if a <= start and end <= b)
        opens = passage is not None and all(s.passage != passage for s in found)
        found.append(Segment(text[start:end], passage, over, opens))
    return found


def combined_segments(text: str, answer: CheckOut) -> list[Segment]:
    """The text cut once for every source's evidence at once: each segment's `passage` is
    the number of the match whose passages (or paired sentences) cover it (the first such
    match, the most similar), `first` where that source's first span opens.

    Only copies count; a related match shares no evidence of copying."""
    spans: list[tuple[int, int]] = []
    owner: list[int] = []
    for number, out in enumerate(answer.matches):
        if out.relation == "related":
            continue
        found_spans = [(p.start, p.end) for p in out.evidence.passages]
        found_spans += [(p.start, p.end) for p in out.evidence.sentence_pairs]
        spans += found_spans
        owner += [number] * len(found_spans)
    seen: set[int] = set()
    found = []
    for cut in segments(text, spans, marker_spans(answer.markers)):
        source = owner[cut.passage] if cut.passage is not None else None
        opens = source is not None and source not in seen
        if source is not None:
            seen.add(source)
        found.append(Segment(cut.text, source, cut.markers, opens))
    return found


def marker_spans(markers: Iterable[Any]) -> list[tuple[int, int, str, str]]:
    return [(m.start, m.end, m.kind, m.label) for m in markers]


@dataclass(frozen=True, slots=True)
class Change:
    """A run of words of a passage's word-level view: the same, or what the copy changed;
    `spun` names the phrase a spun one replaced (a spin marker over the new words)."""

    op: str
    old: str
    new: str
    spun: str | None = None


@dataclass(frozen=True, slots=True)
class PassageChanges:
    """The word-level changes inside one passage, from the source's words to the copy's."""

    passage: int
    changes: tuple[Change, ...]


CONTEXT_WORDS = 4  # words of an unchanged run kept on each side of a change


def _shown(edit: Edit, spins: list[tuple[int, int, str]], at: int) -> Change:
    if edit.op == "same":
        words = edit.new.split()
        if len(words) > 2 * CONTEXT_WORDS + 1:
            shortened = " ".join([*words[:CONTEXT_WORDS], "…", *words[-CONTEXT_WORDS:]])
            return Change("same", shortened, shortened)
        return Change("same", edit.old, edit.new)
    spun = next(
        (detail for s, e, detail in spins if s < at + edit.end and at + edit.start < e), None
    )
    return Change(edit.op, edit.old, edit.new, spun)


def passage_changes(
    answer_markers: Sequence[MarkerOut], out: MatchOut, text: str, theirs: str, copy_is_this: bool
) -> list[PassageChanges]:
    """Each passage of a match that is not word for word the same, as the changes from the
    source's words to the copy's (the copy is this article unless the match is the copy)."""
    markers = answer_markers if copy_is_this else out.markers
    spins = [(m.start, m.end, m.detail or "") for m in markers if m.kind == "spin"]
    found = []
    for number, p in enumerate(out.evidence.passages):
        mine, other = text[p.start : p.end], theirs[p.match_start : p.match_end]
        old, new, at = (other, mine, p.start) if copy_is_this else (mine, other, p.match_start)
        edits = word_edits(old, new)
        if changed(edits):
            found.append(PassageChanges(number, tuple(_shown(e, spins, at) for e in edits)))
    return found


@dataclass
class MatchView:
    """One match: the API's figures, and both texts cut for the side-by-side view."""

    out: MatchOut
    mine: list[Segment]
    theirs: list[Segment]
    number: int
    is_original: bool
    pairs: list[tuple[str, str, float]] = field(default_factory=list)  # sentence pairs
    changes: list[PassageChanges] = field(default_factory=list)  # word-level, by passage
    copy_is_this: bool = True  # the changes read from the match's words to this article's
    passage_texts: list[str] = field(default_factory=list)  # the match's side of each passage

    @property
    def reused(self) -> str:
        return f"{self.out.coverage:.0%} of this text, {self.out.match_coverage:.0%} of the match"


def _spun(markers: Sequence[MarkerOut]) -> bool:
    return any(m.kind == "spin" for m in markers)


def match_views(result: Result, answer: CheckOut) -> list[MatchView]:
    """The matches of a result with both texts cut into segments."""
    views = []
    for number, (match, out) in enumerate(zip(result.matches, answer.matches, strict=True)):
        passages = out.evidence.passages
        mine = segments(
            result.article.text,
            [(p.start, p.end) for p in passages],
            marker_spans(answer.markers),
        )
        theirs = segments(
            match.article.text,
            [(p.match_start, p.match_end) for p in passages],
            marker_spans(out.markers),
        )
        pairs = [
            (p.text, match.article.text[p.match_start : p.match_end], p.similarity)
            for p in out.evidence.sentence_pairs
        ]
        this_is_original = answer.original.id in (None, str(result.article.id))
        copy_is_this = not this_is_original
        if out.relation == "sibling":  # neither is the original: read toward the spun side
            copy_is_this = _spun(answer.markers) or not _spun(out.markers)
        changes = passage_changes(
            answer.markers, out, result.article.text, match.article.text, copy_is_this
        )
        is_original = out.id == answer.original.id
        quoted = [match.article.text[p.match_start : p.match_end] for p in passages]
        views.append(
            MatchView(out, mine, theirs, number, is_original, pairs, changes, copy_is_this, quoted)
        )
    return views


MATCH_COLUMNS = (
    "id", "url", "site", "relation", "copy_type", "verified_by", "reuse", "coverage",
    "match_coverage", "containment", "contained_by", "jaccard", "shared_words", "passages",
    "published_at", "first_seen_at", "is_original",
)  # fmt: skip


def matches_csv(answer: CheckOut) -> str:
    """A check's matches as CSV, one row a match (the API's figures)."""
    rows = [
        {
            "id": m.id,
            "url": m.url,
            "site": m.site,
            "relation": m.relation,
            "copy_type": m.copy_type or "",
            "verified_by": m.verified_by,
            "reuse": m.reuse,
            "coverage": m.coverage,
            "match_coverage": m.match_coverage,
            "containment": m.scores.containment,
            "contained_by": m.scores.contained_by,
            "jaccard": m.scores.jaccard,
            "shared_words": m.evidence.shared_words,
            "passages": len(m.evidence.passages),
            "published_at": m.published_at.isoformat() if m.published_at else "",
            "first_seen_at": m.first_seen_at.isoformat(),
            "is_original": m.id == answer.original.id,
        }
        for m in answer.matches
    ]
    return to_csv(MATCH_COLUMNS, rows)


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """Rows as CSV with a header line (csv module quoting)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()
