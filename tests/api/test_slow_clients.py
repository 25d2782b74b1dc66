"""Slow and stalled clients against a real `dedup serve` process: half a request head is
closed, half a body is answered 408, and neither holds the server (an audit held 3,000
connections open for 40 s with half requests; none was ever closed)."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from dedup.config import Settings
from tests.conftest import REPO, make_key, wait_until

HANG_GUARD_SECONDS = 60


@pytest.fixture
def server(redis_url: str, prefix: str, tmp_path: Path) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "DEDUP_REDIS_URL": redis_url,
        "DEDUP_KEY_PREFIX": prefix,
        "DEDUP_DATA_DIR": str(tmp_path),
        "DEDUP_LOG_LEVEL": "WARNING",
        "DEDUP_HEADER_TIMEOUT_SECONDS": "1",
        "DEDUP_BODY_TIMEOUT_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "dedup.cli", "serve", "--port", str(port)], env=env, cwd=REPO
    )
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while True:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                break
        except httpx2.HTTPError:
            pass
        assert time.monotonic() < deadline, "dedup serve did not start"
        time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(30)


def read_all(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the guard)."""
    connection.settimeout(HANG_GUARD_SECONDS)
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_half_a_request_head_is_closed(server: int) -> None:
    stalled = [socket.create_connection(("127.0.0.1", server)) for _ in range(20)]
    for connection in stalled:
        connection.sendall(b"POST /v1/check HTTP/1.1\r\nHost: localhost\r\nContent-Le")
    for connection in stalled:
        assert read_all(connection) == b""  # closed by the server, nothing answered
        connection.close()
    assert httpx2.get(f"http://127.0.0.1:{server}/healthz").status_code == 200


def test_half_a_body_is_answered_408(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as connection:
        connection.sendall(
            b"POST /v1/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" + b'{"url": "https://a.example/x", '
        )
        answer = read_all(connection)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"error":"RequestTimeout"' in answer


def test_a_kept_alive_connection_that_stalls_in_its_second_head_is_closed(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /heal")
        answer = read_all(connection)
    assert answer.startswith(b"HTTP/1.1 200 ")  # the first request was answered
    assert answer.count(b"HTTP/1.1") == 1  # the half second one was not, and was closed


def test_a_request_head_over_its_limit_is_431_before_the_rest_is_read(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Pad: ")
        try:  # 1 MB of one header, no key needed: read no further than the limit
            for _ in range(64):
                connection.sendall(b"x" * 16_384)
        except OSError:
            pass  # the server closed the connection once it had answered
        answer = read_all(connection)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"over 65536 bytes (DEDUP_MAX_HEAD_BYTES)" in answer
    with socket.create_connection(("127.0.0.1", server)) as connection:  # kept alive: 2 heads
        connection.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        assert read_all(connection).count(b"HTTP/1.1 200 ") == 2


def start_upload(connection: socket.socket, key: str, url: str) -> None:
    """The head of a 100,000-byte NDJSON upload and its first line, and no more."""
    line = json.dumps({"url": url, "text": "word " * 40}).encode() + b"\n"
    connection.sendall(
        b"POST /v1/scans HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\nContent-Length: 100000\r\n\r\n" + line
    )


def test_a_trickled_upload_is_408_and_its_scan_ends_failed(server: int, settings: Settings) -> None:
    key = make_key(settings, "admin")
    with socket.create_connection(("127.0.0.1", server)) as connection:
        start_upload(connection, key, "https://a.example/t/1")
        answer = read_all(connection)  # the rest never comes: DEDUP_BODY_TIMEOUT_SECONDS is 1
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"the upload did not arrive within 1 s (DEDUP_BODY_TIMEOUT_SECONDS;" in answer
    headers = {"Authorization": f"Bearer {key}"}
    (scan,) = httpx2.get(f"http://127.0.0.1:{server}/v1/scans", headers=headers).json()
    assert scan["status"] == "failed"
    assert scan["error"].startswith("the upload did not arrive within 1 s")


def test_a_client_that_leaves_mid_upload_leaves_a_failed_scan_not_a_running_one(
    server: int, settings: Settings
) -> None:
    key = make_key(settings, "admin")
    with socket.create_connection(("127.0.0.1", server)) as connection:
        start_upload(connection, key, "https://a.example/t/2")
    headers = {"Authorization": f"Bearer {key}"}
    url = f"http://127.0.0.1:{server}/v1/scans"
    scans = wait_until(lambda: (s := httpx2.get(url, headers=headers).json()) and s, "a scan")

    def ended() -> dict[str, str] | None:
        state: dict[str, str] = httpx2.get(f"{url}/{scans[0]['id']}", headers=headers).json()
        return state if state["status"] not in ("queued", "running") else None

    state = wait_until(ended, "the scan to end")
    assert state["status"] == "failed"
    assert state["error"].startswith("the client went away after ")
