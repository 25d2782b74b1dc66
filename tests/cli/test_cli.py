"""The dedup command: exact output and exit codes (click's CliRunner, real Redis)."""

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from dedup.cli import main
from dedup.runtime import connect
from dedup.store import SiteStore
from tests.cli.conftest import run
from tests.conftest import SEEDS


def test_scan_of_the_seeds_says_what_each_is_and_that_none_copies_another(
    env: dict[str, str],
) -> None:
    summary = run(env, "scan", str(SEEDS))
    assert summary.exit_code == 0, summary.output
    lines = summary.stdout.splitlines()
    assert lines[0].startswith("Scanned 5 article(s) in ")  # the summary first
    assert lines[0].endswith(": 5 stored, 0 already stored, 0 failed.")
    assert lines[1] == (
        "Copy pairs: none. No article of these 5 is a near-copy, excerpt or container of another "
        "or of any stored article: no pair passed the verification bar."
    )
    assert lines[2].startswith("Copied from an article not stored (by their own signs): 5: ")
    assert lines[-1].startswith("(--verbose shows each article")
    result = run(env, "scan", "--verbose", str(SEEDS))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "0 stored, 5 already stored, 0 failed." in out
    assert (
        "credit line: “(AP)” (names AP), “© The Associated Press” (names The Associated Press)"
        in out
    )
    assert "generic byline: “Admin”" in out
    assert (
        "spun phrases: “Center East” (for “Middle East”), “Chilly Battle” (for “Cold War”)" in out
    )
    assert "aggregator chrome: “Sponsor: QWIKET AI”" in out
    assert "translator credit: “Переведено сервисом «Яндекс Переводчик»”" in out
    assert out.count("copies: no stored article shares enough text to be a copy or a source") == 5
    assert out.count("likely original: not stored (these signs say it was copied") == 5
    assert "likely original: itself" not in out


def test_scan_reports_a_copy_pair_with_its_original(
    env: dict[str, str], tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "a.txt").write_text(bbc[70]["text"], encoding="utf-8")
    (folder / "b.txt").write_text(
        "Sponsor: X\n\n" + bbc[70]["text"] + "\n\nSource link", encoding="utf-8"
    )
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "a.txt": {"site": "bbc.co.uk", "published_at": "2005-01-01T08:00:00Z"},
                "b.txt": {"site": "farm.example", "published_at": "2005-01-01T10:00:00Z"},
            }
        ),
        encoding="utf-8",
    )
    result = run(env, "scan", "-v", str(folder))
    assert result.exit_code == 0, result.output
    assert "near_duplicate of id 1 (bbc.co.uk)" in result.output
    assert "likely original: id 1 (bbc.co.uk), confidence 0.98" in result.output
    assert "Copy pairs: 1 (1 scraped)\n  id 1 (a.txt) ~ id 2 (b.txt): scraped" in result.output
    sites = SiteStore(connect(env["DEDUP_REDIS_URL"]), env["DEDUP_KEY_PREFIX"])
    farm, _ = sites.figures("farm.example")
    assert (farm.articles, farm.copies, farm.sources) == (1, 1, {"bbc.co.uk": 1})

    table = run(env, "sites")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["site", "articles", "copies", "credited", "score", "role"]
    assert lines[1].split()[:3] == ["farm.example", "1", "1"]  # the only copier ranks first
    dossier = run(env, "site", "farm.example")
    assert dossier.exit_code == 0, dossier.output
    assert "1 of its 1 articles copy another site's article without credit" in dossier.output
    assert "lag behind the original: median 120 min" in dossier.output
    assert "<- id 1 https://local.invalid/" in dossier.output
    unknown = run(env, "site", "nobody.example")
    assert unknown.exit_code == 1
    assert "no article of site 'nobody.example' has been counted" in unknown.output


def test_scan_records_bad_jsonl_lines_and_exits_1(
    env: dict[str, str], tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    dump = tmp_path / "feed.jsonl"
    good = json.dumps({"url": "https://www.bbc.co.uk/j/1", "text": bbc[71]["text"]})
    dump.write_text(
        "\n".join(
            [
                good,
                "{not json",
                json.dumps({"url": "https://x.example/"}),
                json.dumps({"url": "https://x.example/2", "text": "too short"}),
            ]
        ),
        encoding="utf-8",
    )
    result = run(env, "scan", str(dump))
    assert result.exit_code == 1
    assert "Scanned 4 article(s)" in result.output
    assert "1 stored, 0 already stored, 3 failed." in result.output
    assert (
        f"{dump}:2: line is not JSON: Expecting property name enclosed in double quotes at column 2"
        in result.output
    )
    assert (
        f"{dump}:3: article: Value error, send exactly one of 'text' or 'html' (got neither)"
        in result.output
    )
    assert (
        f"{dump}:4: text has 2 words after normalisation; at least 20 are needed" in result.output
    )


def test_scan_without_article_files_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "scan", str(tmp_path))
    assert result.exit_code == 2
    assert (
        "Error: no .txt, .html, .htm, .jsonl or .ndjson files in the given paths" in result.output
    )


def test_check_shows_the_match_and_side_by_side_passages(
    env: dict[str, str], tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    source = tmp_path / "source.txt"
    source.write_text(bbc[72]["text"], encoding="utf-8")
    assert run(env, "scan", str(source)).exit_code == 0
    suspect = tmp_path / "suspect.txt"
    suspect.write_text("Admin\n\n" + bbc[72]["text"], encoding="utf-8")
    result = run(env, "check", str(suspect), "--site", "farm.example")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("suspect.txt  (farm.example, not stored, ")
    assert any(
        line.startswith("  near_duplicate of id 1 (local), copy type scraped: containment 1.00")
        for line in lines
    )
    assert any(line.startswith("    this  [7:") for line in lines)
    assert any(line.startswith("    match [0:") for line in lines)
    as_json = json.loads(run(env, "check", str(suspect), "--json").output)
    assert [m["relation"] for m in as_json["matches"]] == ["near_duplicate"]


def test_check_of_a_too_short_file_exits_2_with_the_reason(
    env: dict[str, str], tmp_path: Path
) -> None:
    short = tmp_path / "short.txt"
    short.write_text("Just a line.", encoding="utf-8")
    result = run(env, "check", str(short))
    assert result.exit_code == 2
    assert "Error: text has 3 words after normalisation; at least 20 are needed" in result.output


def test_an_invalid_setting_is_named(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["scan", str(SEEDS)], env={**env, "DEDUP_NUM_PERM": "7"})
    assert result.exit_code == 2  # InvalidSettings, like every usage error
    assert (
        "Error: invalid setting: DEDUP_NUM_PERM: Input should be greater than or equal to 16"
        in (result.output)
    )


def test_evict_needs_a_retention_and_then_removes_what_is_past_it(
    env: dict[str, str], tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    page = tmp_path / "old.txt"
    page.write_text(bbc[90]["text"], encoding="utf-8")
    assert run(env, "scan", str(page)).exit_code == 0
    refused = run(env, "evict")
    assert refused.exit_code == 2
    assert "set DEDUP_RETENTION_DAYS" in refused.output
    kept = run({**env, "DEDUP_RETENTION_DAYS": "30"}, "evict")
    assert (kept.exit_code, kept.output.splitlines()[-1]) == (
        0,
        "0 article(s) first seen over 30 day(s) ago were evicted.",
    )
    gone = run({**env, "DEDUP_RETENTION_DAYS": "0.000000001"}, "evict")
    assert "1 article(s) first seen over 1e-09 day(s) ago were evicted." in gone.output
    assert run(env, "check", str(page)).exit_code == 0  # the index is empty again


def write_archive(
    tmp_path: Path, bbc: list[dict[str, Any]], part: str, n: int, short_at: int, tail: str
) -> Path:
    """`n` BBC articles as JSON lines, one too short to index at `short_at`, then `tail`."""
    rows = [{"url": f"https://www.bbc.co.uk/{part}/{k}", "text": bbc[k]["text"]} for k in range(n)]
    rows.insert(short_at, {"url": "https://www.bbc.co.uk/short", "text": "Too short to index."})
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join(json.dumps(r) for r in rows) + "\n" + tail, encoding="utf-8")
    return archive


def test_load_indexes_an_archive_that_a_later_check_finds_copies_in(
    env: dict[str, str], tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    archive = write_archive(tmp_path, bbc, "a", 30, short_at=3, tail="not json\n")
    result = run(env, "load", str(archive), "--batch", "7")
    assert result.exit_code == 1, result.output  # two lines failed
    assert "Loaded 32 article(s)" in result.output
    assert "30 stored, 0 already stored, 2 failed." in result.output
    assert "at least 20 are needed" in result.output
    again = run(env, "load", str(archive))
    assert "0 stored, 30 already stored, 2 failed." in again.output
    copy = tmp_path / "copy.txt"
    copy.write_text("Source link\n\n" + bbc[12]["text"], encoding="utf-8")
    checked = run(env, "check", str(copy))
    assert checked.exit_code == 0, checked.output
    assert "near_duplicate of id 13 (bbc.co.uk)" in checked.output  # bbc[12], the 13th stored


def test_load_in_two_processes_stores_every_article_once(
    env: dict[str, str], tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    twice = json.dumps({"url": "https://www.bbc.co.uk/p/0", "text": bbc[0]["text"]}) + "\n"
    archive = write_archive(tmp_path, bbc, "p", 40, short_at=9, tail=twice)  # stored once
    result = run(env, "load", str(archive), "--batch", "5", "--processes", "2")
    assert result.exit_code == 1, result.output  # the short one failed
    assert "40 stored, 1 already stored, 1 failed." in result.output, result.output
    assert "https://www.bbc.co.uk/short" in result.output or "at least 20" in result.output
    copy = tmp_path / "copy.txt"
    copy.write_text("Source link\n\n" + bbc[33]["text"], encoding="utf-8")
    checked = run(env, "check", str(copy), "--json")
    assert checked.exit_code == 0, checked.output
    (match,) = json.loads(checked.output)["matches"]
    assert (match["url"], match["relation"]) == ("https://www.bbc.co.uk/p/33", "near_duplicate")


def test_load_without_article_files_is_a_usage_error(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("nothing to load", encoding="utf-8")
    result = run(env, "load", str(tmp_path))
    assert result.exit_code == 2
    assert "no .txt, .html, .htm, .jsonl or .ndjson files" in result.output


def test_sites_rescore_stores_every_score_again_from_the_sums(
    env: dict[str, str], redis_url: str, prefix: str
) -> None:
    """After a release changes the score, the stored order is stale until rescored."""
    import redis as redis_py

    from dedup.store.keys import SiteKeys

    assert run(env, "scan", str(SEEDS)).exit_code == 0
    client = redis_py.Redis.from_url(redis_url)
    by_score = SiteKeys(prefix).by_score

    def scores() -> dict[str, float]:
        pairs: list[tuple[bytes, float]] = client.zrange(by_score, 0, -1, withscores=True)  # type: ignore[assignment]
        return {name.decode(): value for name, value in pairs}

    stored = scores()
    client.zadd(by_score, dict.fromkeys(stored, 0.99))  # as an older score left them
    result = run(env, "sites", "--rescore")
    assert result.exit_code == 0
    assert f"Rescored {len(stored)} site(s)." in result.output
    assert scores() == stored


def test_an_article_file_over_the_body_limit_is_refused_before_it_is_read(
    env: dict[str, str], tmp_path: Path
) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:  # sparse: 60 MB on the books, nothing on the disk
        handle.truncate(60_000_000)
    expected = (
        f"Error: {big} is 60,000,000 bytes, over the 2,000,000-byte limit on one article "
        "(DEDUP_MAX_BODY_BYTES, as the API applies it); split it, or raise the setting\n"
    )
    for command in ("check", "scan"):
        refused = run(env, command, str(big))
        assert (refused.exit_code, refused.output) == (2, expected)


def test_a_scan_records_a_line_nested_thousands_deep_as_failed_and_stores_the_rest(
    env: dict[str, str], tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    dump = tmp_path / "feed.jsonl"
    good = json.dumps({"url": "https://www.bbc.co.uk/n/1", "text": bbc[75]["text"]})
    dump.write_text(good + "\n" + '{"a":' * 5000 + "1" + "}" * 5000 + "\n", encoding="utf-8")
    result = run(env, "scan", str(dump))
    assert result.exit_code == 1
    assert "1 stored, 0 already stored, 1 failed." in result.output
    assert f"  {dump}:2: line is JSON nested too deeply to be an article" in result.output
