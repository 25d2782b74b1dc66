"""Fixtures for the CLI tests."""

from typing import Any

from click.testing import CliRunner

from dedup.cli import main


def run(env: dict[str, str], *args: str) -> Any:
    """Run one `dedup` command in this test's environment; exceptions propagate."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
