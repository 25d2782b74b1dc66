"""Start and stop what a process needs: Redis (given or embedded), store, extractor, detector."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from dedup.config import Settings
from dedup.detector import Detector
from dedup.embedded import EmbeddedRedis, process_client_name
from dedup.extract import HtmlExtractor
from dedup.store import ScanStore, SiteStore, Store

log = logging.getLogger(__name__)

# Fail fast when Redis is gone, so a request answers 503 within a second instead of hanging;
# two quick retries ride out a blip (redis-py's default backs off for seconds).
SOCKET_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2.0
RETRY = Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2)


@dataclass(frozen=True, slots=True)
class Runtime:
    """The live parts of one process."""

    settings: Settings
    client: redis.Redis
    detector: Detector
    scans: ScanStore
    sites: SiteStore
    embedded: EmbeddedRedis | None
    redis_url: str


def connect(url: str) -> redis.Redis:
    """A Redis client with short timeouts (the url may be redis://, rediss:// or unix://)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=30,
        retry=RETRY,
        client_name=process_client_name(),
    )


@contextmanager
def open_runtime(settings: Settings) -> Iterator[Runtime]:
    """Connect to DEDUP_REDIS_URL, or start the embedded server; stop everything on exit."""
    embedded = None if settings.redis_url else EmbeddedRedis(settings.data_dir)
    url = settings.redis_url or embedded.url  # type: ignore[union-attr]
    client = connect(url)
    extractor = HtmlExtractor(settings.html_timeout_seconds)
    try:
        detector = Detector(
            Store(client, settings.key_prefix, settings.anchor_cap), settings, extractor
        )
        scans = ScanStore(client, settings.key_prefix, settings.scan_ttl_seconds)
        sites = SiteStore(client, settings.key_prefix)
        yield Runtime(settings, client, detector, scans, sites, embedded, url)
    finally:
        extractor.close()
        client.close()
        if embedded is not None:
            embedded.stop()
