"""Operating a deployment: `dedup keys` (API keys), `dedup watch` (watched sites) and
`dedup exclude` (sites and boilerplate phrases left out of matching)."""

import json

import click

from dedup.cli.common import settings
from dedup.runtime import open_runtime
from dedup.services.access import SCOPES
from dedup.services.lists import SiteList

LIMIT = click.IntRange(0)


@click.group()
def keys() -> None:
    """API keys: every request to the API carries one (Authorization: Bearer <key>)."""


@keys.command("create")
@click.option("--name", required=True, help="A name to know the key by (letters, digits, .-_).")
@click.option(
    "--scopes",
    required=True,
    help=f"Comma-separated, of: {', '.join(SCOPES)} (admin may do everything).",
)
@click.option(
    "--requests-per-minute",
    type=LIMIT,
    default=None,
    help="This key's limit (0: none) [default: DEDUP_REQUESTS_PER_MINUTE].",
)
@click.option(
    "--articles-per-day",
    type=LIMIT,
    default=None,
    help="Articles checked or stored a day (0: none) [default: DEDUP_ARTICLES_PER_DAY].",
)
def create_key(
    name: str, scopes: str, requests_per_minute: int | None, articles_per_day: int | None
) -> None:
    """Make a key and print it, once: only its hash is kept.

    Example: dedup keys create --name newsroom --scopes check,ingest
    """
    with open_runtime(settings()) as runtime:
        record, secret = runtime.access.create(
            name,
            scopes,
            requests_per_minute=requests_per_minute,
            articles_per_day=articles_per_day,
        )
    click.echo(secret)
    click.echo(
        f"key {record.name!r} with scopes {','.join(record.scopes)}: keep it now, it is not "
        "shown again",
        err=True,
    )


@keys.command("list")
def list_keys() -> None:
    """Every key: name, scopes, limits (default: the deployment's), when it was made."""
    config = settings()
    with open_runtime(config) as runtime:
        records = runtime.access.all()
    if not records:
        click.echo("no keys yet: dedup keys create --name NAME --scopes SCOPES", err=True)
    for r in records:
        rpm = r.requests_per_minute if r.requests_per_minute is not None else "default"
        apd = r.articles_per_day if r.articles_per_day is not None else "default"
        click.echo(
            f"{r.name}\t{','.join(r.scopes)}\t{rpm} requests/min\t{apd} articles/day\t"
            f"{r.created_at}"
        )


@keys.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke a key: refused from its next request on.

    Example: dedup keys revoke newsroom
    """
    with open_runtime(settings()) as runtime:
        runtime.access.revoke(name)
    click.echo(f"key {name!r} revoked", err=True)


def _site_list_group(which: SiteList, name: str, about: str) -> click.Group:
    @click.group(name=name, help=about)
    def group() -> None:
        pass

    @group.command("add")
    @click.argument("sites", nargs=-1, required=True)
    def add(sites: tuple[str, ...]) -> None:
        """Add sites (as articles name them: hosts without 'www.')."""
        with open_runtime(settings()) as runtime:
            for site in runtime.lists.add_sites(which, list(sites)):
                click.echo(site)

    @group.command("list")
    def list_() -> None:
        """The sites on the list."""
        with open_runtime(settings()) as runtime:
            for site in runtime.lists.sites(which):
                click.echo(site)

    @group.command("remove")
    @click.argument("site")
    def remove(site: str) -> None:
        """Take a site off the list."""
        with open_runtime(settings()) as runtime:
            runtime.lists.remove_site(which, site)

    return group


watch = _site_list_group(
    "watched",
    "watch",
    "Watched sites: copies of their articles raise copy.found for webhooks made with watched_only.",
)


@click.group()
def exclude() -> None:
    """Exclusions, applied at check time (no re-indexing): sites never named as sources or
    copies, and boilerplate phrases ignored in matching."""


exclude.add_command(
    _site_list_group(
        "excluded", "sites", "Sites never named as sources or copies (syndication partners)."
    )
)


@exclude.group("phrases")
def phrases() -> None:
    """Boilerplate phrases ignored in matching (legal footers, newsletter blurbs)."""


@phrases.command("add")
@click.argument("phrase", nargs=-1, required=True)
def add_phrases(phrase: tuple[str, ...]) -> None:
    """Add phrases (each argument one phrase); prints each one's id.

    Example: dedup exclude phrases add "All rights reserved. Do not redistribute."
    """
    with open_runtime(settings()) as runtime:
        for phrase_id, text in runtime.lists.add_phrases(list(phrase)).items():
            click.echo(f"{phrase_id}\t{text}")


@phrases.command("list")
def list_phrases() -> None:
    """Every phrase with its id."""
    with open_runtime(settings()) as runtime:
        for phrase_id, text in runtime.lists.phrases().items():
            click.echo(f"{phrase_id}\t{text}")


@phrases.command("remove")
@click.argument("phrase_id")
def remove_phrase(phrase_id: str) -> None:
    """Remove a phrase by its id."""
    with open_runtime(settings()) as runtime:
        runtime.lists.remove_phrase(phrase_id)


@click.command()
@click.option("--deliveries", "hook_id", default=None, help="Show this webhook's delivery log.")
def webhooks(hook_id: str | None) -> None:
    """The webhooks (made with POST /v1/webhooks), or one's delivery log, as JSON lines."""
    with open_runtime(settings()) as runtime:
        if hook_id is not None:
            for entry in runtime.hooks.deliveries(hook_id):
                click.echo(json.dumps(entry))
            return
        for made_id, hook in runtime.hooks.all().items():
            shown = {k: v for k, v in hook.items() if k != "secret"}
            click.echo(json.dumps({"id": made_id, **shown}))


COMMANDS = (keys, watch, exclude, webhooks)
