"""Logging for every process of the service: one format, the level from DEDUP_LOG_LEVEL."""

import logging
import sys
import uuid

from dedup.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: Settings) -> None:
    """Log to standard error at the configured level (once per process)."""
    logging.basicConfig(level=settings.log_level.upper(), format=FORMAT, stream=sys.stderr)


def incident_id() -> str:
    """A short id that ties an answer (a JSON 500, a failed scan line) to its log line."""
    return uuid.uuid4().hex[:12]
