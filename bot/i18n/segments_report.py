"""`screener segments`: what the text line costs in SMS segments, per language.

Writes the table kept in docs/segments.md: each question as sent (with its choices), and whole
screenings along the longest path (every conditional question asked) and the shortest one,
counted by running the real engine, welcome and first results page included.
"""

from __future__ import annotations

from bot.content import Content
from bot.engine import step
from bot.i18n.check import rendered_questions
from bot.segments import count

# Answers that ask every conditional question, and answers that skip as many as possible,
# as tokens that `said` turns into the language's own words.
LONGEST = ["HELLO", "22", "95112", "3", "YES", "2", "YES", "2000", "1", "YES", "YES", "NO",
           "NO"]
SHORTEST = ["HELLO", "40", "SKIP", "1", "NO", "NO", "0", "NO", "NO", "YES", "NO"]


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


def screening_cost(content: Content, lang: str, answers: list[str]) -> tuple[int, int]:
    """(messages sent, segments) for one whole screening in `lang`."""
    session, messages, used = None, 0, 0
    for minute, token in enumerate(answers):
        result = step(content, session, said(content, lang, token), 60.0 * minute, lang=lang)
        session = result.session
        messages += len(result.replies)
        used += sum(count(reply).segments for reply in result.replies)
    if session is None or session["stage"] != "results":
        raise ValueError(f"the scripted screening in {lang} did not reach the results")
    return messages, used


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
    totals = []
    for name, script in (("longest path", LONGEST), ("shortest path", SHORTEST)):
        cells = []
        for lang in languages:
            messages, used = screening_cost(content, lang, script)
            cells.append(f"**{used}** in {messages} msgs")
        totals.append(f"| whole screening, {name} | " + " | ".join(cells) + " |")
    budget = content.flow.settings.question_segments
    return "\n".join([
        "# SMS segments per question and per screening",
        "",
        "Produced by `screener segments --write docs/segments.md` from the shipped flows and",
        "catalogs; do not edit by hand. A cell is `segments (length)`: GSM-7 texts count",
        "characters (`ch`, 160 in one segment, 153 per part), UCS-2 texts count UTF-16 units",
        f"(`u`, 70 in one segment, 67 per part). The budget for a question is {budget} segments.",
        "",
        header, rule, *rows, *totals,
        "",
        "The longest path asks every conditional question (a child, income, 25 or younger);",
        "the shortest skips them. Screenings count every reply: welcome, questions, read-backs",
        "and the first page of results.",
        "",
    ])
