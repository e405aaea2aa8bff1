"""Golden conversations: each persona in tests/personas.yaml, in every language.

A persona answers by question id: the driver replies to whatever question the bot asks next,
so a new question changes the transcripts (to re-record and read) but not the personas. The
transcript a resident would see is compared with tests/golden/<lang>/<persona>.txt, and the
programs shown must be the same in every language. After a deliberate change, re-record with
`./scripts/record-goldens` (it shows the diff) and read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flow_copies import copy_flows, insert_before
from resident import PersonaError, converse

from bot.content import load_content
from bot.flow import RESULTS
from bot.i18n.segments_report import said
from bot.yamlsource import load_yaml

HERE = Path(__file__).parent
PERSONAS = load_yaml(HERE / "personas.yaml")  # YAML 1.2 booleans: YES and NO stay words
LANGUAGES = load_content().languages
STUDENT = "  - id: student\n"  # new questions go just before this one


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
    always: true

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
