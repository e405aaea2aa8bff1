"""The outreach story as a resident reads it, in every language: a flyer's keyword, a screening
left half done, the nudge the next day, GO, the results, "Did you apply?" a week later and
"Were you approved?" a month after that.

Pure: the engine's turns (`bot.engine.step`) and the follow-ups as they come due
(`bot.checkins.check_in`), with the test's clock; the worker and Redis around them are tested
in test_outreach.py. Compared with tests/golden/<lang>/outreach_story.txt; re-record after a
deliberate change with ./scripts/record-goldens and read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from resident import Script, spoken

from bot.checkins import check_in
from bot.content import load_content
from bot.engine import step

HERE = Path(__file__).parent
START = 1_800_000_000.0  # 15 January 2027, while the shipped campaigns run
PERSONA = {"id": "outreach_story",
           "persona": "A 20-year-old who texts a flyer's keyword and stops halfway",
           "answers": {"age": 20, "zip": "95112", "household_size": 1, "has_children": "NO",
                       "pregnant": "NO", "monthly_income": 1200, "work": 1, "student": "NO",
                       "foster_youth": "NO", "has_health_insurance": "NO",
                       "housing_risk": "NO"}}
# The flyer each language's resident holds: its campaign's keyword (and the language's name
# when the campaign implies another language), as the flyer's QR code types it.
KEYWORDS = {"en": "FERIA English", "es": "FERIA", "vi": "THUVIEN", "pa": "SANGAT", "hi": "MELA"}
# The nudge's GO, in the words the nudge tells each language to type.
GO = {"en": "GO", "es": "SEGUIR", "vi": "GO", "pa": "GO", "hi": "GO"}


class Story:
    def __init__(self, content, lang: str):
        self.content, self.lang = content, lang
        self.session, self.now, self.jobs, self.queued = None, START, [], []
        self.lines = [f"# {PERSONA['persona']} ({lang})"]

    def resident(self, text: str) -> None:
        self.now += 60
        result = step(self.content, self.session, text, self.now)
        self.session = result.session
        self.jobs += [job for job in result.jobs if job.kind == "follow_up"]
        self.queued += [job for job in result.jobs if job.kind == "follow_up"]
        self.lines.append(f"resident: {text}")
        self.bot(*result.replies)

    def bot(self, *replies: str) -> None:
        for reply in replies:
            first, *rest = reply.split("\n")
            self.lines.append(f"bot:      {first}")
            self.lines += [f"          {line}" for line in rest]

    def later(self, kind: str, what: str) -> None:
        """Time passes until the follow-up `kind` comes due; it is sent."""
        job = next(j for j in self.jobs if j.data["kind"] == kind)
        self.jobs.remove(job)
        self.now = max(self.now, self.session["updated"]) + job.data["after"]
        decided = check_in(self.content, self.session, kind, job.data, self.now)
        assert decided.text, f"{kind} was not sent: {decided.events}"
        self.session = decided.session
        self.lines.append(f"          ({what})")
        self.bot(decided.text)

    def answer_until(self, stop_after: int | None = None) -> None:
        script = Script(PERSONA, self.content.flow)
        for count in range(40):
            if stop_after is not None and count == stop_after:
                return
            token = script.next(self.session)
            if token is None:
                return
            self.resident(spoken(self.content, self.lang, token))


def tell(content, lang: str) -> tuple[str, Story]:
    story = Story(content, lang)
    story.resident(KEYWORDS[lang])
    if story.session["stage"] == "language":
        story.resident("1")
    story.answer_until(stop_after=3)
    story.later("nudge", "the next day")
    story.resident(GO[lang])
    story.answer_until()
    story.later("applied", "a week later")
    story.resident("1")
    story.later("approved", "a month later")
    story.resident("3")
    return "\n".join(story.lines) + "\n", story


@pytest.mark.parametrize("lang", load_content().languages)
def test_the_outreach_story_reads_as_its_golden_transcript(content, lang):
    transcript, story = tell(content, lang)
    golden = HERE / "golden" / lang / "outreach_story.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(transcript, encoding="utf-8")
    assert golden.exists(), "no golden transcript yet: run ./scripts/record-goldens"
    assert transcript == golden.read_text(encoding="utf-8")
    assert story.session["campaign"] and story.session["lang"] == lang
    assert story.session["asked"] == ["applied", "approved"] and story.jobs == []


def test_follow_up_jobs_carry_no_answer_only_when_and_what_to_ask(content):
    _, story = tell(content, "en")
    assert [job.data["kind"] for job in story.queued] == ["nudge", "applied", "approved"]
    for job in story.queued:
        assert set(job.data) <= {"kind", "after", "lang", "campaign", "session", "programs",
                                 "results_at"}
