"""Residents answer in their own words; we understand what is clear and never guess."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency

from bot.flow import Flow
from bot.questions import Context, reader_for
from bot.questions.money import format_money


def read(flow: Flow, question_id: str, text: str, lang: str = "en"):
    question = flow.question(question_id)
    return reader_for(question.type)(question, text, Context.of(flow, lang))


@pytest.mark.parametrize("text", ["22", "22 yrs", "I'm 22", "twenty two", "22!", " 22 "])
def test_an_age_is_read_from_plain_and_chatty_replies(flow, text):
    assert read(flow, "age", text).value == 22


@pytest.mark.parametrize("text", ["22 or 23", "old", "", "22.5", "-"])
def test_an_unclear_age_is_not_guessed(flow, text):
    reading = read(flow, "age", text)
    assert not reading.understood
    assert reading.retry == "retry_number"


def test_an_age_out_of_range_gets_the_range_in_the_re_prompt(flow):
    reading = read(flow, "age", "150")
    assert reading.retry == "retry_number_range"
    assert reading.retry_params == {"min": "12", "max": "110"}


def test_a_chatty_number_is_read_back_but_a_plain_one_is_not(flow):
    assert read(flow, "age", "I'm 22").note == "understood_number"
    assert read(flow, "age", "22").note is None


@pytest.mark.parametrize(
    ("text", "dollars"),
    [
        ("$1,200", 1200), ("1200/mo", 1200), ("1.2k", 1200), ("about 900", 900),
        ("1200", 1200), ("$1,200.50", 1201), ("0", 0), ("none", 0), ("no income", 0),
        ("1.200", 1200), ("1.200,50", 1201), ("2,000 a month", 2000),
    ],
)
def test_money_is_read_in_the_forms_people_type(flow, text, dollars):
    assert read(flow, "monthly_income", text).value == dollars


@pytest.mark.parametrize(
    ("text", "dollars"),
    [("300 a week", 1300), ("$600 every two weeks", 1300), ("$24,000 a year", 2000)],
)
def test_money_per_week_or_year_becomes_per_month_and_is_read_back(flow, text, dollars):
    reading = read(flow, "monthly_income", text)
    assert reading.value == dollars
    assert reading.note == "understood_money"
    assert reading.note_params == {"amount": f"${dollars:,}"}


def test_dollars_are_written_as_babel_writes_them_for_en_us_whole_dollars():
    amounts = [0, 1, 999, 1000, 1200, 12345, 999999, 1000000, 123456789, -5, -1200,
               *(Decimal(text) for text in ("0.5", "1.5", "2.5", "1199.49", "1200.5", "1201.5",
                                            "-2.5", "1234567.5", "0.49"))]
    for amount in amounts:
        assert format_money(amount) == format_currency(
            amount, "USD", locale="en_US", format="¤#,##0", currency_digits=False), amount


def test_pay_per_hour_without_hours_asks_for_the_hours(flow):
    reading = read(flow, "monthly_income", "$15/hr")
    assert (reading.understood, reading.retry) == (False, "ask_hours_week")
    assert reading.pending == {"rate": "15", "per": "per_hour"}


@pytest.mark.parametrize("text", ["lots", "1200 and 1500 and 1800", "-300", "1500 to 1200"])
def test_unclear_money_gets_a_re_prompt(flow, text):
    assert not read(flow, "monthly_income", text).understood


@pytest.mark.parametrize("text", ["y", "yes", "Yes!", "yeah", "YEP", "yes I am", "sure"])
def test_yes_in_its_many_forms(flow, text):
    assert read(flow, "pregnant", text).value is True


@pytest.mark.parametrize("text", ["n", "no", "nope", "No.", "nah", "no I'm not", "I'm not"])
def test_no_in_its_many_forms(flow, text):
    assert read(flow, "pregnant", text).value is False


@pytest.mark.parametrize("text", ["yes and no", "what?", "12"])
def test_an_unclear_yes_or_no_gets_a_re_prompt(flow, text):
    assert read(flow, "pregnant", text).retry == "retry_yes_no"


@pytest.mark.parametrize("text", ["maybe", "idk", "not sure", "no idea"])
def test_not_sure_is_its_own_reading_never_a_no(flow, text):
    reading = read(flow, "pregnant", text)
    assert reading.unsure and not reading.understood


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", "works_20h"), ("#2", "works_less"), ("3.", "lost_job"),
     ("I lost my job recently", "lost_job"), ("lost job", "lost_job")],
)
def test_a_choice_by_number_or_by_its_words(flow, text, value):
    assert read(flow, "work", text).value == value


@pytest.mark.parametrize("text", ["5", "0", "work", "job"])
def test_a_choice_out_of_range_or_unclear_names_the_range(flow, text):
    reading = read(flow, "work", text)
    assert reading.retry == "retry_choice"
    assert reading.retry_params == {"count": 4}


@pytest.mark.parametrize("text", ["95112", "95112-1234", "my zip is 95112"])
def test_a_zip_code_is_found_in_the_reply(flow, text):
    assert read(flow, "zip", text).value == "95112"


def test_a_zip_that_does_not_exist_is_asked_again(flow):
    assert read(flow, "zip", "00000").retry == "retry_zip_unknown"


def test_a_zip_outside_the_county_is_kept_with_a_kind_note(flow):
    reading = read(flow, "zip", "94601")
    assert reading.value == "94601"
    assert reading.note == "zip_outside_county"


@pytest.mark.parametrize("text", ["9511", "951122", "95112 95113", "downtown"])
def test_a_malformed_zip_gets_the_zip_re_prompt(flow, text):
    assert read(flow, "zip", text).retry == "retry_zip"
