"""Site profiles: `dedup sites` (the farm-score table) and `dedup site NAME` (a dossier)."""

import click

from dedup.cli.common import settings
from dedup.core.sites import share
from dedup.runtime import open_runtime


@click.command()
@click.option(
    "--min-articles",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Only sites with at least this many counted articles.",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 500),
    help="How many sites to show.",
)
@click.option(
    "--rescore",
    is_flag=True,
    help="First store every site's farm score again from its sums (after an upgrade that "
    "changed the score: the list is ordered by the stored scores).",
)
def sites(min_articles: int, limit: int, rescore: bool) -> None:
    """The sites most likely to be content farms, highest farm score first.

    Sites are counted by the follow-up of every ingest (workers, scans).

    Examples: dedup sites --min-articles 5; dedup sites --rescore
    """
    with open_runtime(settings()) as runtime:
        if rescore:
            click.echo(f"Rescored {runtime.sites.rescore_all()} site(s).")
        page, total = runtime.sites.ranked(min_articles, 0, limit)
    if not page:
        click.echo(f"No site with at least {min_articles} counted article(s) yet.")
        return
    click.echo(f"{'site':32} {'articles':>8} {'copies':>7} {'credited':>8} {'score':>6}  role")
    for figures, score in page:
        credited = share(figures.credited_copies, figures.copies)
        click.echo(
            f"{figures.site[:32]:32} {figures.articles:8d} {figures.copies:7d} "
            f"{credited:8.0%} {score.value:6.3f}  {score.role}"
        )
    if total > len(page):
        click.echo(f"... {total - len(page)} more (--limit)")


@click.command()
@click.argument("name")
def site(name: str) -> None:
    """One site's dossier: profile, farm score, the reasons and example copies with their
    originals (exit 1 if the site was never counted).

    Example: dedup site farm.example
    """
    with open_runtime(settings()) as runtime:
        found = runtime.sites.dossier(name.strip().lower())
    f, score = found.figures, found.score
    click.echo(
        f"{f.site}: farm score {score.value:.3f} ({score.role}, confidence {score.confidence:.2f})"
    )
    if score.change:
        click.echo(f"  what would change it: {score.change}")
    click.echo(
        f"  articles {f.articles}, copies of other sites {f.copies} "
        f"({share(f.credited_copies, f.copies):.0%} credited), copied by others "
        f"{f.copied}"
    )
    if f.lag_median_seconds is not None:
        click.echo(
            f"  lag behind the original: median {f.lag_median_seconds / 60:.0f} min, "
            f"p90 {(f.lag_p90_seconds or 0) / 60:.0f} min"
        )
    if f.copy_types:
        mix = ", ".join(f"{k} {v}" for k, v in sorted(f.copy_types.items()))
        click.echo(f"  copies by type: {mix}")
    if f.sources:
        top = ", ".join(f"{k} ({v})" for k, v in list(f.sources.items())[:5])
        click.echo(f"  copies from: {top}")
    click.echo(
        f"  cadence: {found.articles_per_hour:.2f} articles/hour, burstiness {found.burstiness:.1f}"
    )
    for reason in score.reasons:
        click.echo(f"  {reason.contribution:+.2f}  {reason.text}")
        for e in found.examples.get(reason.name, ()):
            later = f"{e.copy_type or 'copy'}, {e.lag_seconds / 60:.0f} min later"
            click.echo(
                f"         id {e.article_id} {e.url} <- id {e.source_id} {e.source_url} ({later})"
            )


COMMANDS = (sites, site)
