"""/healthz: is the service able to answer (is Redis there)?"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import DetectorDep
from api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def healthz(request: Request, detector: DetectorDep) -> JSONResponse:
    """200 when Redis answers, 503 when it does not."""
    up = detector.store.ping()
    body = HealthOut(
        status="ok" if up else "unavailable",
        redis="ok" if up else "unreachable",
        embedded=request.app.state.embedded is not None,
    )
    return JSONResponse(body.model_dump(), status_code=200 if up else 503)
