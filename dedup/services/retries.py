"""Retrying a step while Redis is unreachable: a worker's job outlives a Redis restart.

Used by the scan protocol and the Sites service alike (neither imports the other for it).
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from dedup.errors import StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
STORE_RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0)  # transient Redis errors inside a job


def with_store_retries(action: Callable[[], T]) -> T:
    """Run an action, retrying with backoff while Redis is unreachable."""
    for pause in STORE_RETRY_SECONDS:
        try:
            return action()
        except StoreUnavailable as exc:
            log.warning("Redis unavailable (%s); retrying in %.1f s", exc, pause)
            time.sleep(pause)
    return action()
