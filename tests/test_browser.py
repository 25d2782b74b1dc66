"""The analyst's pages in a real browser: Debian's chromium driven by Playwright, against a
real `dedup serve` process on the test's Redis.

Skipped, saying why, where chromium is not installed (`.ci/run` installs it). With
DEDUP_SCREENSHOTS=<folder> the tests also save the screenshots the README shows.
"""

import csv
import os
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from dedup.config import Settings
from dedup.core.markers import find_markers
from dedup.eval.synthetic import spin
from dedup.runtime import Runtime
from tests.conftest import (
    api_server,
    bearer,
    make_key,
    page_session,
    process_env,
    run_queued_jobs,
    seed_text,
    wait_until,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROME = "Sponsor:  NEWS AI\nAdmin\n\n{}\n\nAdvertisement\n\nSource link"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (`apt-get install chromium`; .ci/run does it)",
)


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """A `dedup serve` process on this test's Redis and prefix."""
    with api_server(process_env(settings), tmp_path / "serve.log") as base:
        yield base


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def shot(page: Any, name: str, tmp_path: Path) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=False)
    if folder := os.environ.get("DEDUP_SCREENSHOTS"):
        shutil.copy(tmp_path / name, Path(folder) / name)


def without_signs(text: str) -> str:
    """The text with every republishing marker cut out."""
    for marker in sorted(find_markers(text), key=lambda m: -m.start):
        text = text[: marker.start] + text[marker.end :]
    return text


def test_a_chrome_wrapped_copy_is_shown_beside_its_original_with_the_same_passages(
    served: str,
    browser: Any,
    settings: Settings,
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    key = make_key(settings, "admin")
    api = httpx2.Client(base_url=served, headers=bearer(key), timeout=60)
    # The repository's own articles (no corpus needed), this one without its credit line and
    # chrome: a scrape of an article that carries signs of being copied itself would be its
    # sibling (both copies of a source not stored), not its copy.
    original = without_signs(seed_text("000"))
    stored = api.post(
        "/v1/articles",
        json={
            "url": "https://www.bbc.co.uk/news/story",
            "text": original,
            "published_at": "2005-03-01T08:00:00Z",
        },
    ).json()
    for n, name in enumerate(("002", "003", "004")):  # the farm's earlier copies
        text = seed_text(name)
        api.post("/v1/articles", json={"url": f"https://www.bbc.co.uk/n/{n}", "text": text})
        api.post(
            "/v1/articles", json={"url": f"https://farm.example/{n}", "text": CHROME.format(text)}
        )
    run_queued_jobs(runtime)  # the follow-ups count the sites, as `dedup worker` does
    half = original[len(original) // 2 :]
    copy = CHROME.format(half[half.index(" ") + 1 :])  # the original's second half, scraped

    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page.goto(f"{served}/")
    assert page.url.startswith(f"{served}/login")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")

    page.fill("#text", copy)
    page.fill("#url", "https://aggregator.example/story")
    page.click("#check-button")
    page.wait_for_selector("#original")
    assert "bbc.co.uk" in page.text_content("#original h3")
    match = page.locator("article.match").first
    assert match.locator(".original-tag").count() == 1
    for side in ("mine", "theirs"):
        assert match.locator(f'.text[data-side="{side}"] mark').count() >= 1
    numbers = set(match.locator("mark").evaluate_all("ms => ms.map(m => m.dataset.p)"))
    for number in numbers:
        shown = {
            side: " ".join(
                match.locator(
                    f'.text[data-side="{side}"] mark[data-p="{number}"]'
                ).all_text_contents()
            )
            for side in ("mine", "theirs")
        }
        assert words(shown["mine"]) == words(shown["theirs"]), number
    assert "Sponsor" in " ".join(match.locator("u.marker").all_text_contents())  # chrome marked

    match.scroll_into_view_if_needed()
    shot(page, "check-view.png", tmp_path)
    theirs = match.locator('.text[data-side="theirs"]')
    assert theirs.evaluate("box => box.scrollTop") == 0
    match.locator('.text[data-side="mine"] mark').first.click()
    wait_until(lambda: theirs.evaluate("box => box.scrollTop") > 0, "the other side to scroll")
    target = match.locator('.text[data-side="theirs"] mark').first
    inside = theirs.evaluate(
        """(box) => { const m = box.querySelector('mark').getBoundingClientRect();
                     const b = box.getBoundingClientRect();
                     return m.top >= b.top && m.top <= b.bottom; }"""
    )
    assert inside
    assert "flash" in (target.get_attribute("class") or "")

    with page.expect_download() as download:
        page.click("#csv")
    with Path(download.value.path()).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert next((r["id"], r["site"], r["is_original"]) for r in rows) == (
        stored["id"],
        "bbc.co.uk",
        "True",
    )

    page.goto(f"{served}/sites/farm.example")
    for chart in ("#copy-graph", "#lag-chart", "#mix-chart", "#cadence-chart"):
        assert page.locator(f"{chart} svg").count() == 1, chart
        assert page.locator(f"{chart} svg path").count() > 0, chart
    assert "bbc.co.uk" in page.text_content("#copy-graph svg")
    example = page.locator("ul.examples a").first
    example.click()
    page.wait_for_selector("article.match mark")
    page.goto(f"{served}/sites/farm.example")
    page.locator("#copy-graph").scroll_into_view_if_needed()
    shot(page, "site-dossier.png", tmp_path)
    page.goto(f"{served}/sites/bbc.co.uk")  # the source: how fast others copy it
    assert page.locator("#copier-lag-chart svg path").count() > 0
    assert "farm.example" in page.text_content("#copier-lag-chart svg")
    assert "min after on average" in page.text_content("body")

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.context.add_cookies(
        [{"name": "dedup_session", "value": page_session(settings, key), "url": served}]
    )
    phone.goto(f"{served}/articles/{stored['id']}")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    api.close()


def test_a_spun_copy_shows_its_changed_words_and_its_report_is_saved_and_sent_as_pdf(
    served: str, browser: Any, settings: Settings, tmp_path: Path
) -> None:
    key = make_key(settings, "admin")
    api = httpx2.Client(base_url=served, headers=bearer(key), timeout=60)
    ending = " Analysts compared the standoff to the {} between the two great powers of the age."
    clean = without_signs(seed_text("000"))  # a stored source, not a sibling (see above)
    original = clean + ending.format("Cold War")
    spun, _ = spin(clean, 0.3, random.Random(11))
    spun += ending.format("Chilly Battle")
    source = api.post(
        "/v1/articles",
        json={
            "url": "https://www.bbc.co.uk/a",
            "text": original,
            "published_at": "2005-03-01T08:00:00Z",
        },
    ).json()
    copy = api.post("/v1/articles", json={"url": "https://spinner.example/a", "text": spun}).json()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.context.add_cookies(
        [{"name": "dedup_session", "value": page_session(settings, key), "url": served}]
    )
    page.goto(f"{served}/pair/{copy['id']}/{source['id']}")
    changes = page.locator("details.changes").first
    assert changes.locator("ins.spun").first.text_content() == "Chilly Battle"
    assert changes.locator("del").count() >= 5  # the spinner's swaps, each marked
    changes.scroll_into_view_if_needed()
    shot(page, "word-changes.png", tmp_path)

    page.goto(f"{served}/articles/{copy['id']}")  # every source over the text at once
    assert "bbc.co.uk" in page.text_content("#combined .legend")
    assert page.locator('#combined mark[data-source="0"]').count() >= 1
    page.goto(f"{served}/articles/{copy['id']}/report")
    pdf = page.request.get(f"{served}/articles/{copy['id']}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    page.click("#save-report")
    page.wait_for_url(re.compile(r".*/reports/[A-Za-z0-9_-]{22}$"))
    assert "Saved report, made" in page.text_content("#saved")
    assert "bbc.co.uk" in page.text_content("#summary")
    shot(page, "saved-report.png", tmp_path)
    api.close()


def test_bad_input_is_a_message_on_the_page_in_the_api_words(
    served: str, browser: Any, settings: Settings
) -> None:
    key = make_key(settings, "check")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.context.add_cookies(
        [{"name": "dedup_session", "value": page_session(settings, key), "url": served}]
    )
    page.goto(f"{served}/")
    page.fill("#text", "Too short to tell.")
    page.click("#check-button")
    page.wait_for_selector("#form-problem")  # above the form, the pasted text kept
    assert page.text_content("#form-problem") == (
        "text has 4 words after normalisation; at least 20 are needed to fingerprint it "
        "(send the full article text)"
    )
    assert page.input_value("#text") == "Too short to tell."
    assert "Traceback" not in page.content()
    page.goto(f"{served}/articles/123456")
    assert page.text_content(".detail") == "no article with id '123456'"
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
