"""What routes depend on: the detector the app started with."""

from typing import Annotated

from fastapi import Depends, Request
from rq import Queue

from dedup.detector import Detector
from dedup.runtime import Runtime
from workers.tasks import queue_name


# Both are async so that FastAPI runs them on the event loop: a plain def dependency goes
# through the worker-thread pool, one more hop per request for reading an attribute.
async def get_detector(request: Request) -> Detector:
    detector: Detector = request.app.state.detector
    return detector


DetectorDep = Annotated[Detector, Depends(get_detector)]


async def get_queue(request: Request) -> Queue:
    """The index's worker queue (follow-up jobs, scans)."""
    runtime: Runtime = request.app.state.runtime
    return Queue(queue_name(runtime.settings), connection=runtime.queue_connection())


QueueDep = Annotated[Queue, Depends(get_queue)]
