"""The audit report, decided from the engine's counts in plain Python: suppression,
reference groups, disparities, intervals, representation and proxies (coe-fc:10,
unga-78-265:op6.h)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from ombud.audits.domain.metrics import (
    DISPARITY_METRICS,
    FOUR_FIFTHS,
    WINDOW,
    AuditInputError,
    Confusion,
    Criterion,
    Metric,
    Value,
    auc_from_histogram,
    cramers_v,
    criteria_of,
    display_value,
    wilson_interval,
)
from ombud.audits.domain.request import AuditRequest
from ombud.audits.domain.tabulation import BootstrapInterval, GroupCounts, ProxyTable, Tabulation

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
