"""The use cases (ingest, check, matches, delete): core calls around store round trips.

The API, the CLI and the workers all go through this one class, so every door into the
index validates, fingerprints and verifies the same way.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import numpy as np

from dedup.article import Article
from dedup.attribution import Original, Party
from dedup.config import Settings
from dedup.errors import ArticleNotFound, DedupError, InvalidArticle, UrlConflict
from dedup.extract import HtmlExtractor, extract_html
from dedup.fingerprint import Fingerprint, FingerprintParams, fingerprint
from dedup.markers import Marker, find_markers
from dedup.matching import DerivedCache, Match, MatchParams, attribute, label_copies, verify
from dedup.rewrite import RewriteRule
from dedup.score import Thresholds
from dedup.sites import Observation, farm_score, observe
from dedup.store import Lookup, SiteStore, Store, Tally, epoch_seconds

log = logging.getLogger(__name__)

UNSTORED_ID = ""  # the id a checked (never stored) article goes by in the attribution
# Anchor-only candidates whose estimated containment (shared anchors / anchors) is under this
# both ways are not verified: well under the 0.5 bar, to leave room for sampling noise.
ANCHOR_PREFILTER = 0.25
ANCHOR_ESTIMATE_MIN = 3  # with this few anchors the estimate is too noisy to drop anything


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """An article as a user sends it: text or HTML, with what they know about it."""

    url: str
    text: str | None = None
    html: str | None = None
    title: str | None = None
    site: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """An article with its verified matches, its likely original and its markers."""

    article: Article
    stored: bool  # False for a check: nothing was written
    created: bool  # True when this call stored it
    word_count: int
    markers: tuple[Marker, ...]
    matches: tuple[Match, ...]
    original: Original
    unverified: int = 0  # candidates found but left unverified (DEDUP_MAX_VERIFIED)

    def original_article(self) -> Article:
        """The article the original id names (the query itself or one of its matches)."""
        for match in self.matches:
            if str(match.article.id) == self.original.id:
                return match.article
        return self.article


def site_of(url: str) -> str:
    """The host of a url without a leading 'www.'.

    >>> site_of("https://www.Example.com:8080/news/1")
    'example.com'
    """
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _utc(moment: datetime | None) -> datetime | None:
    """Aware datetimes in UTC; naive ones are taken to be UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Detector:
    """Ingest, check and explain articles against one index."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        extractor: HtmlExtractor | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.settings = settings
        self._extractor = extractor
        self._clock = clock
        self.params = MatchParams(
            fingerprint=FingerprintParams(
                shingle_size=settings.shingle_size,
                num_perm=settings.num_perm,
                lsh_threshold=settings.lsh_threshold,
                min_words=settings.min_words,
                anchor_modulus=settings.anchor_modulus,
                skeleton_modulus=settings.skeleton_modulus,
                unspin=settings.spin_normalisation,
            ),
            thresholds=Thresholds(
                min_containment=settings.min_containment,
                near_duplicate_size_ratio=settings.near_duplicate_size_ratio,
            ),
            min_passage_words=settings.min_passage_words,
            rewrite=RewriteRule(
                min_similarity=settings.rewrite_min_similarity,
                min_explained=settings.rewrite_min_explained,
                min_order=settings.rewrite_min_order,
            )
            if settings.rewrite_verification
            else None,
        )
        self.derived = DerivedCache(settings.verify_cache)
        self._index_checked = False

    def _ensure_index(self) -> None:
        """Check once (lazily, so the service starts while Redis is down) that the index
        was built with these parameters."""
        if self._index_checked:
            return
        lsh = self.params.fingerprint.lsh
        self.store.ensure_params(
            {
                "num_perm": str(lsh.num_perm),
                "bands": str(lsh.bands),
                "rows": str(lsh.rows),
                "shingle_size": str(self.settings.shingle_size),
                "anchor_modulus": str(self.settings.anchor_modulus),
                "skeleton_modulus": str(self.settings.skeleton_modulus),
                "spin_normalisation": str(self.settings.spin_normalisation),
            }
        )
        self._index_checked = True

    # -- preparing the input ---------------------------------------------------------------

    def prepare(self, given: ArticleInput, first_seen_at: datetime) -> tuple[Article, Fingerprint]:
        """Extract, validate and fingerprint an input; the article gets id 0 (unassigned)."""
        if (given.text is None) == (given.html is None):
            raise InvalidArticle("send exactly one of 'text' or 'html'")
        title, canonical_url, published_at = given.title, None, given.published_at
        if given.html is not None:
            extracted = (
                self._extractor.extract(given.html) if self._extractor else extract_html(given.html)
            )
            text = extracted.text
            title = title or extracted.title
            canonical_url = extracted.canonical_url
            published_at = published_at or extracted.published_at
        else:
            text = given.text or ""
        site = (given.site or site_of(given.url)).strip().lower()
        if not site:
            raise InvalidArticle(f"cannot tell the site of url {given.url!r}; send 'site'")
        found = fingerprint(text, self.params.fingerprint)
        article = Article(
            id=0,
            url=given.url,
            site=site,
            title=title,
            published_at=_utc(published_at),
            first_seen_at=first_seen_at,
            canonical_url=canonical_url,
            text=text,
            digest=found.digest,
            simhash=found.simhash,
            buckets=found.buckets,
            anchors=found.anchors,
            skeleton=found.skeleton,
            skeleton_set=tuple(found.skeleton_set.tolist()),
        )
        return article, found

    # -- the use cases ---------------------------------------------------------------------

    def _lookup(self, url: str | None, found: Fingerprint) -> Lookup:
        return self.store.lookup(url, found.buckets, found.simhash, found.anchors, found.skeleton)

    def check(self, given: ArticleInput, *, related: bool = False) -> Result:
        """Matches and likely original of an article, storing nothing. With `related`,
        articles that share names or sentences without being copies are listed too."""
        article, found = self.prepare(given, self._clock())
        self._ensure_index()
        lookup = self._lookup(None, found)
        return self._explain(article, found, lookup, stored=False, created=False, related=related)

    def ingest(self, given: ArticleInput, *, related: bool = False) -> Result:
        """Store an article (once per url and text) and explain it.

        The same url with the same text answers with the stored article (created=False);
        the same url with another text is a conflict.
        """
        started = time.perf_counter()
        article, found = self.prepare(given, self._clock())
        self._ensure_index()
        lookup = self._lookup(article.url, found)
        if lookup.url_id is not None:
            existing = self._existing(lookup.url_id, article)
            if existing is not None:
                return self._explain(
                    existing, found, lookup, stored=True, created=False, related=related
                )
        doc_id, created = self.store.add(article)
        if not created:  # stored meanwhile by a concurrent request for the same url
            existing = self._existing(doc_id, article)
            if existing is not None:
                return self._explain(
                    existing, found, lookup, stored=True, created=False, related=related
                )
            doc_id, created = self.store.add(article)  # ... and deleted again since
        article = replace(article, id=doc_id)
        result = self._explain(
            article, found, lookup, stored=True, created=created, related=related
        )
        log.debug(
            "stored article %d from %s: %d match(es), original %s, %.1f ms",
            doc_id, article.site, len(result.matches), result.original.id,
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip
        return result

    def index_many(self, given: Sequence[ArticleInput]) -> list[tuple[int, bool] | DedupError]:
        """Store articles in the index without explaining them (a bulk load of an archive),
        in one round trip for the batch. Per input: (id, True) when stored, (existing id,
        False) when its url is stored already (the texts are not compared), or the error that
        kept it out. The copies among them are found later, by the articles checked or
        ingested against them."""
        now = self._clock()
        outcomes: list[tuple[int, bool] | DedupError] = []
        articles: list[Article] = []
        for item in given:
            try:
                articles.append(self.prepare(item, now)[0])
                outcomes.append((0, False))  # filled in below
            except DedupError as exc:
                outcomes.append(exc)
        self._ensure_index()
        stored = iter(self.store.add_many(articles))
        return [next(stored) if isinstance(o, tuple) else o for o in outcomes]

    def _existing(self, doc_id: int, article: Article) -> Article | None:
        """The stored article of this url if it holds the same text; None if it is gone."""
        (stored,) = self.store.fetch([doc_id])
        if stored is None:
            return None
        if stored.digest != article.digest:
            raise UrlConflict(
                f"url {article.url!r} is stored already (id {doc_id}) with a different text; "
                f"DELETE /v1/articles/{doc_id} first to replace it",
                existing_id=str(doc_id),
            )
        return stored

    def get(self, doc_id: str) -> Article:
        """A stored article, or ArticleNotFound."""
        self._ensure_index()
        (stored,) = self.store.fetch([self._parse_id(doc_id)])
        if stored is None:
            raise ArticleNotFound(f"no article with id {doc_id!r}")
        return stored

    def matches(self, doc_id: str, *, related: bool = False) -> Result:
        """A stored article explained against the index as it is now."""
        stored = self.get(doc_id)
        found = fingerprint(stored.text, self.params.fingerprint)
        lookup = self._lookup(None, found)
        return self._explain(stored, found, lookup, stored=True, created=False, related=related)

    def delete(self, doc_id: str) -> None:
        """Remove an article from the record and every index."""
        self.store.delete(self.get(doc_id))

    @staticmethod
    def _parse_id(doc_id: str) -> int:
        if not doc_id.isascii() or not doc_id.isdigit() or len(doc_id) > 18:
            raise ArticleNotFound(f"no article with id {doc_id!r} (ids are whole numbers)")
        return int(doc_id)

    # -- verification ----------------------------------------------------------------------

    def _sharing(self, tally: Tally, query_count: int, min_hits: int) -> np.ndarray:
        """The ids of a tally that hold at least `min_hits` of the query's entries and
        whose shared entries leave room for either text to be mostly inside the other.

        Anchors (and skeleton anchors) are a uniform sample, so hits / entries estimates
        containment in each direction; a candidate far below the bar both ways is not worth
        fetching. With few entries the estimate says little, and the candidate is kept.
        """
        hits, theirs = tally.hits, tally.counts
        fewest = np.minimum(theirs, query_count)
        share = np.maximum(hits / max(query_count, 1), hits / np.maximum(theirs, 1))
        may_share = (fewest <= ANCHOR_ESTIMATE_MIN) | (share >= ANCHOR_PREFILTER)
        kept: np.ndarray = tally.ids[(hits >= min_hits) & may_share]
        return kept

    def _candidates(
        self, lookup: Lookup, exclude: int, query_anchors: int, query_skeleton: int
    ) -> list[int]:
        """Candidate ids to verify, capped at max_candidates: SimHash-nearest first, then most
        anchors shared, then the oldest (lowest id) first, so that in a cluster of hundreds of
        copies of one wire story the earliest articles, where the original is, are verified."""
        settings = self.settings
        near = np.fromiter(lookup.simhash_hits, dtype=np.int64, count=len(lookup.simhash_hits))
        ids = np.unique(np.concatenate([
            lookup.band_ids, near,
            self._sharing(lookup.anchors, query_anchors, settings.min_anchor_hits),
            self._sharing(lookup.skeleton, query_skeleton, settings.min_skeleton_hits),
        ]))  # fmt: skip
        ids = ids[ids != exclude]
        distance = np.array([lookup.simhash_hits.get(i, 64) for i in ids.tolist()], dtype=np.int64)
        shared = lookup.anchors.hits_of(ids) + lookup.skeleton.hits_of(ids)
        ranked = ids[np.lexsort((ids, -shared, distance))]  # the last key sorts first
        chosen: list[int] = ranked[: settings.max_candidates].tolist()
        return chosen

    def _budget(self, ranked: list[int], known: dict[int, int]) -> tuple[list[int], int]:
        """The candidates to verify with evidence, at most DEDUP_MAX_VERIFIED: half the
        SimHash-nearest, the rest the earliest published (else first seen), so that in a
        cluster of hundreds of copies of one wire story the original is among them; and how
        many candidates are left unverified. Verification costs ~0.7 ms a candidate (tokens
        with offsets, shingles, alignment, markers), which hundreds of copies would pay on
        every query. `known` holds the dates the lookup brought (those of the SimHash-near
        candidates, where the copies of such a story are); the others are read."""
        limit = self.settings.max_verified
        if len(ranked) <= limit:
            return ranked, 0
        nearest = ranked[: (limit + 1) // 2]
        taken = set(nearest)
        rest = [doc_id for doc_id in ranked if doc_id not in taken]
        unknown = [doc_id for doc_id in rest if doc_id not in known]
        dated = [(known[doc_id], doc_id) for doc_id in rest if doc_id in known]
        dated += [
            (epoch_seconds(when), doc_id)
            for doc_id, when in zip(unknown, self.store.times(unknown), strict=True)
            if when is not None
        ]
        earliest = [doc_id for _, doc_id in sorted(dated)[: limit - len(nearest)]]
        return nearest + earliest, len(ranked) - len(nearest) - len(earliest)

    def _explain(
        self,
        article: Article,
        found: Fingerprint,
        lookup: Lookup,
        *,
        stored: bool,
        created: bool,
        related: bool = False,
    ) -> Result:
        candidate_ids, unverified = self._budget(
            self._candidates(lookup, article.id, len(found.anchors), len(found.skeleton)),
            lookup.near_times,
        )
        candidates = [a for a in self.store.fetch(candidate_ids) if a is not None]
        matches = verify(article.text, found, candidates, self.params, related=related,
                         cache=self.derived)  # fmt: skip
        markers = tuple(find_markers(article.text))
        this = Party(
            id=str(article.id) if stored else UNSTORED_ID,
            site=article.site,
            published_at=article.published_at,
            first_seen_at=article.first_seen_at,
            markers=markers,
        )
        original = attribute(this, matches)
        labelled = label_copies(this, matches, original, self.params.thresholds)
        return Result(
            article, stored, created, found.word_count, markers, tuple(labelled), original,
            unverified,
        )  # fmt: skip


def count_sites(sites: SiteStore, result: Result) -> Observation:
    """Count an explained article into the site sums (once per article) and store the new
    farm scores of its site and of the site it copied: the follow-up of every ingest."""
    seen = observe(result.article, result.markers, result.matches, result.original_article())
    if sites.count(seen):
        for site in {seen.site, seen.source_site or seen.site}:
            sites.rescore(site, lambda figures: farm_score(figures).value)
    return seen


def evict_expired(detector: Detector, sites: SiteStore, now: datetime | None = None) -> int:
    """Remove one batch (DEDUP_EVICT_BATCH) of the articles first seen before the retention
    window (DEDUP_RETENTION_DAYS) from the record, every index and the per-article site
    parts; returns how many were removed (0 when retention is off or nothing is due).
    Callers repeat it until it returns 0."""
    settings = detector.settings
    if settings.retention_days <= 0:
        return 0
    moment = now or datetime.now(UTC)
    cutoff = moment - timedelta(days=settings.retention_days)
    ids = detector.store.expired(cutoff, settings.evict_batch)
    if not ids:
        return 0
    records = detector.store.fetch(ids)
    found = [r for r in records if r is not None]
    detector.store.delete_many(found)
    detector.store.forget_seen([i for i, r in zip(ids, records, strict=True) if r is None])
    sites.forget([(r.id, r.site) for r in found])
    log.info("evicted %d article(s) first seen before %s", len(ids), cutoff.isoformat())
    return len(ids)
