"""/v1/check: explain an article without storing it."""

from functools import partial

from fastapi import APIRouter, Request, Response

from api.deps import CHECK, DetectorDep, detect
from api.metrics import observe
from api.routes.articles import ERRORS, IncludeRelated, json_response
from api.schemas import ArticleIn, CheckOut, ErrorOut

router = APIRouter(prefix="/v1", tags=["check"])


@router.post(
    "/check",
    response_model=CheckOut,
    dependencies=[CHECK],
    responses={422: {"model": ErrorOut}, 413: {"model": ErrorOut}, 503: ERRORS[503]},
)
async def check_article(
    request: Request,
    article: ArticleIn,
    detector: DetectorDep,
    include_related: IncludeRelated = False,
) -> Response:
    """The article's verified copies, likely original and evidence; nothing is stored."""
    work = partial(detector.check, article.to_input(), related=include_related)
    result = await detect(request, article, work)
    observe(request, result)
    return json_response(CheckOut.of(result))
