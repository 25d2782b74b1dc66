from pathlib import Path

import redis

from dedup.embedded import EmbeddedRedis
from dedup.runtime import connect


def test_embedded_server_saves_on_stop_and_stays_up_for_other_processes(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path)
    client = connect(first.url)
    client.set("dedup-test:k", "v")
    client.close()
    first.stop()
    assert (tmp_path / "dedup.rdb").exists()

    second = EmbeddedRedis(tmp_path)
    client = connect(second.url)
    assert client.get("dedup-test:k") == b"v"
    other_process = redis.Redis.from_url(second.url, client_name="another-process")
    assert other_process.ping()
    client.close()
    second.stop()
    assert other_process.ping()  # not pulled from under the other process
    other_process.close()

    last = EmbeddedRedis(tmp_path)
    socket = last.url.removeprefix("unix://")
    last.stop()
    assert not Path(socket).exists()  # stopped: redis removes its socket on exit
