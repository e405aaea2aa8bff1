"""Five languages: choosing one, switching mid-way, and answers in each language's own forms."""

from __future__ import annotations

import pytest

from bot.content import load_content
from bot.engine import step
from bot.flow import Flow
from bot.i18n import DEFAULT_TRANSLATIONS_DIR
from bot.i18n.check import catalog_problems
from bot.paths import SHIPPED_FLOWS as FLOWS_DIR
from bot.questions import Context, reader_for

NOW = 1_800_000_000.0
CONTENT = load_content()


def welcome(lang: str) -> str:
    return CONTENT.message(lang, "welcome")


def talk(*messages: str, session=None):
    result = None
    for minute, message in enumerate(messages):
        result = step(CONTENT, session, message, NOW + 60 * minute)
        session = result.session
    return result


def test_all_five_languages_are_offered():
    assert CONTENT.languages == ("en", "es", "vi", "pa", "hi")


def test_the_catalogs_are_complete_and_lint_clean():
    problems, coverage = catalog_problems(FLOWS_DIR, DEFAULT_TRANSLATIONS_DIR, CONTENT.flow)
    assert [str(p) for p in problems] == []
    assert {c.lang: c.percent for c in coverage} == {"es": 100, "vi": 100, "pa": 100, "hi": 100}


@pytest.mark.parametrize(
    ("first_message", "lang"),
    [
        ("hola", "es"), ("Hola!", "es"), ("¿Ayuda?", "es"),
        ("xin chào", "vi"), ("Xin chao", "vi"), ("Tôi cần giúp đỡ", "vi"),
        ("ਸਤ ਸ੍ਰੀ ਅਕਾਲ", "pa"), ("ਮਦਦ ਚਾਹੀਦੀ", "pa"),
        ("नमस्ते", "hi"), ("मुझे मदद चाहिए", "hi"),
        ("hi", "en"), ("BENEFITS", "en"),
    ],
)
def test_a_first_message_clearly_in_a_language_starts_in_it(first_message, lang):
    result = talk(first_message)
    assert result.session["lang"] == lang
    assert result.replies[0].startswith(welcome(lang))


@pytest.mark.parametrize("first_message", ["22", "?", "ok", "95112"])
def test_an_unclear_first_message_gets_the_menu_in_five_scripts(first_message):
    menu = talk(first_message).replies[0]
    for name in ("English", "Español", "Tiếng Việt", "ਪੰਜਾਬੀ", "हिंदी"):
        assert name in menu
    assert len(menu) < 70 * 2


@pytest.mark.parametrize(("choice", "lang"), [("1", "en"), ("2", "es"), ("3", "vi"),
                                              ("4", "pa"), ("५", "hi"), ("español", "es")])
def test_choosing_from_the_menu_starts_in_that_language(choice, lang):
    result = talk("22", choice)
    assert result.session["lang"] == lang
    assert result.replies[0].startswith(welcome(lang))


@pytest.mark.parametrize("command", ["LANGUAGE", "IDIOMA", "NGON NGU", "ngôn ngữ", "ਭਾਸ਼ਾ",
                                     "भाषा"])
def test_a_language_command_in_any_language_switches_and_repeats_the_question(command):
    before = talk("hi", "22", "95112")
    menu = step(CONTENT, before.session, command, NOW + 600)
    assert "Español" in menu.replies[0]
    switched = step(CONTENT, menu.session, "3", NOW + 660)
    assert switched.session["lang"] == "vi"
    assert switched.session["answers"] == {"age": 22, "zip": "95112"}
    asked = CONTENT.text("vi", CONTENT.flow.question("household_size").ask)
    assert switched.replies[0].startswith(asked)


def read(flow: Flow, question_id: str, text: str, lang: str):
    question = flow.question(question_id)
    language = flow.languages[lang]
    context = Context(lang, flow.words, language.numbers, lambda msgid: CONTENT.text(lang, msgid))
    return reader_for(question.type)(question, text, context)


@pytest.mark.parametrize(
    ("lang", "text", "value"),
    [
        ("es", "sí", True), ("es", "si", True), ("es", "Sí, claro", True), ("es", "no", False),
        ("vi", "có", True), ("vi", "co", True), ("vi", "không", False), ("vi", "khong", False),
        ("pa", "ਹਾਂ", True), ("pa", "haan", True), ("pa", "ਨਹੀਂ", False), ("pa", "nahi", False),
        ("hi", "हाँ", True), ("hi", "haan", True), ("hi", "नहीं", False), ("hi", "nahi", False),
    ],
)
def test_yes_and_no_in_script_with_or_without_accents_and_romanised(lang, text, value):
    assert read(CONTENT.flow, "pregnant", text, lang).value is value


@pytest.mark.parametrize(
    ("lang", "text", "value"),
    [("hi", "२२", 22), ("pa", "੨੨", 22), ("es", "veintidós", 22), ("es", "tengo 22 años", 22),
     ("vi", "hai mươi hai", 22), ("hi", "बाईस", 22)],
)
def test_ages_in_native_digits_and_number_words(lang, text, value):
    assert read(CONTENT.flow, "age", text, lang).value == value


@pytest.mark.parametrize(
    ("lang", "text", "value"),
    [("es", "1.200", 1200), ("es", "$1.200,50", 1201), ("vi", "1.200", 1200),
     ("hi", "१२००", 1200), ("pa", "੧੨੦੦", 1200), ("es", "nada", 0), ("vi", "không có", 0)],
)
def test_money_with_either_separator_convention_and_native_digits(lang, text, value):
    assert read(CONTENT.flow, "monthly_income", text, lang).value == value


@pytest.mark.parametrize("lang", ["es", "vi", "pa", "hi"])
def test_a_choice_by_its_translated_words(lang):
    question = CONTENT.flow.question("work")
    label = CONTENT.text(lang, question.choices[2].label)
    assert read(CONTENT.flow, "work", label, lang).value == "lost_job"


@pytest.mark.parametrize("lang", ["es", "vi", "pa", "hi"])
def test_help_answers_in_the_contacts_language(lang):
    session = step(CONTENT, None, "hi", NOW, lang=lang).session
    help_word = CONTENT.flow.commands["help"][lang][0]
    reply = "\n".join(step(CONTENT, session, help_word, NOW + 60).replies)
    assert CONTENT.message(lang, "help") in reply


@pytest.mark.parametrize("lang", ["es", "vi", "pa", "hi"])
def test_stop_in_each_language_erases_the_session(lang):
    session = step(CONTENT, None, "hi", NOW, lang=lang).session
    for stop_word in CONTENT.flow.commands["stop"][lang]:
        result = step(CONTENT, session, stop_word, NOW + 60)
        assert result.session is None, stop_word
        assert result.replies[0] == CONTENT.message(lang, "stopped")


def test_docs_segments_md_is_the_current_output_of_screener_segments():
    from bot.i18n.segments_report import report

    table = (FLOWS_DIR.parent / "docs" / "segments.md").read_text(encoding="utf-8")
    assert table == report(CONTENT), "run: screener segments --write docs/segments.md"


@pytest.mark.parametrize("lang", ["es", "vi", "pa", "hi"])
def test_every_question_fits_its_segment_budget_in_every_language(lang):
    from bot.i18n.check import rendered_questions
    from bot.segments import segments

    budget = CONTENT.flow.settings.question_segments
    for question_id, text, _ in rendered_questions(CONTENT.flow,
                                                   lambda msgid: CONTENT.text(lang, msgid)):
        assert segments(text) <= budget, question_id
