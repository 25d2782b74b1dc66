"""The dossier's pictures, drawn on the server as SVG: charts by matplotlib, the copy graph
laid out by networkx and drawn by matplotlib (no hand-drawn SVG, nothing fetched by the
browser). Each function returns an SVG document as text, with a <title> for readers."""

import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

import matplotlib.pyplot as plt
import networkx as nx
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dedup.core.sites import Edge

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9})  # text stays text in the SVG


def _svg(figure: Figure, title: str) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Title": title})
    plt.close(figure)
    return out.getvalue()


def timeline(points: Sequence[tuple[str, datetime, str]]) -> str:
    """An article, its original and its copies on one time axis: (site, when, role) each,
    role 'original', 'this' or 'copy'; hours after the earliest, on a log scale (a copy
    minutes later and another days later both stay readable)."""
    figure, axes = plt.subplots(figsize=(6.4, 1.2 + 0.28 * len(points)))
    if points:
        start = min(when for _, when, _ in points)
        ordered = sorted(points, key=lambda p: p[1])
        colours = {"original": "#f2c14e", "this": "#3a7bd5", "copy": "#a8553b"}
        for row, (site, when, role) in enumerate(ordered):
            hours = max((when - start).total_seconds() / 3600, 0.01)
            axes.scatter([hours], [row], color=colours.get(role, "#555555"), zorder=3)
            axes.annotate(
                f"{site} ({role})",
                (hours, row),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        axes.set_xscale("log")
        axes.set_yticks([])
        axes.set_ylim(-0.8, len(ordered) - 0.2)
        axes.margins(x=0.25)
    else:
        axes.text(0.5, 0.5, "nothing to place", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("hours after the earliest (0.01 and less: the same moment)")
    axes.set_title("Timeline: the original and its copies")
    return _svg(figure, "Timeline")


def lag_chart(lags_seconds: Sequence[int]) -> str:
    """Histogram of how long after the original each copy appeared (minutes, log scale)."""
    figure, axes = plt.subplots(figsize=(5.2, 2.4))
    minutes = [max(s / 60, 0.1) for s in lags_seconds]
    if minutes:
        top = max(minutes)
        edges = [0.1 * (10 ** (k / 4)) for k in range(0, 4 * 6 + 1)]
        edges = [e for e in edges if e <= top * 10] or [0.1, 1.0]
        axes.hist(minutes, bins=edges, color="#3b6ea8")
        axes.set_xscale("log")
    else:
        axes.text(0.5, 0.5, "no copies yet", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("minutes after the original")
    axes.set_ylabel("copies")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole copies, never 0.25
    axes.set_title("Lag behind the original")
    return _svg(figure, "Lag behind the original")


def copier_lag_chart(copiers: Sequence[Edge]) -> str:
    """Bars of how long after a source's articles each site that copied it published its
    copies (mean minutes, log scale), most copies first: how fast others copy the source."""
    figure, axes = plt.subplots(figsize=(5.2, 2.4))
    shown = sorted(copiers, key=lambda e: -e.copies)[:12]
    if shown:
        names = [f"{e.copier} ({e.copies})" for e in shown]
        axes.barh(names, [max(e.mean_lag_seconds / 60, 0.1) for e in shown], color="#6b8e23")
        axes.set_xscale("log")
        axes.invert_yaxis()
    else:
        axes.text(0.5, 0.5, "not copied yet", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("mean minutes after its original")
    axes.set_title("How fast others copy it")
    return _svg(figure, "How fast others copy it")


def mix_chart(copy_types: Mapping[str, int]) -> str:
    """Bars of the site's copies by copy type (its disguise mix)."""
    figure, axes = plt.subplots(figsize=(5.2, 2.4))
    names = sorted(copy_types, key=lambda n: -copy_types[n])
    if names:
        axes.barh(names, [copy_types[n] for n in names], color="#a8553b")
        axes.invert_yaxis()
    else:
        axes.text(0.5, 0.5, "no copies yet", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("copies")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Disguise mix")
    return _svg(figure, "Disguise mix")


def cadence_chart(hours: Mapping[int, int]) -> str:
    """Articles per hour of the day (UTC), over every clock hour counted."""
    by_hour = [0] * 24
    for hour, count in hours.items():
        by_hour[datetime.fromtimestamp(hour * 3600, UTC).hour] += count
    figure, axes = plt.subplots(figsize=(5.2, 2.4))
    axes.bar(range(24), by_hour, color="#5b8a3b")
    axes.set_xticks(range(0, 24, 3))
    axes.set_xlabel("hour of the day (UTC)")
    axes.set_ylabel("articles")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Posting cadence")
    return _svg(figure, "Posting cadence")


NODE_SIZE = 600  # points squared: a node's circle is ~14 points in radius
LABEL_GAP = 4.0  # points between a node's circle and its label below it


def copy_graph(site: str, sources: Sequence[Edge], copiers: Sequence[Edge]) -> str:
    """The copy graph around a site: its sources (it copied them) and its copiers, edges
    as wide as their copies and coloured by their credit share (red: none credited)."""
    return _svg(copy_graph_figure(site, sources, copiers), f"Copy graph around {site}")


def copy_graph_figure(site: str, sources: Sequence[Edge], copiers: Sequence[Edge]) -> Figure:
    """The copy graph drawn (see `copy_graph`); each label sits below its node, clear of it,
    on a white ground over any edge."""
    graph: Any = nx.DiGraph()
    graph.add_node(site)
    for edge in (*sources, *copiers):
        graph.add_edge(
            edge.copier, edge.source, copies=edge.copies, credit=edge.credited / max(edge.copies, 1)
        )
    figure, axes = plt.subplots(figsize=(5.2, 4.0))
    positions = nx.spring_layout(graph, seed=7) if len(graph) > 1 else {site: (0.0, 0.0)}
    edges = list(graph.edges(data=True))
    most = max((d["copies"] for _, _, d in edges), default=1)
    nx.draw_networkx_nodes(
        graph,
        positions,
        ax=axes,
        node_color=["#f2c14e" if n == site else "#d9e2ec" for n in graph.nodes],
        node_size=NODE_SIZE,
    )
    if edges:
        nx.draw_networkx_edges(
            graph,
            positions,
            ax=axes,
            edgelist=[(a, b) for a, b, _ in edges],
            width=[1 + 5 * d["copies"] / most for _, _, d in edges],
            edge_color=[d["credit"] for _, _, d in edges],
            edge_cmap=plt.get_cmap("RdYlGn"),
            edge_vmin=0.0,
            edge_vmax=1.0,
            arrows=True,
            arrowsize=14,
            node_size=NODE_SIZE,
        )
    below = (NODE_SIZE**0.5) / 2 + LABEL_GAP  # points from a node's centre to its label
    for name, (x, y) in positions.items():
        axes.annotate(
            name,
            (x, y),
            xytext=(0, -below),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
            zorder=5,
        )
    axes.set_title("Copy graph: arrows point from the copier to its source")
    axes.margins(0.3)  # room for the labels of the outer nodes
    axes.set_axis_off()
    return figure
