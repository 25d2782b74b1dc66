"""Site profiles as users read them: the ranked table and one site's dossier.

The sums come from the site store, the score from `sites.farm_score`; a dossier adds, for
every reason of the score, example copies with their originals (urls from the article
records), so each call can be checked article by article (`GET /v1/articles/{id}/matches`
shows the shared passages).
"""

from dataclasses import dataclass

from dedup.core.sites import DISGUISES, Example, FarmScore, SiteFigures, cadence, farm_score
from dedup.errors import SiteNotFound
from dedup.store import SiteStore, Store

EXAMPLES_PER_REASON = 3


@dataclass(frozen=True, slots=True)
class ExampleCopy:
    """A copy the site published and the original it copied."""

    article_id: int
    url: str
    source_id: int
    source_url: str
    source_site: str
    copy_type: str | None
    credited: bool
    lag_seconds: int


@dataclass(frozen=True, slots=True)
class Dossier:
    figures: SiteFigures
    score: FarmScore
    articles_per_hour: float
    burstiness: float
    examples: dict[str, tuple[ExampleCopy, ...]]  # reason name -> examples


def ranked(
    sites: SiteStore, min_articles: int, offset: int, limit: int
) -> tuple[list[tuple[SiteFigures, FarmScore]], int]:
    """One page of sites by farm score (highest first) and how many pass the filter."""
    names, total = sites.ranked(min_articles, offset, limit)
    page = []
    for name in names:
        figures, _ = sites.figures(name)
        page.append((figures, farm_score(figures)))
    return page, total


def rescore_all(sites: SiteStore) -> int:
    """Store every counted site's farm score again from its sums (after the score changed
    with a release); returns how many sites were rescored."""
    names, total = sites.ranked(1, 0, 1 << 62)
    for name in names:
        sites.rescore(name, lambda figures: farm_score(figures).value)
    return total


def _fits(reason: str, example: Example) -> bool:
    """Whether an example copy illustrates a reason of the score."""
    if reason == "uncredited copies":
        return not example.credited
    if reason == "disguised copies":
        return example.copy_type in DISGUISES
    return True


def dossier(sites: SiteStore, store: Store, site: str) -> Dossier:
    """A site's profile, score, reasons and example copies; SiteNotFound if never counted."""
    figures, _ = sites.figures(site)
    if not figures.articles:
        raise SiteNotFound(f"no article of site {site!r} has been counted (yet)")
    score = farm_score(figures)
    stored = sites.examples(site)
    chosen: dict[str, list[Example]] = {}
    for reason in score.reasons:
        if reason.contribution > 0:
            chosen[reason.name] = [e for e in stored if _fits(reason.name, e)][:EXAMPLES_PER_REASON]
    ids = sorted({i for e in stored for i in (e.article_id, e.source_id)})
    records = {i: a for i, a in zip(ids, store.fetch(ids), strict=True) if a is not None}
    examples = {
        name: tuple(
            ExampleCopy(
                e.article_id,
                records[e.article_id].url,
                e.source_id,
                records[e.source_id].url,
                e.source_site,
                e.copy_type,
                e.credited,
                e.lag_seconds,
            )
            for e in picked
            if e.article_id in records and e.source_id in records
        )
        for name, picked in chosen.items()
    }
    speed, burst = cadence(figures)
    return Dossier(figures, score, round(speed, 3), round(burst, 2), examples)
