"""Logging for every process of the service: one format, the level from DEDUP_LOG_LEVEL.

DEDUP_LOG_FORMAT=text (the default) writes lines for people; json writes one JSON object a
line (python-json-logger) for a log pipeline. Either way a line written while a request is
served carries its request id, the id the answer's X-Request-ID header gives.
"""

import contextvars
import logging
import sys
import uuid
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from dedup.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(request_tag)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d"

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


_make_record = logging.getLogRecordFactory()


def _record_with_request(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every log record, of any logger, carries the request being served (if any):
    `request_id`, and for the text format `request_tag` (' [<id>]' or '')."""
    record = _make_record(*args, **kwargs)
    given = request_id.get()
    record.request_id = given
    record.request_tag = f" [{given}]" if given else ""
    return record


logging.setLogRecordFactory(_record_with_request)


def handler_for(settings: Settings) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
        )
    else:
        handler.setFormatter(logging.Formatter(FORMAT))
    return handler


def configure_logging(settings: Settings) -> None:
    """Log to standard error at the configured level, in the configured format (the root
    logger's handlers are replaced: uvicorn's and RQ's lines come out the same way)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler_for(settings))
    root.setLevel(settings.log_level.upper())


def incident_id() -> str:
    """A short id that ties an answer (a JSON 500, a failed scan line) to its log line."""
    return uuid.uuid4().hex[:12]
