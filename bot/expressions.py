"""Conditions staff write in YAML, such as `age >= 18 and fpl_pct_2025 <= 200`.

A condition is parsed once with Python's own parser, checked against an allow-list of syntax
(no attributes, no subscripts, no imports, only the functions below), and compiled into one
Python function written from the checked tree alone (`_Writer`). Staff files can therefore
never run code of their own.

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
import math
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

# Operators as Python writes them: the compiled source uses them directly.
_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
               ast.Mod: "%"}
_ORDERING = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<="}
_EQUALITY = {ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not"}
_MEMBERSHIP = {ast.In: "in", ast.NotIn: "not in"}
_CONSTANT_NAMES = {"true": True, "false": False, "null": None,
                   "True": True, "False": False, "None": None}


def _has_unknown(value: Any) -> bool:
    """Whether `value` is UNKNOWN or a tuple holding it (a call's arguments, `x in (a, b)`)."""
    return value is UNKNOWN or (isinstance(value, tuple) and any(v is UNKNOWN for v in value))


def _called(name: str, args: tuple[Any, ...]) -> Any:
    try:
        return FUNCTIONS[name](*args)
    except TypeError as error:
        raise ExpressionError(f"{name}() was called wrongly: {error}") from error


class _Writer:
    """Writes a condition as the body of one Python function over `values`.

    A tree of small functions, one call per node, cost a fifth of the engine's time: every
    program's rule runs before each question. Straight-line code over local variables runs
    the same rules several times faster. The source is made only from the checked tree:
    names and constants enter it as `repr` literals and operators from the tables above, so
    a staff file still cannot add code of its own."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.literals: set[str] = set()  # values written in place: never UNKNOWN
        self.count = 0

    def temp(self) -> str:
        self.count += 1
        return f"_{self.count}"

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def assign(self, depth: int, expression: str) -> str:
        name = self.temp()
        self.line(depth, f"{name} = {expression}")
        return name

    def unknown(self, *values: str, inside: bool = False) -> str:
        """A test that any of `values` is UNKNOWN (`inside`: or a tuple holding it)."""
        tests = [f"has_unknown({value})" if inside else f"{value} is U"
                 for value in values if value not in self.literals]
        return " or ".join(tests) or "False"

    def missing(self, *values: str) -> str:
        """A test that any of `values` is None."""
        tests = ["True" if value == "None" else f"{value} is None"
                 for value in values if value == "None" or value not in self.literals]
        return " or ".join(tests) or "False"

    def value(self, node: ast.AST, depth: int) -> str:
        """Write the statements computing `node`; the name (or literal) of its value."""
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            if node.id in _CONSTANT_NAMES:
                return self.constant(_CONSTANT_NAMES[node.id])
            return self.assign(depth, f"get({node.id!r})")
        if isinstance(node, ast.Tuple | ast.List):
            items = [self.value(item, depth) for item in node.elts]
            return self.assign(depth, f"({''.join(item + ', ' for item in items)})")
        if isinstance(node, ast.BoolOp):
            return self.connective(node, depth)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.BinOp):
            return self.arithmetic(node, depth)
        if isinstance(node, ast.Compare):
            return self.comparison(node, depth)
        if isinstance(node, ast.IfExp):
            return self.if_else(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise ExpressionError(f"{type(node).__name__} cannot be used in a condition")

    def constant(self, value: Any) -> str:
        if value is None or isinstance(value, bool | int | str) or (
                isinstance(value, float) and math.isfinite(value)):
            literal = repr(value)
        else:  # inf, nan, complex, bytes: kept by name
            literal = f"_k{len(self.constants)}"
            self.constants[literal] = value
        self.literals.add(literal)
        return literal

    def connective(self, node: ast.BoolOp, depth: int) -> str:
        """`and` / `or`: the first operand whose truth stops it, else the last; UNKNOWN when
        the outcome depends on an UNKNOWN operand."""
        stops = isinstance(node.op, ast.Or)
        result, unknown, done = self.temp(), self.temp(), self.temp()
        self.line(depth, f"{result}, {unknown}, {done} = {not stops!r}, False, False")
        for position, part in enumerate(node.values):
            inner = depth + 1 if position else depth
            if position:
                self.line(depth, f"if not {done}:")
            value = self.value(part, inner)
            self.line(inner, f"if {self.unknown(value)}:")
            self.line(inner + 1, f"{unknown} = True")
            self.line(inner, f"elif {'' if stops else 'not '}{value}:")
            self.line(inner + 1, f"{result}, {done} = {value}, True")
            self.line(inner, "else:")
            self.line(inner + 1, f"{result} = {value}")
        self.line(depth, f"if not {done} and {unknown}:")
        self.line(depth + 1, f"{result} = U")
        return result

    def unary(self, node: ast.UnaryOp, depth: int) -> str:
        operand = self.value(node.operand, depth)
        if isinstance(node.op, ast.Not):
            return self.assign(depth, f"U if {self.unknown(operand)} else not {operand}")
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return self.guarded(depth, [(f"{self.unknown(operand)} or {self.missing(operand)}",
                                     operand)], f"{sign}{operand}", "TypeError", "None")

    def arithmetic(self, node: ast.BinOp, depth: int) -> str:
        left, right = self.value(node.left, depth), self.value(node.right, depth)
        return self.guarded(depth, [(self.unknown(left, right), "U"),
                                    (self.missing(left, right), "None")],
                            f"{left} {_ARITHMETIC[type(node.op)]} {right}",
                            "(TypeError, ArithmeticError)", "None")

    def guarded(self, depth: int, cases: list[tuple[str, str]], otherwise: str, errors: str,
                failed: str) -> str:
        """The first case's value whose test holds, else `otherwise`, or `failed` if that
        raises `errors`."""
        result = self.temp()
        for position, (test, value) in enumerate(cases):
            self.line(depth, f"{'elif' if position else 'if'} {test}:")
            self.line(depth + 1, f"{result} = {value}")
        self.line(depth, "else:")
        self.line(depth + 1, "try:")
        self.line(depth + 2, f"{result} = {otherwise}")
        self.line(depth + 1, f"except {errors}:")
        self.line(depth + 2, f"{result} = {failed}")
        return result

    def compare(self, depth: int, op: ast.cmpop, left: str, right: str) -> str:
        """One comparison: an ordering with None is false, values that cannot be compared are
        not in that order (nor one in the other), and UNKNOWN stays UNKNOWN."""
        if type(op) in _EQUALITY:
            if type(op) in (ast.Is, ast.IsNot):  # `x is 5` would draw a SyntaxWarning
                left, right = (self.assign(depth, side) if side in self.literals
                               and side not in ("None", "True", "False") else side
                               for side in (left, right))
            return self.assign(depth, f"U if {self.unknown(left, right)} "
                                      f"else {left} {_EQUALITY[type(op)]} {right}")
        unknown = f"{self.unknown(left)} or {self.unknown(right, inside=True)}"
        if type(op) in _MEMBERSHIP:
            return self.guarded(depth, [(unknown, "U")],
                                f"{left} {_MEMBERSHIP[type(op)]} {right}", "TypeError", "False")
        return self.guarded(depth, [(unknown, "U"), (self.missing(left, right), "False")],
                            f"{left} {_ORDERING[type(op)]} {right}", "TypeError", "False")

    def comparison(self, node: ast.Compare, depth: int) -> str:
        left = self.value(node.left, depth)
        if len(node.ops) == 1:  # the usual `age <= 24`
            return self.compare(depth, node.ops[0], left, self.value(node.comparators[0], depth))
        # A chain `a < b < c`: false at the first false link, later operands not read.
        result, unknown, done = self.temp(), self.temp(), self.temp()
        self.line(depth, f"{result}, {unknown}, {done} = True, False, False")
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            self.line(depth, f"if not {done}:")
            right = self.value(comparator, depth + 1)
            outcome = self.compare(depth + 1, op, left, right)
            self.line(depth + 1, f"if {outcome} is U:")
            self.line(depth + 2, f"{unknown} = True")
            self.line(depth + 1, f"elif not {outcome}:")
            self.line(depth + 2, f"{result}, {done} = False, True")
            left = right if right in self.literals else self.assign(depth + 1, right)
        self.line(depth, f"if not {done} and {unknown}:")
        self.line(depth + 1, f"{result} = U")
        return result

    def if_else(self, node: ast.IfExp, depth: int) -> str:
        """`a if test else b`; with the test UNKNOWN, the branches' value if they agree."""
        test, result = self.value(node.test, depth), self.temp()
        self.line(depth, f"if {self.unknown(test)}:")
        body, orelse = self.value(node.body, depth + 1), self.value(node.orelse, depth + 1)
        self.line(depth + 1, f"{result} = U if {self.unknown(body, orelse)} or "
                             f"not ({body} == {orelse}) else {body}")
        self.line(depth, f"elif {test}:")
        self.line(depth + 1, f"{result} = {self.value(node.body, depth + 1)}")
        self.line(depth, "else:")
        self.line(depth + 1, f"{result} = {self.value(node.orelse, depth + 1)}")
        return result

    def call(self, node: ast.Call, depth: int) -> str:
        name = node.func.id  # type: ignore[attr-defined]  # parse() allows only named functions
        args = [self.value(argument, depth) for argument in node.args]
        packed = f"({''.join(arg + ', ' for arg in args)})"
        return self.assign(depth, f"U if {self.unknown(*args, inside=True)} "
                                  f"else called({name!r}, {packed})")


def _compile(tree: ast.Expression, text: str) -> Compiled:
    """The condition as one Python function of `values` (see `_Writer`)."""
    writer = _Writer()
    result = writer.value(tree.body, 1)
    source = "\n".join(["def condition(values):", "    get = values.get", *writer.lines,
                        f"    return {result}"])
    namespace = {"U": UNKNOWN, "has_unknown": _has_unknown, "called": _called,
                 **writer.constants}
    try:
        exec(compile(source, f"<condition {text!r}>", "exec"), namespace)
    except (SyntaxError, RecursionError, MemoryError) as error:  # nested past Python's limits
        raise ExpressionError(f"the condition '{text}' is nested too deeply") from error
    return namespace["condition"]


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
    return Expression(text, tree, names, _compile(tree, text))


def names_used(expressions: Iterable[Expression]) -> set[str]:
    return set().union(*(e.names for e in expressions)) if expressions else set()
