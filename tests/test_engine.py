"""The engine's promises, beyond the golden conversations."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from flow_copies import remove_question

from bot.content import load_content
from bot.engine import step
from bot.segments import segments

NOW = 1_800_000_000.0
FLOWS = Path(__file__).resolve().parent.parent / "flows"


def talk(content, *messages, session=None, now=NOW, **options):
    """Send messages one minute apart; return the last step."""
    result = None
    for minute, message in enumerate(messages):
        result = step(content, session, message, now + 60 * minute, **options)
        session = result.session
    return result


def test_a_new_contact_gets_the_welcome_with_consent_and_the_first_question(content):
    reply = talk(content, "hi").replies[0]
    for words in ("free", "private", "Msg & data rates may apply", "HELP", "STOP"):
        assert words in reply
    assert "How old are you?" in reply


def test_sessions_are_plain_json_and_record_the_flow_version(content):
    session = talk(content, "hi", "22", "95112").session
    assert json.loads(json.dumps(session)) == session
    assert session["flow"] == content.fingerprint
    assert session["answers"] == {"age": 22, "zip": "95112"}


def test_the_engine_does_not_change_the_session_it_was_given(content):
    session = talk(content, "hi").session
    before = json.dumps(session, sort_keys=True)
    step(content, session, "22", NOW + 60)
    assert json.dumps(session, sort_keys=True) == before


def test_help_gives_the_question_help_and_asks_again(content):
    reply = "\n".join(talk(content, "hi", "22", "95112", "HELP").replies)
    assert "Count roommates only if you share food" in reply  # the question's help text
    assert "Msg & data rates may apply" in reply
    assert reply.endswith("Reply with a number, like 1.")


def test_repeated_misses_offer_help_but_never_guess(content):
    first = talk(content, "hi", "old")
    assert first.replies == ["Please send a number, like 3."]
    second = talk(content, "hi", "old", "very old")
    assert second.replies == ["Please send a number, like 3.\nStuck? Reply HELP."]
    assert second.session["answers"] == {}


def test_back_changes_the_last_answer_and_choice_side_answers_are_undone(content):
    result = talk(content, "hi", "22", "95112", "1", "no", "no", "1200", "3", "BACK")
    assert result.session["question"] == "work"
    assert "lost_job" not in result.session["answers"]
    assert "work" not in result.session["answers"]


def test_back_at_the_first_question_says_so(content):
    assert talk(content, "hi", "back").replies[0].startswith("This is the first question.")


def test_skip_works_only_on_optional_questions(content):
    assert talk(content, "hi", "skip").replies[0].startswith("We need this answer")
    assert talk(content, "hi", "22", "skip").session["answers"]["zip"] is None


def test_stop_erases_the_session_at_any_point(content):
    result = talk(content, "hi", "22", "Stop")
    assert result.session is None
    assert [event.kind for event in result.events] == ["command", "opted_out"]
    assert "no more texts" in result.replies[0]


def test_a_contact_back_after_hours_may_go_on_or_start_over(content):
    session = talk(content, "hi", "22").session
    later = NOW + 5 * 3600
    offer = step(content, session, "95112", later)
    assert "Reply 1 to go on" in offer.replies[0]
    go_on = step(content, offer.session, "1", later + 60)
    assert go_on.replies[0].startswith("What is your ZIP code?")
    assert go_on.session["answers"] == {"age": 22}
    over = step(content, offer.session, "2", later + 60)
    assert over.session["answers"] == {}


def test_results_pages_fit_the_sms_budget_and_whatsapp_is_not_split(content):
    says = ("hi", "22", "95116", "2", "yes", "2", "no", "2000", "1", "no", "no", "yes", "no")
    sms = talk(content, *says)
    budget = content.flow.settings.results_page_segments
    assert all(segments(reply) <= budget for reply in sms.replies)
    whatsapp = talk(content, *says, channel="whatsapp")
    assert len(whatsapp.replies) == 1


def test_no_matching_program_is_said_kindly_with_211(content):
    # Health insurance is not asked: no health program is open at $9,000 a month.
    result = talk(content, "hi", "30", "95120", "1", "no", "no", "9000", "1", "no", "no")
    assert result.session["programs"] == ["sjpl"]
    nothing = talk(content, "hi", "30", "94601", "1", "no", "no", "90000", "yes", "1", "no",
                   "no")
    assert nothing.session["programs"] == []
    assert "2-1-1" in nothing.replies[0]


def test_anything_a_resident_texts_gets_a_reply_and_never_an_error(content):
    rng = random.Random(7)
    alphabet = string.printable + "áéíóúñ¿¡ăâđêôơư०१२੦੧ਹਾਂनहीं😀\u200b\u202e\x00"
    session = None
    for turn in range(800):
        length = rng.choice([0, 1, 2, 5, 30, 200, 2000])
        text = "".join(rng.choice(alphabet) for _ in range(length))
        if turn % 7 == 0:
            text = rng.choice(["22", "yes", "no", "1", "back", "more", "skip", "restart", "2"])
        result = step(content, session, text, NOW + turn)
        assert result.replies, f"no reply to {text!r}"
        session = result.session or None


def test_a_session_whose_question_was_removed_continues_from_the_next_open_question(
        content, flows):
    session = talk(content, "hi", "22", "95112").session  # now on household_size
    edited = load_content(remove_question(flows, "household_size", "has_children"))
    result = step(edited, session, "3", NOW + 600)
    assert result.replies[0].startswith("We updated our questions.")
    assert result.session["question"] == "has_children"
    assert result.session["flow"] == edited.fingerprint
    assert result.session["answers"] == {"age": 22, "zip": "95112"}


def test_a_session_whose_question_still_exists_just_goes_on_after_an_edit(content, flows):
    session = talk(content, "hi", "22").session
    screener = flows / "screener.yaml"
    screener.write_text(screener.read_text(encoding="utf-8").replace(
        "like 22.", "like 21."), encoding="utf-8")
    result = step(load_content(flows), session, "95112", NOW + 600)
    assert result.session["answers"]["zip"] == "95112"
    assert "updated" not in result.replies[0]


def test_results_queue_one_estimate_and_did_you_apply_and_remind_asks_for_one_reminder(
        content):
    says = ("hi", "20", "95112", "1", "no", "no", "1200", "1", "no", "no", "no")
    results = talk(content, *says)
    assert [job.kind for job in results.jobs] == ["estimate", "follow_up"]
    assert results.jobs[1].data["kind"] == "applied"
    assert results.jobs[0].data["programs"] == results.session["programs"]
    first = step(content, results.session, "REMIND", NOW + 3600)
    assert [job.kind for job in first.jobs] == ["reminder"]
    assert first.jobs[0].data["days"] == content.flow.settings.reminder_days
    again = step(content, first.session, "remind me", NOW + 3660)
    assert again.jobs == []
    assert again.replies == first.replies


def test_remind_before_the_results_says_when_it_works(content):
    result = talk(content, "hi", "22", "remind")
    assert result.jobs == []
    assert result.replies[0].startswith("You can ask for a reminder once you see your results.")


@pytest.mark.parametrize("command", ["skip", "more", "remind", "back"])
def test_a_command_at_the_language_menu_shows_the_menu_again(content, command):
    menu = talk(content, "22")  # an unclear first message gets the menu
    again = step(content, menu.session, command, NOW + 60)
    assert again.session["stage"] == "language"
    assert "Español" in again.replies[-1]
    assert "programs" not in again.replies[-1]


def test_help_after_an_urgent_reply_repeats_how_to_go_back(content):
    urgent = talk(content, "hi", "22", "im hungy")
    helped = step(content, urgent.session, "help", NOW + 600)
    assert helped.replies[-1].endswith(content.urgent.resume)
    assert helped.session["stage"] == "urgent"


def test_skip_on_the_results_asks_for_a_program_number(content):
    says = ("hi", "20", "95112", "1", "no", "no", "1200", "1", "no", "no", "no", "no", "skip")
    reply = talk(content, *says).replies[-1]
    assert reply.startswith("Reply a number from 1 to 9 to learn how to apply")


def test_a_deploy_that_removes_a_program_recomputes_the_results_page(content, flows):
    says = ("hi", "20", "95112", "1", "no", "no", "1200", "1", "no", "no", "no")
    results = talk(content, *says)
    assert "calfresh" in results.session["programs"]
    programs = flows / "programs.yaml"
    programs.write_text(programs.read_text(encoding="utf-8").replace(
        "  - id: calfresh\n", "  - id: calfresh_renamed\n"), encoding="utf-8")
    deployed = load_content(flows)
    for reply in ("1", "MORE", "REMIND"):
        result = step(deployed, results.session, reply, NOW + 3600)
        assert "calfresh" not in result.session["programs"]
        assert "calfresh_renamed" in result.session["programs"]
        assert result.session["flow"] == deployed.fingerprint
