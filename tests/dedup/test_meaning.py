"""The one-language meaning tier: a grey pair (some shared wording, not a copy by the word
rules) is weighed by its sentences' meaning, with the real sentence encoder and a real Redis.

The texts were written for this test: a report, a light revision of it (each sentence
reworded, in order: ~12% of its word 3-grams shared) and an independent report from the same
village. The shipped word rules already find this revision (its sentences keep their content
words), so the tier is tested on its own: with the word rules held at a bar no pair reaches
(an operator's DEDUP_MIN_REUSE=0.99), only the tier can link the revision.
"""

from typing import Any

from dedup.services.detector import ArticleInput, Detector

SOURCE = (
    (
        "The regional water authority announced on Monday that it will build a new reservoir "
        "near the village of Harrowby. The reservoir is meant to hold enough water for two "
        "hundred thousand homes during a dry summer. Engineers expect the work to take four "
        "years and to cost roughly ninety million pounds. Farmers whose fields will be flooded "
        "are to be offered land elsewhere in the valley or a cash settlement. Local campaigners "
        "said the plan ignored cheaper ways of saving water, such as repairing leaking pipes. "
        "The authority replied that leaks had already been cut by a fifth since last year. "
        "A public consultation will open next month and run until the end of the spring. "
        "If the plan is approved, the first water could be stored before the end of the decade."
    )
    + " "
    + (
        "The valley has been discussed as a site for a reservoir since the drought of 1976, when "
        "standpipes were set up in the streets of nearby towns. Two earlier proposals were "
        "abandoned after the costs rose and the government of the day withdrew its support. "
        "This time the authority says it has the money in place, largely from a rise in bills "
        "that customers began paying in April. Ecologists have asked for a survey of the otters "
        "and kingfishers that live along the river before any digging begins. The authority said "
        "such a survey was already planned and that a new wetland would be created downstream to "
        "make up for the habitat lost under the water. Walkers will keep a path along the northern "
        "shore, and a small visitor centre is planned near the dam."
    )
)
REVISED = (
    (
        "On Monday the regional water board said it would construct a fresh reservoir close to "
        "Harrowby village. The new reservoir should store sufficient water for two hundred "
        "thousand households through a dry summer. According to engineers, the job will last "
        "four years and cost about ninety million pounds. Farmers who lose fields to the "
        "flooding will be given land somewhere else in the valley or paid compensation. "
        "Campaigners in the area argued that the scheme overlooked cheaper methods of conserving "
        "water, for instance fixing pipes that leak. In response the board said leakage had "
        "fallen by a fifth since last year. A consultation with the public starts next month "
        "and lasts until spring ends. Should the scheme be approved, water might first be held "
        "there before the decade is over."
    )
    + " "
    + (
        "The valley has been talked about as a reservoir site ever since the 1976 drought, when "
        "standpipes appeared on the streets of towns close by. Two previous schemes were dropped "
        "once costs climbed and the government of that time pulled its backing."
    )
)
INDEPENDENT = (
    "Residents of Harrowby packed the village hall on Monday evening to hear about the "
    "water authority's reservoir. Many of them had learned about the scheme from the local "
    "radio rather than from the authority itself. One farmer said his family had worked the "
    "same fields for five generations and would not sell. Others welcomed the prospect of "
    "new jobs during construction and a lake for walkers. A spokesman for the authority "
    "promised that every household would receive a letter within a fortnight. The parish "
    "council will meet again next week to agree its formal response to the consultation."
)


def strict(detector: Detector, **changes: Any) -> Detector:
    """The detector with the meaning tier on (DEDUP_MEANING) and the reuse rule out of reach."""
    settings = detector.settings.model_copy(update={"min_reuse": 0.99, "meaning": True, **changes})
    return Detector(detector.store, settings)


def matches_of(detector: Detector, text: str) -> list[Any]:
    detector.ingest(ArticleInput(url="https://water.example/reservoir", text=SOURCE))
    result = detector.check(ArticleInput(url="https://other.example/story", text=text))
    return [m for m in result.matches if m.is_copy]


def test_a_light_revision_the_word_rules_miss_is_a_copy_by_meaning(detector: Detector) -> None:
    (match,) = matches_of(strict(detector), REVISED)
    assert match.verified_by == "meaning"
    assert match.sentences is not None
    pairs = match.sentences.pairs
    assert len(pairs) >= 8  # each reworded sentence against the one it rewords, in order
    assert all(p.similarity >= detector.settings.meaning_min_similarity for p in pairs)
    first = pairs[0]
    assert REVISED[first.start : first.end].startswith("On Monday the regional water board")
    assert SOURCE[first.match_start : first.match_end].startswith("The regional water authority")


def test_with_the_tier_off_the_same_revision_is_not_linked(detector: Detector) -> None:
    assert matches_of(strict(detector, meaning=False), REVISED) == []


def test_an_independent_report_of_the_same_story_is_not_a_copy_by_meaning(
    detector: Detector,
) -> None:
    assert matches_of(strict(detector), INDEPENDENT) == []


def test_the_tier_weighs_no_pair_below_its_floor(detector: Detector) -> None:
    assert matches_of(strict(detector, meaning_floor=0.5), REVISED) == []
