"""Conditions staff write in YAML, such as `age >= 18 and fpl_pct_2025 <= 200`.

We use simpleeval (a small, maintained, widely used evaluator that walks Python's AST with an
allow-list of operators) instead of `eval`: staff files can never run code, import modules or
reach attributes. Comparisons are null-safe: a comparison with an unanswered value (None) is
simply false, so `age <= 24` is false when we do not know the age.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, InvalidExpression


class ExpressionError(ValueError):
    """An expression that does not parse or uses something the language does not allow."""


def _null_safe(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def safe(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        try:
            return compare(left, right)
        except TypeError:
            return False

    return safe


_OPERATORS = {
    **DEFAULT_OPERATORS,
    ast.Gt: _null_safe(operator.gt),
    ast.GtE: _null_safe(operator.ge),
    ast.Lt: _null_safe(operator.lt),
    ast.LtE: _null_safe(operator.le),
}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "known": lambda value: value is not None,
    "between": lambda value, low, high: value is not None and low <= value <= high,
    "min": min,
    "max": max,
}


@dataclass(frozen=True)
class Expression:
    """A parsed condition: the source text, its AST and the names it reads."""

    source: str
    tree: ast.Expression
    names: frozenset[str]

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        evaluator = EvalWithCompoundTypes(operators=_OPERATORS, functions=dict(FUNCTIONS))
        evaluator.names = _Names(values)
        try:
            return evaluator.eval(self.source, previously_parsed=self.tree.body)
        except (InvalidExpression, ArithmeticError, TypeError, ValueError) as error:
            raise ExpressionError(f"cannot evaluate '{self.source}': {error}") from error

    def is_true(self, values: Mapping[str, Any]) -> bool:
        return bool(self.evaluate(values))

    def holds(self, values: Mapping[str, Any]) -> bool:
        """True only when the condition evaluates and is true; an error counts as false."""
        try:
            return self.is_true(values)
        except ExpressionError:
            return False


class _Names(dict):
    """Every name an expression may read: unknown answers read as None."""

    def __init__(self, values: Mapping[str, Any]):
        super().__init__({"true": True, "false": False, "null": None})
        self.update(values)

    def __missing__(self, key: str) -> None:
        return None


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
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
        ):
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"the condition '{text}' calls an unknown function (use {known})")
    names = frozenset(
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS
        and node.id not in {"True", "False", "None", "true", "false", "null"}
    )
    return Expression(text, tree, names)


def names_used(expressions: Iterable[Expression]) -> set[str]:
    return set().union(*(e.names for e in expressions)) if expressions else set()
