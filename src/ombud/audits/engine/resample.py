"""Bootstrap intervals for disparities, drawn from the confusion counts alone.

Resampling n rows with replacement from a group and counting its confusion
matrix is exactly a multinomial draw of n over the group's four cell shares.
So the row-level bootstrap needs no second pass over the data: each replicate
draws every group's counts from Multinomial(n_g, p_g), independently (groups
of one grouping are disjoint), and recomputes each metric with the domain's
definitions. The multinomial is drawn as a chain of binomials (TP, then FP
among the rest, then FN; TN is what remains), which has the same distribution.
Intervals are percentile intervals of (group - reference) and
(group / reference), read off the order statistics of the replicates;
replicates where a metric is undefined (an empty denominator) are left out,
and a metric undefined in more than half of them gets no interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ombud.audits.domain.metrics import Confusion, Metric
from ombud.audits.domain.tabulation import BootstrapInterval


def draw(
    groups: Sequence[Confusion], replicates: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Replicates of each cell's count: four (groups, replicates) arrays, TP, FP, FN, TN."""
    counts = np.array([[g.tp, g.fp, g.fn, g.tn] for g in groups], dtype=np.int64)
    sizes = counts.sum(axis=1)
    left = np.repeat(sizes[:, None], replicates, axis=1)
    mass = np.ones(len(groups))
    cells = []
    for c in range(3):
        share = counts[:, c] / np.maximum(sizes, 1)
        p = np.clip(np.divide(share, mass, out=np.zeros_like(share), where=mass > 0), 0, 1)
        x = rng.binomial(left, p[:, None])
        cells.append(x)
        left = left - x
        mass = mass - share
    cells.append(left)
    return cells


def bootstrap(
    groups: Sequence[Confusion],
    reference: int,
    metrics: Sequence[Metric],
    replicates: int,
    seed: Sequence[int],
    confidence: float,
) -> list[dict[Metric, BootstrapInterval]]:
    """For every group, per metric, the intervals of its difference and ratio to the reference."""
    rng = np.random.default_rng([int(s) for s in seed])
    cells = draw(groups, replicates, rng)
    alpha = 1 - confidence
    found: list[dict[Metric, BootstrapInterval]] = [{} for _ in groups]
    for metric in metrics:
        numerator = sum(cells[c] for c in metric.numerator)
        denominator = sum(cells[c] for c in metric.denominator)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(denominator > 0, numerator / denominator, np.nan)
            base = value[reference]
            difference = value - base
            ratio = np.where(base > 0, value / base, np.nan)
        differences = _percentiles(difference, alpha)
        ratios = _percentiles(ratio, alpha)
        for g in range(len(groups)):
            if g != reference:
                found[g][metric] = BootstrapInterval(differences[g], ratios[g])
    return found


def _percentiles(samples: np.ndarray, alpha: float) -> list[tuple[float, float] | None]:
    """Per row of (groups, replicates): the percentile interval, or None if mostly undefined."""
    finite = np.isfinite(samples)
    if finite.all():
        low, high = _order_statistics(samples, alpha)
        return [(float(a), float(b)) for a, b in zip(low, high, strict=True)]
    found: list[tuple[float, float] | None] = []
    for g in range(len(samples)):
        kept = samples[g, finite[g]]
        if len(kept) < max(10, samples.shape[1] // 2):
            found.append(None)  # undefined in most replicates: no honest interval
            continue
        a, b = _order_statistics(kept[None, :], alpha)
        found.append((float(a[0]), float(b[0])))
    return found


def _order_statistics(samples: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The ((R+1)·α/2)-th and ((R+1)·(1-α/2))-th smallest of each row's R replicates
    (Davison and Hinkley's percentile rule; for R = 1000 at 95%: the 25th and the 976th)."""
    r = samples.shape[1]
    low = min(max(math.floor((r + 1) * alpha / 2), 1), r) - 1
    high = max(min(math.ceil((r + 1) * (1 - alpha / 2)), r), 1) - 1
    part = np.partition(samples, sorted({low, high}), axis=1)
    return part[:, low], part[:, high]
