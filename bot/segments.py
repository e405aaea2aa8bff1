"""Count SMS segments the way Twilio does, and split long replies at sensible places.

GSM-7 fits 160 septets in one segment and 153 per part of a longer message; extension
characters ({}[]~|^€\\) cost two septets that always travel together. One character outside
GSM-7 switches the whole message to UCS-2: 70 UTF-16 code units in one segment, 67 per part.
Twilio never splits a grapheme cluster (a letter with its vowel signs, a conjunct, an emoji)
across parts, so a part often carries fewer units than it could: a Hindi text of 201 units
is 4 segments, not 3. We count, and split, the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import gsm0338  # noqa: F401  - registers the 'gsm03.38' codec
import regex

GSM_SINGLE, GSM_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67
_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def graphemes(text: str) -> list[str]:
    """The grapheme clusters of `text` (Unicode's extended clusters, as Twilio uses)."""
    return _GRAPHEME.findall(text)


@lru_cache(maxsize=4096)
def count(text: str) -> SegmentCount:
    """How many segments `text` costs as one SMS."""
    try:
        units = len(text.encode("gsm03.38"))
        encoding, single, multi, cost = "GSM-7", GSM_SINGLE, GSM_MULTI, _septets
    except UnicodeEncodeError:
        units = _utf16_units(text)
        encoding, single, multi, cost = "UCS-2", UCS2_SINGLE, UCS2_MULTI, _utf16_units
    if units <= single:
        return SegmentCount(encoding, units, 1 if units else 0)
    return SegmentCount(encoding, units, _parts([cost(c) for c in graphemes(text)], multi))


def _septets(cluster: str) -> int:
    return len(cluster.encode("gsm03.38"))


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _parts(costs: list[int], capacity: int) -> int:
    """Parts needed when whole clusters are packed greedily, `capacity` units a part.

    A cluster longer than a whole part (only in contrived text) is the one thing cut."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > capacity and used:
            parts, used = parts + 1, 0
        while cost > capacity:
            parts, cost = parts + 1, cost - capacity
        used += cost
    return parts


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


# Line ends that do not start a numbered line ("2 CalFresh: ...", "3 I lost my job"), so a
# question keeps its choices and a results header its first program; then any line end, then
# sentence ends (including the Devanagari and Gurmukhi danda), then spaces.
_BREAKS = (re.compile(r"\n(?!\d+ )"), re.compile(r"\n"), re.compile(r"(?<=[.!?।])\s"),
           re.compile(r"\s"))
WHATSAPP_MAX_CHARS = 1600  # Twilio's cap on a message body


def split(text: str, max_segments: int | None = None,
          max_chars: int = WHATSAPP_MAX_CHARS) -> list[str]:
    """Split a reply into messages of at most `max_segments` SMS segments (or `max_chars`).

    We break at a line end if we can (one that does not start a numbered line first), else
    after a sentence, else at a space; never inside a word, a URL or a grapheme cluster. A
    single word longer than a whole message is the only thing ever cut, and then between
    clusters.
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
    bounds = _boundaries(text)
    longest = _longest_prefix(text, bounds, fits)
    allowed = set(bounds)
    for pattern in _BREAKS:
        cuts = [m.end() for m in pattern.finditer(text, 0, longest + 1)
                if m.end() > 0 and m.end() in allowed]
        if cuts and cuts[-1] > longest // 3:
            return cuts[-1]
    return longest


def _boundaries(text: str) -> list[int]:
    """Offsets between grapheme clusters, from the end of the first to the end of the text."""
    ends, offset = [], 0
    for cluster in graphemes(text):
        offset += len(cluster)
        ends.append(offset)
    return ends


def _longest_prefix(text: str, bounds: list[int], fits: Callable[[str], bool]) -> int:
    """The longest prefix that fits and ends between clusters (binary search); at least
    one cluster, so splitting always moves on."""
    low, high = 0, len(bounds) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:bounds[middle]]):
            low = middle
        else:
            high = middle - 1
    return bounds[low]
