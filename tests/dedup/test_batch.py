"""`dedup batch`: the same copy pairs from the local loop and from Ray Data, as Parquet."""

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from dedup.config import Settings
from dedup.services.batch import doc_of, run_local, run_ray
from tests.cli.conftest import run
from tests.conftest import seed_text

CHROME = "Sponsor:  NEWS AI\nAdmin\n\n{}\n\nAdvertisement\n\nSource link"
SEEDS = ("000", "001", "002", "003", "004")


@pytest.fixture
def dump(tmp_path: Path) -> tuple[Path, set[tuple[int, int]]]:
    """The five seed articles, each with a scraped copy and an excerpt on other sites, a
    line that is not JSON and one too short to fingerprint; and the copy pairs they hold."""
    lines: list[dict[str, Any]] = []
    expected: set[tuple[int, int]] = set()
    for n, name in enumerate(SEEDS):
        text = seed_text(name)
        original = f"https://news{n}.example/story"
        scraped, excerpt = f"https://farm.example/{n}", f"https://digest.example/{n}"
        half = text[: len(text) // 2]
        lines += [
            {"url": original, "text": text, "published_at": "2025-02-13T08:00:00Z"},
            {"url": scraped, "text": CHROME.format(text), "published_at": "2025-02-13T09:00:00Z"},
            {"url": excerpt, "text": half, "published_at": "2025-02-13T10:00:00Z"},
        ]
        expected |= {(doc_of(scraped), doc_of(original)), (doc_of(excerpt), doc_of(original))}
    path = tmp_path / "dump.ndjson"
    body = [json.dumps(line) for line in lines] + [
        "not json",
        json.dumps({"url": "https://x.example/", "text": "too short"}),
    ]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path, expected


def test_the_local_loop_finds_every_copy_with_its_original_and_sums_the_sites(
    dump: tuple[Path, set[tuple[int, int]]],
) -> None:
    path, expected = dump
    result = run_local([path], Settings(semantic=False))
    assert result.articles == 15
    assert expected <= result.pair_set()
    sites = {row["site"]: row for row in result.sites}
    assert (sites["farm.example"]["copies"], sites["farm.example"]["copied"]) == (5, 0)
    types = json.loads(sites["farm.example"]["copy_types"])  # the seeds copy one another too
    assert sum(types.values()) == 5
    assert types["scraped"] >= 2
    assert sites["news0.example"]["copied"] == 1
    assert [e["error"].split(":")[0] for e in result.errors] == [
        "line is not JSON",
        "text has 2 words after normalisation; at least 20 are needed to fingerprint it "
        "(send the full article text)",
    ]


def test_ray_data_finds_exactly_the_local_pairs_and_the_cli_writes_parquet(
    dump: tuple[Path, set[tuple[int, int]]], tmp_path: Path, env: dict[str, str]
) -> None:
    path, _ = dump
    settings = Settings(semantic=False)
    local = run_local([path], settings)
    on_ray = run_ray([path], settings, workers=2)
    assert on_ray.pair_set() == local.pair_set()
    assert on_ray.pairs == local.pairs  # every column, in the same order
    assert on_ray.sites == local.sites
    out = tmp_path / "out"
    done = run({**env, "DEDUP_SEMANTIC": "false"}, "batch", str(path), "--out", str(out))
    assert done.exit_code == 0, done.output
    assert f"{len(local.pairs)} copy pairs, 2 lines refused" in done.stderr
    pairs = pq.read_table(out / "pairs.parquet").to_pylist()
    assert {(p["copy"], p["original"]) for p in pairs} == local.pair_set()
    assert pq.read_table(out / "sites.parquet").num_rows == len(local.sites)
    assert pq.read_table(out / "errors.parquet").num_rows == 2


def test_two_marked_copies_of_an_absent_source_are_a_sibling_pair_counted_as_copies(
    tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    text = bbc[160]["text"]
    spun = text + "\n\nAnalysts compared it with the Chilly Battle in the Center East."
    lines = [
        {"url": "https://farm.example/x", "text": CHROME.format(text)},
        {"url": "https://spinner.example/x", "text": spun},
    ]
    path = tmp_path / "siblings.ndjson"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    result = run_local([path], Settings(semantic=False))
    (pair,) = result.pairs
    assert (pair["relation"], pair["is_source"]) == ("sibling", False)
    sites = {row["site"]: row for row in result.sites}
    for site in ("farm.example", "spinner.example"):
        assert (sites[site]["copies"], sites[site]["copied"]) == (1, 0), site
