"""`ombud instruments ...` and `ombud compliance SYSTEM`."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ombud.instruments.domain import Topic
from ombud.kernel.cli import container, err, handles_errors, out
from ombud.kernel.errors import Invalid

instruments_app = typer.Typer(
    no_args_is_help=True, help="The instruments catalogue: provisions, search, OSCAL export."
)


class ExportFormat(enum.StrEnum):
    OSCAL = "oscal"
    OSCAL_PROFILE = "oscal-profile"


@instruments_app.command("stats")
@handles_errors
def stats() -> None:
    """Provisions per instrument, by kind."""
    c = container()
    table = Table("instrument", "binding", "provisions", "by kind")
    total = 0
    for s in c.instruments.stats():
        total += s.total
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(s.by_kind.items()))
        table.add_row(s.instrument.id, s.instrument.binding.value, str(s.total), kinds)
    out.print(table)
    out.print(f"{total} provisions, {len(c.instruments.requirements)} requirements")


@instruments_app.command("show")
@handles_errors
def show(
    ref: Annotated[str, typer.Argument(help="An instrument (coe-fc) or a provision (coe-fc:16).")],
) -> None:
    """Show an instrument or a provision with its sub-provisions, verbatim."""
    c = container()
    instrument, provisions = c.instruments.lookup(ref)
    out.print(f"[bold]{instrument.title}[/bold] — {instrument.binding.label}")
    for p in provisions:
        head = f"[bold cyan]{p.id}[/bold cyan]  [dim]{p.kind.value}[/dim]"
        if p.topics:
            head += f"  [dim]{', '.join(t.value for t in p.topics)}[/dim]"
        out.print(head)
        out.print(Text(p.text), soft_wrap=True)
        if p.refs:
            out.print(f"[dim]see also: {', '.join(p.refs)}[/dim]")
        cited = c.instruments.requirements_citing(p.id)
        if cited:
            out.print(f"[dim]requirements: {', '.join(r.id for r in cited)}[/dim]")


@instruments_app.command("search")
@handles_errors
def search(
    text: str,
    topic: Annotated[Topic | None, typer.Option(help="Only provisions on this topic.")] = None,
    instrument: Annotated[str | None, typer.Option(help="Only this instrument.")] = None,
) -> None:
    """Full-text search over every provision."""
    c = container()
    found = c.instruments.search(text, topic, instrument)
    table = Table("provision", "kind", "text")
    for p in found:
        table.add_row(p.id, p.kind.value, p.text if len(p.text) < 240 else p.text[:237] + "...")
    out.print(table)
    out.print(f"{len(found)} provisions match")


@instruments_app.command("export")
@handles_errors
def export(
    instrument: Annotated[
        str | None, typer.Argument(help="Instrument to export (not for oscal-profile).")
    ] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="oscal or oscal-profile.")] = (
        ExportFormat.OSCAL
    ),
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File; stdout.")] = None,
) -> None:
    """Write an OSCAL catalog (JSON) of an instrument, or the requirements as an OSCAL profile."""
    c = container()
    if fmt is ExportFormat.OSCAL:
        if not instrument:
            raise Invalid("Name the instrument to export, e.g. `ombud instruments export coe-fc`.")
        document = c.instruments.oscal_catalog(instrument)
    else:
        document = c.instruments.oscal_profile()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, "utf-8")
    except OSError as exc:
        raise Invalid(f"Cannot write {output}: {exc.strerror}.") from None
    err.print(f"wrote {output} ({len(text)} bytes)")
