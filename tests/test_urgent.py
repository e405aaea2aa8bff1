"""Help today: urgent phrases interrupt any question, in every language, even with a typo,
and only when they mean the need (flows/urgent.yaml)."""

from __future__ import annotations

import random
import string
import time
from pathlib import Path

import pytest

from bot.content import load_content
from bot.engine import step
from bot.paths import SHIPPED_FLOWS as FLOWS_DIR
from bot.questions.normalize import fold
from bot.urgent import lint_urgent

NOW = 1_800_000_000.0
CONTENT = load_content()
NEEDS = [need.id for need in CONTENT.urgent.needs]
LANGUAGES = [lang for lang in CONTENT.languages if lang in CONTENT.flow.languages]


def need_of(text: str) -> str | None:
    found = CONTENT.urgent_need(text)
    return found[0].id if found else None


def with_typo(phrase: str) -> str:
    """The phrase as a hurried thumb types it: one letter doubled in its longest word or,
    where every word is short (Vietnamese syllables), typed without its marks."""
    words = phrase.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 5:
        return fold(phrase)
    middle = len(word) // 2
    words[longest] = word[:middle] + word[middle] + word[middle:]
    return " ".join(words)


def longest_word(lang: str, need: str) -> str:
    """The need's listed phrase in `lang` with the longest word (typos are forgiven only in
    words of five letters or more)."""
    return max(CONTENT.urgent.need(need).words[lang],
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


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("need", NEEDS)
def test_every_need_has_words_in_every_language(need, lang):
    assert CONTENT.urgent.need(need).words.get(lang)


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


# -- what the review found ------------------------------------------------------------------

REVIEW = [
    ("thinking of killing myself", "crisis", "en"),
    ("i want to kms", "crisis", "en"),
    ("my boyfriend hits me", "violence", "en"),
    ("i dont feel safe at home", "violence", "en"),
    ("ਮੈਂ ਆਪਣੀ ਜਾਨ ਲੈਣਾ ਚਾਹੁੰਦੀ ਹਾਂ", "crisis", "pa"),  # ends in ਹਾਂ, a yes word
    ("no tengo nada que comer", "food", "es"),  # starts with "no"
    ("मुझे मरना है", "crisis", "hi"),
    ("chồng tôi đánh tôi", "violence", "vi"),
    ("mujhe marna hai", "crisis", "hi"),
    ("main mar jana chahta hu", "crisis", "hi"),
    ("main marna chahunda haan", "crisis", "pa"),
    ("chong toi danh toi", "violence", "vi"),  # Vietnamese without marks
    ("unalive myself", "crisis", "en"),
    ("i just want to end it all", "crisis", "en"),
    ("I don't want to be here anymore", "crisis", "en"),
    ("everyone would be better off without me", "crisis", "en"),
    ("no quiero vivir", "crisis", "es"),
    ("ya no puedo más", "crisis", "es"),
    ("không muốn sống nữa", "crisis", "vi"),
    ("मैं जीना नहीं चाहता", "crisis", "hi"),
    ("ਮੈਂ ਜੀਣਾ ਨਹੀਂ ਚਾਹੁੰਦਾ", "crisis", "pa"),
]


@pytest.mark.parametrize(("text", "need", "lang"), REVIEW)
def test_what_the_review_found_gets_the_right_help_in_the_right_language(text, need, lang):
    found = CONTENT.urgent_need(text)
    assert found is not None, text
    assert (found[0].id, found[1]) == (need, lang)


def test_kicked_out_of_my_job_is_not_a_shelter_alarm_but_kicked_out_of_home_is():
    assert need_of("kicked out of my job") is None
    assert need_of("got kicked out of my house") == "shelter"
    # a context refuses only the words it covers: the second "kicked out" is about a home
    assert need_of("kicked out of school and then kicked out by my mom") == "shelter"
    # and never another need in the same message
    assert need_of("kicked out of my job and we have no food") == "food"


# -- each language: phrasings that must alarm, and everyday messages that must not ----------

ALARMS = {
    "en": [
        ("my husband threatened to kill me", "violence"), ("he choked me last night", "violence"),
        ("im scared to go home", "violence"), ("i should just kys", "crisis"),
        ("no reason to live anymore", "crisis"), ("gonna unalive myself tonight", "crisis"),
        ("we got evicted last week", "shelter"), ("sleeping in my car with my kids", "shelter"),
        ("I'm in a housing crisis", "shelter"), ("cant pay my rent this month", "shelter"),
        ("my kids are hungry", "food"), ("we have nothing to eat tonight", "food"),
        ("i cant afford food this week", "food"), ("its an emergency", "help_now"),
    ],
    "es": [
        ("mi esposo me pega", "violence"), ("no me siento segura en casa", "violence"),
        ("me amenazó con matarme", "violence"), ("me quiero morir", "crisis"),
        ("estarían mejor sin mí", "crisis"), ("no quiero vivir en este mundo", "crisis"),
        ("quiero suicidarme", "crisis"), ("me van a desalojar", "shelter"),
        ("duermo en mi carro", "shelter"), ("me echaron de mi casa", "shelter"),
        ("tengo hambre", "food"), ("mis hijos no han comido", "food"),
        ("no tenemos qué comer", "food"), ("es una emergencia", "help_now"),
    ],
    "vi": [
        ("tôi bị bạo hành", "violence"), ("bạn trai tôi đánh tôi", "violence"),
        ("anh ta dọa giết tôi", "violence"), ("tôi muốn tự tử", "crisis"),
        ("muon tu tu", "crisis"), ("tôi chán sống rồi", "crisis"),
        ("bị đuổi ra khỏi nhà", "shelter"), ("tối nay tôi ngủ trong xe", "shelter"),
        ("tôi không có chỗ ở", "shelter"), ("tôi đói quá", "food"), ("toi doi qua", "food"),
        ("nhà không có gì để ăn", "food"), ("hết gạo rồi", "food"), ("khẩn cấp", "help_now"),
    ],
    "pa": [
        ("ਮੇਰਾ ਪਤੀ ਮੈਨੂੰ ਕੁੱਟਦਾ ਹੈ", "violence"), ("mainu kuttda hai", "violence"),
        ("ਘਰ ਵਿੱਚ ਸੁਰੱਖਿਅਤ ਨਹੀਂ ਹਾਂ", "violence"), ("ਮੈਂ ਮਰਨਾ ਚਾਹੁੰਦੀ ਹਾਂ", "crisis"),
        ("main marna chaundi haan", "crisis"), ("ਮੈਂ ਖੁਦਕੁਸ਼ੀ ਕਰ ਲਵਾਂਗਾ", "crisis"),
        ("ਮੈਨੂੰ ਘਰੋਂ ਕੱਢ ਦਿੱਤਾ", "shelter"), ("ਰਹਿਣ ਲਈ ਕੋਈ ਥਾਂ ਨਹੀਂ", "shelter"),
        ("ਮੈਂ ਬੇਘਰ ਹਾਂ", "shelter"), ("ਮੈਨੂੰ ਭੁੱਖ ਲੱਗੀ ਹੈ", "food"),
        ("ਘਰ ਵਿੱਚ ਖਾਣ ਨੂੰ ਕੁਝ ਨਹੀਂ", "food"), ("bhukh lagi aa", "food"),
        ("ਐਮਰਜੈਂਸੀ ਹੈ", "help_now"), ("ਮੈਨੂੰ ਬਚਾਓ", "help_now"),
    ],
    "hi": [
        ("मेरा पति मुझे मारता है", "violence"), ("mujhe maarta hai", "violence"),
        ("घर में सुरक्षित नहीं हूँ", "violence"), ("मैं जीना नहीं चाहती", "crisis"),
        ("mujhe marna h", "crisis"), ("अपनी जान ले लूँगी", "crisis"),
        ("मुझे घर से निकाल दिया", "shelter"), ("रहने की कोई जगह नहीं है", "shelter"),
        ("beghar hoon", "shelter"), ("मुझे भूख लगी है", "food"),
        ("घर में खाने को कुछ नहीं है", "food"), ("bhookh lagi hai", "food"),
        ("इमरजेंसी है", "help_now"), ("मुझे बचाओ", "help_now"),
    ],
}

CALM = {
    "en": ["22", "yes", "no", "I lost my job", "kicked out of my job", "kicked out of class today",
           "hit me up when the results are ready", "food stamps", "I need food stamps",
           "do i get food stamps", "im not hungry", "no food allergies", "this form is killing me",
           "killing it at work", "beats me", "its not an emergency", "emergency medi-cal",
           "5 kms away", "I don't want to live with my parents",
           "I volunteer at the animal shelter", "I lost my job recently"],
    "es": ["no", "sí", "no sé", "no estoy segura", "perdí mi trabajo", "me corrieron del trabajo",
           "no tengo hambre", "no quiero vivir con mis papás", "quiero cortarme el pelo",
           "no tengo casa propia, rento", "trabajo en un refugio de animales",
           "mi jefe me paga poco", "no es urgente", "cupones de comida", "no tengo trabajo"],
    "vi": ["không", "có", "đúng", "dung", "từ từ để tôi xem", "tu tu", "tôi bị đuổi việc",
           "tôi mất việc rồi", "đổi qua tiếng Anh", "doi qua tieng anh", "tôi đang đợi",
           "máy còn bảo hành", "tôi không có con", "không chắc", "khong biet", "mệt muốn chết"],
    "pa": ["ਹਾਂ", "ਨਹੀਂ", "ਹਾਂ ਜੀ", "ਪਤਾ ਨਹੀਂ", "ਮੈਨੂੰ ਨੌਕਰੀ ਤੋਂ ਕੱਢ ਦਿੱਤਾ",
           "ਮੈਨੂੰ ਕੱਢ ਦਿੱਤਾ ਕੰਮ ਤੋਂ", "ਮੈਨੂੰ ਭੁੱਖ ਨਹੀਂ", "mainu madad chahidi",
           "ਮੇਰੀ ਉਮਰ 22 ਸਾਲ ਹੈ", "ਮੈਂ ਲੰਗਰ ਵਿੱਚ ਸੇਵਾ ਕਰਦਾ ਹਾਂ", "ਹੁਣੇ ਮਦਦ ਨਹੀਂ ਚਾਹੀਦੀ",
           "ਮੈਂ ਕੰਮ ਨਹੀਂ ਕਰਦਾ"],
    "hi": ["नहीं", "हाँ", "हां जी", "पता नहीं", "मुझे नौकरी से निकाल दिया",
           "मुझे निकाल दिया काम से", "मुझे भूख नहीं है", "अभी मदद नहीं चाहिए", "मेरी उम्र 22 साल है",
           "nahi pata", "pta nhi", "मैं काम नहीं करता", "दवा खाना चाहिए",
           "mera ek bacha hai"],  # a child, one letter from "bachao" (save me)
}


@pytest.mark.parametrize(("lang", "text", "need"),
                         [(lang, text, need) for lang, cases in ALARMS.items()
                          for text, need in cases])
def test_urgent_phrasings_alarm_in_their_language(lang, text, need):
    found = CONTENT.urgent_need(text)
    assert found is not None, text
    assert (found[0].id, found[1]) == (need, lang)


@pytest.mark.parametrize(("lang", "text"),
                         [(lang, text) for lang, texts in CALM.items() for text in texts])
def test_everyday_messages_never_alarm(lang, text):
    assert CONTENT.urgent_need(text) is None, text


def test_marks_keep_two_vietnamese_words_apart_but_may_be_left_out():
    assert need_of("tự tử") == "crisis"
    assert need_of("từ từ") is None  # "slowly"
    assert need_of("tôi đói quá") == "food"
    assert need_of("tôi đi qua") is None  # "I walk past"


def test_indic_marks_residents_add_or_leave_out_do_not_matter():
    assert need_of("मैं मरना चाहता हूं") == need_of("मैं मरना चाहता हूँ") == "crisis"
    assert need_of("ਮੈਨੂੰ ਭੁਖ ਲਗੀ ਹੈ") == "food"  # without the addak of ਭੁੱਖ, ਲੱਗੀ


def test_texted_spellings_of_one_word_match_each_other():
    for text in ("mujhe marna h", "muje marna hai", "mjhe marna he", "main jina nhi chahta"):
        assert need_of(text) == "crisis", text


def test_a_listed_phrase_under_a_wrong_word_order_or_far_apart_words_does_not_alarm():
    # phrases are matched word for word: this keeps ordinary sentences calm
    assert need_of("food that is free for all") is None
    assert need_of("free food") == "food"


ORDINARY = sorted({
    *(w for words in CONTENT.flow.words["yes"].values() for w in words),
    *(w for words in CONTENT.flow.words["no"].values() for w in words),
    *(w for words in CONTENT.flow.words["zero"].values() for w in words),
    *(w for table in CONTENT.flow.commands.values() for words in table.values() for w in words),
    "22", "1", "0", "1200", "$1,200", "95112", "about 900", "I'm 22", "twenty two",
    "CalFresh", "Medi-Cal", "WIC", "Covered California", "food stamps?", "Family PACT",
    "I work 20+ hours a week", "I lost my job recently", "I don't work for pay", "MORE",
    "BACK", "HELP", "thanks", "ok thank you", "what is calfresh", "good", "I live at home",
})


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_answers_never_raise_an_alarm(text):
    assert CONTENT.urgent_need(text) is None, text


def test_the_matcher_stays_fast_on_long_messages_of_unknown_words():
    random.seed(7)
    messages = [" ".join("".join(random.choices(string.ascii_lowercase, k=random.randint(2, 9)))
                         for _ in range(30)) for _ in range(200)]
    started = time.perf_counter()
    for message in messages:
        CONTENT.urgent_need(message)
    assert (time.perf_counter() - started) / len(messages) < 0.02  # measured: about 1 ms


# -- lint ------------------------------------------------------------------------------------

def urgent_file_with(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """A copy of flows/urgent.yaml with one edit, and the line of that edit."""
    text = (FLOWS_DIR / "urgent.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "urgent.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, text[:text.index(old)].count("\n") + 1


def lint(path: Path) -> list:
    return lint_urgent(path, CONTENT.flow.ordinary_words(), tuple(CONTENT.flow.languages))


def test_the_shipped_urgent_file_lints_without_errors_or_warnings():
    assert lint(FLOWS_DIR / "urgent.yaml") == []


@pytest.mark.parametrize(("lang", "word"), [
    ("en", "yes"), ("es", "sí"), ("vi", "không"), ("pa", "ਹਾਂ"), ("hi", "नहीं"),
    ("en", "AYUDA"),  # a command of another language is refused too
])
def test_lint_refuses_an_urgent_word_that_is_an_ordinary_answer_with_its_line(
        tmp_path, lang, word):
    key = f"      {'en' if lang == 'en' else lang}: ["
    text = (FLOWS_DIR / "urgent.yaml").read_text(encoding="utf-8")
    first = text.index("  - id: food")
    anchor = text[first:].index(key) + first
    injected = text[:anchor] + key + word + ", " + text[anchor + len(key):]
    path = tmp_path / "urgent.yaml"
    path.write_text(injected, encoding="utf-8")
    line = injected[:anchor].count("\n") + 1
    errors = [p for p in lint(path) if p.severity == "error"]
    assert errors and {p.line for p in errors} == {line}, errors
    assert any(f"'{word}' is " in p.message for p in errors)


def test_lint_refuses_an_urgent_word_an_answer_would_set_off_through_a_typo(tmp_path):
    path, line = urgent_file_with(tmp_path, "      en: [hungry,", "      en: [nothingg, hungry,")
    errors = [p for p in lint(path) if p.severity == "error"]
    assert errors and {p.line for p in errors} == {line}
    assert any("set off by 'nothing'" in p.message for p in errors)


def test_lint_warns_of_a_context_that_never_covers_its_needs_words(tmp_path):
    path, line = urgent_file_with(tmp_path, "      en: [need food stamps,",
                                  "      en: [food stamps office, need food stamps,")
    warnings = [p for p in lint(path) if p.severity == "warning"]
    assert [p.line for p in warnings] == [line]
    assert "food stamps office" in warnings[0].message


def test_lint_refuses_a_need_without_words_in_a_language(tmp_path):
    path = tmp_path / "urgent.yaml"
    path.write_text("settings: {typo_score: 85, services_listed: 3, resume: Reply 1.}\n"
                    "needs:\n"
                    "  - id: food\n"
                    "    services: food\n"
                    "    reply: Free food today.\n"
                    "    words: {en: [hungry]}\n", encoding="utf-8")
    problems = lint_urgent(path, {}, ("en", "es"))
    assert [(p.line, p.severity, "(es)" in p.message) for p in problems] == [(5, "error", True)]
