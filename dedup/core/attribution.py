"""Which article of a group of verified copies is the likely original, and why (pure).

Each article earns points a person can check: published (or seen) first; a wire service
(DEDUP_WIRE_SITES), a source by trade; holds the full text of which another article of the
same time is an excerpt (fuller text only breaks ties of time: a paper that prints more of a
wire story than a sibling paper of the same day is not the sibling's source, and an earlier
text that explains the article beats both); loses points for crediting another outlet,
translator credits, spun phrases and aggregator chrome. The most points wins; the margin over the
runner-up sets the confidence.

When every article of the group carries signs of being copied of its own (signs the others
do not carry too: a scrape keeps its source's credit line and chrome, which then say nothing of
which copied which) and none is a wire service, none is the others' original: they are
siblings, copies of a common source that is not stored (two rewrites of one absent wire story,
one spun, one in farm chrome).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from dedup.core.markers import Marker, Rules, credits_other_outlet

# Points per piece of evidence. Time leads: a declared publication date is the strongest
# signal a person can check; first-seen time only says when this service saw it.
POINTS_FIRST_PUBLISHED = 2.0
POINTS_FIRST_SEEN = 1.0
POINTS_HOLDS_FULL_TEXT = 0.5
POINTS_WIRE = 1.0
SAME_TIME_SECONDS = 3600  # two articles this close are of the same time for the fuller text
PENALTY_CREDIT = 2.0
PENALTY_TRANSLATION = 2.0
PENALTY_SPIN = 2.0
PENALTY_CHROME = 1.0
PENALTY_MACHINE = 1.0

# Confidence when nothing was found to compare against.
CONFIDENCE_ALONE = 0.5
CONFIDENCE_ALONE_WITH_CREDIT = 0.2
# ... and for siblings: each carries signs of copying, none is the source of the others.
CONFIDENCE_SIBLINGS = 0.5


@dataclass(frozen=True, slots=True)
class Party:
    """An article taking part in the attribution."""

    id: str
    site: str
    published_at: datetime | None
    first_seen_at: datetime
    markers: tuple[Marker, ...]
    is_fuller_text: bool = False  # an article of the same time is an excerpt of this one
    is_wire: bool = False  # its site is a wire service (DEDUP_WIRE_SITES)

    @property
    def when(self) -> datetime:
        return self.published_at or self.first_seen_at


def same_time(first: datetime, second: datetime) -> bool:
    """Whether two moments are of the same time for the fuller-text point."""
    return abs((first - second).total_seconds()) < SAME_TIME_SECONDS


@dataclass(frozen=True, slots=True)
class Original:
    """The likely original with its confidence and the reasons for it."""

    id: str
    confidence: float
    reasons: tuple[str, ...]
    source_stored: bool = True  # False: the signs say it was copied, from no stored article


def _quote(markers: Sequence[Marker], limit: int = 2) -> str:
    shown = list(dict.fromkeys(" ".join(m.text.split()) for m in markers))[:limit]
    return ", ".join(f"“{text}”" for text in shown)


def _lag(seconds: float) -> str:
    """A duration as a person writes it: the largest unit that fits, rounded.

    >>> _lag(42), _lag(600), _lag(7200), _lag(9000), _lag(400000), _lag(8000 * 86400)
    ('42 s', '10 min', '2 h', '2.5 h', '5 days', '22 years')
    >>> _lag(90 * 86400), _lag(86400)
    ('3 months', '24 h')
    """
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f}".removesuffix(".0") + " h"
    days = hours / 24
    if days < 60:
        return f"{days:.0f} days"
    if days < 730:
        return f"{days / 30.44:.0f} months"
    return f"{days / 365.25:.0f} years"


def _when(party: Party, short: bool = False) -> str:
    """How a party's time is known: declared publication or this service's first sight."""
    if party.published_at is not None:
        return "was published" if short else f"was published {party.published_at.isoformat()}"
    return "was first seen" if short else f"was first seen {party.first_seen_at.isoformat()}"


def _penalties(party: Party, rules: Rules | None) -> tuple[float, list[str]]:
    """Points lost for signs of republishing, with a reason for each."""
    lost = 0.0
    reasons: list[str] = []
    by_kind: dict[str, list[Marker]] = {}
    for marker in party.markers:
        by_kind.setdefault(marker.kind, []).append(marker)
    credits = [m for m in by_kind.get("credit", []) if credits_other_outlet(m, party.site, rules)]
    if credits and not party.is_wire:  # a wire's copy names its own desks and partners
        lost += PENALTY_CREDIT
        reasons.append(f"{party.site} credits another outlet: {_quote(credits)}")
    if by_kind.get("translation"):
        lost += PENALTY_TRANSLATION
        reasons.append(
            f"{party.site} carries a translator credit: {_quote(by_kind['translation'])}"
        )
    if by_kind.get("spin"):
        spun = by_kind["spin"]
        examples = ", ".join(f"“{' '.join(m.text.split())}” for “{m.detail}”" for m in spun[:2])
        lost += PENALTY_SPIN
        reasons.append(f"{party.site} has {len(spun)} spun phrase(s): {examples}")
    chrome = by_kind.get("chrome", []) + by_kind.get("byline", [])
    if chrome:
        lost += PENALTY_CHROME
        reasons.append(f"{party.site} carries aggregator chrome: {_quote(chrome)}")
    if by_kind.get("machine"):
        lost += PENALTY_MACHINE
        reasons.append(f"{party.site} holds leftover machine output: {_quote(by_kind['machine'])}")
    return lost, reasons


def likely_original(parties: Sequence[Party], rules: Rules | None = None) -> Original:
    """The likely original among an article (first) and its verified matches."""
    if not parties:
        raise ValueError("likely_original needs at least one article")
    if len(parties) == 1:
        only = parties[0]
        lost, reasons = _penalties(only, rules)
        if lost:
            reasons.append("no stored article is its source, but these signs say it was copied")
            return Original(only.id, CONFIDENCE_ALONE_WITH_CREDIT, tuple(reasons), False)
        return Original(
            only.id,
            CONFIDENCE_ALONE,
            ("no verified copy or source is stored; nothing in the text says it was copied",),
        )

    points: dict[str, float] = {}
    merits: dict[str, list[str]] = {p.id: [] for p in parties}
    flaws: dict[str, list[str]] = {}
    for party in parties:
        lost, flaws[party.id] = _penalties(party, rules)
        points[party.id] = -lost
    if all(not p.is_wire and _own_signs(p, parties, rules) for p in parties):
        return _siblings(parties, flaws)
    for party in parties:
        if party.is_wire:
            points[party.id] += POINTS_WIRE
            merits[party.id].append(f"{party.site} is a wire service (DEDUP_WIRE_SITES)")
        if party.is_fuller_text:
            points[party.id] += POINTS_HOLDS_FULL_TEXT
            merits[party.id].append(
                f"{party.site} holds the full text of which another article of the same time "
                "is an excerpt"
            )

    ordered = sorted(parties, key=lambda p: (p.when, p.first_seen_at))
    first, runner_up = ordered[0], ordered[1]
    lag = (runner_up.when - first.when).total_seconds()
    if lag > 0:
        declared = first.published_at is not None and runner_up.published_at is not None
        points[first.id] += POINTS_FIRST_PUBLISHED if declared else POINTS_FIRST_SEEN
        # The reason speaks of the article asked about (the first party) when it came later,
        # not of whichever match happens to come second.
        this = parties[0]
        other = this if this is not first and this.when > first.when else runner_up
        merits[first.id].insert(
            0,
            f"{first.site} {_when(first)}, {_lag((other.when - first.when).total_seconds())} "
            f"before {other.site} {_when(other, short=True)}",
        )

    rank = {p.id: index for index, p in enumerate(ordered)}
    best, *rest = sorted(parties, key=lambda p: (-points[p.id], rank[p.id]))
    margin = points[best.id] - max(points[p.id] for p in rest)
    confidence = round(min(0.99, 0.5 + 0.5 * (1.0 - math.exp(-margin))), 2)
    why = merits[best.id] + [r for p in rest for r in flaws[p.id]] + flaws[best.id]
    if margin <= 0:
        why.append("the evidence does not separate these articles; the earliest is shown")
    return Original(best.id, confidence, tuple(why))


def _own_signs(party: Party, parties: Sequence[Party], rules: Rules | None) -> bool:
    """Whether the party carries a sign of being copied that no other party carries (by its
    words, whatever its place)."""

    def words(marker: Marker) -> str:
        return " ".join(marker.text.lower().split())

    theirs = {words(m) for p in parties if p is not party for m in p.markers}
    own = tuple(m for m in party.markers if words(m) not in theirs)
    return _penalties(replace(party, markers=own), rules)[0] > 0


def _siblings(parties: Sequence[Party], flaws: dict[str, list[str]]) -> Original:
    """The answer for a group whose every article carries signs of being copied: none is
    named the others' original (the query stands for the group, as when it is alone)."""
    sites = list(dict.fromkeys(p.site for p in parties))
    reasons = [reason for p in parties for reason in flaws[p.id]]
    reasons.append(
        f"every article of this group ({', '.join(sites)}) carries signs of being copied: "
        "they are siblings, copies of a common source that is not stored"
    )
    return Original(parties[0].id, CONFIDENCE_SIBLINGS, tuple(reasons), source_stored=False)
