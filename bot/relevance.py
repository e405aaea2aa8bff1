"""Which questions can still change the results: the engine asks only those.

Before each question, every program's rule is evaluated over the answers so far, with the
questions still ahead as UNKNOWN (three-valued logic, bot/expressions.py, over the very same
rules). A program whose rule is already true or false for every answer still to come is
decided; the rest are open. A question matters when it records an answer that an open
program reads (directly, or through derived values, limits and the county), that the
services list reads, or that decides whether a later question that matters is asked. Others
are skipped, and the results are the same as if they had been asked: a decided rule cannot
change, and an open one does not read the skipped answer.

Staff keep control: a question marked `always: true` is always asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from bot.expressions import UNKNOWN, Expression
from bot.flow import Flow, Question
from bot.rules import Program, Rules

# What the services list near the resident reads (bot/results.py service_lines): the ZIP for
# distance and the age for services that serve only some ages.
SERVICE_ANSWERS = frozenset({"zip", "age"})


@dataclass(frozen=True)
class Relevance:
    flow: Flow
    rules: Rules

    @cached_property
    def reads(self) -> dict[str, frozenset[str]]:
        """For every program, the answers its rule reads."""
        answers = self.flow.answer_ids
        return {p.id: frozenset(self.rules.reads(p.when.names) & answers)
                for p in self.rules.programs}

    @cached_property
    def gates(self) -> dict[str, tuple[Question, ...]]:
        """For every question, the later questions whose asking its answer can decide: their
        own `when` reads it, or a `next` branch that reads it can jump over them."""
        questions = self.flow.questions
        position = {q.id: i for i, q in enumerate(questions)}
        end = len(questions)  # a jump to the results passes every later question
        jumps = [(i, position.get(branch.goto, end), self._answers_read(branch.condition))
                 for i, q in enumerate(questions) for branch in q.branches]
        found: dict[str, tuple[Question, ...]] = {}
        for i, question in enumerate(questions):
            recorded = self.flow.recorded(question)
            found[question.id] = tuple(
                later for j, later in enumerate(questions) if j > i and (
                    recorded & self._answers_read(later.when)
                    or any(i <= start < j < end and recorded & read
                           for start, end, read in jumps)))
        return found

    def _answers_read(self, condition: Expression | None) -> frozenset[str]:
        if condition is None:
            return frozenset()
        return frozenset(self.rules.reads(condition.names) & self.flow.answer_ids)

    def unknowns(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The answers so far, with every answer not given yet as UNKNOWN."""
        return {**{a: UNKNOWN for a in self.flow.answer_ids if a not in answers}, **answers}

    def open_programs(self, answers: Mapping[str, Any], on: date | None = None) -> list[Program]:
        """The programs whose outcome still depends on answers not given yet."""
        facts = self.rules.facts(self.unknowns(answers), on)
        return [p for p in self.rules.programs if p.when.truth(facts) is UNKNOWN]

    def open_answers(self, answers: Mapping[str, Any], on: date | None = None) -> frozenset[str]:
        """The answers the results still depend on: those open programs and services read."""
        found = set(SERVICE_ANSWERS)
        for program in self.open_programs(answers, on):
            found |= self.reads[program.id]
        return frozenset(found)

    def matters(self, question: Question, answers: Mapping[str, Any],
                open_answers: frozenset[str]) -> bool:
        """Whether `question` can still change the results (or is marked `always`)."""
        if question.always or self.flow.recorded(question) & open_answers:
            return True
        return any(later.id not in answers and self.matters(later, answers, open_answers)
                   for later in self.gates[question.id])

    def why_asked(self, question: Question) -> tuple[list[str], list[str]]:
        """What can make `question` matter, for lint: (program ids, later question ids)."""
        recorded = self.flow.recorded(question)
        programs = [pid for pid, read in self.reads.items() if recorded & read]
        return programs, [later.id for later in self.gates[question.id]]


def program_list(ids: Iterable[str], most: int = 4) -> str:
    """'a, b, c and 2 more' for a lint line."""
    ids = list(ids)
    shown = ", ".join(ids[:most])
    return f"{shown} and {len(ids) - most} more" if len(ids) > most else shown
