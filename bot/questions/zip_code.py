"""US ZIP codes: "95112", "95112-1234", "my zip is 95112". Checked against the ZIP dataset."""

from __future__ import annotations

import re

from bot.flow import Question
from bot.places import lookup_zip
from bot.questions import Context, Reading
from bot.questions.normalize import ascii_digits
from bot.questions.number import says_unsure

_ZIP = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")


def read(question: Question, text: str, context: Context) -> Reading:
    if says_unsure(text, context):
        return Reading.not_sure()
    found = set(_ZIP.findall(ascii_digits(text)))
    if len(found) != 1:
        return Reading.failed("retry_zip")
    zip_code = found.pop()
    place = lookup_zip(zip_code)
    if place is None:
        return Reading.failed("retry_zip_unknown")
    return Reading(zip_code, note=None if place.in_home_county else "zip_outside_county")
