"""Count SMS segments the way carriers do, and split long replies at sensible places.

GSM-7 fits 160 septets in one segment and 153 per part of a longer message; extension
characters ({}[]~|^€\\) cost two septets. One character outside GSM-7 switches the whole
message to UCS-2: 70 UTF-16 code units in one segment, 67 per part.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import gsm0338  # noqa: F401  - registers the 'gsm03.38' codec

GSM_SINGLE, GSM_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def count(text: str) -> SegmentCount:
    """How many segments `text` costs as one SMS."""
    try:
        units = len(text.encode("gsm03.38"))
        encoding, single, multi = "GSM-7", GSM_SINGLE, GSM_MULTI
    except UnicodeEncodeError:
        units = len(text.encode("utf-16-le")) // 2
        encoding, single, multi = "UCS-2", UCS2_SINGLE, UCS2_MULTI
    segments = 0 if units == 0 else 1 if units <= single else math.ceil(units / multi)
    return SegmentCount(encoding, units, segments)


def segments(text: str) -> int:
    return count(text).segments


def non_gsm7(text: str) -> str:
    """The characters of `text` outside GSM-7, once each: any one of them makes the whole
    SMS cost UCS-2 rates (70 characters a segment instead of 160)."""
    return "".join(dict.fromkeys(char for char in text if _outside_gsm7(char)))


def _outside_gsm7(char: str) -> bool:
    try:
        char.encode("gsm03.38")
    except UnicodeEncodeError:
        return True
    return False


# Line ends, then sentence ends (including the Devanagari and Gurmukhi danda), then spaces.
_BREAKS = (re.compile(r"\n"), re.compile(r"(?<=[.!?।])\s"), re.compile(r"\s"))
WHATSAPP_MAX_CHARS = 1600  # Twilio's cap on a message body


def split(text: str, max_segments: int | None = None,
          max_chars: int = WHATSAPP_MAX_CHARS) -> list[str]:
    """Split a reply into messages of at most `max_segments` SMS segments (or `max_chars`).

    We break at a line end if we can, else after a sentence, else at a space; never inside a
    word or a URL. A single word longer than a whole message is the only thing ever cut.
    """

    def fits(part: str) -> bool:
        if max_segments is not None and segments(part) > max_segments:
            return False
        return len(part) <= max_chars

    return _split(text.strip(), fits)


def _split(text: str, fits: Callable[[str], bool]) -> list[str]:
    if fits(text):
        return [text] if text else []
    cut = _best_cut(text, fits)
    return [text[:cut].rstrip(), *_split(text[cut:].lstrip(), fits)]


def _best_cut(text: str, fits: Callable[[str], bool]) -> int:
    longest = _longest_prefix(text, fits)
    for pattern in _BREAKS:
        cuts = [m.end() for m in pattern.finditer(text, 0, longest + 1) if m.end() > 0]
        if cuts and cuts[-1] > longest // 3:
            return cuts[-1]
    return longest


def _longest_prefix(text: str, fits: Callable[[str], bool]) -> int:
    """The largest n such that text[:n] fits (binary search)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return low
