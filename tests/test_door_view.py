"""The web door's view (bot/door_view.py): the page's buttons, cards, links and services,
computed from the engine's session with no I/O."""

from __future__ import annotations

import json

import pytest

from bot import door_view, results
from bot.engine import new_session, step
from bot.i18n import LANGUAGES
from bot.webtexts import load_web_texts

NOW = 1_800_000_000.0
ANSWERS = {"age": "22", "zip": "95112", "household_size": "2", "monthly_income": "1200",
           "youngest_child_age": "2"}


@pytest.fixture(scope="module")
def texts(content):
    web = load_web_texts()
    return {lang: web.in_language(content, lang, 30) for lang in LANGUAGES}


def at(content, question_id: str, lang: str = "en") -> dict:
    session = new_session(content, NOW, lang)
    session["question"] = question_id
    return session


def tap_to_results(content, texts, lang: str) -> dict:
    """Start, then tap the first button (a yes/no: the second, no) or type the answer."""
    session = step(content, None, content.command_words("start", lang)[0], NOW, lang=lang).session
    for _ in range(40):
        if session["stage"] == "results":
            return session
        buttons = door_view.buttons(content, session, lang, texts[lang])
        question = content.flow.question(session["question"])
        if question.type in ("number", "money", "zip"):
            text = ANSWERS[question.id]
        else:
            text = buttons[1 if question.type == "yes_no" else 0]["send"]
        session = step(content, session, text, NOW, lang=lang).session
    raise AssertionError(session)


def test_a_fresh_page_offers_one_start_button_that_starts_in_the_page_language(content, texts):
    [start] = door_view.view(content, None, "vi", texts=texts["vi"])["buttons"]
    assert start["label"] == texts["vi"]["start"]
    first = step(content, None, start["send"], NOW, lang="vi")
    assert first.session["lang"] == "vi" and first.session["stage"] == "asking"
    assert first.replies == step(content, None, "xin chào", NOW, lang="vi").replies


def test_after_stop_the_start_button_says_start_in_the_language(content, texts):
    view = door_view.view(content, None, "es", texts=texts["es"], opted_out=True)
    assert view["stage"] == "stopped"
    assert view["buttons"] == [{"label": texts["es"]["start"], "send": "INICIAR"}]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_yes_no_question_has_the_languages_own_yes_and_no(content, texts, lang):
    yes, no = door_view.buttons(content, at(content, "student", lang), lang, texts[lang])
    words = content.flow.words
    assert (yes["send"], no["send"]) == (words["yes"][lang][0], words["no"][lang][0])
    assert yes["label"].casefold() == yes["send"].casefold()


def test_the_vietnamese_yes_button_reads_co(content, texts):
    assert door_view.buttons(content, at(content, "student", "vi"), "vi", texts["vi"])[0] == {
        "label": "Có", "send": "có"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_choice_question_has_its_translated_labels_sending_their_numbers(content, texts, lang):
    question = content.flow.question("work")
    buttons = door_view.buttons(content, at(content, "work", lang), lang, texts[lang])
    assert buttons == [{"label": content.text(lang, choice.label), "send": str(number)}
                       for number, choice in enumerate(question.choices, start=1)]


def test_an_optional_question_adds_skip_in_the_language(content, texts):
    buttons = door_view.buttons(content, at(content, "zip", "es"), "es", texts["es"])
    assert buttons == [{"label": "Saltar", "send": "SALTAR"}]
    assert door_view.buttons(content, at(content, "age"), "en", texts["en"]) == []


def test_the_language_menu_lists_each_language_by_its_own_name(content, texts):
    session = {**new_session(content, NOW), "stage": "language"}
    assert [b["label"] for b in door_view.buttons(content, session, "en", texts["en"])] == [
        content.flow.languages[code].name for code in content.languages]


@pytest.mark.parametrize("stage,labels", [
    ("confirm", ["Yes", "No"]), ("handoff_consent", ["Yes", "No"]),
    ("idle_offer", ["Go on", "Start over"]), ("urgent", ["Back to my questions"]),
    ("results", []), ("with_navigator", [])])
def test_other_stages_offer_what_they_wait_for(content, texts, stage, labels):
    session = {**new_session(content, NOW), "stage": stage}
    assert [b["label"] for b in door_view.buttons(content, session, "en", texts["en"])] == labels


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sending_a_buttons_text_does_what_typing_its_answer_does(content, texts, lang):
    """A tap is a typed answer: no (typed as the language's NO word) and choice 2."""
    for question_id, typed in (("student", content.flow.words["no"][lang][0]), ("work", "2")):
        session = at(content, question_id, lang)
        buttons = door_view.buttons(content, session, lang, texts[lang])
        tapped = next(b for b in buttons if b["send"] == typed)
        assert step(content, session, tapped["send"], NOW).session["answers"] \
            == step(content, session, typed, NOW).session["answers"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_results_are_a_card_for_every_matched_program_in_the_language(content, texts, lang):
    session = tap_to_results(content, texts, lang)
    view = door_view.view(content, session, lang, texts=texts[lang])
    assert [card["id"] for card in view["results"]] == session["programs"]
    assert len(view["results"]) > len(results.paginate(content, lang, [
        content.rules.program(p) for p in session["programs"]])[0])  # more than one SMS page
    first = content.rules.program(session["programs"][0])
    assert view["results"][0]["name"] == content.text(lang, first.name)
    assert view["results"][0]["apply"] == content.text(lang, first.apply)
    assert view["can_text_results"] and view["buttons"] == []
    json.dumps(view)  # the page's script reads it as JSON


def test_before_the_results_there_are_no_cards_no_services_and_nothing_to_text(content, texts):
    view = door_view.view(content, at(content, "age"), "en", texts=texts["en"])
    assert (view["results"], view["services"], view["can_text_results"]) == (None, [], False)
    assert view["question"] == {"id": "age", "type": "number", "optional": False}


def test_outside_california_shows_no_cards_and_nothing_to_text(content, texts):
    session = {**new_session(content, NOW), "stage": "results", "question": None,
               "outside": True}
    view = door_view.view(content, session, "en", texts=texts["en"])
    assert view["results"] is None and not view["can_text_results"]


def test_links_are_tel_and_https_only_in_the_order_written():
    text = ("Apply at BenefitsCal.com or call 408-758-3800. Second Harvest: 1-800-984-3663. "
            "Call 2-1-1. See pge.com/care or https://edd.ca.gov/ui. Form 3514, 1.5 percent, "
            "1867 Senter Rd. javascript:alert(1) data:text/html,x BenefitsCal.com again.")
    assert door_view.links(text) == [
        {"href": "https://BenefitsCal.com", "label": "BenefitsCal.com"},
        {"href": "tel:+14087583800", "label": "408-758-3800"},
        {"href": "tel:+18009843663", "label": "1-800-984-3663"},
        {"href": "tel:211", "label": "2-1-1"},
        {"href": "https://pge.com/care", "label": "pge.com/care"},
        {"href": "https://edd.ca.gov/ui", "label": "edd.ca.gov/ui"}]


def test_every_programs_links_are_the_same_in_every_language(content):
    """Translators keep numbers and sites as they are: each language links the same ones."""
    for program in content.rules.programs:
        english = {link["href"] for link in door_view.links(program.apply)}
        for lang in LANGUAGES[1:]:
            translated = door_view.links(content.text(lang, program.apply))
            assert {link["href"] for link in translated} == english, (program.id, lang)


def test_help_today_lists_the_services_the_sms_lines_name(content, texts):
    session = tap_to_results(content, texts, "en")
    view = door_view.view(content, session, "en", texts=texts["en"])
    food = content.urgent.need("food")
    lines = results.service_lines(content, "en", food, session["answers"])
    places = results.nearest_places(content, "en", food, session["answers"])
    assert view["services"][:len(places)] == [
        {"name": p.name, "phone": p.phone, "href": door_view.phone_href(p.phone),
         "address": p.address, "hours": p.hours} for p in places]
    assert all(line.startswith(p.name) for line, p in zip(lines, places, strict=True))
    assert all(s["href"].startswith("tel:") for s in view["services"])
    assert len({(s["name"], s["phone"]) for s in view["services"]}) == len(view["services"])


@pytest.mark.parametrize("number,href", [("988", "tel:988"), ("211", "tel:211"),
                                         ("408-278-6420", "tel:+14082786420"),
                                         ("1-800-704-0900", "tel:+18007040900"),
                                         ("12", None)])
def test_phone_hrefs(number, href):
    assert door_view.phone_href(number) == href


def test_a_tapped_buttons_label_is_what_the_transcript_shows(content, texts):
    buttons = door_view.buttons(content, at(content, "work"), "en", texts["en"])
    assert door_view.shown(buttons, "2") == content.text("en", content.flow.question(
        "work").choices[1].label)
    assert door_view.shown(buttons, "22") is None


def test_the_view_carries_the_turns_replies_and_the_transcript(content, texts):
    transcript = [{"from": "resident", "text": "hi"}, {"from": "bot", "text": "How old?"}]
    view = door_view.view(content, at(content, "age", "hi"), "hi", texts=texts["hi"],
                          replies=["How old?"], transcript=transcript)
    assert (view["lang"], view["dir"], view["stage"]) == ("hi", "ltr", "asking")
    assert view["replies"] == ["How old?"] and view["transcript"] == transcript
