"""The use cases on a real Redis with real article text."""

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from dedup.config import Settings
from dedup.core.article import Article
from dedup.core.candidates import budget
from dedup.core.derived import DerivedCache
from dedup.core.fingerprint import fingerprint, skeleton_set_of
from dedup.core.text import normalize
from dedup.core.verification import verify
from dedup.errors import ArticleNotFound, IndexMismatch, InvalidArticle, UrlConflict
from dedup.services.detector import ArticleInput, Detector
from dedup.store import Store
from dedup.store.codecs import IndexEntries, epoch_seconds
from tests.conftest import prefix_keys, seed_text

CHROME_TOP = "Sponsor:  NEWS AI: Interactive Knowledge.\nAdmin\n\n"
CHROME_BOTTOM = "\n\nAdvertisement\n\nSource link\n\nTags: Economy, Markets, World, Business"


def store(d: Detector, url: str, text: str, **extra: Any):  # type: ignore[no-untyped-def]
    return d.ingest(ArticleInput(url=url, text=text, **extra))


def edit_words(text: str, every: int, seed: int = 7) -> str:
    """Replace every n-th word with another word (a light edit)."""
    rng = random.Random(seed)
    words = text.split(" ")
    for i in range(every // 2, len(words), every):
        words[i] = rng.choice(["notably", "reportedly", "meanwhile", "indeed", "however"])
    return " ".join(words)


def test_chrome_wrapped_copy_links_to_its_original(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    original = store(
        detector,
        "https://www.bbc.co.uk/news/1",
        bbc[10]["text"],
        published_at=datetime(2005, 1, 3, 8, tzinfo=UTC),
    )
    copy = store(detector, "https://farm.example/a", CHROME_TOP + bbc[10]["text"] + CHROME_BOTTOM)
    (match,) = copy.matches
    assert match.article.id == original.article.id
    assert match.relation == "near_duplicate"
    assert match.scores.contained_by == 1.0
    assert copy.original.id == str(original.article.id)
    assert copy.original.confidence >= 0.9
    assert "farm.example carries aggregator chrome" in " ".join(copy.original.reasons)


def test_excerpt_is_found_inside_its_source(detector: Detector, bbc: list[dict[str, Any]]) -> None:
    text = bbc[11]["text"]
    source = store(detector, "https://www.bbc.co.uk/news/2", text)
    cut = text[: int(len(text) * 0.75)].rsplit(" ", 1)[0]  # whole words
    result = detector.check(ArticleInput(url="https://excerpts.example/x", text=cut))
    (match,) = result.matches
    assert (match.article.id, match.relation) == (source.article.id, "excerpt")
    assert match.scores.containment == 1.0
    assert result.original.id == str(source.article.id)


def test_lightly_edited_copy_is_a_near_duplicate(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    source = store(detector, "https://www.bbc.co.uk/news/3", bbc[12]["text"])
    edited = edit_words(bbc[12]["text"], every=25)
    result = detector.check(ArticleInput(url="https://rewrite.example/y", text=edited))
    (match,) = result.matches
    assert (match.article.id, match.relation) == (source.article.id, "near_duplicate")
    assert 0.5 < match.scores.containment < 1.0


def test_independent_articles_of_the_same_category_are_not_copies(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    politics = [r for r in bbc if r["meta"]["category"] == "politics"][:60]
    for i, row in enumerate(politics[:40]):
        store(detector, f"https://paper{i % 5}.example/{i}", row["text"])
    for row in politics[40:]:
        assert (
            detector.check(ArticleInput(url="https://other.example/z", text=row["text"])).matches
            == ()
        )


def test_the_corpus_own_twins_are_reported_as_duplicates(
    detector: Detector, bbc_twins: list[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    for first, second in bbc_twins[:10]:
        stored = store(detector, f"https://bbc.example/{first['id']}", first["text"])
        result = detector.check(ArticleInput(url="https://mirror.example/x", text=second["text"]))
        assert [(m.article.id, m.relation) for m in result.matches] == [
            (stored.article.id, "duplicate")
        ]


def test_reingesting_the_same_url_and_text_stores_nothing(
    detector: Detector, bbc: list[dict[str, Any]], client_redis: redis.Redis, prefix: str
) -> None:
    first = store(detector, "https://www.bbc.co.uk/news/4", bbc[13]["text"])
    before = prefix_keys(client_redis, prefix)
    again = store(detector, "https://www.bbc.co.uk/news/4", bbc[13]["text"])
    assert (first.created, again.created) == (True, False)
    assert again.article.id == first.article.id
    assert prefix_keys(client_redis, prefix) == before


def test_the_same_url_with_another_text_is_a_conflict(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    first = store(detector, "https://www.bbc.co.uk/news/5", bbc[14]["text"])
    with pytest.raises(UrlConflict, match="stored already") as caught:
        store(detector, "https://www.bbc.co.uk/news/5", bbc[15]["text"])
    assert caught.value.existing_id == str(first.article.id)


def test_a_copy_stored_later_shows_up_on_its_original(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    original = store(detector, "https://www.bbc.co.uk/news/6", bbc[16]["text"])
    copy = store(detector, "https://farm.example/6", CHROME_TOP + bbc[16]["text"])
    result = detector.matches(str(original.article.id))
    assert [m.article.id for m in result.matches] == [copy.article.id]
    assert result.original.id == str(original.article.id)


def test_delete_removes_the_article_from_every_index(
    detector: Detector, bbc: list[dict[str, Any]], client_redis: redis.Redis, prefix: str
) -> None:
    store(detector, "https://www.bbc.co.uk/news/7", bbc[17]["text"])
    before = prefix_keys(client_redis, prefix)
    doomed = store(detector, "https://farm.example/7", bbc[18]["text"])
    detector.delete(str(doomed.article.id))
    after = {
        k: v for k, v in prefix_keys(client_redis, prefix).items() if not k.endswith(b":next_id")
    }
    assert after == {k: v for k, v in before.items() if not k.endswith(b":next_id")}
    with pytest.raises(ArticleNotFound):
        detector.get(str(doomed.article.id))
    assert (
        detector.check(ArticleInput(url="https://x.example/", text=bbc[18]["text"])).matches == ()
    )


def test_too_short_text_says_how_short_and_the_minimum(detector: Detector) -> None:
    with pytest.raises(InvalidArticle, match="text has 3 words after normalisation; at least 20"):
        detector.check(ArticleInput(url="https://a.example/", text="Far too short."))


def test_index_built_with_other_parameters_is_refused(
    client_redis: redis.Redis,
    settings: Settings,
    detector: Detector,
    bbc: list[dict[str, Any]],
) -> None:
    store(detector, "https://www.bbc.co.uk/news/8", bbc[19]["text"])
    other = Detector(
        Store(client_redis, settings.key_prefix), settings.model_copy(update={"num_perm": 64})
    )
    with pytest.raises(IndexMismatch, match="num_perm is 128 in the index but 64 now"):
        other.check(ArticleInput(url="https://a.example/", text=bbc[20]["text"]))


def test_a_third_reused_verbatim_is_partial_reuse_and_below_the_shingle_bar(
    bbc: list[dict[str, Any]],
) -> None:
    base = bbc[21]["text"]
    third_shared = base[: len(base) // 3] + " " + bbc[22]["text"]
    params = Settings(min_containment=0.5).match_params()
    this = fingerprint(base, params.fingerprint)

    def candidate(text: str) -> Article:
        created = datetime(2025, 1, 1, tzinfo=UTC)
        return Article(
            1, "https://c.example/", "c.example", None, None, created, None, text, b"", 0, ()
        )

    (found,) = verify(base, this, [candidate(third_shared)], params)
    assert (found.relation, found.verified_by) == ("partial", "reuse")
    assert min(found.coverage) > 0.3
    assert max(found.coverage) < 0.5
    passage = found.alignment.passages[0]
    assert normalize(base[passage.start : passage.end]) == normalize(
        third_shared[passage.match_start : passage.match_end]
    )
    shingles_only = Settings(min_containment=0.5, rewrite_verification=False).match_params()
    assert verify(base, this, [candidate(third_shared)], shingles_only) == []
    assert verify(base, this, [candidate(bbc[22]["text"])], params) == []  # nothing shared


def test_a_short_excerpt_is_found_through_the_anchor_path(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    text = max(bbc[200:260], key=lambda r: len(r["text"]))["text"]  # a long article
    cut = " ".join(text.split(" ")[: len(text.split(" ")) // 4])  # its first quarter
    found = {}
    for modulus in (24, 0):
        prefix = f"{settings.key_prefix}:m{modulus}"
        changes: dict[str, Any] = {"anchor_modulus": modulus, "key_prefix": prefix}
        if not modulus:  # nor the skeleton and its name pairs, which find it too
            changes["skeleton_modulus"] = 0
        tuned = settings.model_copy(update=changes)
        detector = Detector(Store(client_redis, prefix), tuned)
        source = detector.ingest(ArticleInput(url="https://www.bbc.co.uk/long", text=text))
        result = detector.check(ArticleInput(url="https://quotes.example/q", text=cut))
        found[modulus] = [(m.article.id, m.relation) for m in result.matches]
    assert found[24] == [(source.article.id, "excerpt")]
    assert found[0] == []  # LSH alone does not see a 25% excerpt


def verifying_four(client: redis.Redis, settings: Settings) -> Detector:
    """A detector that verifies at most four candidates a query."""
    tuned = settings.model_copy(update={"max_verified": 4})
    return Detector(Store(client, settings.key_prefix), tuned)


def test_a_story_copied_many_times_verifies_a_few_copies_and_still_finds_its_original(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    detector = verifying_four(client_redis, settings)
    text = bbc[40]["text"]
    original = store(
        detector,
        "https://www.bbc.co.uk/wire",
        text,
        published_at=datetime(2005, 1, 1, 8, tzinfo=UTC),
    )
    for n in range(14):  # the same scraped page on 14 farms, all later
        store(
            detector,
            f"https://farm{n}.example/copy",
            CHROME_TOP + text + CHROME_BOTTOM,
            published_at=datetime(2005, 1, 1, 9 + n % 10, tzinfo=UTC),
        )
    checked = detector.check(
        ArticleInput(url="https://new.example/x", text=CHROME_TOP + text + CHROME_BOTTOM)
    )
    assert len(checked.matches) == 4
    assert checked.unverified == 15 - 4
    assert checked.original.id == str(original.article.id)  # the earliest is always verified
    assert str(original.article.id) in {str(m.article.id) for m in checked.matches}


def store_seeds_and(
    detector: Detector, rows: list[dict[str, Any]]
) -> tuple[list[str], list[Article]]:
    """The five seed texts and these rows' texts, stored: the texts and their records."""
    texts = [seed_text(name) for name in ("000", "001", "002", "003", "004")]
    texts += [row["text"] for row in rows]
    ids = [
        store(detector, f"https://paper.example/{n}", text).article.id
        for n, text in enumerate(texts)
    ]
    records = [r for r in detector.store.fetch(ids) if r is not None]
    assert len(records) == len(texts)
    return texts, records


def test_stored_skeleton_grams_verify_as_the_text_own_do(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    texts, records = store_seeds_and(detector, bbc[30:55])
    for record in records:
        assert record.skeleton_set == tuple(skeleton_set_of(record.text).tolist())
    from_text = [replace(r, skeleton_set=None) for r in records]
    params = detector.params
    gated = 0
    edited = [edit_words(text, 2) for text in texts[5:10]]  # shingles fail, names stay
    for text in texts[:10] + edited:
        this = fingerprint(text, params.fingerprint)
        stored = verify(text, this, records, params, related=True)
        recomputed = verify(text, this, from_text, params, related=True)
        assert [replace(m, article=from_text[0]) for m in stored] == [
            replace(m, article=from_text[0]) for m in recomputed
        ]
        assert [m.article.id for m in stored] == [m.article.id for m in recomputed]
        gated += sum(m.scores.skeleton_overlap > 0 for m in stored)
    assert gated > 0  # some pairs were weighed by their names, not only their shingles


def test_verifying_from_the_cache_gives_what_verifying_afresh_gives(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    texts, records = store_seeds_and(detector, bbc[60:80])
    params = detector.params
    cache = DerivedCache(len(records))
    queries = texts[:8] + [edit_words(text, 2) for text in texts[5:9]]
    verified = 0
    for _ in range(2):  # the first round fills the cache, the second reads it
        for text in queries:
            this = fingerprint(text, params.fingerprint)
            fresh = verify(text, this, records, params, related=True)
            assert verify(text, this, records, params, related=True, cache=cache) == fresh
            verified += len(fresh)
    assert len(cache) == len(records)
    assert verified > len(queries)  # copies, rewrites and related pairs were verified

    changed = replace(records[0], text=texts[1], digest=records[1].digest)  # same id, new text
    assert cache.of(changed).text == texts[1]  # a stale entry is worked out anew


def test_the_cache_keeps_the_most_recently_used_articles(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    ids = [
        store(detector, f"https://paper.example/{n}", bbc[n]["text"]).article.id for n in range(4)
    ]
    records = [r for r in detector.store.fetch(ids) if r is not None]
    cache = DerivedCache(2)
    first = cache.of(records[0])
    cache.of(records[1])
    assert cache.of(records[0]) is first  # used again: now the most recent
    cache.of(records[2])  # pushes out records[1], the least recently used
    assert (records[0].id in cache, records[1].id in cache, records[2].id in cache) == (
        True,
        False,
        True,
    )
    assert cache.of(records[0]) is first
    none = DerivedCache(0)
    assert none.of(records[0]) is not none.of(records[0])
    assert len(none) == 0


def test_the_budget_takes_dates_the_lookup_brought_and_reads_only_the_others(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    detector = verifying_four(client_redis, settings)
    day = datetime(2005, 3, 1, tzinfo=UTC)
    ids = [
        store(
            detector,
            f"https://paper.example/{n}",
            row["text"],
            published_at=day + timedelta(days=10 - n),
        ).article.id  # later stored, earlier out
        for n, row in enumerate(bbc[60:70])
    ]
    ranked = list(ids)  # as rank would rank them: the first two are the nearest
    read: list[list[int]] = []

    def dates(asked: list[int]) -> list[int | None]:
        read.append(asked)
        return detector.store.dates(asked)

    chosen, left = budget(ranked, {}, 4, dates)
    assert chosen == [*ids[:2], ids[9], ids[8]]  # then the two published earliest, read
    assert left == 6
    assert read == [ids[2:]]
    # A date the lookup brought is used as it is, without reading that record.
    claimed = {ids[3]: epoch_seconds(day - timedelta(days=30))}
    chosen, _ = budget(ranked, claimed, 4, dates)
    assert chosen == [*ids[:2], ids[3], ids[9]]
    assert ids[3] not in read[-1]


def test_a_backfilled_original_stored_after_its_copies_is_still_found(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    detector = verifying_four(client_redis, settings)
    text = bbc[41]["text"]
    for n in range(12):  # scraped copies stored first, published after the original
        store(
            detector,
            f"https://farm{n}.example/copy",
            CHROME_TOP + text + CHROME_BOTTOM,
            published_at=datetime(2005, 1, 2, n, tzinfo=UTC),
        )
    original = store(
        detector,
        "https://www.bbc.co.uk/archive",
        text,
        published_at=datetime(2005, 1, 1, 8, tzinfo=UTC),
    )
    checked = detector.check(
        ArticleInput(url="https://new.example/y", text=CHROME_TOP + text + CHROME_BOTTOM)
    )
    assert checked.unverified == 13 - 4
    assert checked.original.id == str(original.article.id)
    found = fingerprint(text, detector.params.fingerprint)
    lookup = detector.store.lookup(None, IndexEntries(found.buckets, found.simhash))
    published = datetime(2005, 1, 1, 8, tzinfo=UTC)
    assert lookup.near_times[original.article.id] == epoch_seconds(published)  # from the index
