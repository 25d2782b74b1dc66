"""Operations with real processes: quotas shared by two `dedup serve` processes, JSON logs,
and webhooks delivered by `dedup worker` to a receiver on loopback, signed and retried."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest

from dedup.config import Settings
from dedup.runtime import open_runtime
from dedup.services.hooks import verify_signature
from tests.conftest import (
    api_server,
    bearer,
    make_key,
    process_env,
    run_queued_jobs,
    running,
    wait_until,
)

SECRET = "s3cret-for-the-receiver-0123456789"


def test_two_api_processes_share_one_quota_and_log_json_lines_with_request_ids(
    settings: Settings, tmp_path: Path
) -> None:
    key = bearer(make_key(settings, "check", requests_per_minute=6))
    plain = process_env(settings)
    logged = process_env(settings, DEDUP_LOG_FORMAT="json", DEDUP_LOG_LEVEL="INFO")
    with (
        api_server(plain, tmp_path / "a.log") as first,
        api_server(logged, tmp_path / "b.log") as second,
    ):
        # keys and scopes over real HTTP (refusals charge nothing)
        assert httpx2.get(f"{first}/v1/sites").status_code == 401
        article = {"url": "https://a.example/x", "text": "word " * 40}
        refused = httpx2.post(f"{second}/v1/articles", json=article, headers=key)
        assert (refused.status_code, refused.json()["error"]) == (403, "Forbidden")
        # so that the minute does not turn between the requests (the window is per minute)
        if time.time() % 60 > 50:
            time.sleep(61 - time.time() % 60)
        answers = [httpx2.get(f"{base}/v1/sites", headers=key) for base in (first, second) * 4]
    assert [a.status_code for a in answers] == [200] * 6 + [429] * 2
    assert [a.headers["x-ratelimit-remaining"] for a in answers[:6]] == [
        "5",
        "4",
        "3",
        "2",
        "1",
        "0",
    ]
    assert all(a.headers["x-ratelimit-limit"] == "6" for a in answers)
    lines = [json.loads(line) for line in (tmp_path / "b.log").read_text().splitlines() if line]
    served = {a.headers["x-request-id"] for a in answers[1::2]}
    access = [line for line in lines if line["logger"] == "dedup.services.access"]
    assert {line["request_id"] for line in access} >= served
    refused = next(line for line in access if line["status"] == 429)
    assert (refused["route"], refused["method"], refused["key"]) == ("/v1/sites", "GET", None)


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver that answers 500 to its first POST and 200 to every next one."""

    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((dict(self.headers), body))  # the class's list, shared
        self.send_response(500 if len(self.received) == 1 else 200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:  # quiet
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    handler: type[Receiver] = type("OneReceiver", (Receiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler.received
    server.shutdown()
    server.server_close()


def test_a_copy_found_is_delivered_signed_by_a_worker_and_retried_after_a_500(
    settings: Settings,
    tmp_path: Path,
    receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
    bbc: list[dict[str, Any]],
) -> None:
    url, received = receiver
    env = process_env(
        settings, DEDUP_WEBHOOK_ALLOW_PRIVATE="true", DEDUP_WEBHOOK_RETRY_SECONDS="1,1"
    )
    admin = bearer(make_key(settings, "admin"))
    with (
        api_server(env, tmp_path / "serve.log") as base,
        running(["worker", "--processes", "1"], env, tmp_path / "worker.log"),
    ):
        api = httpx2.Client(base_url=base, headers=admin, timeout=60)
        made = api.post(
            "/v1/webhooks",
            json={"url": url, "events": ["copy.found", "scan.finished"], "secret": SECRET},
        )
        assert made.status_code == 201, made.text
        hook = made.json()
        assert "secret" not in hook
        text = bbc[330]["text"]
        original = api.post("/v1/articles", json={"url": "https://www.bbc.co.uk/w/1", "text": text})
        copy = api.post(
            "/v1/articles", json={"url": "https://farm.example/w/1", "text": "Source link\n" + text}
        )
        assert copy.json()["original"]["id"] == original.json()["id"]

        wait_until(lambda: len(received) >= 2, "the delivery and its retry")
        (first_headers, first_body), (headers, body) = received[:2]
        assert first_headers["X-Dedup-Delivery"] == headers["X-Dedup-Delivery"]  # one delivery
        assert first_body == body
        assert verify_signature(SECRET, headers["X-Dedup-Signature"], body)
        assert not verify_signature("another-secret-0000", headers["X-Dedup-Signature"], body)
        event = json.loads(body)
        assert (event["type"], headers["X-Dedup-Event"]) == ("copy.found", "copy.found")
        data = event["data"]
        assert (data["copy"]["id"], data["copy"]["site"]) == (copy.json()["id"], "farm.example")
        assert (data["original"]["id"], data["original"]["site"]) == (
            original.json()["id"],
            "bbc.co.uk",
        )
        assert data["copy_type"] == "scraped"
        assert data["reuse"] > 0.5

        log = wait_until(
            lambda: (
                (d := api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()) and len(d) >= 2 and d
            ),
            "the delivery log",
        )
        assert [(d["attempt"], d["outcome"], d["status_code"]) for d in log[:2]] == [
            (2, "delivered", 200),
            (1, "retry", 500),
        ]
        assert log[1]["error"] == "the receiver answered 500"

        scan = api.post(
            "/v1/scans", json={"articles": [{"url": "https://c.example/s", "text": text}]}
        )
        assert scan.status_code == 202
        finished = wait_until(
            lambda: [json.loads(b) for _, b in received if b"scan.finished" in b],
            "scan.finished",
        )
        assert finished[0]["data"]["scan_id"] == scan.json()["id"]
        assert finished[0]["data"]["status"] == "done"
        api.close()


def test_a_webhook_url_is_stored_as_it_goes_on_the_wire(api: Any) -> None:
    body = {"url": "http://93.184.215.14/häuser?q=é", "events": ["copy.found"], "secret": SECRET}
    made = api.post("/v1/webhooks", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["url"] == "http://93.184.215.14/h%C3%A4user?q=%C3%A9"


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        ({"url": "ftp://a.example/x"}, "only http:// and https:// urls"),
        ({"url": "http://127.0.0.1:9/x"}, "resolves to 127.0.0.1, a loopback, private or"),
        ({"url": "http://10.1.2.3/x"}, "resolves to 10.1.2.3, a loopback, private or"),
        ({"url": "http://[64:ff9b::7f00:1]/x"}, "resolves to 64:ff9b::7f00:1, a loopback"),
        ({"url": "http://[2002:7f00:1::1]/x"}, "resolves to 2002:7f00:1::1, a loopback"),
        ({"url": "http://[fec0::1]/x"}, "resolves to fec0::1, a loopback"),
        ({"url": "http://" + "é" * 64 + ".example/x"}, "is not a valid domain name"),
        ({"url": "http://user:pw@a.example/x"}, "no credentials in the url"),
        ({"secret": "short"}, "at least 16 characters"),
        ({"events": ["copy.lost"]}, "Input should be 'copy.found' or 'scan.finished'"),
    ],
)
def test_a_webhook_that_cannot_be_is_refused_with_the_reason(
    api: Any, hook: dict[str, Any], message: str
) -> None:
    body = {"url": "http://93.184.215.14/hook", "events": ["copy.found"], "secret": SECRET} | hook
    answer = api.post("/v1/webhooks", json=body)
    assert answer.status_code == 422
    assert message in answer.json()["detail"]
    assert api.get("/v1/webhooks").json() == []


def test_a_hook_stored_with_a_non_ascii_path_by_an_earlier_release_is_delivered_and_logged(
    settings: Settings, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    allowed = settings.model_copy(update={"webhook_allow_private": True})
    with open_runtime(allowed) as runtime:
        hooks = runtime.hooks
        raw = {"url": url + "/häuser", "events": ["copy.found"], "secret": SECRET}
        hooks.store.add("0123456789abcdef", {**raw, "watched_only": False, "created_at": "x"})
        assert hooks.emit("copy.found", "k1", {"copy": {"id": "1"}}) == 1
        assert hooks.pump() == 1
        run_queued_jobs(runtime)  # the delivery job, in this process
        (entry,) = hooks.deliveries("0123456789abcdef")
        assert (entry["status_code"], entry["outcome"]) == (500, "retry")  # no crash, logged
        assert len(received) == 1
