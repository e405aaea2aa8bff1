"""Which {placeholders} the code fills in each message, and the lint check built on it.

Staff write placeholders in the English texts ("Got it: {amount} a month."). A name the code
never fills ("{amonut}") is sent to residents exactly as written, so `screener lint` refuses
it, with the name the code does fill when one is close. Texts the code sends without filling
anything (questions, programs, urgent replies, services) may use no placeholders at all.
tests/test_placeholders.py scans the code (every `say`, `message`, `Reading`) so this table
cannot drift from what the code really passes.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from bot.i18n.check import UNBALANCED, placeholders
from bot.i18n.extract import texts
from bot.yamlsource import Problem, YamlFileError

_MONEY_ESTIMATE = frozenset({"program", "amount"})

# message key -> the names the code passes when it sends that message.
FILLED: Mapping[str, frozenset[str]] = MappingProxyType({
    "understood_number": frozenset({"number"}),
    "understood_under_one": frozenset({"number"}),
    "understood_money": frozenset({"amount"}),
    "confirm_money": frozenset({"amount"}),
    "retry_number_range": frozenset({"min", "max"}),
    "retry_choice": frozenset({"count"}),
    "results_prompt": frozenset({"count"}),
    "remind_set": frozenset({"days"}),
    "reminder": frozenset({"programs"}),
    "ask_applied": frozenset({"programs"}),
    "ask_approved": frozenset({"programs"}),
    "flyer_text_us": frozenset({"keyword", "number"}),
    "estimate_month": _MONEY_ESTIMATE,
    "estimate_year": _MONEY_ESTIMATE,
    "estimate_at_least": _MONEY_ESTIMATE,
    "estimate_typical_bill": _MONEY_ESTIMATE,
})
STAFF_FILES = ("screener.yaml", "programs.yaml", "services.yaml", "urgent.yaml")


def filled(key: str) -> frozenset[str]:
    """The placeholders the code fills in message `key` (none for most messages)."""
    return FILLED.get(key, frozenset())


def placeholder_problems(flows_dir: Path) -> list[Problem]:
    """Every placeholder in the staff texts that the code does not fill, at its line."""
    problems = []
    for name in STAFF_FILES:
        path = flows_dir / name
        if not path.exists():
            continue
        try:
            found = list(texts(path))
        except YamlFileError:
            continue  # the file's own check reports why it cannot be read
        for text, line, note in found:
            key = note.removeprefix("message ") if note.startswith("message ") else None
            problems += _text_problems(str(path), line, text, key, note)
    return problems


def _text_problems(path: str, line: int, text: str, key: str | None,
                   note: str) -> list[Problem]:
    where = f"messages: '{key}'" if key else note
    allowed = filled(key) if key else frozenset()
    names = placeholders(text)
    if UNBALANCED in names:
        if not allowed:  # sent as written: a lone brace is only a brace
            return []
        return [Problem(path, line, f"{where} has a lone '{{' or '}}': write placeholders "
                                    f"as {{name}} ({_listed(allowed)})")]
    problems = []
    for name in sorted(names - allowed):
        close = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.5)
        hint = f" (did you mean {{{close[0]}}}?)" if close else f" ({_listed(allowed)})"
        problems.append(Problem(path, line,
                                f"{where} uses {{{name}}}, which nothing fills{hint}"))
    return problems


def _listed(allowed: frozenset[str]) -> str:
    if not allowed:
        return "this text takes no placeholders"
    return "it may use " + ", ".join(f"{{{name}}}" for name in sorted(allowed))
