"""Webhooks, their pending deliveries (a due zset claimed under a lease) and delivery logs."""

import json
from collections.abc import Sequence
from typing import Any

from dedup.store.client import Client, run_commands, run_scripts
from dedup.store.codecs import text_of
from dedup.store.keys import HookKeys
from dedup.store.scripts import StoreScript

LOG_KEPT = 200  # delivery attempts kept per webhook


class HookStore:
    """The webhooks of one deployment (key prefix) and their deliveries."""

    def __init__(self, client: Client, prefix: str) -> None:
        self._redis = client
        self.keys = HookKeys(prefix)
        self._emit = StoreScript(client, "emit_event")
        self._claim = StoreScript(client, "claim_due")

    def _run(self, *commands: tuple[str, tuple[Any, ...]], atomic: bool = False) -> list[Any]:
        return run_commands(self._redis, commands, atomic=atomic)

    def add(self, hook_id: str, hook: dict[str, Any]) -> None:
        self._run(("hset", (self.keys.hooks, hook_id, json.dumps(hook))))

    def all(self) -> dict[str, dict[str, Any]]:
        (found,) = self._run(("hgetall", (self.keys.hooks,)))
        return {text_of(k): json.loads(v) for k, v in sorted(found.items())}

    def remove(self, hook_id: str) -> bool:
        removed, _ = self._run(
            ("hdel", (self.keys.hooks, hook_id)), ("delete", (self.keys.log(hook_id),)), atomic=True
        )
        return bool(removed)

    def emit(
        self, event_key: str, deliveries: Sequence[tuple[str, str]], now: float, ttl: int
    ) -> bool:
        """Store an event's deliveries (id, JSON), due now, unless the event was emitted
        before; True when emitted now."""
        keys = self.keys
        (emitted,) = run_scripts(
            self._redis,
            [
                (
                    self._emit,
                    {
                        "sent": keys.sent(event_key),
                        "due": keys.due,
                        "deliveries": [keys.delivery(i) for i, _ in deliveries],
                    },
                    {
                        "ttl": ttl,
                        "now": now,
                        "payloads": [p for _, p in deliveries] + [i for i, _ in deliveries],
                    },
                )
            ],
        )
        return bool(emitted)

    def claim(self, now: float, lease: float, limit: int) -> list[str]:
        """The ids of the deliveries due now, each pushed back by `lease` seconds."""
        (ids,) = run_scripts(
            self._redis,
            [(self._claim, {"due": self.keys.due}, {"now": now, "lease": lease, "limit": limit})],
        )
        return [text_of(i) for i in ids]

    def delivery(self, delivery_id: str) -> dict[str, Any] | None:
        (raw,) = self._run(("get", (self.keys.delivery(delivery_id),)))
        return None if raw is None else dict(json.loads(raw))

    def record(
        self,
        hook_id: str,
        delivery_id: str,
        attempt: dict[str, Any],
        *,
        outcome: str,
        retry_at: float | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Log one attempt; `outcome` 'delivered' or 'given_up' ends the delivery, 'retry'
        makes it due again at `retry_at` with the updated `payload`."""
        keys = self.keys
        commands: list[tuple[str, tuple[Any, ...]]] = [
            ("lpush", (keys.log(hook_id), json.dumps(attempt))),
            ("ltrim", (keys.log(hook_id), 0, LOG_KEPT - 1)),
            ("hincrby", (keys.stats, "delivered" if outcome == "delivered" else "failed", 1)),
        ]
        if outcome == "retry":
            assert retry_at is not None
            assert payload is not None
            commands += [
                (
                    "execute_command",
                    ("SET", keys.delivery(delivery_id), json.dumps(payload), "KEEPTTL"),
                ),
                ("zadd", (keys.due, {delivery_id: retry_at})),
            ]
        else:
            commands += [
                ("zrem", (keys.due, delivery_id)),
                ("delete", (keys.delivery(delivery_id),)),
            ]
            if outcome == "given_up":
                commands.append(("hincrby", (keys.stats, "given_up", 1)))
        self._run(*commands, atomic=True)

    def drop(self, delivery_id: str) -> None:
        """Forget a delivery whose webhook is gone."""
        self._run(
            ("zrem", (self.keys.due, delivery_id)), ("delete", (self.keys.delivery(delivery_id),))
        )

    def log(self, hook_id: str, limit: int) -> list[dict[str, Any]]:
        (entries,) = self._run(("lrange", (self.keys.log(hook_id), 0, limit - 1)))
        return [json.loads(e) for e in entries]

    def stats(self) -> dict[str, int]:
        (found,) = self._run(("hgetall", (self.keys.stats,)))
        return {text_of(k): int(v) for k, v in found.items()}

    def pending(self) -> int:
        (count,) = self._run(("zcard", (self.keys.due,)))
        return int(count)
