"""`dedup eval run` and `dedup eval curve` on a file of the shared labelled shape
(../shared/corpus/README.md), built here from real BBC articles."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import run


def shared_shape(bbc: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Six stories: an original each, a lightly edited whole copy, a copy of its first two
    paragraphs inside another article, and an independent article filed under the story."""
    items: list[dict[str, Any]] = []
    for n in range(6):
        original = bbc[100 + n]["text"]
        paragraphs = original.split("\n\n")
        group = f"story-{n}"

        def item(role: str, label: str, text: str, suffix: str, group: str = group) -> None:
            items.append(
                {
                    "id": f"{group}-{suffix}",
                    "group": group,
                    "role": role,
                    "label": label,
                    "text": text,
                    "title": None,
                    "corpus": "test",
                    "meta": {"outlet": suffix},
                }
            )

        item("original", "source", original, "wire")
        edited = "A correspondent writes. " + "\n\n".join(
            p for i, p in enumerate(paragraphs) if i != 1
        )
        item("copy", "wholly", edited, "paper")
        partial = bbc[300 + n]["text"] + "\n\n" + "\n\n".join(paragraphs[:2])
        item("copy", "partially", partial, "blog")
        item("unrelated", "independent", bbc[500 + n]["text"], "rival")
    return items


@pytest.fixture
def shared_file(tmp_path: Path, bbc: list[dict[str, Any]]) -> Path:
    """A labelled set of the shared shape, written as JSONL."""
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in shared_shape(bbc)))
    return path


def test_eval_run_scores_a_shared_file_by_its_protocol_beside_both_baselines(
    env: dict[str, str], tmp_path: Path, shared_file: Path
) -> None:
    path = shared_file
    report_path = tmp_path / "report.json"
    result = run(env, "eval", "run", str(path), "--json", str(report_path))
    assert result.exit_code == 0, result.output
    assert "| label | role | items | dedup | original accuracy | 3-gram baseline |" in result.output
    rows = json.loads(report_path.read_text())["labels"]
    assert rows["wholly"]["rate"] == 1.0
    assert rows["wholly"]["original_accuracy"] == 1.0
    assert rows["partially"]["rate"] == 1.0  # two paragraphs reused: partial reuse is a copy
    assert rows["independent"]["rate"] == 0.0
    assert rows["independent"]["role"] == "unrelated"
    assert rows["wholly"]["baseline_lsh"] < 1.0 or rows["partially"]["baseline_lsh"] < 1.0
    assert "| wholly | copy (recall) | 6 | 1.000 | 1.000 |" in result.output
    ablation = run(env, "eval", "run", str(path), "--ablation")
    assert ablation.exit_code == 2
    assert "--ablation applies to synthetic sets" in ablation.output


def test_eval_curve_draws_a_png_with_both_operating_points(
    env: dict[str, str], tmp_path: Path, shared_file: Path
) -> None:
    path = shared_file
    out = tmp_path / "curve.png"
    result = run(env, "eval", "curve", str(path), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "set: dedup recall 1.000 at false-copy rate 0.000; 3-gram" in result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wrong = run(env, "eval", "curve", str(path), "--out", str(tmp_path / "curve.svg"))
    assert wrong.exit_code == 2
    assert "must name a .png file" in wrong.output
    synthetic = tmp_path / "synthetic.jsonl"
    synthetic.write_text(json.dumps({"id": "a", "text": "x", "label": {}}) + "\n")
    refused = run(env, "eval", "curve", str(synthetic))
    assert refused.exit_code == 2
    assert "is not of the shared shape" in refused.output
