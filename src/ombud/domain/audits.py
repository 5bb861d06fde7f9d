"""Bias and discrimination audits: metric definitions, statistics and the audit report.

coe-fc:10 (equality and non-discrimination), unga-78-265:op6.h (data sets and
bias), ipu-148 and ipu-149 (algorithmic bias) ask that AI systems be tested for
bias before and during use. An audit compares how a model's decisions fall on
groups of people defined by protected attributes.

This module is the definition of record: every metric is a ratio of cells of
the confusion matrix (`Metric.numerator` / `Metric.denominator`), and the
engine, the bootstrap and the tests all use these definitions. The heavy,
out-of-core counting is done by an `AuditEngine` (a port, implemented in
ombud.adapters.audit_engine), which hands back a `Tabulation`: confusion
counts per group. Everything a reader of the report decides on (suppression,
reference groups, disparities, intervals, representation, proxies) is decided
here, in plain Python, from those counts.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from statistics import NormalDist
from typing import Any, Protocol

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
        return _LABELS[self]


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


# -- the request -----------------------------------------------------------------


@dataclass(frozen=True)
class AuditRequest:
    """What to audit: a data set, its outcome columns and the protected attributes."""

    data: tuple[str, ...]
    label: str
    groups: tuple[str, ...]
    prediction: str | None = None
    score: str | None = None
    threshold: float | None = None
    intersect: bool = False  # every combination of two or more groups
    intersections: tuple[tuple[str, ...], ...] = ()  # or (also) only these
    references: Mapping[str, str] = field(default_factory=dict)
    filter: str | None = None
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    confidence: float = DEFAULT_CONFIDENCE
    replicates: int = DEFAULT_REPLICATES
    seed: int = 0
    population: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    proxies: int = 0
    hash_data: bool = True
    time_column: str | None = None  # monitoring: the timestamp of each decision
    window: str | None = None  # day, week, month, quarter or year

    def attributes(self) -> tuple[str, ...]:
        """The columns counted jointly: the groups, and the time window when monitoring."""
        return (*self.groups, WINDOW) if self.window else self.groups

    def problems(self) -> dict[str, str]:
        """{option: message} for every inconsistency; empty when the request is sound."""
        found: dict[str, str] = {}
        if not self.data:
            found["data"] = "Name a CSV or Parquet file, a directory or a glob."
        if not self.groups:
            found["group"] = "Name at least one protected attribute column with --group."
        elif len(set(self.groups)) != len(self.groups):
            found["group"] = "A --group column is named twice."
        if (self.prediction is None) == (self.score is None):
            found["prediction"] = "Give either --prediction COL or --score COL --threshold T."
        if self.score is not None and self.threshold is None:
            found["threshold"] = "--score needs --threshold (predicted positive: score >= T)."
        if self.score is None and self.threshold is not None:
            found["threshold"] = "--threshold applies to --score only."
        if self.threshold is not None and not math.isfinite(self.threshold):
            found["threshold"] = "--threshold must be a finite number."
        outcome = [c for c in (self.label, self.prediction, self.score) if c is not None]
        if len(set(outcome)) != len(outcome):
            found["label"] = "The label, prediction and score must be different columns."
        both = sorted(set(outcome) & set(self.groups))
        if both:
            found["group"] = f"{', '.join(both)} cannot be both an outcome and a --group."
        for combo in self.intersections:
            if len(set(combo)) < 2 or len(set(combo)) != len(combo):
                found["intersect"] = "An intersection names two or more different columns."
            elif not set(combo) <= set(self.groups):
                found["intersect"] = "An intersection may only combine --group columns."
        if self.min_group_size < 1:
            found["min_group_size"] = "--min-group-size must be at least 1."
        if not 0 < self.confidence < 1:
            found["confidence"] = "The confidence level must lie between 0 and 1."
        if self.replicates < 0:
            found["bootstrap"] = "The number of bootstrap replicates cannot be negative."
        if self.proxies < 0:
            found["proxies"] = "--proxies must be 0 (off) or more."
        stray = sorted(set(self.references) - set(self.groups))
        if stray:
            found["reference"] = f"--reference names {', '.join(stray)}, which is not a --group."
        if (self.window is None) != (self.time_column is None):
            found["window"] = "--window and --time go together: name the timestamp column."
        elif self.window is not None and self.window not in WINDOWS:
            found["window"] = f"--window {self.window!r}: use one of {', '.join(WINDOWS)}."
        elif self.time_column is not None and self.time_column in (*self.groups, *outcome):
            found["window"] = f"--time {self.time_column} is already an outcome or a --group."
        stray = sorted(set(self.population) - set(self.groups))
        if stray:
            found["population"] = f"The population names {', '.join(stray)}, not a --group."
        for column, shares in self.population.items():
            bad = [v for v, s in shares.items() if not 0 <= s <= 1]
            if bad:
                found["population"] = f"Shares of {column} must lie in [0, 1] ({bad[0]})."
            elif sum(shares.values()) > 1 + 1e-6:
                found["population"] = f"Shares of {column} add up to more than 1."
        return found

    def groupings(self) -> tuple[tuple[str, ...], ...]:
        """Every attribute alone, then (with --intersect) every combination of two or more,
        and the intersections named one by one; each once, columns in --group order."""
        found: list[tuple[str, ...]] = [(g,) for g in self.groups]
        if self.intersect:
            found += [
                combo
                for size in range(2, len(self.groups) + 1)
                for combo in itertools.combinations(self.groups, size)
            ]
        order = {g: i for i, g in enumerate(self.groups)}
        found += [tuple(sorted(c, key=order.__getitem__)) for c in self.intersections]
        if self.window:  # each attribute (and the whole) per time window
            found += [(WINDOW,)] + [(g, WINDOW) for g in self.groups]
        return tuple(dict.fromkeys(found))

    def parameters(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "prediction": self.prediction,
            "score": self.score,
            "threshold": self.threshold,
            "groups": list(self.groups),
            "intersect": self.intersect,
            "intersections": [list(c) for c in self.intersections],
            "references": dict(self.references),
            "filter": self.filter,
            "min_group_size": self.min_group_size,
            "confidence": self.confidence,
            "bootstrap": {
                "replicates": self.replicates,
                "seed": self.seed,
                "method": "percentile; multinomial resampling of each group's confusion counts",
            },
            "population": {k: dict(v) for k, v in self.population.items()} or None,
            "proxies": self.proxies,
            **({"time": self.time_column, "window": self.window} if self.window else {}),
        }


# -- what the engine counts ---------------------------------------------------------


@dataclass(frozen=True)
class GroupCounts:
    """Counts of one group: its attribute values (None: NULL), confusion, score statistics."""

    values: tuple[Value, ...]
    confusion: Confusion
    score_sum: float | None = None
    # Positives and negatives per score bin, ascending; None without a score.
    positives: tuple[int, ...] | None = None
    negatives: tuple[int, ...] | None = None


@dataclass(frozen=True)
class GroupingCounts:
    attributes: tuple[str, ...]
    groups: tuple[GroupCounts, ...]


@dataclass(frozen=True)
class ProxyTable:
    """A contingency table: categories of a non-protected column x values of an attribute."""

    column: str
    attribute: str
    method: str  # "categories" or "deciles"
    table: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class DataFile:
    path: str
    bytes: int
    sha256: str | None


@dataclass(frozen=True)
class EngineInfo:
    name: str
    version: str
    libraries: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tabulation:
    """What an engine hands back after its pass over the data."""

    files: tuple[DataFile, ...]
    format: str
    rows_scanned: int
    overall: GroupCounts
    groupings: tuple[GroupingCounts, ...]
    engine: EngineInfo
    seconds: float = 0.0
    proxies: tuple[ProxyTable, ...] = ()
    score_bins: int | None = None
    score_range: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return self.overall.confusion.n


@dataclass(frozen=True)
class BootstrapInterval:
    difference: tuple[float, float] | None
    ratio: tuple[float, float] | None


ProgressFn = Callable[[int, int | None], None]


class AuditEngine(Protocol):
    """Port: counts confusion matrices per group in one pass, and resamples them."""

    def tabulate(self, request: AuditRequest, progress: ProgressFn | None = None) -> Tabulation:
        """Read the data once; raise Invalid (kernel.errors) for unknown columns and bad values."""
        ...

    def bootstrap(
        self,
        groups: Sequence[Confusion],
        reference: int,
        metrics: Sequence[Metric],
        replicates: int,
        seed: Sequence[int],
        confidence: float,
    ) -> list[dict[Metric, BootstrapInterval]]:
        """Percentile intervals of (group - reference) and (group / reference), per group."""
        ...


class AuditReportRenderer(Protocol):
    def html(self, report: AuditReport, monitoring: Mapping[str, Any] | None = None) -> str:
        """``monitoring``: the report's JSON document, whose ``windows`` and ``alerts``
        sections are shown, when the audit was per time window."""
        ...


# -- the report -------------------------------------------------------------------


class ReferenceRule(enum.StrEnum):
    GIVEN = "given"  # named with --reference
    LARGEST = "largest"  # the largest group that is not suppressed
    COMBINED = "combined"  # an intersection: the combination of each attribute's reference
    NONE = "none"  # every group is suppressed


@dataclass(frozen=True)
class GroupResult:
    grouping: tuple[str, ...]
    values: tuple[Value, ...]
    count: int
    share: float | None
    suppressed: bool
    confusion: Confusion | None
    metrics: Mapping[Metric, float | None]
    intervals: Mapping[Metric, tuple[float, float] | None]
    share_interval: tuple[float, float] | None = None
    mean_score: float | None = None
    auc: float | None = None
    auc_error_bound: float | None = None
    reference: bool = False

    @property
    def attributes(self) -> dict[str, Value]:
        return dict(zip(self.grouping, self.values, strict=True))

    @property
    def name(self) -> str:
        if not self.grouping:
            return "all rows"
        return ", ".join(
            f"{a}={display_value(v)}" for a, v in zip(self.grouping, self.values, strict=True)
        )


@dataclass(frozen=True)
class Disparity:
    """One metric of one group against the reference group of its grouping."""

    grouping: tuple[str, ...]
    values: tuple[Value, ...]
    reference: tuple[Value, ...]
    metric: Metric
    value: float | None
    reference_value: float | None
    difference: float | None
    ratio: float | None
    difference_interval: tuple[float, float] | None
    ratio_interval: tuple[float, float] | None
    suppressed: bool = False

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return criteria_of(self.metric)

    @property
    def flagged(self) -> bool:
        """The ratio leaves the four-fifths band [0.8, 1.25]."""
        return self.ratio is not None and not FOUR_FIFTHS[0] <= self.ratio <= FOUR_FIFTHS[1]


@dataclass(frozen=True)
class Spread:
    """Across the groups of a grouping that are not suppressed: the extremes of a metric."""

    low: float
    high: float

    @property
    def difference(self) -> float:
        return self.high - self.low

    @property
    def ratio(self) -> float | None:
        return self.low / self.high if self.high else None


@dataclass(frozen=True)
class GroupingResult:
    attributes: tuple[str, ...]
    reference: tuple[Value, ...] | None
    reference_rule: ReferenceRule
    spreads: Mapping[Metric, Spread | None]

    def criterion(self, criterion: Criterion) -> tuple[float | None, float | None]:
        """(difference, ratio) of a criterion over all groups, as fairlearn defines them:
        the largest difference and the smallest ratio of the criterion's metrics."""
        spreads = [self.spreads.get(m) for m in criterion.metrics]
        if any(s is None for s in spreads):
            return None, None
        present = [s for s in spreads if s is not None]
        ratios = [s.ratio for s in present]
        ratio = None if any(r is None for r in ratios) else min(r for r in ratios if r is not None)
        return max(s.difference for s in present), ratio


@dataclass(frozen=True)
class Representation:
    attribute: str
    value: str
    count: int
    observed: float
    observed_interval: tuple[float, float] | None
    expected: float | None
    ratio: float | None


@dataclass(frozen=True)
class ProxyFinding:
    column: str
    attribute: str
    cramers_v: float
    method: str
    categories: int


@dataclass(frozen=True)
class AuditReport:
    request: AuditRequest
    tabulation: Tabulation
    overall: GroupResult
    groupings: tuple[GroupingResult, ...]
    groups: tuple[GroupResult, ...]
    disparities: tuple[Disparity, ...]
    representation: tuple[Representation, ...] = ()
    proxies: tuple[ProxyFinding, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return self.tabulation.rows

    def groups_of(self, grouping: tuple[str, ...]) -> list[GroupResult]:
        return [g for g in self.groups if g.grouping == grouping]

    def disparities_of(self, grouping: tuple[str, ...]) -> list[Disparity]:
        return [d for d in self.disparities if d.grouping == grouping]


Bootstrapper = Callable[
    [Sequence[Confusion], int, Sequence[Metric], int, Sequence[int], float],
    list[dict[Metric, BootstrapInterval]],
]


def assemble_report(
    request: AuditRequest, tabulation: Tabulation, bootstrap: Bootstrapper
) -> AuditReport:
    """Turn the engine's counts into the audit: metrics, intervals, suppression,
    reference groups, disparities with bootstrap intervals, representation and proxies.

    Raises AuditInputError when a --reference value does not exist or is too small.
    """
    total = tabulation.rows
    warnings = list(tabulation.notes)
    overall = _group_result((), tabulation.overall, total, request, suppressible=False)
    groupings: list[GroupingResult] = []
    groups: list[GroupResult] = []
    disparities: list[Disparity] = []
    chosen: dict[str, Value] = {}  # reference value of each single attribute
    suppressed = 0
    for index, counts in enumerate(tabulation.groupings):
        results = sorted(
            (_group_result(counts.attributes, g, total, request) for g in counts.groups),
            key=lambda r: tuple(_sort_key(v) for v in r.values),
        )
        suppressed += sum(r.suppressed for r in results)
        reference, rule = _choose_reference(counts.attributes, results, request, chosen)
        if len(counts.attributes) == 1 and reference is not None:
            chosen[counts.attributes[0]] = reference[0]
        results = [
            replace(r, reference=True) if reference is not None and r.values == reference else r
            for r in results
        ]
        groups.extend(results)
        groupings.append(
            GroupingResult(
                counts.attributes,
                reference,
                rule,
                {m: _spread(results, m) for m in DISPARITY_METRICS},
            )
        )
        if reference is not None:
            disparities.extend(_disparities(results, reference, request, index, bootstrap))
    if suppressed:
        warnings.append(
            f"{suppressed} group(s) have fewer than {request.min_group_size} rows: "
            "reported as suppressed, without metrics."
        )
    if request.intersect and len(request.groups) < 2:
        warnings.append("--intersect needs two or more --group columns: no intersections.")
    representation = _representation(request, groups, total, warnings)
    proxies = _proxies(request, tabulation.proxies)
    return AuditReport(
        request=request,
        tabulation=tabulation,
        overall=overall,
        groupings=tuple(groupings),
        groups=tuple(groups),
        disparities=tuple(disparities),
        representation=tuple(representation),
        proxies=tuple(proxies),
        warnings=tuple(warnings),
    )


def _sort_key(value: Value) -> tuple[int, str, float]:
    if value is None:
        return (2, "", 0.0)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, "", float(value))
    return (1, display_value(value), 0.0)


def _group_result(
    grouping: tuple[str, ...],
    counts: GroupCounts,
    total: int,
    request: AuditRequest,
    suppressible: bool = True,
) -> GroupResult:
    conf = counts.confusion
    n = conf.n
    share = n / total if total else None
    share_interval = wilson_interval(n, total, request.confidence)
    if suppressible and n < request.min_group_size:
        return GroupResult(
            grouping,
            counts.values,
            n,
            share,
            True,
            None,
            {m: None for m in Metric},
            {m: None for m in Metric},
            share_interval,
        )
    auc = bound = mean = None
    if counts.score_sum is not None and n:
        mean = counts.score_sum / n
    if counts.positives is not None and counts.negatives is not None:
        found = auc_from_histogram(counts.positives, counts.negatives)
        if found is not None:
            auc, bound = found
    return GroupResult(
        grouping,
        counts.values,
        n,
        share,
        False,
        conf,
        {m: conf.rate(m) for m in Metric},
        {m: wilson_interval(*conf.parts(m), request.confidence) for m in Metric},
        share_interval,
        mean,
        auc,
        bound,
    )


def _choose_reference(
    attributes: tuple[str, ...],
    results: Sequence[GroupResult],
    request: AuditRequest,
    chosen: Mapping[str, Value],
) -> tuple[tuple[Value, ...] | None, ReferenceRule]:
    usable = [r for r in results if not r.suppressed]
    if len(attributes) == 1 and attributes[0] in request.references:
        wanted = request.references[attributes[0]]
        match = [r for r in results if display_value(r.values[0]) == wanted]
        if not match:
            known = ", ".join(display_value(r.values[0]) for r in results[:12])
            raise AuditInputError(
                f"--reference {attributes[0]}={wanted}: no such value in {attributes[0]} "
                f"(values: {known}{', ...' if len(results) > 12 else ''})."
            )
        if match[0].suppressed:
            raise AuditInputError(
                f"--reference {attributes[0]}={wanted}: the group has {match[0].count} rows, "
                f"fewer than --min-group-size {request.min_group_size}."
            )
        return match[0].values, ReferenceRule.GIVEN
    if not usable:
        return None, ReferenceRule.NONE
    largest = max(usable, key=lambda r: r.count)  # max keeps the first of equals
    if len(attributes) > 1 and all(a in chosen for a in attributes):
        combined = tuple(chosen[a] for a in attributes)
        if any(r.values == combined for r in usable):
            return combined, ReferenceRule.COMBINED
    return largest.values, ReferenceRule.LARGEST


def _spread(results: Sequence[GroupResult], metric: Metric) -> Spread | None:
    values = [v for r in results if not r.suppressed for v in [r.metrics[metric]] if v is not None]
    return Spread(min(values), max(values)) if values else None


def _disparities(
    results: Sequence[GroupResult],
    reference: tuple[Value, ...],
    request: AuditRequest,
    index: int,
    bootstrap: Bootstrapper,
) -> list[Disparity]:
    ref = next(r for r in results if r.values == reference)
    usable = [r for r in results if not r.suppressed]
    intervals: list[dict[Metric, BootstrapInterval]] = []
    # per-window groupings are compared point by point (monitoring, domain/monitoring.py):
    # thousands of day-by-group cells need no resampled intervals
    per_window = WINDOW in ref.grouping
    if request.replicates > 0 and len(usable) > 1 and not per_window:
        confusions = [r.confusion for r in usable if r.confusion is not None]
        intervals = bootstrap(
            confusions,
            usable.index(ref),
            DISPARITY_METRICS,
            request.replicates,
            (request.seed, index),
            request.confidence,
        )
    by_values = {r.values: i for i, r in enumerate(usable)}
    found: list[Disparity] = []
    for r in results:
        if r.values == reference:
            continue
        for metric in DISPARITY_METRICS:
            base = ref.metrics[metric]
            if r.suppressed:
                found.append(
                    Disparity(
                        r.grouping,
                        r.values,
                        reference,
                        metric,
                        None,
                        base,
                        None,
                        None,
                        None,
                        None,
                        suppressed=True,
                    )
                )
                continue
            value = r.metrics[metric]
            both = value is not None and base is not None
            diff = value - base if value is not None and base is not None else None
            ratio = value / base if value is not None and base else None
            boot = intervals[by_values[r.values]].get(metric) if intervals else None
            found.append(
                Disparity(
                    r.grouping,
                    r.values,
                    reference,
                    metric,
                    value,
                    base,
                    diff,
                    ratio,
                    boot.difference if boot and both else None,
                    boot.ratio if boot and ratio is not None else None,
                )
            )
    return found


def _representation(
    request: AuditRequest, groups: Sequence[GroupResult], total: int, warnings: list[str]
) -> list[Representation]:
    found: list[Representation] = []
    for attribute, shares in request.population.items():
        observed = {
            display_value(g.values[0]): g.count for g in groups if g.grouping == (attribute,)
        }
        stated = sum(shares.values())
        if stated < 0.99:
            warnings.append(f"The population shares of {attribute} add up to {stated:.3f}, not 1.")
        for value in list(shares) + [v for v in observed if v not in shares]:
            count = observed.get(value, 0)
            share = count / total if total else 0.0
            expected = shares.get(value)
            found.append(
                Representation(
                    attribute,
                    value,
                    count,
                    share,
                    wilson_interval(count, total, request.confidence),
                    expected,
                    share / expected if expected else None,
                )
            )
    return found


def _proxies(request: AuditRequest, tables: Sequence[ProxyTable]) -> list[ProxyFinding]:
    if request.proxies <= 0:
        return []
    found: list[ProxyFinding] = []
    for attribute in request.groups:
        scored = []
        for t in tables:
            if t.attribute != attribute:
                continue
            v = cramers_v(t.table)
            if v is not None:
                categories = sum(1 for row in t.table if any(row))
                scored.append(ProxyFinding(t.column, attribute, v, t.method, categories))
        scored.sort(key=lambda f: (-f.cramers_v, f.column))
        found.extend(scored[: request.proxies])
    return found


# -- the JSON document (docs/audit-json-schema.md) -----------------------------------


def _json_value(value: Value) -> Value:
    if value is None:
        return MISSING
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _pair(interval: tuple[float, float] | None) -> list[float] | None:
    return list(interval) if interval is not None else None


def group_json(g: GroupResult, has_score: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "attributes": {a: _json_value(v) for a, v in zip(g.grouping, g.values, strict=True)},
        "missing": [a for a, v in zip(g.grouping, g.values, strict=True) if v is None],
        "count": g.count,
        "share": g.share,
        "suppressed": g.suppressed,
        "reference": g.reference,
    }
    for m in Metric:
        doc[m.value] = g.metrics[m]
    if has_score:
        doc["mean_score"] = g.mean_score
        doc["auc"] = g.auc
        doc["auc_error_bound"] = g.auc_error_bound
    doc["confusion"] = (
        {"tp": g.confusion.tp, "fp": g.confusion.fp, "fn": g.confusion.fn, "tn": g.confusion.tn}
        if g.confusion is not None
        else None
    )
    doc["intervals"] = {"share": _pair(g.share_interval)} | {
        m.value: _pair(g.intervals[m]) for m in Metric
    }
    return doc


def report_json(report: AuditReport) -> dict[str, Any]:
    """The audit as the versioned JSON document described in docs/audit-json-schema.md."""
    tab = report.tabulation
    has_score = report.request.score is not None
    groupings = []
    for gr in report.groupings:
        criteria = {}
        for c in Criterion:
            diff, ratio = gr.criterion(c)
            criteria[c.value] = {"difference": diff, "ratio": ratio}
        groupings.append(
            {
                "attributes": list(gr.attributes),
                "reference": (
                    {a: _json_value(v) for a, v in zip(gr.attributes, gr.reference, strict=True)}
                    if gr.reference is not None
                    else None
                ),
                "reference_rule": gr.reference_rule.value,
                "groups": sum(1 for g in report.groups if g.grouping == gr.attributes),
                "criteria": criteria,
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "data": {
            "format": tab.format,
            "files": [{"path": f.path, "bytes": f.bytes, "sha256": f.sha256} for f in tab.files],
            "rows_scanned": tab.rows_scanned,
        },
        "rows": tab.rows,
        "parameters": report.request.parameters()
        | {"score_bins": tab.score_bins, "score_range": _pair(tab.score_range)},
        "engine": {
            "name": tab.engine.name,
            "version": tab.engine.version,
            "libraries": dict(tab.engine.libraries),
            "seconds": tab.seconds,
        },
        "overall": group_json(report.overall, has_score),
        "groupings": groupings,
        "groups": [
            group_json(g, has_score) | {"grouping": list(g.grouping)} for g in report.groups
        ],
        "disparities": [
            {
                "grouping": list(d.grouping),
                "attributes": {
                    a: _json_value(v) for a, v in zip(d.grouping, d.values, strict=True)
                },
                "reference": {
                    a: _json_value(v) for a, v in zip(d.grouping, d.reference, strict=True)
                },
                "metric": d.metric.value,
                "criteria": [c.value for c in d.criteria],
                "value": d.value,
                "reference_value": d.reference_value,
                "difference": d.difference,
                "difference_interval": _pair(d.difference_interval),
                "ratio": d.ratio,
                "ratio_interval": _pair(d.ratio_interval),
                "flagged": d.flagged,
                "suppressed": d.suppressed,
            }
            for d in report.disparities
        ],
        "representation": [
            {
                "attribute": r.attribute,
                "value": r.value,
                "count": r.count,
                "observed": r.observed,
                "observed_interval": _pair(r.observed_interval),
                "expected": r.expected,
                "ratio": r.ratio,
            }
            for r in report.representation
        ],
        "proxies": [
            {
                "column": p.column,
                "attribute": p.attribute,
                "cramers_v": p.cramers_v,
                "method": p.method,
                "categories": p.categories,
            }
            for p in report.proxies
        ],
        "warnings": list(report.warnings),
    }
