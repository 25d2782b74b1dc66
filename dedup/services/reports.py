"""Saved reports: an article's evidence report kept as it was, under a stable link.

A verdict changes as the index grows (a late original, a new copy); an analyst who sends a
report wants the one they read. Saving keeps the rendered report page under an unguessable
token (`secrets.token_urlsafe`), served at /reports/<token> until deleted.
"""

import re
import secrets

from dedup.errors import NotFound
from dedup.store.reports import ReportStore, SavedReport

_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")  # what token_urlsafe(16) makes


class Reports:
    def __init__(self, store: ReportStore) -> None:
        self.store = store

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(16)

    def save(self, token: str, article_id: str, made_at: str, html: str) -> SavedReport:
        saved = SavedReport(token, article_id, made_at, html)
        self.store.save(saved)
        return saved

    def get(self, token: str) -> SavedReport:
        """A saved report, or NotFound (a malformed token is never looked up)."""
        found = self.store.load(token) if _TOKEN.fullmatch(token) else None
        if found is None:
            raise NotFound(f"no saved report {token[:40]!r}: check the link you were sent")
        return found
