"""The `$filter` subset the Sage 300 Web API documents, parsed and evaluated against entry dicts.

Why a real parser: the hub's idempotency check (`OrderReference eq 'X'`) and its polling filters must
behave like OData, including precedence (`and` binds tighter than `or`), parentheses, `''` escapes
and typed literals, so the simulator can catch a client that builds filters by naive concatenation.

Supported: `eq ne gt lt le ge and or not`, parentheses, `startswith(F,'x')`, `endswith(F,'x')`,
`substringof('x',F)`, `length(F)`, `tolower(F)`, `toupper(F)`; literals `'text'` (`''` = quote),
integers, decimals (`99.99m` or `99.99`), `datetime'2015-12-31T12:00'`, `true`, `false`, `null`.
Entry values are compared as Python values; ISO date-time strings in entries compare with
`datetime'...'` literals as UTC instants. Anything else raises `ODataError`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable


class ODataError(ValueError):
    """Bad `$filter` syntax, unknown property or incomparable operands (-> 400 InvalidParameters)."""


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Prop:
    name: str


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Not:
    operand: Any


COMPARISONS = {"eq", "ne", "gt", "lt", "le", "ge"}
FUNCTIONS = {"startswith": 2, "endswith": 2, "substringof": 2, "length": 1, "tolower": 1, "toupper": 1}

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<datetime>datetime'(?P<dt>[^']*)')
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?[mMdD]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),])
""", re.VERBOSE)


def tokenize(text: str) -> list[tuple[str, Any]]:
    """(kind, value) tokens; kinds: lit, name, punct."""
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ODataError(f"unexpected character {text[pos]!r} at position {pos} in $filter")
        pos = m.end()
        if m.group("ws"):
            continue
        if m.group("datetime") is not None:
            tokens.append(("lit", parse_datetime(m.group("dt"))))
        elif m.group("string") is not None:
            tokens.append(("lit", m.group("string")[1:-1].replace("''", "'")))
        elif m.group("number") is not None:
            tokens.append(("lit", _number(m.group("number"))))
        elif m.group("name") is not None:
            tokens.append(("name", m.group("name")))
        else:
            tokens.append(("punct", m.group("punct")))
    return tokens


def _number(text: str) -> int | Decimal:
    if text[-1] in "mMdD":
        return Decimal(text[:-1])
    return Decimal(text) if "." in text else int(text)


def parse_datetime(text: str) -> datetime:
    """ISO date or date-time (naive = UTC) -> aware datetime."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ODataError(f"invalid datetime literal {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class _Parser:
    """Recursive descent: or_expr > and_expr > not_expr > comparison > primary."""

    def __init__(self, tokens: list[tuple[str, Any]], properties: set[str] | None) -> None:
        self.tokens = tokens
        self.pos = 0
        self.properties = properties

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise ODataError("unexpected end of $filter")
        self.pos += 1
        return tok

    def accept_word(self, *words: str) -> str | None:
        tok = self.peek()
        if tok and tok[0] == "name" and tok[1].lower() in words:
            self.pos += 1
            return tok[1].lower()
        return None

    def expect_punct(self, char: str) -> None:
        tok = self.next()
        if tok != ("punct", char):
            raise ODataError(f"expected {char!r} in $filter, got {tok[1]!r}")

    def parse(self) -> Any:
        node = self.or_expr()
        if self.peek() is not None:
            raise ODataError(f"unexpected {self.peek()[1]!r} in $filter")
        return node

    def or_expr(self) -> Any:
        node = self.and_expr()
        while self.accept_word("or"):
            node = BinOp("or", node, self.and_expr())
        return node

    def and_expr(self) -> Any:
        node = self.not_expr()
        while self.accept_word("and"):
            node = BinOp("and", node, self.not_expr())
        return node

    def not_expr(self) -> Any:
        if self.accept_word("not"):
            return Not(self.not_expr())
        return self.comparison()

    def comparison(self) -> Any:
        left = self.primary()
        op = self.accept_word(*COMPARISONS)
        if op is None:
            return left
        return BinOp(op, left, self.primary())

    def primary(self) -> Any:
        kind, value = self.next()
        if kind == "lit":
            return Literal(value)
        if kind == "punct":
            if value != "(":
                raise ODataError(f"unexpected {value!r} in $filter")
            node = self.or_expr()
            self.expect_punct(")")
            return node
        word = value.lower()
        if word in ("true", "false"):
            return Literal(word == "true")
        if word == "null":
            return Literal(None)
        if self.peek() == ("punct", "("):
            return self.call(word)
        if self.properties is not None and value not in self.properties:
            raise ODataError(f"unknown property {value!r} in $filter")
        return Prop(value)

    def call(self, func: str) -> Call:
        if func not in FUNCTIONS:
            raise ODataError(f"unsupported function {func!r} in $filter")
        self.expect_punct("(")
        args = [self.or_expr()]
        while self.peek() == ("punct", ","):
            self.pos += 1
            args.append(self.or_expr())
        self.expect_punct(")")
        if len(args) != FUNCTIONS[func]:
            raise ODataError(f"{func} takes {FUNCTIONS[func]} argument(s)")
        return Call(func, tuple(args))


def parse_filter(text: str, properties: Iterable[str] | None = None) -> Any:
    """Parse a `$filter` expression to an AST; `properties` (when given) are the only valid names."""
    if not text or not text.strip():
        raise ODataError("empty $filter")
    props = set(properties) if properties is not None else None
    return _Parser(tokenize(text), props).parse()


def compile_filter(text: str, properties: Iterable[str] | None = None) -> Callable[[dict], bool]:
    """Parse once, then return a predicate for entry dicts."""
    node = parse_filter(text, properties)
    return lambda entry: evaluate(node, entry) is True


def evaluate(node: Any, entry: dict) -> Any:
    """Value of an AST node for one entry (comparisons and logic give bools)."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Prop):
        if node.name not in entry:
            raise ODataError(f"unknown property {node.name!r} in $filter")
        return entry[node.name]
    if isinstance(node, Not):
        return not _as_bool(evaluate(node.operand, entry))
    if isinstance(node, Call):
        return _call(node.func, [evaluate(a, entry) for a in node.args])
    if node.op == "and":
        return _as_bool(evaluate(node.left, entry)) and _as_bool(evaluate(node.right, entry))
    if node.op == "or":
        return _as_bool(evaluate(node.left, entry)) or _as_bool(evaluate(node.right, entry))
    return compare(node.op, evaluate(node.left, entry), evaluate(node.right, entry))


def _as_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ODataError(f"expected a boolean expression, got {value!r}")
    return value


def _call(func: str, args: list[Any]) -> Any:
    if func == "substringof":  # OData v2 argument order: substringof('needle', Field)
        needle, hay = _strings(func, args)
        return needle in hay
    if func in ("startswith", "endswith"):
        hay, needle = _strings(func, args)
        return hay.startswith(needle) if func == "startswith" else hay.endswith(needle)
    (text,) = _strings(func, args)
    return {"length": len, "tolower": str.lower, "toupper": str.upper}[func](text)


def _strings(func: str, args: list[Any]) -> list[str]:
    if not all(isinstance(a, str) for a in args):
        raise ODataError(f"{func} needs text arguments")
    return args


def compare(op: str, left: Any, right: Any) -> bool:
    """OData comparison with type checks; null only equals null."""
    if left is None or right is None:
        if op in ("eq", "ne"):
            return (left is None and right is None) == (op == "eq")
        return False
    left, right = _coerce(left, right)
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    try:
        return {"gt": left > right, "lt": left < right, "ge": left >= right, "le": left <= right}[op]
    except TypeError:
        raise ODataError(f"cannot compare {left!r} with {right!r}") from None


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    """Make both operands the same kind, or raise: dates with date-time strings, numbers together."""
    if isinstance(left, datetime) or isinstance(right, datetime):
        return _to_datetime(left), _to_datetime(right)
    kinds = {_kind(left), _kind(right)}
    if len(kinds) != 1:
        raise ODataError(f"cannot compare {left!r} with {right!r}")
    return left, right


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, Decimal)):
        return "number"
    if isinstance(value, str):
        return "text"
    raise ODataError(f"unsupported value {value!r} in $filter")


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return parse_datetime(value)
    raise ODataError(f"cannot compare {value!r} with a datetime")


def equality_terms(node: Any) -> dict[str, Any]:
    """`Prop eq 'text'` terms that must all hold (top-level `and` chain), for pushing a cheap
    pre-filter into SQL. The full predicate is still evaluated afterwards."""
    if isinstance(node, BinOp) and node.op == "and":
        return {**equality_terms(node.left), **equality_terms(node.right)}
    if isinstance(node, BinOp) and node.op == "eq":
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(a, Prop) and isinstance(b, Literal) and isinstance(b.value, str):
                return {a.name: b.value}
    return {}


def text_alternatives(node: Any) -> dict[str, list[str]]:
    """Properties that must equal one of some string literals: a top-level `and` chain of `Prop eq
    'text'` terms or of `or`s of them on one property (`Email eq 'a' or Email eq 'b'`), for a
    superset pre-filter in SQL. The full predicate is still evaluated afterwards."""
    if isinstance(node, BinOp) and node.op == "and":
        return {**text_alternatives(node.left), **text_alternatives(node.right)}
    if isinstance(node, BinOp) and node.op == "or":
        left, right = text_alternatives(node.left), text_alternatives(node.right)
        if len(left) == 1 and left.keys() == right.keys():
            name = next(iter(left))
            return {name: left[name] + right[name]}
        return {}
    return {k: [v] for k, v in equality_terms(node).items()}
