"""What the clear case costs the city, counted the way Twilio bills it (issue 14).

The clear case is a single 20-year-old earning $1,200 a month from 20+ hours of work, with
nothing else to ask about. Every segment of every text from the first message to the first
results page is paid by the city: at most 12 in English and 18 in every other language.
"""

from __future__ import annotations

import pytest

from bot.content import load_content
from bot.i18n.segments_report import Screening, answering, clear_case, clear_case_target, run
from bot.segments import count

LANGUAGES = load_content().languages
# A young parent who matches most programs: the longest first results page in practice.
MANY_PROGRAMS = {"age": "22", "zip": "95116", "household_size": "2", "has_children": "YES",
                 "youngest_child_age": "2", "pregnant": "NO", "monthly_income": "2000",
                 "work": "1", "student": "NO", "foster_youth": "NO",
                 "has_health_insurance": "YES", "housing_risk": "NO"}


def bill(lang: str, screening: Screening) -> str:
    """Each text with its cost, for a failure a translator can act on."""
    lines = [f"{lang}: {screening.segments} segments in {screening.messages} texts "
             f"(target {clear_case_target(lang)}); asked: {', '.join(screening.asked)}"]
    for text in screening.texts:
        counted = count(text)
        lines.append(f"  {counted.segments}  {counted.encoding} {counted.units:>4}  "
                     f"{text.replace(chr(10), ' / ')}")
    return "\n".join(lines)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_clear_case_costs_at_most_its_target_in_segments(content, lang):
    screening = clear_case(content, lang)
    assert screening.segments <= clear_case_target(lang), bill(lang, screening)


@pytest.mark.parametrize("answers", [pytest.param(None, id="clear_case"),
                                     pytest.param(MANY_PROGRAMS, id="many_programs")])
def test_the_first_english_results_page_is_one_text_of_at_most_two_segments(content, answers):
    screening = clear_case(content, "en") if answers is None \
        else run(content, "en", answering(answers))
    first_page = screening.texts[-1]
    assert len(screening.programs) >= (9 if answers is None else 12)
    assert first_page.startswith(content.message("en", "results_header"))
    assert count(first_page).segments <= 2, bill("en", screening)
    assert content.message("en", "results_more") in first_page  # the rest on request


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_first_results_page_fits_the_budget_with_at_least_two_programs(content, lang):
    """A page split by the budget would cost a second text; one program a page would make
    the resident ask MORE for each."""
    first_page = clear_case(content, lang).texts[-1]
    assert count(first_page).segments <= content.flow.settings.results_page_segments
    listed = [line for line in first_page.split("\n") if line[:2] in ("1 ", "2 ")]
    assert len(listed) == 2, first_page


def test_spanish_welcome_and_first_results_page_are_gsm7(content):
    """One á, í, ó or ú turns a whole SMS into UCS-2: 70 characters a segment, not 160."""
    screening = clear_case(content, "es")
    for text in (screening.texts[0], screening.texts[-1]):
        assert count(text).encoding == "GSM-7", text
