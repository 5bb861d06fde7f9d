"""ArrowAuditEngine: the audit engine on pyarrow datasets and numpy (one pass, out of core)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

import ombud
from ombud.audits.domain.metrics import Confusion, Metric
from ombud.audits.domain.request import AuditRequest
from ombud.audits.domain.tabulation import (
    BootstrapInterval,
    DataFile,
    EngineInfo,
    GroupCounts,
    GroupingCounts,
    ProxyTable,
    Tabulation,
)
from ombud.audits.engine import resample
from ombud.audits.engine.arrays import floats
from ombud.audits.engine.files import FileDigests
from ombud.audits.engine.scan import (
    MAX_PROXY_CATEGORIES,
    ProxyColumn,
    ScoreBinning,
    Tabulator,
    Vocabulary,
)
from ombud.audits.engine.source import Source, open_source
from ombud.audits.ports import ProgressFn
from ombud.kernel.errors import Invalid

if TYPE_CHECKING:
    from ombud.audits.engine.sql_filter import RowFilter

SCORE_BINS = 1000
DECILE_SAMPLE = 100_000


class ArrowAuditEngine:
    """Counts the joint confusion histogram of all protected attributes in one streaming pass.

    Reads CSV or Parquet through pyarrow datasets, batch by batch (``batch_rows``
    rows at a time, a few batches read ahead): memory stays bounded whatever
    the size of the data. See scan.py for the counting and resample.py for the
    bootstrap.
    """

    name = "ombud-arrow"

    def __init__(
        self,
        batch_rows: int = 1 << 20,
        score_bins: int = SCORE_BINS,
        threads: int | None = None,
        digests: FileDigests | None = None,
    ) -> None:
        self.batch_rows = batch_rows
        self.score_bins = score_bins
        self.threads = threads  # decoding Parquet; None: one per core (source.READERS_MAX)
        # digests begun before the engine was made (one audit: `ombud audit run`)
        self.digests = digests

    def info(self, with_duckdb: bool = False) -> EngineInfo:
        libraries = {"pyarrow": pa.__version__, "numpy": np.__version__}
        if with_duckdb:
            import duckdb

            libraries["duckdb"] = duckdb.__version__
        return EngineInfo(self.name, ombud.__version__, libraries)

    def tabulate(self, request: AuditRequest, progress: ProgressFn | None = None) -> Tabulation:
        started = time.perf_counter()
        source = open_source(request.data)
        for column in request.groups:
            source.require(column, "--group")
        source.require(request.label, "--label")
        if request.prediction is not None:
            source.require(request.prediction, "--prediction")
        if request.score is not None:
            source.require(request.score, "--score")
        if request.time_column is not None:
            from ombud.audits.engine.windows import readable_times  # pyarrow.compute: 30 ms

            kind = source.require(request.time_column, "--time")
            if not readable_times(kind):
                raise Invalid(
                    f"--time {request.time_column} holds {kind}: give a timestamp, date or "
                    "ISO date text (YYYY-MM-DD...) column."
                )
        row_filter = None
        if request.filter:
            from ombud.audits.engine.sql_filter import parse_filter  # DuckDB's parser

            row_filter = parse_filter(request.filter, source.schema)
        outcome = {c for c in (request.label, request.prediction, request.score) if c}
        candidates = self._proxy_candidates(source, request, outcome)
        binning = self._binning(source, request)
        proxies = self._proxies(source, candidates)
        tabulator = Tabulator(
            request.attributes(), request.label, request.prediction, request.score, binning, proxies
        )
        decision = request.prediction or request.score
        assert decision is not None
        columns = list(
            dict.fromkeys(
                [*request.groups, request.label, decision]
                + [p.name for p in proxies]
                + (row_filter.columns if row_filter else [])
                + ([request.time_column] if request.time_column else [])
            )
        )
        # the digests run in a thread beside the scan (or began earlier: see FileDigests);
        # those given belong to this one audit: a later one must not reuse them
        digests, self.digests = self.digests or FileDigests(), None
        if request.hash_data:
            digests.start(source.paths)
        try:
            scanned = self._scan(source, columns, tabulator, row_filter, progress, request)
            files = tuple(
                DataFile(p, os.path.getsize(p), digests.result(p) if request.hash_data else None)
                for p in source.paths
            )
        finally:
            digests.stop()  # after an error: do not make the user wait for a digest
            if row_filter is not None:
                row_filter.close()
        if tabulator.rows == 0:
            if row_filter is not None:
                raise Invalid(
                    f"--filter {row_filter.expression!r} leaves no rows (of {scanned:,} scanned)."
                )
            raise Invalid("The data has no rows.")
        return self._tabulation(
            request, tabulator, source, files, scanned, binning, proxies, row_filter, started
        )

    def bootstrap(
        self,
        groups: Sequence[Confusion],
        reference: int,
        metrics: Sequence[Metric],
        replicates: int,
        seed: Sequence[int],
        confidence: float,
    ) -> list[dict[Metric, BootstrapInterval]]:
        return resample.bootstrap(groups, reference, metrics, replicates, seed, confidence)

    # -- the pass -----------------------------------------------------------------------

    def _scan(
        self,
        source: Source,
        columns: list[str],
        tabulator: Tabulator,
        row_filter: RowFilter | None,
        progress: ProgressFn | None,
        request: AuditRequest,
    ) -> int:
        total = source.total_rows()
        scanned = 0
        dictionary = [c for c in columns if c in tabulator.categorical]
        if request.window and request.time_column:
            from ombud.audits.engine.windows import with_window
        try:
            for batch in source.read(columns, self.batch_rows, dictionary, self.threads):
                scanned += batch.num_rows
                if row_filter is not None and batch.num_rows:
                    batch = batch.filter(row_filter.mask(batch))
                if request.window and request.time_column:
                    batch = with_window(batch, request.time_column, request.window)
                tabulator.add(batch)
                if progress is not None:
                    progress(scanned, total)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
            lines = str(exc).strip().splitlines()
            raise Invalid(f"Cannot read the data: {lines[0] if lines else exc!r}") from None
        return scanned

    # -- set-up -----------------------------------------------------------------------

    def _binning(self, source: Source, request: AuditRequest) -> ScoreBinning | None:
        if request.score is None or request.threshold is None:
            return None
        found = _statistics_range(source, request.score)
        low, high = found if found is not None else (0.0, 1.0)
        if not high > low:
            high = low + 1.0
        return ScoreBinning(request.threshold, self.score_bins, low, high)

    def _proxy_candidates(
        self, source: Source, request: AuditRequest, outcome: set[str]
    ) -> list[tuple[str, str]]:
        """(column, "categories" | "deciles") for every column that may be a proxy."""
        if request.proxies <= 0:
            return []
        found = []
        for f in source.schema:
            if f.name in outcome or f.name in request.groups or f.name == request.time_column:
                continue
            kind = f.type
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
            if (
                pa.types.is_string(kind)
                or pa.types.is_large_string(kind)
                or pa.types.is_boolean(kind)
            ):
                found.append((f.name, "categories"))
            elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
                found.append((f.name, "deciles"))
        return found

    def _proxies(self, source: Source, candidates: list[tuple[str, str]]) -> list[ProxyColumn]:
        numeric = [c for c, how in candidates if how == "deciles"]
        edges: dict[str, np.ndarray] = {}
        if numeric:
            # Decile edges from the first rows: the bins need not be exact deciles, the
            # association is then computed exactly over those bins.
            sample = source.head(DECILE_SAMPLE, numeric)
            for name in numeric:
                values = floats(sample.column(name))
                values = values[np.isfinite(values)]
                cut = np.quantile(values, np.linspace(0.1, 0.9, 9)) if len(values) else values
                edges[name] = np.unique(np.asarray(cut, dtype=np.float64))
        return [
            ProxyColumn(c, edges[c])
            if how == "deciles"
            else ProxyColumn(c, None, Vocabulary(c, MAX_PROXY_CATEGORIES))
            for c, how in candidates
        ]

    def _tabulation(
        self,
        request: AuditRequest,
        tabulator: Tabulator,
        source: Source,
        files: tuple[DataFile, ...],
        scanned: int,
        binning: ScoreBinning | None,
        proxies: list[ProxyColumn],
        row_filter: RowFilter | None,
        started: float,
    ) -> Tabulation:
        bins = tabulator.bins
        groupings = []
        index = {a: i for i, a in enumerate(request.attributes())}
        for attributes in request.groupings():
            groups = tuple(
                _group_counts(values, counts, total, bins, binning is not None)
                for values, counts, total in tabulator.marginal([index[a] for a in attributes])
            )
            groupings.append(GroupingCounts(attributes, groups))
        counts, score_sum = tabulator.total()
        overall = _group_counts((), counts, score_sum, bins, binning is not None)
        notes = []
        tables = []
        for proxy in proxies:
            if proxy.skipped:
                notes.append(f"Proxy screening skipped {proxy.name}: {proxy.skipped}.")
                continue
            for i, attribute in enumerate(request.groups):
                table = tabulator.proxy_table(proxy, i)
                tables.append(
                    ProxyTable(proxy.name, attribute, proxy.method, tuple(map(tuple, table)))
                )
        if binning is not None and (
            binning.seen_low < binning.low or binning.seen_high > binning.high
        ):
            notes.append(
                f"Scores outside [{binning.low:g}, {binning.high:g}] were counted in the edge "
                "bins of the AUC histogram; the AUC error bounds account for it."
            )
        return Tabulation(
            files=files,
            format=source.format,
            rows_scanned=scanned,
            overall=overall,
            groupings=tuple(groupings),
            engine=self.info(with_duckdb=row_filter is not None),
            seconds=time.perf_counter() - started,
            proxies=tuple(tables),
            score_bins=bins if binning is not None else None,
            score_range=(binning.low, binning.high) if binning is not None else None,
            notes=tuple(notes),
        )


def _group_counts(
    values: tuple[object, ...], counts: np.ndarray, score_sum: float, bins: int, scored: bool
) -> GroupCounts:
    # sub-cells are ordered (label, prediction, score bin)
    cube = counts.reshape(2, 2, bins)
    per = cube.sum(axis=2)
    confusion = Confusion(
        tp=int(per[1, 1]), fp=int(per[0, 1]), fn=int(per[1, 0]), tn=int(per[0, 0])
    )
    if not scored:
        return GroupCounts(values, confusion)  # type: ignore[arg-type]
    # ascending score order: bin by bin, and inside the bin of the threshold, the
    # rows predicted negative (score < threshold) before those predicted positive
    positives = tuple(cube[1].T.ravel().tolist())
    negatives = tuple(cube[0].T.ravel().tolist())
    return GroupCounts(values, confusion, score_sum, positives, negatives)  # type: ignore[arg-type]


def _statistics_range(source: Source, column: str) -> tuple[float, float] | None:
    """The score's minimum and maximum from Parquet row-group statistics, if all have them."""
    if source.format != "parquet":
        return None
    low, high = math.inf, -math.inf
    try:
        for metadata in source.parquet_metadata():
            if metadata.num_row_groups == 0:
                continue
            first = metadata.row_group(0)
            position = next(
                (j for j in range(first.num_columns) if first.column(j).path_in_schema == column),
                None,
            )
            if position is None:
                return None
            for i in range(metadata.num_row_groups):
                stats = metadata.row_group(i).column(position).statistics
                if stats is None or not stats.has_min_max:
                    return None
                low, high = min(low, float(stats.min)), max(high, float(stats.max))
    except (AttributeError, TypeError, ValueError):
        return None
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return low, high
