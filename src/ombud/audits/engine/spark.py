"""SparkAuditEngine: the same audit on Apache Spark, through Ibis (`--engine spark`).

For data that has outgrown one machine. Spark does the pass: one GROUP BY over
the protected attributes (and the time window), the label, the decision and
the score bin, counting rows and summing, minimising and maximising scores,
plus one per screened proxy column. The few thousand aggregated rows come
back as Arrow and go into the same joint table as the Arrow engine's
(``Tabulator.add_counts``), so every metric, interval and check downstream is
the same code. Counts are identical to the Arrow engine's; score sums differ
only by floating-point summation order (below 1e-12 relative).

Everything the local engine decides before its pass is decided the same way
here, on the driver: column checks, the score range from Parquet statistics,
the proxy candidates and their decile edges, the --filter check (DuckDB's
parser and allow-list; Ibis then translates the condition to Spark SQL).
CSV is read as text and each column cast to the type pyarrow infers, with
pyarrow's NULL spellings, so both engines see the same values.

The session is local (``local[*]``, bound to 127.0.0.1) unless
``OMBUD_SPARK_MASTER`` names a cluster; it is created once per process.
"""

from __future__ import annotations

import os
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ombud.audits.domain.metrics import WINDOW
from ombud.audits.domain.request import AuditRequest
from ombud.audits.domain.tabulation import EngineInfo
from ombud.audits.engine.engine import ArrowAuditEngine
from ombud.audits.engine.scan import (
    MAX_PROXY_CATEGORIES,
    ProxyColumn,
    ScoreBinning,
    Tabulator,
)
from ombud.audits.engine.source import Source
from ombud.audits.engine.sql_filter import RowFilter
from ombud.audits.ports import ProgressFn
from ombud.kernel.errors import Invalid

if TYPE_CHECKING:
    import ibis.expr.types as ir

# pyarrow.csv's default NULL spellings (ConvertOptions.null_values), for CSV parity
CSV_NULLS = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
)  # fmt: skip
DECISION = "__decision"
BIN = "__bin"
CATEGORY = "__category"

_lock = threading.Lock()
_session: Any = None


def spark_session() -> Any:
    """The process's Spark session (created on first use; a few seconds)."""
    global _session
    with _lock:
        if _session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError:
                raise Invalid(
                    "--engine spark needs pyspark and ibis: pip install 'ombud[spark]'."
                ) from None
            builder = (
                SparkSession.builder.master(os.environ.get("OMBUD_SPARK_MASTER", "local[*]"))
                .appName("ombud-audit")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")  # ombud shows its own
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.ansi.enabled", "false")  # unreadable text -> NULL
                .config("spark.sql.shuffle.partitions", "8")
            )
            _session = builder.getOrCreate()
            _session.sparkContext.setLogLevel("ERROR")
        return _session


class SparkAuditEngine(ArrowAuditEngine):
    """The Arrow engine's checks and assembly, with the pass done by Spark."""

    name = "ombud-spark"

    def info(self, with_duckdb: bool = False) -> EngineInfo:
        import ibis
        import pyspark

        local = super().info(with_duckdb)
        libraries = {"pyspark": pyspark.__version__, "ibis-framework": ibis.__version__}
        return EngineInfo(self.name, local.version, {**libraries, **local.libraries})

    def _scan(
        self,
        source: Source,
        columns: list[str],
        tabulator: Tabulator,
        row_filter: RowFilter | None,
        progress: ProgressFn | None,
        request: AuditRequest,
    ) -> int:
        import ibis

        spark = spark_session()
        con = ibis.pyspark.connect(spark)
        view = f"ombud_audit_{uuid.uuid4().hex}"
        frame = _read(spark, source, columns)
        frame.createOrReplaceTempView(view)
        try:
            table = con.table(view)
            total = source.total_rows()
            if row_filter is not None:
                scanned: int | None = total if total is not None else _scalar(table.count())
                # the condition passed sql_filter's allow-list; Ibis translates it
                query = f'SELECT * FROM "{view}" WHERE ({row_filter.expression})'  # noqa: S608
                table = con.sql(query, dialect="duckdb")
            else:
                scanned = None  # every row read is counted
            if progress is not None:
                progress(0, total)
            self._count(table, tabulator, request)
            for proxy in tabulator.proxies:
                _count_proxy(table, tabulator, proxy, request)
        except Invalid:
            raise
        except Exception as exc:  # Spark's errors come through py4j as many types
            first = (str(exc).strip().splitlines() or [repr(exc)])[0]
            raise Invalid(f"Spark could not run the audit: {first}") from None
        finally:
            spark.catalog.dropTempView(view)
        if progress is not None:
            progress(tabulator.rows, total)
        return scanned if scanned is not None else tabulator.rows

    def _count(self, table: ir.Table, tabulator: Tabulator, request: AuditRequest) -> None:
        keys = _attribute_keys(table, request)
        keys[request.label] = table[request.label]
        metrics: dict[str, ir.Value] = {"n": table.count()}
        binning = tabulator.binning
        if binning is not None and request.score is not None:
            score = table[request.score].cast("float64")
            scale = binning.bins / (binning.high - binning.low)
            decision = DECISION
            keys[decision] = (score >= binning.threshold).cast("int8")
            keys[BIN] = ((score - binning.low) * scale).clip(0, binning.bins - 1).cast("int32")
            metrics |= {
                "s": score.sum(),
                "lo": score.min(),
                "hi": score.max(),
                "nulls": score.isnull().cast("int64").sum(),
            }
        else:
            assert request.prediction is not None
            decision = request.prediction
            keys[decision] = table[decision]
        result = _collect(table.group_by(**keys).aggregate(**metrics))
        if result.num_rows == 0:
            return
        if binning is not None:
            _check_scores(result, binning, request.score or "")
        tabulator.add_counts(
            result.combine_chunks().to_batches()[0],
            np.asarray(result["n"].to_numpy(), np.int64),
            prediction=decision,
            score_bins=_numbers(result, BIN, np.int64) if binning is not None else None,
            score_sums=_numbers(result, "s", np.float64) if binning is not None else None,
        )


def _attribute_keys(table: ir.Table, request: AuditRequest) -> dict[str, ir.Value]:
    """The columns of the joint table, as the Tabulator's attributes: the protected
    attributes, then the time window when monitoring."""
    keys: dict[str, ir.Value] = {g: table[g] for g in request.groups}
    if request.window and request.time_column:
        keys[WINDOW] = window_label(table[request.time_column], request.window)
    return keys


def _collect(expr: ir.Table) -> pa.Table:
    """The (small) aggregated result as Arrow."""
    with _quiet():
        result: pa.Table = expr.to_pyarrow()
    return result


def _scalar(expr: ir.Scalar) -> int:
    with _quiet():
        return int(expr.to_pyarrow().as_py() or 0)


@contextmanager
def _quiet() -> Iterator[None]:
    """pyspark and Ibis go through pandas and warn about pandas 4 options: theirs to
    change, not the user's concern."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


def _check_scores(result: pa.Table, binning: ScoreBinning, score: str) -> None:
    """The Arrow engine's score checks, on the per-group NULL count, minimum and maximum."""
    if int(pc.sum(result["nulls"]).as_py() or 0):
        raise Invalid(
            f"The score column '{score}' has NULL values; "
            f'leave them out with --filter "{score} IS NOT NULL".'
        )
    low, high = _numbers(result, "lo", np.float64), _numbers(result, "hi", np.float64)
    if np.isnan(low).any() or np.isnan(high).any():  # Spark sorts NaN above every number
        raise Invalid(f"The score column '{score}' has NaN values.")
    binning.seen_low = min(binning.seen_low, float(low.min()))
    binning.seen_high = max(binning.seen_high, float(high.max()))


def _numbers(table: pa.Table, column: str, dtype: type[Any]) -> np.ndarray:
    return np.asarray(table[column].to_numpy(), dtype)


def _read(spark: Any, source: Source, columns: list[str]) -> Any:
    """A Spark DataFrame of the columns the audit reads (all of them for --filter)."""
    paths = list(source.paths)
    if source.format == "parquet":
        return spark.read.parquet(*paths)
    from pyspark.sql import functions as F

    text = spark.read.options(header=True, inferSchema=False, mode="FAILFAST").csv(paths)
    selected = []
    for name in source.schema.names:
        column = F.col(f"`{name}`")
        cleaned = F.when(column.isin(list(CSV_NULLS)), F.lit(None)).otherwise(column)
        selected.append(cleaned.cast(_spark_type(source.schema.field(name).type)).alias(name))
    return text.select(*selected)


def _spark_type(kind: pa.DataType) -> str:
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return "bigint"
    if pa.types.is_floating(kind):
        return "double"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if pa.types.is_date(kind):
        return "date"
    return "string"


def window_label(column: ir.Value, window: str) -> ir.StringValue:
    """The window of each row as text, exactly as windows.py labels it."""
    import ibis

    kind = column.type()
    if kind.is_string():
        ts = column.substr(0, 10).as_timestamp("%Y-%m-%d")
    elif kind.is_date():
        ts = column.cast("timestamp")
    else:
        ts = column
    if window == "day":
        return ts.strftime("%Y-%m-%d")
    if window == "month":
        return ts.strftime("%Y-%m")
    if window == "year":
        return ts.strftime("%Y")
    if window == "quarter":
        return ts.year().cast("string").concat("-Q", ts.quarter().cast("string"))
    if window == "week":
        week = ts.week_of_year()  # ISO 8601, as Spark's weekofyear
        month = ts.month()
        year = ts.year()
        iso_year = ibis.cases(
            ((week >= 52) & (month == 1), year - 1),
            ((week == 1) & (month == 12), year + 1),
            else_=year,
        )
        return iso_year.cast("string").concat("-W", week.cast("string").lpad(2, "0"))
    raise ValueError(f"unknown window {window!r}")


def _count_proxy(
    table: ir.Table, tabulator: Tabulator, proxy: ProxyColumn, request: AuditRequest
) -> None:
    """Rows per attribute values and proxy category (or decile bin), for Cramér's V."""
    import ibis

    if proxy.skipped is not None:
        return
    value = table[proxy.name]
    if proxy.edges is None:
        distinct = _scalar(value.nunique())
        if distinct + 1 > MAX_PROXY_CATEGORIES:
            proxy.skipped = f"more than {MAX_PROXY_CATEGORIES} distinct values"
            return
        category: ir.Value = value
    else:
        number = value.cast("float64")
        size = len(proxy.edges) + 2
        code: ir.IntegerValue = ibis.literal(0, "int64")
        for edge in proxy.edges.tolist():
            code = code + (number >= edge).cast("int64")
        category = ibis.cases((number.isnull() | number.isnan(), size - 1), else_=code)
    keys = _attribute_keys(table, request)
    keys[CATEGORY] = category
    result = _collect(table.group_by(**keys).aggregate(n=table.count()))
    if result.num_rows == 0:
        return
    batch = result.combine_chunks().to_batches()[0]
    tabulator.add_proxy_counts(proxy, batch, CATEGORY, np.asarray(result["n"].to_numpy()))
