"""A user's `--where` condition, checked and rebuilt from code before it reaches the database.

`--where` used to be pasted into the selection's SQL, so `1=1) ; DROP TABLE posts; --` dropped a
table and `read_text('/etc/passwd')` read any file. Now the text is parsed by DuckDB's own parser
(`json_serialize_sql`: the parser that would run it, so nothing can parse one way here and another
way there; it only parses, never executes), and the tree must be exactly one condition built from
an allow-list: the columns of `question_labels l` / `question_text t`, constants, comparisons,
AND/OR/NOT, IS NULL, IN (values), BETWEEN, LIKE/ILIKE/GLOB, arithmetic, casts to plain types and
the functions in FUNCTIONS. Anything else (a sub-select, a table or file function, `getvariable`,
a second statement) is refused, naming what is not allowed.

The SQL that runs is then rendered from the checked tree, never copied from the text: column
names from the allow-list, operators and function names from the tables below, and every
constant a bound `?` parameter. Last, DuckDB binds it against empty tables of the same columns in
a private in-memory database, so type errors are reported here and the condition must be
true/false.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import duckdb

from pipeline.core.db import sandbox
from pipeline.core.errors import StackmineError
from pipeline.core.sql import SqlFile

SQL = SqlFile("pipeline.core", "sqlguard.sql")

# Pure functions over one row's values: text, lists (list_value is a ['a', 'b'] literal), dates,
# JSON (for l.evidence), regexes (RE2: linear time). Nothing that reads files, the catalog, settings or variables, or aggregates rows.
FUNCTIONS = frozenset({
    "lower", "upper", "length", "len", "strlen", "trim", "contains", "starts_with", "ends_with", "prefix", "suffix",
    "regexp_matches", "regexp_full_match", "list_contains", "list_has", "array_contains", "list_has_any",
    "list_has_all", "array_length", "list_value", "year", "month", "quarter", "json_extract_string", "json_exists",
})
# Operators DuckDB's parser turns into functions, and how to write them back.
INFIX = {"~~": "LIKE", "!~~": "NOT LIKE", "~~*": "ILIKE", "!~~*": "NOT ILIKE", "~~~": "GLOB",
         "+": "+", "-": "-", "*": "*", "/": "/", "//": "//", "%": "%", "||": "||", "->>": "->>", "->": "->"}
COMPARISONS = {"COMPARE_EQUAL": "=", "COMPARE_NOTEQUAL": "<>", "COMPARE_LESSTHAN": "<", "COMPARE_GREATERTHAN": ">",
               "COMPARE_LESSTHANOREQUALTO": "<=", "COMPARE_GREATERTHANOREQUALTO": ">=",
               "COMPARE_DISTINCT_FROM": "IS DISTINCT FROM", "COMPARE_NOT_DISTINCT_FROM": "IS NOT DISTINCT FROM"}
CASTS = frozenset({"VARCHAR", "INTEGER", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "BOOLEAN"})
# A constant's parsed kind → the type its `?` parameter is cast to, and how Python reads its text.
CONSTANTS = {"INTEGER": ("BIGINT", int), "NUMERIC": ("DOUBLE", float), "STRING": ("VARCHAR", str),
             "BOOLEAN": ("BOOLEAN", lambda text: text == "true")}
# What the user wrote, in words, for the node classes that are refused.
REFUSED = {"SUBQUERY": "a sub-select (SELECT ...)", "STAR": "*", "PARAMETER": "a ? or $ parameter",
           "WINDOW": "a window function", "LAMBDA": "a lambda (x -> ...)", "CASE": "CASE",
           "COLLATE": "COLLATE", "FUNCTION": "a function", "CONSTANT": "a constant of this kind"}


class WhereRefused(StackmineError):
    """A `--where` condition is not one allowed condition; says what is not allowed."""

    def __init__(self, text: str, problem: str) -> None:
        self.text, self.problem = text, problem
        super().__init__(
            f"--where {text!r} refused: {problem}.\n  A --where is one true/false condition over the columns of "
            "question_labels l / question_text t, with comparisons, AND/OR/NOT, IS NULL, IN (...), BETWEEN, LIKE "
            "and a few functions, e.g. \"l.stage2 IS NULL AND year(t.creation_date) >= 2020\"; "
            "`stackmine topics --help` lists the columns and functions.\n  Nothing was run.")

    def __reduce__(self):
        return (type(self), (self.text, self.problem))  # survives pickling (Dask, Prefect results)


@dataclass(frozen=True)
class Condition:
    """A checked condition: SQL rendered from code, and the values of its `?` parameters, in order."""

    sql: str
    params: tuple


@functools.cache
def columns() -> dict[str, tuple[str, ...]]:
    """{alias: column names} a condition may use: `l` (question_labels) and `t` (question_text)."""
    con = _scratch()
    try:
        rows = con.execute(SQL("columns")).fetchall()
    finally:
        con.close()
    alias = {"question_labels": "l", "question_text": "t"}
    return {a: tuple(c for table, c in rows if alias[table] == a) for a in ("l", "t")}


@functools.cache
def condition(text: str) -> Condition:
    """Check `text` and return it rendered from code; raise `WhereRefused` naming what is not allowed."""
    _refuse_semicolons(text)
    tree = _parse(text)
    params: list = []
    sql = _Renderer(text, params).render(tree)
    _bind(text, sql, params)
    return Condition(sql, tuple(params))


def _scratch() -> duckdb.DuckDBPyConnection:
    """A private in-memory database holding only the empty allow-listed tables, with no file access."""
    con = duckdb.connect(":memory:")
    for statement in SQL.statements("tables"):
        con.execute(statement)
    sandbox(con)
    return con


def _refuse_semicolons(text: str) -> None:
    for position, kind in duckdb.tokenize(text):
        if kind == duckdb.token_type.operator and text[position] == ";":
            raise WhereRefused(text, "it contains `;` (a second statement)")


def _parse(text: str) -> dict:
    """The WHERE clause of `probe <text>`, after checking the rest is exactly `probe TRUE`."""
    con = duckdb.connect(":memory:")
    try:
        parsed, reference = (json.loads(con.execute(SQL("parse"), [f"{SQL('probe')} {t}"]).fetchone()[0])
                             for t in (text, "TRUE"))
    finally:
        con.close()
    if parsed.get("error"):
        raise WhereRefused(text, f"DuckDB cannot parse it ({parsed.get('error_message', 'syntax error')})")
    if len(parsed["statements"]) != 1:
        raise WhereRefused(text, "it is more than one statement")
    node = parsed["statements"][0]["node"]
    if _without_where(node) != _without_where(reference["statements"][0]["node"]):
        raise WhereRefused(text, "it adds clauses after the condition (ORDER BY, UNION, WINDOW, ...)")
    return node["where_clause"]


def _without_where(node: dict) -> object:
    """The statement without its WHERE clause and without source positions, for comparison."""
    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not k.startswith("query_location")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip({k: v for k, v in node.items() if k != "where_clause"})


def _bind(text: str, sql: str, params: list) -> None:
    """Let DuckDB bind the rendered condition on the empty tables: types must fit, result BOOLEAN."""
    con = _scratch()
    try:
        kind = str(con.execute(SQL("bind").format(condition=sql), params).description[0][1])
    except duckdb.Error as exc:
        raise WhereRefused(text, f"DuckDB cannot use it ({str(exc).splitlines()[0]})") from None
    finally:
        con.close()
    if kind.upper() != "BOOLEAN":
        raise WhereRefused(text, f"it is not a condition: it gives {kind}, not true/false")


class _Renderer:
    """Walks a parsed condition, refusing every node not allowed, and writes it back as SQL.

    Only strings from this module's tables and the allow-listed column names reach the output;
    constants go to `params` and appear as `CAST(? AS type)`.
    """

    def __init__(self, text: str, params: list) -> None:
        self.text = text
        self.params = params

    def refuse(self, problem: str) -> WhereRefused:
        return WhereRefused(self.text, problem)

    def render(self, node: dict) -> str:
        kind = node.get("class")
        method = getattr(self, f"_{str(kind).lower()}", None)
        if method is None:
            raise self.refuse(f"{REFUSED.get(kind, kind)} is not allowed")
        return method(node)

    def _all(self, nodes: list[dict]) -> list[str]:
        return [self.render(n) for n in nodes]

    def _column_ref(self, node: dict) -> str:
        names = [n.lower() for n in node["column_names"]]
        allowed = columns()
        if len(names) == 2 and names[0] in allowed and names[1] in allowed[names[0]]:
            return f"{names[0]}.{names[1]}"
        if len(names) == 1:
            for alias, cols in allowed.items():  # l first: site, post_id and dump_id are the same in both
                if names[0] in cols:
                    return f"{alias}.{names[0]}"
        raise self.refuse(f"the column {'.'.join(node['column_names'])} is not one of the allowed columns")

    def _constant(self, node: dict) -> str:
        literal = node["literal"]
        if literal["kind"] == "NULL_LITERAL":
            return "NULL"
        if literal["kind"] not in CONSTANTS:
            raise self.refuse(f"a constant of type {literal['kind']} is not allowed")
        sql_type, read = CONSTANTS[literal["kind"]]
        value = read(literal["text"])
        if sql_type == "BIGINT" and not -(2 ** 63) <= value < 2 ** 63:
            raise self.refuse(f"the number {literal['text']} is too large")
        self.params.append(value)
        return f"CAST(? AS {sql_type})"

    def _comparison(self, node: dict) -> str:
        op = COMPARISONS.get(node["type"])
        if op is None:
            raise self.refuse(f"the comparison {node['type']} is not allowed")
        return f"({self.render(node['left'])} {op} {self.render(node['right'])})"

    def _conjunction(self, node: dict) -> str:
        op = {"CONJUNCTION_AND": " AND ", "CONJUNCTION_OR": " OR "}[node["type"]]
        return "(" + op.join(self._all(node["children"])) + ")"

    def _between(self, node: dict) -> str:
        return f"({self.render(node['input'])} BETWEEN {self.render(node['lower'])} AND {self.render(node['upper'])})"

    def _operator(self, node: dict) -> str:
        kind, args = node["type"], self._all(node["children"])
        if kind == "OPERATOR_NOT" and len(args) == 1:
            return f"(NOT {args[0]})"
        if kind in ("OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL") and len(args) == 1:
            return f"({args[0]} IS {'NOT ' if kind.endswith('NOT_NULL') else ''}NULL)"
        if kind in ("COMPARE_IN", "COMPARE_NOT_IN") and len(args) >= 2:
            return f"({args[0]} {'NOT ' if kind == 'COMPARE_NOT_IN' else ''}IN ({', '.join(args[1:])}))"
        if kind == "ARRAY_EXTRACT" and len(args) == 2:
            return f"({args[0]})[{args[1]}]"
        if kind == "OPERATOR_COALESCE":
            return f"COALESCE({', '.join(args)})"
        raise self.refuse(f"the operator {kind} is not allowed")

    def _cast(self, node: dict) -> str:
        target = node["type_expr"]
        name = str(target.get("type_name", "")).upper()
        if target.get("class") != "TYPE" or name not in CASTS or target.get("children") or target.get("schema"):
            raise self.refuse(f"a cast to {name or 'this type'} is not allowed (casts: {', '.join(sorted(CASTS))})")
        return f"{'TRY_CAST' if node.get('try_cast') else 'CAST'}({self.render(node['child'])} AS {name})"

    def _function(self, node: dict) -> str:
        name = node["function_name"].lower()
        plain = (not node.get("schema") and not node.get("catalog") and node.get("filter") is None
                 and not node.get("distinct") and not node.get("export_state")
                 and not node.get("order_bys", {}).get("orders") and all(not a.get("name") for a in node["arguments"]))
        if name not in FUNCTIONS and name not in INFIX:
            raise self.refuse(f"the function {node['function_name']}() is not allowed")
        if not plain:
            raise self.refuse(f"{node['function_name']}() with a schema, FILTER, DISTINCT, ORDER BY or named "
                              "arguments is not allowed")
        args = self._all([a["expression"] for a in node["arguments"]])
        if name in INFIX and len(args) == 2:
            return f"({args[0]} {INFIX[name]} {args[1]})"
        if name == "-" and len(args) == 1:
            return f"(- {args[0]})"
        if name in INFIX:
            raise self.refuse(f"the operator {name} with {len(args)} operands is not allowed")
        return f"{name}({', '.join(args)})"
