"""dedup scan --queue, dedup scans and dedup scan-status with a real worker process."""

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from dedup.cli import main
from tests.conftest import SEEDS


def test_a_queued_scan_of_the_seeds_reports_like_a_local_one(
    env: dict[str, str], worker: None
) -> None:
    queued = CliRunner().invoke(
        main, ["scan", "--queue", "--verbose", str(SEEDS)], env=env, catch_exceptions=False
    )
    assert queued.exit_code == 0, queued.output
    assert "5 stored, 0 already stored, 0 failed." in queued.output
    assert "translator credit: “Переведено сервисом «Яндекс Переводчик»”" in queued.output
    assert "no pair passed the verification bar." in queued.output

    listed = CliRunner().invoke(main, ["scans"], env=env)
    assert listed.exit_code == 0
    header, row = listed.output.splitlines()[:2]
    assert header.split() == ["id", "status", "processed", "stored", "copies", "failed", "created"]
    scan_id, status, progress, stored, copies, failed = row.split()[:6]
    assert (status, progress, stored, copies, failed) == ("done", "5/5", "5", "0", "0")

    shown = CliRunner().invoke(main, ["scan-status", scan_id], env=env)
    assert shown.exit_code == 0
    assert "status            done" in shown.output
    assert "processed         5" in shown.output


def test_scan_status_of_an_unknown_scan_exits_1(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["scan-status", "nosuchscan"], env=env)
    assert result.exit_code == 1
    assert "Error: no scan with id 'nosuchscan'" in result.output


def test_a_queued_scan_of_jsonl_gives_each_line_its_urls_site_like_a_local_scan(
    env: dict[str, str], worker: None, tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    """`--queue` once sent every line with site 'local' instead of its url's host."""
    dump = tmp_path / "feed.jsonl"
    rows = [
        {"url": "https://www.bbc.co.uk/q/1", "text": bbc[260]["text"]},
        {"url": "https://farm.example/q/2", "text": bbc[261]["text"], "site": "named.example"},
    ]
    dump.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    queued = CliRunner().invoke(main, ["scan", "--queue", "-v", str(dump)], env=env)
    assert queued.exit_code == 0, queued.output
    assert "(bbc.co.uk, id " in queued.output
    assert "(named.example, id " in queued.output
    assert "(local, id " not in queued.output
