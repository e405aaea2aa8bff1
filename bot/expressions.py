"""Conditions staff write in YAML, such as `age >= 18 and fpl_pct_2025 <= 200`.

A condition is parsed once with Python's own parser, checked against an allow-list of syntax
(no attributes, no subscripts, no imports, only the functions below), and compiled into a tree
of small Python functions. Staff files can therefore never run code.

Values follow two rules, so that a condition never fails on a resident who skipped something:
- None means "asked and not given" (SKIP, or a question that did not apply). A comparison
  with None is false, arithmetic with None gives None: `age <= 24` is false when the age is
  not known, and so is `monthly_income - 450 <= 963`.
- UNKNOWN means "not asked yet". It is the third value of Kleene's logic: `UNKNOWN and false`
  is false, `UNKNOWN or true` is true, and anything else that reads UNKNOWN is UNKNOWN. The
  engine evaluates every program's rule over the answers so far, with the questions still
  ahead as UNKNOWN, to skip questions whose answer cannot change the results (bot/relevance.py).
  The same compiled functions do both, so skipping can never disagree with the final match:
  a condition that is true (or false) with UNKNOWN inputs is true (or false) for every value
  those inputs could take, None included.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ExpressionError(ValueError):
    """An expression that does not parse or uses something the language does not allow."""


class _Unknown:
    """The value of an answer not asked yet (see the module docstring)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value: test it with `is UNKNOWN` first")


UNKNOWN: Any = _Unknown()

Values = Mapping[str, Any]
Compiled = Callable[[Values], Any]


def _between(value: Any, low: Any, high: Any) -> bool:
    if value is None:
        return False
    try:
        return bool(low <= value <= high)
    except TypeError:
        return False


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def extreme(*args: Any) -> Any:
        items = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
        if any(item is None for item in items):
            return None
        return pick(items)

    return extreme


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "known": lambda value: value is not None,
    "between": _between,
    "min": _extreme(min),
    "max": _extreme(max),
}

_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv,
               ast.Mod: operator.mod}
_CONSTANT_NAMES = {"true": True, "false": False, "null": None,
                   "True": True, "False": False, "None": None}


def _guarded(compare: Callable[[Any, Any], bool], *, ordering: bool) -> Callable[[Any, Any], Any]:
    """An ordering (`<`...) or membership (`in`) test: UNKNOWN stays UNKNOWN (an ordering
    with None is false), and values that cannot be compared are simply not in that order."""

    def pair(left: Any, right: Any) -> Any:
        if left is UNKNOWN or right is UNKNOWN or (
                isinstance(right, tuple) and any(item is UNKNOWN for item in right)):
            return UNKNOWN
        if ordering and (left is None or right is None):
            return False
        try:
            return compare(left, right)
        except TypeError:
            return False

    return pair


def _equality(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def pair(left: Any, right: Any) -> Any:
        return UNKNOWN if left is UNKNOWN or right is UNKNOWN else compare(left, right)

    return pair


# One comparison of two values: ordering with None is false, and UNKNOWN stays UNKNOWN.
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    **{op: _guarded(compare, ordering=True) for op, compare in (
        (ast.Gt, operator.gt), (ast.GtE, operator.ge), (ast.Lt, operator.lt),
        (ast.LtE, operator.le))},
    ast.Eq: _equality(operator.eq), ast.NotEq: _equality(operator.ne),
    ast.Is: _equality(operator.is_), ast.IsNot: _equality(operator.is_not),
    ast.In: _guarded(lambda a, b: a in b, ordering=False),
    ast.NotIn: _guarded(lambda a, b: a not in b, ordering=False),
}


def _connective(parts: list[Compiled], *, stops_at: bool) -> Compiled:
    """`and` (stops_at=False) or `or` (stops_at=True): the first operand whose truth is
    `stops_at`, else the last; UNKNOWN when the outcome depends on an UNKNOWN operand."""

    def run(values: Values) -> Any:
        unknown, last = False, not stops_at
        for part in parts:
            value = part(values)
            if value is UNKNOWN:
                unknown = True
            elif bool(value) is stops_at:
                return value
            else:
                last = value
        return UNKNOWN if unknown else last

    return run


def _compile(node: ast.AST) -> Compiled:
    if isinstance(node, ast.Expression):
        return _compile(node.body)
    if isinstance(node, ast.Constant):
        constant = node.value
        return lambda values: constant
    if isinstance(node, ast.Name):
        name = node.id
        if name in _CONSTANT_NAMES:
            constant = _CONSTANT_NAMES[name]
            return lambda values: constant
        return lambda values: values.get(name)
    if isinstance(node, ast.Tuple | ast.List):
        items = [_compile(item) for item in node.elts]
        return lambda values: tuple(item(values) for item in items)
    if isinstance(node, ast.BoolOp):
        parts = [_compile(value) for value in node.values]
        return _connective(parts, stops_at=isinstance(node.op, ast.Or))
    if isinstance(node, ast.UnaryOp):
        return _unary(node)
    if isinstance(node, ast.BinOp):
        return _binary(node)
    if isinstance(node, ast.Compare):
        return _comparison(node)
    if isinstance(node, ast.IfExp):
        return _if_else(node)
    if isinstance(node, ast.Call):
        return _call(node)
    raise ExpressionError(f"{type(node).__name__} cannot be used in a condition")


def _unary(node: ast.UnaryOp) -> Compiled:
    operand = _compile(node.operand)
    if isinstance(node.op, ast.Not):
        return lambda values: (value if (value := operand(values)) is UNKNOWN else not value)
    negate = isinstance(node.op, ast.USub)

    def sign(values: Values) -> Any:
        value = operand(values)
        if value is UNKNOWN or value is None:
            return value
        try:
            return -value if negate else +value
        except TypeError:
            return None

    return sign


def _binary(node: ast.BinOp) -> Compiled:
    left, right, apply = _compile(node.left), _compile(node.right), _ARITHMETIC[type(node.op)]

    def arithmetic(values: Values) -> Any:
        a, b = left(values), right(values)
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        if a is None or b is None:
            return None
        try:
            return apply(a, b)
        except (TypeError, ArithmeticError):
            return None

    return arithmetic


def _comparison(node: ast.Compare) -> Compiled:
    operands = [_compile(node.left), *(_compile(item) for item in node.comparators)]
    pairs = [_COMPARE[type(op)] for op in node.ops]
    if len(pairs) == 1:  # the usual `age <= 24`: no loop
        return _one_comparison(node.left, node.comparators[0], pairs[0],
                               operands[0], operands[1])

    def chain(values: Values) -> Any:
        unknown = False
        left = operands[0](values)
        for pair, operand in zip(pairs, operands[1:], strict=True):
            right = operand(values)
            outcome = pair(left, right)
            if outcome is UNKNOWN:
                unknown = True
            elif not outcome:
                return False
            left = right
        return UNKNOWN if unknown else True

    return chain


def _one_comparison(left_node: ast.expr, right_node: ast.expr,
                    pair: Callable[[Any, Any], Any], left: Compiled, right: Compiled) -> Compiled:
    """`a <= b`; when a side is a name or a constant it is read in place, not through a
    function of its own (a rule's comparisons run for every program before each question)."""
    name, constant = _name(left_node), _constant(right_node)
    if name is not None and constant is not None:  # `age <= 24`
        value = constant[0]
        return lambda values: pair(values.get(name), value)
    other = _name(right_node)
    if name is not None and other is not None:  # `annual_income <= care_income_limit`
        return lambda values: pair(values.get(name), values.get(other))
    return lambda values: pair(left(values), right(values))


def _name(node: ast.expr) -> str | None:
    """The name a node reads, if it is a plain name (not `true`, `null`...)."""
    is_name = isinstance(node, ast.Name) and node.id not in _CONSTANT_NAMES
    return node.id if is_name else None


def _constant(node: ast.expr) -> tuple[Any] | None:
    """(value,) when a node is a constant, `true` and `null` included."""
    if isinstance(node, ast.Constant):
        return (node.value,)
    if isinstance(node, ast.Name) and node.id in _CONSTANT_NAMES:
        return (_CONSTANT_NAMES[node.id],)
    return None


def _if_else(node: ast.IfExp) -> Compiled:
    test, body, orelse = _compile(node.test), _compile(node.body), _compile(node.orelse)

    def choose(values: Values) -> Any:
        condition = test(values)
        if condition is not UNKNOWN:
            return body(values) if condition else orelse(values)
        when_true, when_false = body(values), orelse(values)
        same = when_true is not UNKNOWN and when_false is not UNKNOWN and when_true == when_false
        return when_true if same else UNKNOWN

    return choose


def _call(node: ast.Call) -> Compiled:
    name = node.func.id  # type: ignore[attr-defined]  # parse() allows only named functions
    function = FUNCTIONS[name]
    arguments = [_compile(argument) for argument in node.args]

    def call(values: Values) -> Any:
        args = [argument(values) for argument in arguments]
        flat = [a for arg in args for a in (arg if isinstance(arg, tuple) else (arg,))]
        if any(arg is UNKNOWN for arg in flat):
            return UNKNOWN
        try:
            return function(*args)
        except TypeError as error:
            raise ExpressionError(f"{name}() was called wrongly: {error}") from error

    return call


@dataclass(frozen=True)
class Expression:
    """A parsed condition: the source text, its AST, the names it reads and its compiled form."""

    source: str
    tree: ast.Expression
    names: frozenset[str]
    compiled: Compiled = field(repr=False, compare=False, default=lambda values: None)

    def evaluate(self, values: Values) -> Any:
        """The value over `values` (a missing name reads as None; UNKNOWN stays UNKNOWN)."""
        return self.compiled(values)

    def truth(self, values: Values) -> Any:
        """True, False or UNKNOWN."""
        value = self.evaluate(values)
        return value if value is UNKNOWN else bool(value)

    def is_true(self, values: Values) -> bool:
        return bool(self.evaluate(values))

    def holds(self, values: Values) -> bool:
        """True only when the condition evaluates and is true; an error counts as false."""
        try:
            return self.is_true(values)
        except ExpressionError:
            return False


_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.Name, ast.Load, ast.Constant, ast.Tuple, ast.List, ast.Call,
    ast.IfExp,
)


def parse(source: str | bool | int | float) -> Expression:
    """Parse a condition, or raise ExpressionError saying in plain words what is wrong."""
    text = str(source).strip()
    if isinstance(source, bool):
        text = "True" if source else "False"
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"the condition '{text}' does not parse: {error.msg}") from error
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(
                f"the condition '{text}' uses {type(node).__name__}, which conditions cannot use"
            )
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords
        ):
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"the condition '{text}' calls an unknown function (use {known})")
    names = frozenset(
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS
        and node.id not in _CONSTANT_NAMES
    )
    return Expression(text, tree, names, _compile(tree))


def names_used(expressions: Iterable[Expression]) -> set[str]:
    return set().union(*(e.names for e in expressions)) if expressions else set()
