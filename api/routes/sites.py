"""/v1/sites: site profiles by farm score, one site's dossier, and the copy graph."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.deps import READ, SitesDep
from api.schemas import EdgeOut, ErrorOut, SiteOut, SitePageOut, SiteSummaryOut
from dedup.errors import SiteNotFound

router = APIRouter(prefix="/v1/sites", tags=["sites"], dependencies=[READ])

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorOut, "description": "No article of this site has been counted."},
    503: {"model": ErrorOut, "description": "Redis is unreachable."},
}
SiteName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=253,
        description="The site as articles name it (usually a host without 'www.'; any text "
        "an article gave as its site, percent-encoded in the path).",
    ),
]


@router.get("", response_model=SitePageOut, responses={503: ERRORS[503]})
def list_sites(
    sites: SitesDep,
    min_articles: Annotated[
        int, Query(ge=1, description="Only sites with this many articles.")
    ] = 1,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SitePageOut:
    """Sites by farm score, highest first (scores as the follow-up jobs last stored them)."""
    page, total = sites.ranked(min_articles, offset, limit)
    return SitePageOut(
        total=total,
        offset=offset,
        limit=limit,
        sites=[SiteSummaryOut.of(figures, score) for figures, score in page],
    )


@router.get("/{site}", response_model=SiteOut, responses=ERRORS)
def get_site(site: SiteName, sites: SitesDep) -> SiteOut:
    """A site's profile, farm score with the reasons that moved it, and example copies with
    their originals for each reason (the dossier)."""
    return SiteOut.of(sites.dossier(site.lower()))


@router.get("/{site}/{direction}", response_model=list[EdgeOut], responses=ERRORS)
def site_edges(
    site: SiteName, direction: Literal["sources", "copiers"], sites: SitesDep
) -> list[EdgeOut]:
    """Copy-graph edges: the sites this one copied (`sources`) or that copied it
    (`copiers`), most copies first, with credit share and mean lag."""
    figures = sites.figures(site.lower())
    if not figures.articles:
        raise SiteNotFound(f"no article of site {site!r} has been counted (yet)")
    return [EdgeOut.of(edge) for edge in sites.edges(site.lower(), direction)]
