"""/v1/articles: store, read, explain and delete articles."""

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import DELETE, INGEST, READ, DetectorDep, GrantDep, RuntimeDep, SitesDep, detect
from api.metrics import observe
from api.schemas import ArticleIn, ArticleOut, CheckOut, CopiesOut, CopyOut, ErrorOut
from dedup.core.markers import find_markers

router = APIRouter(prefix="/v1/articles", tags=["articles"])


def json_response(answer: CheckOut, status_code: int = 200) -> Response:
    """The answer as JSON written once by pydantic (the route's response_model documents it;
    returned as a model, FastAPI would validate and encode it twice more)."""
    return Response(answer.json_bytes(), status_code, media_type="application/json")


IncludeRelated = Annotated[
    bool,
    Query(
        description="Also list related articles: not copies, but sharing names in order or a "
        "sentence with this one (relation 'related', never counted as copies)."
    ),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No article with this id."},
    503: {"model": ErrorOut, "description": "Redis is unreachable; nothing was changed."},
}


@router.post(
    "",
    response_model=CheckOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[INGEST],
    responses={
        200: {"model": CheckOut, "description": "This url with this text was stored already."},
        409: {"model": ErrorOut, "description": "This url is stored with a different text."},
        413: {"model": ErrorOut, "description": "The body is over DEDUP_MAX_BODY_BYTES."},
        422: {"model": ErrorOut, "description": "Invalid article (field, length, HTML)."},
        503: ERRORS[503],
    },
)
async def store_article(
    request: Request,
    article: ArticleIn,
    runtime: RuntimeDep,
    grant: GrantDep,
    include_related: IncludeRelated = False,
) -> Response:
    """Store an article and answer with its verified copies, its likely original and the
    shared passages (the passages and sentence pairs only to a key that also has the check
    scope). Idempotent: the same url with the same text is stored once (200).
    Site figures are updated afterwards by a worker job, off the request path."""
    work = partial(runtime.detector.ingest, article.to_input(), related=include_related)
    result = await detect(request, article, work)
    observe(request, result)
    # Finished on a 200 too: a client retrying after an answer it lost (Redis went down between
    # the store and the queue) must not leave its article uncounted. Counting is once per id.
    runtime.sites.finish_ingest(result, deferred=True)
    created = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    answer = CheckOut.of(result)
    if not grant.allows("check"):  # a feeder stores articles; it does not read others'
        answer = answer.without_evidence()
    return json_response(answer, created)


@router.get("/{article_id}", response_model=ArticleOut, responses=ERRORS, dependencies=[READ])
def get_article(article_id: str, detector: DetectorDep) -> ArticleOut:
    """A stored article: metadata, display text and republishing markers."""
    article = detector.get(article_id)
    return ArticleOut.of(article, find_markers(article.text))


@router.get("/{article_id}/matches", response_model=CheckOut, responses=ERRORS, dependencies=[READ])
def article_matches(
    article_id: str, detector: DetectorDep, include_related: IncludeRelated = False
) -> Response:
    """A stored article's copies and original, recomputed against the index now."""
    return json_response(CheckOut.of(detector.matches(article_id, related=include_related)))


@router.get("/{article_id}/copies", response_model=CopiesOut, responses=ERRORS, dependencies=[READ])
def article_copies(
    article_id: str,
    sites: SitesDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CopiesOut:
    """Where this article has been copied (the publisher's view): its copies found now,
    published after it, newest first, each with its site's role."""
    found = sites.copies_of(article_id)
    page = found[offset : offset + limit]
    return CopiesOut(
        total=len(found),
        offset=offset,
        limit=limit,
        copies=[
            CopyOut(
                id=str(m.article.id),
                url=m.article.url,
                site=m.article.site,
                published_at=m.article.published_at,
                first_seen_at=m.article.first_seen_at,
                relation=m.relation,
                copy_type=m.copy_type,
                words=m.shared_words,
                site_role=role,
            )
            for m, role in page
        ],
    )


@router.delete(
    "/{article_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=ERRORS,
    dependencies=[DELETE],
)
def delete_article(article_id: str, detector: DetectorDep) -> Response:
    """Remove an article from the record and every index."""
    detector.delete(article_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
