"""The charts of a bias audit, drawn from its JSON document (docs/audit-json-schema.md)
with matplotlib, as SVG: the one renderer of audit charts. The web page serves them as
files (/audits/{id}/plots/...) and the self-contained HTML report inlines the same
drawings, so a reader sees the same figure wherever the audit is read (coe-fc:10).

- ``rates_svg``: per group, each rate with its 95% Wilson interval (whiskers), one
  panel per grouping; suppressed groups are named, with no dot.
- ``disparities_svg``: each group's ratio to its reference group, per metric, on a log
  scale with the four-fifths band [0.8, 1.25]; flagged ratios in red.

The output is deterministic (no date, fixed element ids), so a rerun on the same data
gives the same bytes, and its text is text (searchable, read by screen readers).
matplotlib loads only when a chart is drawn; pyplot is not used (its global state is not
safe in the web app's thread pool).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from ombud.audits.domain.metrics import FOUR_FIFTHS, Metric

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BLUE, RED, GREY, BAND, AXIS = "#0b5394", "#b42318", "#9aa5b1", "#e8f1e4", "#4d5660"
COLOURS = ("#0b5394", "#2e7d32", "#b23c17", "#6a3d9a")  # one per metric of a panel
WIDTH = 7.2  # inches
ROW = 0.26  # inches per row of a panel
# text as text; fixed element ids (hashed with this salt), so the same audit gives the same file
SETTINGS: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "ombud-audit", "font.size": 8}
NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def _label(attributes: Mapping[str, Any]) -> str:
    return ", ".join(f"{v}" for v in attributes.values()) or "all"


def _groupings(
    result: Mapping[str, Any], only: Sequence[Sequence[str]] | None
) -> list[tuple[str, ...]]:
    found = [tuple(g["attributes"]) for g in result.get("groupings", [])]
    if only is not None:
        wanted = {tuple(g) for g in only}
        found = [g for g in found if g in wanted]
    return found


def _render(fig: Figure, title: str) -> str:
    """The figure as an SVG file with ``title`` as its accessible name (matplotlib would
    also put the title in an RDF block that names outside addresses: not wanted)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(SETTINGS), warnings.catch_warnings():
        # text is written as text, drawn by the reader's fonts: a glyph matplotlib's own
        # font lacks (e.g. 日本人) only makes its measured width approximate
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        fig.savefig(buf, format="svg", metadata=NO_METADATA)
    head, _, rest = buf.getvalue().partition("<svg")
    tag, _, body = rest.partition(">")
    return f"{head}<svg{tag}>\n <title>{escape(title)}</title>{body}"


def _figure(height: float) -> Figure:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(SETTINGS):
        return Figure(figsize=(WIDTH, height), dpi=72, layout="constrained")


def rates_svg(
    result: Mapping[str, Any],
    metrics: Sequence[Metric],
    groupings: Sequence[Sequence[str]] | None = None,
) -> str:
    """One panel per grouping (or per one of ``groupings``): each group's ``metrics``
    as dots with their intervals, on [0, 1]."""
    panels = _groupings(result, groupings)
    groups = result.get("groups", [])
    rows = [[g for g in groups if tuple(g["grouping"]) == grouping] for grouping in panels] or [[]]
    height = 0.5 + sum(0.45 + ROW * max(len(r), 1) * len(metrics) for r in rows)
    fig = _figure(height)
    axes = fig.subplots(len(rows), 1, squeeze=False, height_ratios=[max(len(r), 1) for r in rows])[
        :, 0
    ]
    for ax, grouping, members in zip(axes, panels or [()], rows, strict=True):
        names: list[str] = []
        for g in members:
            name = _label(g["attributes"]) + (" (suppressed)" if g["suppressed"] else "")
            names += [name if len(metrics) == 1 else f"{name} · {m.short}" for m in metrics]
        positions = list(range(len(names)))
        for k, metric in enumerate(metrics):
            colour = COLOURS[k % len(COLOURS)]
            for i, g in enumerate(members):
                y = i * len(metrics) + k
                value = g.get(metric.value)
                interval = (g.get("intervals") or {}).get(metric.value)
                if g["suppressed"] or value is None:
                    continue
                if interval:
                    ax.plot(interval, [y, y], color=colour, linewidth=2, solid_capstyle="butt")
                ax.plot([value], [y], "o", color=colour, markersize=5)
        ax.set_yticks(positions, names)
        ax.set_ylim(len(names) - 0.5 if names else 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(" × ".join(grouping) or "all rows", loc="left", fontsize=9)
    axes[-1].set_xlabel(
        ", ".join(m.label for m in metrics) + " (dot), with its 95% interval (line)"
    )
    title = ", ".join(m.label for m in metrics) + " per group, with 95% intervals"
    return _render(fig, title)


def disparities_svg(
    result: Mapping[str, Any], groupings: Sequence[Sequence[str]] | None = None
) -> str:
    """Each group's ratio to its reference group, per metric, on a log scale with the
    four-fifths band; flagged ratios in red, bootstrap intervals as lines."""
    wanted = None if groupings is None else {tuple(g) for g in groupings}
    rows = [
        d
        for d in result.get("disparities", [])
        if not d.get("suppressed")
        and d.get("ratio")
        and (wanted is None or tuple(d["grouping"]) in wanted)
    ]
    fig = _figure(1.2 + ROW * max(len(rows), 2))
    ax = fig.subplots()
    names = [f"{_label(d['attributes'])} · {Metric(d['metric']).label}" for d in rows]
    ax.axvspan(*FOUR_FIFTHS, color=BAND, zorder=0)
    ax.axvline(1.0, color=AXIS, linewidth=0.8)
    for y, d in enumerate(rows):
        interval = d.get("ratio_interval")
        if interval and all(x and x > 0 for x in interval):
            ax.plot(interval, [y, y], color=AXIS, linewidth=1, zorder=2)
        ax.plot([d["ratio"]], [y], "o", color=RED if d.get("flagged") else BLUE, zorder=3)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator

    ax.xaxis.set_major_locator(FixedLocator([0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_xlim(0.2, 5)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(max(len(names), 1) - 0.5, -0.5)
    ax.set_xlabel(
        f"ratio to the reference group (band: {FOUR_FIFTHS[0]} to {FOUR_FIFTHS[1]}; red: flagged)"
    )
    return _render(fig, "Ratio of each group's rates to its reference group")


_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_NAMESPACES = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')


def inline(svg: str, label: str) -> str:
    """An SVG file as an element of an HTML page: without its XML declaration and
    doctype, and without namespace declarations (HTML puts inline SVG in its namespace;
    the report names no address), labelled for screen readers."""
    body = _PROLOGUE.sub("", svg, count=1)
    head, _, rest = body.partition(">")
    head = _NAMESPACES.sub("", head)
    return f'{head} role="img" aria-label="{escape(label)}">{rest}'


class AuditPlots:
    """The web page's plots of a stored audit (the service's AuditPlotter)."""

    def rates(self, result: Mapping[str, Any], metric: Metric) -> str:
        return rates_svg(result, (metric,))

    def disparities(self, result: Mapping[str, Any]) -> str:
        return disparities_svg(result)
