"""Verify candidates: which stored articles are copies of a text, with the evidence (pure).

Each candidate is assessed (shingle scores; for a pair that is not verbatim, the reuse
features both ways and the fitted model's score), then decided: a copy by shingles, by
reuse, or, across languages, by meaning; with `related`, a pair that is neither but shares
names or 3-grams comes back as `related`. The evidence is the aligned passages and the
sentence pairs.
"""

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from dedup.core.align import Alignment, align
from dedup.core.article import Article
from dedup.core.copytype import CopyType
from dedup.core.derived import NO_CACHE, Derived, DerivedCache
from dedup.core.fingerprint import Fingerprint, FingerprintParams
from dedup.core.markers import Marker, Rules
from dedup.core.reuse import (
    FEATURES,
    GRAM,
    RUN_CAP,
    SENTENCE_GRAM_FLOOR,
    Profile,
    ReuseModel,
    features,
    share_of,
    story_sets,
)
from dedup.core.rewrite import Rewrite, RewriteRule, pair_sentences
from dedup.core.score import (
    Relation,
    Scores,
    Thresholds,
    compare,
    is_copy,
    relation,
    relation_of,
    skeleton_overlap,
)
from dedup.core.semantic import Encode, MeaningPairs, SemanticRule, pair_by_meaning
from dedup.core.shingles import Hashes
from dedup.core.text import skeleton, translingual

# Sentences this alike (content-word Dice) are shown as the evidence of a rewrite that pairs
# none at the usual bar (DEDUP_REWRITE_MIN_SIMILARITY).
EVIDENCE_SIMILARITY = 0.2
RELATED_GATE = 0.1  # a pair sharing this share of names or 3-grams may come back as related
# A pair this much inside one another by shingles is a verbatim copy: its passages are the
# evidence, and its sentences are not paired (they would all pair with similarity ~1).
VERBATIM = 0.95

VerifiedBy = Literal["shingles", "reuse", "meaning", "none"]


@dataclass(frozen=True, slots=True)
class Match:
    """A verified copy relation between the query and a stored article, with evidence
    (or, for relation "related", what two articles that are not copies share)."""

    article: Article
    relation: Relation
    scores: Scores
    alignment: Alignment
    markers: tuple[Marker, ...]
    sentences: Rewrite | None = None  # sentence pairs (None for verbatim copies)
    verified_by: VerifiedBy = "shingles"
    copy_type: CopyType | None = None  # of whichever of the pair is not the likely original
    reuse: float = 1.0  # how likely one text is derived from the other (the reuse model)
    coverage: tuple[float, float] = (0.0, 0.0)  # share of this / the match's words in passages
    # A related pair in two languages whose meaning was not compared: the language of the two
    # that the sentence encoder does not cover (its names and numbers run in order in both).
    uncovered: str | None = None

    @property
    def is_copy(self) -> bool:
        return self.relation != "related"


@dataclass(frozen=True, slots=True)
class MatchParams:
    """Everything verification needs besides the texts (built from the settings by
    `dedup.config.Settings.match_params`, the one source of their defaults)."""

    fingerprint: FingerprintParams
    thresholds: Thresholds
    min_passage_words: int
    rewrite: RewriteRule  # sentence pairing (evidence, and what a whole rewrite is)
    rewrite_verification: bool  # False: shingle containment alone decides a copy
    reuse: ReuseModel  # P(derived) of a pair that fails the shingle bar, and when it is a copy
    semantic: SemanticRule | None  # pairs by meaning across languages (None: off)
    # Pairs by meaning in one language (None: off): a grey pair, one sharing at least
    # `meaning_floor` of either text's 3-grams that the word rules do not make a copy, is
    # weighed by its sentences' meaning; at most `meaning_max_candidates` a check.
    meaning: SemanticRule | None
    meaning_floor: float
    meaning_max_candidates: int


@dataclass(frozen=True, slots=True, eq=False)
class Assessment:
    """What verification worked out of one candidate before deciding: its shingle scores
    and, for a pair that is not verbatim, the reuse features both ways and the score."""

    candidate: Article
    derived: Derived
    fingerprint: Fingerprint
    scores: Scores
    forward: np.ndarray | None  # features of "this is derived from the candidate"
    backward: np.ndarray | None  # ... of "the candidate is derived from this"
    reuse: float
    copy_by_reuse: bool = False  # the reuse model's rule makes the pair a copy


def same_source(sites: Sequence[str]) -> list[list[int]]:
    """For each candidate, the other candidates of its site: a wire's several stories and
    versions on one event, which a paper writing from the wire draws on together.

    >>> same_source(["pa.example", "times.example", "pa.example"])
    [[2], [], [0]]
    """
    return [
        [j for j, other in enumerate(sites) if j != k and other == site]
        for k, site in enumerate(sites)
    ]


def assess(
    mine: Derived,
    this: Fingerprint,
    candidates: Sequence[Article],
    params: MatchParams,
    cache: DerivedCache,
    exact: bool = True,
) -> list[Assessment]:
    """Shingle scores of every candidate and, for those that are not verbatim copies, the
    reuse features both ways (the story of a candidate: it and the other candidates of its
    site, `same_source` and `story_sets`) and the model's score.

    Without `exact`, a pair whose fate the cheap features decide is not weighed further:
    two articles (the model's `long_words` and more) under the story bar both ways, sharing
    too few 3-grams for a run at the run bar, are not a copy whatever the reuse score when
    the fitted rule never takes the score alone for two articles (`threshold_long` above 1).
    Their sentences and runs (~0.5 ms a pair) are not worked out, and their reuse is 0.0:
    only a caller that shows non-copies (related, the fit's `observe`) needs it exact."""
    hashes = cache.hashes
    entries = []
    for candidate in candidates:
        theirs = cache.of(candidate)
        other = theirs.fingerprint(params, hashes)
        entries.append((candidate, theirs, other, compare(this, other)))
    stories: list[Hashes] | None = None
    found = []
    for k, (candidate, theirs, other, scores) in enumerate(entries):
        if scores.same_text or max(scores.containment, scores.contained_by) >= VERBATIM:
            found.append(Assessment(candidate, theirs, other, scores, None, None, 1.0))
            continue
        mine_grams = mine.gram_set(params, hashes)
        if stories is None:  # worked out only when some pair is not verbatim
            sets = [e[1].gram_set(params, hashes) for e in entries]
            stories = story_sets(
                sets,
                same_source([e[0].site for e in entries]),
                [share_of(mine_grams, s) for s in sets],
            )
        if not exact and _decided_without_weighing(
            (mine_grams, mine.n_words(params)),
            (theirs.gram_set(params, hashes), theirs.n_words(params)),
            stories[k],
            params,
        ):
            found.append(Assessment(candidate, theirs, other, scores, None, None, 0.0))
            continue
        mine_profile = mine.profile(params, hashes)
        theirs_profile = theirs.profile(params, hashes)
        names = skeleton_overlap(this.skeleton_set, theirs.skeleton_set(hashes))
        scores = replace(scores, skeleton_overlap=names)
        forward = features(mine_profile, theirs_profile, stories[k], names)
        backward = features(theirs_profile, mine_profile, mine_profile.gram_set, names)
        model = params.reuse
        reuse = max(model.probability(forward), model.probability(backward))
        story = max(forward[STORY], backward[STORY])
        words = (mine_profile.n_words, theirs_profile.n_words)
        run = round(max(forward[RUN], backward[RUN]) * RUN_CAP)
        sent = max(forward[SENT], backward[SENT])
        c3 = max(forward[C3], backward[C3])
        copy = model.is_copy(reuse, story, words, run, sent, c3)
        found.append(Assessment(candidate, theirs, other, scores, forward, backward, reuse, copy))
    return found


def _decided_without_weighing(
    mine: tuple[Hashes, int], theirs: tuple[Hashes, int], story: Hashes, params: MatchParams
) -> bool:
    """Whether a pair of two articles is surely not a copy by the fitted rule before its
    sentences and runs are weighed (see `assess`). A verbatim run of `run_bar` words holds
    `run_bar` - 2 consecutive shared 3-grams; fewer than half that many distinct shared
    3-grams would need each to repeat within the run."""
    (mine_grams, mine_words), (theirs_grams, theirs_words) = mine, theirs
    model = params.reuse
    if model.threshold_long <= 1.0 or min(mine_words, theirs_words) < model.long_words:
        return False
    shared = np.intersect1d(mine_grams, theirs_grams, assume_unique=True).size
    if 2 * shared >= model.run_bar - GRAM + 1:
        return False
    c3 = max(shared / max(1, len(mine_grams)), shared / max(1, len(theirs_grams)))
    if model.sentence_bar <= 1.0 and c3 >= SENTENCE_GRAM_FLOOR:
        return False  # enough shared for the sentence rule: its sentences must be weighed
    return max(share_of(mine_grams, story), share_of(theirs_grams, mine_grams)) < model.story_bar


C3 = FEATURES.index("c3")
STORY = FEATURES.index("c3_story")
RUN = FEATURES.index("run")
SENT = FEATURES.index("sent")


def verify(
    text: str,
    this: Fingerprint,
    candidates: Sequence[Article],
    params: MatchParams,
    rules: Rules | None = None,
    *,
    related: bool = False,
    cache: DerivedCache = NO_CACHE,
    observe: Callable[[list[Assessment]], None] | None = None,
    language: str = "und",
    encode: Encode | None = None,
    knows: Callable[[str], bool] = lambda language: False,
) -> list[Match]:
    """The candidates that pass the verification bar, most similar first, with evidence.

    A pair passes when either text is mostly inside the other by shingles (scraped, excerpt,
    lightly spun), or, failing that, when the reuse model scores it at least `min_reuse`
    (rewrites, partial reuse, heavy paraphrase). Candidates below both are dropped, so no
    unverified pair is reported as a copy; with `related`, those that still share names in
    order or some 3-grams come back with relation "related". What is worked out of the
    candidates' texts is kept in `cache`; `observe` sees every assessment (the model's fit
    collects its training pairs there).

    A pair in two different languages (the query's is `language`) that both `knows` (the
    encoder's languages) passes by meaning when its sentences pair one for one in order
    (`core.semantic`, with `encode` and `params.semantic`): a translation.
    """
    mine = Derived(text, this.digest, this.simhash, this.skeleton_set)
    matches: list[Match] = []
    assessed = assess(mine, this, candidates, params, cache, exact=related or observe is not None)
    if observe is not None:
        observe(assessed)
    grey = grey_pairs(assessed, params, language, knows) if encode is not None else set()
    for found in assessed:
        scores, theirs = found.scores, found.derived
        by_shingles = is_copy(scores, params.thresholds)
        by_reuse = params.rewrite_verification and found.copy_by_reuse
        shared = found.forward[C3] if found.forward is not None else 1.0
        rule = _meaning_rule(found, params, language, knows, grey)
        if not (by_shingles or by_reuse) and encode is not None and rule is not None:
            meaning = pair_by_meaning(
                mine.sentences(params),
                mine.embedded(params, encode),
                theirs.sentences(params),
                theirs.embedded(params, encode),
                rule,
            )
            if meaning.is_copy:
                matches.append(_by_meaning(found, meaning, theirs, params, rules))
                continue
        verbatim = max(scores.containment, scores.contained_by) >= VERBATIM
        uncovered = _uncovered(language, found.candidate.language, knows)
        if not (by_shingles or by_reuse) and uncovered is not None:
            if related and names_in_order(text, found.candidate.text):
                matches.append(_possibly_translated(found, theirs, uncovered, rules))
            continue
        if not (by_shingles or by_reuse):
            overlap = max(scores.skeleton_overlap, shared)
            if not related or verbatim or overlap < RELATED_GATE:
                continue
        sentences = None
        if not verbatim:
            sentences = pair_sentences(
                mine.sentences(params), theirs.sentences(params), params.rewrite.min_similarity
            )
        this_profile = mine.profile(params, cache.hashes) if sentences is not None else None
        alignment = _evidence(mine, theirs, this, found.fingerprint, this_profile, params, cache)
        coverage = alignment.coverage(len(mine.tokens(params)), len(theirs.tokens(params)))
        kind: Relation
        verified_by: VerifiedBy
        if by_shingles:
            kind, verified_by = relation(scores, params.thresholds), "shingles"
        elif by_reuse:
            kind, verified_by = _rewrite_relation(sentences, coverage, params), "reuse"
        else:
            kind, verified_by = "related", "none"
        if kind != "related" and not alignment.passages and not (sentences and sentences.pairs):
            # No copy link without evidence to show: a rewrite that shares no passage and
            # pairs no sentence at the usual bar shows its sentences' closest partners (a
            # crowd paraphrase changes most words of each); with none, it is at most related.
            sentences = pair_sentences(
                mine.sentences(params), theirs.sentences(params), EVIDENCE_SIMILARITY
            )
            if not sentences.pairs:
                if not related:
                    continue
                kind, verified_by = "related", "none"
        matches.append(
            Match(
                article=found.candidate,
                relation=kind,
                scores=scores,
                alignment=alignment,
                markers=theirs.markers(rules),
                sentences=sentences,
                verified_by=verified_by,
                reuse=round(found.reuse, 4),
                coverage=coverage,
            )
        )
    matches.sort(key=lambda m: (not m.is_copy, -m.reuse, -_strength(m), -m.scores.jaccard))
    return matches


def grey_pairs(
    assessed: Sequence[Assessment],
    params: MatchParams,
    language: str,
    knows: Callable[[str], bool],
) -> set[int]:
    """The candidates (ids) that the one-language meaning tier weighs: in the query's own
    language, one the encoder knows, not a copy by the word rules, sharing at least
    `meaning_floor` of either text's 3-grams; the `meaning_max_candidates` most likely
    derived of them (the encoder costs ~2 ms a sentence, so a check embeds a bounded few)."""
    if params.meaning is None or not knows(language):
        return set()
    weighed = [
        a
        for a in assessed
        if a.forward is not None
        and a.backward is not None
        and not a.copy_by_reuse
        and not is_copy(a.scores, params.thresholds)
        and a.candidate.language == language
        and max(a.forward[C3], a.backward[C3]) >= params.meaning_floor
    ]
    weighed.sort(key=lambda a: -a.reuse)
    return {a.candidate.id for a in weighed[: params.meaning_max_candidates]}


def _meaning_rule(
    found: Assessment,
    params: MatchParams,
    language: str,
    knows: Callable[[str], bool],
    grey: set[int],
) -> SemanticRule | None:
    """The meaning rule that weighs this pair: across languages the encoder knows, the
    translation rule; a grey pair in one language, the one-language rule; else none."""
    theirs = found.candidate.language
    if language != theirs:
        if params.semantic is not None and knows(language) and knows(theirs):
            return params.semantic
        return None
    return params.meaning if found.candidate.id in grey else None


# A pair in two languages, one the encoder does not cover, is listed as related (a possible
# translation) when the translingual skeletons (`text.translingual`) of the two share at least
# NAMES_IN_ORDER names and numbers in the same order, covering at least NAMES_IN_ORDER_SHARE
# of the shorter. On the WMT21 dev file's Icelandic pairs: 0.92 of translations (116), 4 of
# 23,692 pairs of other stories.
NAMES_IN_ORDER = 6
NAMES_IN_ORDER_SHARE = 0.4


def names_in_order(text: str, other: str) -> bool:
    """Whether two texts share a run of names and numbers in order (see NAMES_IN_ORDER).

    >>> names_in_order("Anna Berg met Carl Dahl in Oslo on 12 May 2021 with Erik Frost.",
    ...                "Frá Oslo: Anna Berg hitti Carl Dahl 12. maí 2021, ásamt Erik Frost.")
    True
    """
    mine, theirs = translingual(skeleton(text)), translingual(skeleton(other))
    blocks = difflib.SequenceMatcher(None, mine, theirs, autojunk=False).get_matching_blocks()
    shared = sum(block.size for block in blocks)
    shorter = min(len(mine), len(theirs))
    return shared >= NAMES_IN_ORDER and shared >= NAMES_IN_ORDER_SHARE * shorter


def _uncovered(language: str, theirs: str, knows: Callable[[str], bool]) -> str | None:
    """For two texts in different languages, the one the encoder does not cover (None:
    the same language, or both covered)."""
    if language == theirs:
        return None
    for code in (language, theirs):
        if not knows(code):
            return code
    return None


def _possibly_translated(
    found: Assessment, theirs: Derived, uncovered: str, rules: Rules | None
) -> Match:
    """A related pair that may be a translation the encoder cannot judge: never a copy."""
    return Match(
        article=found.candidate,
        relation="related",
        scores=found.scores,
        alignment=Alignment((), 0),
        markers=theirs.markers(rules),
        verified_by="none",
        reuse=round(found.reuse, 4),
        uncovered=uncovered,
    )


def _by_meaning(
    found: Assessment,
    meaning: MeaningPairs,
    theirs: Derived,
    params: MatchParams,
    rules: Rules | None,
) -> Match:
    """A cross-language copy: its evidence is the sentence pairs (no word is shared)."""
    pairs = meaning.rewrite
    coverage = (pairs.explained, pairs.explained_by)
    return Match(
        article=found.candidate,
        relation=_rewrite_relation(pairs, coverage, params),
        scores=found.scores,
        alignment=Alignment((), 0),
        markers=theirs.markers(rules),
        sentences=pairs,
        verified_by="meaning",
        reuse=meaning.share,
        coverage=coverage,
    )


def _evidence(
    mine: Derived,
    theirs: Derived,
    this: Fingerprint,
    other: Fingerprint,
    this_profile: Profile | None,
    params: MatchParams,
    cache: DerivedCache,
) -> Alignment:
    """The shared passages: seeded on shingles for a verbatim copy, on 3-grams holding a
    content word (merged across small edits) for anything else."""
    if this_profile is None:
        return align(
            mine.tokens(params),
            this.shingles,
            theirs.tokens(params),
            other.shingles,
            shingle_size=params.fingerprint.shingle_size,
            min_words=params.min_passage_words,
        )
    theirs_profile = theirs.profile(params, cache.hashes)
    return align(
        mine.tokens(params),
        this_profile.grams,
        theirs.tokens(params),
        theirs_profile.grams,
        shingle_size=GRAM,
        min_words=params.min_passage_words,
        seedable=this_profile.seedable,
    )


def _rewrite_relation(
    sentences: Rewrite | None, coverage: tuple[float, float], params: MatchParams
) -> Relation:
    """The relation of a pair the reuse model verified: a rewrite of all of one text (by its
    paired sentences or its passages) is a near duplicate, an excerpt or a container of the
    other; otherwise one reused part of the other."""
    shares = (sentences.explained, sentences.explained_by) if sentences else (0.0, 0.0)
    for this_share, match_share in (shares, coverage):
        if max(this_share, match_share) >= params.rewrite.min_explained:
            return relation_of(this_share, match_share, params.thresholds)
    return "partial"


def _strength(match: Match) -> float:
    """How much of either text the evidence that verified the pair explains."""
    if match.verified_by in ("reuse", "meaning") and match.sentences is not None:
        return max(match.sentences.explained, match.sentences.explained_by, *match.coverage)
    return max(match.scores.containment, match.scores.contained_by)
