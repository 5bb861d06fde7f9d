"""--filter: a SQL condition over columns, checked before any row is read.

The condition is parsed by DuckDB's own parser (as the WHERE clause of
``SELECT * FROM rows WHERE (...)``) and its syntax tree is walked against an
allow-list: column references, constants, comparisons, AND/OR/NOT, IN,
BETWEEN, IS NULL, LIKE, CASE, casts, arithmetic and a few pure scalar
functions. Subqueries, table functions, other statements and anything that
could touch files, settings or the network are refused. The condition must
be boolean. Rows are then kept batch by batch where DuckDB evaluates it to
true (NULL counts as false, as in SQL).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from ombud.kernel.errors import Invalid

ALLOWED_CLASSES = {
    "COLUMN_REF",
    "CONSTANT",
    "COMPARISON",
    "CONJUNCTION",
    "OPERATOR",
    "BETWEEN",
    "CAST",
    "CASE",
    "FUNCTION",
}
ALLOWED_OPERATORS = {
    "OPERATOR_NOT",
    "COMPARE_IN",
    "COMPARE_NOT_IN",
    "OPERATOR_IS_NULL",
    "OPERATOR_IS_NOT_NULL",
    "OPERATOR_COALESCE",
}
ALLOWED_FUNCTIONS = {
    # arithmetic and LIKE/ILIKE, as the parser names them
    "+", "-", "*", "/", "//", "%", "~~", "!~~", "~~*", "!~~*", "||",
    "abs", "round", "floor", "ceil", "ceiling", "sign", "least", "greatest", "nullif",
    "ifnull", "lower", "upper", "lcase", "ucase", "length", "strlen", "trim", "ltrim", "rtrim",
    "substr", "substring", "left", "right", "starts_with", "ends_with", "contains", "prefix",
    "suffix", "concat", "replace", "regexp_matches", "isnan", "isfinite", "year", "month",
    "day", "dayofweek", "hour", "date_part", "date_trunc", "datepart", "datetrunc",
}  # fmt: skip
VIEW = "audit_rows"


class RowFilter:
    """A validated condition; ``mask(batch)`` says which rows of a record batch to keep."""

    def __init__(self, expression: str, columns: list[str], schema: pa.Schema) -> None:
        import duckdb

        self.expression = expression
        self.columns = columns  # the columns the condition reads
        self._con = duckdb.connect()
        self._con.execute("SET threads = 1")  # one batch at a time; the scan has the cores
        # The expression passed parse_filter's allow-list: a condition over columns only.
        self._query = f"SELECT ({expression}) AS keep FROM {VIEW}"  # noqa: S608
        empty = schema.empty_table().select(columns) if columns else pa.table({"_": [1]})
        kind = self._describe(empty)
        if kind != "BOOLEAN":
            raise Invalid(
                f"--filter must be a condition (true or false), not {kind}: {expression!r}."
            )

    def _describe(self, table: pa.Table) -> str:
        self._con.register(VIEW, table)
        try:
            rows = self._con.execute(f"DESCRIBE {self._query}").fetchall()
        except Exception as exc:  # duckdb.Error: binder and type errors
            raise Invalid(f"--filter {self.expression!r}: {_first_line(exc)}") from None
        finally:
            self._con.unregister(VIEW)
        return str(rows[0][1])

    def close(self) -> None:
        self._con.close()

    def mask(self, batch: pa.RecordBatch) -> pa.Array:
        self._con.register(VIEW, batch.select(self.columns) if self.columns else batch)
        try:
            result = self._con.sql(self._query).to_arrow_table()
        except Exception as exc:  # a value that does not convert, e.g. '12a'::INTEGER
            raise Invalid(f"--filter {self.expression!r}: {_first_line(exc)}") from None
        finally:
            self._con.unregister(VIEW)
        return result.column(0).combine_chunks()


def parse_filter(expression: str, schema: pa.Schema) -> RowFilter:
    """Check ``expression`` and name what is wrong with it; Invalid on any problem."""
    import duckdb

    text = expression.strip()
    if not text:
        raise Invalid("--filter is empty.")
    prefix = f"SELECT * FROM {VIEW} WHERE ("  # noqa: S608  (parsed, never run)
    con = duckdb.connect()
    try:
        raw = con.execute("SELECT json_serialize_sql(?)", [f"{prefix}{text}\n)"]).fetchone()
    finally:
        con.close()
    tree: dict[str, Any] = json.loads(raw[0]) if raw else {"error": True}
    if tree.get("error"):
        reason = str(tree.get("error_message", "not a SQL condition")).splitlines()[0]
        where = int(tree.get("position", -1)) - len(prefix)
        if reason.startswith("syntax error") and where >= len(text):
            reason = "syntax error at the end"
        elif reason.startswith("syntax error") and where >= 0:
            reason = f"syntax error at character {where + 1} ({text[where : where + 12]!r})"
        raise Invalid(f"--filter {expression!r} is not a valid SQL condition: {reason}.")
    statements = tree.get("statements", [])
    node = statements[0].get("node", {}) if len(statements) == 1 else {}
    if (
        node.get("type") != "SELECT_NODE"
        or node.get("group_expressions")
        or node.get("having")
        or node.get("qualify")
        or node.get("modifiers")
        or node.get("cte_map", {}).get("map")
        or node.get("from_table", {}).get("table_name") != VIEW
    ):
        raise Invalid(f"--filter {expression!r} must be one condition, like age >= 18.")
    columns: list[str] = []
    for problem in _walk(node.get("where_clause"), columns):
        raise Invalid(f"--filter {expression!r}: {problem} is not allowed in a filter.")
    unknown = [c for c in columns if c not in schema.names]
    if unknown:
        raise Invalid(f"Unknown column '{unknown[0]}' in --filter {expression!r}.")
    return RowFilter(text, list(dict.fromkeys(columns)), schema)


def _walk(node: Any, columns: list[str]) -> Iterator[str]:
    """Yield what is not on the allow-list; collect the column names referenced."""
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, columns)
        return
    if not isinstance(node, dict):
        return
    cls = node.get("class")
    if cls is not None:
        if cls not in ALLOWED_CLASSES:
            yield str(cls).lower().replace("_", " ")
            return
        if cls == "COLUMN_REF":
            names = node.get("column_names", [])
            if len(names) != 1:
                yield f"the qualified name {'.'.join(names)}"
            else:
                columns.append(names[0])
            return
        if cls == "OPERATOR" and node.get("type") not in ALLOWED_OPERATORS:
            yield f"the operator {node.get('type')}"
            return
        if cls == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if name not in ALLOWED_FUNCTIONS or node.get("schema") or node.get("catalog"):
                yield f"the function {name}()"
                return
            if (
                node.get("filter")
                or node.get("distinct")
                or node.get("order_bys", {}).get("orders")
            ):
                yield "an aggregate"
                return
    for key, value in node.items():
        if key in ("class", "type", "alias", "query_location", "query_location_length"):
            continue
        if key == "type_expr" or key == "cast_type":
            continue  # the target type of a CAST
        yield from _walk(value, columns)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
