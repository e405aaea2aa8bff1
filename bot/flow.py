"""The question flow (`flows/screener.yaml`) as plain, immutable data.

Loading checks everything that would make the engine misbehave (unknown `goto` targets,
conditions that do not parse, duplicate ids) and reports it as `path:line: problem`, so a
broken edit is caught by `screener lint` and never reaches a resident.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.expressions import Expression, ExpressionError, parse
from bot.paths import SHIPPED_FLOWS, flows_dir, schema
from bot.yamlsource import (
    Problem,
    SourceList,
    SourceMap,
    YamlFileError,
    load_yaml,
    schema_problems,
)

FLOWS_DIR = SHIPPED_FLOWS  # the shipped flows (bot/paths.py: the folder in use)
RESULTS = "results"
QUESTION_TYPES = ("choice", "yes_no", "number", "money", "zip", "text")
# Messages the engine sends by key; the texts are the staff's.
REQUIRED_MESSAGES = (
    "welcome", "help", "offer_help", "back_at_start", "restarted", "stopped", "started",
    "flow_changed", "idle_return", "idle_choice_retry", "understood_number", "understood_money",
    "zip_outside_county", "retry_number", "retry_number_range", "retry_money",
    "retry_yes_no", "retry_choice", "retry_zip", "retry_zip_unknown",
    "retry_text", "not_optional", "results_header", "results_more", "results_last",
    "results_none", "results_no_more", "results_help_today", "results_prompt", "details_apply",
    "details_footer", "remind_set", "remind_not_yet", "reminder", "estimate_intro",
    "estimate_month", "estimate_year", "estimate_at_least", "estimate_typical_bill",
    "estimate_footer",
    "language_only_english", "language_menu",
    # Reading answers people's way: "not sure", a surprising amount, pay per hour, a baby.
    "unsure_guess", "unsure_skip", "confirm_money", "ask_hours_week",
    "ask_days_week", "understood_under_one",
    # A ZIP outside California ends the screening kindly.
    "outside_california",
    # Campaigns and the follow-ups that close the loop (bot/campaigns.py, worker/checkins.py).
    "keyword_noted", "nudge", "ask_applied", "applied_yes", "check_in_later", "applied_not_yet",
    "applied_need_help", "ask_approved", "approved_yes", "approved_no", "approved_waiting",
    "follow_up_retry",
    # The hand-off to a navigator (bot/handoff.py, bot/cases.py).
    "handoff_consent", "handoff_opened", "handoff_after_hours", "handoff_declined",
    "handoff_closed", "offer_person",
    # The printed flyer (bot/flyer.py).
    "flyer_title", "flyer_line_what", "flyer_line_how", "flyer_line_private", "flyer_text_us",
    "flyer_scan_sms", "flyer_scan_whatsapp",
    # Sent by the web hook (bot/inbound.py), not the engine.
    "sorry_error", "media_only", "rate_limited", "busy",
)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    words: tuple[str, ...] = ()
    sets: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0
    hours: tuple[float, float] | None = None  # hours worked a week: [from, below)


@dataclass(frozen=True)
class Check:
    """Answers that cannot all be true (`checks:`): ask `ask` once more, saying the message
    `say` instead of its question."""

    id: str
    condition: Expression
    ask: str
    say: str
    line: int = 0


@dataclass(frozen=True)
class Branch:
    condition: Expression | None
    goto: str
    line: int = 0


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    ask: str
    help: str | None = None
    retry: str | None = None
    when: Expression | None = None
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Choice, ...] = ()
    branches: tuple[Branch, ...] = ()
    counts: str | None = None  # "people": also read "just me", "me and my mom"
    always: bool = False  # asked even when no answer to it could change the results
    line: int = 0
    field_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int:
        return self.field_lines.get(name, self.line)


@dataclass(frozen=True)
class Language:
    """One language's own name, the evidence that picks it (bot/language.py), number words."""

    code: str
    name: str
    detect: tuple[str, ...] = ()
    numbers: Mapping[str, int] = field(default_factory=dict)
    multipliers: Mapping[str, int] = field(default_factory=dict)  # "mil": 1000, "सौ": 100
    hints: tuple[str, ...] = ()
    script: tuple[int, int] | None = None
    letters: str = ""


@dataclass(frozen=True)
class FollowUps:
    """When the texts that close the loop go (flows/screener.yaml `settings.follow_ups`);
    a follow-up that is off has its time set to None."""

    nudge_hours: float | None = 22
    applied_days: float | None = 7
    approved_days: float | None = 28

    def delay(self, kind: str) -> float | None:
        """Seconds from the moment that sets it off, or None when it is off."""
        value = {"nudge": self.nudge_hours, "applied": self.applied_days,
                 "approved": self.approved_days}[kind]
        return None if value is None else value * (3600 if kind == "nudge" else 86400)


@dataclass(frozen=True)
class Settings:
    misses_before_help: int = 2
    idle_minutes: int = 240
    reminder_days: int = 3
    question_segments: int = 2
    results_page_segments: int = 3
    follow_ups: FollowUps = field(default_factory=FollowUps)


@dataclass(frozen=True)
class Flow:
    name: str
    version: int
    fingerprint: str
    settings: Settings
    messages: Mapping[str, str]
    commands: Mapping[str, Mapping[str, tuple[str, ...]]]
    words: Mapping[str, Mapping[str, tuple[str, ...]]]
    questions: tuple[Question, ...]
    languages: Mapping[str, Language] = field(default_factory=dict)
    path: str = ""
    # Phrases per choice value, per language (`choices:` in the language files).
    choice_words: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    # Phrases that opt out wherever they stand in a message ("stop texting me"), per language.
    opt_out: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Phrases that ask for a person wherever they stand in a message, per language.
    person: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()

    def check(self, check_id: str | None) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def position(self, question_id: str) -> int:
        return self._positions[question_id]

    # Looked up many times a turn (bot/relevance.py walks the questions before each one):
    # worked out once per flow.
    @cached_property
    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in reversed(self.questions)}  # the first of an id wins

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {q.id: i for i, q in reversed(list(enumerate(self.questions)))}

    @property
    def first(self) -> Question:
        return self.questions[0]

    def target_after(self, question: Question, facts: Mapping[str, Any]) -> str:
        """Where the flow goes after `question`: a question id or RESULTS (conditions aside)."""
        for branch in question.branches:
            if branch.condition is None or branch.condition.holds(facts):
                return branch.goto
        index = self.position(question.id) + 1
        return self.questions[index].id if index < len(self.questions) else RESULTS

    def ordinary_words(self) -> dict[str, str]:
        """Folded answer and command words of every language, with what each one is.

        Such words are never an urgent need, whatever they look like."""
        from bot.questions.normalize import bare

        found: dict[str, str] = {}
        for kind, table in (("command", self.commands), ("answer", self.words)):
            for name, by_lang in table.items():
                for words in by_lang.values():
                    found.update({bare(w): f"the {name} {kind} word" for w in words})
        for question in self.questions:
            for choice in question.choices:
                found[bare(choice.label)] = f"a choice of question '{question.id}'"
        return found

    def recorded(self, question: Question) -> frozenset[str]:
        """The answers `question` records: its own, and those its choices set."""
        if self._by_id.get(question.id) is question:
            return self._recorded[question.id]
        return _recorded(question)

    @cached_property
    def _recorded(self) -> dict[str, frozenset[str]]:
        return {q.id: _recorded(q) for q in reversed(self.questions)}

    @cached_property
    def answer_ids(self) -> frozenset[str]:
        """Every answer the flow can record, including those a choice `sets`."""
        return frozenset().union(*(_recorded(q) for q in self.questions))


def _recorded(question: Question) -> frozenset[str]:
    return frozenset({question.id}.union(*(choice.sets for choice in question.choices)))


def applies(question: Question, facts: Mapping[str, Any]) -> bool:
    """Whether to ask `question`. A `when` that cannot be evaluated means 'ask'."""
    if question.when is None:
        return True
    try:
        return question.when.is_true(facts)
    except ExpressionError:
        return True


def load_flow(path: str | Path | None = None) -> Flow:
    """Load and check the flow; raise YamlFileError listing every error with its line."""
    flow, problems = read_flow(path or flows_dir() / "screener.yaml")
    errors = [p for p in problems if p.severity == "error"]
    if errors or flow is None:
        raise YamlFileError(errors)
    return flow


def read_flow(path: str | Path) -> tuple[Flow | None, list[Problem]]:
    """The flow (None if unusable) and every problem found while reading it."""
    path = str(path)
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else None
    if text is None:
        return None, [Problem(path, 1, "the flow file does not exist")]
    data = load_yaml(path, text)
    problems = schema_problems(data, _schema("screener.schema.json"), path)
    language_files = sorted((Path(path).parent / "languages").glob("*.yaml"))
    languages = [_read_language(file, problems) for file in language_files]
    if problems:
        return None, problems
    digest = hashlib.sha256(text.encode())
    for file in language_files:
        digest.update(file.read_bytes())
    return _build(data, [lang for lang in languages if lang], path, digest.hexdigest()[:12])


def _schema(name: str) -> dict:
    return json.loads(schema(name).read_text(encoding="utf-8"))


def _read_language(path: Path, problems: list[Problem]) -> SourceMap | None:
    try:
        data = load_yaml(path)
    except YamlFileError as error:
        problems.extend(error.problems)
        return None
    found = schema_problems(data, _schema("language.schema.json"), str(path))
    if not found and data["code"] != path.stem:
        found.append(Problem(str(path), data.line_of("code"),
                             f"code '{data['code']}' does not match the file name '{path.name}'"))
    problems.extend(found)
    return None if found else data


def _follow_ups(raw: Any) -> FollowUps:
    def when(kind: str, unit: str, default: float) -> float | None:
        entry = raw.get(kind) or {}
        return entry.get(unit, default) if entry.get("on", True) else None

    return FollowUps(nudge_hours=when("nudge", "after_hours", 22),
                     applied_days=when("applied", "after_days", 7),
                     approved_days=when("approved", "after_days", 28))


def _build(data: SourceMap, languages: list[SourceMap], path: str,
           digest: str) -> tuple[Flow | None, list[Problem]]:
    problems: list[Problem] = []
    if not any(lang["code"] == "en" for lang in languages):
        problems.append(Problem(path, 1, "flows/languages/en.yaml is missing"))
    messages: SourceMap = data["messages"]
    checks = _checks(data.get("checks") or SourceList(), path, problems)
    for key in REQUIRED_MESSAGES:
        if key not in messages:
            problems.append(Problem(path, messages.line, f"messages: '{key}' is missing"))
    for key in messages:
        if key not in REQUIRED_MESSAGES and key not in {check.say for check in checks}:
            hint = _did_you_mean(key, REQUIRED_MESSAGES)
            problems.append(
                Problem(path, messages.line_of(key), f"messages: '{key}' is never used{hint}",
                        "warning")
            )
    questions = tuple(_question(q, path, problems) for q in data["questions"])
    _check_ids_and_targets(questions, data["questions"], path, problems)
    _check_checks(checks, questions, messages, path, problems)
    raw_settings = data.get("settings", {})
    budget = raw_settings.get("budget", {})
    settings = Settings(
        misses_before_help=raw_settings.get("misses_before_help", 2),
        idle_minutes=raw_settings.get("idle_minutes", 240),
        reminder_days=raw_settings.get("reminder_days", 3),
        question_segments=budget.get("question_segments", 2),
        results_page_segments=budget.get("results_page_segments", 3),
        follow_ups=_follow_ups(raw_settings.get("follow_ups") or {}),
    )
    flow = Flow(
        name=data["flow"],
        version=data["version"],
        fingerprint=f"{data['version']}-{digest}",
        settings=settings,
        messages=dict(messages),
        commands=_words_table(languages, "commands"),
        words=_words_table(languages, "words"),
        questions=questions,
        languages={
            lang["code"]: Language(
                code=lang["code"],
                name=lang["name"],
                detect=tuple(str(w) for w in lang.get("detect", ())),
                numbers=dict(lang.get("numbers", {})),
                multipliers=dict(lang.get("multipliers", {})),
                hints=tuple(str(w) for w in lang.get("hints", ())),
                script=tuple(lang["script"]) if "script" in lang else None,
                letters=str(lang.get("letters", "")),
            )
            for lang in languages
        },
        path=path,
        choice_words=_words_table(languages, "choices"),
        opt_out={lang["code"]: tuple(str(w) for w in lang.get("opt_out", ()))
                 for lang in languages},
        person={lang["code"]: tuple(str(w) for w in lang.get("person", ()))
                for lang in languages},
        checks=checks,
    )
    return flow, problems


def _words_table(languages: list[SourceMap], section: str) -> dict[str, dict[str, tuple]]:
    """{name: {lang: words}} from every language file's `commands` or `words`."""
    table: dict[str, dict[str, tuple]] = {}
    for lang in languages:
        for name, words in lang.get(section, {}).items():
            table.setdefault(name, {})[lang["code"]] = tuple(str(w) for w in words)
    return table


def _condition(raw: Any, path: str, line: int, problems: list[Problem]) -> Expression | None:
    if raw is None:
        return None
    try:
        return parse(raw)
    except ExpressionError as error:
        problems.append(Problem(path, line, str(error)))
        return None


def _question(raw: SourceMap, path: str, problems: list[Problem]) -> Question:
    choices = tuple(
        Choice(
            value=c["value"],
            label=c["label"],
            words=tuple(c.get("words", ())),
            sets=dict(c.get("sets", {})),
            line=c.line,
            hours=_hours_range(c.get("hours")),
        )
        for c in raw.get("choices", ())
    )
    branches = SourceList(raw.get("next", ()))
    question = Question(
        id=raw["id"],
        type=raw["type"],
        ask=raw["ask"],
        help=raw.get("help"),
        retry=raw.get("retry"),
        when=_condition(raw.get("when"), path, raw.line_of("when"), problems),
        optional=raw.get("optional", False),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        counts=raw.get("counts"),
        always=raw.get("always", False),
        choices=choices,
        branches=tuple(
            Branch(_condition(b.get("if"), path, b.line_of("if"), problems), b["goto"], b.line)
            for b in branches
        ),
        line=raw.line,
        field_lines=dict(raw.key_lines),
    )
    _check_question_shape(question, raw, path, problems)
    return question


def _checks(raw: SourceList, path: str, problems: list[Problem]) -> tuple[Check, ...]:
    checks = []
    for node in raw:
        condition = _condition(node["if"], path, node.line_of("if"), problems)
        if condition is not None:
            checks.append(Check(node["id"], condition, node["ask"], node["say"], node.line))
    return tuple(checks)


def _check_checks(checks: tuple[Check, ...], questions: tuple[Question, ...],
                  messages: SourceMap, path: str, problems: list[Problem]) -> None:
    ids = [q.id for q in questions]
    for check in checks:
        if check.ask not in ids:
            problems.append(Problem(path, check.line, f"check '{check.id}': ask '{check.ask}' is "
                                    f"not a question id{_did_you_mean(check.ask, ids)}"))
        if check.say not in messages:
            problems.append(Problem(path, check.line, f"check '{check.id}': say '{check.say}' is "
                                    f"not a message{_did_you_mean(check.say, list(messages))}"))


def _hours_range(raw: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """`hours: {from: 20}` or `hours: {from: 1, below: 20}` as [from, below)."""
    if raw is None:
        return None
    return float(raw.get("from", 0)), float(raw.get("below", float("inf")))


def _check_question_shape(question: Question, raw: SourceMap, path: str,
                          problems: list[Problem]) -> None:
    where = f"question '{question.id}'"
    if question.type == "choice" and not question.choices:
        problems.append(
            Problem(path, raw.line_of("type"), f"{where} is a choice but has no choices")
        )
    if question.type != "choice" and question.choices:
        problems.append(Problem(path, raw.line_of("choices"),
                                f"{where} has choices but its type is '{question.type}'"))
    if question.minimum is not None and question.maximum is not None \
            and question.minimum > question.maximum:
        problems.append(Problem(path, raw.line_of("min"), f"{where}: min is larger than max"))
    seen: set[str] = set()
    for choice in question.choices:
        if choice.value in seen:
            problems.append(Problem(path, choice.line,
                                    f"{where}: the choice value '{choice.value}' appears twice"))
        seen.add(choice.value)


def _check_ids_and_targets(questions: tuple[Question, ...], raw: SourceList, path: str,
                           problems: list[Problem]) -> None:
    ids = [q.id for q in questions]
    for index, question in enumerate(questions):
        if question.id == RESULTS:
            problems.append(
                Problem(path, question.line, f"'{RESULTS}' is reserved for the results")
            )
        if ids.index(question.id) != index:
            first = questions[ids.index(question.id)].line
            problems.append(Problem(path, raw[index].line_of("id"),
                                    f"the question id '{question.id}' is used twice "
                                    f"(first on line {first})"))
        for branch in question.branches:
            if branch.goto != RESULTS and branch.goto not in ids:
                hint = _did_you_mean(branch.goto, [*ids, RESULTS])
                problems.append(Problem(path, branch.line,
                                        f"goto '{branch.goto}' is not a question id{hint}"))


def _did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
