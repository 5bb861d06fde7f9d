"""An audit request: the data, the columns, the protected attributes and groupings, and
every choice (minimum group size, references, bootstrap, confidence, seed, monitoring
windows and alert rules) made explicit. The CLI, the web form and the API all build this
one type, and it checks itself (``problems``): one set of rules, one set of messages."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ombud.audits.domain.metrics import (
    DEFAULT_CONFIDENCE,
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_REPLICATES,
    WINDOW,
    WINDOWS,
)
from ombud.audits.domain.monitoring import rule_problem

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
    alerts: tuple[str, ...] = ()  # monitoring: rules such as "FPR ratio outside [0.8, 1.25]"

    def attributes(self) -> tuple[str, ...]:
        """The columns counted jointly: the groups, and the time window when monitoring."""
        return (*self.groups, WINDOW) if self.window else self.groups

    def alert_problem(self) -> str | None:
        """What is wrong with the alert rules, or None. coe-fc:16.2.e: a rule watches a
        metric over time, so it needs a time window: the one place this is decided."""
        if not self.alerts:
            return None
        return rule_problem(self.alerts) or (
            None
            if self.window
            else "Alert rules need a time window: add --time COL --window month "
            "(on the web: the timestamp column and a window)."
        )

    def problems(self) -> dict[str, str]:
        """{option: message} for every inconsistency; empty when the request is sound."""
        found: dict[str, str] = {}
        if not self.data:
            found["data"] = "Name a CSV or Parquet file, a directory or a glob."
        if not self.label.strip():
            found["label"] = "Name the label column (the true outcome)."
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
        if self.seed < 0:
            found["seed"] = "The seed of the bootstrap must be 0 or more."
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
        alerts = self.alert_problem()
        if alerts:
            found["alerts"] = alerts
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
