"""Bias and discrimination audits: metric definitions, statistics and the audit report.

coe-fc:10 (equality and non-discrimination), unga-78-265:op6.h (data sets and
bias), ipu-148 and ipu-149 (algorithmic bias) ask that AI systems be tested for
bias before and during use. An audit compares how a model's decisions fall on
groups of people defined by protected attributes.

This module is the definition of record: every metric is a ratio of cells of
the confusion matrix (`Metric.numerator` / `Metric.denominator`), and the
engine, the bootstrap and the tests all use these definitions. The heavy,
out-of-core counting is done by an `AuditEngine` (a port, implemented in
ombud.audits.engine), which hands back a `Tabulation`: confusion
counts per group. Everything a reader of the report decides on (suppression,
reference groups, disparities, intervals, representation, proxies) is decided
here, in plain Python, from those counts.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

SCHEMA_VERSION = "1.1"  # 1.1: `windows` and `alerts` when monitoring
MISSING = "(missing)"  # how a NULL attribute value is named: it is a group of its own
DEFAULT_MIN_GROUP_SIZE = 30
DEFAULT_REPLICATES = 1000
DEFAULT_CONFIDENCE = 0.95
FOUR_FIFTHS = (0.8, 1.25)  # ratio band outside which a disparity is flagged

Value = str | int | float | bool | None


# Monitoring: the pseudo-attribute holding each row's time window, and the windows.
WINDOW = "(window)"
WINDOWS = ("day", "week", "month", "quarter", "year")


class AuditInputError(ValueError):
    """The audit cannot be computed as asked (e.g. an unknown reference value)."""


class Cell(enum.IntEnum):
    """A cell of the binary confusion matrix (label: truth, prediction: decision)."""

    TP = 0  # label 1, predicted 1
    FP = 1  # label 0, predicted 1
    FN = 2  # label 1, predicted 0
    TN = 3  # label 0, predicted 0


ALL_CELLS = (Cell.TP, Cell.FP, Cell.FN, Cell.TN)


class Metric(enum.StrEnum):
    """The metrics of a group, by the names they have everywhere: the JSON document's
    fields, alert rules, the CLI's and the web's tables, the plots' addresses."""

    BASE_RATE = "base_rate"
    SELECTION_RATE = "selection_rate"
    TPR = "tpr"
    FPR = "fpr"
    FNR = "fnr"
    TNR = "tnr"
    PPV = "ppv"
    NPV = "npv"
    ACCURACY = "accuracy"

    @property
    def numerator(self) -> tuple[Cell, ...]:
        return _DEFINITIONS[self][0]

    @property
    def denominator(self) -> tuple[Cell, ...]:
        return _DEFINITIONS[self][1]

    @property
    def label(self) -> str:
        """What a reader calls it: "false positive rate"."""
        return _LABELS[self]

    @property
    def short(self) -> str:
        """A column heading where space is short: "FPR"."""
        return _SHORT[self]


_DEFINITIONS: dict[Metric, tuple[tuple[Cell, ...], tuple[Cell, ...]]] = {
    Metric.BASE_RATE: ((Cell.TP, Cell.FN), ALL_CELLS),
    Metric.SELECTION_RATE: ((Cell.TP, Cell.FP), ALL_CELLS),
    Metric.TPR: ((Cell.TP,), (Cell.TP, Cell.FN)),
    Metric.FPR: ((Cell.FP,), (Cell.FP, Cell.TN)),
    Metric.FNR: ((Cell.FN,), (Cell.TP, Cell.FN)),
    Metric.TNR: ((Cell.TN,), (Cell.FP, Cell.TN)),
    Metric.PPV: ((Cell.TP,), (Cell.TP, Cell.FP)),
    Metric.NPV: ((Cell.TN,), (Cell.TN, Cell.FN)),
    Metric.ACCURACY: ((Cell.TP, Cell.TN), ALL_CELLS),
}
_LABELS = {
    Metric.BASE_RATE: "base rate",
    Metric.SELECTION_RATE: "selection rate",
    Metric.TPR: "true positive rate",
    Metric.FPR: "false positive rate",
    Metric.FNR: "false negative rate",
    Metric.TNR: "true negative rate",
    Metric.PPV: "positive predictive value",
    Metric.NPV: "negative predictive value",
    Metric.ACCURACY: "accuracy",
}

_SHORT = {
    Metric.BASE_RATE: "base",
    Metric.SELECTION_RATE: "selected",
    Metric.TPR: "TPR",
    Metric.FPR: "FPR",
    Metric.FNR: "FNR",
    Metric.TNR: "TNR",
    Metric.PPV: "PPV",
    Metric.NPV: "NPV",
    Metric.ACCURACY: "accuracy",
}
# The rates a table of groups shows (the HTML report, the web page).
TABLE_METRICS = (
    Metric.BASE_RATE,
    Metric.SELECTION_RATE,
    Metric.TPR,
    Metric.FPR,
    Metric.PPV,
    Metric.NPV,
    Metric.ACCURACY,
)
# The rates drawn per group with their intervals, and shown over time.
CHART_METRICS = (Metric.SELECTION_RATE, Metric.TPR, Metric.FPR)


class Criterion(enum.StrEnum):
    """Group fairness criteria, each a statement about equal metrics across groups."""

    DEMOGRAPHIC_PARITY = "demographic_parity"  # equal selection rates
    EQUALISED_ODDS = "equalised_odds"  # equal TPR and equal FPR
    EQUAL_OPPORTUNITY = "equal_opportunity"  # equal TPR
    PREDICTIVE_PARITY = "predictive_parity"  # equal PPV

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return _CRITERIA[self]


_CRITERIA: dict[Criterion, tuple[Metric, ...]] = {
    Criterion.DEMOGRAPHIC_PARITY: (Metric.SELECTION_RATE,),
    Criterion.EQUALISED_ODDS: (Metric.TPR, Metric.FPR),
    Criterion.EQUAL_OPPORTUNITY: (Metric.TPR,),
    Criterion.PREDICTIVE_PARITY: (Metric.PPV,),
}
# The rates compared with the reference group: one per criterion (coe-fc:10), and the
# ones alert rules can watch.
DISPARITY_METRICS = (Metric.SELECTION_RATE, Metric.TPR, Metric.FPR, Metric.PPV)


def criteria_of(metric: Metric) -> tuple[Criterion, ...]:
    return tuple(c for c in Criterion if metric in c.metrics)


@dataclass(frozen=True)
class Confusion:
    """Counts of the confusion matrix of one group."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def cell(self, cell: Cell) -> int:
        return (self.tp, self.fp, self.fn, self.tn)[cell]

    def total(self, cells: Sequence[Cell]) -> int:
        counts = (self.tp, self.fp, self.fn, self.tn)
        return sum(counts[c] for c in cells)

    def parts(self, metric: Metric) -> tuple[int, int]:
        """(numerator, denominator) of a metric."""
        return self.total(metric.numerator), self.total(metric.denominator)

    def rate(self, metric: Metric) -> float | None:
        """The metric, or None where it is undefined (an empty denominator)."""
        k, n = self.parts(metric)
        return k / n if n else None

    def __add__(self, other: Confusion) -> Confusion:
        return Confusion(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )


@lru_cache(maxsize=8)
def z_value(confidence: float) -> float:
    """The standard normal quantile of a two-sided interval at ``confidence``."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson_interval(
    successes: int, trials: int, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float] | None:
    """Wilson score interval for a proportion; None when there are no trials.

    Unlike the normal (Wald) interval it stays inside [0, 1] and keeps its
    coverage near 0 and 1, where small groups and rare outcomes put many rates.
    """
    if trials <= 0:
        return None
    z = z_value(confidence)
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / trials + z2n / (4 * trials))
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= trials else min(1.0, centre + half)
    return low, high


def auc_from_histogram(
    positives: Sequence[int], negatives: Sequence[int]
) -> tuple[float, float] | None:
    """ROC AUC from counts of positives and negatives per score bin, in ascending order.

    Returns (auc, bound): pairs of a positive and a negative in different bins
    are ordered exactly; pairs in the same bin are counted as ties (one half),
    so the AUC of the exact scores lies within ``auc ± bound``, where
    bound = ½·Σ pos_b·neg_b / (P·N). None when the group lacks positives or
    negatives (AUC is undefined).
    """
    n_pos = sum(positives)
    n_neg = sum(negatives)
    if n_pos == 0 or n_neg == 0:
        return None
    below = 0  # negatives in lower bins
    twice = 0  # 2 x (pairs ranked correctly + half of the tied pairs)
    ties = 0
    for pos, neg in zip(positives, negatives, strict=True):
        if pos:
            twice += pos * (2 * below + neg)
            ties += pos * neg
        below += neg
    pairs = n_pos * n_neg
    return twice / (2 * pairs), ties / (2 * pairs)


def cramers_v(table: Sequence[Sequence[int]]) -> float | None:
    """Cramér's V of a contingency table: 0 (independent) to 1 (one determines the other).

    Empty rows and columns are dropped first; None when fewer than two rows or
    columns remain (nothing to associate).
    """
    rows = [list(r) for r in table if any(r)]
    if not rows:
        return None
    keep = [j for j in range(len(rows[0])) if any(r[j] for r in rows)]
    rows = [[r[j] for j in keep] for r in rows]
    k = min(len(rows), len(keep))
    if k < 2:
        return None
    row_totals = [sum(r) for r in rows]
    col_totals = [sum(r[j] for r in rows) for j in range(len(keep))]
    n = sum(row_totals)
    chi2 = 0.0
    for r, rt in zip(rows, row_totals, strict=True):
        for observed, ct in zip(r, col_totals, strict=True):
            expected = rt * ct / n
            chi2 += (observed - expected) ** 2 / expected
    return min(1.0, math.sqrt(chi2 / (n * (k - 1))))


def display_value(value: Value) -> str:
    """How an attribute value is named in reports and matched in --reference."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
