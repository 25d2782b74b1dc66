"""Sites: the service behind every site figure a user reads.

An ingest ends here, whatever door it came in by (`Sites.finish_ingest`): the article is
counted into its site's sums once, the farm scores of its site and of the site it copied are
stored again, and a copy of another site's article emits `copy.found`; on the request path
the same work is queued as a follow-up job instead. Reads: the ranked table, a site's
dossier (every reason of its score with example copies and their originals, urls from the
article records, so each call can be checked article by article), the copy graph's edges
and the series behind the charts.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from dedup.adapters.jobs import Jobs
from dedup.config import Settings
from dedup.core.result import Result
from dedup.core.sites import (
    DISGUISES,
    Edge,
    Example,
    FarmScore,
    Observation,
    SiteFigures,
    cadence,
    farm_score,
    observe,
    with_evidence,
)
from dedup.core.verdict import MatchVerdict, Verdict
from dedup.errors import ArticleNotFound, SiteNotFound
from dedup.services.detector import Detector
from dedup.services.hooks import Hooks
from dedup.services.retries import with_store_retries
from dedup.store import SiteStore

log = logging.getLogger(__name__)

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


class Sites:
    """Counting articles into their sites' figures, and reading those figures back."""

    def __init__(
        self,
        store: SiteStore,
        detector: Detector,
        jobs: Jobs,
        settings: Settings,
        hooks: Hooks | None = None,
    ) -> None:
        self.store = store
        self.detector = detector
        self.jobs = jobs
        self.settings = settings
        self.hooks = hooks  # copy.found goes out through them (None: no webhooks)

    # -- finishing an ingest -------------------------------------------------------------

    def finish_ingest(self, result: Result, *, deferred: bool) -> Result:
        """The end of every ingest, whatever door it came in by: count the article now
        (a worker's chunk, a local scan, an evaluation), or, `deferred`, queue its follow-up
        job, which counts it off the request path (the API and the pages). A stored article
        is counted once, so calling this twice for one article (a client retrying) is safe.
        Counting now also searches the article's lead (`Detector.with_leads`): the answer
        to keep is the one returned (explained again when a translation may be near)."""
        if deferred:
            self.jobs.queue_followup(result.article.id)
            return result
        result = with_store_retries(lambda: self.detector.with_leads(result))
        self.count(result)
        return result

    def followup(self, article_id: str) -> dict[str, str | None]:
        """The follow-up job of an ingest: explain the article against the index as it is
        now (its lead searched, then kept) and count it (once per article)."""
        try:
            result = with_store_retries(lambda: self.detector.follow_up(article_id))
        except ArticleNotFound:  # deleted (or evicted) before its follow-up ran
            log.info("follow-up of article %s skipped: it is no longer stored", article_id)
            return {"site": None, "source_site": None}
        seen = self.count(result)
        return {"site": seen.site, "source_site": seen.source_site}

    def count(self, result: Result) -> Observation:
        """Count a freshly explained article into the site sums (once per article), store
        the new farm scores of its site and of the site it copied, and, when it is a copy of
        another site's article, emit `copy.found` (once per article). A copy of a site in
        DEDUP_WIRE_SITES counts as credited: syndication."""
        seen = self._observe(result)
        counted_now = with_store_retries(lambda: self.store.count(seen))
        if counted_now:
            self._rescore_both(seen)
        self._announce(result, seen)
        if counted_now:
            self._recount_earlier_copies(result)
        return seen

    def _observe(self, result: Result) -> Observation:
        """What an explained article says about its site (a copy of a site in
        DEDUP_WIRE_SITES counts as credited)."""
        return observe(
            result.article,
            result.markers,
            result.matches,
            result.original_article(),
            wires=self.settings.wires,
        )

    def _rescore_both(self, seen: Observation) -> None:
        """Store again the farm scores of the article's site and of the site it copied."""
        for site in {seen.site, seen.source_site or seen.site}:
            with_store_retries(partial(self._rescore, site))

    def _announce(self, result: Result, seen: Observation) -> None:
        hooks = self.hooks
        if hooks is not None and seen.is_copy:
            watched = self.detector.policy().watched_sites
            with_store_retries(lambda: hooks.copy_found(result, seen, watched))

    def _recount_earlier_copies(self, result: Result) -> None:
        """An original stored after its copies (a crawler met them first): each copy of it
        published later, on another site, was counted as no copy; explained again now, it
        names its source, and is counted as a copy (its copy alone, once) with copy.found.
        So is a sibling stored before this article, whatever its time: alone it was no copy;
        beside this one, both copies of a source not stored, it is a copy of an unknown one."""
        article = result.article
        for match in result.matches:
            other = match.article
            later = other.when > article.when or match.relation == "sibling"
            if not match.is_copy or other.site == article.site or not later:
                continue
            try:
                again = with_store_retries(partial(self.detector.matches, str(other.id)))
            except ArticleNotFound:
                continue  # deleted since
            seen = self._observe(again)
            if seen.is_copy and with_store_retries(partial(self.store.count, seen, True)):
                log.info(
                    "article %d counted as a copy of %s now its source is stored",
                    other.id,
                    seen.source_site,
                )
                self._rescore_both(seen)
                self._announce(again, seen)

    def _rescore(self, site: str) -> float:
        return self.store.rescore(site, lambda figures: farm_score(figures).value)

    def rescore_all(self) -> int:
        """Store every counted site's farm score again from its sums (after the score
        changed with a release); returns how many sites were rescored."""
        names, total = self.store.ranked(1, 0, 1 << 62)
        for name in names:
            self._rescore(name)
        return total

    def forget(self, articles: list[tuple[int, str]]) -> None:
        """Drop evicted articles' per-article parts (their sums keep their history)."""
        self.store.forget(articles)

    # -- reading -------------------------------------------------------------------------

    def ranked(
        self, min_articles: int, offset: int, limit: int
    ) -> tuple[list[tuple[SiteFigures, FarmScore]], int]:
        """One page of sites by farm score (highest first) and how many pass the filter."""
        names, total = self.store.ranked(min_articles, offset, limit)
        page = []
        for name in names:
            figures, _ = self.store.figures(name)
            page.append((figures, self.score(figures)))
        return page, total

    def score(self, figures: SiteFigures) -> FarmScore:
        """A site's farm score and role, the role named only on enough evidence."""
        return with_evidence(farm_score(figures), figures.articles, self.settings.min_role_articles)

    def dossier(self, site: str) -> Dossier:
        """A site's profile, score, reasons and example copies; SiteNotFound if never
        counted."""
        return _dossier(self.store, self.detector, site, self.score)

    def copies_of(self, article_id: str) -> list[tuple[MatchVerdict, str]]:
        """Where a stored article has been copied: the copies found of it now (published,
        or first seen, after it), newest first, each with its site's role (the publisher's
        view). Bounded as every check is, by DEDUP_MAX_VERIFIED candidates."""
        verdict = Verdict.of(self.detector.matches(article_id))
        copies = sorted(
            (m for m in verdict.copies if m.article.when > verdict.article.when),
            key=lambda m: m.article.when,
            reverse=True,
        )
        roles = {
            site: self.score(self.figures(site)).role for site in {m.article.site for m in copies}
        }
        return [(m, roles[m.article.site]) for m in copies]

    def figures(self, site: str) -> SiteFigures:
        """A site's sums (all zero for a site never counted)."""
        return self.store.figures(site)[0]

    def edges(self, site: str, direction: str) -> list[Edge]:
        """Copy-graph edges out of a site ('sources') or into it ('copiers')."""
        return self.store.edges(site, direction)

    def series(self, site: str) -> tuple[list[int], dict[int, int]]:
        """A site's lags (seconds) and articles per clock hour, for its charts."""
        return self.store.series(site)

    def totals(self) -> dict[str, int]:
        """Articles counted and copies by type, over the index's life (the metrics)."""
        return self.store.totals()


def _fits(reason: str, example: Example) -> bool:
    """Whether an example copy illustrates a reason of the score."""
    if reason == "uncredited copies":
        return not example.credited
    if reason == "disguised copies":
        return example.copy_type in DISGUISES
    return True


def _dossier(
    sites: SiteStore, detector: Detector, site: str, scored: Callable[[SiteFigures], FarmScore]
) -> Dossier:
    figures, _ = sites.figures(site)
    if not figures.articles:
        raise SiteNotFound(f"no article of site {site!r} has been counted (yet)")
    score = scored(figures)
    stored = sites.examples(site)
    chosen: dict[str, list[Example]] = {}
    for reason in score.reasons:
        if reason.contribution > 0:
            chosen[reason.name] = [e for e in stored if _fits(reason.name, e)][:EXAMPLES_PER_REASON]
    ids = sorted({i for e in stored for i in (e.article_id, e.source_id)})
    records = {i: a for i, a in zip(ids, detector.records(ids), strict=True) if a is not None}
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
