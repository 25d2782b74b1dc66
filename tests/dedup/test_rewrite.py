"""Spun and paraphrased copies: the skeleton index finds them, sentence pairs verify them."""

import random
from typing import Any

import redis

from dedup.config import Settings
from dedup.core.rewrite import align_sentences
from dedup.core.text import normalize, tokenize
from dedup.eval.synthetic import paraphrase, spin
from dedup.services.detector import ArticleInput, Detector
from dedup.store import Store


def detector_with(client: redis.Redis, settings: Settings, name: str, **changes: Any) -> Detector:
    prefix = f"{settings.key_prefix}:{name}"
    tuned = settings.model_copy(update={"key_prefix": prefix, **changes})
    return Detector(Store(client, prefix), tuned)


def test_a_heavily_spun_copy_is_found_by_the_skeleton_and_verified_by_the_reuse_model(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    text = bbc[40]["text"]
    spun, share = spin(text, 0.3, random.Random(3))
    assert share > 0.2  # as many as the synonym table allows
    found = {}
    configurations: dict[str, dict[str, Any]] = {
        "all": {},
        "no-skeleton": {"skeleton_modulus": 0, "anchor_modulus": 0},
        "no-reuse": {"rewrite_verification": False},
    }
    for name, changes in configurations.items():
        detector = detector_with(client_redis, settings, name, **changes)
        source = detector.ingest(ArticleInput(url="https://www.bbc.co.uk/s", text=text))
        result = detector.check(ArticleInput(url="https://spinner.example/s", text=spun))
        found[name] = [(m.article.id, m.verified_by, m.copy_type) for m in result.matches]
        if name == "all":
            assert result.original.id == str(source.article.id)
    assert found["all"] == [(source.article.id, "reuse", "spun")]
    assert found["no-skeleton"] == []  # 5-gram LSH and SimHash alone miss it
    assert found["no-reuse"] == []  # and shingle containment alone rejects it


def test_a_paraphrase_is_a_paraphrased_copy_with_sentence_pairs_as_evidence(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    text = bbc[41]["text"]
    source = detector.ingest(ArticleInput(url="https://www.bbc.co.uk/p", text=text))
    rewritten = paraphrase(text, random.Random(5))
    result = detector.check(ArticleInput(url="https://farm.example/p", text=rewritten))
    (match,) = result.matches
    assert (match.article.id, match.copy_type) == (source.article.id, "paraphrased")
    assert match.sentences is not None
    assert match.sentences.order < 1.0  # the paraphraser swapped neighbouring sentences
    assert len(match.sentences.pairs) >= 5
    for pair in match.sentences.pairs:
        ours = set(normalize(rewritten[pair.start : pair.end]).split())
        theirs = set(normalize(text[pair.match_start : pair.match_end]).split())
        assert 2 * len(ours & theirs) / (len(ours) + len(theirs)) >= 0.5


def test_an_article_sharing_a_few_sentences_is_related_only_when_asked(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    first = bbc[42]["text"]
    source = detector.ingest(ArticleInput(url="https://www.bbc.co.uk/r", text=first))
    borrowed = " ".join(first.split("\n\n")[:1])  # the opening paragraph, quoted
    other = bbc[300]["text"] + "\n\n" + borrowed
    plain = detector.check(ArticleInput(url="https://other.example/r", text=other))
    asked = detector.check(ArticleInput(url="https://other.example/r", text=other), related=True)
    assert plain.matches == ()
    (match,) = asked.matches
    assert (match.article.id, match.relation, match.copy_type) == (
        source.article.id,
        "related",
        None,
    )
    assert asked.original.id == plain.original.id == ""  # the unstored query stays its own


def test_sentence_pairs_point_into_both_display_texts() -> None:
    this = "Shares in\u200b Acme fell 5% on Monday. The firm said sales rose.\n\nBye now."
    match = "The company said its sales rose. Shares in Acme dropped 5% on Monday."
    result = align_sentences(this, tokenize(this), match, tokenize(match), 0.5)
    spans = [(this[p.start : p.end], match[p.match_start : p.match_end]) for p in result.pairs]
    assert spans == [
        ("Shares in\u200b Acme fell 5% on Monday", "Shares in Acme dropped 5% on Monday"),
        ("The firm said sales rose", "The company said its sales rose"),
    ]
    assert result.order == 0.5
    assert result.explained < 1.0  # "Bye now." is too short to pair


def test_known_spun_phrases_are_unspun_before_shingling(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    extra = "\n\nThe Cold War still shapes the Middle East, a White House adviser said on Monday."
    original = bbc[43]["text"] + extra
    spun = original.replace("Cold War", "Chilly Battle").replace("Middle East", "Center East")
    spun = spun.replace("White House", "White Home")
    found = {}
    for switch in (True, False):
        detector = detector_with(client_redis, settings, f"u{switch}", spin_normalisation=switch)
        source = detector.ingest(ArticleInput(url="https://www.bbc.co.uk/u", text=original))
        result = detector.check(ArticleInput(url="https://spinner.example/u", text=spun))
        (match,) = result.matches
        assert match.article.id == source.article.id
        found[switch] = (match.relation, match.copy_type, match.scores.contained_by)
        if switch:
            assert [m.detail for m in result.markers] == ["Cold War", "Middle East", "White House"]
            longest = match.alignment.passages[0]
            assert "Chilly Battle" in spun[longest.start : longest.end]
    assert found[True] == ("duplicate", "spun", 1.0)  # the same text once unspun
    assert found[False][0] == "near_duplicate"
    assert found[False][2] < 1.0
