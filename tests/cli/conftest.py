"""Fixtures for the CLI tests."""

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dedup.cli import main


@pytest.fixture
def env(redis_url: str, prefix: str, tmp_path: Path) -> dict[str, str]:
    """The environment a `dedup` command runs with: this test's Redis, prefix and folder."""
    return {
        "DEDUP_REDIS_URL": redis_url,
        "DEDUP_KEY_PREFIX": prefix,
        "DEDUP_DATA_DIR": str(tmp_path),
        "DEDUP_LOG_LEVEL": "WARNING",
    }


def run(env: dict[str, str], *args: str) -> Any:
    """Run one `dedup` command in this test's environment; exceptions propagate."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
