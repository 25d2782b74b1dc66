"""Repost patterns per site: what one article says about its site, and the farm score (pure).

Each stored article is observed once (`observe`): is it a copy of another site's article,
with or without credit, how long after the original, disguised how, carrying which farm
markers. The store sums observations per site; `profile` turns the sums into shares, lags
and cadence, and `farm_score` weighs them into a score in 0..1 with the reasons that moved
it, each a sentence a person can check against example articles.

The weights are stated here, not learned: a site is scored by the share of its articles that
copy another site's work without credit (the core of farming), plus disguise (spun,
paraphrased, translated copies), aggregator chrome and chatbot leftovers; the share of its
articles that others copied counts against (originals are sources, not farms). Credited
copies weigh nothing: syndication is not farming, and such sites get the role `syndicator`.
Few articles are weak evidence, so the score is shrunk by n / (n + SHRINK).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dedup.core.article import Article
from dedup.core.copytype import CopyType
from dedup.core.markers import Marker, Rules, credits_other_outlet
from dedup.core.matching import Match

FAST_LAG_SECONDS = 3600  # a copy up within the hour is a scraper's habit
DISGUISES: tuple[CopyType, ...] = ("spun", "paraphrased", "translated")
FARM_MARKERS = ("chrome", "byline", "machine")  # kinds that say "aggregator page"

# The weights of the farm score (see the module docstring).
W_UNCREDITED = 0.7
W_DISGUISED = 0.15
W_CHROME = 0.1
W_MACHINE = 0.05
W_COPIED = 0.3  # subtracted
SHRINK = 2.0
FARM_AT = 0.5  # a score from here up is called a farm
SYNDICATOR_CREDITED = 0.5  # share of a site's copies that credit the source
SYNDICATOR_COPIES = 0.3  # share of its articles that are copies


@dataclass(frozen=True, slots=True)
class Observation:
    """What one stored article says about its site."""

    article_id: int
    site: str
    when: datetime  # published, else first seen
    source_site: str | None = None  # set when its likely original is another site's article
    source_id: int | None = None
    lag_seconds: int | None = None  # how long after the original it appeared
    credited: bool = False  # it credits another outlet (a syndicated copy)
    copy_type: CopyType | None = None
    marker_kinds: tuple[str, ...] = ()  # distinct kinds of markers it carries

    @property
    def is_copy(self) -> bool:
        return self.source_site is not None


def observe(
    article: Article,
    markers: Sequence[Marker],
    matches: Sequence[Match],
    original: Article,
    rules: Rules | None = None,
) -> Observation:
    """The observation of an article from its explanation (its matches and likely original)."""
    when = article.published_at or article.first_seen_at
    kinds = tuple(sorted({m.kind for m in markers}))
    if original.id == article.id or original.site == article.site:
        return Observation(article.id, article.site, when, marker_kinds=kinds)
    source_when = original.published_at or original.first_seen_at
    match = next((m for m in matches if m.article.id == original.id), None)
    credited = any(
        credits_other_outlet(m, article.site, rules) for m in markers if m.kind == "credit"
    )
    return Observation(
        article_id=article.id,
        site=article.site,
        when=when,
        source_site=original.site,
        source_id=original.id,
        lag_seconds=max(0, int((when - source_when).total_seconds())),
        credited=credited,
        copy_type=match.copy_type if match else None,
        marker_kinds=kinds,
    )


@dataclass(frozen=True, slots=True)
class SiteFigures:
    """The sums the store keeps for a site (all counts of articles)."""

    site: str
    articles: int = 0
    copies: int = 0  # copies of another site's article
    credited_copies: int = 0
    fast_copies: int = 0  # copies up within FAST_LAG_SECONDS of the original
    copied: int = 0  # its articles that another site copied
    copy_types: dict[str, int] = field(default_factory=dict)
    markers: dict[str, int] = field(default_factory=dict)  # kind -> articles carrying it
    lag_median_seconds: int | None = None
    lag_p90_seconds: int | None = None
    sources: dict[str, int] = field(default_factory=dict)  # source site -> copies
    copiers: dict[str, int] = field(default_factory=dict)  # copier site -> copies
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    active_hours: int = 0  # distinct clock hours with at least one article
    busiest_hour: int = 0  # most articles in one clock hour


@dataclass(frozen=True, slots=True)
class Example:
    """A copy a site published, with its original: the evidence behind a site's score."""

    article_id: int
    source_id: int
    source_site: str
    copy_type: str | None
    credited: bool
    lag_seconds: int


@dataclass(frozen=True, slots=True)
class Edge:
    """Copies from one site (copier) of another's (source) articles."""

    copier: str
    source: str
    copies: int
    credited: int
    mean_lag_seconds: float


@dataclass(frozen=True, slots=True)
class Reason:
    """One term of the farm score: its signed contribution and a sentence saying why."""

    name: str
    contribution: float
    text: str


@dataclass(frozen=True, slots=True)
class FarmScore:
    value: float  # 0..1
    role: str  # farm, syndicator, original publisher, independent, undetermined
    reasons: tuple[Reason, ...]


def share(part: int, whole: int) -> float:
    """part / whole, 0.0 for an empty whole.

    >>> share(1, 4), share(3, 0)
    (0.25, 0.0)
    """
    return part / whole if whole else 0.0


def cadence(figures: SiteFigures) -> tuple[float, float]:
    """(articles per hour over the site's active span, burstiness: the busiest hour over the
    mean of its active hours; 1.0 is perfectly even)."""
    if not figures.articles or figures.first_seen is None or figures.last_seen is None:
        return 0.0, 0.0
    span_hours = max(1.0, (figures.last_seen - figures.first_seen).total_seconds() / 3600)
    per_active_hour = share(figures.articles, figures.active_hours)
    burst = figures.busiest_hour / per_active_hour if per_active_hour else 0.0
    return figures.articles / span_hours, burst


def farm_score(figures: SiteFigures) -> FarmScore:
    """The farm score of a site, its role and the reasons.

    >>> farm = SiteFigures("farm.example", articles=40, copies=38, fast_copies=30,
    ...                    copy_types={"scraped": 38}, markers={"chrome": 40})
    >>> s = farm_score(farm)
    >>> round(s.value, 2), s.role, [r.name for r in s.reasons][:2]
    (0.73, 'farm', ['uncredited copies', 'aggregator chrome'])
    >>> wire = SiteFigures("wire.example", articles=40, copies=40, credited_copies=40)
    >>> farm_score(wire).value, farm_score(wire).role
    (0.0, 'syndicator')
    """
    n = figures.articles
    uncredited = share(figures.copies - figures.credited_copies, n)
    disguised = share(sum(figures.copy_types.get(t, 0) for t in DISGUISES), n)
    chrome = share(max(figures.markers.get(k, 0) for k in ("chrome", "byline")), n)
    machine = share(figures.markers.get("machine", 0), n)
    copied = share(figures.copied, n)
    terms = [
        Reason(
            "uncredited copies",
            W_UNCREDITED * uncredited,
            f"{figures.copies - figures.credited_copies} of its {n} articles copy another "
            "site's article without credit",
        ),
        Reason(
            "disguised copies",
            W_DISGUISED * disguised,
            f"{_mix(figures.copy_types, DISGUISES)} of its articles are disguised copies",
        ),
        Reason(
            "aggregator chrome",
            W_CHROME * chrome,
            f"{chrome:.0%} of its articles carry aggregator chrome or a generic byline",
        ),
        Reason(
            "chatbot leftovers",
            W_MACHINE * machine,
            f"{figures.markers.get('machine', 0)} of its articles hold leftover chatbot output",
        ),
        Reason(
            "copied by others",
            -W_COPIED * copied,
            f"{figures.copied} of its articles were copied by other sites (a source)",
        ),
    ]
    raw = min(1.0, max(0.0, sum(t.contribution for t in terms)))
    value = round(raw * n / (n + SHRINK), 4) if n else 0.0
    reasons = tuple(
        sorted(
            (t for t in terms if abs(t.contribution) >= 0.005), key=lambda t: -abs(t.contribution)
        )
    )
    return FarmScore(value, _role(figures, value), reasons)


def _mix(counts: dict[str, int], kinds: Sequence[str]) -> str:
    parts = [f"{counts[k]} {k}" for k in kinds if counts.get(k)]
    return ", ".join(parts) if parts else "none"


def _role(figures: SiteFigures, value: float) -> str:
    if not figures.articles:
        return "undetermined"
    if value >= FARM_AT:
        return "farm"
    copies = share(figures.copies, figures.articles)
    if copies >= SYNDICATOR_COPIES and share(figures.credited_copies, figures.copies) >= (
        SYNDICATOR_CREDITED
    ):
        return "syndicator"
    if figures.copied and copies < SYNDICATOR_COPIES:
        return "original publisher"
    return "independent"


def hour_of(moment: datetime) -> int:
    """The clock hour (hours since the epoch, UTC) a moment falls in.

    >>> hour_of(datetime(1970, 1, 1, 2, 30, tzinfo=UTC))
    2
    """
    return int(moment.astimezone(UTC).timestamp() // 3600)
