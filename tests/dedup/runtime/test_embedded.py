import os
import signal
import time
from pathlib import Path

import redis

from dedup.runtime import connect
from dedup.runtime.embedded import EmbeddedRedis


def test_embedded_server_saves_on_stop_and_stays_up_for_other_processes(tmp_path: Path) -> None:
    (tmp_path / "redis.lock").write_text("")  # as an earlier release left it, 0644
    first = EmbeddedRedis(tmp_path)
    assert (tmp_path / "redis.lock").stat().st_mode & 0o777 == 0o600  # nobody else reads it
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


def test_embedded_server_keeps_writes_in_its_append_only_file_without_periodic_snapshots(
    tmp_path: Path,
) -> None:
    server = EmbeddedRedis(tmp_path, supervise=False)  # a new process will bring it back
    client = connect(server.url)
    assert client.config_get("save") == {"save": ""}  # a snapshot forks the whole data set
    client.set("dedup-test:k", "v")
    pid = int(client.info("server")["process_id"])
    client.close()
    os.kill(pid, signal.SIGKILL)  # no snapshot at exit: only the append-only file has it
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # gone once signalling it fails
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)

    again = EmbeddedRedis(tmp_path)
    client = connect(again.url)
    assert client.get("dedup-test:k") == b"v"
    client.close()
    again.stop()


def test_a_killed_server_is_restarted_from_its_file_at_the_same_socket(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    client = connect(server.url)  # a client that stays: it must find the server again
    try:
        client.set("dedup-test:k", "v")
        pid = server.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30  # a hang guard, not a speed limit
        # The count goes up once the new server is up: waiting on the pid file instead raced
        # with it (the new pid is written before the supervisor counts the restart).
        while server.restarts == 0:
            assert time.monotonic() < deadline, "the supervisor never restarted the server"
            time.sleep(0.05)
        assert server.pid() not in (None, pid)
        assert client.get("dedup-test:k") == b"v"  # same url, same data (its append-only file)
        assert server.restarts == 1
    finally:  # a failed assertion must not leave the restarted server running
        client.close()
        server.stop()
    assert server.pid() is None


def test_the_data_dir_and_the_servers_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = EmbeddedRedis(data)
    client = connect(server.url)
    client.set("dedup-test:k", "v")
    client.close()
    server.stop()
    assert data.stat().st_mode & 0o777 == 0o700
    files = [p for p in data.iterdir() if p.suffix in (".aof", ".rdb")]
    assert {p.name for p in files} == {"appendonly.aof", "dedup.rdb"}
    assert {p.name: p.stat().st_mode & 0o777 for p in files} == dict.fromkeys(
        ("appendonly.aof", "dedup.rdb"), 0o600
    )
