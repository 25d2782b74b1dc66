"""The API's request and response models (pydantic v2), which `dedup check --json` prints too;
bad input is a 422 with the field named. Answers are mapped from the core's `Verdict`; what a
scan stores is its own type (`dedup.services.scans.ScanItem`), mapped here the same way."""

from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, Field

from dedup.core.article import Article
from dedup.core.copytype import CopyType
from dedup.core.markers import Marker
from dedup.core.result import Result
from dedup.core.score import Relation
from dedup.core.sites import Edge, FarmScore, SiteFigures, share
from dedup.core.verdict import MatchVerdict, Quote, Verdict
from dedup.services.input import ArticleIn as ArticleIn
from dedup.services.scans import ScanItem, ScanState
from dedup.services.sites import Dossier, ExampleCopy

MAX_INLINE_ARTICLES = 10_000


class MarkerOut(BaseModel):
    """A sign of republishing found in the text, with its span in the display text."""

    kind: Literal["credit", "chrome", "byline", "translation", "machine", "spin"]
    label: str
    text: str
    start: int
    end: int
    detail: str | None = Field(
        description="The credited outlet, or the phrase a spun one replaced."
    )

    @classmethod
    def of(cls, marker: Marker) -> "MarkerOut":
        return cls.model_validate(marker, from_attributes=True)  # the same names, field by field


class PassageOut(BaseModel):
    """A passage both texts share: `text` is this article's display text[start:end]."""

    text: str
    words: int
    start: int
    end: int
    match_start: int
    match_end: int

    @classmethod
    def of(cls, passage: Quote) -> "PassageOut":
        return cls.model_validate(passage, from_attributes=True)


class SentencePairOut(BaseModel):
    """A sentence of this article (`text`) and the match's sentence most like it
    (`match_start`..`match_end` of the match's text): the evidence of a rewrite."""

    text: str
    similarity: float = Field(description="Dice similarity of the two sentences' word sets.")
    start: int
    end: int
    match_start: int
    match_end: int

    @classmethod
    def of(cls, pair: Quote) -> "SentencePairOut":
        return cls.model_validate(pair, from_attributes=True)


class EvidenceOut(BaseModel):
    shared_words: int = Field(description="Words of this article inside the shared passages.")
    passages: list[PassageOut] = Field(description="Longest first.")
    sentence_pairs: list[SentencePairOut] = Field(
        description="Sentences paired with their most similar sentence of the match, in this "
        "article's order (empty for verbatim copies, whose passages say it all)."
    )


class ScoresOut(BaseModel):
    jaccard: float
    containment: float = Field(description="Share of this article's shingles found in the match.")
    contained_by: float = Field(description="Share of the match's shingles found in this article.")
    simhash_distance: int
    skeleton_overlap: float = Field(
        description="Share of the shorter text's names-and-numbers 3-grams found in the other."
    )
    sentences_explained: float = Field(
        description="Share of this article's words inside sentences paired with the match."
    )
    sentences_explained_by: float = Field(
        description="Share of the match's words inside sentences paired with this article."
    )
    sentence_order: float = Field(
        description="Share of the sentence pairs in one run keeping both articles' order."
    )


class MatchOut(BaseModel):
    id: str
    url: str
    site: str
    title: str | None
    published_at: datetime | None
    first_seen_at: datetime
    relation: Relation = Field(
        description="duplicate, near_duplicate, excerpt (this text mostly inside the match), "
        "contains (the match mostly inside this), partial (part of one reused in the other), "
        "sibling (both copy one source that is not stored: each carries signs of being "
        "copied, so neither is named the other's original), "
        "or 'related' (only with include_related=true): not a copy, but the two share names "
        "in order or a few phrases, as independent reports of one event do."
    )
    verified_by: Literal["shingles", "reuse", "meaning", "none"] = Field(
        description="What passed the bar: shared word 5-grams (verbatim text), the reuse "
        "model (rewrites, partial reuse), or sentence pairs by meaning (a translation: "
        "`evidence.sentence_pairs` across the two languages); 'none' for related articles."
    )
    language: str = Field(description="The match's language, ISO 639-1 ('und': undetermined).")
    reuse: float = Field(
        ge=0.0,
        le=1.0,
        description="How likely one text is derived from the other (calibrated on labelled "
        "real reuse: among pairs scored 0.8, about 80% are derived); 1.0 for verbatim copies; "
        "for a pair verified by meaning, the share of the shorter text's sentences paired in "
        "order (not calibrated).",
    )
    coverage: float = Field(
        description="Share of this article's words inside the passages shared with the match."
    )
    match_coverage: float = Field(
        description="Share of the match's words inside the passages shared with this article."
    )
    copy_type: CopyType | None = Field(
        description="The kind of copy of the pair's copy (the side that is not the original); "
        "null for related articles."
    )
    scores: ScoresOut
    evidence: EvidenceOut
    markers: list[MarkerOut]
    explanation: str | None = Field(
        description="For a related pair (null for copies): one sentence on what the two "
        "share and why that is not a copy."
    )

    @classmethod
    def of(cls, match: MatchVerdict) -> "MatchOut":
        article = match.article
        return cls(
            id=str(article.id),
            url=article.url,
            site=article.site,
            title=article.title,
            published_at=article.published_at,
            first_seen_at=article.first_seen_at,
            relation=match.relation,
            verified_by=match.verified_by,
            language=article.language,
            reuse=match.reuse,
            coverage=match.coverage,
            match_coverage=match.match_coverage,
            copy_type=match.copy_type,
            scores=ScoresOut(
                jaccard=match.jaccard,
                containment=match.containment,
                contained_by=match.contained_by,
                simhash_distance=match.simhash_distance,
                skeleton_overlap=match.skeleton_overlap,
                sentences_explained=match.sentences_explained,
                sentences_explained_by=match.sentences_explained_by,
                sentence_order=match.sentence_order,
            ),
            evidence=EvidenceOut(
                shared_words=match.shared_words,
                passages=[PassageOut.of(p) for p in match.passages],
                sentence_pairs=[SentencePairOut.of(p) for p in match.sentence_pairs],
            ),
            markers=[MarkerOut.of(m) for m in match.markers],
            explanation=match.explanation,
        )


class OriginalOut(BaseModel):
    id: str | None = Field(description="null when the checked (unstored) article is the original.")
    url: str
    site: str
    published_at: datetime | None
    confidence: float = Field(ge=0.0, le=1.0)
    reasons: list[str]
    source_stored: bool = Field(
        description="false when the article is named its own original only because its source "
        "is not stored: its signs (credit lines, chrome, spun phrases) say it was copied."
    )


class SourceOut(BaseModel):
    id: str
    site: str
    published_at: datetime | None
    share: float = Field(
        ge=0.0, le=1.0, description="Share of this article's text inside what it shares with it."
    )
    words: int = Field(description="Words of this article inside the passages shared with it.")
    copy_type: CopyType | None
    relation: Relation


class SummaryOut(BaseModel):
    """The overall answer, computed once with the verdict: how much of this text is found in
    stored articles (the union of every copy's passages, and of a rewrite's or a
    translation's paired sentences, over the text's characters), and in which, most first."""

    share: float = Field(ge=0.0, le=1.0)
    sources: list[SourceOut]


class CheckOut(BaseModel):
    """An article with its verified matches, its likely original and the evidence."""

    id: str | None = Field(description="null for /v1/check, which stores nothing.")
    url: str
    site: str
    title: str | None
    published_at: datetime | None
    first_seen_at: datetime
    word_count: int
    language: str = Field(description="The article's language, ISO 639-1 ('und': undetermined).")
    meaning: str | None = Field(
        description="Why pairs by meaning (translations) were not looked for, when they were "
        "not: the language is one the sentence encoder does not know, or the setting is off."
    )
    original: OriginalOut
    matches: list[MatchOut]
    unverified_candidates: int = Field(
        description="Candidates the index found beyond DEDUP_MAX_VERIFIED that were not "
        "verified (a story copied many times); a larger DEDUP_MAX_VERIFIED verifies more."
    )
    markers: list[MarkerOut]
    summary: SummaryOut
    notes: list[str] = Field(
        description="What the service did that the request did not ask, in sentences: a "
        "re-POST of a stored url and text names the metadata it sent that was not stored."
    )

    @classmethod
    def of(cls, found: Result | Verdict) -> "CheckOut":
        """The answer of a result, or of the verdict made of one (a stored scan result)."""
        verdict = found if isinstance(found, Verdict) else Verdict.of(found)
        article, original = verdict.article, verdict.original
        return cls(
            id=verdict.id,
            url=article.url,
            site=article.site,
            title=article.title,
            published_at=article.published_at,
            first_seen_at=article.first_seen_at,
            word_count=verdict.word_count,
            language=article.language,
            meaning=verdict.meaning,
            original=OriginalOut(
                id=original.id,
                url=original.url,
                site=original.site,
                published_at=original.published_at,
                confidence=original.confidence,
                reasons=list(original.reasons),
                source_stored=original.source_stored,
            ),
            matches=[MatchOut.of(m) for m in verdict.matches],
            unverified_candidates=verdict.unverified,
            markers=[MarkerOut.of(m) for m in verdict.markers],
            notes=list(verdict.notes),
            summary=SummaryOut(
                share=verdict.summary.share,
                sources=[
                    SourceOut(
                        id=s.id,
                        site=s.site,
                        published_at=s.published_at,
                        share=s.share,
                        words=s.words,
                        copy_type=s.copy_type,
                        relation=s.relation,
                    )
                    for s in verdict.summary.sources
                ],
            ),
        )

    def without_evidence(self) -> "CheckOut":
        """The answer for a key that may store but not read (no `check` scope): each match's
        relation and scores, but not the passages and sentences quoted from stored texts."""
        note = (
            "the evidence (passages and sentence pairs quoted from stored articles) is shown "
            "to keys with the check scope only"
        )
        matches = [
            m.model_copy(
                update={
                    "evidence": EvidenceOut(
                        shared_words=m.evidence.shared_words, passages=[], sentence_pairs=[]
                    )
                }
            )
            for m in self.matches
        ]
        return self.model_copy(update={"matches": matches, "notes": [*self.notes, note]})

    def json_bytes(self) -> bytes:
        """This answer as JSON written by pydantic in one pass (the API returns it as it is:
        FastAPI would validate the model again and encode it twice more, ~0.3 ms of a check
        with eight matches)."""
        return self.model_dump_json().encode()


class CopyOut(BaseModel):
    """A copy of a stored article: who published it, when, and how it copied."""

    id: str
    url: str
    site: str
    published_at: datetime | None
    first_seen_at: datetime
    relation: Relation
    copy_type: CopyType | None
    words: int = Field(description="Words the two articles share in passages.")
    site_role: str = Field(description="The copying site's role (see GET /v1/sites/{site}).")


class CopiesOut(BaseModel):
    total: int
    offset: int
    limit: int
    copies: list[CopyOut] = Field(description="Newest first.")


class ArticleOut(BaseModel):
    """A stored article: metadata and display text (the text every offset indexes)."""

    id: str
    url: str
    site: str
    title: str | None
    canonical_url: str | None
    published_at: datetime | None
    first_seen_at: datetime
    language: str = Field(description="ISO 639-1 code of its text ('und': undetermined).")
    text: str
    markers: list[MarkerOut]

    @classmethod
    def of(cls, article: Article, markers: list[Marker]) -> "ArticleOut":
        return cls(
            id=str(article.id),
            url=article.url,
            site=article.site,
            title=article.title,
            canonical_url=article.canonical_url,
            published_at=article.published_at,
            first_seen_at=article.first_seen_at,
            language=article.language,
            text=article.text,
            markers=[MarkerOut.of(m) for m in markers],
        )


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    redis: Literal["ok", "unreachable"]
    embedded: bool = Field(description="Whether the service started its own Redis.")


class ErrorOut(BaseModel):
    """Every error answer: its kind and what to do; a 422 adds the field errors, a 500 the
    request id its log line carries."""

    error: str = Field(description="The kind of error, e.g. InvalidArticle.")
    detail: str = Field(description="What was wrong and how to fix it.")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="422 only: each invalid field, as pydantic reports it."
    )
    request_id: str | None = Field(
        default=None, description="500 only: the id of the log line that tells what happened."
    )


class SiteSummaryOut(BaseModel):
    site: str
    articles: int
    copies: int = Field(description="Articles whose likely original is another site's.")
    copy_share: float
    credited_share: float = Field(description="Share of its copies that credit the source.")
    copied: int = Field(description="Its articles that other sites copied.")
    farm_score: float = Field(ge=0.0, le=1.0)
    role: str = Field(
        description="farm, copier (posts many uncredited copies without being mostly "
        "copies: worth a look), syndicator, original publisher, independent, undetermined."
    )
    role_confidence: float = Field(
        ge=0.0,
        le=1.0,
        description="Posterior probability that the site's uncredited copy rate is on the "
        "role's side of the farm rate (30%): for a farm that it is at least that, for any "
        "other role that it is below.",
    )
    uncredited_rate_low: float = Field(
        description="The uncredited copy rate the site's record makes 80% sure it at least has "
        "(a beta-binomial posterior over its article count)."
    )
    what_would_change_it: str = Field(
        description="For a farm, how many articles of its own would take it below the bar; for "
        "any other site, how many uncredited copies in a row would make it a farm."
    )

    @classmethod
    def of(cls, figures: SiteFigures, score: FarmScore) -> "SiteSummaryOut":
        return cls(
            site=figures.site,
            articles=figures.articles,
            copies=figures.copies,
            copy_share=round(share(figures.copies, figures.articles), 4),
            credited_share=round(share(figures.credited_copies, figures.copies), 4),
            copied=figures.copied,
            farm_score=score.value,
            role=score.role,
            role_confidence=score.confidence,
            uncredited_rate_low=score.rate_low,
            what_would_change_it=score.change,
        )


class SitePageOut(BaseModel):
    total: int
    offset: int
    limit: int
    sites: list[SiteSummaryOut]


class ExampleOut(BaseModel):
    """A copy and its original; GET /v1/articles/{article_id}/matches shows the evidence."""

    article_id: str
    url: str
    original_id: str
    original_url: str
    original_site: str
    copy_type: CopyType | None
    credited: bool
    lag_minutes: float

    @classmethod
    def of(cls, example: ExampleCopy) -> "ExampleOut":
        return cls(
            article_id=str(example.article_id),
            url=example.url,
            original_id=str(example.source_id),
            original_url=example.source_url,
            original_site=example.source_site,
            copy_type=cast(CopyType | None, example.copy_type),
            credited=example.credited,
            lag_minutes=round(example.lag_seconds / 60, 1),
        )


class ReasonOut(BaseModel):
    name: str
    contribution: float = Field(description="Signed share of the score.")
    text: str
    examples: list[ExampleOut]


class SiteOut(SiteSummaryOut):
    credited_copies: int
    fast_copies: int = Field(description="Copies up within an hour of their original.")
    lag_median_minutes: float | None
    lag_p90_minutes: float | None
    copy_types: dict[str, int] = Field(description="The disguise mix of its copies.")
    markers: dict[str, int] = Field(description="Marker kind -> articles carrying it.")
    distinct_sources: int
    top_sources: dict[str, int]
    top_copiers: dict[str, int]
    first_seen: datetime | None
    last_seen: datetime | None
    articles_per_hour: float
    burstiness: float = Field(description="Busiest clock hour over the mean active hour.")
    reasons: list[ReasonOut]

    @classmethod
    def of(cls, found: Dossier) -> "SiteOut":  # type: ignore[override]
        f, score = found.figures, found.score

        def minutes(seconds: int | None) -> float | None:
            return None if seconds is None else round(seconds / 60, 1)

        return cls(
            **SiteSummaryOut.of(f, score).model_dump(),
            credited_copies=f.credited_copies,
            fast_copies=f.fast_copies,
            lag_median_minutes=minutes(f.lag_median_seconds),
            lag_p90_minutes=minutes(f.lag_p90_seconds),
            copy_types=f.copy_types,
            markers=f.markers,
            distinct_sources=len(f.sources),
            top_sources=dict(list(f.sources.items())[:10]),
            top_copiers=dict(list(f.copiers.items())[:10]),
            first_seen=f.first_seen,
            last_seen=f.last_seen,
            articles_per_hour=found.articles_per_hour,
            burstiness=found.burstiness,
            reasons=[
                ReasonOut(
                    name=r.name,
                    contribution=round(r.contribution, 4),
                    text=r.text,
                    examples=[ExampleOut.of(e) for e in found.examples.get(r.name, ())],
                )
                for r in score.reasons
            ],
        )


class EdgeOut(BaseModel):
    copier: str
    source: str
    copies: int
    credited_share: float
    mean_lag_minutes: float

    @classmethod
    def of(cls, edge: Edge) -> "EdgeOut":
        return cls(
            copier=edge.copier,
            source=edge.source,
            copies=edge.copies,
            credited_share=round(share(edge.credited, edge.copies), 4),
            mean_lag_minutes=round(edge.mean_lag_seconds / 60, 1),
        )


class ScanIn(BaseModel):
    """Articles to scan, each shaped like the POST /v1/articles body. An invalid article is
    recorded as a failed item with its reason; it never fails the whole scan."""

    articles: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_INLINE_ARTICLES)


class ScanCreated(BaseModel):
    id: str
    status_url: str
    status: str
    total: int

    @classmethod
    def of(cls, state: ScanState) -> "ScanCreated":
        return cls(
            id=state.id,
            status_url=f"/v1/scans/{state.id}",
            status=state.status.value,
            total=state.total,
        )


class ScanOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    total: int
    processed: int
    stored: int = Field(description="Articles in the index from this scan (new or already there).")
    already_stored: int = Field(description="Of those, the ones that were stored before.")
    duplicates_found: int = Field(description="Articles with at least one verified copy.")
    failed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None

    @classmethod
    def of(cls, state: ScanState) -> "ScanOut":
        return cls(
            id=state.id,
            status=state.status.value,
            total=state.total,
            processed=state.processed,
            stored=state.stored,
            already_stored=state.already_stored,
            duplicates_found=state.duplicates_found,
            failed=state.failed,
            created_at=state.created_at,
            started_at=state.started_at,
            finished_at=state.finished_at,
            error=state.error,
        )


def scan_item(item: ScanItem) -> dict[str, Any]:
    """A stored scan item as the API gives it: the ingest answer plus 'line', 'error' and
    'created', or only 'line' and 'error' for a line that failed."""
    if item.verdict is None:
        return {"line": item.line, "error": item.error}
    answer = CheckOut.of(item.verdict).model_dump(mode="json")
    return {"line": item.line, "error": None, "created": item.created, **answer}


class ResultsOut(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="In line order: the ingest response plus 'line' and 'error' (null if none)."
    )
    next_cursor: int | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )


# -- operations: webhooks, watched sites, exclusions ------------------------------------------


class WebhookIn(BaseModel):
    """A webhook to make: where to POST which events, and the secret that signs them."""

    url: str = Field(max_length=2000, description="An http(s) url on a public address.")
    events: list[Literal["copy.found", "scan.finished"]] = Field(min_length=1, max_length=2)
    secret: str = Field(
        min_length=16,
        max_length=256,
        description="Signs every body (X-Dedup-Signature: t=<unix>,v1=<HMAC-SHA256 of "
        "'<t>.<body>'>); never shown again.",
    )
    watched_only: bool = Field(
        False, description="copy.found only for copies of the watched sites' articles."
    )


class WebhookOut(BaseModel):
    """A webhook (its secret is never shown)."""

    id: str
    url: str
    events: list[str]
    watched_only: bool
    created_at: str

    @classmethod
    def of(cls, hook_id: str, hook: dict[str, Any]) -> "WebhookOut":
        return cls(
            id=hook_id,
            url=hook["url"],
            events=list(hook["events"]),
            watched_only=bool(hook.get("watched_only")),
            created_at=hook["created_at"],
        )


class DeliveryOut(BaseModel):
    """One attempt to deliver an event to a webhook."""

    delivery_id: str
    event: str
    event_id: str
    attempt: int
    at: str
    status_code: int | None
    error: str | None
    outcome: Literal["delivered", "retry", "given_up"]
    duration_ms: float
    next_attempt_at: str | None


class SitesIn(BaseModel):
    """Sites to add to a list, as articles name them (hosts without 'www.')."""

    sites: list[str] = Field(min_length=1, max_length=1000)


class SiteListOut(BaseModel):
    sites: list[str]


class PhrasesIn(BaseModel):
    """Boilerplate phrases to ignore in matching (legal footers, newsletter blurbs)."""

    phrases: list[str] = Field(min_length=1, max_length=1000)


class PhraseOut(BaseModel):
    id: str
    phrase: str


class ExclusionsOut(BaseModel):
    """Sites never named as sources or copies, and phrases ignored in matching."""

    sites: list[str]
    phrases: list[PhraseOut]
