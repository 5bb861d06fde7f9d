"""Load YAML and validate it with pydantic, reporting errors by file, line and field.

A refusal reads like ``coe-fc.yaml:412: provisions[57].kind: Input should be
'obligation', 'recommendation', ...`` so the person fixing the file goes straight
to the line.

``validate`` reads the data files ombud ships; ``read_yaml`` and
``read_mapping_lines`` read what people upload (answers files), through the
bounded parser of ``ombud.kernel.safe_load`` (no anchors or aliases, capped size, depth
and number of values).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ombud.kernel.errors import FieldProblem, Invalid
from ombud.kernel.safe_load import FILE_LIMITS, Limits, load_yaml

M = TypeVar("M", bound=BaseModel)
Path_ = tuple[str | int, ...]


class SchemaError(Invalid):
    """A data file (catalogue, rules, templates) that does not match its schema."""


def _lines(root: yaml.Node, out: dict[Path_, int]) -> None:
    # Iterative, and each node is visited once: an alias shares its node, and walking
    # a shared node once per reference is how nine aliases become a billion lines.
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        out.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = (*path, key_node.value)
                out[key] = key_node.start_mark.line + 1
                stack.append((value_node, key))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))


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
    return _line_map(_load(name, source, compose=True))


def _line_map(node: yaml.Node | None) -> dict[Path_, int]:
    lines: dict[Path_, int] = {}
    if node is not None:
        _lines(node, lines)
    return lines


def read_yaml(
    path: Path | str, text: str | None = None, limits: Limits = FILE_LIMITS
) -> tuple[Any, dict[Path_, int]]:
    """The data of an uploaded YAML (or JSON) file and a map from each path in it to
    its line number; Invalid naming the line for anything ``safe_load`` refuses."""
    name = Path(path).name
    source = text if text is not None else Path(path).read_text("utf-8")
    data, node = load_yaml(name, source, limits)
    return data, _line_map(node)


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
