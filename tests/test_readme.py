"""The README documents every CLI command and every setting, and its test command is CI's."""

import re

from dedup.cli import main
from dedup.config import Settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_cli_command_is_in_the_readme() -> None:
    missing = [name for name in main.commands if f"dedup {name}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme_table() -> None:
    documented = set(re.findall(r"^\| `(DEDUP_[A-Z_]+)` \|", README, flags=re.MULTILINE))
    expected = {f"DEDUP_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert f"```\n{ci}\n```" in README


def test_the_readme_table_gives_every_setting_its_real_default() -> None:
    rows = re.findall(r"^\| `DEDUP_([A-Z_]+)` \| `([^`]*)` \|", README, flags=re.MULTILINE)
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
