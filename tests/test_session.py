"""Sessions outlive deploys: one saved by older code is brought up to date, step by step,
and what the engine saves is plain JSON."""

from __future__ import annotations

import json

from bot.engine import step
from bot.session import FORMAT, MIGRATIONS, Stage, upgrade

NOW = 1_800_000_000.0


def test_every_format_has_a_step_to_the_next_and_new_sessions_are_current():
    assert sorted(MIGRATIONS) == list(range(1, FORMAT))
    assert upgrade({"stage": Stage.ASKING})["format"] == FORMAT


def test_a_format_1_session_mid_urgent_goes_back_to_its_question(content):
    asked = step(content, None, "hi", NOW).session
    saved = {**asked, "format": 1, "stage": "urgent", "resume": "asking"}  # as format 1 kept it
    back = step(content, json.loads(json.dumps(saved)), "1", NOW + 60)
    assert back.session["stage"] == Stage.ASKING
    assert back.session["question"] == "age"
    assert "resume" not in back.session and back.session["format"] == FORMAT


def test_a_saved_session_is_plain_json_with_stages_as_words(content):
    session = step(content, None, "hi", NOW).session
    assert json.loads(json.dumps(session))["stage"] == "asking"
