"""Main text and metadata of an HTML page (trafilatura), in bounded time.

`extract_html` is pure. `HtmlExtractor` runs it in child processes it can kill: trafilatura
takes minutes on some hostile pages (one tag with 200,000 attributes ran for over 120 s
here), and a thread cannot be stopped.
"""

import multiprocessing
import threading
from concurrent.futures import TimeoutError
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pebble import ProcessExpired, ProcessPool

from dedup.errors import InvalidArticle


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a page says about itself: main text, title, canonical url, date."""

    text: str
    title: str | None = None
    canonical_url: str | None = None
    published_at: datetime | None = None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def extract_html(html: str) -> Extracted:
    """The main text of a page without navigation, ads and comments.

    >>> page = "<html><head><title>T</title></head><body><nav>Home</nav><article>"
    >>> page += "<p>" + "The talks ended without a deal on Tuesday. " * 8 + "</p>"
    >>> page += "</article></body></html>"
    >>> extract_html(page).text.startswith("The talks ended")
    True
    """
    from trafilatura import bare_extraction, baseline  # heavy: only where HTML arrives

    document = bare_extraction(html, with_metadata=True, include_comments=False)
    if document is None:
        fields: dict[str, Any] = {}
    elif isinstance(document, dict):  # older trafilatura versions return a dict
        fields = document
    else:
        fields = document.as_dict()
    text = (fields.get("text") or "").strip()
    if not text:  # the main-text heuristics found nothing: fall back to all visible text
        text = baseline(html)[1].strip()
    return Extracted(
        text=text,
        title=fields.get("title") or None,
        canonical_url=fields.get("url") or None,
        published_at=_parse_date(fields.get("date")),
    )


class HtmlExtractor:
    """Runs `extract_html` in a small pool of child processes (pebble). Each page's time
    limit counts from when a process starts on it, and a page over its limit kills only
    the process working on it (a new one takes its place): one client's hostile pages
    cannot fail another client's ordinary ones, only make them wait for a free process."""

    def __init__(self, timeout_seconds: float, processes: int = 2) -> None:
        self._timeout = timeout_seconds
        self._processes = processes
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()

    def _get_pool(self) -> ProcessPool:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                self._pool = ProcessPool(max_workers=self._processes, context=context)
            return self._pool

    def extract(self, html: str) -> Extracted:
        """Extract the page, or raise InvalidArticle when it takes too long or fails."""
        pending = self._get_pool().schedule(extract_html, args=(html,), timeout=self._timeout)
        try:
            found: Extracted = pending.result()
        except TimeoutError:
            raise InvalidArticle(
                f"HTML extraction took longer than {self._timeout:g} s and was stopped; "
                "the page is too complex: send its main text as 'text' instead"
            ) from None
        except ProcessExpired as exc:  # the process died on this page (out of memory, ...)
            raise InvalidArticle(
                f"HTML extraction failed (its process ended with code {exc.exitcode}); "
                "send the article's text as 'text' instead"
            ) from exc
        except Exception as exc:  # trafilatura and lxml raise many types on broken markup
            raise InvalidArticle(
                f"HTML could not be parsed ({type(exc).__name__}: {exc}); "
                "send the article's text as 'text' instead"
            ) from exc
        return found

    def close(self) -> None:
        """Stop the child processes."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join()
