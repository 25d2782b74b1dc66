"""One verdict: a pair's relation, copy type, evidence and likely original read the same in
the CLI's scan report, the API, the article page, its report, the pair page and the CSV."""

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.main import create_app
from dedup.cli import main
from dedup.config import Settings
from tests.conftest import login, make_key


def test_every_view_of_a_copy_says_the_same(
    env: dict[str, str], settings: Settings, tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    text = bbc[340]["text"]
    dump = tmp_path / "pair.jsonl"
    rows = [  # a first article of another story, so that no id here is the pair page's "1"
        {"url": "https://www.bbc.co.uk/v/0", "text": bbc[341]["text"]},
        {"url": "https://www.bbc.co.uk/v/1", "text": text, "published_at": "2005-01-01T08:00Z"},
        {
            "url": "https://farm.example/v/1",
            "text": "Admin\n\n" + text[: len(text) * 2 // 3] + "\n\nSource link",
            "published_at": "2005-01-01T10:00Z",
        },
    ]
    dump.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    scanned = CliRunner().invoke(main, ["scan", "--verbose", str(dump)], env=env)
    assert scanned.exit_code == 0, scanned.output
    copy_id, original_id = "3", "2"

    with TestClient(create_app(settings)) as client:
        key = make_key(settings, "check")
        api = client.get(
            f"/v1/articles/{copy_id}/matches", headers={"Authorization": f"Bearer {key}"}
        ).json()
        (match,) = api["matches"]
        expected = (
            match["relation"],
            match["copy_type"],
            match["evidence"]["shared_words"],
            len(match["evidence"]["passages"]),
            len(match["evidence"]["sentence_pairs"]),
        )
        assert (match["id"], api["original"]["id"]) == (original_id, original_id)
        assert expected[:2] == ("excerpt", "excerpt")
        login(client, key)
        for path in (
            f"/articles/{copy_id}",
            f"/articles/{copy_id}/report",
            f"/pair/{copy_id}/{original_id}",
        ):
            html = client.get(path).text
            cards = re.findall(r'data-verdict="([^"]+)"', html)
            assert cards == [" ".join(str(v) for v in expected)], path
            assert re.findall(r'data-original="([^"]*)"', html) == [original_id], path
        table = client.get(f"/articles/{copy_id}/matches.csv").text
        (row,) = csv.DictReader(io.StringIO(table))
        assert (row["relation"], row["copy_type"], row["shared_words"], row["passages"]) == (
            expected[0],
            expected[1],
            str(expected[2]),
            str(expected[3]),
        )
        assert row["is_original"] == "True"

    report = scanned.stdout
    assert f"Copy pairs: 1 (1 {expected[1]})" in report
    assert f"  {expected[0]} of id {original_id} (bbc.co.uk), copy type {expected[1]}: " in report
    assert f"{expected[2]} shared words in {expected[3]} passage(s)" in report
    assert f"likely original: id {original_id} (bbc.co.uk)" in report
