"""Text normalisation shared by the readers and command matching."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_LATIN_BLOCKS = ((0x0000, 0x024F), (0x1E00, 0x1EFF))


def _is_latin(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _LATIN_BLOCKS)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, drop accents on Latin letters (sí -> si, không -> khong), tidy spaces.

    Marks on Devanagari and Gurmukhi letters are part of the word and are kept.
    """
    text = unicodedata.normalize("NFKC", text).casefold().replace("đ", "d")
    out = []
    for char in text:
        if _is_latin(char):
            base = unicodedata.normalize("NFD", char)
            out.append("".join(c for c in base if not unicodedata.combining(c)))
        else:
            out.append(char)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def ascii_digits(text: str) -> str:
    """Turn digits of any script (०-९, ੦-੯, ...) into 0-9."""
    return "".join(
        str(unicodedata.decimal(c)) if c.isdigit() and not c.isascii() and
        unicodedata.decimal(c, None) is not None else c
        for c in text
    )


def words(text: str) -> list[str]:
    """The words of `text` after `fold`, split at spaces and punctuation in any script.

    We split by Unicode category rather than with regex `\\w`, which does not count the vowel
    signs of Devanagari and Gurmukhi as word characters ("नहीं" must stay whole).
    """
    out, current = [], []
    for char in fold(text):
        if unicodedata.category(char)[0] in "PSZC" and char not in "$+%":
            if current:
                out.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        out.append("".join(current))
    return out


@lru_cache(maxsize=65536)
def bare(text: str) -> str:
    """`fold` without punctuation: "Yes!" -> "yes", "¿Ayuda?" -> "ayuda", "i'm" -> "i m".

    Both sides of every comparison go through `bare`, so listed words match however
    residents punctuate them. A message of punctuation only ("?") is kept as it is.
    """
    joined = " ".join(words(text))
    return joined or fold(text)


def matches_phrase(text: str, phrases: tuple[str, ...]) -> str | None:
    """The phrase that `text` consists of (after `bare`), if any."""
    wanted = bare(text)
    for phrase in phrases:
        if bare(phrase) == wanted:
            return phrase
    return None


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether the words of `phrase` appear together, in order, among the words of `text`."""
    haystack, needle = words(text), words(phrase) or [fold(phrase)]
    size = len(needle)
    return any(haystack[i:i + size] == needle for i in range(len(haystack) - size + 1))
