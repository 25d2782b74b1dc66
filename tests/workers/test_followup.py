"""Follow-up jobs: queued by the API after an ingest, run by a worker, counted once."""

from typing import Any

from fastapi.testclient import TestClient
from rq import SimpleWorker, Worker
from rq.job import JobStatus
from rq.registry import StartedJobRegistry

from dedup.adapters.jobs import RqJobs
from dedup.config import Settings
from dedup.runtime import Runtime, connect
from dedup.store import SiteStore
from workers.tasks import followup, installed


def test_ingest_queues_site_figures_and_the_copy_edge(
    api: TestClient,
    run_workers: Any,
    runtime: Runtime,
    settings: Settings,
    bbc: list[dict[str, Any]],
) -> None:
    text = bbc[140]["text"]
    original = {
        "url": "https://www.bbc.co.uk/f/1",
        "text": text,
        "published_at": "2005-01-01T08:00:00Z",
    }
    copy = {
        "url": "https://farm.example/f/1",
        "text": "MOSCOW (AP) — " + text,
        "published_at": "2005-01-01T09:00:00Z",
    }
    assert api.post("/v1/articles", json=original).status_code == 201
    copied = api.post("/v1/articles", json=copy).json()
    assert api.post("/v1/articles", json=copy).status_code == 200  # nothing new to count
    run_workers()

    sites = SiteStore(connect(str(settings.redis_url)), settings.key_prefix)
    farm, version = sites.figures("farm.example")
    bbc_site, _ = sites.figures("bbc.co.uk")
    assert (farm.articles, farm.copies, farm.credited_copies) == (1, 1, 1)
    assert (farm.sources, farm.lag_median_seconds, farm.fast_copies) == ({"bbc.co.uk": 1}, 3600, 1)
    assert (farm.copy_types, farm.markers) == ({"syndicated": 1}, {"credit": 1})
    assert (bbc_site.articles, bbc_site.copies, bbc_site.copiers) == (1, 0, {"farm.example": 1})
    assert bbc_site.copied == 1
    (edge,) = sites.edges("farm.example", "sources")
    assert (edge.source, edge.copies, edge.credited, edge.mean_lag_seconds) == (
        "bbc.co.uk",
        1,
        1,
        3600.0,
    )
    assert sites.edges("bbc.co.uk", "copiers") == [edge]
    (example,) = sites.examples("farm.example")
    assert (example.article_id, example.source_site, example.credited) == (
        int(copied["id"]),
        "bbc.co.uk",
        True,
    )

    with installed(runtime):
        followup(copied["id"])  # a retried job changes nothing
    assert sites.figures("farm.example") == (farm, version)


def test_a_follow_up_its_worker_died_in_is_queued_again_at_once(
    api: TestClient,
    run_workers: Any,
    runtime: Runtime,
    settings: Settings,
    bbc: list[dict[str, Any]],
) -> None:
    stored = api.post(
        "/v1/articles", json={"url": "https://www.bbc.co.uk/f/2", "text": bbc[141]["text"]}
    )
    assert stored.status_code == 201
    jobs = runtime.jobs
    assert isinstance(jobs, RqJobs)
    # A worker takes the job, RQ's own steps, and its process is killed before it finishes.
    dying = SimpleWorker([jobs.queue], connection=jobs.connection, name="dedup-test-dying")
    dying.register_birth()  # type: ignore[no-untyped-call]
    taken = dying.dequeue_job_and_maintain_ttl(timeout=1)
    assert taken is not None
    job, _ = taken
    dying.prepare_execution(job)
    dying.prepare_job_execution(job)
    assert job.get_status() == JobStatus.STARTED
    assert jobs.queue.count == 0

    assert jobs.recover("dedup-test-dying") == 1
    assert jobs.queue.count == 1  # back on the queue, not left STARTED for RQ's cleanup
    assert StartedJobRegistry(queue=jobs.queue).count == 0
    assert "dedup-test-dying" not in {w.name for w in Worker.all(queue=jobs.queue)}
    run_workers()
    counted, _ = SiteStore(connect(str(settings.redis_url)), settings.key_prefix).figures(
        "bbc.co.uk"
    )
    assert counted.articles == 1
