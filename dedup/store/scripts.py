"""The store's Lua scripts, each in `lua/<name>.lua`, called by the names of its contract.

A script's header names its keys and arguments, in order:

    -- KEYS: urls seen record ...groups
    -- ARGV: url id ... ...record

The loader turns the header into Lua locals (`local urls, seen, record = KEYS[1], KEYS[2],
KEYS[3]`; a trailing `...groups` gives `groups_at`, the position where that run starts), so
the body says `urls`, not `KEYS[1]`, and `StoreScript.bind` takes the same names from
Python, refusing a missing or unknown one. The contract is written once, in the header.
A header line `-- USES: name ...` puts the text of `lua/lib/<name>.lua` (Lua functions more
than one script calls) before the script's own.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from redis.commands.core import Script

_HEADER = re.compile(r"^-- (KEYS|ARGV):(.*)$", re.MULTILINE)
_USES = re.compile(r"^-- USES:(.*)$", re.MULTILINE)
_NAME = re.compile(r"^(\.\.\.)?([a-z_][a-z0-9_]*)$")
_LUA_WORDS = frozenset(
    {
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto",
        "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until",
        "while",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Contract:
    """The names of a script's keys and arguments; a last name may be a run (`...name`)."""

    keys: tuple[str, ...]
    args: tuple[str, ...]
    keys_run: str | None  # the name of the trailing run of keys, if any
    args_run: str | None

    def prelude(self) -> str:
        """Lua locals for every name of the contract."""
        lines = []
        for table, names, run in (
            ("KEYS", self.keys, self.keys_run),
            ("ARGV", self.args, self.args_run),
        ):
            if names:
                values = ", ".join(f"{table}[{i}]" for i in range(1, len(names) + 1))
                lines.append(f"local {', '.join(names)} = {values}")
            if run is not None:
                lines.append(f"local {run}_at = {len(names) + 1}")
        return "\n".join(lines) + "\n"


def parse_contract(source: str, name: str) -> Contract:
    """The contract a script's header states (ValueError when it states none, or a bad one)."""
    found: dict[str, list[str]] = {}
    for table, names in _HEADER.findall(source):
        found[table] = names.split()
    if set(found) != {"KEYS", "ARGV"}:
        raise ValueError(f"{name}.lua: its header must have a '-- KEYS:' and an '-- ARGV:' line")
    parsed: dict[str, tuple[tuple[str, ...], str | None]] = {}
    seen: set[str] = set()
    for table, names in found.items():
        plain: list[str] = []
        run = None
        for position, word in enumerate(names):
            match = _NAME.match(word)
            if match is None or match.group(2) in _LUA_WORDS or match.group(2) in seen:
                raise ValueError(f"{name}.lua: {table} name {word!r} is not a new Lua name")
            seen.add(match.group(2))
            if match.group(1):
                if position != len(names) - 1:
                    raise ValueError(f"{name}.lua: only the last {table} name may be a run")
                run = match.group(2)
            else:
                plain.append(word)
        parsed[table] = (tuple(plain), run)
    (keys, keys_run), (args, args_run) = parsed["KEYS"], parsed["ARGV"]
    return Contract(keys, args, keys_run, args_run)


@cache
def source_of(name: str) -> str:
    """The text of `lua/<name>.lua` as shipped in the package, after the library functions
    its `-- USES:` line names."""
    folder = resources.files("dedup.store").joinpath("lua")
    source = folder.joinpath(f"{name}.lua").read_text(encoding="utf-8")
    used = [lib for line in _USES.findall(source) for lib in line.split()]
    libraries = [folder.joinpath(f"lib/{lib}.lua").read_text(encoding="utf-8") for lib in used]
    return "".join(libraries) + source


def names() -> list[str]:
    """Every script the package ships."""
    folder = resources.files("dedup.store").joinpath("lua")
    return sorted(p.name.removesuffix(".lua") for p in folder.iterdir() if p.name.endswith(".lua"))


class StoreScript:
    """One script registered on a client, called with its contract's names."""

    def __init__(self, client: Any, name: str) -> None:
        source = source_of(name)
        self.name = name
        self.contract = parse_contract(source, name)
        self.script: Script = client.register_script(self.contract.prelude() + source)

    def bind(self, keys: Mapping[str, Any], args: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
        """KEYS and ARGV in the contract's order from named values; a run's value is a
        sequence, spliced in at the end."""
        return (
            self._ordered("KEYS", keys, self.contract.keys, self.contract.keys_run),
            self._ordered("ARGV", args, self.contract.args, self.contract.args_run),
        )

    def _ordered(
        self, table: str, given: Mapping[str, Any], names: Sequence[str], run: str | None
    ) -> list[Any]:
        expected = set(names) | ({run} if run else set())
        if set(given) != expected:
            missing, unknown = expected - set(given), set(given) - expected
            raise TypeError(
                f"{self.name}.lua {table}: missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        ordered = [given[n] for n in names]
        if run is not None:
            ordered += list(given[run])
        return ordered

    def __call__(self, client: Any, keys: Mapping[str, Any], args: Mapping[str, Any]) -> Any:
        """Run it now on `client` (loading it first if the server does not know it)."""
        bound_keys, bound_args = self.bind(keys, args)
        return self.script(keys=bound_keys, args=bound_args, client=client)
