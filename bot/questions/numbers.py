"""Find the one number in a reply: "22", "I'm 22", "twenty two", "$1,200", "1.2k", "१२००"."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from text_to_num import alpha2digit

from bot.questions.normalize import ascii_digits

# A letter of any script we speak, including Devanagari and Gurmukhi vowel signs (which
# regex `\w` leaves out): number words must not match inside longer words (ਪੰਜ in ਪੰਜਾਬੀ).
_LETTER = r"[\w\u0900-\u097F\u0A00-\u0A7F]"
# Languages text2num reads number words in (the others use digits, in any script).
_WORD_LANGUAGES = {"en": "en", "es": "es"}
# A number with optional thousands separators and decimals, and an optional k/m suffix.
_NUMBER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[.,']\d{3})+|\d+)(?:([.,])(\d{1,2}))?(?![\d])\s*(k|m|mil)?\b",
    re.IGNORECASE,
)


def with_digits(text: str, lang: str, number_words: Mapping[str, int] | None = None) -> str:
    """The reply with number words and non-Latin digits turned into 0-9.

    English and Spanish words are read by text2num; other languages list their small number
    words in flows/languages/<lang>.yaml (`numbers`).
    """
    text = ascii_digits(unicodedata.normalize("NFKC", text).casefold())
    for word, value in sorted((number_words or {}).items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"(?<!{_LETTER}){re.escape(word.casefold())}(?!{_LETTER})", str(value), text)
    word_lang = _WORD_LANGUAGES.get(lang)
    candidates = [word_lang] if word_lang else []
    if "en" not in candidates:
        candidates.append("en")
    for candidate in candidates:
        converted = alpha2digit(text, candidate, threshold=0)
        if converted != text:
            return converted
    return text


def numbers_in(text: str) -> list[Decimal]:
    """Every number in `text` (already through `with_digits`), as exact decimals."""
    found = []
    for match in _NUMBER.finditer(text):
        whole, separator, cents, suffix = match.groups()
        if separator and len(cents or "") == 3:
            whole, separator, cents = whole + cents, None, None
        digits = re.sub(r"[.,']", "", whole)
        try:
            value = Decimal(digits + (f".{cents}" if cents else ""))
        except InvalidOperation:
            continue
        suffix = (suffix or "").lower()
        if suffix == "k" or (suffix == "mil" and cents is None and value < 1000):
            value *= 1000
        elif suffix == "m":
            value *= 1_000_000
        found.append(value)
    return found


def single_number(text: str, lang: str,
                  number_words: Mapping[str, int] | None = None) -> Decimal | None:
    """The number in the reply if there is exactly one; None if none or several."""
    numbers = numbers_in(with_digits(text, lang, number_words))
    return numbers[0] if len(numbers) == 1 else None
