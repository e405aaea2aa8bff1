"""`screener corpus`: how well the line understands residents, measured on real phrasing.

Each language has a corpus in tests/corpus/<lang>.yaml: messages residents really send, each
at the point of the conversation where it occurs, with the reading it must get. Every case is
run through the real engine (never a reader alone), from a session standing at that point, and
the outcome is read from what the engine did: the answer it recorded, the command or urgent
need it acted on, a "not sure", a re-prompt, a read-back waiting for a yes, a follow-up
question, or the language a first message started in.

A case looks like this (one expectation each):

    - {at: student, say: "ya", answer: true}
    - {at: monthly_income, say: "15/hr 30hrs a week", answer: 1950}
    - {at: monthly_income, say: ["15 an hour", "30"], answer: 1950}
    - {at: monthly_income, say: "12", confirm: 12}
    - {at: monthly_income, say: "15 an hour", asks: hours}
    - {at: age, say: "idk", unsure: true}
    - {at: age, say: "old", again: true}
    - {at: pregnant, say: "stop texting me", command: stop}
    - {at: pregnant, say: "i want to kms", urgent: crisis}
    - {at: first, say: "necesito ayuda con la renta", lang: es}
    - {at: first, say: "ok", menu: true}
    - {at: first, say: "Feria!", campaign: feria_salud_2027}
    - {at: applied, say: "todavia no", reply: not_yet}

`at` is a question id, `first` (a new contact's first message), `results`, or `applied` /
`approved` (the follow-up question "Did you apply?" / "Were you approved?" waiting for its
1, 2 or 3). `given` overrides answers of the standard household used to reach the question.
First messages are sent on 15 January 2027, while the shipped campaigns run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content import Content
from bot.engine import Step, new_session, step
from bot.flow import RESULTS, applies
from bot.session import Stage
from bot.yamlsource import Problem, YamlFileError, load_yaml

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "corpus"
EXPECTATIONS = ("answer", "confirm", "asks", "unsure", "again", "command", "urgent", "lang",
                "menu", "campaign", "reply")
FOLLOW_UP_POINTS = ("applied", "approved")
# The household used to reach a question: every answer before it, unless a case says `given`.
STANDARD_HOUSEHOLD: dict[str, Any] = {
    "age": 20, "zip": "95112", "household_size": 3, "has_children": True,
    "youngest_child_age": 2, "pregnant": False, "monthly_income": 1500, "work": "works_20h",
    "works_20h": True, "lost_job": False, "student": False, "foster_youth": False,
    "has_health_insurance": False, "housing_risk": False,
}
FOLLOW_UPS = {"hours": "ask_hours_week", "days": "ask_days_week"}
START = 1_800_000_000.0
# Kinds of point reported per language (`kind_of`).
KIND_BY_QUESTION = {"age": "age", "youngest_child_age": "age", "household_size": "household"}
KIND_BY_TYPE = {"yes_no": "yes/no", "money": "money", "choice": "choice", "zip": "zip",
                "number": "number", "text": "text"}


@dataclass(frozen=True)
class Case:
    lang: str
    at: str
    say: tuple[str, ...]
    expect: str
    wanted: Any
    given: dict[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class Outcome:
    case: Case
    got: str  # what the engine did, in the same words as an expectation ("answer: 1950")
    passed: bool
    kind: str


def load_corpus(path: Path) -> list[Case]:
    """The cases of one language file, or YamlFileError with `path:line: problem`."""
    data = load_yaml(path)
    lang = data.get("lang") or path.stem
    problems, cases = [], []
    for raw in data.get("cases", ()):
        expected = [key for key in EXPECTATIONS if key in raw]
        if len(expected) != 1 or "at" not in raw or "say" not in raw:
            problems.append(Problem(str(path), raw.line, "a case needs `at`, `say` and exactly "
                                    f"one of {', '.join(EXPECTATIONS)}"))
            continue
        say = raw["say"]
        texts = tuple(str(s) for s in say) if isinstance(say, list) else (str(say),)
        cases.append(Case(lang, str(raw["at"]), texts, expected[0], raw[expected[0]],
                          dict(raw.get("given", {})), raw.line))
    if problems:
        raise YamlFileError(problems)
    return cases


def corpus_files(folder: Path = CORPUS_DIR) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def run_case(content: Content, case: Case) -> Outcome:
    session, now = _session_at(content, case)
    result: Step | None = None
    for index, text in enumerate(case.say):
        result = step(content, session, text, now + 60 * (index + 1),
                      lang=None if case.at == "first" else case.lang)
        session = result.session
    assert result is not None
    got = _what_happened(content, case, result)
    return Outcome(case, got, got == describe(case.expect, case.wanted), kind_of(content, case))


def run(content: Content, cases: Iterable[Case]) -> list[Outcome]:
    return [run_case(content, case) for case in cases]


def describe(expect: str, value: Any) -> str:
    """An expectation or an outcome in one line: "answer: 1950", "urgent: crisis"."""
    if expect in ("unsure", "again", "menu"):
        return expect
    if isinstance(value, bool):
        value = "yes" if value else "no"
    return f"{expect}: {value}"


def kind_of(content: Content, case: Case) -> str:
    if case.expect in ("command", "urgent", "campaign"):
        return case.expect
    if case.at in FOLLOW_UP_POINTS:
        return "follow-up"
    if case.at == "first":
        return "first message"
    if case.expect == "unsure":
        return "not sure"
    if case.at == RESULTS:
        return "results"
    question = content.flow.question(case.at)
    if question is None:
        return "unknown"
    return KIND_BY_QUESTION.get(question.id, KIND_BY_TYPE.get(question.type, question.type))


def _session_at(content: Content, case: Case) -> tuple[dict[str, Any] | None, float]:
    if case.at == "first":
        return None, START
    flow = content.flow
    household = {**STANDARD_HOUSEHOLD, **case.given}
    session = new_session(content, START, case.lang)
    if case.at == RESULTS or case.at in FOLLOW_UP_POINTS:
        programs = [p.id for p in content.rules.match(household)]
        session["answers"] = dict(household)
        session.update(stage=RESULTS, question=None, programs=programs)
        if case.at in FOLLOW_UP_POINTS:
            session.update(stage=Stage.FOLLOW_UP,
                           follow_up={"kind": case.at, "programs": programs[:2]})
        return session, START
    question = flow.question(case.at)
    if question is None:
        raise ValueError(f"tests/corpus/{case.lang}.yaml:{case.line}: no question '{case.at}'")
    before = flow.questions[:flow.position(question.id)]
    answers = {}
    for earlier in before:
        if earlier.id in household and applies(earlier, content.rules.facts(answers)):
            answers[earlier.id] = household[earlier.id]
            for choice in earlier.choices:
                if choice.value == household[earlier.id]:
                    answers.update(choice.sets)
    session["answers"] = answers
    session["trail"] = [{"id": qid, "set": [qid]} for qid in answers if flow.question(qid)]
    session["question"] = question.id
    return session, START


def _what_happened(content: Content, case: Case, result: Step) -> str:
    kinds = {event.kind: event.data for event in result.events}
    session = result.session
    if "urgent" in kinds:
        return describe("urgent", kinds["urgent"]["need"])
    if "follow_up_answer" in kinds:
        return describe("reply", kinds["follow_up_answer"]["answer"])
    if "command" in kinds:
        return describe("command", kinds["command"]["command"])
    if session is None:
        return "stopped without a command"
    if case.at == "first":
        if case.expect == "campaign":
            return describe("campaign", session.get("campaign"))
        if session["stage"] == Stage.LANGUAGE:
            return "menu"
        return describe("lang", session["lang"])
    if "unsure" in kinds:
        return "unsure"
    if session["stage"] == Stage.CONFIRM:
        return describe("confirm", session["pending"]["value"])
    pending = session.get("pending") or {}
    if pending.get("ask"):
        asks = next((name for name, key in FOLLOW_UPS.items() if key == pending["ask"]),
                    pending["ask"])
        return describe("asks", asks)
    if "answered" in kinds and case.at in session["answers"]:
        return describe("answer", session["answers"][case.at])
    if "misunderstood" in kinds or "read_back_refused" in kinds:
        return "again"
    if case.at in FOLLOW_UP_POINTS and session["stage"] == Stage.FOLLOW_UP:
        return "again"  # asked again: 1, 2 or 3
    return f"something else ({', '.join(kinds) or 'no event'})"


def table(outcomes: list[Outcome]) -> str:
    """Accuracy per language and per kind of point, as a Markdown table."""
    langs = sorted({o.case.lang for o in outcomes}, key=_lang_order)
    kinds = sorted({o.kind for o in outcomes})
    total: Counter[tuple[str, str]] = Counter()
    right: Counter[tuple[str, str]] = Counter()
    for outcome in outcomes:
        for key in ((outcome.case.lang, outcome.kind), (outcome.case.lang, "all"),
                    ("all", outcome.kind), ("all", "all")):
            total[key] += 1
            right[key] += outcome.passed

    def cell(lang: str, kind: str) -> str:
        if not total[lang, kind]:
            return "–"
        return f"{100 * right[lang, kind] / total[lang, kind]:.0f}% ({right[lang, kind]}/" \
               f"{total[lang, kind]})"

    lines = ["| kind | " + " | ".join(langs) + " | all |", "|---|" + "---|" * (len(langs) + 1)]
    for kind in [*kinds, "all"]:
        lines.append(f"| {kind} | " + " | ".join(cell(lang, kind) for lang in [*langs, "all"])
                     + " |")
    return "\n".join(lines)


def failures(outcomes: list[Outcome]) -> list[str]:
    return [f"tests/corpus/{o.case.lang}.yaml:{o.case.line}: at {o.case.at}, "
            f"{' / '.join(o.case.say)!r}: wanted {describe(o.case.expect, o.case.wanted)}, "
            f"got {o.got}" for o in outcomes if not o.passed]


def _lang_order(lang: str) -> int:
    order = ("en", "es", "vi", "pa", "hi")
    return order.index(lang) if lang in order else len(order)
