"""`ombud audit run`: a bias and discrimination audit of a model's decisions (coe-fc:10).

Nothing heavy loads with this module (numpy, pyarrow, matplotlib, SQLAlchemy, the
composition root): the engine loads inside the command, after the data files are
resolved and their sha256 begun, so that the digest runs while numpy and pyarrow load.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ombud.audits.analysis import parse_intersections, parse_population, parse_references
from ombud.audits.domain.metrics import (
    DEFAULT_CONFIDENCE,
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_REPLICATES,
    FOUR_FIFTHS,
    WINDOW,
    WINDOWS,
    Metric,
    display_value,
)
from ombud.audits.domain.monitoring import Comparison, over_time, watched
from ombud.audits.domain.request import AuditRequest
from ombud.kernel.cli import err, handles_errors, out
from ombud.kernel.errors import Invalid

if TYPE_CHECKING:
    from ombud.audits.domain.report import AuditReport, GroupResult
    from ombud.audits.ports import ProgressFn

audit_app = typer.Typer(
    no_args_is_help=True,
    help="Bias and discrimination audits of a model's decisions (coe-fc:10, ipu-149).",
)

# The terminal's table of groups: the rates compared across groups, and the base rate.
SHOWN = (Metric.BASE_RATE, Metric.SELECTION_RATE, Metric.TPR, Metric.FPR, Metric.PPV)


@audit_app.callback()
def audit() -> None:
    """Bias and discrimination audits of a model's decisions (coe-fc:10, ipu-149)."""


@audit_app.command("run")
@handles_errors
def run(
    data: Annotated[
        list[str],
        typer.Argument(help="CSV or Parquet: files, a directory or a glob (quote the glob)."),
    ],
    label: Annotated[str, typer.Option(help="The true outcome column (0/1 or true/false).")],
    group: Annotated[
        list[str], typer.Option("--group", "-g", help="A protected attribute column; repeat.")
    ],
    prediction: Annotated[
        str | None, typer.Option(help="The model's decision column (0/1 or true/false).")
    ] = None,
    score: Annotated[
        str | None, typer.Option(help="The model's score column; needs --threshold.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Predicted positive when score >= threshold.")
    ] = None,
    intersect: Annotated[
        bool, typer.Option(help="Also audit every combination of two or more --group columns.")
    ] = False,
    intersection: Annotated[
        list[str] | None,
        typer.Option(help="COL,COL[,...]: audit this intersection (instead of all); repeat."),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(help="COLUMN=VALUE: the reference group (default: the largest)."),
    ] = None,
    filter_sql: Annotated[
        str | None,
        typer.Option("--filter", help="Audit only rows where this SQL condition holds."),
    ] = None,
    min_group_size: Annotated[
        int, typer.Option(help="Smaller groups are reported as suppressed, without metrics.")
    ] = DEFAULT_MIN_GROUP_SIZE,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Write the JSON result to this file ('-': stdout).")
    ] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report.")
    ] = None,
    population: Annotated[
        Path | None,
        typer.Option(help="JSON or YAML {column: {value: share}}: check representation."),
    ] = None,
    proxies: Annotated[
        int, typer.Option(help="Screen other columns as proxies; list the top N per attribute.")
    ] = 0,
    bootstrap: Annotated[
        int, typer.Option(help="Bootstrap replicates for the intervals of differences (0: none).")
    ] = DEFAULT_REPLICATES,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    confidence: Annotated[float, typer.Option(help="Level of the intervals.")] = (
        DEFAULT_CONFIDENCE
    ),
    no_hash: Annotated[
        bool, typer.Option("--no-hash", help="Skip the sha256 of the data files.")
    ] = False,
    time_column: Annotated[
        str | None, typer.Option("--time", help="Monitoring: the decision's timestamp column.")
    ] = None,
    window: Annotated[str | None, typer.Option(help=f"Monitoring: {', '.join(WINDOWS)}.")] = None,
    alert: Annotated[
        list[str] | None,
        typer.Option(help="Alert rule, e.g. 'FPR ratio outside [0.8, 1.25]'; repeat."),
    ] = None,
    fail_on_alert: Annotated[
        bool, typer.Option(help="Exit with code 3 when an alert rule is breached.")
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            help="arrow: this machine, out of core; spark: Apache Spark through Ibis "
            "(local, or the cluster in OMBUD_SPARK_MASTER)."
        ),
    ] = "arrow",
) -> None:
    """Audit a model's decisions for bias across protected groups, in one pass over the data."""
    with _no_collections():
        _audit(
            AuditRequest(
                data=tuple(data),
                label=label,
                groups=tuple(group),
                prediction=prediction,
                score=score,
                threshold=threshold,
                intersect=intersect,
                intersections=parse_intersections(intersection or []),
                references=parse_references(reference or []),
                filter=filter_sql,
                min_group_size=min_group_size,
                confidence=confidence,
                replicates=bootstrap,
                seed=seed,
                population=parse_population(_read_mapping(population)) if population else {},
                proxies=proxies,
                hash_data=not no_hash,
                time_column=time_column,
                window=window,
                alerts=tuple(alert or ()),
            ),
            engine,
            json_out,
            html_out,
            fail_on_alert,
        )


@contextmanager
def _no_collections() -> Iterator[None]:
    """No garbage collection while the command works: it is a short process that makes
    little garbage, and the collector would rescan the objects numpy and pyarrow create
    as they load (about 10 ms of a 10M-row run)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _audit(
    request: AuditRequest,
    engine: str,
    json_out: str | None,
    html_out: Path | None,
    fail_on_alert: bool,
) -> None:
    """Run the audit, write what was asked, show the tables; exit 3 on a breached alert
    rule with --fail-on-alert."""
    # The sha256 needs every byte of every file: begin it now, on another core, while the
    # engine's libraries load (standard library only up to here).
    from ombud.audits.engine.files import FileDigests, resolve

    digests = FileDigests()
    if request.hash_data and not request.problems():
        digests.start(resolve(request.data))
    _before_the_engine_loads()
    from ombud.audits.standalone import audit_service  # the audit needs no database

    service = audit_service(engine, digests)
    _allocator()
    started = time.perf_counter()
    try:
        with _progress() as progress:
            report = service.run(request, progress)  # refuses a broken request before reading
    finally:
        digests.stop()
    elapsed = time.perf_counter() - started
    doc = service.json(report) if (json_out or request.window) else None
    if json_out:
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        if json_out == "-":
            sys.stdout.write(text)
        else:
            _write(Path(json_out), text)
    if html_out:
        _write(html_out, service.html(report, doc))
    if json_out != "-":
        _show(report, elapsed)
        if doc is not None and "windows" in doc:
            _show_windows(doc)
    breaches = (doc or {}).get("alerts", {}).get("breaches", [])
    if breaches and fail_on_alert:
        raise typer.Exit(3)


# `ombud audit run` is a process of its own that only audits: it may set how numpy and
# pyarrow behave in it. An operator's environment variables win.


def _before_the_engine_loads() -> None:
    """numpy's OpenBLAS starts a thread per core that spins while idle (5% of a 10M-row
    run's CPU); the audit does no linear algebra."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _allocator() -> None:
    """pyarrow's default allocator here (mimalloc) asks for transparent huge pages, and
    the kernel zeroes every 2 MB page the decoded batches touch: jemalloc spares about a
    quarter of a 10M-row run's CPU (bench/audit.py). Where pyarrow has no jemalloc, the
    default stays."""
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:
        return
    import pyarrow as pa

    with suppress(NotImplementedError):
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def _show_windows(doc: dict[str, Any]) -> None:
    """Per window, each attribute value's ratio or difference for every metric the
    alert rules watch (the FPR ratio without rules); breaches in red."""
    shown = {(b["metric"], b["kind"]) for b in doc["alerts"]["breaches"]}
    for metric, kind in watched(doc["alerts"]["rules"]):
        _window_table(doc, metric, kind, (metric, kind) in shown)
    for b in doc["alerts"]["breaches"]:
        out.print(
            f"[red]alert[/red] {b['rule']}: {b['attribute']}={b['value']} in {b['window']} "
            f"({b['metric']} {b['kind']} {b['measured']:.3f})",
            highlight=False,
        )


def _window_table(doc: dict[str, Any], metric: Metric, kind: Comparison, any_breach: bool) -> None:
    windows = doc["windows"]
    title = f"{metric.label.capitalize()} {kind} to the reference group, per {windows['window']}"
    table = Table(
        "attribute", "value", *windows["labels"], box=box.SIMPLE_HEAD,
        title=title, title_style="bold red" if any_breach else None,
    )  # fmt: skip
    for row in over_time(windows, metric, kind, doc["alerts"]["breaches"]):
        shown = [
            Text(cell.text, style="bold red" if cell.breached else "" if cell.number else "dim")
            for cell in row.cells
        ]
        table.add_row(row.attribute, row.value, *shown)
    out.print(table)


def _read_mapping(path: Path) -> Any:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise Invalid(f"Cannot read the population file {path}: {exc.strerror}.") from None
    # Bounded parsers: no YAML aliases, capped size and depth (ombud.kernel.safe_load).
    from ombud.kernel.safe_load import load_json, load_yaml

    if path.suffix.lower() in (".yaml", ".yml"):
        return load_yaml(path.name, text)[0]
    return load_json(path.name, text)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, "utf-8")
    except OSError as exc:
        raise Invalid(f"Cannot write {path}: {exc.strerror}.") from None
    err.print(f"wrote {path}", highlight=False)


@contextmanager
def _progress() -> Iterator[ProgressFn | None]:
    """A progress bar on stderr when it is a terminal; the engine reports after each batch."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("reading"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("audit", total=None)

    def report(done: int, total: int | None) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield report


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _show(report: AuditReport, elapsed: float) -> None:
    tab = report.tabulation
    request = report.request
    where = ", ".join(Path(f.path).name for f in tab.files[:3])
    if len(tab.files) > 3:
        where += f" and {len(tab.files) - 3} more"
    kept = "" if tab.rows == tab.rows_scanned else f" (of {tab.rows_scanned:,} read)"
    head = Text(f"{tab.rows:,} rows", "bold")
    head.append(f"{kept} from {where} in {elapsed:.2f} s ")
    head.append(f"({tab.engine.name} {tab.engine.version})", "dim")
    out.print(head)
    scored = request.score is not None
    for grouping in report.groupings:
        if WINDOW in grouping.attributes:
            continue  # shown per window by _show_windows
        title = " × ".join(grouping.attributes)
        if grouping.reference is not None:
            ref = ", ".join(display_value(v) for v in grouping.reference)
            title += f" — reference {ref} ({grouping.reference_rule.value})"
        table = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
        table.add_column("group", overflow="fold")
        table.add_column("rows", justify="right", no_wrap=True)
        for heading in ("share", *(m.short for m in SHOWN), *(["AUC"] if scored else [])):
            table.add_column(heading, justify="right", no_wrap=True)
        ratios = {(d.values, d.metric): d for d in report.disparities_of(grouping.attributes)}
        for g in report.groups_of(grouping.attributes):
            table.add_row(*_row(g, scored, ratios))
        out.print(table)
    for r in report.representation:
        out.print(
            Text(
                f"representation {r.attribute}={r.value}: observed {r.observed:.3f}, "
                f"expected {_rate(r.expected)}, ratio {_rate(r.ratio)}"
            )
        )
    for p in report.proxies:
        out.print(
            Text(
                f"possible proxy of {p.attribute}: {p.column} "
                f"(Cramér's V {p.cramers_v:.3f}, {p.method})"
            )
        )
    if report.disparities:
        out.print(
            "[dim]÷: ratio to the reference group; "
            f"[bold red]red[/bold red] outside [{FOUR_FIFTHS[0]}, {FOUR_FIFTHS[1]}].[/dim]"
        )
    for w in report.warnings:
        err.print(Text("warning: ", "yellow") + Text(w))


def _row(g: GroupResult, scored: bool, ratios: dict[Any, Any]) -> list[Text]:
    """One group; under each rate compared across groups, its ratio to the reference (÷).

    Text objects, not markup: values from the data are shown as they are, and a table of
    hundreds of groups renders without parsing markup in every cell.
    """
    name = Text(", ".join(display_value(v) for v in g.values))
    if g.reference:
        name.append(" (reference)", "dim")
    if g.suppressed:
        name.append(" (suppressed: too few rows)", "dim")
    cells = [name, Text(f"{g.count:,}"), Text(_rate(g.share))]
    if g.suppressed:
        return cells + [Text("·", "dim") for _ in range(len(SHOWN) + scored)]
    for m in SHOWN:
        cell = Text(_rate(g.metrics[m]))
        d = ratios.get((g.values, m))
        if d is not None:
            ratio = "—" if d.ratio is None else f"{d.ratio:.2f}"
            cell.append(f"\n÷{ratio}", "bold red" if d.flagged else "dim")
        cells.append(cell)
    if scored:
        cells.append(Text(_rate(g.auc)))
    return cells
