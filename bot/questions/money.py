"""Money per month, as people say it: "$1,200", "1.2k", "like 2 grand", "300 a week",
"800 quincena", "15/hr 30hrs a week", "1000-1200", "none".

Pay per week, every two weeks, twice a month or per year becomes a month; pay per hour is
multiplied by the hours worked (asked for when missing); a range is read as its middle.
Anything not typed plainly is read back ("Got it: $1,950 a month."), and an amount that
would surprise (under $100 or over $10,000 a month) waits for a yes before it counts:
a reading is never silently wrong.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from bot.flow import Question
from bot.questions import Context, Reading
from bot.questions.hours import phrase_pattern, read_numbers, time_worked, without
from bot.questions.normalize import ascii_digits, contains_phrase, fold, matches_phrase
from bot.questions.number import says_unsure
from bot.questions.numbers import SpokenNumbers

# "1200", "$1,200": clear enough that reading it back would only cost a segment.
_PLAIN = re.compile(r"\$?\s*(\d{1,3}(,\d{3})+|\d+)")
_NEGATIVE = re.compile(r"^\s*-\s*\$?\s*\d")
WEEKS_PER_MONTH = Decimal(52) / 12
PER_MONTH = {
    "per_month": Decimal(1),
    "per_week": WEEKS_PER_MONTH,
    "per_two_weeks": Decimal(26) / 12,
    "per_half_month": Decimal(2),
    "per_year": Decimal(1) / 12,
}
# Checked in this order: "every two weeks" before "week", "twice a month" before "month".
PERIODS = ("per_two_weeks", "per_half_month", "per_week", "per_year", "per_hour", "per_day",
           "per_month")
SURPRISINGLY_LOW, SURPRISINGLY_HIGH = 100, 10_000
# Pay per hour or per day is multiplied by the time worked a week (asked for when missing).
WORK_TIME = {  # period: (unit words, follow-up question, most a week)
    "per_hour": ("hours", "ask_hours_week", Decimal(100)),
    "per_day": ("days", "ask_days_week", Decimal(7)),
}
# What may stand between the two ends of a range, besides the `range` words of a language.
_RANGE_SIGNS = ("-", "–", "~", "/")


def read(question: Question, text: str, context: Context) -> Reading:
    if says_unsure(text, context):
        return Reading.not_sure()
    if context.pending.get("per") in WORK_TIME:
        return _time_for(context.pending["per"], Decimal(context.pending["rate"]), text,
                         context)
    if _says_zero(text, context):
        return Reading(0)
    if _NEGATIVE.match(text):
        return Reading.failed("retry_money")
    spoken = read_numbers(text, context)
    worked = {}
    for per, (unit, _, most) in WORK_TIME.items():
        worked[per], spoken = time_worked(spoken, context, unit, most)
    period, spoken = _period_in(spoken, context)
    amount = _amount(spoken, context)
    if amount is None:
        return Reading.failed("retry_money")
    if period is None and worked["per_hour"] is not None and amount < 100:
        period = "per_hour"  # "15, 30 hrs": a wage and the hours
    if period in WORK_TIME:
        time = worked[period]
        if time is None:
            return Reading.follow_up(WORK_TIME[period][1], rate=str(amount), per=period)
        return _monthly(amount * time * WEEKS_PER_MONTH, plain=False)
    monthly = amount * PER_MONTH.get(period or "per_month", Decimal(1))
    plain = period in (None, "per_month") and _PLAIN.fullmatch(ascii_digits(text.strip()))
    return _monthly(monthly, plain=bool(plain))


def _time_for(per: str, rate: Decimal, text: str, context: Context) -> Reading:
    """The reply to "How many hours (days) a week?" after pay per hour (day). A whole new
    amount ("2000 a month") replaces the question instead."""
    unit, ask, most = WORK_TIME[per]
    spoken = read_numbers(text, context)
    time, rest = time_worked(spoken, context, unit, most)
    if time is None and len(rest.numbers) == 1 and not _period_in(rest, context)[0] \
            and rest.numbers[0].value <= most:
        time = rest.numbers[0].value
    if time is not None and 0 < time <= most:
        return _monthly(rate * time * WEEKS_PER_MONTH, plain=False)
    return read_amount_again(text, context) or Reading.follow_up(ask, rate=str(rate), per=per)


def read_amount_again(text: str, context: Context) -> Reading | None:
    """A reply that is itself a whole money answer, or None."""
    reading = read(Question("money", "money", ""), text, replace(context, pending={}))
    return reading if reading.understood else None


def _monthly(amount: Decimal, plain: bool) -> Reading:
    value = int(amount.quantize(Decimal(1), ROUND_HALF_UP))
    params = {"amount": format_money(value)}
    if 0 < value < SURPRISINGLY_LOW or value > SURPRISINGLY_HIGH:
        return Reading(value, confirm="confirm_money", note_params=params)
    return Reading(value, note=None if plain else "understood_money", note_params=params)


def _says_zero(text: str, context: Context) -> bool:
    zero_words = context.words_for("zero")
    return bool(matches_phrase(text, zero_words)) or any(
        contains_phrase(text, w) for w in zero_words if " " in w)


def _period_in(spoken: SpokenNumbers, context: Context) -> tuple[str | None, SpokenNumbers]:
    """The pay period the reply names (words in flows/languages/*.yaml), and the reply
    without those words, so "1200 một tháng" is not read as two numbers."""
    text = fold(spoken.text)
    for period in PERIODS:
        pattern = phrase_pattern(context.words_for(period))
        match = pattern.search(text) if pattern else None
        if match:
            return period, without(spoken, match.start(), match.end(), context)
    return None, spoken


def _amount(spoken: SpokenNumbers, context: Context) -> Decimal | None:
    """The one amount in the reply, or the middle of a range ("1000-1200", "1000 to 1200")."""
    numbers = spoken.numbers
    if len(numbers) == 1:
        return numbers[0].value
    if len(numbers) != 2:
        return None
    low, high = numbers
    between = fold(spoken.text[low.end:high.start]).strip(" $")
    joins = {fold(w) for w in context.words_for("range")} | set(_RANGE_SIGNS)
    if between not in joins or low.value >= high.value:
        return None
    return (low.value + high.value) / 2


def format_money(amount: int | Decimal) -> str:
    """Dollars as US residents read them in every language: $1,200.

    Deliberately not per-locale (Vietnamese would give "1.200 US$", easy to misread as $1.2):
    the amounts are US dollars on US bills and pay stubs. Written by hand, not by Babel's
    `format_currency` (the same text, tests/test_reading_answers.py): that was a twentieth of
    the engine's time on every money answer.
    """
    whole = amount if isinstance(amount, int) else int(amount.to_integral_value(ROUND_HALF_EVEN))
    return f"${whole:,}" if whole >= 0 else f"-${-whole:,}"
