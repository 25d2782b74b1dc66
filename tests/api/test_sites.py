"""/v1/sites on a real Redis: sites counted by the follow-up code, ranked, explained."""

from typing import Any

from fastapi.testclient import TestClient

from dedup.runtime import Runtime

CHROME = "Sponsor:  NEWS AI\nAdmin\n\n{}\n\nAdvertisement\n\nSource link"


def publish(api: TestClient, url: str, text: str, when: str) -> str:
    response = api.post("/v1/articles", json={"url": url, "text": text, "published_at": when})
    assert response.status_code == 201, response.text
    article_id: str = response.json()["id"]
    runtime: Runtime = api.app.state.runtime  # type: ignore[attr-defined]
    runtime.sites.followup(article_id)  # the follow-up job's work, in this process
    return article_id


def test_sites_are_ranked_explained_and_linked_by_their_copies(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    originals = {}
    for k in range(5):
        if k == 4:  # four articles each: too few to name a role (DEDUP_MIN_ROLE_ARTICLES, 5)
            early = api.get("/v1/sites").json()["sites"]
            assert {(s["role"], s["role_confidence"]) for s in early} == {("undetermined", 0.0)}
            assert early[0]["site"] == "farm.example"  # ranked by its score all the same
        text = bbc[150 + k]["text"]
        originals[k] = publish(
            api, f"https://www.bbc.co.uk/s/{k}", text, f"2005-01-0{k + 1}T08:00Z"
        )
        publish(api, f"https://farm.example/{k}", CHROME.format(text), f"2005-01-0{k + 1}T08:20Z")
        credited = text + "\n\nThis article originally appeared on BBC News."
        publish(api, f"https://wire.example/{k}", credited, f"2005-01-0{k + 1}T09:00Z")

    page = api.get("/v1/sites").json()
    assert page["total"] == 3
    assert (page["sites"][0]["site"], page["sites"][0]["role"]) == ("farm.example", "farm")
    roles = {s["site"]: s["role"] for s in page["sites"]}
    assert roles == {
        "farm.example": "farm",
        "wire.example": "syndicator",
        "bbc.co.uk": "original publisher",
    }
    assert api.get("/v1/sites?min_articles=6").json() == {
        "total": 0,
        "offset": 0,
        "limit": 50,
        "sites": [],
    }

    farm = api.get("/v1/sites/farm.example").json()
    assert (farm["articles"], farm["copies"], farm["credited_share"]) == (5, 5, 0.0)
    assert (farm["lag_median_minutes"], farm["fast_copies"]) == (20.0, 5)
    assert farm["copy_types"] == {"scraped": 5}
    assert farm["markers"]["chrome"] == 5
    (uncredited, chrome) = farm["reasons"]
    assert uncredited["name"] == "uncredited copies"
    assert uncredited["text"].startswith(
        "5 of its 5 articles copy another site's article without credit (100%); on that "
        "record its rate of uncredited copies is at least"
    )
    example = uncredited["examples"][0]
    assert example["original_site"] == "bbc.co.uk"
    assert example["original_id"] in originals.values()
    assert example["url"].startswith("https://farm.example/")
    assert chrome["name"] == "aggregator chrome"

    wire = api.get("/v1/sites/wire.example").json()
    assert (wire["role"], wire["credited_share"], wire["farm_score"]) == ("syndicator", 1.0, 0.0)

    (edge,) = api.get("/v1/sites/farm.example/sources").json()
    assert (edge["copier"], edge["source"], edge["copies"], edge["mean_lag_minutes"]) == (
        "farm.example",
        "bbc.co.uk",
        5,
        20.0,
    )
    copiers = api.get("/v1/sites/bbc.co.uk/copiers").json()
    assert {(e["copier"], e["credited_share"]) for e in copiers} == {
        ("farm.example", 0.0),
        ("wire.example", 1.0),
    }


def test_unknown_and_malformed_sites_get_clear_errors(api: TestClient) -> None:
    missing = api.get("/v1/sites/nobody.example")
    assert missing.status_code == 404
    assert missing.json()["error"] == "SiteNotFound"
    assert api.get("/v1/sites/nobody.example/sources").status_code == 404
    assert api.get("/v1/sites/bad_site!").status_code == 404  # any text may name a site
    assert api.get(f"/v1/sites/{'x' * 254}").status_code == 422  # longer than a host name
    assert api.get("/v1/sites/x.example/friends").status_code == 422
    bad_limit = api.get("/v1/sites?limit=0")
    assert bad_limit.status_code == 422
    assert "limit" in bad_limit.text


def test_two_marked_copies_of_a_source_not_stored_are_siblings_counted_as_copies(
    api: TestClient, bbc: list[dict[str, Any]]
) -> None:
    text = bbc[160]["text"]
    spun = text + "\n\nAnalysts compared it with the Chilly Battle in the Center East."
    farm_id = publish(api, "https://farm.example/x", CHROME.format(text), "2005-01-01T08:00Z")
    spun_id = publish(api, "https://spinner.example/x", spun, "2005-01-01T09:00Z")
    for asked, other in ((spun_id, farm_id), (farm_id, spun_id)):
        body = api.get(f"/v1/articles/{asked}/matches").json()
        (match,) = body["matches"]
        assert (match["id"], match["relation"]) == (other, "sibling")
        # Neither is named the other's original, though the farm's copy came an hour earlier.
        assert (body["original"]["id"], body["original"]["source_stored"]) == (asked, False)
        assert body["original"]["reasons"][-1].endswith(
            "they are siblings, copies of a common source that is not stored"
        )
    spinner = api.get("/v1/sites/spinner.example").json()
    assert (spinner["copies"], spinner["copy_types"]) == (1, {"spun": 1})
    assert spinner["lag_median_minutes"] is None  # no source, no lag
    assert api.get("/v1/sites/farm.example").json()["copy_types"] == {"scraped": 1}
    # The clean original, stored late, is their source: no sibling link remains.
    original = publish(api, "https://www.bbc.co.uk/x", text, "2005-01-01T07:00Z")
    body = api.get(f"/v1/articles/{spun_id}/matches").json()
    assert body["original"]["id"] == original
    assert "sibling" not in {m["relation"] for m in body["matches"]}
