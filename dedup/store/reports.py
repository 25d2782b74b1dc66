"""Saved reports: a report page as it was when saved, under a token (see `keys.report`)."""

import zlib
from dataclasses import dataclass

from dedup.store.client import Client, run_commands
from dedup.store.codecs import text_of
from dedup.store.keys import report


@dataclass(frozen=True, slots=True)
class SavedReport:
    token: str
    article_id: str
    made_at: str
    html: str


class ReportStore:
    def __init__(self, client: Client, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def save(self, saved: SavedReport) -> None:
        fields = {
            "article_id": saved.article_id,
            "made_at": saved.made_at,
            "html": zlib.compress(saved.html.encode(), 6),
        }
        key = report(self._prefix, saved.token)
        run_commands(self._redis, [("hset", (key, None, None, fields))], atomic=False)

    def load(self, token: str) -> SavedReport | None:
        key = report(self._prefix, token)
        (fields,) = run_commands(self._redis, [("hgetall", (key,))], atomic=False)
        if not fields:
            return None
        return SavedReport(
            token,
            text_of(fields[b"article_id"]),
            text_of(fields[b"made_at"]),
            zlib.decompress(fields[b"html"]).decode(),
        )
