"""What an audit as an attacker and an operator found, kept fixed: user strings in key names,
lone surrogates, cross-site requests, NDJSON uploads, HTML isolation, uniform JSON errors."""

import json
import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from dedup.config import Settings
from dedup.store.keys import Keys
from tests.conftest import keyed_client, prefix_keys

SURROGATE = "\ud800"


def article(bbc: list[dict[str, Any]], n: int, url: str, **extra: str) -> dict[str, str]:
    return {"url": url, "text": bbc[n]["text"], **extra}


def test_a_site_name_cannot_write_into_another_sites_keys(
    api: TestClient, run_workers: Callable[[], None], bbc: list[dict[str, Any]]
) -> None:
    """`victim.example:lags` once wrote where victim.example's lag zset lives, and every
    read of the victim's figures failed with WRONGTYPE from then on."""
    assert (
        api.post("/v1/articles", json=article(bbc, 200, "https://victim.example/a")).status_code
        == 201
    )
    hostile = article(bbc, 201, "https://x.example/b", site="victim.example:lags")
    assert api.post("/v1/articles", json=hostile).status_code == 201
    assert (
        api.post(
            "/v1/articles", json=article(bbc, 202, "https://y.example/c", site="a|b{c}")
        ).status_code
        == 201
    )
    run_workers()  # the follow-ups count each article into its site
    victim = api.get("/v1/sites/victim.example")
    assert (victim.status_code, victim.json().get("articles")) == (200, 1), victim.text
    named = api.get("/v1/sites/victim.example:lags")
    assert (named.status_code, named.json()["articles"]) == (200, 1)
    listed = api.get("/v1/sites").json()
    assert sorted(s["site"] for s in listed["sites"]) == [
        "a|b{c}",
        "victim.example",
        "victim.example:lags",
    ]


@pytest.mark.parametrize("path", ["/v1/articles", "/v1/check"])
@pytest.mark.parametrize("field", ["text", "title", "site"])
def test_a_lone_surrogate_is_refused_with_where_it_is(
    api: TestClient,
    client_redis: redis.Redis,
    prefix: str,
    bbc: list[dict[str, Any]],
    path: str,
    field: str,
) -> None:
    body = article(bbc, 203, "https://a.example/s")
    body[field] = body.get(field, "") + f" bad {SURROGATE} end"
    # JSON's own escape: it passes any JSON parser, and breaks UTF-8 encoding afterwards
    raw = json.dumps(body).encode()
    assert b"\\ud800" in raw
    answer = api.post(path, content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith(f"{field}: ")
    # our own words, or pydantic's: it refuses them itself in fields with a length limit
    assert "an unpaired surrogate (U+D800)" in detail or "parse raw data as a unicode" in detail


def test_a_bad_line_in_a_scan_fails_that_line_only(
    api: TestClient, run_workers: Callable[[], None], bbc: list[dict[str, Any]]
) -> None:
    """A surrogate once crashed the store inside the chunk: six failed attempts, then a
    failed scan, and the good lines after it were never stored."""
    lines = [json.dumps(article(bbc, 210 + n, f"https://www.bbc.co.uk/l/{n}")) for n in range(5)]
    lines[1] = json.dumps(article(bbc, 230, "https://www.bbc.co.uk/bad", title=f"x{SURROGATE}"))
    created = api.post(
        "/v1/scans",
        content="\n".join(lines).encode(),
        headers={"content-type": "application/x-ndjson"},
    )
    assert created.status_code == 202
    run_workers()
    state = api.get(f"/v1/scans/{created.json()['id']}").json()
    assert (state["status"], state["stored"], state["failed"]) == ("done", 4, 1)
    items = api.get(f"/v1/scans/{created.json()['id']}/results").json()["items"]
    assert items[1]["error"].startswith("title: ")
    assert (items[0]["error"], items[2]["error"]) == (None, None)


def test_a_body_that_is_not_json_is_415_so_a_page_cannot_post_it_cross_site(
    api: TestClient, client_redis: redis.Redis, prefix: str
) -> None:
    """A web page may send a text/plain POST to any origin without a CORS preflight: the
    scan endpoint once parsed it as JSON and queued a scan."""
    body = json.dumps({"articles": [{"url": "https://a.example/x", "text": "word " * 40}]})
    before = prefix_keys(client_redis, prefix)  # the test's API key
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""):
        headers = {"content-type": kind} if kind else {}
        for path in ("/v1/scans", "/v1/articles", "/v1/check"):
            answer = api.post(path, content=body, headers=headers)
            assert (answer.status_code, answer.json()["error"]) == (415, "UnsupportedMediaType")
    assert prefix_keys(client_redis, prefix) == before
    assert api.put("/v1/check").json()["error"] == "MethodNotAllowed"


def test_only_trusted_hosts_are_answered_and_no_origin_is_trusted_by_default(
    api: TestClient, settings: Settings
) -> None:
    assert api.get("/healthz", headers={"host": "evil.example"}).status_code == 400
    assert api.get("/healthz", headers={"host": "localhost:8000"}).status_code == 200
    assert api.get("/healthz", headers={"host": "[::1]:8000"}).status_code == 200
    default = Settings(redis_url=settings.redis_url, key_prefix=settings.key_prefix)
    assert default.trusted_host_list == ("localhost", "127.0.0.1", "::1")
    answer = api.get("/healthz", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers
    preflight = api.options(
        "/v1/articles",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_configured_origins_may_call_from_a_browser(settings: Settings) -> None:
    tuned = settings.model_copy(update={"cors_origins": "https://tools.example.com"})
    with keyed_client(tuned) as api:
        allowed = api.get("/healthz", headers={"origin": "https://tools.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://tools.example.com"
        other = api.get("/healthz", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


@pytest.fixture
def small_lines(settings: Settings) -> Iterator[TestClient]:
    tuned = settings.model_copy(update={"max_line_bytes": 5_000, "max_scan_bytes": 200_000})
    with keyed_client(tuned) as api:
        yield api


def test_an_ndjson_line_over_its_limit_is_a_failed_item_and_the_upload_goes_on(
    small_lines: TestClient, run_workers: Callable[[], None], bbc: list[dict[str, Any]]
) -> None:
    good = json.dumps({"url": "https://www.bbc.co.uk/n/1", "text": bbc[240]["text"][:3000]})
    endless = b"x" * 150_000  # no newline anywhere: once held whole, and re-split per piece
    upload = good.encode() + b"\n" + b"y" * 6_000 + b"\n" + good.replace("/1", "/2").encode()
    created = small_lines.post(
        "/v1/scans",
        content=upload + b"\n" + endless,
        headers={"content-type": "application/x-ndjson"},
    )
    assert created.status_code == 202
    assert created.json()["total"] == 4
    run_workers()
    items = small_lines.get(f"/v1/scans/{created.json()['id']}/results").json()["items"]
    assert [(i["line"], i["error"]) for i in items] == [
        (1, None),
        (2, "line is over 5000 bytes (DEDUP_MAX_LINE_BYTES)"),
        (3, None),
        (4, "line is over 5000 bytes (DEDUP_MAX_LINE_BYTES)"),
    ]
    too_big = small_lines.post(
        "/v1/scans", content=b"z" * 300_000, headers={"content-type": "application/x-ndjson"}
    )
    assert (too_big.status_code, too_big.json()["error"]) == (413, "ScanTooLarge")


def test_one_clients_hostile_pages_do_not_fail_another_clients_pages(
    settings: Settings,
) -> None:
    """One process extracted every page, and a timeout killed it with other requests' pages
    in it: 6 of 7 ordinary pages failed next to a client looping on a hostile one."""
    tuned = settings.model_copy(
        update={"html_timeout_seconds": 2.0, "html_workers": 2, "max_body_bytes": 5_000_000}
    )
    hostile = "<p " + " ".join(f"a{i}='v'" for i in range(200_000)) + ">hello</p>"
    page = (
        "<html><body><article><p>"
        + "The talks ended without a deal. " * 10
        + "</p></article></body></html>"
    )
    answers: list[int] = []
    with keyed_client(tuned) as api:

        def attack() -> None:
            answers.append(
                api.post(
                    "/v1/check", json={"url": "https://a.example/h", "html": hostile}
                ).status_code
            )

        attacker = threading.Thread(target=attack)
        attacker.start()
        ordinary = [
            api.post("/v1/check", json={"url": f"https://b.example/{n}", "html": page}).status_code
            for n in range(4)
        ]
        attacker.join()
    assert ordinary == [200, 200, 200, 200]
    assert answers == [422]


def test_every_error_is_json_and_a_bug_is_a_500_with_its_request_id(
    api: TestClient,
    client_redis: redis.Redis,
    settings: Settings,
    bbc: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert api.get("/nowhere").json() == {
        "error": "NotFound",
        "detail": "no such route: GET /nowhere (see /docs)",
    }
    assert api.delete("/v1/check").json()["error"] == "MethodNotAllowed"
    deep = api.post(
        "/v1/check",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={"content-type": "application/json"},
    )
    assert (deep.status_code, deep.json()["error"]) == (400, "InvalidBody")
    stored = api.post("/v1/articles", json=article(bbc, 250, "https://www.bbc.co.uk/z")).json()
    # A damaged record (its text is not zlib any more): reading it is a bug's path, not a 4xx.
    key = Keys(settings.key_prefix).article(int(stored["id"]))
    client_redis.hset(key, "text", b"not zlib")
    with caplog.at_level(logging.ERROR, logger="dedup.api"):
        broken = api.get(f"/v1/articles/{stored['id']}", headers={"x-request-id": "audit-42"})
    assert broken.status_code == 500
    assert broken.headers["x-request-id"] == "audit-42"
    assert broken.json() == {
        "error": "InternalError",
        "detail": "an unexpected error; it is logged as [audit-42]: retry, or report the id",
        "request_id": "audit-42",
    }
    assert any(getattr(r, "request_id", None) == "audit-42" and r.exc_info for r in caplog.records)
    assert zlib  # the damage above is what zlib cannot read
    assert api.get("/healthz").status_code == 200  # the service stays up


def test_every_answer_carries_a_request_id(api: TestClient, tmp_path: Path) -> None:
    first, second = api.get("/healthz"), api.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    kept = api.get("/healthz", headers={"x-request-id": "mine-1"})
    assert kept.headers["x-request-id"] == "mine-1"
    replaced = api.get("/healthz", headers={"x-request-id": "no spaces allowed"})
    assert replaced.headers["x-request-id"] != "no spaces allowed"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/articles/1", "DELETE, GET"),  # two routes of one path, both listed
        ("POST", "/v1/sites", "GET"),
        ("DELETE", "/v1/check", "POST"),
    ],
)
def test_a_method_a_path_does_not_take_is_405_with_every_method_it_takes(
    api: TestClient, method: str, path: str, allow: str
) -> None:
    for headers in ({"content-type": "application/json"}, {"content-type": "text/plain"}, {}):
        answer = api.request(method, path, content=b"x", headers=headers)
        assert (answer.status_code, answer.headers["allow"]) == (405, allow), headers
        assert answer.json()["error"] == "MethodNotAllowed"
    assert api.post("/nowhere", content=b"x").status_code == 404  # not 415 either


def test_the_schemas_own_examples_are_taken(api: TestClient) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    (example,) = schemas["ArticleIn"]["examples"]
    assert api.post("/v1/check", json=example).status_code == 200
    rules = {k: v.get("description", "") for k, v in schemas["ArticleIn"]["properties"].items()}
    assert "at least DEDUP_MIN_WORDS words" in rules["text"]
    assert "an absolute http or https url with a host" in rules["url"]
    assert "no control characters" in rules["site"]


def test_a_text_over_the_work_budget_is_refused_with_the_setting_named(api: TestClient) -> None:
    text = "The council met again. " * 5000  # 115,000 characters, inside the body limit
    answer = api.post("/v1/check", json={"url": "https://a.example/long", "text": text})
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "the text is 115,000 characters, over the 100,000-character budget of one article "
        "(DEDUP_MAX_TEXT_CHARS); split it, or raise the setting"
    )
