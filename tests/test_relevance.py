"""Ask only what can still change the answer: three-valued rules, skipped questions, and the
proof that skipping never changes a result."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flow_copies import copy_flows, edit, insert_before

from bot.content import Content
from bot.expressions import UNKNOWN, ExpressionError, parse
from bot.lint import lint
from bot.replay import screen
from worker.agreement import draw_households

TODAY = date(2026, 12, 6)
SINGLE_20 = {"age": 20, "zip": "95112", "household_size": 1, "has_children": False,
             "youngest_child_age": None, "pregnant": False, "monthly_income": 1200,
             "work": "works_20h", "works_20h": True, "lost_job": False, "student": False,
             "foster_youth": False, "foster_care_at_18": None, "student_exempt": None,
             "has_health_insurance": False, "housing_risk": False}


def everything_asked(content: Content) -> Content:
    """The same content with every question marked `always: true`: nothing is skipped."""
    questions = tuple(replace(q, always=True) for q in content.flow.questions)
    return replace(content, flow=replace(content.flow, questions=questions))


def population(count: int, seed: int) -> list[dict[str, Any]]:
    """Drawn households (worker/agreement.py), each with a true answer to every question;
    about a third have health insurance."""
    insured = random.Random(f"{seed}:insured")
    return [household.every_answer() | {"has_health_insurance": insured.random() < 0.35}
            for household in draw_households(count, seed)]


# Three-valued logic ------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "values", "expected"), [
    ("a and b", {"a": UNKNOWN, "b": False}, False),
    ("a and b", {"a": UNKNOWN, "b": True}, UNKNOWN),
    ("a or b", {"a": UNKNOWN, "b": True}, True),
    ("a or b", {"a": False, "b": UNKNOWN}, UNKNOWN),
    ("not a", {"a": UNKNOWN}, UNKNOWN),
    ("age <= 24", {"age": UNKNOWN}, UNKNOWN),
    ("known(age)", {"age": UNKNOWN}, UNKNOWN),
    ("between(age, 19, 64)", {"age": UNKNOWN}, UNKNOWN),
    ("income - 450 <= 963", {"income": UNKNOWN}, UNKNOWN),
    ("x == 1 or y", {"x": 1, "y": UNKNOWN}, True),
    ("1 if a else 1", {"a": UNKNOWN}, True),
    ("1 if a else 2", {"a": UNKNOWN}, UNKNOWN),
])
def test_an_answer_not_given_yet_is_unknown_until_the_rest_decides(
        source: str, values: dict[str, Any], expected: Any) -> None:
    assert parse(source).truth(values) is expected


@pytest.mark.parametrize(("source", "expected"), [
    ("age <= 24", False), ("not (age <= 24)", True), ("income - 450 <= 963", False),
    ("known(age)", False), ("age == null", True), ("min(age, 3) < 5", False),
])
def test_an_answer_given_as_none_reads_as_missing_and_never_raises(
        source: str, expected: bool) -> None:
    assert parse(source).holds({"age": None, "income": None}) is expected


def random_condition(rng: random.Random, depth: int = 0) -> str:
    """A condition over the names a, b and c of every kind staff write: numbers (names,
    arithmetic, min, max, if-else) compared, tested or combined with and, or, not."""
    def number(level: int) -> str:
        if level > 2 or rng.random() < 0.4:
            return rng.choice(["a", "b", "c", "0", "1", "24", "2.5", "null"])
        return rng.choice([
            lambda: f"({number(level + 1)} {rng.choice('+-*/%')} {number(level + 1)})",
            lambda: f"{rng.choice(['min', 'max'])}({number(level + 1)}, {number(level + 1)})",
            lambda: f"({number(level + 1)} if {random_condition(rng, level + 1)} "
                    f"else {number(level + 1)})",
        ])()

    if depth > 2 or rng.random() < 0.3:
        return rng.choice([
            lambda: rng.choice("abc"),
            lambda: f"{rng.choice('abc')} == {rng.choice(['true', 'false', 'null', '1'])}",
            lambda: f"known({number(depth + 1)})",
        ])()
    def part() -> str:
        return random_condition(rng, depth + 1)
    return rng.choice([
        lambda: f"({part()} and {part()})", lambda: f"({part()} or {part()} or {part()})",
        lambda: f"(not {part()})",
        lambda: f"({number(depth)} {rng.choice(['<', '<=', '>', '>=', '==', '!='])} "
                f"{number(depth)})",
        lambda: f"({number(depth)} {rng.choice(['in', 'not in'])} (1, {number(depth)}))",
        lambda: f"({number(depth)} < {number(depth)} <= {number(depth)})",
        lambda: f"between({number(depth)}, {number(depth)}, {number(depth)})",
    ])()


def test_any_condition_decided_with_unknowns_is_decided_for_every_value_they_could_take():
    """Kleene's logic as the compiled conditions carry it (bot/expressions.py): a truth
    reached with some names UNKNOWN stays the same whatever those names turn out to be.
    (The value of `and` / `or` is for truth only: used as a number, `c and a` with c UNKNOWN
    could be c's value or a's. Rules never do that; this test does not either.)"""
    rng, kinds, decided = random.Random(21), [None, 0, 1, 24, 30, 2.5, "x", True, False], 0
    for _ in range(1500):
        condition = parse(random_condition(rng))
        given = {name: rng.choice(kinds) for name in "abc"}
        hidden = [name for name in "abc" if rng.random() < 0.5]
        try:
            verdict = condition.truth({**given, **dict.fromkeys(hidden, UNKNOWN)})
        except ExpressionError:
            continue
        if verdict is UNKNOWN:
            continue
        decided += 1
        for values in itertools.product(kinds, repeat=len(hidden)):
            try:
                truth = condition.truth({**given, **dict(zip(hidden, values, strict=True))})
            except ExpressionError:  # min("x", 1): a rule that cannot run is not shown
                continue
            assert truth == verdict, (condition.source, given, hidden, values)
    assert decided > 300  # the check really ran


def test_a_rule_decided_with_answers_unknown_holds_the_same_for_every_household(
        content: Content) -> None:
    """Soundness over the shipped rules: hide random answers as UNKNOWN; whenever a program
    is decided, the full household (None for what it would skip) agrees."""
    rules, answer_ids = content.rules, sorted(content.flow.answer_ids)
    rng = random.Random(14)
    decided = 0
    for truth in population(150, 3):
        full = rules.facts(truth, TODAY)
        for _ in range(4):
            hidden = {a for a in answer_ids if rng.random() < 0.5}
            partial = rules.facts({a: UNKNOWN if a in hidden else truth.get(a)
                                   for a in answer_ids}, TODAY)
            for program in rules.programs:
                verdict = program.when.truth(partial)
                if verdict is not UNKNOWN:
                    decided += 1
                    assert verdict == program.when.holds(full), (program.id, hidden, truth)
    assert decided > 5_000  # the check really ran over decided rules


# Skipping in conversations -----------------------------------------------------------------

def test_health_insurance_is_not_asked_below_medi_cals_limit(content: Content) -> None:
    screening = screen(content, "en", SINGLE_20)
    assert "has_health_insurance" not in screening.asked
    assert screening.programs[0] == "medi_cal"


def test_health_insurance_is_asked_when_premium_help_is_still_open(content: Content) -> None:
    screening = screen(content, "en", SINGLE_20 | {"monthly_income": 3200})
    assert "has_health_insurance" in screening.asked


def test_student_status_is_asked_while_a_student_program_is_open(content: Content) -> None:
    assert "student" in screen(content, "en", SINGLE_20).asked


def test_a_question_marked_always_is_asked_even_when_it_cannot_matter(
        content: Content) -> None:
    questions = tuple(replace(q, always=q.id == "has_health_insurance")
                      for q in content.flow.questions)
    marked = replace(content, flow=replace(content.flow, questions=questions))
    assert "has_health_insurance" in screen(marked, "en", SINGLE_20).asked


@pytest.mark.parametrize(("lang", "count", "seed"), [
    ("en", 300, 1), ("es", 60, 2), ("vi", 60, 3), ("pa", 60, 4), ("hi", 60, 5),
])
def test_skipping_never_changes_the_results(content: Content, lang: str, count: int,
                                            seed: int) -> None:
    """For random households, the programs (and their order) with skipping are exactly the
    programs with every question asked, and skipping asks fewer questions overall."""
    all_asked = everything_asked(content)
    saved = 0
    for truth in population(count, seed):
        skipping, asking_all = screen(content, lang, truth), screen(all_asked, lang, truth)
        assert skipping.programs == asking_all.programs, (truth, skipping.asked)
        assert set(skipping.asked) <= set(asking_all.asked)
        saved += len(asking_all.asked) - len(skipping.asked)
    assert saved > count // 4  # it does skip: at least one question in four households


def test_every_question_can_matter_to_someone(content: Content) -> None:
    """No question is dead weight: each is asked in some household of the population."""
    asked = set(itertools.chain.from_iterable(
        screen(content, "en", truth).asked for truth in population(300, 1)))
    assert {q.id for q in content.flow.questions} - asked == set()


# What lint tells staff ---------------------------------------------------------------------

def test_lint_says_when_each_question_is_skipped(tmp_path: Path) -> None:
    notes = {p.line: p for p in lint(copy_flows(tmp_path)) if "skipped" in p.message}
    insurance = next(p for p in notes.values() if "'has_health_insurance'" in p.message)
    assert insurance.severity == "info"
    assert "covered_california is still undecided" in insurance.message


def test_lint_warns_about_a_question_no_program_needs_unless_marked_always(
        tmp_path: Path) -> None:
    folder = copy_flows(tmp_path)
    question = ('  - id: favourite_color\n    type: text\n'
                '    ask: "What is your favourite color?"\n\n')
    insert_before(folder, "  - id: housing_risk\n", question)
    [warning] = [p for p in lint(folder) if "'favourite_color'" in p.message]
    assert warning.severity == "warning" and "never asked" in warning.message
    edit(folder / "screener.yaml", "    type: text\n", "    type: text\n    always: true\n")
    assert not [p for p in lint(folder) if "'favourite_color'" in p.message]
