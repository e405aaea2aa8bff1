"""Golden conversations: each persona in tests/personas.yaml, in every language.

A persona answers by question id: the driver replies to whatever question the bot asks next,
so a new question changes the transcripts (to re-record and read) but not the personas. The
transcript a resident would see is compared with tests/golden/<lang>/<persona>.txt, and the
programs shown must be the same in every language. After a deliberate change, re-record with
`./scripts/record-goldens` (it shows the diff) and read the diff before committing it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from flow_copies import copy_flows, insert_before

from bot.content import Content, load_content
from bot.engine import step
from bot.flow import RESULTS, Flow
from bot.i18n.segments_report import said
from bot.yamlsource import load_yaml

HERE = Path(__file__).parent
PERSONAS = load_yaml(HERE / "personas.yaml")  # YAML 1.2 booleans: YES and NO stay words
LANGUAGES = load_content().languages
START = 1_800_000_000.0  # a fixed clock: one minute between messages, never idle
STUDENT = "  - id: student\n"  # new questions go just before this one
MAX_TURNS = 80


class PersonaError(AssertionError):
    """A persona that cannot go on: the bot asked something it has no answer for."""


def spoken(content: Content, lang: str, token: Any) -> str:
    """What the persona texts in `lang` (a mapping gives the text per language)."""
    if isinstance(token, Mapping):
        return str(token.get(lang, token["en"]))
    return said(content, lang, str(token))


class Script:
    """What one persona sends next, decided from where the conversation is."""

    def __init__(self, persona: Mapping[str, Any], flow: Flow):
        self.persona = persona
        self.flow = flow
        self.answers = {qid: list(v) if isinstance(v, list) else [v]
                        for qid, v in persona.get("answers", {}).items()}
        self.extra = [(entry["at"], list(entry["say"])) for entry in persona.get("extra", [])]
        self.queued: list[Any] = []

    def next(self, session: Mapping[str, Any] | None) -> Any | None:
        """The next token to send, or None when the persona is done."""
        if self.queued:
            return self.queued.pop(0)
        if session is None:
            return None
        stage = session["stage"]
        point = session["question"] if stage == "asking" else stage
        if self.extra and self.extra[0][0] == point:
            self.queued = self.extra.pop(0)[1]
            return self.queued.pop(0)
        if stage == RESULTS:
            return None
        if stage != "asking":
            raise PersonaError(f"persona '{self.persona['id']}': the bot waits at stage "
                               f"'{stage}', which the persona does not expect")
        return self.answer(point)

    def answer(self, question_id: str) -> Any:
        replies = self.answers.get(question_id)
        if replies:
            return replies.pop(0) if len(replies) > 1 else replies[0]
        question = self.flow.question(question_id)
        if question is not None and question.optional:
            return "SKIP"
        raise PersonaError(f"persona '{self.persona['id']}' has no answer for question "
                           f"'{question_id}': add one under its answers in tests/personas.yaml")


def converse(content: Content, lang: str, persona: Mapping[str, Any]) -> tuple[str, dict | None]:
    """Run the persona through the engine; return the transcript and the last session."""
    lines = [f"# {persona['persona']} ({lang})"]
    script = Script(persona, content.flow)
    session = None
    token = persona.get("first", "HELLO")
    for minute in range(MAX_TURNS):
        text = spoken(content, lang, token)
        result = step(content, session, text, START + 60 * minute)
        session = result.session
        lines.append(f"resident: {text}")
        for reply in result.replies:
            first, *rest = reply.split("\n")
            lines.append(f"bot:      {first}")
            lines += [f"          {line}" for line in rest]
        token = script.next(session)
        if token is None:
            break
    else:
        raise PersonaError(f"persona '{persona['id']}' is still talking after {MAX_TURNS} "
                           f"messages: the bot keeps asking '{(session or {}).get('question')}'")
    return "\n".join(lines) + "\n", session


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("persona", PERSONAS, ids=[p["id"] for p in PERSONAS])
def test_each_persona_sees_its_golden_transcript_and_programs(content, persona, lang):
    transcript, session = converse(content, lang, persona)
    golden = HERE / "golden" / lang / f"{persona['id']}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(transcript, encoding="utf-8")
    assert golden.exists(), "no golden transcript yet: run ./scripts/record-goldens"
    assert transcript == golden.read_text(encoding="utf-8")
    assert session["stage"] == "results"
    assert session["programs"] == persona["programs"]


def test_there_are_at_least_ten_personas_across_the_programs():
    shown = {program for persona in PERSONAS for program in persona["programs"]}
    assert len(PERSONAS) >= 10
    assert len(shown) >= 18


def test_personas_answer_only_questions_the_flow_has(flow):
    """A misspelt question id would be an answer silently never given."""
    ids = {question.id for question in flow.questions}
    points = ids | {RESULTS}
    for persona in PERSONAS:
        assert set(persona.get("answers", {})) <= ids, persona["id"]
        assert {entry["at"] for entry in persona.get("extra", [])} <= points, persona["id"]


# -- a staff edit: one more question -----------------------------------------------------------
NEW_QUESTION = """\
  - id: has_car
    type: yes_no
    ask: "Do you have a car? Reply YES, NO or SKIP."
    optional: true

"""


@pytest.fixture(scope="module")
def content_with_a_new_question(tmp_path_factory):
    folder = copy_flows(tmp_path_factory.mktemp("edited"))
    return load_content(insert_before(folder, STUDENT, NEW_QUESTION))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("persona", PERSONAS, ids=[p["id"] for p in PERSONAS])
def test_a_new_optional_question_still_leads_every_persona_to_its_programs(
        content_with_a_new_question, persona, lang):
    transcript, session = converse(content_with_a_new_question, lang, persona)
    assert session["stage"] == "results"
    assert session["programs"] == persona["programs"]
    skip = said(content_with_a_new_question, lang, "SKIP")
    assert f"Do you have a car? Reply YES, NO or SKIP.\nresident: {skip}\n" in transcript


def test_a_new_required_question_fails_naming_the_question(tmp_path):
    required = NEW_QUESTION.replace("    optional: true\n", "")
    content = load_content(insert_before(copy_flows(tmp_path), STUDENT, required))
    with pytest.raises(PersonaError, match="no answer for question 'has_car'"):
        converse(content, "en", PERSONAS[0])


def test_answers_are_matched_by_id_whatever_the_order_of_the_questions(content):
    persona = next(p for p in PERSONAS if p["id"] == "parent_22_toddler")
    shuffled = {**persona, "answers": dict(reversed(list(persona["answers"].items())))}
    assert converse(content, "en", shuffled) == converse(content, "en", persona)
