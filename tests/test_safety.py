"""Safety first, in every stage: a message about a crisis gets help before anything else
could take it: the idle offer, a flow edit, the language menu, an opt-out phrase or an
answer reader. A message carrying a crisis phrase is never read as an answer."""

from __future__ import annotations

import pytest
from flow_copies import remove_question

from bot.content import load_content
from bot.engine import step

NOW = 1_800_000_000.0
HOURS = 3600


def talk(content, *messages, session=None, now=NOW, lang=None):
    result = None
    for minute, message in enumerate(messages):
        result = step(content, session, message, now + 60 * minute, lang=lang)
        session = result.session
    return result


def urgent_need(result) -> str | None:
    return next((e.data["need"] for e in result.events if e.kind == "urgent"), None)


def test_a_crisis_after_hours_away_gets_help_not_the_welcome_back_offer(content):
    session = talk(content, "hi", "22", "95112").session
    later = step(content, session, "thinking of killing myself", NOW + 10 * HOURS)
    assert urgent_need(later) == "crisis"
    assert "988" in later.replies[0]
    assert "Welcome back" not in "\n".join(later.replies)
    assert later.session["answers"] == {"age": 22, "zip": "95112"}  # nothing lost


def test_a_crisis_right_after_a_flow_edit_gets_help_and_the_edit_is_noted_later(
        content, flows):
    session = talk(content, "hi", "22", "95112").session  # on household_size
    edited = load_content(remove_question(flows, "household_size", "has_children"))
    crisis = step(edited, session, "i want to die", NOW + 600)
    assert urgent_need(crisis) == "crisis"
    assert "We updated our questions" not in "\n".join(crisis.replies)
    back = step(edited, crisis.session, "1", NOW + 660)
    assert back.session["question"] == "has_children"


def test_a_crisis_at_the_language_menu_keeps_the_menus_place(content):
    session = talk(content, "hi", "22", "LANGUAGE").session
    assert session["stage"] == "language"
    crisis = step(content, session, "i want to die", NOW + 600)
    assert urgent_need(crisis) == "crisis"
    menu = step(content, crisis.session, "1", NOW + 660)
    assert menu.session["stage"] == "language"
    chosen = step(content, menu.session, "2", NOW + 720)  # Español
    assert chosen.session["lang"] == "es"
    assert chosen.session["stage"] == "asking"
    assert chosen.session["question"] == "zip"  # back where the resident was


@pytest.mark.parametrize(("lang", "text", "need"), [
    ("pa", "ਮੈਂ ਆਪਣੀ ਜਾਨ ਲੈਣਾ ਚਾਹੁੰਦੀ ਹਾਂ", "crisis"),  # ends in ਹਾਂ, the yes word
    ("en", "i want to die yes", "crisis"),
    ("es", "no tengo nada que comer", "food"),  # starts with no
    ("en", "no, my boyfriend hits me", "violence"),
    ("hi", "मुझे मरना है", "crisis"),
    ("vi", "chồng tôi đánh tôi", "violence"),
])
def test_a_crisis_sentence_is_never_read_as_a_yes_or_no_answer(content, lang, text, need):
    session = talk(content, "hi", "22", "95112", "1", lang=lang).session  # on has_children
    result = step(content, session, text, NOW + 600, lang=lang)
    assert urgent_need(result) == need
    assert "has_children" not in result.session["answers"]


def test_an_urgent_need_comes_before_an_opt_out_phrase_in_the_same_message(content):
    session = talk(content, "hi", "22").session
    result = step(content, session, "stop texting me i want to kill myself", NOW + 600)
    assert urgent_need(result) == "crisis"
    assert result.session is not None


def test_stop_alone_is_honoured_at_once_even_after_hours_away(content):
    session = talk(content, "hi", "22").session
    result = step(content, session, "STOP", NOW + 10 * HOURS)
    assert result.session is None


@pytest.mark.parametrize("text", ["stop texting me", "please stop", "unsubscribe me"])
def test_opt_out_phrases_in_a_sentence_opt_out(content, text):
    session = talk(content, "hi", "22").session
    assert step(content, session, text, NOW + 600).session is None


def test_an_opt_out_sentence_as_a_first_message_opts_out(content):
    result = step(content, None, "please stop texting me", NOW)
    assert result.session is None
    assert [event.kind for event in result.events] == ["command", "opted_out"]


# -- a crisis away from the questions: a follow-up, a consent question, a navigator's case ----

def _at_results(content):
    now, result = NOW, step(content, None, "hi", NOW)
    for answer in ("20", "95112", "1", "no", "no", "1200", "1", "no", "no", "no", "no"):
        now += 60
        result = step(content, result.session, answer, now)
    assert result.session["stage"] == "results"
    return result.session, now


@pytest.mark.parametrize("away", ["follow_up", "handoff_consent", "with_navigator"])
def test_a_crisis_away_from_the_questions_is_answered_and_1_then_goes_back_there(content, away):
    session, now = _at_results(content)
    if away == "follow_up":
        session.update(stage=away, follow_up={"kind": "applied",
                                              "programs": session["programs"][:2]})
    else:
        session = step(content, session, "PERSON", now).session
        if away == "with_navigator":
            session = step(content, session, "yes", now + 1).session
    crisis = step(content, session, "i want to kill myself", now + 60)
    assert [e.kind for e in crisis.events][:1] == ["urgent"] and "988" in " ".join(crisis.replies)
    back = step(content, crisis.session, "1", now + 120)
    assert back.session["stage"] == away
    if away == "with_navigator":
        assert back.replies == [] and [e.kind for e in back.events] == ["to_navigator"]
    else:
        assert back.replies  # the follow-up or the consent question again


@pytest.mark.parametrize("away", ["follow_up", "handoff_consent"])
def test_changing_language_at_a_follow_up_or_consent_question_asks_it_again_in_that_language(
        content, away):
    session, now = _at_results(content)
    if away == "follow_up":
        session.update(stage=away, follow_up={"kind": "applied",
                                              "programs": session["programs"][:2]})
    else:
        session = step(content, session, "PERSON", now).session
    menu = step(content, session, "LANGUAGE", now + 60)
    chosen = step(content, menu.session, "2", now + 120)  # Español
    assert chosen.session["stage"] == away and chosen.session["lang"] == "es"
    expected = "follow_up_retry" if away == "follow_up" else "handoff_consent"
    assert chosen.replies == [content.message("es", expected)]
