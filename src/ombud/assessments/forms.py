"""HTML form <-> assessment answers, by question kind.

Field names: ``q-<question>`` for simple questions (repeated for multi-choice),
``q-<question>-<row>-<column>`` for table cells. Blank table rows are dropped.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.datastructures import FormData

from ombud.assessments.domain import Column, Question, QuestionKind, Template

TABLE_ROWS_MAX = 200


def _number(raw: str, whole: bool) -> int | float | str:
    """A number if ``raw`` is one; otherwise the text, so the check names the question."""
    try:
        value = float(raw)
    except ValueError:
        return raw
    if not math.isfinite(value):  # "inf", "nan", "1e400": not a number a JSON record holds
        return raw
    if whole and value.is_integer():
        return int(value)
    return value


def _cell(c: Column, raw: str) -> Any:
    if raw == "":
        return None
    if c.kind in (QuestionKind.SCALE, QuestionKind.NUMBER):
        return _number(raw, c.kind is QuestionKind.SCALE)
    return raw


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def answers_from_form(template: Template, form: FormData) -> dict[str, Any]:
    """The answers a form submits; an emptied field removes its answer (None)."""
    out: dict[str, Any] = {}
    for q in template.questions():
        name = f"q-{q.id}"
        if q.kind is QuestionKind.TABLE:
            if f"{name}-present" not in form:
                continue
            out[q.id] = _table(q, form) or None
        elif q.kind is QuestionKind.MULTI:
            if f"{name}-present" not in form:
                continue
            chosen = [v for v in form.getlist(name) if isinstance(v, str)]
            out[q.id] = chosen or None
        elif name in form:
            raw = _text(form, name)
            if q.kind in (QuestionKind.SCALE, QuestionKind.NUMBER):
                out[q.id] = _number(raw, q.kind is QuestionKind.SCALE) if raw else None
            else:
                out[q.id] = raw or None
    return out


def _table(q: Question, form: FormData) -> list[dict[str, Any]]:
    rows = []
    for i in range(TABLE_ROWS_MAX):
        cells = {c.id: _cell(c, _text(form, f"q-{q.id}-{i}-{c.id}")) for c in q.columns}
        if all(f"q-{q.id}-{i}-{c.id}" not in form for c in q.columns):
            continue
        if all(v is None for v in cells.values()):
            continue
        rows.append({k: v for k, v in cells.items() if v is not None})
    return rows
