"""Webhooks: events (`copy.found`, `scan.finished`) delivered by the workers, signed.

An event is stored once (by its key: the copy's article id, the scan's id) with one delivery
per webhook that wants it, due at once. `dedup worker` claims due deliveries every second
(under a lease, so that a worker that dies mid-delivery leaves it to the next) and queues a
job for each; the job POSTs the event and logs the attempt. A failed attempt (no answer, or
not a 2xx) is due again after the next of DEDUP_WEBHOOK_RETRY_SECONDS, then given up.

Each POST carries `X-Dedup-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
under the webhook's secret, `X-Dedup-Event` and `X-Dedup-Delivery` (the same id on every
attempt: receivers drop repeats by it). `verify_signature` checks one, as a receiver would.

Targets are http(s) urls whose host resolves to public addresses only, checked when the
webhook is made and again at each delivery (the connection goes to the address checked);
DEDUP_WEBHOOK_ALLOW_PRIVATE=true allows loopback and private networks too.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from dedup import __version__
from dedup.config import Settings
from dedup.core.result import Result
from dedup.core.sites import Observation
from dedup.errors import InvalidRequest, NotFound
from dedup.store.hooks import HookStore
from dedup.store.scans import ScanState

log = logging.getLogger(__name__)

EVENTS = ("copy.found", "scan.finished")
EVENT_TTL_SECONDS = 7 * 24 * 3600  # an event not delivered by then is forgotten
LEASE_SECONDS = 120.0  # a claimed delivery is claimed again after this (its worker died)
CLAIM_BATCH = 100
MAX_SECRET_CHARS = 256
MIN_SECRET_CHARS = 16
SIGNATURE_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header of a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """Whether an `X-Dedup-Signature` header signs this body under `secret`, sent within
    `tolerance` seconds of `now` (a replayed old delivery fails).

    >>> verify_signature("s" * 16, sign("s" * 16, 1000, b"{}"), b"{}", now=1010)
    True
    """
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass(frozen=True, slots=True)
class Target:
    """A webhook url, split, with the address its host resolved to (and was checked)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


# Addresses a webhook may never reach unless DEDUP_WEBHOOK_ALLOW_PRIVATE, listed explicitly:
# `is_global` alone let NAT64 (64:ff9b::/96 maps IPv4, loopback included), 6to4 (2002::/16)
# and the deprecated site-local fec0::/10 through. IPv4 embedded in those is checked too.
BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
        "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8",
    )
)  # fmt: skip


def blocked_address(address: str) -> bool:
    """Whether an address is loopback, private, reserved or a tunnel to one.

    >>> [blocked_address(a) for a in ("93.184.215.14", "64:ff9b::7f00:1", "2002:7f00:1::1")]
    [False, True, True]
    >>> [blocked_address(a) for a in ("fec0::1", "::ffff:127.0.0.1", "2606:4700::1111")]
    [True, True, False]
    """
    ip = ipaddress.ip_address(address.split("%")[0])
    if any(ip in network for network in BLOCKED_NETWORKS if network.version == ip.version):
        return True
    return not ip.is_global


def normalised_url(url: str) -> str:
    """The url as it goes on the wire: its host in IDNA (ASCII), its path and query
    percent-encoded as UTF-8; InvalidRequest for a host IDNA refuses.

    >>> normalised_url("https://bücher.example/häuser?q=é")
    'https://xn--bcher-kva.example/h%C3%A4user?q=%C3%A9'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise InvalidRequest(f"webhook host {host!r} is not a valid domain name: {exc}") from exc
    netloc = ascii_host if ":" not in ascii_host else f"[{ascii_host}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="=&/%:@!$'()*+,;-._~?")
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def resolve_target(url: str, allow_private: bool) -> Target:
    """The url's parts and a checked address; InvalidRequest saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"webhook url {url[:200]!r}: only http:// and https:// urls")
    if parts.username or parts.password:
        raise InvalidRequest("webhook url: no credentials in the url; the secret signs bodies")
    parts = urlsplit(normalised_url(url))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidRequest(f"webhook url {url[:200]!r}: {exc}") from exc
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidRequest(f"webhook host {parts.hostname!r} does not resolve: {exc}") from exc
    addresses = [str(info[4][0]) for info in found]
    if not allow_private:
        for address in addresses:
            if blocked_address(address):
                raise InvalidRequest(
                    f"webhook host {parts.hostname!r} resolves to {address}, a loopback, "
                    "private or reserved address: only public targets are allowed "
                    "(DEDUP_WEBHOOK_ALLOW_PRIVATE=true allows them)"
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname or "", port, path, addresses[0])


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address that still verifies the host's certificate."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST to the checked address (never a redirect); the status the receiver answered."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPS(target, timeout)
    else:
        connection = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    try:
        host = target.host if ":" not in target.host else f"[{target.host}]"
        default = 443 if target.scheme == "https" else 80
        headers = {"Host": host if target.port == default else f"{host}:{target.port}", **headers}
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65_536)
        return response.status
    finally:
        connection.close()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Hooks:
    """Registers webhooks, emits events to them, and delivers (in the workers)."""

    def __init__(
        self,
        store: HookStore,
        settings: Settings,
        queue_delivery: Callable[[str], None],
        clock: Callable[[], float] = time.time,
        send: Callable[[Target, bytes, dict[str, str], float], int] = post,
    ) -> None:
        self.store = store
        self.settings = settings
        self.queue_delivery = queue_delivery
        self.clock = clock
        self.send = send

    # -- managing ------------------------------------------------------------------------

    def register(
        self, url: str, events: Sequence[str], secret: str, watched_only: bool = False
    ) -> dict[str, Any]:
        unknown = sorted(set(events) - set(EVENTS))
        if unknown or not events:
            problem = f"unknown event(s) {', '.join(unknown)}" if unknown else "no event given"
            raise InvalidRequest(f"{problem}: choose from {', '.join(EVENTS)}")
        if not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS:
            raise InvalidRequest(
                f"the secret is {len(secret)} characters; use {MIN_SECRET_CHARS}-"
                f"{MAX_SECRET_CHARS} (e.g. `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`)"
            )
        resolve_target(url, self.settings.webhook_allow_private)
        hook_id = secrets.token_hex(8)
        hook = {
            "url": normalised_url(url),  # what is delivered to, ASCII as on the wire
            "events": sorted(set(events)),
            "secret": secret,
            "watched_only": watched_only,
            "created_at": _now_iso(),
        }
        self.store.add(hook_id, hook)
        return {"id": hook_id, **hook}

    def all(self) -> dict[str, dict[str, Any]]:
        return self.store.all()

    def get(self, hook_id: str) -> dict[str, Any]:
        hook = self.store.all().get(hook_id)
        if hook is None:
            raise NotFound(f"no webhook with id {hook_id!r} (see GET /v1/webhooks)")
        return {"id": hook_id, **hook}

    def remove(self, hook_id: str) -> None:
        if not self.store.remove(hook_id):
            raise NotFound(f"no webhook with id {hook_id!r} (see GET /v1/webhooks)")

    def deliveries(self, hook_id: str, limit: int = 50) -> list[dict[str, Any]]:
        self.get(hook_id)
        return self.store.log(hook_id, limit)

    def stats(self) -> dict[str, int]:
        """Delivery attempts by outcome (delivered, failed, given_up), over the index's life."""
        return self.store.stats()

    def pending(self) -> int:
        """Deliveries not yet made or due for a retry."""
        return self.store.pending()

    # -- emitting ------------------------------------------------------------------------

    def emit(self, event: str, key: str, data: dict[str, Any], watched: bool = False) -> int:
        """Store an event for every webhook that wants it (once per `key`); how many
        deliveries it made (0 also when it was emitted before)."""
        hooks = self.store.all()
        wanted = [
            hook_id
            for hook_id, hook in hooks.items()
            if event in hook["events"] and (watched or not hook.get("watched_only"))
        ]
        if not wanted:
            return 0
        event_id = secrets.token_hex(8)
        body = {"id": event_id, "type": event, "created_at": _now_iso(), "data": data}
        deliveries = [
            (
                f"{hook_id}-{event_id}",
                json.dumps({"hook": hook_id, "event": event, "body": body, "attempt": 0}),
            )
            for hook_id in wanted
        ]
        emitted = self.store.emit(f"{event}:{key}", deliveries, self.clock(), EVENT_TTL_SECONDS)
        return len(deliveries) if emitted else 0

    def copy_found(self, result: Result, seen: Observation, watched: frozenset[str]) -> int:
        """`copy.found` for an article just counted as a copy of another site's article."""
        if not seen.is_copy or seen.source_id is None:
            return 0
        match = next((m for m in result.matches if m.article.id == seen.source_id), None)
        if match is None:
            return 0
        copy, original = result.article, match.article

        def party(article: Any) -> dict[str, Any]:
            return {
                "id": str(article.id),
                "url": article.url,
                "site": article.site,
                "published_at": article.published_at.isoformat() if article.published_at else None,
                "first_seen_at": article.first_seen_at.isoformat(),
            }

        data = {
            "copy": party(copy),
            "original": party(original),
            "relation": match.relation,
            "copy_type": seen.copy_type,
            "reuse": round(match.reuse, 4),
            "credited": seen.credited,
            "lag_seconds": seen.lag_seconds,
            "watched": original.site in watched,
        }
        return self.emit("copy.found", str(copy.id), data, watched=original.site in watched)

    def scan_finished(self, state: ScanState) -> int:
        """`scan.finished` for a scan that ended (done, failed or cancelled)."""
        data = {
            "scan_id": state.id,
            "status": state.status.value,
            "total": state.total,
            "processed": state.processed,
            "stored": state.stored,
            "already_stored": state.already_stored,
            "with_copies": state.duplicates_found,
            "failed": state.failed,
            "finished_at": state.finished_at.isoformat() if state.finished_at else None,
        }
        return self.emit("scan.finished", state.id, data)

    # -- delivering (workers) ------------------------------------------------------------

    def pump(self) -> int:
        """Queue a delivery job for each delivery that is due; how many."""
        ids = self.store.claim(self.clock(), LEASE_SECONDS, CLAIM_BATCH)
        for delivery_id in ids:
            self.queue_delivery(delivery_id)
        return len(ids)

    def deliver(self, delivery_id: str) -> str:
        """Make one attempt of a delivery and log it: 'delivered', 'retry', 'given_up' or
        'gone' (its webhook was removed, or it was delivered already)."""
        pending = self.store.delivery(delivery_id)
        if pending is None:
            return "gone"
        hook_id = pending["hook"]
        hook = self.store.all().get(hook_id)
        if hook is None:
            self.store.drop(delivery_id)
            return "gone"
        attempt = int(pending["attempt"]) + 1
        body = json.dumps(pending["body"], separators=(",", ":")).encode()
        started = self.clock()
        status: int | None = None
        error: str | None = None
        try:
            target = resolve_target(hook["url"], self.settings.webhook_allow_private)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": f"dedup-webhooks/{__version__}",
                "X-Dedup-Event": pending["event"],
                "X-Dedup-Delivery": delivery_id,
                "X-Dedup-Signature": sign(hook["secret"], int(started), body),
            }
            status = self.send(target, body, headers, self.settings.webhook_timeout_seconds)
            if not 200 <= status < 300:
                error = f"the receiver answered {status}"
        except (OSError, http.client.HTTPException, InvalidRequest, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug must still be logged as an attempt, and retried
            error = f"unexpected {type(exc).__name__}: {exc}"
            log.exception("webhook %s: delivery %s failed unexpectedly", hook_id, delivery_id)
        retries = self.settings.webhook_retries
        outcome = (
            "delivered" if error is None else "retry" if attempt <= len(retries) else "given_up"
        )
        retry_at = started + retries[attempt - 1] if outcome == "retry" else None
        entry = {
            "delivery_id": delivery_id,
            "event": pending["event"],
            "event_id": pending["body"]["id"],
            "attempt": attempt,
            "at": datetime.fromtimestamp(started, UTC).isoformat(timespec="milliseconds"),
            "status_code": status,
            "error": error,
            "outcome": outcome,
            "duration_ms": round((self.clock() - started) * 1000, 1),
            "next_attempt_at": (
                datetime.fromtimestamp(retry_at, UTC).isoformat(timespec="seconds")
                if retry_at is not None
                else None
            ),
        }
        self.store.record(
            hook_id,
            delivery_id,
            entry,
            outcome=outcome,
            retry_at=retry_at,
            payload={**pending, "attempt": attempt},
        )
        log_at = logging.INFO if outcome == "delivered" else logging.WARNING
        log.log(
            log_at,
            "webhook %s: %s attempt %d %s%s",
            hook_id,
            pending["event"],
            attempt,
            outcome,
            f" ({error})" if error else "",
        )
        return outcome
