"""API keys (by the digest of their secret), their quotas, and a deployment's policy lists."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dedup.store.client import Client, run_commands, run_scripts
from dedup.store.codecs import text_of
from dedup.store.keys import AccessKeys, PolicyKeys
from dedup.store.scripts import StoreScript


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A stored API key: its name, scopes and quota overrides (None: the default)."""

    name: str
    digest: str
    scopes: tuple[str, ...]
    created_at: str
    requests_per_minute: int | None
    articles_per_day: int | None

    @classmethod
    def of(cls, digest: str, fields: Mapping[Any, Any]) -> "KeyRecord":
        values = {text_of(k): text_of(v) for k, v in fields.items()}

        def limit(name: str) -> int | None:
            return int(values[name]) if values.get(name) else None

        return cls(
            values["name"],
            digest,
            tuple(s for s in values.get("scopes", "").split(",") if s),
            values.get("created_at", ""),
            limit("requests_per_minute"),
            limit("articles_per_day"),
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the authorize script answered (see lua/authorize.lua)."""

    outcome: int  # 1 granted, 0 unknown key, -1 scope missing, -2 / -3 over a quota
    name: str
    scopes: tuple[str, ...]
    requests_per_minute: int
    requests_left: int
    articles_per_day: int
    articles_left: int
    retry_after: int


class AccessStore:
    """The API keys of one deployment (key prefix) and their quota counters."""

    def __init__(self, client: Client, prefix: str) -> None:
        self._redis = client
        self.keys = AccessKeys(prefix)
        self._authorize = StoreScript(client, "authorize")

    def add(self, record: KeyRecord) -> bool:
        """Store a new key; False when its name is taken (nothing is written then)."""
        keys = self.keys
        fields = {
            "name": record.name,
            "scopes": ",".join(record.scopes),
            "created_at": record.created_at,
            "requests_per_minute": ""
            if record.requests_per_minute is None
            else str(record.requests_per_minute),
            "articles_per_day": ""
            if record.articles_per_day is None
            else str(record.articles_per_day),
        }
        # The record first: until the name points at it, no one holds its secret.
        run_commands(
            self._redis, [("hset", (keys.key(record.digest), None, None, fields))], atomic=False
        )
        (taken,) = run_commands(
            self._redis, [("hsetnx", (keys.names, record.name, record.digest))], atomic=False
        )
        if not taken:
            run_commands(self._redis, [("delete", (keys.key(record.digest),))], atomic=False)
            return False
        return True

    def all(self) -> list[KeyRecord]:
        keys = self.keys
        (names,) = run_commands(self._redis, [("hgetall", (keys.names,))], atomic=False)
        digests = sorted((text_of(name), text_of(digest)) for name, digest in names.items())
        records = run_commands(
            self._redis, [("hgetall", (keys.key(d),)) for _, d in digests], atomic=False
        )
        return [KeyRecord.of(d, r) for (_, d), r in zip(digests, records, strict=True) if r]

    def open_session(self, session_digest: str, key_digest: str, seconds: int) -> None:
        """A page session standing for a key, for `seconds`."""
        run_commands(
            self._redis,
            [("set", (self.keys.session(session_digest), key_digest, seconds))],
            atomic=False,
        )

    def session_key(self, session_digest: str) -> str | None:
        """The key digest a live session stands for (None: unknown, expired or closed)."""
        (found,) = run_commands(
            self._redis, [("get", (self.keys.session(session_digest),))], atomic=False
        )
        return None if found is None else text_of(found)

    def close_session(self, session_digest: str) -> None:
        run_commands(self._redis, [("delete", (self.keys.session(session_digest),))], atomic=False)

    def remove(self, name: str) -> bool:
        """Revoke a key by name: it is refused from the next request on. False if unknown."""
        keys = self.keys
        (digest,) = run_commands(self._redis, [("hget", (keys.names, name))], atomic=False)
        if digest is None:
            return False
        run_commands(
            self._redis,
            [("delete", (keys.key(text_of(digest)),)), ("hdel", (keys.names, name))],
            atomic=True,
        )
        return True

    def authorize(
        self,
        digest: str,
        scope: str,
        *,
        requests: int,
        articles: int,
        minute: int,
        minute_left: int,
        day: int,
        day_left: int,
        default_rpm: int,
        default_apd: int,
    ) -> Verdict:
        """Check a key's scope and charge its quotas, in one round trip."""
        keys = self.keys
        (answer,) = run_scripts(
            self._redis,
            [
                (
                    self._authorize,
                    {
                        "record": keys.key(digest),
                        "minute": keys.minute(digest, minute),
                        "day": keys.day(digest, day),
                    },
                    {
                        "scope": scope,
                        "requests": requests,
                        "articles": articles,
                        "minute_left": minute_left,
                        "day_left": day_left,
                        "default_rpm": default_rpm,
                        "default_apd": default_apd,
                    },
                )
            ],
        )
        outcome, name, scopes, rpm, rpm_left, apd, apd_left, retry = answer
        return Verdict(
            int(outcome),
            text_of(name),
            tuple(s for s in text_of(scopes).split(",") if s),
            int(rpm),
            int(rpm_left),
            int(apd),
            int(apd_left),
            int(retry),
        )


@dataclass(frozen=True, slots=True)
class PolicyLists:
    """The lists as stored: watched and excluded sites, phrases by id, and the version."""

    watched: frozenset[str]
    excluded: frozenset[str]
    phrases: dict[str, str]
    version: int


class PolicyStore:
    """A deployment's watched sites, excluded sites and boilerplate phrases."""

    LISTS = ("watched", "excluded")

    def __init__(self, client: Client, prefix: str) -> None:
        self._redis = client
        self.keys = PolicyKeys(prefix)

    def version(self) -> int:
        (value,) = run_commands(self._redis, [("get", (self.keys.version,))], atomic=False)
        return int(value or 0)

    def read(self) -> PolicyLists:
        keys = self.keys
        watched, excluded, phrases, version = run_commands(
            self._redis,
            [
                ("smembers", (keys.watched,)),
                ("smembers", (keys.excluded,)),
                ("hgetall", (keys.phrases,)),
                ("get", (keys.version,)),
            ],
            atomic=True,
        )
        return PolicyLists(
            frozenset(text_of(s) for s in watched),
            frozenset(text_of(s) for s in excluded),
            {text_of(k): text_of(v) for k, v in phrases.items()},
            int(version or 0),
        )

    def _key(self, which: str) -> str:
        if which not in self.LISTS:
            raise ValueError(f"no site list {which!r}")
        return str(getattr(self.keys, which))

    def add_sites(self, which: str, sites: Sequence[str]) -> int:
        added, _ = run_commands(
            self._redis,
            [("sadd", (self._key(which), *sites)), ("incr", (self.keys.version,))],
            atomic=True,
        )
        return int(added)

    def remove_site(self, which: str, site: str) -> bool:
        removed, _ = run_commands(
            self._redis,
            [("srem", (self._key(which), site)), ("incr", (self.keys.version,))],
            atomic=True,
        )
        return bool(removed)

    def add_phrases(self, phrases: Mapping[str, str]) -> None:
        run_commands(
            self._redis,
            [
                ("hset", (self.keys.phrases, None, None, dict(phrases))),
                ("incr", (self.keys.version,)),
            ],
            atomic=True,
        )

    def remove_phrase(self, phrase_id: str) -> bool:
        removed, _ = run_commands(
            self._redis,
            [("hdel", (self.keys.phrases, phrase_id)), ("incr", (self.keys.version,))],
            atomic=True,
        )
        return bool(removed)
