"""/healthz: is the service able to answer (is Redis there)?"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def healthz(runtime: RuntimeDep) -> JSONResponse:
    """200 when Redis answers, 503 when it does not."""
    up = runtime.ping()
    body = HealthOut(
        status="ok" if up else "unavailable",
        redis="ok" if up else "unreachable",
        embedded=runtime.embedded is not None,
    )
    return JSONResponse(body.model_dump(), status_code=200 if up else 503)
