"""The overall answer: the share of a text found in stored articles and the list of them,
computed once with the verdict, on every answer."""

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from dedup.config import Settings
from tests.conftest import REPO, login, make_key


def union(spans: list[tuple[int, int]]) -> int:
    total, reach = 0, 0
    for start, end in sorted(spans):
        start = max(start, reach)
        if end > start:
            total, reach = total + end - start, end
    return total


def evidence(match: dict[str, Any]) -> list[tuple[int, int]]:
    """The spans of the text a copy's evidence covers: passages, and for a rewrite or a
    translation (verified by the reuse model or by meaning) its paired sentences too."""
    quoted = match["evidence"]["passages"]
    if match["verified_by"] in ("reuse", "meaning"):
        quoted = quoted + match["evidence"]["sentence_pairs"]
    return [(q["start"], q["end"]) for q in quoted]


def test_a_text_made_of_two_stored_articles_names_both_with_its_share_in_each(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    first, second = bbc[350]["text"], bbc[351]["text"]
    ids = []
    for n, text in enumerate((first, second)):
        stored = api.post(
            "/v1/articles", json={"url": f"https://www.bbc.co.uk/sum/{n}", "text": text}
        )
        assert stored.status_code == 201
        ids.append(stored.json()["id"])
    mixed = first[: len(first) // 2] + "\n\n" + second[: len(second) // 3]
    answer = api.post("/v1/check", json={"url": "https://farm.example/mixed", "text": mixed}).json()
    summary = answer["summary"]
    assert sorted(s["id"] for s in summary["sources"]) == sorted(ids)
    assert [s["share"] for s in summary["sources"]] == sorted(
        (s["share"] for s in summary["sources"]), reverse=True
    )
    spans = [span for m in answer["matches"] if m["relation"] != "related" for span in evidence(m)]
    assert summary["share"] == round(union(spans) / len(mixed), 4)
    assert 0.5 < summary["share"] < 1.0  # most of it, not all: the join is no one's
    by_id = {m["id"]: m for m in answer["matches"]}
    for source in summary["sources"]:
        match = by_id[source["id"]]
        assert source["share"] == round(union(evidence(match)) / len(mixed), 4)
        assert (source["words"], source["copy_type"]) == (
            match["evidence"]["shared_words"],
            match["copy_type"],
        )


def test_an_article_found_nowhere_says_so_in_its_summary(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    answer = api.post("/v1/check", json={"url": "https://a.example/n", "text": bbc[352]["text"]})
    assert answer.json()["summary"] == {"share": 0.0, "sources": []}


def test_the_pages_open_with_the_summary_and_link_each_source_to_its_card(
    api: TestClient, bbc: list[dict[str, Any]], settings: Settings
) -> None:
    text = bbc[353]["text"]
    source = api.post("/v1/articles", json={"url": "https://www.bbc.co.uk/sum/p", "text": text})
    copy = api.post(
        "/v1/articles", json={"url": "https://farm.example/p", "text": "Admin\n\n" + text}
    )
    with TestClient(create_app(settings)) as pages:
        login(pages, make_key(settings, "check"))
        for path in (f"/articles/{copy.json()['id']}", f"/articles/{copy.json()['id']}/report"):
            html = pages.get(path).text
            assert html.index('id="summary"') < html.index('class="match"'), path  # first
            share = round(100 * copy.json()["summary"]["share"])
            assert f"<strong>{share}%</strong> of this text appears in 1 stored source" in html
            assert f'<tr data-source="{source.json()["id"]}">' in html
            assert '<a href="#match-0">bbc.co.uk</a>' in html


def test_no_two_passages_of_a_match_share_a_colour_and_each_is_numbered(
    api: TestClient, bbc: list[dict[str, Any]], settings: Settings
) -> None:
    words = bbc[354]["text"].split()
    # five words rewritten in every twenty: gaps too long to merge, so many passages
    edited = " ".join(f"new{n}" if n % 20 >= 15 else w for n, w in enumerate(words))
    api.post("/v1/articles", json={"url": "https://www.bbc.co.uk/sum/c", "text": " ".join(words)})
    copy = api.post("/v1/articles", json={"url": "https://farm.example/c", "text": edited}).json()
    with TestClient(create_app(settings)) as pages:
        login(pages, make_key(settings, "check"))
        html = pages.get(f"/articles/{copy['id']}").text
    card = html[html.index('class="match"') :]
    side = card[: card.index('data-side="theirs"')]  # this text's side of the first match
    marks = re.findall(r'<mark class="(p\d+)"(?: style="([^"]*)")? data-p="(\d+)"', side)
    looks = {int(n): (cls, style) for cls, style, n in marks}
    assert len(looks) > 8  # more passages than the palette has colours
    assert len(set(looks.values())) == len(looks)  # each its own class and colour
    badges = [int(b) for b in re.findall(r'<sup class="badge">(\d+)</sup>', side)]
    assert sorted(badges) == sorted(n + 1 for n in looks)  # each passage numbered once


def test_a_publisher_sees_where_its_article_was_copied_newest_first(
    api: TestClient, bbc: list[dict[str, Any]], settings: Settings
) -> None:
    text = bbc[355]["text"]
    original = api.post(
        "/v1/articles",
        json={
            "url": "https://www.bbc.co.uk/sum/o",
            "text": text,
            "published_at": "2005-01-01T08:00Z",
        },
    ).json()
    for n, hour in enumerate((10, 12)):
        api.post(
            "/v1/articles",
            json={
                "url": f"https://farm{n}.example/o",
                "text": "Source link\n" + text,
                "published_at": f"2005-01-01T{hour}:00Z",
            },
        )
    listed = api.get(f"/v1/articles/{original['id']}/copies").json()
    assert listed["total"] == 2
    assert [c["site"] for c in listed["copies"]] == ["farm1.example", "farm0.example"]
    assert {c["site_role"] for c in listed["copies"]} == {"undetermined"}  # one article each
    assert (
        api.get(f"/v1/articles/{original['id']}/copies?offset=1&limit=1").json()["copies"][0][
            "site"
        ]
        == "farm0.example"
    )
    with TestClient(create_app(settings)) as pages:
        login(pages, make_key(settings, "check"))
        html = pages.get(f"/articles/{original['id']}/copies").text
    rows = re.findall(r'<tr data-copy="(\d+)">', html)
    assert rows == [c["id"] for c in listed["copies"]]


METER = REPO.parent / "shared" / "corpus" / "meter-dev.jsonl"


def test_a_related_pair_says_in_a_sentence_what_it_shares_and_why_it_is_no_copy(
    api: TestClient,
) -> None:
    """A newspaper's own report of a court case beside the wire's (METER: written
    independently, quoting the same people)."""
    if not METER.exists():
        pytest.skip(f"METER dev file not found at {METER} (it lives in ../shared/corpus)")
    with METER.open(encoding="utf-8") as handle:
        rows = {r["id"]: r for r in map(json.loads, handle)}
    wire = rows["meter:PA/courts/02.11.99/boat/boat1"]["text"]
    paper = rows["meter:news/courts/02.11.99/boat/boat305_guardian"]["text"]
    api.post("/v1/articles", json={"url": "https://pa.example/boat1", "text": wire})
    answer = api.post(
        "/v1/check?include_related=true", json={"url": "https://paper.example/b", "text": paper}
    ).json()
    (related,) = [m for m in answer["matches"] if m["relation"] == "related"]
    why = related["explanation"]
    assert why.startswith("Related, not a copy: they share ")
    assert "as reports of one event do; neither is mostly inside the other" in why
    assert f"scores the pair {related['reuse']:.2f}, under its bar." in why


def test_an_article_page_places_its_original_and_copies_on_a_timeline(
    api: TestClient, bbc: list[dict[str, Any]], settings: Settings
) -> None:
    text = bbc[358]["text"]
    api.post(
        "/v1/articles",
        json={
            "url": "https://www.bbc.co.uk/t/1",
            "text": text,
            "published_at": "2005-01-01T08:00Z",
        },
    )
    copy = api.post(
        "/v1/articles",
        json={
            "url": "https://farm.example/t/1",
            "text": "Source link\n" + text,
            "published_at": "2005-01-03T08:00Z",
        },
    ).json()
    with TestClient(create_app(settings)) as pages:
        login(pages, make_key(settings, "check"))
        html = pages.get(f"/articles/{copy['id']}").text
    figure = html[html.index('<figure id="timeline"') : html.index("</figure>")]
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", figure)
    assert "bbc.co.uk (original)" in labels
    assert "farm.example (this)" in labels
