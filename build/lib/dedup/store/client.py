"""How the store talks to Redis: errors translated once, scripts run in one round trip."""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import redis
import redis.cluster

from dedup.errors import ScriptFailed, StoreUnavailable
from dedup.store.scripts import StoreScript

Client = redis.Redis | redis.cluster.RedisCluster

# Replies of a Redis that cannot serve now but will (loading, failing over, out of memory):
# 503 and retry, unlike a command Redis refuses for what it is (a bug or a damaged key).
_TRANSIENT = (
    "LOADING",
    "BUSY",
    "TRYAGAIN",
    "CLUSTERDOWN",
    "MASTERDOWN",
    "READONLY",
    "OOM",
    "NOREPLICAS",
    "MISCONF",
)


def _is_transient(exc: redis.ResponseError) -> bool:
    return str(exc).startswith(_TRANSIENT)


@contextmanager
def unavailable_on_failure() -> Iterator[None]:
    """Translate Redis failures: an unreachable or busy server is StoreUnavailable (nothing
    was written; retry), a refused command is ScriptFailed (retrying will not help)."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise StoreUnavailable(f"Redis did not answer: {exc}") from exc
    except redis.exceptions.RedisClusterException as exc:
        raise StoreUnavailable(f"Redis Cluster did not answer: {exc}") from exc
    except redis.exceptions.NoScriptError:
        raise  # run_scripts loads the scripts and tries again
    except redis.ResponseError as exc:
        if _is_transient(exc):
            raise StoreUnavailable(f"Redis cannot serve now: {exc}") from exc
        raise ScriptFailed(f"Redis refused a command: {exc}") from exc


def run_commands(
    client: Client, commands: Iterable[tuple[str, tuple[Any, ...]]], *, atomic: bool
) -> list[Any]:
    """Send commands in one pipeline (MULTI/EXEC when atomic)."""
    with unavailable_on_failure(), client.pipeline(transaction=atomic) as pipe:
        for name, args in commands:
            getattr(pipe, name)(*args)
        return list(pipe.execute())


ScriptCall = tuple[StoreScript, Mapping[str, Any], Mapping[str, Any]]


def run_scripts(client: Client, calls: Sequence[ScriptCall]) -> list[Any]:
    """Run scripts (each atomic within its keys' slot) in one pipeline, in order; load them
    into the server first if it does not know them (restarted, or a new cluster node)."""
    if not calls:
        return []
    bound = [(script, *script.bind(keys, args)) for script, keys, args in calls]
    if len(bound) == 1:
        script, keys, args = bound[0]
        with unavailable_on_failure():
            return [script.script(keys=keys, args=args)]
    # redis-py's cluster pipeline refuses EVALSHA; EVAL sends the text, which the server
    # compiles once and caches by its SHA-1.
    by_text = isinstance(client, redis.cluster.RedisCluster)
    for attempt in range(2):
        try:
            with unavailable_on_failure(), client.pipeline(transaction=False) as pipe:
                for script, keys, args in bound:
                    if by_text:
                        pipe.execute_command("EVAL", script.script.script, len(keys), *keys, *args)
                    else:
                        pipe.evalsha(script.script.sha, len(keys), *keys, *args)
                return list(pipe.execute())
        except redis.exceptions.NoScriptError:
            if attempt:
                raise ScriptFailed("Redis forgot the store's scripts twice in a row") from None
            with unavailable_on_failure():
                for script in {call[0] for call in bound}:
                    client.script_load(script.script.script)
    raise AssertionError("unreachable")


def drop_prefix(client: Client, prefix: str) -> int:
    """Delete every key under `prefix:` (never a flush: other prefixes and other users'
    keys are left alone); returns how many were deleted."""
    deleted = 0
    with unavailable_on_failure():
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{_escape_glob(prefix)}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += int(client.unlink(*batch))
                batch = []
        if batch:
            deleted += int(client.unlink(*batch))
    return deleted


def _escape_glob(text: str) -> str:
    """A prefix as a SCAN pattern that matches it literally.

    >>> _escape_glob("dedup-test:[a]*")
    'dedup-test:\\\\[a\\\\]\\\\*'
    """
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
