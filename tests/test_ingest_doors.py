"""Every door into "article stored" finishes the ingest the same way: the copy is counted
into its site's figures and `copy.found` is emitted, whether it came in through the API,
the pages, `dedup scan` or `dedup scan --queue` (each goes through `Sites.finish_ingest`)."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.main import create_app
from dedup.cli import main
from dedup.config import Settings
from dedup.runtime import Runtime, open_runtime
from tests.conftest import login, make_key, run_queued_jobs

HOOK = "http://127.0.0.1:9/hook"  # never called: the test reads the deliveries it queued
WHEN = {"original": "2005-01-01T08:00:00+00:00", "copy": "2005-01-01T10:00:00+00:00"}


def pair(bbc: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """An original of one site and a scraped copy of it on another (bodies of the API)."""
    text = bbc[333]["text"]
    return {
        "original": {"url": "https://www.bbc.co.uk/d/1", "text": text},
        "copy": {"url": "https://farm.example/d/1", "text": f"Sponsor: X\n\n{text}\n\nSource link"},
    }


def through_the_api(
    settings: Settings, runtime: Runtime, bodies: dict[str, dict[str, str]]
) -> None:
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {make_key(settings, 'ingest')}"
        for role in ("original", "copy"):
            answer = client.post("/v1/articles", json={**bodies[role], "published_at": WHEN[role]})
            assert answer.status_code == 201, answer.text
    run_queued_jobs(runtime)  # the follow-up jobs the API queued


def through_the_pages(
    settings: Settings, runtime: Runtime, bodies: dict[str, dict[str, str]]
) -> None:
    with TestClient(create_app(settings)) as client:
        login(client, make_key(settings, "check,ingest"))
        for role in ("original", "copy"):
            form = {**bodies[role], "published_at": WHEN[role], "store": "true"}
            answer = client.post("/check", data=form)
            assert answer.status_code == 200, answer.text[:500]
    run_queued_jobs(runtime)


def dump(tmp_path: Path, bodies: dict[str, dict[str, str]]) -> Path:
    path = tmp_path / "dump.jsonl"
    lines = [
        json.dumps({**bodies[role], "published_at": WHEN[role]}) for role in ("original", "copy")
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def scan(
    env: dict[str, str], tmp_path: Path, bodies: dict[str, dict[str, str]], *options: str
) -> None:
    """`dedup scan` of the pair as a JSONL dump, in this process or on the queue."""
    dump = tmp_path / "dump.jsonl"
    lines = [json.dumps({**bodies[role], "published_at": WHEN[role]}) for role in bodies]
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", *options, str(dump)], env=env)
    assert result.exit_code == 0, result.output


def finished(runtime: Runtime) -> tuple[tuple[int, int, dict[str, int]], int]:
    """The copier's figures and how many webhook deliveries are waiting (copy.found)."""
    farm = runtime.sites.figures("farm.example")
    return (farm.articles, farm.copies, farm.sources), runtime.hooks.pending()


@pytest.fixture
def hooked(settings: Settings) -> Runtime:
    """The test's runtime with one webhook that wants copy.found."""
    allowed = settings.model_copy(update={"webhook_allow_private": True})
    with open_runtime(allowed) as runtime:
        runtime.hooks.register(HOOK, ["copy.found"], "s" * 32)
        return runtime


EXPECTED = ((1, 1, {"bbc.co.uk": 1}), 1)


@pytest.mark.parametrize("door", [through_the_api, through_the_pages])
def test_an_ingest_through_the_service_is_counted_and_announced(
    door: Callable[[Settings, Runtime, dict[str, dict[str, str]]], None],
    settings: Settings,
    hooked: Runtime,
    bbc: list[dict[str, Any]],
) -> None:
    with open_runtime(settings) as runtime:
        door(settings, runtime, pair(bbc))
        assert finished(runtime) == EXPECTED


@pytest.mark.parametrize("options", [(), ("--queue",)], ids=["local", "queued"])
def test_an_ingest_through_dedup_scan_is_counted_and_announced(
    options: tuple[str, ...],
    env: dict[str, str],
    settings: Settings,
    hooked: Runtime,
    tmp_path: Path,
    bbc: list[dict[str, Any]],
    request: pytest.FixtureRequest,
) -> None:
    if options:
        request.getfixturevalue("worker")  # a real `dedup worker` for the queued scan
    scan(env, tmp_path, pair(bbc), *options)
    with open_runtime(settings) as runtime:
        assert finished(runtime) == EXPECTED
