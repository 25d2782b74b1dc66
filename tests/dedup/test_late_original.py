"""Stream order: a crawler meets the scrape first and its source later; once the source is
stored the scrape is counted as its copy (once), and copy.found goes out for it."""

from datetime import UTC, datetime
from typing import Any

from dedup.config import Settings
from dedup.runtime import open_runtime
from dedup.services.detector import ArticleInput


def test_a_copy_stored_before_its_original_is_counted_once_the_original_comes(
    settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    allowed = settings.model_copy(update={"webhook_allow_private": True})
    with open_runtime(allowed) as runtime:
        runtime.hooks.register("http://127.0.0.1:9/hook", ["copy.found"], "s" * 32)
        text = bbc[342]["text"]

        def store(url: str, body: str, hour: int) -> None:
            when = datetime(2005, 1, 2, hour, 0, tzinfo=UTC)
            result = runtime.detector.ingest(ArticleInput(url=url, text=body, published_at=when))
            runtime.sites.finish_ingest(result, deferred=False)

        store("https://farm.example/late/1", f"Admin\n\n{text}\n\nSource link", 10)
        farm = runtime.sites.figures("farm.example")
        assert (farm.articles, farm.copies, runtime.hooks.pending()) == (1, 0, 0)
        store("https://www.bbc.co.uk/late/1", text, 8)  # published two hours before the scrape
        farm = runtime.sites.figures("farm.example")
        assert (farm.articles, farm.copies, farm.sources) == (1, 1, {"bbc.co.uk": 1})
        assert runtime.sites.figures("bbc.co.uk").copied == 1
        assert runtime.hooks.pending() == 1  # copy.found, for the scrape
        store("https://www.bbc.co.uk/late/1", text, 8)  # the source again: nothing twice
        assert runtime.sites.figures("farm.example").copies == 1
        assert runtime.hooks.pending() == 1
