"""Text normalisation shared by the readers and command matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
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
    return list(_split_words(fold(text)))


@lru_cache(maxsize=65536)
def _needle(phrase: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """A phrase's words, and its marked words when it carries marks (phrases are few and
    looked for in every message: split each once)."""
    found = _split_words(fold(phrase)) or (fold(phrase),)
    return found, tuple(marked_words(phrase)) if has_marks(phrase) else None


def marked_words(text: str) -> list[str]:
    """Like `words`, but Latin accents and tone marks kept ("dừng" stays "dừng")."""
    return list(_split_words(_marked(text)))


@lru_cache(maxsize=65536)
def _split_words(text: str) -> tuple[str, ...]:
    out, current = [], []
    for char in text:
        if unicodedata.category(char)[0] in "PSZC" and char not in "$+%":
            if current:
                out.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        out.append("".join(current))
    return tuple(out)


@lru_cache(maxsize=65536)
def _marked(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


@lru_cache(maxsize=65536)
def has_marks(text: str) -> bool:
    """Whether `text` carries Latin accents or tone marks (then they tell words apart)."""
    return fold(text) != _marked(text)


@lru_cache(maxsize=65536)
def bare(text: str) -> str:
    """`fold` without punctuation: "Yes!" -> "yes", "¿Ayuda?" -> "ayuda", "i'm" -> "i m".

    Both sides of every comparison go through `bare`, so listed words match however
    residents punctuate them. A message of punctuation only ("?") is kept as it is.
    """
    joined = " ".join(words(text))
    return joined or fold(text)


def same_words(text: str, phrase: str) -> bool:
    """Whether `text` says `phrase`, however it is punctuated or capitalised.

    Accents are ignored ("khong" = "không", "si" = "sí"), except when both sides carry
    them: then they must agree, so "dừng" (stop) is never "đúng" (right). A message typed
    without marks matches either; the engine then prefers the answer over the command.
    """
    if bare(text) != bare(phrase):
        return False
    return not (has_marks(text) and has_marks(phrase)) or _bare_marked(text) == _bare_marked(phrase)


@lru_cache(maxsize=65536)
def _bare_marked(text: str) -> str:
    return " ".join(marked_words(text)) or _marked(text)


def matches_phrase(text: str, phrases: tuple[str, ...]) -> str | None:
    """The phrase that `text` consists of (see `same_words`), if any."""
    for phrase in _by_bare(phrases).get(bare(text), ()):
        if same_words(text, phrase):
            return phrase
    return None


@lru_cache(maxsize=4096)
def _by_bare(phrases: tuple[str, ...]) -> dict[str, list[str]]:
    """The phrases by their bare form, in order: only those can be what a message says."""
    found: dict[str, list[str]] = {}
    for phrase in phrases:
        found.setdefault(bare(phrase), []).append(phrase)
    return found


class Phrases:
    """Phrases looked for anywhere in a message ("talk to someone", "stop texting me"),
    indexed by their first words: a message that shares no word with any of them is passed
    over in one set lookup."""

    def __init__(self, phrases: Iterable[str]):
        self.phrases = tuple(phrases)
        self.by_first_word: dict[str, list[str]] = {}
        for phrase in self.phrases:
            self.by_first_word.setdefault(_needle(phrase)[0][0], []).append(phrase)

    @staticmethod
    @lru_cache(maxsize=1024)
    def of(words: tuple[str, ...]) -> Phrases:
        """`words` (a word class of flows/languages/*.yaml) indexed once, not per reply."""
        return Phrases(words)

    def found_in(self, text: str) -> bool:
        said = self.by_first_word.keys() & _split_words(fold(text))
        return any(find_phrase(text, phrase) for word in said
                   for phrase in self.by_first_word[word])


def find_phrase(text: str, phrase: str) -> tuple[int, int] | None:
    """Where the words of `phrase` appear together, in order, among the words of `text`:
    (first word index, end index), or None. Accents as in `same_words`."""
    haystack = _split_words(fold(text))
    needle, marked_needle = _needle(phrase)
    if needle[0] not in haystack:
        return None
    size = len(needle)
    marked_haystack = marked_words(text) if marked_needle and has_marks(text) else None
    if marked_haystack is not None and len(marked_haystack) != len(haystack):
        marked_haystack = None  # a mark that splits a word differently: compare unmarked
    for i in range(len(haystack) - size + 1):
        if haystack[i:i + size] != needle:
            continue
        if marked_haystack is not None and marked_needle is not None:
            window = marked_haystack[i:i + size]
            if any(got != want and has_marks(got) and has_marks(want)
                   for got, want in zip(window, marked_needle, strict=True)):
                continue
        return i, i + size
    return None


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether the words of `phrase` appear together, in order, among the words of `text`."""
    return find_phrase(text, phrase) is not None
