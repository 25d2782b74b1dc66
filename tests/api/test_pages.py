"""The analyst's pages without a browser: login and its cookie, forms from other sites,
uploads, exports, and errors shown as pages (tests/test_browser.py drives a real browser)."""

import csv
import io
import json
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from dedup.config import Settings
from dedup.eval.synthetic import spin
from tests.conftest import bearer, login, make_key


@pytest.fixture
def pages(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    """The app and an admin key (not yet in the client's cookies)."""
    with TestClient(create_app(settings)) as client:
        yield client, make_key(settings, "admin")


def logged_in(pages: tuple[TestClient, str]) -> tuple[TestClient, dict[str, str]]:
    """The pages' client with a session open, and the API header of the same key."""
    client, key = pages
    login(client, key)
    return client, bearer(key)


def detail(answer: Any) -> str:
    found = re.search(r'class="detail">([^<]*)<', answer.text)
    assert found, answer.text[:500]
    return found.group(1).replace("&#39;", "'")


def test_the_login_form_opens_a_server_side_session_that_logout_ends(
    pages: tuple[TestClient, str],
) -> None:
    client, key = pages
    away = client.get("/sites?min_articles=2", follow_redirects=False)
    assert (away.status_code, away.headers["location"]) == (
        303,
        "/login?next=/sites%3Fmin_articles%3D2",
    )
    wrong = client.post("/login", data={"key": "dedup_" + "x" * 43, "next": "/"})
    assert wrong.status_code == 401
    assert "this API key is not known here" in wrong.text
    made = client.post(
        "/login", data={"key": key, "next": "https://evil.example/"}, follow_redirects=False
    )
    assert (made.status_code, made.headers["location"]) == (303, "/")  # no open redirect
    cookie = made.headers["set-cookie"]
    token = cookie.split(";")[0].removeprefix("dedup_session=")
    assert len(token) == 43  # a random token; the key itself never goes to the browser
    assert key not in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    sites = client.get("/sites")
    assert sites.status_code == 200
    assert sites.headers["x-frame-options"] == "DENY"  # never framed, this origin's scripts only
    assert "frame-ancestors 'none'" in sites.headers["content-security-policy"]
    assert "script-src 'self';" in sites.headers["content-security-policy"]
    out = client.post("/logout", data={"go": "1"}, follow_redirects=False)
    assert 'dedup_session=""' in out.headers["set-cookie"]
    client.cookies.set("dedup_session", token)  # a copy of the cookie, kept by a thief
    assert client.get("/sites", follow_redirects=False).status_code == 303  # to the login
    client.cookies.set("dedup_session", key)  # and the key is no cookie at all
    assert client.get("/sites", follow_redirects=False).status_code == 303


def test_a_form_posted_from_another_site_is_refused(pages: tuple[TestClient, str]) -> None:
    client, key = pages
    login(client, key)
    answer = client.post(
        "/check",
        data={"text": "word " * 40},
        headers={"origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert detail(answer) == "a form from https://evil.example may not post to this service"


def test_a_key_without_the_scope_sees_why_on_the_page(
    pages: tuple[TestClient, str], settings: Settings
) -> None:
    client, _ = pages
    login(client, make_key(settings, "check"))
    stored = client.post("/check", data={"text": "word " * 40, "store": "true"})
    assert stored.status_code == 403
    assert detail(stored).endswith("this request needs 'ingest': use a key with that scope")


def test_an_uploaded_scan_runs_and_its_results_export_as_csv(
    pages: tuple[TestClient, str], bbc: list[dict[str, Any]], run_workers: Any, runtime: Any
) -> None:
    client, key = pages
    login(client, key)
    lines = [
        {"url": "https://www.bbc.co.uk/u/1", "text": bbc[410]["text"]},
        {"url": "https://farm.example/u/1", "text": "Source link\n" + bbc[410]["text"]},
        {"url": "https://bad.example/u/2", "text": "too short"},
    ]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    made = client.post(
        "/scans",
        files={"file": ("dump.ndjson", body, "application/x-ndjson")},
        follow_redirects=False,
    )
    assert made.status_code == 303
    scan_path = made.headers["location"]
    run_workers()
    progress = client.get(f"{scan_path}/progress").json()
    assert (progress["status"], progress["processed"], progress["failed"]) == ("done", 3, 1)
    shown = client.get(scan_path)
    assert "near duplicate" in shown.text
    assert "text has 2 words after normalisation" in shown.text
    exported = list(csv.DictReader(io.StringIO(client.get(f"{scan_path}/results.csv").text)))
    by_line = {row["line"]: row for row in exported}
    assert by_line["2"]["match_site"] == "bbc.co.uk"
    assert by_line["2"]["original_id"] == by_line["1"]["article_id"]
    assert by_line["3"]["error"].startswith("text has 2 words")
    sites = list(csv.DictReader(io.StringIO(client.get("/sites.csv").text)))
    assert {row["site"] for row in sites} == {"bbc.co.uk", "farm.example"}


def test_two_texts_compare_with_no_index_and_bad_input_is_a_page(
    pages: tuple[TestClient, str], bbc: list[dict[str, Any]]
) -> None:
    client, key = pages
    login(client, key)
    text = bbc[420]["text"]
    compared = client.post(
        "/compare", data={"first_text": "Breaking. " + text[: len(text) // 2], "second_text": text}
    )
    assert compared.status_code == 200
    assert "the second text" in compared.text.lower()
    assert compared.text.count('data-p="0"') >= 2  # the passage on both sides
    assert client.get("/v1/articles/1").status_code == 401  # the API still wants its header
    wrong = client.get("/sites?min_articles=many")
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("text/html")
    assert detail(wrong).startswith("query.min_articles: Input should be a valid integer")
    missing = client.post("/compare", data={"first_text": text})
    assert detail(missing) == "second: paste a text (or HTML), or upload a .txt or .html file"
    assert client.get("/nowhere").json()["error"] == "NotFound"  # not a page: the API's 404


def test_a_spun_rewrite_shows_its_sentence_pairs_and_a_stored_pair_opens_side_by_side(
    pages: tuple[TestClient, str], bbc: list[dict[str, Any]]
) -> None:
    client, key = pages
    login(client, key)
    text = bbc[430]["text"]
    spun, _ = spin(text, 0.3, random.Random(11))
    compared = client.post("/compare", data={"first_text": spun, "second_text": text})
    assert compared.status_code == 200
    assert "Sentence pairs (" in compared.text
    header = bearer(key)
    one = store(client, header, "https://a.example/1", text)
    two = store(client, header, "https://b.example/1", spun)
    shown = client.get(f"/pair/{two.json()['id']}/{one.json()['id']}")
    assert shown.status_code == 200
    assert shown.text.count("<mark") >= 2
    report = client.get(f"/articles/{two.json()['id']}/report")
    assert "Evidence report: article" in report.text
    assert "@media print" in client.get("/static/app.css").text


def test_charts_of_counts_have_whole_number_ticks() -> None:
    from api.web import charts

    def labels(svg: str) -> list[str]:
        return re.findall(r"<text[^>]*>([^<]*)</text>", svg)

    cadence = labels(charts.cadence_chart({100: 1, 101: 2}))
    lag = labels(charts.lag_chart([600, 1200]))
    mix = labels(charts.mix_chart({"scraped": 2, "spun": 1}))
    for shown in (cadence, lag, mix):
        numbers = [t for t in shown if t.replace(".", "").isdigit()]
        assert numbers, shown
        assert [t for t in numbers if "." in t] == [], shown  # not 0.25 of a copy


def test_an_upload_over_the_limit_is_a_page_that_says_so_in_words(
    pages: tuple[TestClient, str],
) -> None:
    client, key = pages
    login(client, key)
    big = b"x" * 2_100_000
    answer = client.post("/scans", files={"file": ("dump.jsonl", big, "application/x-ndjson")})
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert "That file is 2.1 MB or more, over the 2 MB a page may send" in answer.text


def store(client: TestClient, header: dict[str, str], url: str, text: str) -> Any:
    return client.post("/v1/articles", json={"url": url, "text": text}, headers=header)


def test_a_spun_copy_shows_its_substituted_words_inside_each_passage(
    pages: tuple[TestClient, str], bbc: list[dict[str, Any]]
) -> None:
    client, header = logged_in(pages)
    ending = " Analysts compared the dispute to the {} between the two great powers of the age."
    text = bbc[430]["text"] + ending.format("Cold War")
    spun, _ = spin(bbc[430]["text"], 0.3, random.Random(11))
    spun += ending.format("Chilly Battle")
    one = store(client, header, "https://a.example/1", text)
    two = store(client, header, "https://b.example/1", spun)
    shown = client.get(f"/pair/{two.json()['id']}/{one.json()['id']}").text
    assert "Word changes inside passages" in shown
    changes = shown[shown.index('<details class="changes"') :]
    changes = changes[: changes.index("</details>")]
    assert re.search(
        r'<del title="replaced">Cold War</del> <ins class="spun"[^>]*>Chilly Battle</ins>', changes
    )
    inserted = re.findall(r"<ins[^>]*>([^<]*)</ins>", changes)
    swapped = [w for w in spun.split() if w not in text.split()]
    assert len(inserted) >= 5
    assert all(i in spun for i in inserted)
    marked = set(" ".join(inserted).split())
    assert len(marked & set(swapped)) >= len(set(swapped)) / 2  # most swaps are marked


def test_siblings_show_their_word_changes_toward_the_spun_one(
    pages: tuple[TestClient, str], bbc: list[dict[str, Any]]
) -> None:
    client, header = logged_in(pages)
    ending = " Analysts compared the dispute to the {} between the two great powers of the age."
    farmed = f"Admin\n\n{bbc[431]['text']}{ending.format('Cold War')}\n\nSource link"
    spun, _ = spin(bbc[431]["text"], 0.3, random.Random(12))
    spun += ending.format("Chilly Battle")
    one = store(client, header, "https://farm.example/1", farmed)
    two = store(client, header, "https://spin.example/1", spun)
    assert two.json()["matches"][0]["relation"] == "sibling"
    for pair in (
        f"{one.json()['id']}/{two.json()['id']}",
        f"{two.json()['id']}/{one.json()['id']}",
    ):
        shown = client.get(f"/pair/{pair}").text
        changes = shown[shown.index('<details class="changes"') :]
        assert re.search(r'<del title="replaced">Cold War</del> <ins class="spun"', changes), pair


def test_the_pdf_report_opens_and_carries_the_summary_and_the_sources(
    pages: tuple[TestClient, str], bbc: list[dict[str, Any]]
) -> None:
    import pypdf
    import pypdfium2

    client, header = logged_in(pages)
    text = bbc[430]["text"]
    spun, _ = spin(text, 0.3, random.Random(11))
    first = {"url": "https://a.example/1", "text": text, "published_at": "2005-03-01T08:00:00Z"}
    client.post("/v1/articles", json=first, headers=header)
    copy = client.post(
        "/v1/articles", json={"url": "https://b.example/1", "text": spun}, headers=header
    ).json()
    answer = client.get(f"/v1/articles/{copy['id']}/matches", headers=header).json()
    shown = client.get(f"/articles/{copy['id']}/report.pdf")
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "application/pdf"
    document = pypdf.PdfReader(io.BytesIO(shown.content))
    words = " ".join(" ".join(page.extract_text().split()) for page in document.pages)
    share = round(100 * answer["summary"]["share"])
    assert f"{share}% of this text appears in 1 stored source" in words
    assert "a.example" in words
    assert "likely original: a.example" in words
    page = pypdfium2.PdfDocument(shown.content)[0]
    image = page.render(scale=1).to_pil().convert("L")
    darkest, lightest = image.getextrema()
    assert darkest < 100 < lightest  # page 1 renders: dark text on a light page
    assert "/report.pdf" in client.get(f"/articles/{copy['id']}").text


def test_a_saved_report_keeps_the_verdict_it_had_under_a_stable_link(
    pages: tuple[TestClient, str], bbc: list[dict[str, Any]]
) -> None:
    client, header = logged_in(pages)
    text = bbc[430]["text"]
    one = client.post(
        "/v1/articles", json={"url": "https://a.example/1", "text": text}, headers=header
    ).json()
    saved = client.post(f"/articles/{one['id']}/report", data={"save": "1"}, follow_redirects=False)
    assert saved.status_code == 303
    link = saved.headers["location"]
    assert re.fullmatch(r"/reports/[A-Za-z0-9_-]{22}", link)
    before = client.get(link)
    assert before.status_code == 200
    assert "Saved report, made" in before.text
    assert "None of this text was found in a stored article" in before.text
    copy = "Reposted from a.example\n\n" + text
    client.post("/v1/articles", json={"url": "https://b.example/1", "text": copy}, headers=header)
    live = client.get(f"/articles/{one['id']}/report").text
    assert "b.example" in live  # the live report lists the new copy ...
    assert client.get(link).text == before.text  # ... the saved one stays as it was
    missing = client.get("/reports/AAAAAAAAAAAAAAAAAAAAAA")
    assert missing.status_code == 404
    assert "no saved report" in missing.text
    assert client.get("/reports/..%2Fetc").status_code == 404


def test_the_copy_graphs_labels_sit_clear_of_every_node() -> None:
    import matplotlib.pyplot as plt

    from api.web import charts
    from dedup.core.sites import Edge

    copiers = [Edge(f"farm{n}.example", "bbc.co.uk", 3 + n, n, 600.0) for n in range(6)]
    sources = [Edge("bbc.co.uk", "wire.example", 2, 2, 60.0)]
    figure = charts.copy_graph_figure("bbc.co.uk", sources, copiers)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    axes = figure.axes[0]
    nodes = axes.collections[0]
    centres = axes.transData.transform(nodes.get_offsets())
    radius = (charts.NODE_SIZE**0.5) / 2 * figure.dpi / 72  # pixels
    labels = [t for t in axes.texts if t.get_text() != ""]
    assert len(labels) == len(centres) == 8
    for label in labels:
        box = label.get_window_extent(renderer)
        for cx, cy in centres:
            nearest_x = min(max(cx, box.x0), box.x1)
            nearest_y = min(max(cy, box.y0), box.y1)
            assert (nearest_x - cx) ** 2 + (nearest_y - cy) ** 2 > radius**2, label.get_text()
    plt.close(figure)


def test_the_article_page_shows_every_sources_passages_over_its_text_at_once(
    pages: tuple[TestClient, str], bbc: list[dict[str, Any]]
) -> None:
    client, header = logged_in(pages)
    first, second = bbc[430]["text"], bbc[431]["text"]
    sources = [
        {"url": "https://a.example/1", "text": first, "published_at": "2005-03-01T08:00:00Z"},
        {"url": "https://b.example/1", "text": second, "published_at": "2005-03-01T09:00:00Z"},
    ]
    for source in sources:
        client.post("/v1/articles", json=source, headers=header)
    both = {"url": "https://farm.example/1", "text": f"{first}\n\n{second}"}
    farm = client.post("/v1/articles", json=both, headers=header).json()
    shown = client.get(f"/articles/{farm['id']}").text
    combined = shown[shown.index('<details class="combined"') :]
    combined = combined[: combined.index("</details>")]
    legend = re.findall(r'data-source="(\d+)">.*?</sup> ([\w.]+)</a>', combined)
    assert sorted(site for _, site in legend) == ["a.example", "b.example"]
    marked = re.findall(r'<mark class="p(\d+)"[^>]*data-source="(\d+)"', combined)
    assert {source for _, source in marked} == {number for number, _ in legend}
    assert all(colour == source for colour, source in marked)  # one colour a source
