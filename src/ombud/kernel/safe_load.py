"""Untrusted input: YAML and JSON that people upload, and the text they type.

Every uploaded file is parsed here, within bounds (bytes, nesting depth, number
of values), so a small file cannot take a worker's memory or time: a YAML file
with anchors and aliases ("billion laughs") is refused at the event level,
before anything is composed, and JSON nesting is measured before ``json.loads``
recurses. A refusal names the file and the line (YAML) or the path (JSON).

``text_problem`` is the one rule for characters a text may not hold (NUL and
other control characters, lone surrogates): PostgreSQL refuses NUL, SQLite
stores it, and neither belongs in a record, a mail header or a CSV cell.

This module sits beside ``errors`` so adapters, services, the web layer and the
CLI can all use it (services and the entrypoints may not import adapters).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from ombud.kernel.errors import FieldProblem, Invalid


@dataclass(frozen=True)
class Limits:
    """How large an uploaded document may be."""

    max_bytes: int = 2_000_000
    max_depth: int = 64  # nested mappings / lists
    max_nodes: int = 200_000  # values, keys included


FILE_LIMITS = Limits()

# -- numbers people type -----------------------------------------------------------

# Ids are BIGINT in the database: a larger number is refused before it gets there.
ID_MAX = 2**63 - 1


def whole_number(raw: str, maximum: int = ID_MAX) -> int | None:
    """``raw`` as a whole number from 0 to ``maximum``, or None. ASCII digits only:
    ``str.isdigit()`` also takes "²" and "١", which ``int()`` refuses or reads."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(maximum)):
        return None
    value = int(raw)
    return value if value <= maximum else None


# -- text ------------------------------------------------------------------------

# C0 controls but tab, newline and carriage return; lone surrogates (not encodable).
_BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` may not be stored as text, or None."""
    found = _BAD_CHARACTER.search(value)
    if found is None:
        return None
    ch = found.group()
    if ch == "\x00":
        what = "a NUL character"
    elif "\ud800" <= ch <= "\udfff":
        what = f"an unpaired surrogate (U+{ord(ch):04X})"
    else:
        what = f"a control character (U+{ord(ch):04X})"
    return f"Contains {what} at position {found.start() + 1}; remove it."


def text_problems(value: Any, loc: tuple[str | int, ...] = ()) -> Iterator[FieldProblem]:
    """A problem for each text (keys included) in a parsed JSON value that breaks the
    rule, located by its path. Iterative: the depth is not bounded here."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(loc, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                yield FieldProblem(where, problem)
        elif isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and (problem := text_problem(key)):
                    yield FieldProblem((*where, _printable(key)), f"Field name: {problem}")
                    continue
                stack.append(((*where, key if isinstance(key, str | int) else str(key)), inner))
        elif isinstance(item, list | tuple):
            stack.extend(((*where, i), inner) for i, inner in enumerate(item))


def _printable(value: str) -> str:
    return _BAD_CHARACTER.sub("\ufffd", value)[:80]


def format_path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


# -- refusals ----------------------------------------------------------------------


def _refuse(name: str, line: int | None, problem: str, path: str = "") -> Invalid:
    """A refusal of a file: ``name:line: problem`` (the shape data-file errors take), or
    ``name: path: problem`` where only the path of a value is known."""
    if line is not None:
        return Invalid(
            f"{name}:{line}: {problem}", [FieldProblem(("file", name, "line", line), problem)]
        )
    return Invalid(f"{name}: {path}: {problem}" if path else f"{name}: {problem}")


def _check_size(name: str, data: bytes | str, limits: Limits) -> None:
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise _refuse(name, None, f"larger than {limits.max_bytes:,} bytes ({size:,}).")


# -- JSON ------------------------------------------------------------------------

# A JSON string, escapes included; possessive so a long string costs one pass.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_KEEP_STRUCTURE = bytes.maketrans(b"[{]}", b"(())")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b"[]{},")


def json_shape_problem(data: bytes | str, limits: Limits = FILE_LIMITS) -> str | None:
    """Why a JSON text nests too deeply or holds too many values, or None, measured
    without recursion (json.loads recurses once per level and fails with a
    RecursionError long after the damage is done). Malformed JSON passes: the
    parser reports it."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    structure = _JSON_STRING.sub(b"", raw).translate(None, _NOT_STRUCTURE)
    values = structure.count(b",") + structure.count(b"[") + structure.count(b"{") + 1
    if values > limits.max_nodes:
        return f"holds more than {limits.max_nodes:,} values."
    brackets = structure.replace(b",", b"").translate(_KEEP_STRUCTURE)
    too_deep = f"nests lists or objects more than {limits.max_depth} levels deep."
    run = b"(" * (limits.max_depth + 1)
    # Each pass removes the innermost level: after max_depth passes a balanced text
    # within the limit is empty; what stays is deeper, or unbalanced.
    for _ in range(limits.max_depth):
        if run in brackets:
            return too_deep
        shorter = brackets.replace(b"()", b"")
        if len(shorter) == len(brackets):
            break
        brackets = shorter
    if b"()" in brackets or brackets.count(b"(") > limits.max_depth:
        return too_deep
    return None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a number JSON allows")


def _number_problem(exc: Exception) -> str:
    message = str(exc)
    if "integer string conversion" in message:  # Python's guard against huge integers
        return "a number has too many digits"
    return message[:120]


def load_json(name: str, data: bytes | str, limits: Limits = FILE_LIMITS) -> Any:
    """Parse an uploaded JSON document within ``limits``; Invalid naming the file and
    the line, or the path of a bad text."""
    _check_size(name, data, limits)
    problem = json_shape_problem(data, limits)
    if problem:
        raise _refuse(name, None, problem)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise _refuse(name, None, f"not UTF-8 text (byte {exc.start}).") from None
    try:
        document = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        raise Invalid(
            f"{name} is {problem}", [FieldProblem(("file", name, "line", exc.lineno), problem)]
        ) from None
    except (ValueError, RecursionError) as exc:  # a number too long or out of range
        raise _refuse(name, None, f"not valid JSON: {_number_problem(exc)}.") from None
    for bad in text_problems(document):
        raise _refuse(name, None, bad.message, format_path(bad.loc))
    return document


# -- YAML ------------------------------------------------------------------------


# LibYAML's parser when PyYAML was built with it (the wheels are): ten times faster.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _syntax_error(name: str, exc: Exception) -> Invalid:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    problem = getattr(exc, "problem", None) or str(exc)
    return _refuse(name, line, f"not valid YAML: {problem}")


def check_yaml_events(name: str, text: str, limits: Limits = FILE_LIMITS) -> None:
    """Refuse anchors, aliases, tags beyond the plain ones, more than one document,
    deep nesting, too many values and bad characters, from the parser's events: nothing
    is composed yet, so an alias bomb costs no more than its own bytes."""
    depth = nodes = documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.AliasEvent):
                raise _refuse(
                    name, line, f"uses the alias *{event.anchor}: write the value out in full."
                )
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _refuse(name, line, "holds more than one YAML document.")
                continue
            if not isinstance(event, yaml.NodeEvent):
                if isinstance(event, yaml.CollectionEndEvent):
                    depth -= 1
                continue
            if event.anchor is not None:
                raise _refuse(
                    name,
                    line,
                    f"defines the anchor &{event.anchor}: anchors and aliases are not accepted.",
                )
            nodes += 1
            if nodes > limits.max_nodes:
                raise _refuse(name, line, f"holds more than {limits.max_nodes:,} values.")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limits.max_depth:
                    raise _refuse(name, line, f"nests more than {limits.max_depth} levels deep.")
            elif isinstance(event, yaml.ScalarEvent) and (problem := text_problem(event.value)):
                raise _refuse(name, line, problem)
    except yaml.YAMLError as exc:
        if getattr(exc, "problem", "") == "exceeded maximum nesting depth":  # LibYAML's own
            raise _refuse(name, 1, f"nests more than {limits.max_depth} levels deep.") from None
        raise _syntax_error(name, exc) from None


_PLAIN = (str, int, bool, date, type(None))


def _check_values(name: str, data: Any) -> None:
    """Only values JSON can hold (and dates): no !!binary, !!set, NaN or infinity."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            stack.extend(((*where, str(k)), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend(((*where, i), v) for i, v in enumerate(item))
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _refuse(name, None, "a number is out of range.", format_path(where))
        elif not isinstance(item, _PLAIN):
            raise _refuse(
                name, None, f"a {type(item).__name__} value is not accepted.", format_path(where)
            )


def load_yaml(name: str, text: str, limits: Limits = FILE_LIMITS) -> tuple[Any, yaml.Node | None]:
    """Parse an uploaded YAML (or JSON) document within ``limits``: its data and its
    node tree (for line numbers). Invalid naming the file and line otherwise."""
    _check_size(name, text, limits)
    check_yaml_events(name, text, limits)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _syntax_error(name, exc) from None
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise _refuse(name, None, f"not valid YAML: {_number_problem(exc)}.") from None
    finally:
        loader.dispose()
    _check_values(name, data)
    return data, node
