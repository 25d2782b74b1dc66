"""Redis clients with the service's timeouts: one server, a Redis Cluster, the queue's."""

import redis
import redis.cluster
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from dedup.errors import InvalidSettings, StoreUnavailable
from dedup.runtime.embedded import process_client_name
from dedup.store import Client

# Fail fast when Redis is gone, so a request answers 503 within a second instead of hanging;
# two quick retries ride out a blip (redis-py's default backs off for seconds).
SOCKET_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2.0
RETRY = Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2)
CLUSTER_SCHEME = "redis+cluster://"  # DEDUP_REDIS_URL of a Redis Cluster (any one node)
QUEUE_ON_CLUSTER = (
    "the worker queue needs a plain Redis, not a Redis Cluster (RQ's commands span slots): "
    "set DEDUP_QUEUE_URL to redis://host:port of one server"
)


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
    try:
        return redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            health_check_interval=30,
            retry=RETRY,
            client_name=process_client_name(),
        )
    except ValueError as exc:  # redis-py names what is wrong with the url
        raise InvalidSettings(f"DEDUP_REDIS_URL / DEDUP_QUEUE_URL {url!r}: {exc}") from exc


def queue_client(queue_url: str | None, url: str, client: Client | None = None) -> redis.Redis:
    """The plain Redis of the worker queue: `queue_url` (DEDUP_QUEUE_URL), else the index's
    own (`url`, whose open client is reused when given); InvalidSettings where that is a
    Redis Cluster."""
    chosen = queue_url or url
    if chosen.startswith(CLUSTER_SCHEME):
        raise InvalidSettings(QUEUE_ON_CLUSTER)
    if queue_url is None and isinstance(client, redis.Redis):
        return client
    queue = connect(chosen)
    assert isinstance(queue, redis.Redis)  # not the cluster scheme
    return queue
