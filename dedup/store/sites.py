"""Per-site sums, examples and the copy graph, counted once per article by the follow-ups."""

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from dedup.core.sites import FAST_LAG_SECONDS, Edge, Example, Observation, SiteFigures, hour_of
from dedup.core.sites import share as mean_of
from dedup.store.client import Client, run_commands, run_scripts, unavailable_on_failure
from dedup.store.codecs import text_of
from dedup.store.keys import SiteKeys
from dedup.store.scripts import StoreScript

EXAMPLES_KEPT = 50  # recent copies kept per site as dossier examples
RESCORE_ATTEMPTS = 10


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    return {text_of(flat[i]): text_of(flat[i + 1]) for i in range(0, len(flat), 2)}


def _moment(epoch: str | None) -> datetime | None:
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else None


class SiteStore:
    """Per-site sums, examples and the copy graph of one index."""

    def __init__(self, client: Client, prefix: str) -> None:
        self._redis = client
        self.keys = SiteKeys(prefix)
        self._count = StoreScript(client, "count_article")
        self._figures = StoreScript(client, "site_figures")
        self._set_score = StoreScript(client, "set_score")

    def count(self, seen: Observation, late: bool = False) -> bool:
        """Count an observed article into its site's sums (and the edge to its source), once.
        Returns False when it was counted before. `late`: the article was counted before as
        no copy (its source was not stored yet) and is now a copy: count the copy alone."""
        keys = self.keys
        source = seen.source_site or seen.site
        example = json.dumps(
            [
                seen.article_id,
                seen.source_id,
                source,
                seen.copy_type,
                seen.credited,
                seen.lag_seconds,
            ]
        )
        names = {
            "counted": keys.counted,
            "site": keys.site(seen.site),
            "sources": keys.part(seen.site, "sources"),
            "copiers": keys.part(source, "copiers"),
            "lags": keys.part(seen.site, "lags"),
            "hours": keys.part(seen.site, "hours"),
            "source_copied": keys.part(source, "copied"),
            "source_site": keys.site(source),
            "examples": keys.part(seen.site, "examples"),
            "edge": keys.edge(seen.site, source),
            "by_size": keys.by_size,
            "by_score": keys.by_score,
            "totals": keys.totals,
            "copy_counted": keys.copy_counted,
        }
        args = {
            "id": seen.article_id,
            "is_copy": int(seen.is_copy),
            "credited": int(seen.credited),
            "source": source,
            "site_name": seen.site,
            "lag": seen.lag_seconds or 0,
            "hour": hour_of(seen.when),
            "copy_type": seen.copy_type or "",
            "marker_kinds": ",".join(seen.marker_kinds),
            "source_id": seen.source_id or 0,
            "when": int(seen.when.timestamp()),
            "example": example,
            "keep": EXAMPLES_KEPT,
            "fast_lag": FAST_LAG_SECONDS,
            "late": int(late),
            "unknown": int(seen.unknown_source),
        }
        (counted,) = run_scripts(self._redis, [(self._count, names, args)])
        return bool(counted)

    def figures(self, site: str) -> tuple[SiteFigures, str]:
        """A site's sums (all zero for an unknown site) and their version."""
        keys = self.keys
        names = {
            "site": keys.site(site),
            **{part: keys.part(site, part) for part in ("lags", "hours", "sources", "copiers")},
        }
        ((raw, median, p90, hours, busiest, sources, copiers),) = run_scripts(
            self._redis, [(self._figures, names, {})]
        )
        fields = _pairs(raw)

        def number(name: str) -> int:
            return int(fields.get(name, 0))

        return SiteFigures(
            site=site,
            articles=number("articles"),
            copies=number("copies"),
            credited_copies=number("credited_copies"),
            fast_copies=number("fast_copies"),
            copied=number("copied"),
            copy_types={k[5:]: int(v) for k, v in fields.items() if k.startswith("type:")},
            markers={k[7:]: int(v) for k, v in fields.items() if k.startswith("marker:")},
            lag_median_seconds=int(float(median)) if median else None,
            lag_p90_seconds=int(float(p90)) if p90 else None,
            sources={k: int(float(v)) for k, v in _pairs(sources).items()},
            copiers={k: int(float(v)) for k, v in _pairs(copiers).items()},
            first_seen=_moment(fields.get("first_seen")),
            last_seen=_moment(fields.get("last_seen")),
            active_hours=int(hours),
            busiest_hour=int(busiest),
        ), fields.get("version", "0")

    def rescore(self, site: str, score_of: Callable[[SiteFigures], float]) -> float:
        """Recompute a site's stored score from its sums; retried until no other count
        changed them in between, so the stored score always matches the final sums."""
        value = 0.0
        for _ in range(RESCORE_ATTEMPTS):
            figures, version = self.figures(site)
            value = score_of(figures)
            names = {"site": self.keys.site(site), "by_score": self.keys.by_score}
            args = {"version": version, "score": value, "site_name": site}
            if run_scripts(self._redis, [(self._set_score, names, args)])[0]:
                return value
        return value

    def ranked(self, min_articles: int, offset: int, limit: int) -> tuple[list[str], int]:
        """(sites by stored farm score, highest first, with at least `min_articles`, one
        page; how many sites pass the filter)."""
        ordered, big_enough = run_commands(
            self._redis,
            [
                ("zrevrange", (self.keys.by_score, 0, -1)),
                ("zrangebyscore", (self.keys.by_size, min_articles, "+inf")),
            ],
            atomic=False,
        )
        keep = {text_of(s) for s in big_enough}
        passing = [text_of(s) for s in ordered if text_of(s) in keep]
        return passing[offset : offset + limit], len(passing)

    def forget(self, articles: Sequence[tuple[int, str]]) -> None:
        """Drop evicted (id, site) articles from the per-article parts of the site sums (the
        counted set and the lag sets); the totals and the copy graph keep their history."""
        commands: list[tuple[str, tuple[Any, ...]]] = []
        for doc_id, site in articles:
            commands.append(("srem", (self.keys.counted, doc_id)))
            commands.append(("srem", (self.keys.copy_counted, doc_id)))
            commands.append(("zrem", (self.keys.part(site, "lags"), doc_id)))
        if commands:
            run_commands(self._redis, commands, atomic=False)

    def examples(self, site: str) -> list[Example]:
        with unavailable_on_failure():
            raw = self._redis.lrange(self.keys.part(site, "examples"), 0, -1)
        return [Example(*json.loads(item)) for item in raw]

    def edges(self, site: str, direction: str) -> list[Edge]:
        """Copy edges out of a site (direction 'sources') or into it ('copiers'), most
        copies first."""
        figures, _ = self.figures(site)
        others = figures.sources if direction == "sources" else figures.copiers
        pairs = [(site, o) if direction == "sources" else (o, site) for o in others]
        replies = run_commands(
            self._redis,
            [("hgetall", (self.keys.edge(copier, source),)) for copier, source in pairs],
            atomic=False,
        )
        edges = []
        for (copier, source), raw in zip(pairs, replies, strict=True):
            fields = {text_of(k): text_of(v) for k, v in raw.items()}
            copies = int(fields.get("copies", 0))
            lag = mean_of(int(fields.get("lag_seconds", 0)), copies)
            edges.append(Edge(copier, source, copies, int(fields.get("credited", 0)), lag))
        return sorted(edges, key=lambda e: (-e.copies, e.copier, e.source))

    def totals(self) -> dict[str, int]:
        """Articles counted and copies by type, over the index's life (for the metrics)."""
        (found,) = run_commands(self._redis, [("hgetall", (self.keys.totals,))], atomic=False)
        return {text_of(k): int(v) for k, v in found.items()}

    def series(self, site: str, limit: int = 10_000) -> tuple[list[int], dict[int, int]]:
        """A site's lags behind the originals it copied (seconds; the shortest `limit`) and
        its articles per clock hour (hours since the epoch), for charts; one round trip."""
        keys = self.keys
        lags, hours = run_commands(
            self._redis,
            [
                ("zrange", (keys.part(site, "lags"), 0, limit - 1, False, True)),
                ("hgetall", (keys.part(site, "hours"),)),
            ],
            atomic=False,
        )
        return (
            [int(score) for _, score in lags],
            {int(text_of(k)): int(v) for k, v in hours.items()},
        )
