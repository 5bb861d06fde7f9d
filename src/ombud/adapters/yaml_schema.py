"""Load YAML and validate it with pydantic, reporting errors by file, line and field.

A refusal reads like ``coe-fc.yaml:412: provisions[57].kind: Input should be
'obligation', 'recommendation', ...`` so the person fixing the file goes straight
to the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ombud.errors import FieldProblem, Invalid

M = TypeVar("M", bound=BaseModel)
Path_ = tuple[str | int, ...]


class SchemaError(Invalid):
    """A data file (catalogue, rules, templates) that does not match its schema."""


def _lines(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _lines(value_node, (*path, key), out)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)


# LibYAML's parser when PyYAML was built with it (the wheels are): the shipped catalogue
# and templates load in a tenth of the time, which every server worker pays at start.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(name: str, source: str, compose: bool) -> Any:
    try:
        if compose:
            return yaml.compose(source, Loader=_Loader)
        return yaml.load(source, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemaError(
            f"{name}:{line}: not valid YAML: {problem}",
            [FieldProblem(("file", name, "line", line), f"not valid YAML: {problem}")],
        ) from None


def line_map(name: str, source: str) -> dict[Path_, int]:
    """A map from each path in a YAML document to its line number."""
    node = _load(name, source, compose=True)
    lines: dict[Path_, int] = {}
    if node is not None:
        _lines(node, (), lines)
    return lines


def read_yaml(path: Path | str, text: str | None = None) -> tuple[Any, dict[Path_, int]]:
    """The data of a YAML file and a map from each path in it to its line number."""
    name = Path(path).name
    source = text if text is not None else Path(path).read_text("utf-8")
    return _load(name, source, compose=False), line_map(name, source)


def _line_of(loc: Path_, lines: dict[Path_, int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 0


def format_loc(loc: Path_) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validate(model: type[M], path: Path | str, text: str | None = None) -> M:
    """Parse and validate one file; SchemaError names file, line and field for each problem."""
    name = Path(path).name
    source = text if text is not None else Path(path).read_text("utf-8")
    data = _load(name, source, compose=False)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = line_map(name, source)  # only a refusal needs the lines
        problems = []
        for err in exc.errors():
            loc = tuple(
                p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function"))
            )
            line = _line_of(loc, lines)
            problems.append(
                FieldProblem(("file", name, "line", line, *loc), f"{format_loc(loc)}: {err['msg']}")
            )
        first = problems[0]
        raise SchemaError(
            f"{name}:{first.loc[3]}: {first.message}"
            + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""),
            problems,
        ) from None


def describe(error: SchemaError) -> list[str]:
    """One line per problem: ``file:line: field: message``."""
    return [f"{p.loc[1]}:{p.loc[3]}: {p.message}" for p in error.problems]


def read_mapping_lines(name: str, text: str) -> tuple[Any, dict[str, int]]:
    """A YAML (or JSON) document and the line of each of its top-level keys."""
    data, lines = read_yaml(name, text)
    return data, {str(k[0]): v for k, v in lines.items() if len(k) == 1}
