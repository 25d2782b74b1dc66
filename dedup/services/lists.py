"""A deployment's watched sites and exclusions: managed through the API and the CLI, read
by every check (`Lists.current`, refreshed at most every DEDUP_POLICY_REFRESH_SECONDS).

Watched sites only raise alerts (webhooks with `watched_only`); excluded sites and
boilerplate phrases change what a check finds (see `dedup.core.policy`).
"""

import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal

import xxhash

from dedup.core.policy import MIN_PHRASE_CHARS, Policy
from dedup.core.text import unicode_problem
from dedup.errors import InvalidRequest, NotFound
from dedup.store.access import PolicyStore

SiteList = Literal["watched", "excluded"]
MAX_SITE_CHARS = 253
MAX_PHRASE_CHARS = 2_000
MAX_ITEMS = 1_000  # per request


def site_name(text: str) -> str:
    """A site as lists keep it (as articles name their sites: lower case, no 'www.');
    InvalidRequest when it cannot be one.

    >>> site_name(" WWW.Example.com ")
    'example.com'
    """
    site = text.strip().lower().removeprefix("www.")
    if not site or len(site) > MAX_SITE_CHARS or any(c.isspace() for c in site):
        raise InvalidRequest(
            f"site {text[:80]!r}: a site is 1-{MAX_SITE_CHARS} characters without spaces, as "
            "articles name it (a host such as example.com)"
        )
    if problem := unicode_problem(site):
        raise InvalidRequest(f"site {problem}")
    return site


def phrase_id(phrase: str) -> str:
    """A phrase's id: the same words (any case, any spacing) give the same id."""
    return xxhash.xxh3_64_hexdigest(" ".join(phrase.lower().split()).encode())


class Lists:
    """Watched sites, excluded sites and boilerplate phrases of one deployment."""

    def __init__(
        self,
        store: PolicyStore,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._policy = Policy()
        self._version = -1
        self._read_at = -float("inf")
        self._lock = threading.Lock()

    def current(self) -> Policy:
        """The policy now: read again when DEDUP_POLICY_REFRESH_SECONDS have passed and it
        changed (one GET), so that a change reaches every process within that time."""
        now = self.clock()
        if now - self._read_at < self.refresh_seconds and self._version >= 0:
            return self._policy
        with self._lock:
            if self._version < 0 or self.store.version() != self._version:
                lists = self.store.read()
                self._policy = Policy(lists.excluded, tuple(lists.phrases.values()), lists.watched)
                self._version = lists.version
            self._read_at = now
        return self._policy

    def sites(self, which: SiteList) -> list[str]:
        lists = self.store.read()
        return sorted(lists.watched if which == "watched" else lists.excluded)

    def add_sites(self, which: SiteList, sites: Sequence[str]) -> list[str]:
        """Add sites to a list; the names as kept."""
        if not sites or len(sites) > MAX_ITEMS:
            raise InvalidRequest(f"send 1 to {MAX_ITEMS} sites")
        names = sorted({site_name(s) for s in sites})
        self.store.add_sites(which, names)
        return names

    def remove_site(self, which: SiteList, site: str) -> None:
        if not self.store.remove_site(which, site_name(site)):
            raise NotFound(f"site {site!r} is not on the {which} list")

    def phrases(self) -> dict[str, str]:
        return dict(sorted(self.store.read().phrases.items()))

    def add_phrases(self, phrases: Sequence[str]) -> dict[str, str]:
        """Add boilerplate phrases; their ids (the same words give the same id)."""
        if not phrases or len(phrases) > MAX_ITEMS:
            raise InvalidRequest(f"send 1 to {MAX_ITEMS} phrases")
        kept: dict[str, str] = {}
        for phrase in phrases:
            text = " ".join(phrase.split())
            if not MIN_PHRASE_CHARS <= len(text) <= MAX_PHRASE_CHARS:
                raise InvalidRequest(
                    f"phrase {text[:60]!r}: a phrase is {MIN_PHRASE_CHARS}-{MAX_PHRASE_CHARS} "
                    "characters (a shorter one would blank ordinary words)"
                )
            if problem := unicode_problem(text):
                raise InvalidRequest(f"phrase {problem}")
            kept[phrase_id(text)] = text
        self.store.add_phrases(kept)
        return kept

    def remove_phrase(self, phrase_id: str) -> None:
        if not self.store.remove_phrase(phrase_id):
            raise NotFound(f"no phrase with id {phrase_id!r} (see GET /v1/exclusions)")
