"""Plots of a stored bias audit (its JSON document), as SVG: per-group bars with the
95% interval as whiskers, and the disparity ratios against the [0.8, 1.25] band."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

FOUR_FIFTHS = (0.8, 1.25)


def _label(attributes: Mapping[str, Any]) -> str:
    return ", ".join(f"{v}" for v in attributes.values()) or "all"


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def group_bars_svg(result: Mapping[str, Any], metric: str) -> str:
    """One panel per grouping: the metric of each group with its Wilson interval;
    suppressed groups are named with no bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groupings = [tuple(g["attributes"]) for g in result.get("groupings", [])]
    groups = result.get("groups", [])
    panels = max(len(groupings), 1)
    fig, axes = plt.subplots(panels, 1, figsize=(7.2, 1.2 + 0.42 * max(len(groups), 2)), dpi=100)
    axes_list = list(axes.flat) if hasattr(axes, "flat") else [axes]
    try:
        for ax, grouping in zip(axes_list, groupings, strict=False):
            rows = [g for g in groups if tuple(g["grouping"]) == grouping]
            names = [
                _label(g["attributes"]) + (" (suppressed)" if g["suppressed"] else "") for g in rows
            ]
            values = [g.get(metric) if g.get(metric) is not None else 0.0 for g in rows]
            low = []
            high = []
            for g, v in zip(rows, values, strict=True):
                interval = (g.get("intervals") or {}).get(metric)
                low.append(max(v - interval[0], 0.0) if interval else 0.0)
                high.append(max(interval[1] - v, 0.0) if interval else 0.0)
            colours = ["#9aa5b1" if g["suppressed"] else "#0b5394" for g in rows]
            ax.barh(names, values, xerr=[low, high], color=colours, capsize=3)
            ax.set_xlim(0, 1)
            ax.invert_yaxis()
            ax.set_title(" × ".join(grouping), fontsize=9, loc="left")
            ax.tick_params(labelsize=8)
        axes_list[-1].set_xlabel(metric.replace("_", " "))
        return _svg(fig)
    finally:
        plt.close(fig)


def disparity_svg(result: Mapping[str, Any]) -> str:
    """Each group's ratio to its reference, per metric, on a log scale with the
    four-fifths band; flagged ratios in red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [d for d in result.get("disparities", []) if not d.get("suppressed") and d.get("ratio")]
    fig, ax = plt.subplots(figsize=(7.2, 1.2 + 0.28 * max(len(rows), 2)), dpi=100)
    try:
        names = [f"{_label(d['attributes'])} · {d['metric'].replace('_', ' ')}" for d in rows]
        ratios = [d["ratio"] for d in rows]
        colours = ["#b42318" if d.get("flagged") else "#0b5394" for d in rows]
        ax.axvspan(*FOUR_FIFTHS, color="#e8f1e4", zorder=0)
        ax.axvline(1.0, color="#4d5660", linewidth=0.8)
        if rows:
            ax.scatter(ratios, names, c=colours, zorder=3)
            for d, name in zip(rows, names, strict=True):
                interval = d.get("ratio_interval")
                if interval and all(x and x > 0 for x in interval):
                    ax.plot(interval, [name, name], color="#4d5660", linewidth=1, zorder=2)
        ax.set_xscale("log")
        from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator

        ticks = [0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.set_xlabel("ratio to the reference group (band: 0.8 to 1.25)")
        ax.invert_yaxis()
        ax.tick_params(labelsize=7)
        return _svg(fig)
    finally:
        plt.close(fig)


class AuditPlots:
    def group_bars(self, result: Mapping[str, Any], metric: str) -> str:
        return group_bars_svg(result, metric)

    def disparities(self, result: Mapping[str, Any]) -> str:
        return disparity_svg(result)
