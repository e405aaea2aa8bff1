"""Placeholders in the staff texts match what the code fills, so a typo such as {amonut}
is caught by `screener lint` instead of reaching residents as written."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from flow_copies import edit

from bot.flow import REQUIRED_MESSAGES
from bot.lint import lint
from bot.paths import SHIPPED_FLOWS as FLOWS_DIR
from bot.placeholders import FILLED, placeholder_problems
from bot.yamlsource import load_yaml

CODE = [*sorted((FLOWS_DIR.parent / "bot").rglob("*.py")),
        *sorted((FLOWS_DIR.parent / "worker").rglob("*.py"))]
# Calls that send message `key` with the keyword arguments as its placeholders.
SENDERS = {"say", "message", "failed"}
# Calls whose keywords are not placeholders (what a follow-up keeps for the next reply).
NOT_PARAMS = {"follow_up"}
# Keywords of a Reading: the message key, and the placeholders sent with it.
READING_KEYS = {"note": "note_params", "confirm": "note_params", "retry": "retry_params"}


KEYS = set(REQUIRED_MESSAGES) | set(load_yaml(FLOWS_DIR / "screener.yaml")["messages"])


class Scope:
    """The assignments of one function, to follow `note = "a" if x else "b"` to its keys
    and `params = {"amount": ...}` to its names."""

    def __init__(self, function: ast.AST):
        self.values: dict[str, list[ast.expr]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.values.setdefault(target.id, []).append(node.value)

    def keys(self, expr: ast.expr, depth: int = 0) -> set[str]:
        if isinstance(expr, ast.Name) and depth < 3:
            return set().union(*(self.keys(v, depth + 1) for v in self.values.get(expr.id, [])))
        return {node.value for node in ast.walk(expr)
                if isinstance(node, ast.Constant) and node.value in KEYS}

    def names(self, expr: ast.expr | None) -> set[str] | None:
        """Keys of a dict literal (or a name bound to one); None when not known here."""
        if isinstance(expr, ast.Name):
            bound = [v for v in self.values.get(expr.id, []) if isinstance(v, ast.Dict)]
            expr = bound[0] if len(bound) == 1 else None
        if isinstance(expr, ast.Dict) and all(isinstance(k, ast.Constant) for k in expr.keys):
            return {k.value for k in expr.keys}  # type: ignore[union-attr]
        return None


def _functions(tree: ast.Module) -> Iterator[ast.AST]:
    yield tree
    yield from (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def fills_in_code() -> dict[str, set[str]]:
    """message key -> every placeholder name the code passes with it, found by reading it."""
    found: dict[str, set[str]] = {}
    for path in CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in _functions(tree):
            scope = Scope(function)
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                for key, names in _sends(call, scope):
                    found.setdefault(key, set()).update(names)
    return found


def _sends(call: ast.Call, scope: Scope) -> Iterator[tuple[str, set[str]]]:
    name = _call_name(call)
    if name in SENDERS or name in NOT_PARAMS:
        keys = set().union(*(scope.keys(arg) for arg in call.args[:2]))
        names: set[str] = set()
        if name in SENDERS:
            for keyword in call.keywords:
                if keyword.arg is not None:
                    names.add(keyword.arg)
                else:
                    names |= scope.names(keyword.value) or set()
        yield from ((key, names) for key in keys)
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    for key_field, params_field in READING_KEYS.items():
        if key_field in keywords:
            names = scope.names(keywords.get(params_field)) or set()
            yield from ((key, names) for key in scope.keys(keywords[key_field]))


def test_the_table_lists_exactly_the_placeholders_the_code_fills():
    in_code = {key: names for key, names in fills_in_code().items() if names}
    assert in_code == {key: set(names) for key, names in FILLED.items() if names}


def test_the_scan_finds_senders_in_the_engine_readers_and_results():
    """Guards the scan itself: a scan that found nothing would make the test above vacuous."""
    found = fills_in_code()
    assert found["understood_money"] == {"amount"}  # Reading(note=..., note_params=params)
    assert found["retry_number_range"] == {"min", "max"}  # Reading.failed("...", min=, max=)
    assert found["remind_set"] == {"days"}  # self.say("remind_set", days=days)
    assert found["estimate_year"] == {"program", "amount"}  # content.message(lang, key, ...)


def test_every_placeholder_in_the_shipped_texts_is_filled():
    assert placeholder_problems(FLOWS_DIR) == []


def errors(folder: Path) -> list[str]:
    return [str(p) for p in lint(folder) if p.severity == "error"]


def test_lint_names_a_misspelt_placeholder_and_the_one_it_meant(flows):
    line = edit(flows / "screener.yaml", 'understood_money: "Got it: {amount} a month."',
                'understood_money: "Got it: {amonut} a month."')
    assert f"{flows / 'screener.yaml'}:{line}: messages: 'understood_money' uses {{amonut}}, " \
           "which nothing fills (did you mean {amount}?)" in errors(flows)


def test_lint_refuses_a_placeholder_in_a_message_that_takes_none(flows):
    line = edit(flows / "screener.yaml", 'offer_help: "Stuck? Reply HELP."',
                'offer_help: "Stuck, {name}? Reply HELP."')
    assert f"{flows / 'screener.yaml'}:{line}: messages: 'offer_help' uses {{name}}, which " \
           "nothing fills (this text takes no placeholders)" in errors(flows)


def test_lint_refuses_a_placeholder_in_a_program_text(flows):
    line = edit(flows / "programs.yaml", 'summary: "Money for food each month"',
                'summary: "Up to {amount} for food each month"')
    found = [e for e in errors(flows) if f"programs.yaml:{line}:" in e]
    assert any("summary uses {amount}, which nothing fills" in e for e in found), found


def test_lint_refuses_a_placeholder_in_an_urgent_reply(flows):
    line = edit(flows / "urgent.yaml", 'reply: "For a safe place to stay or help with rent:"',
                'reply: "For a safe place near {zip}:"')
    found = [e for e in errors(flows) if f"urgent.yaml:{line}:" in e]
    assert any("uses {zip}, which nothing fills" in e for e in found), found


def test_lint_refuses_a_lone_brace_in_a_message_the_code_fills(flows):
    line = edit(flows / "screener.yaml", "from 1 to {count}.", "from 1 to {count.")
    assert any(e.startswith(f"{flows / 'screener.yaml'}:{line}: messages: 'retry_choice' has a "
                            "lone '{'") for e in errors(flows))
