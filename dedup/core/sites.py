"""Repost patterns per site: what one article says about its site, and the farm score (pure).

Each stored article is observed once (`observe`): is it a copy of another site's article,
with or without credit, how long after the original, disguised how, carrying which farm
markers. The store sums observations per site; `profile` turns the sums into shares, lags
and cadence, and `farm_score` weighs them into a score in 0..1 with the reasons that moved
it, each a sentence a person can check against example articles.

The score is built on evidence, not on a share alone: the rate at which a site posts
uncredited copies of other sites' work, as a beta-binomial posterior over its article
count (prior Beta(PRIOR_COPIES, PRIOR_OWN)), taken at its lower confidence bound
(LOWER_QUANTILE): 10 uncredited scrapes among 15 posts is a farm, 1 among 15 is not, and
10 among 1,000 is a `copier` (worth a look, not a farm). Disguise (spun, paraphrased,
translated copies), aggregator chrome and chatbot leftovers add to it; the share of its
articles others copied counts against (originals are sources). Credited copies weigh
nothing, and nor do copies of a wire service's stories, credited or not (`observe`'s
`wires`): syndication is not farming, and such sites get the role `syndicator`. The weights
were chosen on seeds of the mixed-habit simulation (`dedup eval sites --mixed`) and are
reported on others (docs/sites.md).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from dedup.core.article import Article
from dedup.core.copytype import CopyType, signed_type
from dedup.core.markers import Marker, Rules, credits_another_outlet
from dedup.core.verification import Match

FAST_LAG_SECONDS = 3600  # a copy up within the hour is a scraper's habit
DISGUISES: tuple[CopyType, ...] = ("spun", "paraphrased", "translated")
FARM_MARKERS = ("chrome", "byline", "machine")  # kinds that say "aggregator page"

# The weights of the farm score (see the module docstring), chosen on the simulation's seeds.
PRIOR_COPIES = 1.0  # Beta prior of the uncredited copy rate: one copy ...
PRIOR_OWN = 1.0  # ... and one own post (a uniform prior; 3.0 lost margin on the fit seeds)
LOWER_QUANTILE = 0.2  # the rate's lower confidence bound: 80% sure it is at least this
W_DISGUISED = 0.15
W_CHROME = 0.1
W_MACHINE = 0.05
W_COPIED = 0.3  # subtracted
FARM_AT = 0.3  # a score from here up is called a farm
FARM_RATE = 0.3  # an uncredited copy rate from here up is a farm's (the farm role's confidence)
COPIER_COPIES = 5  # uncredited copies that make a site that is not a farm a `copier`
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
    unknown_source: bool = False  # a sibling: a copy of a source that is not stored

    @property
    def is_copy(self) -> bool:
        return self.source_site is not None or self.unknown_source


def observe(
    article: Article,
    markers: Sequence[Marker],
    matches: Sequence[Match],
    original: Article,
    rules: Rules | None = None,
    wires: frozenset[str] = frozenset(),
) -> Observation:
    """The observation of an article from its explanation (its matches and likely original).
    A copy of a site in `wires` (wire services: sources by trade) counts as credited. A
    sibling (linked to copies of a source that is not stored) is a copy of an unknown
    source: no source site, no lag, its type named by its own signs."""
    when = article.when
    kinds = tuple(sorted({m.kind for m in markers}))
    credits = credits_another_outlet(markers, article.site, rules)
    if any(m.relation == "sibling" for m in matches):
        return Observation(
            article.id,
            article.site,
            when,
            credited=credits,
            copy_type=signed_type(markers, article.site, rules),
            marker_kinds=kinds,
            unknown_source=True,
        )
    if original.id == article.id or original.site == article.site:
        return Observation(article.id, article.site, when, marker_kinds=kinds)
    source_when = original.when
    match = next((m for m in matches if m.article.id == original.id), None)
    credited = original.site in wires or credits
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
    role: str  # farm, copier, syndicator, original publisher, independent, undetermined
    reasons: tuple[Reason, ...]
    confidence: float = 0.0  # posterior probability that the copy rate is on the role's side
    rate_low: float = 0.0  # the uncredited copy rate's lower confidence bound
    change: str = ""  # what would change the role, in a sentence


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


_GRID = np.linspace(0.0005, 0.9995, 1000)  # rates at which the posterior is evaluated


def _posterior(copies: float, articles: int) -> np.ndarray:
    """The cumulative posterior of the uncredited copy rate on `_GRID`."""
    a = PRIOR_COPIES + copies
    b = PRIOR_OWN + max(0, articles - copies)
    log_pdf = (a - 1) * np.log(_GRID) + (b - 1) * np.log1p(-_GRID)
    pdf = np.exp(log_pdf - log_pdf.max())
    cdf: np.ndarray = np.cumsum(pdf) / pdf.sum()
    return cdf


def lapse_adjusted(figures: SiteFigures) -> float:
    """A site's uncredited copies, discounted by the share of its copies it credits: a site
    that credits most of what it republishes is a syndicator, and its uncredited copies are
    mostly forgotten credit lines, not farming (a site that never credits keeps them all).

    >>> round(lapse_adjusted(SiteFigures("s.example", 20, copies=20, credited_copies=16)), 2)
    0.8
    """
    uncredited = figures.copies - figures.credited_copies
    return uncredited * (1.0 - share(figures.credited_copies, figures.copies))


def rate_bound(copies: float, articles: int, quantile: float | None = None) -> float:
    """The `quantile` (default LOWER_QUANTILE) of the posterior uncredited copy rate: a rate
    the site's record makes 80% sure it at least has.

    >>> [round(rate_bound(k, n), 2) for k, n in ((10, 15), (1, 15), (10, 1000), (0, 0))]
    [0.55, 0.05, 0.01, 0.2]
    """
    cdf = _posterior(copies, articles)
    at = LOWER_QUANTILE if quantile is None else quantile
    return float(_GRID[min(int(np.searchsorted(cdf, at)), len(_GRID) - 1)])


def rate_above(copies: float, articles: int, bar: float) -> float:
    """Posterior probability that the uncredited copy rate is at least `bar`.

    >>> round(rate_above(10, 15, 0.3), 2), round(rate_above(1, 15, 0.3), 2)
    (1.0, 0.03)
    """
    cdf = _posterior(copies, articles)
    return float(1.0 - cdf[min(int(np.searchsorted(_GRID, bar)), len(_GRID) - 1)])


def farm_score(figures: SiteFigures) -> FarmScore:
    """The farm score of a site, its role with a confidence, and the reasons.

    >>> farm = SiteFigures("farm.example", articles=40, copies=38, fast_copies=30,
    ...                    copy_types={"scraped": 38}, markers={"chrome": 40})
    >>> s = farm_score(farm)
    >>> round(s.value, 2), s.role, round(s.confidence, 2), [r.name for r in s.reasons][:2]
    (1.0, 'farm', 1.0, ['uncredited copies', 'aggregator chrome'])
    >>> wire = SiteFigures("wire.example", articles=40, copies=40, credited_copies=40)
    >>> farm_score(wire).value, farm_score(wire).role
    (0.0, 'syndicator')
    >>> mixed = SiteFigures("mix.example", articles=15, copies=10, copy_types={"scraped": 10},
    ...                     markers={"chrome": 10})
    >>> farm_score(mixed).role, farm_score(SiteFigures("big.example", 1000, 10)).role
    ('farm', 'copier')
    """
    terms, low = _terms(figures)
    n = figures.articles
    value = _value(terms, n)
    reasons = tuple(
        sorted(
            (t for t in terms if abs(t.contribution) >= 0.005), key=lambda t: -abs(t.contribution)
        )
    )
    role = _role(figures, value)
    above = rate_above(lapse_adjusted(figures), n, FARM_RATE) if n else 0.0
    confidence = above if role == "farm" else 1.0 - above
    return FarmScore(
        value, role, reasons, round(confidence, 3), round(low, 4), _change(figures, role)
    )


def with_evidence(score: FarmScore, articles: int, min_articles: int) -> FarmScore:
    """The score with its role `undetermined` while the site has fewer than `min_articles`
    counted articles (DEDUP_MIN_ROLE_ARTICLES): two copies of a wire story make no farm. The
    value, the figures and the reasons stay, so the site still ranks and shows why.

    >>> early = farm_score(SiteFigures("new.example", articles=2, copies=2))
    >>> early.role, with_evidence(early, 2, 5).role, with_evidence(early, 5, 5).role
    ('farm', 'undetermined', 'farm')
    >>> with_evidence(early, 2, 5).change
    'its role is named from its 5th counted article (it has 2)'
    """
    if articles >= min_articles:
        return score
    return replace(
        score,
        role="undetermined",
        confidence=0.0,
        change=f"its role is named from its {min_articles}th counted article (it has {articles})",
    )


def score_value(figures: SiteFigures) -> float:
    """The farm score alone (`farm_score(figures).value`)."""
    return _value(_terms(figures)[0], figures.articles)


def _value(terms: Sequence[Reason], articles: int) -> float:
    """The terms summed and clamped to 0..1 (0 for a site with no articles)."""
    if not articles:
        return 0.0
    return round(min(1.0, max(0.0, sum(t.contribution for t in terms))), 4)


def _terms(figures: SiteFigures) -> tuple[list[Reason], float]:
    """The score's terms, and the uncredited copy rate's lower bound."""
    n = figures.articles
    uncredited_copies = figures.copies - figures.credited_copies
    evidence = lapse_adjusted(figures)
    low = rate_bound(evidence, n) if evidence else 0.0
    disguised = share(sum(figures.copy_types.get(t, 0) for t in DISGUISES), n)
    chrome = share(max(figures.markers.get(k, 0) for k in ("chrome", "byline")), n)
    machine = share(figures.markers.get("machine", 0), n)
    copied = share(figures.copied, n)
    terms = [
        Reason(
            "uncredited copies",
            low,
            f"{uncredited_copies} of its {n} articles copy another site's article without "
            f"credit ({share(uncredited_copies, n):.0%})"
            + (
                f", counted as {evidence:.1f}: it credits {figures.credited_copies} of its "
                f"{figures.copies} copies, so some are a syndicator's lapses"
                if figures.credited_copies
                else ""
            )
            + f"; on that record its rate of uncredited copies is at least {low:.0%} "
            f"({1 - LOWER_QUANTILE:.0%} confidence)",
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
    return terms, low


def _change(figures: SiteFigures, role: str) -> str:
    """What would change a farm's or a copier's role, or make another site a farm."""
    n, uncredited = figures.articles, figures.copies - figures.credited_copies
    if role == "farm":
        extra = _first(lambda k: score_value(replace(figures, articles=n + k)) < FARM_AT)
        return (
            f"it stops being a farm after about {extra} more articles of its own "
            "(not copies) with no new copy"
            if extra
            else "more articles of its own would not soon change it"
        )
    extra = _first(
        lambda k: (
            score_value(replace(figures, articles=n + k, copies=figures.copies + k)) >= FARM_AT
        )
    )
    if not extra:
        return ""
    return (
        f"it would be a farm if its next {extra} articles were uncredited copies "
        f"({uncredited + extra} of {n + extra})"
    )


def _first(test: Callable[[int], bool], limit: int = 4096) -> int:
    """The smallest k in 1, 2, 4, ... (then refined) up to `limit` for which `test` holds, 0
    when none does (the tests are monotonic in k)."""
    k = 1
    while k <= limit and not test(k):
        k *= 2
    if k > limit:
        return 0
    low = k // 2 + 1 if k > 1 else 1
    while low < k:
        middle = (low + k) // 2
        if test(middle):
            k = middle
        else:
            low = middle + 1
    return k


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
    if figures.copies - figures.credited_copies >= COPIER_COPIES:
        return "copier"
    if figures.copied and copies < SYNDICATOR_COPIES:
        return "original publisher"
    return "independent"


def hour_of(moment: datetime) -> int:
    """The clock hour (hours since the epoch, UTC) a moment falls in.

    >>> hour_of(datetime(1970, 1, 1, 2, 30, tzinfo=UTC))
    2
    """
    return int(moment.astimezone(UTC).timestamp() // 3600)
