"""The use cases (ingest, check, matches, delete, bulk load): core calls around store round
trips.

The API, the CLI and the workers all go through this one class, so every door into the
index validates, fingerprints and verifies the same way.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from urllib.parse import urlsplit

import numpy as np

from dedup.adapters.encoder import Encoder, load_encoder
from dedup.adapters.html import HtmlExtractor, extract_html
from dedup.config import Settings
from dedup.core.article import Article, ArticleInput
from dedup.core.attribution import Party
from dedup.core.candidates import Lookup, across_languages, budget, rank
from dedup.core.derived import NO_CACHE, DerivedCache
from dedup.core.fingerprint import (
    Fingerprint,
    fingerprint,
    indexed_name_pairs,
    normalised_words,
    text_digest,
)
from dedup.core.labelling import attribute, label_copies
from dedup.core.language import code_language, language_code
from dedup.core.language import detect as detect_language
from dedup.core.markers import find_markers
from dedup.core.policy import NO_POLICY, Policy
from dedup.core.result import UNSTORED_ID, Result
from dedup.core.rewrite import sentences_of
from dedup.core.semantic import lead_texts, lead_vector, nearest_leads
from dedup.core.shingles import WordHashes
from dedup.core.text import tokenize, unicode_problem, unix_line_ends
from dedup.core.verification import Assessment, verify
from dedup.errors import ArticleNotFound, DedupError, InvalidArticle, UrlConflict
from dedup.store import Store
from dedup.store.codecs import IndexEntries

log = logging.getLogger(__name__)

COMPARED_ID = 1  # the second text of a comparison, as its matches name it

__all__ = [
    "COMPARED_ID",
    "UNSTORED_ID",
    "ArticleInput",
    "Detector",
    "Explainer",
    "Result",
]


# Candidates in a language the encoder does not cover fetched for a related answer (a
# possible translation: `core.verification.names_in_order`).
UNCOVERED_CANDIDATES = 2


class LazyLead:
    """A lead vector embedded only when the window holds a lead in another language the
    encoder knows (one that could be near it), and kept once embedded (an ingest stores it)."""

    def __init__(self) -> None:
        self.embedded = False
        self.vector: np.ndarray | None = None


Lead = np.ndarray | LazyLead | None  # None: no lead search


def epoch_day(moment: datetime) -> int:
    """The day a moment falls in, as whole days since 1970 (UTC)."""
    return int(moment.timestamp() // 86400)


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


class Explainer:
    """Validate, fingerprint and verify articles, with no index: what a check does once its
    candidates are found. The detector adds the index; a batch job (`dedup.services.batch`) uses
    this alone on each of its workers."""

    def __init__(
        self,
        settings: Settings,
        extractor: HtmlExtractor | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.extractor = extractor
        self._clock = clock
        self.params = settings.match_params()
        self.candidate_params = settings.candidate_params()
        self.hashes = WordHashes()  # word hashes of this process, shared by both sides
        # Sees every candidate's assessment (bench.fit_reuse collects training pairs here).
        self.observe: Callable[[list[Assessment]], None] | None = None
        self.derived = DerivedCache(settings.verify_cache, self.hashes)
        # The meaning paths' encoder (its model loads when a pair first needs it).
        self.encoder: Encoder | None = (
            load_encoder(settings.encoder) if settings.semantic or settings.meaning else None
        )
        # The language codes (`core.language.language_code`) of the languages it knows.
        languages = self.encoder.languages if self.encoder is not None else ()
        self.known_codes = np.array(sorted(language_code(code) for code in languages))
        # The deployment's exclusions, read at every check (dedup.services.access keeps it fresh).
        self.policy: Callable[[], Policy] = lambda: NO_POLICY

    def prepare(self, given: ArticleInput, first_seen_at: datetime) -> tuple[Article, Fingerprint]:
        """Extract, validate and fingerprint an input; the article gets id 0 (unassigned)."""
        if (given.text is None) == (given.html is None):
            raise InvalidArticle("send exactly one of 'text' or 'html'")
        for name in ("url", "text", "html", "title", "site"):
            value = getattr(given, name)
            if isinstance(value, str) and (problem := unicode_problem(value)):
                raise InvalidArticle(f"{name} {problem}")
        title, canonical_url, published_at = given.title, None, given.published_at
        if given.html is not None:
            extracted = (
                self.extractor.extract(given.html) if self.extractor else extract_html(given.html)
            )
            text = extracted.text
            title = title or extracted.title
            canonical_url = extracted.canonical_url
            published_at = published_at or extracted.published_at
        else:
            text = unix_line_ends(given.text or "")  # before anything reads it
        if len(text) > self.settings.max_text_chars:
            raise InvalidArticle(
                f"the text is {len(text):,} characters, over the {self.settings.max_text_chars:,}"
                "-character budget of one article (DEDUP_MAX_TEXT_CHARS); split it, or raise "
                "the setting"
            )
        site = (given.site or site_of(given.url)).strip().lower()
        if not site:
            raise InvalidArticle(f"cannot tell the site of url {given.url!r}; send 'site'")
        found = fingerprint(text, self.params.fingerprint, self.hashes)
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
            anchor_grams=found.anchor_grams,
            word_anchors=found.word_anchors,
            skeleton_set=tuple(found.skeleton_set.tolist()),
            language=detect_language(text).code,
            name_pairs=found.name_pairs,
        )
        return article, found

    def _for_matching(self, text: str, found: Fingerprint, policy: Policy) -> Fingerprint:
        """The fingerprint a check looks up and verifies with: the stored one, or, when the
        text holds a boilerplate phrase, that of the text with the phrases blanked (what is
        stored is never blanked, so that a changed exclusion needs no re-indexing)."""
        blanked = policy.blank(text)
        if blanked == text:
            return found
        return fingerprint(blanked, self.params.fingerprint, self.hashes)

    def compare(self, first: ArticleInput, second: ArticleInput) -> Result:
        """Two texts explained against each other, reading no index and storing nothing:
        the first is the query, the second its one candidate (id COMPARED_ID). Related
        pairs are listed too, so that two texts that are not copies still show what they
        share."""
        now = self._clock()
        return self.compare_prepared(self.prepare(first, now), self.prepare(second, now)[0])

    def compare_prepared(self, first: tuple[Article, Fingerprint], second: Article) -> Result:
        """`compare` of two articles prepared already (a batch prepares each article once
        and compares it with several others)."""
        article, found = first
        other = replace(second, id=COMPARED_ID)
        policy = self.policy()
        found = self._for_matching(article.text, found, policy)
        return self._conclude(
            article,
            found,
            [other],
            0,
            stored=False,
            created=False,
            related=True,
            policy=policy,
            cache=NO_CACHE,  # its id is no stored article's: keep it out of the cache
        )

    def _conclude(
        self,
        article: Article,
        found: Fingerprint,
        candidates: list[Article],
        unverified: int,
        *,
        stored: bool,
        created: bool,
        related: bool,
        policy: Policy,
        cache: DerivedCache | None = None,
    ) -> Result:
        """Verify the candidates and name the likely original: the answer."""
        as_sent = {a.id: a for a in candidates}
        if policy.phrases:
            spin = self.params.fingerprint.spin_normalisation
            candidates = [_blanked(a, policy, spin) for a in candidates]
        matches = verify(
            policy.blank(article.text),
            found,
            candidates,
            self.params,
            related=related,
            cache=self.derived if cache is None else cache,
            observe=self.observe,
            language=article.language,
            encode=self.encoder,
            knows=self.knows,
        )
        if policy.phrases:  # the evidence quotes the texts as they were sent
            matches = [replace(m, article=as_sent[m.article.id]) for m in matches]
        markers = tuple(find_markers(article.text))
        this = Party(
            id=str(article.id) if stored else UNSTORED_ID,
            site=article.site,
            published_at=article.published_at,
            first_seen_at=article.first_seen_at,
            markers=markers,
        )
        original = attribute(this, matches, wires=self.settings.wires)
        labelled = label_copies(this, matches, original, self.params.thresholds)
        return Result(
            article,
            stored,
            created,
            found.word_count,
            markers,
            tuple(labelled),
            original,
            unverified,
            self._meaning_note(article.language),
            verified=len(candidates),
        )

    def knows(self, language: str) -> bool:
        """Whether the sentence encoder knows a language (False with no encoder)."""
        return self.encoder is not None and self.encoder.knows(language)

    def _meaning_note(self, language: str) -> str | None:
        """Why translations of or into this article were not looked for (None: they were)."""
        if self.encoder is None:
            return (
                "pairs by meaning are off (DEDUP_SEMANTIC=false, DEDUP_MEANING=false): "
                "word paths only"
            )
        if self.params.semantic is None:
            return "translations are not looked for (DEDUP_SEMANTIC=false)"
        if not self.knows(language):
            return (
                f"language {language!r} is not one the sentence encoder knows "
                f"({', '.join(sorted(self.encoder.languages))}): translations are not looked for, "
                "word paths only"
            )
        return None


class Detector(Explainer):
    """Ingest, check and explain articles against one index."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        extractor: HtmlExtractor | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(settings, extractor, clock)
        self.store = store
        self._index_checked = False

    def _ensure_index(self) -> None:
        """Check once (lazily, so the service starts while Redis is down) that the index
        was built with these parameters."""
        if self._index_checked:
            return
        params = self.params.fingerprint
        lsh = params.lsh
        self.store.ensure_params(
            {
                "num_perm": str(lsh.num_perm),
                "bands": str(lsh.bands),
                "rows": str(lsh.rows),
                "shingle_size": str(params.shingle_size),
                "anchor_modulus": str(params.anchor_modulus),
                "anchor_target": str(params.anchor_target),
                "short_words": str(params.short_words),
                "skeleton_modulus": str(params.skeleton_modulus),
                "spin_normalisation": str(params.spin_normalisation),
            }
        )
        self._index_checked = True

    # -- the use cases ---------------------------------------------------------------------

    def _lookup(self, url: str | None, found: Fingerprint) -> Lookup:
        return self.store.lookup(url, IndexEntries.of(found))

    def check(self, given: ArticleInput, *, related: bool = False) -> Result:
        """Matches and likely original of an article, storing nothing. With `related`,
        articles that share names or sentences without being copies are listed too."""
        article, found = self.prepare(given, self._clock())
        self._ensure_index()
        policy = self.policy()
        found = self._for_matching(article.text, found, policy)
        lookup = self._lookup(None, found)
        return self._explain(
            article,
            found,
            lookup,
            stored=False,
            created=False,
            related=related,
            policy=policy,
            lead=LazyLead(),
        )

    def ingest(self, given: ArticleInput, *, related: bool = False) -> Result:
        """Store an article (once per url and text) and explain it.

        The same url with the same text answers with the stored article (created=False);
        the same url with another text is a conflict.
        """
        started = time.perf_counter()
        article, stored_print = self.prepare(given, self._clock())
        self._ensure_index()
        policy = self.policy()
        found = self._for_matching(article.text, stored_print, policy)
        lookup = self._lookup(article.url, found)
        explain = partial(self._explain, found=found, lookup=lookup, related=related, policy=policy)
        if lookup.url_id is not None:
            existing = self._existing(lookup.url_id, article)
            if existing is not None:
                return _kept(explain(existing, stored=True, created=False), article)
        doc_id, created = self.store.add(article)
        if not created:  # stored meanwhile by a concurrent request for the same url
            existing = self._existing(doc_id, article)
            if existing is not None:
                return _kept(explain(existing, stored=True, created=False), article)
            doc_id, created = self.store.add(article)  # ... and deleted again since
        article = replace(article, id=doc_id)
        lead = LazyLead()  # searched when a lead in another language is in the window
        result = explain(article, stored=True, created=created, lead=lead)
        if created and lead.vector is not None:
            self._keep_lead(article, lead.vector)
        log.debug(
            "stored article %d from %s: %d match(es), original %s, %.1f ms",
            doc_id,
            article.site,
            len(result.matches),
            result.original.id,
            (time.perf_counter() - started) * 1000,
        )
        return result

    def index_many(
        self, given: Sequence[ArticleInput], *, leads: bool = False
    ) -> list[tuple[int, bool] | DedupError]:
        """Store articles in the index without explaining them (a bulk load of an archive),
        in one round trip for the batch. Per input: (id, True) when stored, (existing id,
        False) when its url is stored already (the texts are not compared), or the error that
        kept it out. The copies among them are found later, by the articles checked or
        ingested against them. With `leads`, each stored article's lead vector is embedded
        and kept too (~3.7 ms an article in a language the encoder knows), so that its
        translations are found by meaning as well as by names and numbers."""
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
        added = self.store.add_many(articles)
        if leads:
            for article, (doc_id, created) in zip(articles, added, strict=True):
                if created:
                    self._keep_lead(replace(article, id=doc_id), self.lead_of(article))
        stored = iter(added)
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
        return self._matches_of(stored, LazyLead(), related=related)

    def _matches_of(self, stored: Article, lead: Lead, *, related: bool = False) -> Result:
        policy = self.policy()
        found = fingerprint(policy.blank(stored.text), self.params.fingerprint, self.hashes)
        lookup = self._lookup(None, found)
        return self._explain(
            stored,
            found,
            lookup,
            stored=True,
            created=False,
            related=related,
            policy=policy,
            lead=lead,
        )

    def follow_up(self, doc_id: str) -> Result:
        """An ingest's follow-up (off the request path): the stored article explained
        against the index as it is now, its lead vector searched (translations whose names
        and numbers did not bring them) and then added to the window."""
        stored = self.get(doc_id)
        if self._lead_kept(stored):  # its ingest embedded and kept it: search, lazily
            return self._matches_of(stored, LazyLead())
        lead = self.lead_of(stored)
        result = self._matches_of(stored, lead)
        self._keep_lead(stored, lead)
        return result

    def with_leads(self, result: Result) -> Result:
        """The answer of an ingest that has no follow-up job (scans, evaluations): its lead
        added to the window and, when leads in other languages are near it, the article
        explained again with them (as `follow_up` would)."""
        if not result.stored or self._lead_kept(result.article):
            return result
        article = result.article
        lead = self.lead_of(article)
        near = self._near_leads(article, lead, set())
        self._keep_lead(article, lead)
        return self._matches_of(article, lead) if near else result

    def warm(self) -> None:
        """Load the sentence encoder now rather than on the first check that needs it."""
        if self.encoder is not None:
            self.encoder.warm()

    def _seeks_translations(self, article: Article) -> bool:
        """Whether translations of or into this article are looked for by meaning: the path
        is on and the encoder knows its language."""
        return self.params.semantic is not None and self.knows(article.language)

    def lead_of(self, article: Article) -> np.ndarray | None:
        """The article's lead vector (`core.semantic.lead_vector`): None when translations are
        not looked for (`_seeks_translations`). ~3.7 ms (the encoder)."""
        if self.encoder is None or not self._seeks_translations(article):
            return None
        text = article.text
        return lead_vector(self.encoder(lead_texts(text, sentences_of(text, tokenize(text)))))

    def drop_leads_before(self, moment: datetime) -> None:
        """Drop the lead lists of the days before a moment's (retention)."""
        dropped = self.store.leads.drop_before(epoch_day(moment))
        if dropped:
            log.info("dropped the lead vectors of %d day(s) before %s", dropped, moment.date())

    def _lead_kept(self, article: Article) -> bool:
        """Whether the article's lead is in its day's list already (its ingest kept it)."""
        window = self.store.leads.window([epoch_day(article.when)])
        return bool(np.isin(article.id, window.ids))

    def _keep_lead(self, article: Article, lead: np.ndarray | None) -> None:
        if lead is not None:
            code = language_code(article.language)
            self.store.leads.add(article.id, code, epoch_day(article.when), lead)

    def _uncovered_candidates(
        self, article: Article, lookup: Lookup, taken: Sequence[int]
    ) -> list[int]:
        """Candidates by shared name pairs in another language when the encoder does not
        cover one of the two: listed as related (a possible translation), never copies."""
        own = language_code(article.language)
        own_known = self.knows(article.language)

        def uncovered(code: int) -> bool:
            other_known = self.knows(code_language(code))
            return code not in (0, own) and not (own_known and other_known)

        return across_languages(
            lookup,
            article.id,
            taken,
            self.candidate_params.min_skeleton_hits,
            UNCOVERED_CANDIDATES,
            uncovered,
        )

    def _near_leads(self, article: Article, lead: Lead, taken: set[int]) -> list[int]:
        """Stored articles in other languages the encoder knows whose leads are nearest this
        one's, within DEDUP_SEMANTIC_WINDOW_DAYS of it (at most DEDUP_SEMANTIC_MAX_CANDIDATES).
        A LazyLead is embedded only when the window holds leads in such languages."""
        if lead is None or not self._seeks_translations(article):
            return []
        day, days = epoch_day(article.when), self.settings.semantic_window_days
        window = self.store.leads.window(range(day - days, day + days + 1))
        ids, codes = window.ids, window.codes
        wanted = (
            (codes != language_code(article.language))
            & np.isin(codes, self.known_codes)
            & ~np.isin(ids, [article.id, *taken])
        )
        if not wanted.any():
            return []
        if isinstance(lead, LazyLead):
            if not lead.embedded:
                lead.vector, lead.embedded = self.lead_of(article), True
            vector = lead.vector
        else:
            vector = lead
        if vector is None:
            return []
        return nearest_leads(
            window.similarity(vector), ids, wanted, self.settings.semantic_max_candidates
        )

    def records(self, ids: Sequence[int]) -> list[Article | None]:
        """Stored articles by id (None where gone), in one round trip."""
        return self.store.fetch(list(ids))

    def evict_seen_before(self, cutoff: datetime, limit: int) -> tuple[int, list[tuple[int, str]]]:
        """Remove up to `limit` articles first seen before `cutoff` from the record and every
        index; returns how many ids were due and the (id, site) of each record removed (ids
        whose record was gone already are only forgotten)."""
        ids = self.store.expired(cutoff, limit)
        if not ids:
            return 0, []
        records = self.store.fetch(ids)
        found = [r for r in records if r is not None]
        self.store.delete_many([self.with_name_pairs(r) for r in found])
        self.store.forget_seen([i for i, r in zip(ids, records, strict=True) if r is None])
        return len(ids), [(r.id, r.site) for r in found]

    def delete(self, doc_id: str) -> None:
        """Remove an article from the record and every index."""
        self.store.delete(self.with_name_pairs(self.get(doc_id)))

    def with_name_pairs(self, record: Article) -> Article:
        """A record read back with the name pairs its ingest indexed (worked out of its
        text: the record does not keep them), so that deleting it removes them too."""
        return replace(record, name_pairs=indexed_name_pairs(record.text, self.params.fingerprint))

    @staticmethod
    def _parse_id(doc_id: str) -> int:
        if not doc_id.isascii() or not doc_id.isdigit() or len(doc_id) > 18:
            raise ArticleNotFound(f"no article with id {doc_id!r} (ids are whole numbers)")
        return int(doc_id)

    # -- verification ----------------------------------------------------------------------

    def _explain(
        self,
        article: Article,
        found: Fingerprint,
        lookup: Lookup,
        *,
        stored: bool,
        created: bool,
        related: bool = False,
        policy: Policy = NO_POLICY,
        lead: Lead = None,
    ) -> Result:
        ranked = rank(
            lookup,
            article.id,
            found.anchor_grams,
            len(found.skeleton),
            self.candidate_params,
            len(found.word_anchors),
        )
        candidate_ids, unverified = budget(
            ranked, lookup.near_times, self.candidate_params.max_verified, self.store.dates
        )
        across: list[int] = []
        if self.encoder is not None and self.knows(article.language):
            own = language_code(article.language)
            across = across_languages(
                lookup,
                article.id,
                ranked,
                self.candidate_params.min_skeleton_hits,
                self.settings.semantic_max_candidates,
                lambda code: code != own and self.knows(code_language(code)),
            )
        across += self._near_leads(article, lead, {*candidate_ids, *across})
        if related and self.encoder is not None:
            across += self._uncovered_candidates(article, lookup, ranked + across)
        fetched = self.store.fetch(candidate_ids + across)
        candidates = [a for a in fetched if a is not None and not policy.excludes(a.site)]
        if policy.excludes(article.site):
            candidates = []  # an excluded site is never named as a copy, nor as a source
        return self._conclude(
            article,
            found,
            candidates,
            unverified,
            stored=stored,
            created=created,
            related=related,
            policy=policy,
        )


def _kept(result: Result, sent: Article) -> Result:
    """A re-POST of a stored url and text, with a note naming each piece of metadata it sent
    that differs from what is stored: the stored article is kept as it is."""
    stored, ignored = result.article, []
    for name in ("title", "published_at", "site"):
        new, old = getattr(sent, name), getattr(stored, name)
        if new is not None and new != old:
            ignored.append(f"{name} {_shown(new)} (stored: {_shown(old)})")
    if not ignored:
        return result
    note = (
        f"this url and text were stored already as article {stored.id}; the stored article "
        f"is kept and this request's {'; '.join(ignored)} ignored: DELETE "
        f"/v1/articles/{stored.id} first to store it with new metadata"
    )
    return replace(result, notes=(*result.notes, note))


def _shown(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def _blanked(article: Article, policy: Policy, spin_normalisation: bool) -> Article:
    """A stored article with the boilerplate phrases blanked, and the digest of that text (so
    that the verification cache never mixes the two texts, and equal texts stay equal)."""
    text = policy.blank(article.text)
    if text == article.text:
        return article
    return replace(
        article, text=text, digest=text_digest(normalised_words(text, spin_normalisation))
    )
