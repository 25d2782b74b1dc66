"""Start and stop what a process needs: Redis (given or embedded), store, extractor, detector."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis
import redis.cluster
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from dedup.config import Settings
from dedup.detector import Detector
from dedup.embedded import EmbeddedRedis, process_client_name
from dedup.errors import InvalidSettings, StoreUnavailable
from dedup.extract import HtmlExtractor
from dedup.store import Client, ScanStore, SiteStore, Store

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
    client: Client
    detector: Detector
    scans: ScanStore
    sites: SiteStore
    embedded: EmbeddedRedis | None
    redis_url: str
    queue_client: redis.Redis | None  # None: the index is a Redis Cluster, no DEDUP_QUEUE_URL

    def queue_connection(self) -> redis.Redis:
        """The worker queue's Redis, or InvalidSettings saying how to get one."""
        if self.queue_client is None:
            raise InvalidSettings(QUEUE_ON_CLUSTER)
        return self.queue_client


CLUSTER_SCHEME = "redis+cluster://"  # DEDUP_REDIS_URL of a Redis Cluster (any one node)


def connect(url: str) -> Client:
    """A Redis client with short timeouts: redis://, rediss:// or unix:// for one server,
    redis+cluster://host:port (any node) for a Redis Cluster."""
    if url.startswith(CLUSTER_SCHEME):
        try:  # unlike a single server's client, redis-py's cluster client connects at once
            return redis.cluster.RedisCluster.from_url(
                "redis://" + url.removeprefix(CLUSTER_SCHEME),
                socket_timeout=SOCKET_TIMEOUT_SECONDS,
                socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                client_name=process_client_name(),
            )
        except (redis.RedisError, redis.exceptions.RedisClusterException) as exc:
            raise StoreUnavailable(f"Redis Cluster at {url} did not answer: {exc}") from exc
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=30,
        retry=RETRY,
        client_name=process_client_name(),
    )


QUEUE_ON_CLUSTER = (
    "the worker queue needs a plain Redis, not a Redis Cluster (RQ's commands span slots): "
    "set DEDUP_QUEUE_URL to redis://host:port of one server"
)


def queue_client(settings: Settings, url: str, client: Client | None = None) -> redis.Redis:
    """The plain Redis of the worker queue: DEDUP_QUEUE_URL, else the index's own (`url`,
    whose open client is reused when given); InvalidSettings where that is a Redis Cluster."""
    queue_url = settings.queue_url or url
    if queue_url.startswith(CLUSTER_SCHEME):
        raise InvalidSettings(QUEUE_ON_CLUSTER)
    if settings.queue_url is None and isinstance(client, redis.Redis):
        return client
    queue = connect(queue_url)
    assert isinstance(queue, redis.Redis)  # not the cluster scheme
    return queue


@contextmanager
def open_runtime(settings: Settings) -> Iterator[Runtime]:
    """Connect to DEDUP_REDIS_URL, or start the embedded server; stop everything on exit."""
    embedded = None if settings.redis_url else EmbeddedRedis(settings.data_dir)
    url = settings.redis_url or embedded.url  # type: ignore[union-attr]
    client = connect(url)
    try:
        queue: redis.Redis | None = queue_client(settings, url, client)
    except InvalidSettings:  # only commands that queue work need it: they say so
        queue = None
    extractor = HtmlExtractor(settings.html_timeout_seconds)
    try:
        detector = Detector(Store.for_settings(client, settings), settings, extractor)
        scans = ScanStore(client, settings.key_prefix, settings.scan_ttl_seconds)
        sites = SiteStore(client, settings.key_prefix)
        yield Runtime(settings, client, detector, scans, sites, embedded, url, queue)
    finally:
        extractor.close()
        client.close()
        if queue is not None and queue is not client:
            queue.close()
        if embedded is not None:
            embedded.stop()
