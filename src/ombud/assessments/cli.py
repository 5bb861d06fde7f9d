"""`ombud assess ...`: risk and impact assessments from the command line."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ombud.assessments.domain import RedLineDecisionKind
from ombud.kernel.access import Principal
from ombud.kernel.cli import AsOption, as_user, container, handles_errors, out
from ombud.kernel.errors import Invalid

if TYPE_CHECKING:
    from ombud.bootstrap import Container

assess_app = typer.Typer(no_args_is_help=True, help="Risk and impact assessments (coe-fc:16).")

ANSWERS_FILE_MAX = 2_000_000


def _need_user(as_email: str | None) -> str:
    if not as_email:
        raise Invalid("Name the account to act as with --as (its roles apply).")
    return as_email


@assess_app.command("templates")
@handles_errors
def templates() -> None:
    """The assessment templates (newest versions)."""
    c = container()
    table = Table("URN", "version", "title", "scoring")
    for t in c.assessments.latest_templates():
        table.add_row(t.urn, t.version, t.title, t.scoring.method.value)
    out.print(table)


@assess_app.command("due")
@handles_errors
def due(as_email: AsOption = None) -> None:
    """What needs work: live systems without current assessments, stale ones, drafts."""
    c = container()
    table = Table("system", "assessment", "why")
    for item in c.assessments.due(as_user(c, _need_user(as_email))):
        table.add_row(
            f"{item.system_id} {item.system}",
            f"{item.assessment_id} {item.template}" if item.assessment_id else "—",
            item.why,
        )
    out.print(table)


@assess_app.command("list")
@handles_errors
def list_assessments(system_id: int, as_email: AsOption = None) -> None:
    """Assessments of one AI system."""
    c = container()
    actor = as_user(c, _need_user(as_email))
    table = Table("id", "template", "status", "level", "signed", "stale")
    for a in c.assessments.for_system(actor, system_id):
        view = c.assessments.get(actor, a.id)
        table.add_row(
            str(a.id),
            a.template_key,
            a.status.value,
            a.level or "—",
            f"{a.signed_at:%Y-%m-%d} by {a.signed_by}" if a.signed_at else "—",
            view.stale_reason if view.stale else "",
        )
    out.print(table)


@assess_app.command("run")
@handles_errors
def run(
    system_id: int,
    template: Annotated[str, typer.Argument(help="URN (newest version), urn:version, or name.")],
    answers: Annotated[
        Path | None, typer.Option("--answers", help="YAML or JSON file of answers.")
    ] = None,
    assessment: Annotated[
        int | None, typer.Option(help="Add the answers to this draft instead of a new one.")
    ] = None,
    submit: Annotated[bool, typer.Option(help="Submit for sign-off when complete.")] = False,
    as_email: AsOption = None,
) -> None:
    """Start an assessment (or continue a draft) and fill it from an answers file."""
    c = container()
    actor = as_user(c, _need_user(as_email))
    text = None
    if answers is not None:
        if not answers.is_file():
            raise Invalid(f"--answers: {answers} is not a file.")
        if answers.stat().st_size > ANSWERS_FILE_MAX:
            raise Invalid(f"--answers: {answers} is larger than {ANSWERS_FILE_MAX} bytes.")
        try:
            text = answers.read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid(f"--answers: {answers} is not UTF-8 text (byte {exc.start}).") from None
        c.assessments.answers_from_file(answers.name, text)  # refuse a broken file first
    a_id = assessment or c.assessments.start(actor, system_id, template).id
    if text is not None and answers is not None:
        c.assessments.run_answers_file(actor, a_id, answers.name, text)
    if submit:
        c.assessments.submit(actor, a_id)
    _show(c, actor, a_id)


def _show(c: Container, actor: Principal, assessment_id: int) -> None:
    view = c.assessments.get(actor, assessment_id)
    a, s = view.assessment, view.score
    out.print(
        f"[bold]Assessment {a.id}[/bold] of system {a.system_id}: {view.template.title} "
        f"({a.template_key}) — {a.status.value}"
    )
    if s.maximum:
        out.print(
            f"score {s.final:g} of {s.maximum:g} ({s.fraction:.0%})"
            + (" after the mitigation discount" if s.discounted else "")
            + f" → level [bold]{s.level}[/bold]"
        )
        out.print(f"[dim]{view.template.scoring.rule_text}[/dim]")
    for hit in view.red_lines:
        out.print(
            f"[red]red line {hit.rule.id}[/red] ({hit.rule.provision}): {hit.rule.message} "
            f"— {hit.rule.verdict}"
        )
    if view.stale:
        out.print(f"[yellow]stale:[/yellow] {view.stale_reason}")
    if a.content_hash:
        out.print(
            f"signed by {a.signed_by} on {a.signed_at:%Y-%m-%d}, content sha256 {a.content_hash}"
        )


@assess_app.command("show")
@handles_errors
def show(
    assessment_id: int,
    as_email: AsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Answers and score as JSON.")] = False,
) -> None:
    """Show an assessment: status, score and level, red lines, staleness."""
    c = container()
    actor = as_user(c, _need_user(as_email))
    if as_json:
        view = c.assessments.get(actor, assessment_id)
        a = view.assessment
        doc = {
            "id": a.id,
            "system_id": a.system_id,
            "template": a.template_key,
            "status": a.status.value,
            "answers": a.answers,
            "level": view.score.level,
            "score": view.score.final,
            "maximum": view.score.maximum,
            "red_lines": [h.rule.id for h in view.red_lines],
            "stale": view.stale,
            "content_hash": a.content_hash,
        }
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    _show(c, actor, assessment_id)


@assess_app.command("submit")
@handles_errors
def submit_cmd(assessment_id: int, as_email: AsOption = None) -> None:
    """Submit a complete draft for sign-off."""
    c = container()
    c.assessments.submit(as_user(c, _need_user(as_email)), assessment_id)
    out.print(f"assessment {assessment_id} submitted for sign-off")


@assess_app.command("sign")
@handles_errors
def sign(
    assessment_id: int,
    review: Annotated[str | None, typer.Option(help="Review date, YYYY-MM-DD.")] = None,
    as_email: AsOption = None,
) -> None:
    """Sign off a submitted assessment (an approver who did not answer it)."""
    c = container()
    review_date = _date(review, "--review")
    digest = c.assessments.sign(as_user(c, _need_user(as_email)), assessment_id, review_date)
    out.print(f"assessment {assessment_id} signed; content sha256 {digest} is on the ledger")


@assess_app.command("report")
@handles_errors
def report(
    assessment_id: int,
    output: Annotated[Path, typer.Option("-o", "--output", help="report.pdf or report.html")],
    as_email: AsOption = None,
) -> None:
    """Export the assessment report as PDF (or HTML, by the file's suffix)."""
    c = container()
    actor = as_user(c, _need_user(as_email))
    if output.suffix.lower() == ".html":
        data = c.assessments.report_html(actor, assessment_id).encode("utf-8")
    elif output.suffix.lower() == ".pdf":
        data = c.assessments.report_pdf(actor, assessment_id)
    else:
        raise Invalid(f"--output: {output} must end in .pdf or .html.")
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise Invalid(f"--output: cannot write {output}: {exc.strerror}.") from None
    out.print(f"wrote {output} ({len(data)} bytes)")


@assess_app.command("decide")
@handles_errors
def decide(
    assessment_id: int,
    rule: Annotated[str, typer.Option(help="The red line hit.")],
    kind: Annotated[RedLineDecisionKind, typer.Option(help="ban, moratorium, or exception.")],
    reason: Annotated[str, typer.Option(help="Reasons, kept on the record.")],
    until: Annotated[str | None, typer.Option(help="Moratorium end, YYYY-MM-DD.")] = None,
    legal_basis: Annotated[str, typer.Option(help="For a justified exception.")] = "",
    review: Annotated[str | None, typer.Option(help="Review date, YYYY-MM-DD.")] = None,
    as_email: AsOption = None,
) -> None:
    """Record the decision on a red-line hit (coe-fc:16.4)."""
    c = container()
    decision = c.assessments.decide_red_line(
        as_user(c, _need_user(as_email)),
        assessment_id,
        rule,
        kind,
        reason,
        _date(until, "--until"),
        legal_basis,
        _date(review, "--review"),
    )
    out.print(f"recorded {decision.kind.value} on {decision.rule_id} ({decision.provision})")


def _date(raw: str | None, option: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{option}: '{raw}' is not a date such as 2026-12-31.") from None
