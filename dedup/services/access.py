"""API keys with scopes, and each key's quotas, counted in Redis (shared by every process).

A key is `dedup_` and 43 random characters; only the SHA-256 of it is stored, so a key is
shown once, when it is made, and a leaked database gives no key away. Keys have a high
entropy, so a plain hash is enough (slow password hashes are for guessable secrets).

Scopes: `check` (POST /v1/check and every read), `ingest` (store articles, scans), `delete`
(delete articles, cancel scans) and `admin` (keys, webhooks, watched sites, exclusions,
metrics; an admin key may do everything). Quotas: requests per minute and articles (checked
or stored) per day, in fixed windows; a key's own limits override the deployment's
(DEDUP_REQUESTS_PER_MINUTE, DEDUP_ARTICLES_PER_DAY; 0: no limit).
"""

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dedup.config import Settings
from dedup.errors import Conflict, Forbidden, InvalidRequest, NotFound, QuotaExceeded, Unauthorized
from dedup.store.access import AccessStore, KeyRecord, Verdict

SCOPES = ("check", "ingest", "delete", "admin")
KEY_PREFIX = "dedup_"
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_WELL_FORMED = re.compile(r"^dedup_[A-Za-z0-9_-]{43}$")
DAY_SECONDS = 86_400

__all__ = ["SCOPES", "Access", "Grant", "KeyRecord", "digest_of", "parse_scopes"]
UNKNOWN_KEY = (
    "this API key is not known here (revoked, or mistyped): ask an admin for a key "
    "(`dedup keys create`)"
)


def digest_of(secret: str) -> str:
    """What is stored of a key: the hex SHA-256 of its text."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(listed: str | Sequence[str]) -> tuple[str, ...]:
    """Scopes from 'check,ingest' (or a list), in SCOPES order; InvalidRequest naming any
    unknown one.

    >>> parse_scopes("ingest, check")
    ('check', 'ingest')
    """
    given = listed.split(",") if isinstance(listed, str) else list(listed)
    names = {s.strip().lower() for s in given if s.strip()}
    unknown = sorted(names - set(SCOPES))
    if unknown or not names:
        problem = f"unknown scope(s) {', '.join(unknown)}" if unknown else "no scope given"
        raise InvalidRequest(f"{problem}: choose from {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in names)


@dataclass(frozen=True, slots=True)
class Grant:
    """Who a request is (the key's name), what it may do, and its quotas' state."""

    name: str
    scopes: tuple[str, ...]
    digest: str
    headers: dict[str, str]  # the quota headers of the answer

    def allows(self, scope: str) -> bool:
        """Whether the key holds `scope` (admin holds every scope)."""
        return scope in self.scopes or "admin" in self.scopes


OPEN = Grant("(auth off)", SCOPES, "", {})  # every request, when DEDUP_AUTH=off


class Access:
    """Makes, lists and revokes keys; authorizes requests and charges their quotas."""

    def __init__(
        self, store: AccessStore, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self.settings.auth == "on"

    def create(
        self,
        name: str,
        scopes: str | Sequence[str],
        *,
        requests_per_minute: int | None = None,
        articles_per_day: int | None = None,
    ) -> tuple[KeyRecord, str]:
        """A new key and its secret (shown once: only its digest is kept)."""
        if not _NAME.match(name):
            raise InvalidRequest(f"key name {name!r}: use 1-64 letters, digits, '.', '-' or '_'")
        for label, limit in (
            ("requests per minute", requests_per_minute),
            ("articles per day", articles_per_day),
        ):
            if limit is not None and limit < 0:
                raise InvalidRequest(f"{label} must be 0 (no limit) or more, not {limit}")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        record = KeyRecord(
            name,
            digest_of(secret),
            parse_scopes(scopes),
            datetime.now(UTC).isoformat(timespec="seconds"),
            requests_per_minute,
            articles_per_day,
        )
        if not self.store.add(record):
            raise Conflict(f"a key named {name!r} exists; revoke it first or pick another name")
        return record, secret

    def all(self) -> list[KeyRecord]:
        return self.store.all()

    def revoke(self, name: str) -> None:
        if not self.store.remove(name):
            raise NotFound(f"no key named {name!r} (see `dedup keys list`)")

    def authorize(self, header: str | None, scope: str, articles: int = 0) -> Grant:
        """The grant of a request's `Authorization: Bearer <key>` for `scope`, charging one
        request and `articles` articles; Unauthorized, Forbidden or QuotaExceeded."""
        if not self.enabled:
            return OPEN
        digest = digest_of(_bearer(header))
        return self._checked(digest, scope, articles, UNKNOWN_KEY)

    def _checked(self, digest: str, scope: str, articles: int, unknown: str) -> Grant:
        """The grant of a key by its digest for `scope` (one request, `articles` charged)."""
        verdict = self._ask(digest, scope, requests=1, articles=articles)
        if verdict.outcome == 0:
            raise Unauthorized(unknown)
        if verdict.outcome == -1:
            raise Forbidden(
                f"key {verdict.name!r} has scopes {', '.join(verdict.scopes) or 'none'}; "
                f"this request needs {scope!r}: use a key with that scope"
            )
        return self._granted(verdict, digest)

    def open_session(self, key: str) -> str:
        """A page session for a valid key: a new random token, kept (as its digest) for
        DEDUP_SESSION_HOURS; the browser's cookie holds the token, never the key, and
        logging out ends it. Unauthorized for a key not known here."""
        digest = digest_of(key.strip())
        self._checked(digest, "", 0, UNKNOWN_KEY)
        token = secrets.token_urlsafe(32)
        seconds = int(self.settings.session_hours * 3600)
        self.store.open_session(digest_of(token), digest, seconds)
        return token

    def authorize_session(self, token: str | None, scope: str, articles: int = 0) -> Grant:
        """`authorize` for a page request, by its session token."""
        if not self.enabled:
            return OPEN
        key = self.store.session_key(digest_of(token)) if token else None
        if key is None:
            raise Unauthorized("the page session has ended (logged out or expired): log in")
        return self._checked(
            key, scope, articles, "the session's API key was revoked: log in with another key"
        )

    def close_session(self, token: str | None) -> None:
        """End a page session (logging out): its cookie opens nothing from now on."""
        if token:
            self.store.close_session(digest_of(token))

    def charge(self, grant: Grant, articles: int) -> Grant:
        """Charge more articles to a granted request (a scan's lines, as they arrive)."""
        if not self.enabled or articles <= 0:
            return grant
        verdict = self._ask(grant.digest, "", requests=0, articles=articles)
        if verdict.outcome == 0:
            raise Unauthorized("this API key was revoked during the request")
        return self._granted(verdict, grant.digest)

    def refund(self, grant: Grant, articles: int) -> Grant:
        """Give back articles charged to a request that were then refused as invalid (a
        422 costs no article of the daily quota)."""
        if not self.enabled or articles <= 0 or not grant.digest:
            return grant
        return self._granted(
            self._ask(grant.digest, "", requests=0, articles=-articles), grant.digest
        )

    def _ask(self, digest: str, scope: str, *, requests: int, articles: int) -> Verdict:
        now = self.clock()
        minute, day = int(now // 60), int(now // DAY_SECONDS)
        return self.store.authorize(
            digest,
            scope,
            requests=requests,
            articles=articles,
            minute=minute,
            minute_left=max(1, 60 * (minute + 1) - int(now)),
            day=day,
            day_left=max(1, DAY_SECONDS * (day + 1) - int(now)),
            default_rpm=self.settings.requests_per_minute,
            default_apd=self.settings.articles_per_day,
        )

    @staticmethod
    def _granted(verdict: Verdict, digest: str) -> Grant:
        headers: dict[str, str] = {}
        if verdict.requests_per_minute > 0:
            headers["X-RateLimit-Limit"] = str(verdict.requests_per_minute)
            headers["X-RateLimit-Remaining"] = str(max(0, verdict.requests_left))
        if verdict.articles_per_day > 0 and verdict.articles_left >= 0:
            headers["X-Articles-Limit"] = str(verdict.articles_per_day)
            headers["X-Articles-Remaining"] = str(max(0, verdict.articles_left))
        if verdict.outcome == -2:
            headers["Retry-After"] = str(max(1, verdict.retry_after))
            raise QuotaExceeded(
                f"key {verdict.name!r} made more than {verdict.requests_per_minute} requests "
                f"this minute; retry after {headers['Retry-After']} s, or ask an admin for a "
                "higher limit",
                max(1, verdict.retry_after),
                headers,
            )
        if verdict.outcome == -3:
            headers["Retry-After"] = str(max(1, verdict.retry_after))
            raise QuotaExceeded(
                f"key {verdict.name!r} has {max(0, verdict.articles_left)} of its "
                f"{verdict.articles_per_day} articles a day left, fewer than this request "
                f"holds; retry after {headers['Retry-After']} s (the day's end, UTC), or ask "
                "an admin for a higher limit",
                max(1, verdict.retry_after),
                headers,
            )
        return Grant(verdict.name, verdict.scopes, digest, headers)


def _bearer(header: str | None) -> str:
    """The key of an `Authorization: Bearer <key>` header; Unauthorized saying what to send."""
    if not header:
        raise Unauthorized(
            "this request needs an API key: send 'Authorization: Bearer <key>' (an admin "
            "makes keys with `dedup keys create`)"
        )
    kind, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if kind.lower() != "bearer" or not secret:
        raise Unauthorized("send the API key as 'Authorization: Bearer <key>'")
    if not _WELL_FORMED.match(secret):
        raise Unauthorized(
            "this is not a dedup API key (they are 'dedup_' and 43 letters, digits, '-' "
            "or '_'): check what was pasted"
        )
    return secret
