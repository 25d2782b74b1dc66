"""Request and response models (pydantic v2); bad input is a 422 with the field named."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from dedup.align import Passage
from dedup.article import Article
from dedup.copytype import CopyType
from dedup.detector import UNSTORED_ID, Result
from dedup.input import ArticleIn as ArticleIn
from dedup.markers import Marker
from dedup.matching import Match
from dedup.rewrite import SentencePair


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
        return cls(
            kind=marker.kind, label=marker.label, text=marker.text,
            start=marker.start, end=marker.end, detail=marker.detail,
        )  # fmt: skip


class PassageOut(BaseModel):
    """A passage both texts share: `text` is this article's display text[start:end]."""

    text: str
    words: int
    start: int
    end: int
    match_start: int
    match_end: int

    @classmethod
    def of(cls, passage: Passage, text: str) -> "PassageOut":
        return cls(
            text=text[passage.start : passage.end], words=passage.words,
            start=passage.start, end=passage.end,
            match_start=passage.match_start, match_end=passage.match_end,
        )  # fmt: skip


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
    def of(cls, pair: SentencePair, text: str) -> "SentencePairOut":
        return cls(
            text=text[pair.start : pair.end], similarity=pair.similarity,
            start=pair.start, end=pair.end,
            match_start=pair.match_start, match_end=pair.match_end,
        )  # fmt: skip


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
    relation: Literal["duplicate", "near_duplicate", "excerpt", "contains", "related"] = Field(
        description="'related' (only with include_related=true): not a copy, but the two "
        "share names in order or a sentence, as independent reports of one event do."
    )
    verified_by: Literal["shingles", "sentences", "none"] = Field(
        description="What passed the bar: shared word 5-grams, or paired sentences (a "
        "rewrite); 'none' for related articles."
    )
    copy_type: CopyType | None = Field(
        description="The kind of copy of the pair's copy (the side that is not the original); "
        "null for related articles."
    )
    scores: ScoresOut
    evidence: EvidenceOut
    markers: list[MarkerOut]

    @classmethod
    def of(cls, match: Match, text: str) -> "MatchOut":
        article, scores, sentences = match.article, match.scores, match.sentences
        return cls(
            id=str(article.id), url=article.url, site=article.site, title=article.title,
            published_at=article.published_at, first_seen_at=article.first_seen_at,
            relation=match.relation,
            verified_by=match.verified_by,
            copy_type=match.copy_type,
            scores=ScoresOut(
                jaccard=scores.jaccard, containment=scores.containment,
                contained_by=scores.contained_by, simhash_distance=scores.simhash_distance,
                skeleton_overlap=scores.skeleton_overlap,
                sentences_explained=sentences.explained if sentences else 1.0,
                sentences_explained_by=sentences.explained_by if sentences else 1.0,
                sentence_order=sentences.order if sentences else 1.0,
            ),
            evidence=EvidenceOut(
                shared_words=match.alignment.shared_words,
                passages=[PassageOut.of(p, text) for p in match.alignment.passages],
                sentence_pairs=[
                    SentencePairOut.of(p, text) for p in (sentences.pairs if sentences else ())
                ],
            ),
            markers=[MarkerOut.of(m) for m in match.markers],
        )  # fmt: skip


class OriginalOut(BaseModel):
    id: str | None = Field(description="null when the checked (unstored) article is the original.")
    url: str
    site: str
    published_at: datetime | None
    confidence: float = Field(ge=0.0, le=1.0)
    reasons: list[str]


class CheckOut(BaseModel):
    """An article with its verified matches, its likely original and the evidence."""

    id: str | None = Field(description="null for /v1/check, which stores nothing.")
    url: str
    site: str
    title: str | None
    published_at: datetime | None
    first_seen_at: datetime
    word_count: int
    original: OriginalOut
    matches: list[MatchOut]
    markers: list[MarkerOut]

    @classmethod
    def of(cls, result: Result) -> "CheckOut":
        article = result.article
        source = result.original_article()
        original_id = None if result.original.id == UNSTORED_ID else result.original.id
        return cls(
            id=str(article.id) if result.stored else None,
            url=article.url, site=article.site, title=article.title,
            published_at=article.published_at, first_seen_at=article.first_seen_at,
            word_count=result.word_count,
            original=OriginalOut(
                id=original_id, url=source.url, site=source.site,
                published_at=source.published_at,
                confidence=result.original.confidence, reasons=list(result.original.reasons),
            ),
            matches=[MatchOut.of(m, article.text) for m in result.matches],
            markers=[MarkerOut.of(m) for m in result.markers],
        )  # fmt: skip


class ArticleOut(BaseModel):
    """A stored article: metadata and display text (the text every offset indexes)."""

    id: str
    url: str
    site: str
    title: str | None
    canonical_url: str | None
    published_at: datetime | None
    first_seen_at: datetime
    text: str
    markers: list[MarkerOut]

    @classmethod
    def of(cls, article: Article, markers: list[Marker]) -> "ArticleOut":
        return cls(
            id=str(article.id), url=article.url, site=article.site, title=article.title,
            canonical_url=article.canonical_url, published_at=article.published_at,
            first_seen_at=article.first_seen_at, text=article.text,
            markers=[MarkerOut.of(m) for m in markers],
        )  # fmt: skip


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    redis: Literal["ok", "unreachable"]
    embedded: bool = Field(description="Whether the service started its own Redis.")


class ErrorOut(BaseModel):
    error: str = Field(description="The kind of error, e.g. InvalidArticle.")
    detail: str = Field(description="What was wrong and how to fix it.")
