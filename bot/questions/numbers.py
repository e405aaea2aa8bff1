"""Numbers as people type them: "22", "twenty two", "$1,200", "1.2k", "2 grand", "2 mil",
"पंद्रह सौ", "hai nghìn", "१२००".

Every reader that needs a number goes through `spoken_numbers`, which first turns number
words into digits (text2num for English and Spanish; the `numbers:` table of each language
file for the others), then applies "hundred" and "thousand" words (`multipliers:`), and
finally finds each number with where it stands, so the money reader can tell "15/hr" from
"30 hrs a week".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from text_to_num import alpha2digit

from bot.questions.normalize import ascii_digits

# A letter of any script we speak, including Devanagari and Gurmukhi vowel signs (which
# regex `\w` leaves out): number words must not match inside longer words (ਪੰਜ in ਪੰਜਾਬੀ).
_LETTER = r"[^\W\d_]|[\u0900-\u097F\u0A00-\u0A7F]"
# Languages text2num reads number words in (the others use their `numbers:` tables).
_WORD_LANGUAGES = {"en": "en", "es": "es"}
# A number with optional thousands separators and up to two decimals.
_NUMBER = re.compile(r"(?<![\d.,'])(\d{1,3}(?:[.,']\d{3})+|\d+)(?:([.,])(\d{1,3}))?(?![\d])")
# More digits than any income or age: a typo or a test, never a reading.
_MAX_DIGITS = 9


@dataclass(frozen=True)
class Number:
    """A number found in a reply, and where it stands in `SpokenNumbers.text`."""

    value: Decimal
    start: int
    end: int


@dataclass(frozen=True)
class SpokenNumbers:
    text: str  # the reply, lower-case, with number words turned into digits
    numbers: tuple[Number, ...]

    @property
    def values(self) -> list[Decimal]:
        return [number.value for number in self.numbers]


def spoken_numbers(text: str, lang: str, number_words: Mapping[str, int] | None = None,
                   multipliers: Mapping[str, int] | None = None) -> SpokenNumbers:
    """The reply with its numbers read, in every way people write them."""
    text = ascii_digits(unicodedata.normalize("NFKC", text).casefold())
    text = _replace_words(text, number_words or {})
    text = _apply_multipliers(text, multipliers or {})
    text = _text2num(text, lang)
    return SpokenNumbers(text, tuple(_find_numbers(text)))


def single_number(text: str, lang: str, number_words: Mapping[str, int] | None = None,
                  multipliers: Mapping[str, int] | None = None) -> Decimal | None:
    """The number in the reply if there is exactly one; None if none or several."""
    values = spoken_numbers(text, lang, number_words, multipliers).values
    return values[0] if len(values) == 1 else None


def _word_pattern(words: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!{_LETTER})(?:{alternatives})(?!{_LETTER})")


def _replace_words(text: str, number_words: Mapping[str, int]) -> str:
    if not number_words:
        return text
    table, pattern = _word_table(tuple(number_words.items()))
    return pattern.sub(lambda m: f" {table[m.group(0)]} ", text)


@lru_cache(maxsize=16)
def _word_table(number_words: tuple[tuple[str, int], ...]) -> tuple[dict[str, int],
                                                                     re.Pattern[str]]:
    """A language's number words and their pattern, built once, not for every reply."""
    table = {word.casefold(): value for word, value in number_words}
    return table, _word_pattern(list(table))


def _apply_multipliers(text: str, multipliers: Mapping[str, int]) -> str:
    """ "2 mil" -> 2000, "1.5k" -> 1500, "15 सौ" -> 1500, "2 mil 500" -> 2500, "2k5" -> 2500,
    "3 हजार 5 सौ" -> 3500: a run of products, each smaller than the one before, is one amount."""
    if not multipliers:
        return text
    table = {"_".join(word.casefold().split()): value for word, value in multipliers.items()}
    for word in table:
        if "_" in word:  # a phrase ("ਕੁ ਹਜ਼ਾਰ") becomes one token
            text = re.sub(rf"(?<!{_LETTER}){re.escape(word.replace('_', ' '))}(?!{_LETTER})",
                          word, text)
    tokens = _TOKENS.findall(re.sub(r"(?<=\d)(?=[^\W\d_])", " ", text))
    out, index = [], 0
    while index < len(tokens):
        total, after = _product_run(tokens, index, table)
        if total is None:
            out.append(tokens[index])
            index += 1
            continue
        out.append(_plain(total))
        index = after
    return "".join(out)


# Numbers, words (any script, vowel signs included) and single other characters; spaces kept.
_TOKENS = re.compile(r"\d+(?:[.,]\d+)*|[^\s\d.,!?;:()$/\-]+|\s+|\S")
_DECIMAL = re.compile(r"^\d+(?:[.,]\d{1,2})?$")


def _product_run(tokens: list[str], index: int,
                 table: Mapping[str, int]) -> tuple[Decimal | None, int]:
    """(amount, index after) for the products starting at `index`; (None, index) if none."""
    total: Decimal | None = None
    factor, end, number = 0, index, index
    while number is not None and _DECIMAL.match(tokens[number]):
        word = _next_word(tokens, number)
        if word is None or tokens[word] not in table \
                or (total is not None and table[tokens[word]] >= factor):
            break
        factor = table[tokens[word]]
        total = (total or Decimal(0)) + Decimal(tokens[number].replace(",", ".")) * factor
        end, number = word + 1, _next_word(tokens, word)
    if total is not None and number is not None and tokens[number].isdigit() \
            and factor >= 1000 and int(tokens[number]) < factor:
        following = _next_word(tokens, number)
        if following is None or tokens[following] not in table:
            rest = int(tokens[number])
            if len(tokens[number]) == 1:  # "2k5", "2 ngàn 5": two thousand five hundred
                rest *= factor // 10
            return total + rest, number + 1  # "2 mil 500"
    return total, end


def _next_word(tokens: list[str], index: int) -> int | None:
    """The index of the next token after `index` that is not a space."""
    for later in range(index + 1, len(tokens)):
        if not tokens[later].isspace():
            return later
    return None


# "unos 3 mil", "gano unos 2000": "about", not the number one.
_ABOUT = {"es": re.compile(r"(?<!\w)un[oa]s\s+(?=\d)")}


def _text2num(text: str, lang: str) -> str:
    if lang in _ABOUT:
        text = _ABOUT[lang].sub("", text)
    candidates = [_WORD_LANGUAGES[lang]] if lang in _WORD_LANGUAGES else []
    if "en" not in candidates:
        candidates.append("en")
    for candidate in candidates:
        converted = alpha2digit(text, candidate, threshold=0)
        if converted != text:
            return converted
    return text


def _find_numbers(text: str) -> list[Number]:
    found = []
    for match in _NUMBER.finditer(text):
        whole, separator, decimals = match.groups()
        if separator and len(decimals or "") == 3:  # "1.200" is twelve hundred
            whole, decimals = whole + decimals, None
        digits = re.sub(r"[.,']", "", whole)
        if len(digits) > _MAX_DIGITS:
            continue
        try:
            value = Decimal(digits + (f".{decimals}" if decimals else ""))
        except InvalidOperation:
            continue
        found.append(Number(value, match.start(), match.end()))
    return found


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
