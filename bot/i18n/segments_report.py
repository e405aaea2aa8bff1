"""`screener segments`: what the text line costs in SMS segments, per language.

Writes the table kept in docs/segments.md: each question as sent (with its choices), and whole
screenings along the longest path (every conditional question asked), the shortest one and the
clear case of issue 14, counted by running the real engine, welcome and first results page
included.

The two paths are derived from the flow, not scripted: whatever question the bot asks, we
answer it (by its id and type) with the answer that opens the most conditional questions, or
the fewest, so adding, removing or reordering questions never breaks the report.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.checkins import question_text
from bot.content import Content
from bot.engine import step
from bot.flow import RESULTS, Flow, Question, applies
from bot.i18n.check import rendered_questions
from bot.segments import count
from bot.session import Stage

SAMPLE_ZIP = "95112"  # downtown San José: a real ZIP inside the county
MONEY_STEP = 100  # dollars either side of an income threshold in a condition
MAX_TURNS = 60
# A fixed clock (15 January 2027), a minute between messages: the rules as they stand then
# decide the results page, the same in every run.
START = 1_800_000_000.0


# The clear case of issue 14, answered by question id: a single 20-year-old in downtown San
# José, no children, not pregnant, $1,200 a month from 20+ hours of work, not a student, never
# in foster care, no health insurance, housing not at risk. Every SMS segment is paid by the
# city: this screening must cost at most CLEAR_CASE_TARGET segments in English and
# CLEAR_CASE_TARGET_OTHERS in every other language.
CLEAR_CASE = {"age": "20", "zip": SAMPLE_ZIP, "household_size": "1", "has_children": "NO",
              "pregnant": "NO", "monthly_income": "1200", "work": "1", "student": "NO",
              "foster_youth": "NO", "has_health_insurance": "NO", "housing_risk": "NO"}
CLEAR_CASE_TARGET, CLEAR_CASE_TARGET_OTHERS = 12, 18

# What the next message is, given the question the bot waits at and the answers so far.
Answerer = Callable[[Question, Mapping[str, Any]], str]


def clear_case_target(lang: str) -> int:
    return CLEAR_CASE_TARGET if lang == "en" else CLEAR_CASE_TARGET_OTHERS


@dataclass(frozen=True)
class Screening:
    """One scripted screening: every text sent (welcome to first results page) and the
    questions asked."""

    texts: tuple[str, ...]
    asked: tuple[str, ...]  # question ids, in the order the bot asked them
    programs: tuple[str, ...]  # the programs on the results, most valuable first

    @property
    def messages(self) -> int:
        return len(self.texts)

    @property
    def segments(self) -> int:
        return sum(count(text).segments for text in self.texts)


def said(content: Content, lang: str, token: str) -> str:
    """A scripted message in `lang`: HELLO is its greeting, YES and NO its answer words, a
    command name in capitals (SKIP, BACK, MORE...) its first command word; else as written."""
    language = content.flow.languages[lang]
    if token == "HELLO":
        return language.detect[0] if language.detect else "hi"
    if token in ("YES", "NO"):
        return content.flow.words[token.lower()][lang][0]
    if token.isupper() and token.lower() in content.flow.commands:
        return content.flow.commands[token.lower()][lang][0]
    return token


def candidates(flow: Flow, question: Question, longest: bool) -> list[tuple[str, Any]]:
    """(token to send, value it records) for each answer worth trying, preferred first.

    Numbers try both sides of every threshold a condition compares them with; SKIP comes
    first on the shortest path and last on the longest."""
    found: list[tuple[str, Any]]
    if question.type == "yes_no":
        found = [("YES", True), ("NO", False)] if longest else [("NO", False), ("YES", True)]
    elif question.type == "choice":
        found = [(str(number), choice.value)
                 for number, choice in enumerate(question.choices, start=1)]
    elif question.type in ("number", "money"):
        found = [(str(value), value) for value in _numbers(flow, question)]
    elif question.type == "zip":
        found = [(SAMPLE_ZIP, SAMPLE_ZIP)]
    else:
        found = [("ok", "ok")]
    if question.optional:
        found = [*found, ("SKIP", None)] if longest else [("SKIP", None), *found]
    return found


def _numbers(flow: Flow, question: Question) -> list[int]:
    low = int(question.minimum) if question.minimum is not None else 0
    high = int(question.maximum) if question.maximum is not None else None
    step_size = MONEY_STEP if question.type == "money" else 1
    values: list[int] = []
    for threshold in _thresholds(flow, question.id):
        values += [threshold - step_size, threshold, threshold + step_size]
    values += [low] if high is None else [low, high]
    inside = [v for v in values if v >= low and (high is None or v <= high)]
    return list(dict.fromkeys(inside))


def _thresholds(flow: Flow, name: str) -> Iterator[int]:
    """Whole numbers that a `when`/`if` condition compares the answer `name` with."""
    conditions = [q.when for q in flow.questions if q.when is not None]
    conditions += [b.condition for q in flow.questions for b in q.branches if b.condition]
    for condition in conditions:
        for node in ast.walk(condition.tree):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            if any(isinstance(side, ast.Name) and side.id == name for side in sides):
                yield from (int(side.value) for side in sides
                            if isinstance(side, ast.Constant)
                            and isinstance(side.value, int | float)
                            and not isinstance(side.value, bool))


def still_asked(content: Content, answers: Mapping[str, Any], start: str) -> list[Question]:
    """The questions the flow would go on to ask from `start`, as far as the answers so far
    tell (an unanswered value is unknown, as the engine treats it)."""
    flow = content.flow
    facts = content.rules.facts(answers)
    asked: list[Question] = []
    seen: set[str] = set()
    target = start
    while target != RESULTS and target not in seen:
        seen.add(target)
        question = flow.question(target)
        if question is None:
            break
        if question.id not in answers and applies(question, facts):
            asked.append(question)
        target = flow.target_after(question, facts)
    return asked


def scripted_answer(content: Content, question: Question, answers: Mapping[str, Any],
                    longest: bool) -> str:
    """The token that answers `question` so the most (or fewest) questions follow; ties go
    to the costlier (or cheaper) questions in English, then to the preferred answer."""
    best: tuple[tuple[int, int], str] | None = None
    for token, value in candidates(content.flow, question, longest):
        chosen = next((c for c in question.choices if c.value == value), None)
        after = {**answers, question.id: value, **(chosen.sets if chosen else {})}
        target = content.flow.target_after(question, content.rules.facts(after))
        rest = still_asked(content, after, target)
        cost = (len(rest), sum(count(text).segments for text in _english(content, rest)))
        score = cost if longest else (-cost[0], -cost[1])
        if best is None or score > best[0]:
            best = (score, token)
    assert best is not None  # every question type has at least one candidate
    return best[1]


def _english(content: Content, questions: list[Question]) -> list[str]:
    ids = {q.id for q in questions}
    return [text for qid, text, _ in rendered_questions(content.flow, str) if qid in ids]


def screening(content: Content, lang: str, longest: bool) -> Screening:
    """The longest or the shortest path through the flow in `lang`."""
    return run(content, lang,
               lambda question, answers: scripted_answer(content, question, answers, longest))


def answering(answers: Mapping[str, str]) -> Answerer:
    """Answer by question id, so a new or moved question never shifts the answers; an
    optional question with no answer given is skipped."""

    def answer(question: Question, _known: Mapping[str, Any]) -> str:
        if question.id in answers:
            return answers[question.id]
        if question.optional:
            return "SKIP"
        raise ValueError(f"no answer for question '{question.id}'")

    return answer


def clear_case(content: Content, lang: str) -> Screening:
    return run(content, lang, answering(CLEAR_CASE))


def run(content: Content, lang: str, answer: Answerer) -> Screening:
    """Run the engine in `lang` from the greeting to the first results page, answering
    whatever it asks with `answer`; keep every text it sends."""
    session, texts, asked = None, [], []
    text = said(content, lang, "HELLO")
    for minute in range(MAX_TURNS):
        result = step(content, session, text, START + 60.0 * minute, lang=lang)
        session = result.session
        texts += result.replies
        if session is None or session["stage"] == RESULTS:
            break
        if session["stage"] != Stage.ASKING:
            raise ValueError(f"the scripted screening in {lang} stopped at '{session['stage']}'")
        question = content.flow.question(session["question"])
        if asked.count(question.id) >= 3:
            raise ValueError(f"the scripted screening in {lang} is stuck at '{question.id}': "
                             f"the bot does not accept {text!r}")
        asked.append(question.id)
        text = said(content, lang, answer(question, session["answers"]))
    if session is None or session["stage"] != RESULTS:
        raise ValueError(f"the scripted screening in {lang} did not reach the results")
    return Screening(tuple(texts), tuple(dict.fromkeys(asked)), tuple(session["programs"]))


def follow_up_texts(content: Content) -> list[tuple[str, str, list[str]]]:
    """(row label, message key, program ids) for the texts sent days after a screening: with
    the usual top two programs, and with the two longest program names (the worst case)."""
    usual = ["calfresh", "medi_cal"]
    longest = sorted((p.id for p in content.rules.programs),
                     key=lambda pid: -len(content.rules.program(pid).name))[:2]
    return [("follow-up: nudge", "nudge", []),
            ("follow-up: did you apply? (CalFresh, Medi-Cal)", "ask_applied", usual),
            ("follow-up: did you apply? (two longest names)", "ask_applied", longest),
            ("follow-up: were you approved? (CalFresh, Medi-Cal)", "ask_approved", usual)]


def report(content: Content) -> str:
    languages = [lang for lang in content.languages if lang in content.flow.languages]
    header = "| question | " + " | ".join(languages) + " |"
    rule = "|---|" + "---|" * len(languages)
    per_question: dict[str, list[str]] = {}
    for lang in languages:
        for question_id, text, _ in rendered_questions(
                content.flow, lambda msgid, lang=lang: content.text(lang, msgid)):
            counted = count(text)
            unit = "ch" if counted.encoding == "GSM-7" else "u"
            per_question.setdefault(question_id, []).append(
                f"{counted.segments} ({counted.units} {unit})"
            )
    rows = [f"| `{qid}` | " + " | ".join(cells) + " |" for qid, cells in per_question.items()]
    kind_of = {"ask_applied": "applied", "ask_approved": "approved"}
    for label, key, programs in follow_up_texts(content):
        cells = []
        for lang in languages:
            counted = count(content.message(lang, key) if not programs
                            else question_text(content, lang, kind_of[key], programs) or "")
            unit = "ch" if counted.encoding == "GSM-7" else "u"
            cells.append(f"{counted.segments} ({counted.units} {unit})")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    totals = []
    for name, longest in (("longest path", True), ("shortest path", False)):
        runs = [screening(content, lang, longest) for lang in languages]
        totals.append(f"| whole screening, {name} | " + " | ".join(
            f"**{done.segments}** in {done.messages} msgs" for done in runs) + " |")
    totals.append(f"| whole screening, clear case (target: en {CLEAR_CASE_TARGET}, others "
                  f"{CLEAR_CASE_TARGET_OTHERS}) | " + " | ".join(
        f"**{done.segments}** in {done.messages} msgs"
        for done in (clear_case(content, lang) for lang in languages)) + " |")
    budget = content.flow.settings.question_segments
    return "\n".join([
        "# SMS segments per question and per screening",
        "",
        "Produced by `screener segments --write docs/segments.md` from the shipped flows and",
        "catalogs; do not edit by hand. A cell is `segments (length)`: GSM-7 texts count",
        "characters (`ch`, 160 in one segment, 153 per part), UCS-2 texts count UTF-16 units",
        f"(`u`, 70 in one segment, 67 per part). The budget for a question is {budget} segments.",
        "Segments are counted as Twilio bills them: a part never splits a grapheme cluster (a",
        "letter with its vowel signs), so Punjabi and Hindi parts often carry under 67 units.",
        "",
        header, rule, *rows, *totals,
        "",
        "Both paths are derived from the flow: each question the bot asks gets the answer that",
        "opens the most conditional questions (longest) or skips the most, with SKIP where a",
        "question allows it (shortest). The clear case is a single 20-year-old in ZIP 95112",
        "earning $1,200 a month from 20+ hours of work, with no children, no pregnancy, no",
        "school, no foster care, no health insurance and no housing risk (issue 14; its test",
        "is tests/test_clear_case_cost.py). Screenings count every reply: welcome, questions,",
        "read-backs and the first page of results. Follow-ups name the top two programs, or",
        "only the first when two names would take the text over the budget (docs/outreach.md).",
        "",
    ])
