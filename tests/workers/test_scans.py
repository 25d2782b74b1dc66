"""Batch scans through the API, run by real RQ workers on a real Redis."""

import json
from typing import Any

import redis
from fastapi.testclient import TestClient

from dedup.config import Settings
from dedup.store import Store


def articles(bbc: list[dict[str, Any]], count: int, start: int = 100) -> list[dict[str, str]]:
    return [
        {"url": f"https://www.bbc.co.uk/s/{i}", "text": bbc[start + i]["text"]}
        for i in range(count)
    ]


def scan(api: TestClient, scan_id: str) -> dict[str, Any]:
    response = api.get(f"/v1/scans/{scan_id}")
    assert response.status_code == 200
    return dict(response.json())


def test_an_inline_scan_stores_every_article_and_records_bad_ones(
    api: TestClient, run_workers: Any, bbc: list[dict[str, Any]]
) -> None:
    batch: list[dict[str, Any]] = articles(bbc, 5)
    batch.insert(2, {"url": "https://x.example/missing-text"})
    batch.append({"url": "https://x.example/short", "text": "Too short."})
    batch.append({"url": "https://farm.example/copy", "text": "Source link\n" + bbc[100]["text"]})
    created = api.post("/v1/scans", json={"articles": batch})
    assert created.status_code == 202
    body = created.json()
    assert body["status_url"] == f"/v1/scans/{body['id']}"
    assert (body["status"], body["total"]) == ("queued", 8)
    run_workers()
    state = scan(api, body["id"])
    assert state["status"] == "done"
    counters = {k: state[k] for k in ("total", "processed", "stored", "failed", "duplicates_found")}
    # the copy (line 8) finds its original; the original had nothing to find when it came in
    assert counters == {"total": 8, "processed": 8, "stored": 6, "failed": 2, "duplicates_found": 1}
    results = api.get(f"/v1/scans/{body['id']}/results").json()
    assert [r["line"] for r in results["items"]] == list(range(1, 9))
    assert results["next_cursor"] is None
    assert (
        results["items"][2]["error"]
        == "article: Value error, send exactly one of 'text' or 'html' (got neither)"
    )
    assert results["items"][6]["error"].startswith("text has 2 words after normalisation")
    copy = results["items"][7]
    assert copy["error"] is None
    assert copy["original"]["id"] == results["items"][0]["id"]
    assert [m["relation"] for m in copy["matches"]] == ["near_duplicate"]


def test_a_streamed_ndjson_upload_keeps_line_numbers_and_flags_bad_lines(
    api: TestClient, run_workers: Any, bbc: list[dict[str, Any]]
) -> None:
    lines = [json.dumps(a).encode() for a in articles(bbc, 3, start=110)]
    upload = lines[0] + b"\n\n" + b"{not json\n" + lines[1] + b"\n" + b"\xff\xfe\n" + lines[2]
    created = api.post(
        "/v1/scans", content=upload, headers={"content-type": "application/x-ndjson"}
    )
    assert created.status_code == 202
    assert created.json()["total"] == 5  # the blank line 2 is not an article
    run_workers()
    items = api.get(f"/v1/scans/{created.json()['id']}/results").json()["items"]
    assert [(r["line"], r["error"]) for r in items] == [
        (1, None),
        (3, "line is not JSON: Expecting property name enclosed in double quotes at column 2"),
        (4, None),
        (5, "line is not valid UTF-8 (byte offset 0)"),
        (6, None),
    ]


def test_results_come_in_pages_with_a_cursor(
    api: TestClient, run_workers: Any, bbc: list[dict[str, Any]]
) -> None:
    scan_id = api.post("/v1/scans", json={"articles": articles(bbc, 7, start=120)}).json()["id"]
    run_workers()
    first = api.get(f"/v1/scans/{scan_id}/results", params={"limit": 3}).json()
    second = api.get(
        f"/v1/scans/{scan_id}/results", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    third = api.get(
        f"/v1/scans/{scan_id}/results", params={"limit": 3, "cursor": second["next_cursor"]}
    ).json()
    lines = [r["line"] for page in (first, second, third) for r in page["items"]]
    assert lines == [1, 2, 3, 4, 5, 6, 7]
    assert third["next_cursor"] is None
    streamed = api.get(f"/v1/scans/{scan_id}/results", params={"format": "ndjson"})
    assert streamed.headers["content-type"] == "application/x-ndjson"
    assert [json.loads(line)["line"] for line in streamed.text.splitlines()] == lines


def test_a_cancelled_scan_stores_nothing_more(
    api: TestClient,
    run_workers: Any,
    bbc: list[dict[str, Any]],
    client_redis: redis.Redis,
    settings: Settings,
) -> None:
    scan_id = api.post("/v1/scans", json={"articles": articles(bbc, 4, start=130)}).json()["id"]
    cancelled = api.delete(f"/v1/scans/{scan_id}")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    run_workers()
    assert scan(api, scan_id)["processed"] == 0
    assert Store(client_redis, settings.key_prefix).count() == 0
    again = api.delete(f"/v1/scans/{scan_id}")
    assert again.status_code == 409
    assert again.json()["detail"] == f"scan {scan_id} is cancelled; nothing to cancel"


def test_bad_scan_requests_are_refused(api: TestClient) -> None:
    assert api.get("/v1/scans/nosuchscan").status_code == 404
    assert api.get("/v1/scans/nosuchscan/results").status_code == 404
    empty = api.post("/v1/scans", json={"articles": []})
    assert empty.status_code == 422
    assert empty.json()["detail"].startswith('expected {"articles": [...]} or an NDJSON upload')


NESTED = b'{"a":' * 5000 + b"1" + b"}" * 5000  # 16 KB, nested 5,000 deep


def test_a_line_nested_thousands_deep_fails_alone_and_the_scan_goes_on(
    api: TestClient, run_workers: Any, bbc: list[dict[str, Any]]
) -> None:
    lines = [json.dumps(a).encode() for a in articles(bbc, 2, start=120)]
    upload = b"\n".join([lines[0], NESTED, lines[1]]) + b"\n"
    created = api.post(
        "/v1/scans", content=upload, headers={"content-type": "application/x-ndjson"}
    )
    assert created.status_code == 202
    run_workers()
    state = scan(api, created.json()["id"])
    assert (state["status"], state["stored"], state["failed"]) == ("done", 2, 1)
    items = api.get(f"/v1/scans/{created.json()['id']}/results").json()["items"]
    assert [(r["line"], r["error"]) for r in items] == [
        (1, None),
        (2, "line is JSON nested too deeply to be an article"),
        (3, None),
    ]
