"""The REST contract on a real Redis."""

import random
from typing import Any

import redis
from fastapi.testclient import TestClient

from api.deps import INLINE_MAX_CHARS, runs_inline
from dedup.core.text import normalize
from dedup.eval.synthetic import spin
from dedup.services.input import ArticleIn
from tests.conftest import prefix_keys

WRAP = "Sponsor:  NEWS AI\nAdmin\n\n{}\n\nAdvertisement\n\nSource link"

URL = "https://www.example.com/a"


def post(api: TestClient, url: str, text: str, **extra: Any) -> Any:
    return api.post("/v1/articles", json={"url": url, "text": text, **extra})


def test_storing_an_article_answers_201_with_the_whole_contract(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    response = post(
        api,
        "https://www.bbc.co.uk/news/a",
        bbc[30]["text"],
        title="T",
        published_at="2005-01-03T08:00:00+01:00",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "url",
        "site",
        "title",
        "published_at",
        "first_seen_at",
        "word_count",
        "language",
        "meaning",
        "original",
        "matches",
        "unverified_candidates",
        "markers",
        "notes",
        "summary",
    }
    assert (body["language"], body["meaning"]) == ("en", None)
    assert body["unverified_candidates"] == 0
    assert body["site"] == "bbc.co.uk"
    assert body["published_at"] == "2005-01-03T07:00:00Z"
    assert body["original"]["id"] == body["id"]
    assert body["matches"] == []


def test_a_copy_gets_its_original_and_passages_with_offsets_into_both_texts(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    original_text = bbc[31]["text"]
    original = post(
        api, "https://www.bbc.co.uk/news/b", original_text, published_at="2005-01-03T08:00:00Z"
    ).json()
    copy_text = WRAP.format(original_text.replace("'", "’"))
    response = post(api, "https://farm.example/b", copy_text, published_at="2005-01-03T09:30:00Z")
    assert response.status_code == 201
    body = response.json()
    (match,) = body["matches"]
    assert set(match) == {
        "id",
        "url",
        "site",
        "title",
        "published_at",
        "first_seen_at",
        "relation",
        "language",
        "verified_by",
        "copy_type",
        "scores",
        "reuse",
        "coverage",
        "match_coverage",
        "evidence",
        "markers",
        "explanation",
    }
    assert match["explanation"] is None  # said of related pairs only
    assert (match["id"], match["relation"]) == (original["id"], "near_duplicate")
    assert match["copy_type"] == "scraped"  # chrome-wrapped, no credit
    assert match["verified_by"] == "shingles"
    assert match["reuse"] == 1.0  # a verbatim copy takes the fast exit
    assert match["coverage"] > 0.8
    assert match["match_coverage"] > 0.95
    assert set(match["scores"]) == {
        "jaccard",
        "containment",
        "contained_by",
        "simhash_distance",
        "skeleton_overlap",
        "sentences_explained",
        "sentences_explained_by",
        "sentence_order",
    }
    assert body["original"]["id"] == original["id"]
    assert body["original"]["site"] == "bbc.co.uk"
    assert body["original"]["reasons"][0].startswith(
        "bbc.co.uk was published 2005-01-03T08:00:00+00:00, 1.5 h before"
    )
    passages = match["evidence"]["passages"]
    assert match["evidence"]["shared_words"] == sum(p["words"] for p in passages)
    for p in passages:
        assert copy_text[p["start"] : p["end"]] == p["text"]
        assert normalize(p["text"]) == normalize(original_text[p["match_start"] : p["match_end"]])
    assert [m["kind"] for m in body["markers"]] == ["chrome", "byline", "chrome", "chrome"]
    assert match["evidence"]["sentence_pairs"] == []  # verbatim: the passages say it all


def test_the_same_url_and_text_again_is_200_and_stores_nothing(
    api: TestClient, bbc: list[dict[str, Any]], client_redis: redis.Redis, prefix: str
) -> None:
    first = post(api, "https://www.bbc.co.uk/news/c", bbc[32]["text"])
    before = prefix_keys(client_redis, prefix)
    again = post(api, "https://www.bbc.co.uk/news/c", bbc[32]["text"])
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["notes"] == []
    assert prefix_keys(client_redis, prefix) == before


def test_a_re_post_with_new_metadata_says_what_it_kept_and_what_it_ignored(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    url, text = "https://www.bbc.co.uk/news/m", bbc[33]["text"]
    first = api.post("/v1/articles", json={"url": url, "text": text, "title": "Old title"})
    again = api.post(
        "/v1/articles",
        json={"url": url, "text": text.replace("\n", "\r\n"), "title": "New title"},
    )
    assert (first.status_code, again.status_code) == (201, 200)
    stored = first.json()["id"]
    assert (again.json()["id"], again.json()["title"]) == (stored, "Old title")
    assert again.json()["notes"] == [
        f"this url and text were stored already as article {stored}; the stored article is "
        "kept and this request's title 'New title' (stored: 'Old title') ignored: DELETE "
        f"/v1/articles/{stored} first to store it with new metadata"
    ]


def test_the_same_url_with_another_text_is_409_naming_the_stored_id(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    first = post(api, "https://www.bbc.co.uk/news/d", bbc[33]["text"]).json()
    response = post(api, "https://www.bbc.co.uk/news/d", bbc[34]["text"])
    assert response.status_code == 409
    assert response.json() == {
        "error": "UrlConflict",
        "detail": f"url 'https://www.bbc.co.uk/news/d' is stored already (id {first['id']}) with a "
        f"different text; DELETE /v1/articles/{first['id']} first to replace it",
    }


def test_check_stores_nothing(
    api: TestClient, bbc: list[dict[str, Any]], client_redis: redis.Redis, prefix: str
) -> None:
    post(api, "https://www.bbc.co.uk/news/e", bbc[35]["text"])
    before = prefix_keys(client_redis, prefix)
    response = api.post(
        "/v1/check", json={"url": "https://farm.example/e", "text": WRAP.format(bbc[35]["text"])}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] is None
    assert [m["relation"] for m in body["matches"]] == ["near_duplicate"]
    assert prefix_keys(client_redis, prefix) == before


def test_check_of_html_uses_its_main_text_and_metadata(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    stored = post(api, "https://www.bbc.co.uk/news/f", bbc[36]["text"]).json()
    paragraphs = "".join(f"<p>{p}</p>" for p in bbc[36]["text"].split("\n\n"))
    page = (
        "<html><head><title>Copied story</title>"
        "<link rel='canonical' href='https://farm.example/f'></head>"
        "<body><nav><a href='/'>Home</a> | <a href='/world'>World</a></nav>"
        f"<article>{paragraphs}</article>"
        "<footer>© Farm Example. All rights reserved.</footer></body></html>"
    )
    response = api.post("/v1/check", json={"url": "https://farm.example/f?utm=x", "html": page})
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Copied story"
    # navigation and footer are dropped, so the main text is the stored text exactly
    assert [(m["id"], m["relation"]) for m in body["matches"]] == [(stored["id"], "duplicate")]


def test_long_texts_and_html_are_worked_on_in_the_thread_pool_with_the_same_answers(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    stored = post(api, "https://www.bbc.co.uk/news/long", bbc[41]["text"]).json()
    rest = [row["text"] for row in bbc[100:140]]
    long = "\n\n".join([bbc[41]["text"], *rest])
    assert len(long) > INLINE_MAX_CHARS
    assert not runs_inline(ArticleIn(url=URL, text=long))
    assert runs_inline(ArticleIn(url=URL, text=bbc[41]["text"]))
    assert not runs_inline(ArticleIn(url=URL, html=f"<p>{bbc[41]['text']}</p>"))
    response = api.post("/v1/check", json={"url": "https://digest.example/all", "text": long})
    assert response.status_code == 200
    assert [(m["id"], m["relation"]) for m in response.json()["matches"]] == [
        (stored["id"], "contains")
    ]


def test_get_returns_metadata_and_display_text(api: TestClient, bbc: list[dict[str, Any]]) -> None:
    text = "Admin\n\n" + bbc[37]["text"]
    stored = post(api, "https://www.farm.example/g", text, site="Farm.Example").json()
    body = api.get(f"/v1/articles/{stored['id']}").json()
    assert body["text"] == text
    assert (body["site"], body["url"]) == ("farm.example", "https://www.farm.example/g")
    assert body["markers"] == [
        {
            "kind": "byline",
            "label": "generic byline",
            "text": "Admin",
            "start": 0,
            "end": 5,
            "detail": None,
        }
    ]


def test_matches_are_recomputed_so_a_later_copy_shows_on_its_original(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    original = post(api, "https://www.bbc.co.uk/news/h", bbc[38]["text"]).json()
    copy = post(api, "https://farm.example/h", WRAP.format(bbc[38]["text"])).json()
    body = api.get(f"/v1/articles/{original['id']}/matches").json()
    assert [m["id"] for m in body["matches"]] == [copy["id"]]
    assert body["original"]["id"] == original["id"]


def test_delete_is_204_then_404_and_the_text_no_longer_matches(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    stored = post(api, "https://www.bbc.co.uk/news/i", bbc[39]["text"]).json()
    assert api.delete(f"/v1/articles/{stored['id']}").status_code == 204
    assert api.get(f"/v1/articles/{stored['id']}").status_code == 404
    assert api.delete(f"/v1/articles/{stored['id']}").status_code == 404
    check = api.post(
        "/v1/check", json={"url": "https://x.example/i", "text": bbc[39]["text"]}
    ).json()
    assert check["matches"] == []
    assert post(api, "https://www.bbc.co.uk/news/i", bbc[39]["text"]).status_code == 201


def test_healthz_reports_redis(api: TestClient) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "redis": "ok", "embedded": False}


def test_openapi_documents_every_route(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert set(paths) == {
        "/v1/articles",
        "/v1/articles/{article_id}",
        "/v1/articles/{article_id}/matches",
        "/v1/articles/{article_id}/copies",
        "/v1/check",
        "/v1/scans",
        "/v1/scans/{scan_id}",
        "/v1/scans/{scan_id}/results",
        "/v1/sites",
        "/v1/sites/{site}",
        "/v1/sites/{site}/{direction}",
        "/v1/webhooks",
        "/v1/webhooks/{hook_id}",
        "/v1/webhooks/{hook_id}/deliveries",
        "/v1/watched-sites",
        "/v1/watched-sites/{site}",
        "/v1/exclusions",
        "/v1/exclusions/sites",
        "/v1/exclusions/sites/{site}",
        "/v1/exclusions/phrases",
        "/v1/exclusions/phrases/{phrase_id}",
        "/metrics",
        "/healthz",
    }


def test_a_spun_copy_comes_with_sentence_pairs_partial_reuse_is_a_copy_and_related_only_on_request(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    text = bbc[33]["text"]
    source = post(api, "https://www.bbc.co.uk/news/s", text).json()
    spun, _ = spin(text, 0.3, random.Random(11))
    body = api.post("/v1/check", json={"url": "https://spin.example/s", "text": spun}).json()
    (match,) = body["matches"]
    assert (match["id"], match["verified_by"], match["copy_type"]) == (
        source["id"],
        "reuse",
        "spun",
    )
    assert match["scores"]["containment"] < 0.5 <= match["scores"]["sentences_explained"]
    for pair in match["evidence"]["sentence_pairs"]:
        assert spun[pair["start"] : pair["end"]] == pair["text"]

    paragraphs = text.split("\n\n")
    borrowed = bbc[301]["text"] + "\n\n" + "\n\n".join(paragraphs[:2])  # a third of it
    (part,) = api.post("/v1/check", json={"url": "https://o.example/p", "text": borrowed}).json()[
        "matches"
    ]
    assert (part["id"], part["relation"], part["copy_type"]) == (source["id"], "partial", "partial")
    assert 0.2 < part["coverage"] < 0.5
    assert 0.2 < part["match_coverage"] < 0.5
    one_sentence = paragraphs[1].split(". ")[0]
    item = {"url": "https://other.example/r", "text": bbc[301]["text"] + "\n\n" + one_sentence}
    assert api.post("/v1/check", json=item).json()["matches"] == []
    related = api.post("/v1/check?include_related=true", json=item).json()["matches"]
    assert [(m["id"], m["relation"], m["copy_type"]) for m in related] == [
        (source["id"], "related", None)
    ]
    wrong = api.post("/v1/check?include_related=perhaps", json=item)
    assert wrong.status_code == 422
    assert "include_related" in wrong.text
