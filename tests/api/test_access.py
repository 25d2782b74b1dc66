"""API keys, scopes and quotas over HTTP (the app on a real Redis)."""

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.main import create_app
from dedup.cli import main
from dedup.config import Settings
from tests.conftest import bearer, make_key

ARTICLE = {"url": "https://a.example/1", "text": " ".join(f"word{i}" for i in range(60))}


@pytest.fixture
def bare(settings: Settings) -> Iterator[TestClient]:
    """The app with auth on (the default) and no key on the client."""
    with TestClient(create_app(settings)) as client:
        yield client


def error(answer: Any) -> tuple[int, str, str]:
    body = answer.json()
    return answer.status_code, body["error"], body["detail"]


def test_a_request_without_a_valid_key_is_401_saying_what_to_send(bare: TestClient) -> None:
    missing = bare.post("/v1/check", json=ARTICLE)
    assert error(missing) == (
        401,
        "Unauthorized",
        "this request needs an API key: send 'Authorization: Bearer <key>' (an admin makes "
        "keys with `dedup keys create`)",
    )
    assert missing.headers["www-authenticate"] == 'Bearer realm="dedup"'
    assert error(bare.get("/v1/sites", headers={"Authorization": "Basic abc"}))[2] == (
        "send the API key as 'Authorization: Bearer <key>'"
    )
    assert "not a dedup API key" in error(bare.get("/v1/sites", headers=bearer("nope")))[2]
    unknown = bearer("dedup_" + "A" * 43)
    assert error(bare.get("/v1/sites", headers=unknown))[2].startswith(
        "this API key is not known here (revoked, or mistyped)"
    )
    assert bare.get("/healthz").status_code == 200  # probes need no key
    assert bare.get("/openapi.json").status_code == 200


def test_each_scope_opens_its_routes_and_no_other(bare: TestClient, settings: Settings) -> None:
    check, ingest, delete = (bearer(make_key(settings, s)) for s in ("check", "ingest", "delete"))
    assert bare.post("/v1/check", json=ARTICLE, headers=check).status_code == 200
    assert bare.get("/v1/sites", headers=check).status_code == 200
    refused = bare.post("/v1/articles", json=ARTICLE, headers=check)
    assert error(refused)[:2] == (403, "Forbidden")
    assert error(refused)[2].endswith("this request needs 'ingest': use a key with that scope")
    stored = bare.post("/v1/articles", json=ARTICLE, headers=ingest)
    assert stored.status_code == 201
    path = f"/v1/articles/{stored.json()['id']}"
    assert bare.delete(path, headers=ingest).status_code == 403
    assert bare.delete(path, headers=check).status_code == 403
    assert bare.get("/metrics", headers=ingest).status_code == 403
    assert bare.get("/v1/webhooks", headers=delete).status_code == 403
    assert bare.delete(path, headers=delete).status_code == 204
    admin = bearer(make_key(settings, "admin"))  # admin may do everything
    assert bare.post("/v1/articles", json=ARTICLE, headers=admin).status_code == 201
    assert bare.get("/metrics", headers=admin).status_code == 200


def test_a_revoked_key_is_refused_from_its_next_request(
    bare: TestClient, settings: Settings, env: dict[str, str]
) -> None:
    made = CliRunner().invoke(
        main, ["keys", "create", "--name", "desk", "--scopes", "check"], env=env
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[0]
    assert bare.get("/v1/sites", headers=bearer(secret)).status_code == 200
    listed = CliRunner().invoke(main, ["keys", "list"], env=env)
    assert listed.stdout.startswith("desk\tcheck\tdefault requests/min\tdefault articles/day\t")
    assert secret not in listed.output  # only its hash is kept
    assert CliRunner().invoke(main, ["keys", "revoke", "desk"], env=env).exit_code == 0
    assert bare.get("/v1/sites", headers=bearer(secret)).status_code == 401
    again = CliRunner().invoke(main, ["keys", "revoke", "desk"], env=env)
    assert (again.exit_code, again.stderr.strip()) == (
        1,
        "Error: no key named 'desk' (see `dedup keys list`)",
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--name", "a b", "--scopes", "check"], 2, "key name 'a b': use 1-64 letters"),
        (["--name", "ok", "--scopes", "read"], 2, "unknown scope(s) read: choose from check,"),
        (["--name", "ok", "--scopes", ","], 2, "no scope given: choose from"),
    ],
)
def test_a_bad_key_request_exits_with_what_to_fix(
    env: dict[str, str], args: list[str], code: int, message: str
) -> None:
    made = CliRunner().invoke(main, ["keys", "create", *args], env=env)
    assert made.exit_code == code
    assert made.stderr.startswith(f"Error: {message}")


def test_a_taken_name_is_refused_and_the_first_key_still_works(
    bare: TestClient, settings: Settings, env: dict[str, str]
) -> None:
    first = make_key(settings, "check", name="twice")
    made = CliRunner().invoke(
        main, ["keys", "create", "--name", "twice", "--scopes", "admin"], env=env
    )
    assert (made.exit_code, made.stdout) == (1, "")
    assert "a key named 'twice' exists" in made.stderr
    assert bare.get("/v1/sites", headers=bearer(first)).status_code == 200


def test_requests_past_the_minute_quota_are_429_with_retry_after(
    bare: TestClient, settings: Settings
) -> None:
    key = bearer(make_key(settings, "check", requests_per_minute=3))
    answers = [bare.get("/v1/sites", headers=key) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers[:3]] == ["2", "1", "0"]
    refused = answers[3]
    assert refused.headers["x-ratelimit-limit"] == "3"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert error(refused)[1] == "QuotaExceeded"
    assert "made more than 3 requests this minute; retry after" in error(refused)[2]
    other = bearer(make_key(settings, "check", requests_per_minute=3))
    assert bare.get("/v1/sites", headers=other).status_code == 200  # quotas are per key


def test_articles_a_day_count_checks_stores_and_scan_lines(
    bare: TestClient, settings: Settings
) -> None:
    key = bearer(make_key(settings, "ingest,check", articles_per_day=4))
    assert bare.post("/v1/check", json=ARTICLE, headers=key).headers["x-articles-remaining"] == "3"
    short = {"url": "https://a.example/short", "text": "Too short to be an article."}
    for path in ("/v1/check", "/v1/articles"):  # refused as invalid: it costs no article
        refused = bare.post(path, json=short, headers=key)
        assert (refused.status_code, refused.headers["x-articles-remaining"]) == (422, "3")
    assert bare.post("/v1/articles", json=ARTICLE, headers=key).status_code == 201
    three = {"articles": [{**ARTICLE, "url": f"https://a.example/s{i}"} for i in range(3)]}
    refused = bare.post("/v1/scans", json=three, headers=key)
    assert error(refused)[:2] == (429, "QuotaExceeded")
    assert "has 2 of its 4 articles a day left, fewer than this request holds" in error(refused)[2]
    assert refused.headers["x-articles-remaining"] == "2"
    assert bare.get("/v1/scans", headers=key).json() == []  # nothing was queued
    two = {"articles": three["articles"][:2]}
    assert bare.post("/v1/scans", json=two, headers=key).status_code == 202
    assert bare.post("/v1/check", json=ARTICLE, headers=key).status_code == 429


def test_an_upload_past_the_daily_quota_is_refused_with_a_429_and_its_scan_failed(
    settings: Settings,
) -> None:
    tuned = settings.model_copy(update={"scan_chunk_size": 2})
    with TestClient(create_app(tuned)) as client:
        key = bearer(make_key(tuned, "ingest,check", articles_per_day=3))
        lines = "\n".join(
            f'{{"url": "https://a.example/u{i}", "text": "{ARTICLE["text"]}"}}' for i in range(5)
        )
        refused = client.post(
            "/v1/scans",
            content=lines.encode(),
            headers={**key, "content-type": "application/x-ndjson"},
        )
        assert error(refused)[:2] == (429, "QuotaExceeded")
        (scan,) = client.get("/v1/scans", headers=key).json()
        assert scan["status"] == "failed"
        assert scan["error"].startswith("refused: key ")
        assert scan["total"] == 2  # the first chunk was charged and queued; the next refused


def test_auth_off_needs_no_key_but_is_refused_off_loopback(
    settings: Settings, env: dict[str, str]
) -> None:
    with TestClient(create_app(settings.model_copy(update={"auth": "off"}))) as client:
        assert client.post("/v1/check", json=ARTICLE).status_code == 200
    served = CliRunner().invoke(
        main, ["serve", "--host", "0.0.0.0"], env={**env, "DEDUP_AUTH": "off"}
    )
    assert served.exit_code == 2
    assert served.stderr.startswith("Error: DEDUP_AUTH=off is refused on '0.0.0.0': without keys")


def test_a_scan_is_read_and_cancelled_by_the_key_that_made_it_and_by_admins_only(
    bare: TestClient, settings: Settings
) -> None:
    mine = bearer(make_key(settings, "ingest,check,delete"))
    theirs = bearer(make_key(settings, "ingest,check,delete"))
    admin = bearer(make_key(settings, "admin"))
    made = bare.post("/v1/scans", json={"articles": [ARTICLE]}, headers=mine).json()
    scan = f"/v1/scans/{made['id']}"
    assert bare.get(scan, headers=mine).status_code == 200
    for path in (scan, f"{scan}/results"):  # another key: as if there were no such scan
        assert error(bare.get(path, headers=theirs))[:2] == (404, "ScanNotFound")
    assert error(bare.delete(scan, headers=theirs))[:2] == (404, "ScanNotFound")
    assert bare.get("/v1/scans", headers=theirs).json() == []
    assert [s["id"] for s in bare.get("/v1/scans", headers=admin).json()] == [made["id"]]
    assert bare.get(scan, headers=admin).status_code == 200


def test_a_key_that_may_store_but_not_read_gets_no_quoted_evidence(
    bare: TestClient, settings: Settings
) -> None:
    feeder = bearer(make_key(settings, "ingest"))
    reader = bearer(make_key(settings, "ingest,check"))
    first = {**ARTICLE, "url": "https://a.example/e1"}
    assert bare.post("/v1/articles", json=first, headers=reader).status_code == 201
    copy = {**ARTICLE, "url": "https://b.example/e1", "text": "Source link\n" + ARTICLE["text"]}
    fed = bare.post("/v1/articles", json=copy, headers=feeder).json()
    (match,) = fed["matches"]
    assert match["relation"] == "near_duplicate"  # the verdict, and its figures
    assert (match["evidence"]["passages"], match["evidence"]["sentence_pairs"]) == ([], [])
    assert match["evidence"]["shared_words"] > 0
    assert fed["notes"][-1].startswith("the evidence (passages and sentence pairs quoted")
    shown = bare.get(f"/v1/articles/{fed['id']}/matches", headers=reader).json()
    assert shown["matches"][0]["evidence"]["passages"]  # a check key reads it all
