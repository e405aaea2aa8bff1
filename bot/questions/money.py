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
from bot.questions.normalize import ascii_digits, contains_phrase, matches_phrase
from bot.questions.numbers import single_number

# "1200", "$1,200": clear enough that reading it back would only cost a segment.
_PLAIN = re.compile(r"\$?\s*(\d{1,3}(,\d{3})+|\d+)")
_NEGATIVE = re.compile(r"^\s*-\s*\$?\s*\d")
_PER_MONTH = {
    "week": Decimal("52") / 12,
    "two_weeks": Decimal("26") / 12,
    "year": Decimal("1") / 12,
}
_PERIODS = (
    ("two_weeks", r"(every (two|2) weeks|bi-?weekly|cada (dos|2) semanas|quincena\w*)"),
    ("week", r"(a|per|/|each|every|la|por|a la|cada)\s*(week|wk|semana)\b|weekly|semanal"),
    ("year", r"(a|per|/|each|every|al|por|cada)\s*(year|yr|ano|año)\b|yearly|annual\w*|anual"),
    ("hour", r"(an|a|per|/|each|la|por)\s*(hour|hr|hora)\b|hourly"),
)


def read(question: Question, text: str, context: Context) -> Reading:
    zero_words = context.words_for("zero")
    if matches_phrase(text, zero_words) or any(
        contains_phrase(text, w) for w in zero_words if " " in w
    ):
        return Reading(0)
    period, rest = _period(text)
    amount = single_number(rest, context.lang, context.number_words)
    if amount is None or _NEGATIVE.match(text):
        return Reading.failed("retry_money")
    if period == "hour":
        return Reading.failed("retry_money_hourly")
    monthly = (amount * _PER_MONTH.get(period, Decimal(1))).quantize(Decimal(1), ROUND_HALF_UP)
    value = int(monthly)
    plain = _PLAIN.fullmatch(ascii_digits(text.strip())) is not None
    return Reading(value, note=None if plain else "understood_money",
                   note_params={"amount": format_money(value)})


def _period(text: str) -> tuple[str | None, str]:
    """The pay period named in the reply, and the reply without it."""
    lowered = text.casefold()
    for name, pattern in _PERIODS:
        match = re.search(pattern, lowered)
        if match:
            return name, lowered[: match.start()] + " " + lowered[match.end():]
    return None, text


def format_money(amount: int | Decimal) -> str:
    """Dollars as US residents read them in every language: $1,200.

    Deliberately not per-locale (Vietnamese would give "1.200 US$", easy to misread as $1.2):
    the amounts are US dollars on US bills and pay stubs.
    """
    return format_currency(amount, "USD", locale="en_US", format="¤#,##0", currency_digits=False)
