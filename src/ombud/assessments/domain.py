"""Assessment templates and answers: questions, conditions, scoring, red lines.

coe-fc:16 asks for graduated risk and impact management across the lifecycle:
context and intended use (16.2.a), severity and probability (16.2.b),
stakeholders (16.2.c), documentation (16.2.f), testing (16.2.g), and bans or
moratoria where a use is incompatible with human rights (16.4). A template
declares the questions that gather this, how answers score into a level, and
which answers are red lines. This module is pure: it evaluates a template
against answers; nothing here reads a database.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ombud.compliance.applicability import Always, Condition
from ombud.kernel.files import check_file


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    MULTI = "multi"
    SCALE = "scale"
    NUMBER = "number"
    DATE = "date"
    TABLE = "table"
    FILE = "file"


class ScoreRole(enum.StrEnum):
    """Which sum an answer's weight counts towards."""

    NONE = "none"
    RISK = "risk"
    MITIGATION = "mitigation"


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    weight: float = 0.0


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    kind: QuestionKind
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: QuestionKind
    help: str = ""
    required: bool = False
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    columns: tuple[Column, ...] = ()
    score: ScoreRole = ScoreRole.NONE
    weight: float = 1.0  # for scale and number answers that score
    show_when: Condition = field(default_factory=Always)
    require_when: Condition | None = None
    provisions: tuple[str, ...] = ()

    def max_weight(self) -> float:
        """The most this question can add to its sum."""
        if self.kind is QuestionKind.CHOICE:
            return max((o.weight for o in self.options), default=0.0)
        if self.kind is QuestionKind.MULTI:
            return sum(o.weight for o in self.options if o.weight > 0)
        if self.kind in (QuestionKind.SCALE, QuestionKind.NUMBER) and self.maximum is not None:
            return self.maximum * self.weight
        return 0.0


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    questions: tuple[Question, ...]
    help: str = ""
    show_when: Condition = field(default_factory=Always)


@dataclass(frozen=True)
class LevelThreshold:
    at: float  # fraction of the maximum (0..1) from which the level holds
    level: str


class ScoringMethod(enum.StrEnum):
    NONE = "none"
    WEIGHTED_SUM = "weighted_sum"
    RIGHTS_MATRIX = "rights_matrix"


@dataclass(frozen=True)
class Scoring:
    """How answers combine into a level; ``rule_text`` is shown to the user as written.

    weighted_sum: raw = sum of risk weights; if the mitigation sum reaches
    ``discount_threshold`` of its maximum, raw is reduced by ``discount``; the
    level is the last threshold whose fraction of the raw maximum is reached.
    rights_matrix: each row of ``table`` scores (sum of ``factors``) x
    ``probability``; the row level uses the thresholds against the row maximum;
    the overall level is the highest row level.
    """

    method: ScoringMethod
    levels: tuple[LevelThreshold, ...] = ()
    rule_text: str = ""
    discount_threshold: float | None = None
    discount: float = 0.0
    table: str = ""
    factors: tuple[str, ...] = ()
    probability: str = ""


@dataclass(frozen=True)
class RedLineRule:
    id: str
    when: Condition
    provision: str
    message: str
    verdict: str = "incompatible with human rights: do not develop or deploy"


@dataclass(frozen=True)
class Template:
    urn: str
    version: str
    title: str
    description: str
    sections: tuple[Section, ...]
    scoring: Scoring
    red_lines: tuple[RedLineRule, ...] = ()
    provisions: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    signoff_roles: tuple[str, ...] = ("approver",)
    requires_red_line_screening: bool = True

    @property
    def key(self) -> str:
        return f"{self.urn}:{self.version}"

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions() if q.id == question_id), None)


# -- answers ------------------------------------------------------------------

Answers = Mapping[str, Any]


def facts_for(answers: Answers, system: Mapping[str, Any]) -> dict[str, Any]:
    """Conditions read ``answers.<question>`` and ``system.<field>``."""
    facts = {f"answers.{k}": v for k, v in answers.items()}
    facts.update({f"system.{k}": v for k, v in system.items()})
    return facts


def visible_questions(template: Template, facts: Mapping[str, Any]) -> list[Question]:
    """Questions shown for these answers: their section's and their own conditions hold."""
    out: list[Question] = []
    for s in template.sections:
        if not s.show_when.holds(facts):
            continue
        out.extend(q for q in s.questions if q.show_when.holds(facts))
    return out


def is_required(q: Question, facts: Mapping[str, Any]) -> bool:
    if q.required:
        return True
    return q.require_when is not None and q.require_when.holds(facts)


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str | list | dict | tuple):
        return bool(value.strip()) if isinstance(value, str) else bool(value)
    return True


def check_answer(q: Question, value: Any) -> str | None:
    """A message when ``value`` is not a valid answer to ``q``; None when it is."""
    if value is None or value == "" or value == []:
        return None
    values = {o.value for o in q.options}
    if q.kind is QuestionKind.TEXT:
        if not isinstance(value, str):
            return "Expected text."
        if len(value) > 20_000:
            return "At most 20,000 characters."
    elif q.kind is QuestionKind.CHOICE:
        if value not in values:
            return f"'{value}' is not one of: {', '.join(sorted(values))}."
    elif q.kind is QuestionKind.MULTI:
        if not isinstance(value, list) or any(v not in values for v in value):
            return f"Expected a list of: {', '.join(sorted(values))}."
    elif q.kind in (QuestionKind.SCALE, QuestionKind.NUMBER):
        return _check_number(value, q.minimum, q.maximum, whole=q.kind is QuestionKind.SCALE)
    elif q.kind is QuestionKind.DATE:
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return "Expected a date such as 2026-12-31."
    elif q.kind is QuestionKind.TABLE:
        return _check_table(q, value)
    elif q.kind is QuestionKind.FILE and not isinstance(value, list | str):
        return "Expected the id of an attached evidence file."
    return None


def _check_number(value: Any, lo: float | None, hi: float | None, whole: bool) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "Expected a number."
    if whole and int(value) != value:
        return "Expected a whole number."
    if lo is not None and value < lo:
        return f"At least {lo:g}."
    if hi is not None and value > hi:
        return f"At most {hi:g}."
    return None


def _check_table(q: Question, value: Any) -> str | None:
    if not isinstance(value, list) or any(not isinstance(r, dict) for r in value):
        return "Expected a list of rows."
    if len(value) > 200:
        return "At most 200 rows."
    cols = {c.id: c for c in q.columns}
    for i, row in enumerate(value, 1):
        unknown = set(row) - set(cols)
        if unknown:
            return f"Row {i}: unknown column {sorted(unknown)[0]}."
        for cid, cell in row.items():
            c = cols[cid]
            if cell in (None, ""):
                continue
            if c.kind is QuestionKind.CHOICE and cell not in {o.value for o in c.options}:
                return f"Row {i}, {c.label}: '{cell}' is not a choice."
            if c.kind in (QuestionKind.SCALE, QuestionKind.NUMBER):
                msg = _check_number(cell, c.minimum, c.maximum, c.kind is QuestionKind.SCALE)
                if msg:
                    return f"Row {i}, {c.label}: {msg}"
            if c.kind is QuestionKind.TEXT and (not isinstance(cell, str) or len(cell) > 5000):
                return f"Row {i}, {c.label}: expected text of at most 5,000 characters."
    return None


def problems(
    template: Template, answers: Answers, system: Mapping[str, Any], complete: bool
) -> dict[str, str]:
    """{question id: message}; with ``complete``, required visible questions must be answered."""
    out: dict[str, str] = {}
    known = {q.id: q for q in template.questions()}
    for qid in answers:
        if qid not in known:
            out[qid] = f"There is no question '{qid}' in {template.title}."
    for qid, value in answers.items():
        if qid in known and (msg := check_answer(known[qid], value)):
            out[qid] = msg
    if complete:
        facts = facts_for(answers, system)
        for q in visible_questions(template, facts):
            if is_required(q, facts) and not _filled(answers.get(q.id)) and q.id not in out:
                out[q.id] = "An answer is required before submitting."
    return out


# -- scoring --------------------------------------------------------------------


@dataclass(frozen=True)
class RowScore:
    label: str
    score: float
    maximum: float
    level: str
    factors: Mapping[str, float]


@dataclass(frozen=True)
class Score:
    method: ScoringMethod
    raw: float
    maximum: float
    mitigation: float
    mitigation_maximum: float
    discounted: bool
    final: float
    level: str | None
    rows: tuple[RowScore, ...] = ()

    @property
    def fraction(self) -> float:
        return self.final / self.maximum if self.maximum else 0.0


def level_for(fraction: float, levels: Sequence[LevelThreshold]) -> str | None:
    """The last threshold reached (thresholds ascending)."""
    found = None
    for t in sorted(levels, key=lambda t: t.at):
        if fraction >= t.at - 1e-12:
            found = t.level
    return found


def _weight(q: Question, value: Any) -> float:
    if value in (None, "", []):
        return 0.0
    by_value = {o.value: o.weight for o in q.options}
    if q.kind is QuestionKind.CHOICE:
        return by_value.get(value, 0.0)
    if q.kind is QuestionKind.MULTI and isinstance(value, list):
        return sum(by_value.get(v, 0.0) for v in set(value))
    if q.kind in (QuestionKind.SCALE, QuestionKind.NUMBER) and isinstance(value, int | float):
        return float(value) * q.weight
    return 0.0


def score(template: Template, answers: Answers, system: Mapping[str, Any]) -> Score:
    """Score the visible answers by the template's rule."""
    s = template.scoring
    if s.method is ScoringMethod.RIGHTS_MATRIX:
        return _rights_matrix(template, answers)
    facts = facts_for(answers, system)
    visible = visible_questions(template, facts)
    raw = sum(_weight(q, answers.get(q.id)) for q in visible if q.score is ScoreRole.RISK)
    maximum = sum(q.max_weight() for q in template.questions() if q.score is ScoreRole.RISK)
    mitigation = sum(
        _weight(q, answers.get(q.id)) for q in visible if q.score is ScoreRole.MITIGATION
    )
    mitigation_max = sum(
        q.max_weight() for q in template.questions() if q.score is ScoreRole.MITIGATION
    )
    discounted = (
        s.discount_threshold is not None
        and mitigation_max > 0
        and mitigation >= s.discount_threshold * mitigation_max - 1e-12
    )
    final = raw * (1 - s.discount) if discounted else raw
    level = level_for(final / maximum, s.levels) if maximum and s.levels else None
    if s.method is ScoringMethod.NONE:
        level = None
    return Score(s.method, raw, maximum, mitigation, mitigation_max, discounted, final, level)


def _rights_matrix(template: Template, answers: Answers) -> Score:
    s = template.scoring
    table = template.question(s.table)
    assert table is not None
    cols = {c.id: c for c in table.columns}
    row_max = sum(cols[f].maximum or 0 for f in s.factors) * (cols[s.probability].maximum or 0)
    label_col = next((c.id for c in table.columns if c.kind is not QuestionKind.SCALE), "")
    rows = []
    for row in answers.get(s.table) or []:
        values = {f: row.get(f) for f in (*s.factors, s.probability)}
        if any(not isinstance(v, int | float) or isinstance(v, bool) for v in values.values()):
            continue  # an incomplete row does not score yet
        total = sum(float(values[f]) for f in s.factors) * float(values[s.probability])
        level = level_for(total / row_max, s.levels) if row_max else None
        rows.append(
            RowScore(
                str(row.get(label_col, "")),
                total,
                row_max,
                level or "",
                {k: float(v) for k, v in values.items()},
            )
        )
    top = max(rows, key=lambda r: r.score, default=None)
    final = top.score if top else 0.0
    level = level_for(final / row_max, s.levels) if row_max and rows else None
    return Score(s.method, final, row_max, 0.0, 0.0, False, final, level, tuple(rows))


# -- red lines ------------------------------------------------------------------


class RedLineDecisionKind(enum.StrEnum):
    """What was decided on a red-line hit (coe-fc:16.4: moratorium, ban or other measure)."""

    BAN = "ban"
    MORATORIUM = "moratorium"
    JUSTIFIED_EXCEPTION = "justified_exception"


@dataclass(frozen=True)
class RedLineHit:
    rule: RedLineRule


def red_line_hits(
    template: Template, answers: Answers, system: Mapping[str, Any]
) -> list[RedLineHit]:
    facts = facts_for(answers, system)
    return [RedLineHit(r) for r in template.red_lines if r.when.holds(facts)]


# -- assessment records -----------------------------------------------------------


class AssessmentStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SIGNED = "signed"


@dataclass
class Assessment:
    """One assessment of one system with one template version."""

    id: int
    system_id: int
    organisation_id: int
    template_urn: str
    template_version: str
    status: AssessmentStatus
    answers: dict[str, Any]
    level: str | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    revision: int = 1
    submitted_at: datetime | None = None
    signed_at: datetime | None = None
    signed_by: str | None = None
    content_hash: str | None = None
    system_revision: int | None = None
    review_date: datetime | None = None
    stale_at: datetime | None = None
    stale_reason: str | None = None

    @property
    def template_key(self) -> str:
        return f"{self.template_urn}:{self.template_version}"

    def is_stale(self, now: datetime) -> bool:
        """coe-fc:16.2.d/g: signed work goes stale on a significant modification, a
        confirmed incident, or when its review date has passed."""
        if self.status is not AssessmentStatus.SIGNED:
            return False
        if self.stale_at is not None:
            return True
        return self.review_date is not None and self.review_date < now

    def is_current(self, now: datetime) -> bool:
        """Signed and not stale: what the gates and the compliance matrix count."""
        return self.status is AssessmentStatus.SIGNED and not self.is_stale(now)

    def stale_because(self, now: datetime) -> str:
        if self.stale_reason:
            return self.stale_reason
        if self.review_date is not None and self.review_date < now:
            return f"Its review date ({self.review_date:%Y-%m-%d}) has passed."
        return ""


def current_templates(assessments: Iterable[Assessment], now: datetime) -> frozenset[str]:
    """URNs of the templates with a current (signed, not stale) assessment."""
    return frozenset(a.template_urn for a in assessments if a.is_current(now))


@dataclass(frozen=True)
class Comment:
    assessment_id: int
    at: datetime
    actor: str
    text: str


@dataclass(frozen=True)
class RedLineDecision:
    id: int
    system_id: int
    assessment_id: int
    rule_id: str
    provision: str
    kind: RedLineDecisionKind
    until: datetime | None
    legal_basis: str
    reason: str
    decided_by: str
    decided_at: datetime
    review_date: datetime | None


@dataclass(frozen=True)
class EvidenceFile:
    id: int
    assessment_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


# What may be attached, by file name suffix, with the bytes a genuine file starts with
# (None: text formats, checked by decoding instead).
EVIDENCE_TYPES: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".csv": ("text/csv", None),
    ".txt": ("text/plain", None),
    ".json": ("application/json", None),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ".odt": ("application/vnd.oasis.opendocument.text", b"PK\x03\x04"),
}
EVIDENCE_MAX_BYTES = 1_500_000


def check_evidence_file(name: str, data: bytes) -> tuple[str, str | None]:
    """(content type, problem): refuses unknown types, mismatched content and size."""
    return check_file(name, data, EVIDENCE_TYPES, EVIDENCE_MAX_BYTES)
