"""Text normalisation shared by the readers and command matching."""

from __future__ import annotations

import re
import unicodedata

_LATIN_BLOCKS = ((0x0000, 0x024F), (0x1E00, 0x1EFF))


def _is_latin(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _LATIN_BLOCKS)


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


_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")


def bare(text: str) -> str:
    """`fold` and strip punctuation at the ends: "Yes!" -> "yes", "¿Ayuda?" -> "ayuda"."""
    folded = fold(text)
    stripped = _EDGE_PUNCTUATION.sub("", folded)
    return stripped or folded


def matches_phrase(text: str, phrases: tuple[str, ...]) -> str | None:
    """The phrase that `text` consists of (after folding), if any."""
    wanted = bare(text)
    for phrase in phrases:
        if bare(phrase) == wanted:
            return phrase
    return None


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether folded `phrase` appears in folded `text` as whole words."""
    pattern = r"(?<![\w])" + re.escape(bare(phrase)) + r"(?![\w])"
    return re.search(pattern, fold(text)) is not None
