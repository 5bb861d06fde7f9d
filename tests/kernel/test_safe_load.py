"""Uploaded YAML and JSON are parsed within bounds; hostile files are refused, fast,
naming the file and the line (or the path of the bad value)."""

from __future__ import annotations

import time

import pytest

from ombud.kernel.errors import Invalid
from ombud.kernel.safe_load import (
    Limits,
    json_shape_problem,
    load_json,
    load_yaml,
    text_problem,
    whole_number,
)
from ombud.kernel.yaml_schema import read_mapping_lines

# 369 bytes: nine levels of nine aliases, a billion "lol"s once expanded.
BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _refusal(call, *args) -> str:
    started = time.perf_counter()
    with pytest.raises(Invalid) as caught:
        call(*args)
    assert time.perf_counter() - started < 2, "a refusal must not do the work first"
    return caught.value.message


def test_billion_laughs_is_refused_before_anything_is_expanded():
    # The answers-file reader the server and the CLI use (bootstrap: read_answers).
    message = _refusal(read_mapping_lines, "answers.yaml", BILLION_LAUGHS)
    assert message.startswith("answers.yaml:1:")
    assert "anchor" in message


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("q: ok\nr: *undefined\n", 2, "alias"),
        ("q: &x 1\n", 1, "anchor"),
        ("q: 1\n---\nq: 2\n", 2, "more than one YAML document"),
        ('q: "bell\\a"\n', 1, "control character (U+0007)"),
        ('q: ok\nr: "nul\\0"\n', 2, "NUL"),
        ("q: [unclosed\n", 2, "not valid YAML"),
    ],
)
def test_yaml_refusals_name_the_line(source, line, words):
    message = _refusal(load_yaml, "a.yaml", source)
    assert message.startswith(f"a.yaml:{line}:"), message
    assert words in message


def test_yaml_values_json_cannot_hold_are_refused_naming_the_path():
    assert "q" in _refusal(load_yaml, "a.yaml", "q: .nan\n")
    assert "bytes" in _refusal(load_yaml, "a.yaml", "p:\n  q: !!binary aGVsbG8=\n")
    assert "too many digits" in _refusal(load_yaml, "a.yaml", "q: " + "9" * 5000 + "\n")


def test_yaml_depth_nodes_and_size_are_capped():
    assert "levels deep" in _refusal(load_yaml, "a.yaml", "q: " + "[" * 100 + "]" * 100)
    many = "".join(f"q{i}: {i}\n" for i in range(50))
    assert "more than 20 values" in _refusal(load_yaml, "a.yaml", many, Limits(max_nodes=20))
    assert "larger than 100 bytes" in _refusal(load_yaml, "a.yaml", many, Limits(max_bytes=100))


def test_a_plain_answers_file_still_loads_with_its_lines():
    data, lines = read_mapping_lines(
        "a.yaml", "use_description: Ranking\nbiometrics: 'no'\ntable:\n  - {a: 1}\n"
    )
    assert data == {"use_description": "Ranking", "biometrics": "no", "table": [{"a": 1}]}
    assert lines == {"use_description": 1, "biometrics": 2, "table": 3}


def test_fifty_thousand_nested_brackets_are_refused_without_recursion():
    deep = "[" * 50_000 + "]" * 50_000
    assert "64 levels deep" in _refusal(load_json, "deep.json", deep)
    assert "64 levels deep" in _refusal(load_json, "deep.json", "[" * 50_000)
    assert "levels deep" in _refusal(load_yaml, "deep.json", deep)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ('{"a": [[[1]]], "b": "[[[[[[[[[[[[[[[[[["}', None),  # brackets in strings do not count
        ('{"a": "\\"[[[[[[[["}', None),  # nor after an escaped quote
        ("[" * 64 + "]" * 64, None),
        ("[" * 65 + "]" * 65, "levels deep"),
        ("[" + "[1]," * 10 + "[" * 70 + "]" * 70 + "]", "levels deep"),
        ("[" + "1," * 300_000 + "1]", "values"),
    ],
)
def test_json_shape(document, expected):
    problem = json_shape_problem(document)
    assert (problem is None) if expected is None else (expected in (problem or ""))


def test_json_refusals_say_what_and_where():
    assert _refusal(load_json, "in.json", '{\n "a": 1,\n}').startswith(
        "in.json is not valid JSON: Expecting property name"
    )
    assert "(line 3" in _refusal(load_json, "in.json", '{\n "a": 1,\n}')
    assert "[0].title: Contains a NUL" in _refusal(load_json, "in.json", '[{"title": "a\\u0000"}]')
    assert "out of range" in _refusal(load_json, "in.json", "[1e400]")
    assert "NaN" in _refusal(load_json, "in.json", "[NaN]")
    assert "too many digits" in _refusal(load_json, "in.json", "[" + "9" * 5000 + "]")
    assert "not UTF-8" in _refusal(load_json, "in.json", b'["\xff"]')


def test_the_text_rule_keeps_tabs_and_line_breaks():
    assert text_problem("two\tcolumns\r\nand lines\n") is None
    assert text_problem("émigré, 日本語, ²") is None
    assert "NUL" in (text_problem("a\x00b") or "")
    assert "U+001B" in (text_problem("\x1b[31m") or "")
    assert "surrogate" in (text_problem("\ud800") or "")


@pytest.mark.parametrize(
    ("raw", "value"),
    [("42", 42), ("0", 0), ("²", None), ("١٢", None), ("-1", None), ("", None),
     ("9223372036854775807", 2**63 - 1), ("9223372036854775808", None), ("9" * 40, None)],
)  # fmt: skip
def test_whole_numbers_are_ascii_and_fit_an_id(raw, value):
    assert whole_number(raw) == value
