"""Admin routes: webhooks and their delivery logs, watched sites, exclusions (admin scope)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import ADMIN, RuntimeDep
from api.schemas import (
    DeliveryOut,
    ErrorOut,
    ExclusionsOut,
    PhraseOut,
    PhrasesIn,
    SiteListOut,
    SitesIn,
    WebhookIn,
    WebhookOut,
)

router = APIRouter(prefix="/v1", tags=["admin"], dependencies=[ADMIN])
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": ErrorOut}}
Site = Annotated[str, Path(min_length=1, max_length=253)]
REMOVES: dict[str, Any] = {
    "status_code": status.HTTP_204_NO_CONTENT,
    "response_class": Response,
    "responses": NOT_FOUND,
}


def gone() -> Response:
    """The answer of a DELETE that removed what it named."""
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhooks",
    response_model=WebhookOut,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"model": ErrorOut, "description": "Bad url, event or secret."}},
)
def create_webhook(hook: WebhookIn, runtime: RuntimeDep) -> WebhookOut:
    """Deliver these events to this url, signed with the secret (see the README's Webhooks)."""
    made = runtime.hooks.register(hook.url, hook.events, hook.secret, hook.watched_only)
    return WebhookOut.of(made["id"], made)


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(runtime: RuntimeDep) -> list[WebhookOut]:
    return [WebhookOut.of(i, h) for i, h in runtime.hooks.all().items()]


@router.delete("/webhooks/{hook_id}", **REMOVES)
def delete_webhook(hook_id: str, runtime: RuntimeDep) -> Response:
    """Stop delivering to a webhook; deliveries not yet made are dropped."""
    runtime.hooks.remove(hook_id)
    return gone()


@router.get("/webhooks/{hook_id}/deliveries", response_model=list[DeliveryOut], responses=NOT_FOUND)
def webhook_deliveries(
    hook_id: str, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[DeliveryOut]:
    """The webhook's delivery attempts, newest first (the latest 200 are kept)."""
    return [DeliveryOut(**entry) for entry in runtime.hooks.deliveries(hook_id, limit)]


@router.get("/watched-sites", response_model=SiteListOut)
def watched_sites(runtime: RuntimeDep) -> SiteListOut:
    """Sites whose copies raise `copy.found` for webhooks made with `watched_only`."""
    return SiteListOut(sites=runtime.lists.sites("watched"))


@router.post("/watched-sites", response_model=SiteListOut)
def watch_sites(body: SitesIn, runtime: RuntimeDep) -> SiteListOut:
    runtime.lists.add_sites("watched", body.sites)
    return SiteListOut(sites=runtime.lists.sites("watched"))


@router.delete("/watched-sites/{site}", **REMOVES)
def unwatch_site(site: Site, runtime: RuntimeDep) -> Response:
    runtime.lists.remove_site("watched", site)
    return gone()


def _exclusions(runtime: RuntimeDep) -> ExclusionsOut:
    return ExclusionsOut(
        sites=runtime.lists.sites("excluded"),
        phrases=[PhraseOut(id=i, phrase=p) for i, p in runtime.lists.phrases().items()],
    )


@router.get("/exclusions", response_model=ExclusionsOut)
def exclusions(runtime: RuntimeDep) -> ExclusionsOut:
    """Sites never named as sources or copies, and phrases ignored in matching; both apply
    to every check within DEDUP_POLICY_REFRESH_SECONDS, with no re-indexing."""
    return _exclusions(runtime)


@router.post("/exclusions/sites", response_model=ExclusionsOut)
def exclude_sites(body: SitesIn, runtime: RuntimeDep) -> ExclusionsOut:
    runtime.lists.add_sites("excluded", body.sites)
    return _exclusions(runtime)


@router.delete("/exclusions/sites/{site}", **REMOVES)
def include_site(site: Site, runtime: RuntimeDep) -> Response:
    runtime.lists.remove_site("excluded", site)
    return gone()


@router.post("/exclusions/phrases", response_model=ExclusionsOut)
def exclude_phrases(body: PhrasesIn, runtime: RuntimeDep) -> ExclusionsOut:
    runtime.lists.add_phrases(body.phrases)
    return _exclusions(runtime)


@router.delete("/exclusions/phrases/{phrase_id}", **REMOVES)
def include_phrase(phrase_id: str, runtime: RuntimeDep) -> Response:
    runtime.lists.remove_phrase(phrase_id)
    return gone()
