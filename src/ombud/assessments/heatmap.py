"""The risk heat map of an assessment, as SVG (matplotlib, no display needed)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ombud.assessments.domain import Score, ScoringMethod

if TYPE_CHECKING:
    from matplotlib.axes import Axes

LEVEL_COLOURS = {
    "low": "#cfe8d5",
    "medium": "#fde9b8",
    "high": "#f6c3a1",
    "very_high": "#eda1a1",
}


def heatmap_svg(score: Score, thresholds: list[tuple[float, str]]) -> str:
    """Severity (sum of the factors) against probability, each assessed right a point.

    The cell colours follow the template's own thresholds on severity x probability,
    so the picture and the written rule cannot disagree.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    try:
        if score.method is ScoringMethod.RIGHTS_MATRIX and score.rows:
            _matrix(ax, score, thresholds)
        else:
            _bar(ax, score, thresholds)
        buf = io.StringIO()
        fig.tight_layout()
        fig.savefig(buf, format="svg")
    finally:
        plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _level(fraction: float, thresholds: list[tuple[float, str]]) -> str:
    found = thresholds[0][1] if thresholds else ""
    for at, level in thresholds:
        if fraction >= at - 1e-12:
            found = level
    return found


def _matrix(ax: Axes, score: Score, thresholds: list[tuple[float, str]]) -> None:
    import matplotlib.patches as mpatches

    row = score.rows[0]
    factors = [k for k in row.factors if k != list(row.factors)[-1]]
    n_factors = len(factors)
    sev_min, sev_max = n_factors, 4 * n_factors
    for sev in range(sev_min, sev_max + 1):
        for prob in range(1, 5):
            level = _level(sev * prob / row.maximum, thresholds)
            ax.add_patch(
                mpatches.Rectangle(
                    (sev - 0.5, prob - 0.5), 1, 1, color=LEVEL_COLOURS.get(level, "#eeeeee")
                )
            )
    for r in score.rows:
        values = list(r.factors.values())
        severity, probability = float(sum(values[:-1])), values[-1]
        ax.plot(severity, probability, "o", color="#10263b")
        ax.annotate(
            r.label.replace("_", " ")[:28],
            (severity, probability),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    ax.set_xlim(sev_min - 0.5, sev_max + 0.5)
    ax.set_ylim(0.5, 4.5)
    ax.set_xlabel("Severity: " + " + ".join(factors))
    ax.set_ylabel("Probability")
    ax.set_title(f"Risk heat map — overall level: {score.level}")
    handles = [
        mpatches.Patch(color=c, label=lv.replace("_", " ")) for lv, c in LEVEL_COLOURS.items()
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left")


def _bar(ax: Axes, score: Score, thresholds: list[tuple[float, str]]) -> None:
    for i, (at, level) in enumerate(thresholds):
        end = thresholds[i + 1][0] if i + 1 < len(thresholds) else 1.0
        ax.barh(0, end - at, left=at, color=LEVEL_COLOURS.get(level, "#dddddd"), edgecolor="white")
    ax.axvline(score.fraction, color="#10263b", linewidth=3)
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel("Score as a share of the maximum")
    ax.set_title(f"Score {score.final:g} of {score.maximum:g} — level: {score.level}")
