"""The docs say what the code does: every command and setting is documented with its real
default, the README's test command is CI's, and every page the README links exists."""

import json
import re

from dedup.cli import main
from dedup.config import Settings
from tests.conftest import REPO, keyed_client

JSON = {"content-type": "application/json"}

README = (REPO / "README.md").read_text(encoding="utf-8")
CLI_DOC = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
SETTINGS_DOC = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")


def commands(group: object, prefix: str = "dedup") -> list[str]:
    found = []
    for name, command in getattr(group, "commands", {}).items():
        found.append(f"{prefix} {name}")
        found += commands(command, f"{prefix} {name}")
    return found


def test_every_cli_command_is_in_the_cli_page() -> None:
    missing = [name for name in commands(main) if name not in CLI_DOC]
    assert missing == []


def test_every_setting_is_in_the_settings_table() -> None:
    documented = set(re.findall(r"^\| `(DEDUP_[A-Z_]+)` \|", SETTINGS_DOC, flags=re.MULTILINE))
    expected = {f"DEDUP_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_ci_runs_exactly_the_readme_test_command_last() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert f"```\n{ci}\n```" in README


def test_the_settings_table_gives_every_setting_its_real_default() -> None:
    rows = re.findall(r"^\| `DEDUP_([A-Z_]+)` \| `([^`]*)` \|", SETTINGS_DOC, flags=re.MULTILINE)
    wrong = []
    for name, shown in rows:
        field = Settings.model_fields[name.lower()]
        if field.default_factory is not None or field.default is None:
            continue  # data_dir (a path under $HOME) and redis_url (unset)
        default = field.default
        value = shown == "true" if isinstance(default, bool) else type(default)(shown)
        if value != default:
            wrong.append((name, shown, default))
    assert wrong == []


def test_every_page_the_readme_links_exists_and_is_in_the_docs_site() -> None:
    linked = re.findall(r"\]\((docs/[a-z-]+\.md)\)", README)
    assert linked, "the README links its docs pages"
    assert [page for page in linked if not (REPO / page).exists()] == []
    site = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert [page for page in linked if page.removeprefix("docs/") not in site] == []


def test_the_readme_example_runs_as_written_and_answers_what_it_shows(settings: Settings) -> None:
    block = README.split("## One example", 1)[1].split("```", 2)[1]
    bodies = re.findall(r"-X POST localhost:8000(/v1/[a-z]+) -d @(examples/[a-z]+\.json)", block)
    assert [path for path, _ in bodies] == ["/v1/articles", "/v1/check"]
    with keyed_client(settings, "check,ingest") as client:
        answers = [
            client.post(path, content=(REPO / file).read_bytes(), headers=JSON)
            for path, file in bodies
        ]
    assert [a.status_code for a in answers] == [201, 200]
    answer = answers[1].json()
    match = answer["matches"][0]
    passage = match["evidence"]["passages"][0]
    shown = dict(re.findall(r'"([a-z_]+)": ("[^"]*"|[0-9.]+)', block))
    real = {
        "id": match["id"],
        "site": answer["original"]["site"],
        "confidence": answer["original"]["confidence"],
        "relation": match["relation"],
        "copy_type": match["copy_type"],
        "containment": match["scores"]["containment"],
        "contained_by": match["scores"]["contained_by"],
        **{k: passage[k] for k in ("words", "start", "end", "match_start", "match_end")},
    }
    assert {k: json.loads(v) for k, v in shown.items()} == real
    reasons = re.findall(r'^\s+"([^"]+ (?:before|chrome)[^"]*)"', block, flags=re.MULTILINE)
    assert reasons == answer["original"]["reasons"]
