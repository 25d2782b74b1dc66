"""Exclusions and watched sites applied at check time, /metrics, and JSON logs."""

import io
import json
import logging
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from dedup.cli import main
from dedup.config import Settings
from dedup.logs import handler_for, request_id
from tests.conftest import keyed_client

FOOTER = (
    "Sign up for our morning briefing to get the day's top stories in your inbox. Copyright "
    "Northern Press Syndicate. All rights reserved. This material may not be published, "
    "broadcast, rewritten or redistributed in whole or in part without the express written "
    "permission of the publisher. Readers with complaints about our coverage should write to "
    "the standards editor, whose findings are published every month in the corrections "
    "column of the print edition and online."
)


def relations(answer: Any) -> list[tuple[str, str]]:
    return [(m["site"], m["relation"]) for m in answer.json()["matches"]]


def fresh(settings: Settings) -> Settings:
    return settings.model_copy(update={"policy_refresh_seconds": 0.0})  # every check reads it


def test_a_shared_footer_is_a_copy_until_it_is_excluded_and_a_real_copy_stays_one(
    settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    with keyed_client(fresh(settings)) as api:
        one = f"{bbc[300]['text']}\n\n{FOOTER}"
        api.post("/v1/articles", json={"url": "https://one.example/a", "text": one})
        other = {"url": "https://two.example/b", "text": f"{bbc[301]['text']}\n\n{FOOTER}"}
        assert relations(api.post("/v1/check", json=other)) == [("one.example", "partial")]

        spaced = FOOTER.upper().replace(". ", ".\n  ")  # any case, any spacing
        made = api.post("/v1/exclusions/phrases", json={"phrases": [spaced]})
        assert made.status_code == 200
        (phrase,) = made.json()["phrases"]
        assert relations(api.post("/v1/check", json=other)) == []

        copy = {"url": "https://three.example/c", "text": f"Breaking: {one}"}
        found = api.post("/v1/check", json=copy).json()
        (match,) = found["matches"]
        assert match["relation"] == "near_duplicate"
        for passage in match["evidence"]["passages"]:  # offsets into the texts as sent
            assert copy["text"][passage["start"] : passage["end"]] == passage["text"]
            assert FOOTER not in passage["text"]

        assert api.delete(f"/v1/exclusions/phrases/{phrase['id']}").status_code == 204
        assert relations(api.post("/v1/check", json=other)) == [("one.example", "partial")]
        gone = api.delete(f"/v1/exclusions/phrases/{phrase['id']}")
        assert (gone.status_code, gone.json()["error"]) == (404, "NotFound")


def test_an_excluded_site_is_named_neither_as_a_copy_nor_as_a_source(
    settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    with keyed_client(fresh(settings)) as api:
        text = bbc[310]["text"]
        api.post("/v1/articles", json={"url": "https://www.bbc.co.uk/n/x", "text": text})
        api.post("/v1/articles", json={"url": "https://partner.example/x", "text": text})
        again = {"url": "https://farm.example/x", "text": "Source link\n" + text}
        assert sorted(relations(api.post("/v1/check", json=again))) == [
            ("bbc.co.uk", "near_duplicate"),
            ("partner.example", "near_duplicate"),
        ]
        assert api.post("/v1/exclusions/sites", json={"sites": ["WWW.Partner.example"]}).json()[
            "sites"
        ] == ["partner.example"]
        assert relations(api.post("/v1/check", json=again)) == [("bbc.co.uk", "near_duplicate")]
        own = {"url": "https://partner.example/y", "text": text}
        assert relations(api.post("/v1/check", json=own)) == []
        assert api.delete("/v1/exclusions/sites/partner.example").status_code == 204
        assert len(relations(api.post("/v1/check", json=again))) == 2


def test_lists_are_kept_by_the_cli_too_and_bad_items_are_refused(
    api: TestClient, env: dict[str, str]
) -> None:
    cli = CliRunner()
    assert cli.invoke(
        main, ["watch", "add", "Victim.example", "www.b.example"], env=env
    ).stdout == ("b.example\nvictim.example\n")
    assert api.get("/v1/watched-sites").json() == {"sites": ["b.example", "victim.example"]}
    assert cli.invoke(main, ["watch", "remove", "b.example"], env=env).exit_code == 0
    assert cli.invoke(main, ["watch", "list"], env=env).stdout == "victim.example\n"
    short = cli.invoke(main, ["exclude", "phrases", "add", "short"], env=env)
    assert short.exit_code == 2
    assert "a phrase is 8-2000 characters" in short.stderr
    added = cli.invoke(main, ["exclude", "phrases", "add", FOOTER], env=env)
    phrase_id = added.stdout.split("\t")[0]
    assert api.get("/v1/exclusions").json()["phrases"] == [{"id": phrase_id, "phrase": FOOTER}]
    spaced = api.post("/v1/watched-sites", json={"sites": ["two words"]})
    assert (spaced.status_code, spaced.json()["error"]) == (422, "InvalidRequest")
    missing = cli.invoke(main, ["exclude", "sites", "remove", "never.example"], env=env)
    assert (missing.exit_code, missing.stderr.strip()) == (
        1,
        "Error: site 'never.example' is not on the excluded list",
    )


def test_metrics_parse_and_count_requests_by_route_and_copies_by_type(
    api: TestClient, bbc: list[dict[str, Any]], run_workers: Any
) -> None:
    text = bbc[320]["text"]
    api.post("/v1/articles", json={"url": "https://www.bbc.co.uk/m/1", "text": text})
    api.post(
        "/v1/articles", json={"url": "https://farm.example/m/1", "text": "Source link\n" + text}
    )
    api.get("/v1/articles/1")
    api.get("/v1/articles/999999")
    run_workers()  # the follow-ups count both articles
    answer = api.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    requests = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in families["dedup_http_requests"].samples
    }
    assert requests[("POST", "/v1/articles", "201")] == 2
    assert requests[("GET", "/v1/articles/{article_id}", "200")] == 1
    assert requests[("GET", "/v1/articles/{article_id}", "404")] == 1
    latency = families["dedup_http_request_duration_seconds"]
    assert {s.labels["route"] for s in latency.samples} >= {"/v1/articles"}
    (ingested,) = families["dedup_articles_ingested"].samples
    assert ingested.value == 2
    copies = {s.labels["copy_type"]: s.value for s in families["dedup_copies_found"].samples}
    assert copies == {"scraped": 1}
    verified = families["dedup_check_verifications"]
    assert any(s.name.endswith("_count") and s.value == 2 for s in verified.samples)
    assert families["dedup_queue_depth"].samples[0].value == 0
    delivered = {s.labels["outcome"]: s.value for s in families["dedup_webhook_deliveries"].samples}
    assert delivered == {"delivered": 0, "failed": 0, "given_up": 0}


def test_json_logs_are_one_object_a_line_with_the_request_id(settings: Settings) -> None:
    handler = handler_for(settings.model_copy(update={"log_format": "json"}))
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    logger = logging.getLogger("dedup.test-json")
    logger.addHandler(handler)
    token = request_id.set("req-7")
    try:
        logger.warning("stored %d article(s)", 3)
    finally:
        request_id.reset(token)
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING",
        "dedup.test-json",
        "stored 3 article(s)",
    )
    assert line["request_id"] == "req-7"
