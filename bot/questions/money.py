"""Money per month: "$1,200", "1200/mo", "1.2k", "about 900", "300 a week", "none".

Amounts given per week, every two weeks or per year are turned into a month and read back to
the resident ("Got it: $1,300 a month."), so a wrong reading can be fixed with BACK.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency

from bot.flow import Question
from bot.questions import Context, Reading
from bot.questions.normalize import ascii_digits, contains_phrase, fold, matches_phrase
from bot.questions.numbers import single_number

# "1200", "$1,200": clear enough that reading it back would only cost a segment.
_PLAIN = re.compile(r"\$?\s*(\d{1,3}(,\d{3})+|\d+)")
_NEGATIVE = re.compile(r"^\s*-\s*\$?\s*\d")
_PER_MONTH = {
    "per_month": Decimal(1),
    "per_week": Decimal("52") / 12,
    "per_two_weeks": Decimal("26") / 12,
    "per_year": Decimal("1") / 12,
}
# Checked in this order: "every two weeks" before "week".
PERIODS = ("per_two_weeks", "per_week", "per_year", "per_hour", "per_month")


def read(question: Question, text: str, context: Context) -> Reading:
    zero_words = context.words_for("zero")
    if matches_phrase(text, zero_words) or any(
        contains_phrase(text, w) for w in zero_words if " " in w
    ):
        return Reading(0)
    period, rest = _period(text, context)
    amount = single_number(rest, context.lang, context.number_words)
    if amount is None or _NEGATIVE.match(text):
        return Reading.failed("retry_money")
    if period == "per_hour":
        return Reading.failed("retry_money_hourly")
    monthly = (amount * _PER_MONTH.get(period or "per_month", Decimal(1))).quantize(
        Decimal(1), ROUND_HALF_UP)
    value = int(monthly)
    plain = period in (None, "per_month") and _PLAIN.fullmatch(ascii_digits(text.strip()))
    return Reading(value, note=None if plain else "understood_money",
                   note_params={"amount": format_money(value)})


def _period(text: str, context: Context) -> tuple[str | None, str]:
    """The pay period the reply names (words in flows/languages/*.yaml), and the reply
    without those words, so "1200 một tháng" is not read as two numbers."""
    folded = fold(text)
    for period in PERIODS:
        for phrase in sorted(context.words_for(period), key=len, reverse=True):
            pattern = rf"(?:^|(?<=[\s\d$/.,])){re.escape(fold(phrase))}(?=$|[\s.,!?;:)])"
            match = re.search(pattern, folded)
            if match:
                return period, folded[: match.start()] + " " + folded[match.end():]
    return None, text


def format_money(amount: int | Decimal) -> str:
    """Dollars as US residents read them in every language: $1,200.

    Deliberately not per-locale (Vietnamese would give "1.200 US$", easy to misread as $1.2):
    the amounts are US dollars on US bills and pay stubs.
    """
    return format_currency(amount, "USD", locale="en_US", format="¤#,##0", currency_digits=False)
