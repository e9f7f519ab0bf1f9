"""The readByQuery query language (intacct.md §4 "Reading changes"; contract §1).

`FIELD op literal` joined by AND / OR (AND binds tighter), NOT, parentheses; ops = != <> < > <= >=,
[NOT] LIKE 'a%' (`%` any run, `_` one character), [NOT] IN ('a', 'b'), IS [NOT] NULL. Literals are
single-quoted (`''` is a quote) or bare numbers. A datetime field compares as a datetime (literal
`mm/dd/yyyy HH:MM:SS` or `mm/dd/yyyy` in the company zone), a date field as a date, a number
field as a decimal, anything else as case-sensitive text (Intacct's collation is not confirmed;
exact case is the strict side). An empty query matches everything. Anything else -> QueryError,
which the function turns into errorno `Query Failed` (seen in the wild, intacct.md §2).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from .objects import ObjectSchema
from .values import CompanyClock, parse_date, parse_decimal

Predicate = Callable[[dict[str, Any]], bool]

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<op><=|>=|<>|!=|=|<|>)"
                   r"|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))")
KEYWORDS = {"AND", "OR", "NOT", "LIKE", "IN", "IS", "NULL"}


class QueryError(ValueError):
    pass


def tokenize(q: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(q):
        if q[pos:].strip() == "":
            break
        m = TOKEN.match(q, pos)
        if not m or m.end() == pos:
            raise QueryError(f"cannot read the query at {q[pos:pos + 20]!r}")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1].replace("''", "'")
        elif kind == "word" and value.upper() in KEYWORDS:
            kind, value = "kw", value.upper()
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens, schema: ObjectSchema, clock: CompanyClock) -> None:
        self.t, self.i, self.schema, self.clock = tokens, 0, schema, clock

    def peek(self, kind: str | None = None, value: str | None = None) -> bool:
        if self.i >= len(self.t):
            return False
        k, v = self.t[self.i]
        return (kind is None or k == kind) and (value is None or v == value)

    def take(self, kind: str, value: str | None = None) -> str:
        if not self.peek(kind, value):
            got = self.t[self.i][1] if self.i < len(self.t) else "end of query"
            raise QueryError(f"expected {value or kind}, got {got!r}")
        self.i += 1
        return self.t[self.i - 1][1]

    def parse(self) -> Predicate:
        pred = self.expr()
        if self.i != len(self.t):
            raise QueryError(f"unexpected {self.t[self.i][1]!r}")
        return pred

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.peek("kw", "OR"):
            self.i += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda r, ps=parts: any(p(r) for p in ps))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.peek("kw", "AND"):
            self.i += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda r, ps=parts: all(p(r) for p in ps))

    def factor(self) -> Predicate:
        if self.peek("kw", "NOT"):
            self.i += 1
            inner = self.factor()
            return lambda r: not inner(r)
        if self.peek("punct", "("):
            self.i += 1
            inner = self.expr()
            self.take("punct", ")")
            return inner
        return self.comparison()

    def literal(self, kind: str) -> Any:
        if self.peek("str"):
            raw = self.take("str")
        elif self.peek("num"):
            raw = self.take("num")
        else:
            raise QueryError("expected a literal")
        try:
            if kind == "datetime":
                return self.clock.parse_dt(raw)
            if kind == "date":
                return parse_date(raw)
            if kind == "number":
                return parse_decimal(raw)
        except ValueError as e:
            raise QueryError(str(e)) from None
        return raw

    def comparison(self) -> Predicate:
        name = self.take("word")
        if self.schema.expand(name) != [name]:
            raise QueryError(f"unknown field {name}")
        kind = self.schema.kind(name)
        get = lambda r: _typed(r.get(name), kind)          # noqa: E731
        negate = False
        if self.peek("kw", "IS"):
            self.i += 1
            negate = bool(self.peek("kw", "NOT")) and bool(self.take("kw", "NOT"))
            self.take("kw", "NULL")
            return lambda r: (get(r) is None) != negate
        if self.peek("kw", "NOT"):
            self.i += 1
            negate = True
        if self.peek("kw", "LIKE"):
            self.i += 1
            pattern = _like(self.take("str"))
            return lambda r: (v := r.get(name)) is not None and bool(pattern.fullmatch(_text(v, self.clock))) != negate
        if self.peek("kw", "IN"):
            self.i += 1
            self.take("punct", "(")
            values = [self.literal(kind)]
            while self.peek("punct", ","):
                self.i += 1
                values.append(self.literal(kind))
            self.take("punct", ")")
            return lambda r: (v := get(r)) is not None and (v in values) != negate
        if negate:
            raise QueryError("NOT must be followed by LIKE or IN here")
        op = self.take("op")
        value = self.literal(kind)
        compare = _OPS[op]
        return lambda r: (v := get(r)) is not None and compare(v, value)


_OPS = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<>": lambda a, b: a != b,
        "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


def _typed(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind == "number" and not isinstance(value, Decimal):
        return Decimal(str(value))
    if kind in ("datetime", "date") and not isinstance(value, (datetime, date)):
        return None
    if kind == "text":
        return str(value)
    return value


def _text(value: Any, clock: CompanyClock) -> str:
    from .values import render
    return render(value, clock)


def _like(pattern: str) -> re.Pattern:
    out = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(out, re.DOTALL)


def compile_query(query: str, schema: ObjectSchema, clock: CompanyClock) -> Predicate:
    tokens = tokenize(query or "")
    if not tokens:
        return lambda r: True
    return _Parser(tokens, schema, clock).parse()
