"""The embedded default keeps every acknowledged article across a restart."""

from pathlib import Path
from typing import Any

from dedup.config import Settings
from tests.conftest import TEST_HOSTS, keyed_client


def test_a_restart_of_the_embedded_server_keeps_every_article(
    tmp_path: Path, bbc: list[dict[str, Any]]
) -> None:
    settings = Settings(
        trusted_hosts=TEST_HOSTS,
        redis_url=None,
        data_dir=tmp_path / "data",
        key_prefix="persist",
    )
    with keyed_client(settings) as api:
        assert api.get("/healthz").json()["embedded"] is True
        ids = [
            api.post(
                "/v1/articles",
                json={"url": f"https://www.bbc.co.uk/p/{i}", "text": bbc[60 + i]["text"]},
            ).json()["id"]
            for i in range(5)
        ]
        copy = api.post(
            "/v1/articles",
            json={"url": "https://farm.example/p", "text": "Source link\n" + bbc[60]["text"]},
        )
        assert copy.json()["original"]["id"] == ids[0]
    assert (tmp_path / "data" / "dedup.rdb").exists()

    with keyed_client(settings) as api:
        for i, article_id in enumerate(ids):
            assert api.get(f"/v1/articles/{article_id}").json()["text"] == bbc[60 + i]["text"]
        again = api.post(
            "/v1/articles", json={"url": "https://www.bbc.co.uk/p/0", "text": bbc[60]["text"]}
        )
        assert again.status_code == 200
        assert [m["relation"] for m in again.json()["matches"]] == ["near_duplicate"]
