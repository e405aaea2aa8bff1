"""Help today: urgent words interrupt any question, in every language, even with a typo."""

from __future__ import annotations

import unicodedata

import pytest

from bot.content import load_content
from bot.engine import step

NOW = 1_800_000_000.0
CONTENT = load_content()
NEEDS = [need.id for need in CONTENT.urgent.needs]
LANGUAGES = [lang for lang in CONTENT.languages if lang in CONTENT.flow.languages]


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # Vietnamese tones: ` ´ ~ hook, dot below


def with_typo(phrase: str) -> str:
    """The phrase as a hurried thumb types it: one letter doubled in its longest word or,
    where every word is short (Vietnamese syllables), the wrong tone mark on one of them."""
    words = phrase.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 5:
        return unicodedata.normalize("NFC", "".join(
            TONE_MARKS[(TONE_MARKS.index(c) + 1) % len(TONE_MARKS)] if c in TONE_MARKS else c
            for c in unicodedata.normalize("NFD", phrase)))
    middle = len(word) // 2
    words[longest] = word[:middle] + word[middle] + word[middle:]
    return " ".join(words)


def longest_word(lang: str, need: str) -> str:
    """The need's listed phrase in `lang` with the longest word (typos are forgiven only in
    words of five letters or more)."""
    return max(CONTENT.flow.urgent_words[need][lang],
               key=lambda phrase: max(len(word) for word in phrase.split()))


def mid_screening(lang: str) -> dict:
    """A session two answers into the screening, in `lang`, waiting for household size."""
    session = None
    for minute, text in enumerate(["hi", "22", "95112"]):
        session = step(CONTENT, session, text, NOW + 60 * minute, lang=lang).session
    assert session["question"] == "household_size"
    return session


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("need", NEEDS)
def test_each_urgent_need_interrupts_a_screening_in_each_language_even_with_a_typo(need, lang):
    session = mid_screening(lang)
    typed = with_typo(longest_word(lang, need))
    urgent = step(CONTENT, session, typed, NOW + 600)
    assert [e.data.get("need") for e in urgent.events if e.kind == "urgent"] == [need], typed
    reply = "\n".join(urgent.replies)
    assert CONTENT.text(lang, CONTENT.urgent.need(need).reply) in reply
    assert CONTENT.text(lang, CONTENT.urgent.resume) in reply
    back = step(CONTENT, urgent.session, "1", NOW + 660)
    assert back.session["question"] == "household_size"
    assert back.session["answers"] == session["answers"]
    household = CONTENT.text(lang, CONTENT.flow.question("household_size").ask)
    assert back.replies[0].startswith(household)


def test_crisis_lists_988_first_and_violence_lists_911_first():
    crisis = step(CONTENT, mid_screening("en"), "i want to die", NOW + 600)
    assert crisis.replies[0].split("\n")[1].startswith("988")
    danger = step(CONTENT, mid_screening("en"), "he hits me", NOW + 600)
    assert danger.replies[0].split("\n")[1].startswith("911")


def test_an_answer_after_an_urgent_reply_still_counts():
    urgent = step(CONTENT, mid_screening("en"), "im hungy", NOW + 600)
    answered = step(CONTENT, urgent.session, "3", NOW + 660)
    assert answered.session["answers"]["household_size"] == 3


def test_a_first_message_about_an_urgent_need_gets_help_before_the_welcome():
    first = step(CONTENT, None, "I am homless tonight", NOW)
    assert first.replies[0].startswith(CONTENT.urgent.need("shelter").reply)
    welcome = step(CONTENT, first.session, "1", NOW + 60)
    assert "Msg & data rates may apply" in welcome.replies[0]


def test_the_nearest_places_come_first_for_a_resident_with_a_zip():
    session = mid_screening("en")
    reply = step(CONTENT, session, "no food at home", NOW + 600).replies[0]
    lines = reply.split("\n")[1:-1]
    places = [line for line in lines if "San Jose" in line or "San José" in line]
    assert places and lines.index(places[0]) == 0  # 95112: a place nearby before phone lines


ORDINARY = sorted({
    *(w for words in CONTENT.flow.words["yes"].values() for w in words),
    *(w for words in CONTENT.flow.words["no"].values() for w in words),
    *(w for words in CONTENT.flow.words["zero"].values() for w in words),
    "22", "1", "0", "1200", "$1,200", "95112", "about 900", "I'm 22", "twenty two",
    "CalFresh", "Medi-Cal", "WIC", "Covered California", "food stamps?", "Family PACT",
    "I work 20+ hours a week", "I lost my job recently", "I don't work for pay", "MORE",
    "BACK", "HELP", "thanks", "ok thank you", "what is calfresh", "good", "I live at home",
})


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_answers_never_raise_an_alarm(text):
    assert CONTENT.urgent_need(text) is None, text
