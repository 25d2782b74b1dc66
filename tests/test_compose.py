"""docker-compose.yml can only name commands and settings that exist (no Docker engine runs
on our machines, so the file is checked, not started)."""

import shlex
from typing import Any

import yaml
from click.testing import CliRunner

from dedup.cli import main
from dedup.config import Settings
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def services() -> dict[str, Any]:
    return dict(COMPOSE["services"])


def test_compose_runs_redis_with_aof_on_a_volume_plus_api_and_worker() -> None:
    assert set(services()) == {"redis", "api", "worker"}
    redis = services()["redis"]
    assert redis["image"].startswith("redis:7")
    assert "--appendonly" in redis["command"]
    assert redis["volumes"] == ["redis-data:/data"]
    assert "ports" not in services()["worker"]  # scalable: --scale worker=N


def test_every_service_is_restarted_when_it_dies() -> None:
    assert {name: s.get("restart") for name, s in services().items()} == {
        "redis": "unless-stopped",
        "api": "unless-stopped",
        "worker": "unless-stopped",
    }


def test_every_service_command_is_a_dedup_command_that_accepts_its_options() -> None:
    for name in ("api", "worker"):
        command = services()[name]["command"]
        argv = command if isinstance(command, list) else shlex.split(command)
        assert argv[0] == "dedup", name
        assert argv[1] in main.commands, f"{name}: no `dedup {argv[1]}` command"
        options = {opt for param in main.commands[argv[1]].params for opt in param.opts}
        given = {arg for arg in argv[2:] if arg.startswith("--")}
        assert given <= options, f"{name}: unknown options {given - options}"
        result = CliRunner().invoke(main, [*argv[1:], "--help"])
        assert result.exit_code == 0, f"{name}: {result.output}"


def test_every_setting_compose_passes_is_a_real_setting() -> None:
    known = {f"DEDUP_{name.upper()}" for name in Settings.model_fields}
    for name in ("api", "worker"):
        environment = services()[name]["environment"]
        assert set(environment) <= known, f"{name}: {set(environment) - known}"
        Settings(**{k.removeprefix("DEDUP_").lower(): v for k, v in environment.items()})
    assert "Dockerfile" in [p.name for p in REPO.iterdir()]


def test_compose_redis_needs_a_password_and_the_api_is_published_on_loopback_only() -> None:
    redis = services()["redis"]
    command = redis["command"]
    assert command[command.index("--requirepass") + 1].startswith("${DEDUP_REDIS_PASSWORD:?")
    for name in ("api", "worker"):
        assert services()[name]["environment"]["DEDUP_REDIS_URL"].startswith(
            "redis://:${DEDUP_REDIS_PASSWORD}@redis:"
        )
    assert services()["api"]["ports"] == ["127.0.0.1:8000:8000"]
