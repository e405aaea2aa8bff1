"""SMS segments counted and split as Twilio does: never inside a grapheme cluster.

Twilio packs whole grapheme clusters into the parts of a long message (67 UTF-16 units, or
153 GSM-7 septets with an escape pair kept together), so a Hindi or Punjabi text costs more
than its length divided by 67. Counting less than Twilio bills hides real cost from staff.
"""

from __future__ import annotations

import math

import pytest

from bot.segments import SegmentCount, count, graphemes, segments, split

# The Hindi and Punjabi welcomes as shipped when Twilio's calculator was compared: 201 units.
HINDI_WELCOME = (
    "नमस्ते! यह San José शहर की मुफ्त मदद टेक्स्ट लाइन है। कुछ सवालों से जानें कि आपको क्या "
    "मदद मिल सकती है। यह गोपनीय है, हम इमिग्रेशन स्टेटस कभी नहीं पूछते। SMS-डेटा चार्ज लग "
    "सकता है। मदद: HELP, बंद: STOP"
)
PUNJABI_WELCOME = (
    "ਸਤ ਸ੍ਰੀ ਅਕਾਲ! ਸੈਨ ਹੋਜ਼ੇ ਸ਼ਹਿਰ ਦੀ ਮੁਫ਼ਤ ਬੈਨੀਫ਼ਿਟਸ ਟੈਕਸਟ ਲਾਈਨ। ਕੁਝ ਸਵਾਲਾਂ ਦੇ ਜਵਾਬ ਦੇ ਕੇ "
    "ਮਦਦ ਲੱਭੋ। ਇਹ ਗੁਪਤ ਹੈ, ਇਮੀਗ੍ਰੇਸ਼ਨ ਬਾਰੇ ਕਦੇ ਨਹੀਂ ਪੁੱਛਦੇ। ਮੈਸੇਜ/ਡਾਟਾ ਚਾਰਜ ਲੱਗ ਸਕਦੇ ਹਨ। "
    "ਮਦਦ ਲਈ HELP, ਰੋਕਣ ਲਈ STOP ਲਿਖੋ।"
)
CONJUNCT = "क्ष"  # ka + virama + ssa: one cluster of 3 UTF-16 units
GURMUKHI_HALF = "ਸ੍"  # sa + virama: one cluster of 2 units


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize("welcome", [HINDI_WELCOME, PUNJABI_WELCOME], ids=["hi", "pa"])
def test_a_201_unit_indic_welcome_costs_4_segments_as_twilio_bills_it(welcome):
    assert units(welcome) == 201  # 201 / 67 rounds up to 3: the count we used to report
    assert count(welcome) == SegmentCount("UCS-2", 201, 4)


def test_a_devanagari_conjunct_straddling_unit_67_moves_whole_to_the_next_part():
    text = "न" * 65 + CONJUNCT + "न" * 66  # 134 units: 2 parts if clusters could be cut
    assert units(text) == 2 * 67
    # 65 | conjunct + 64 | 2: the conjunct does not fit after unit 65, so it opens part two.
    assert segments(text) == 3
    assert segments("न" * 64 + CONJUNCT + "न" * 67) == 2  # ends exactly at unit 67: fits


def test_a_gurmukhi_virama_cluster_straddling_unit_67_moves_whole_to_the_next_part():
    text = "ਕ" * 66 + GURMUKHI_HALF + "ਕ" * 66
    assert units(text) == 134
    assert segments(text) == 3


def test_a_gsm7_escape_pair_is_never_split_across_parts():
    text = "a" * 152 + "€" + "a" * 152  # 306 septets: the euro's 2 septets straddle 153
    assert count(text) == SegmentCount("GSM-7", 306, 3)
    assert segments("a" * 151 + "€" + "a" * 153) == 2


def test_a_message_that_fits_one_segment_is_one_whatever_its_clusters():
    assert segments("न" * 67 + CONJUNCT) == 1  # exactly 70 units
    assert segments("न" * 68 + CONJUNCT) == 2
    assert segments("a" * 160) == 1
    assert segments("") == 0


def test_emoji_with_a_skin_tone_is_one_cluster_kept_whole():
    thumbs = "👍🏽"  # 4 UTF-16 units, one cluster
    assert graphemes(thumbs) == [thumbs]
    text = "a" * 66 + thumbs + "a" * 64  # 134 units
    assert segments(text) == 3


def test_split_never_cuts_inside_a_conjunct():
    word = "न" * 69 + CONJUNCT + "न" * 5  # one long word: the only kind of text ever cut
    parts = split(word, max_segments=1)
    assert parts == ["न" * 69, CONJUNCT + "न" * 5]


def test_split_parts_each_fit_and_rejoin_to_whole_clusters():
    parts = split(HINDI_WELCOME + " " + PUNJABI_WELCOME, max_segments=2)
    assert all(segments(part) <= 2 for part in parts)
    assert " ".join(parts) == HINDI_WELCOME + " " + PUNJABI_WELCOME
    for part in parts:
        assert "".join(graphemes(part)) == part
        assert graphemes(part)[0] not in ("्", "ੇ", "ਂ")  # no part starts with a lone sign


def test_split_breaks_after_a_danda_when_the_sentence_fits():
    first = "यह पहला वाक्य है और यह काफ़ी लंबा है।"
    parts = split(first + " " + "न" * 40, max_segments=1)
    assert parts == [first, "न" * 40]


def test_split_keeps_a_numbered_list_with_the_line_that_introduces_it():
    """A language menu or a question's choices cut after "3 ..." would leave "4 ..." alone
    in the next text; cutting before the question costs no more segments."""
    menu = ("San José Benefits. Reply with a number:\n"
            "1 English\n2 Español\n3 Tiếng Việt\n4 ਪੰਜਾਬੀ\n5 हिंदी")
    note = "You can ask for a reminder once you see your results."
    assert split(note + "\n" + menu, max_segments=2) == [note, menu]


def test_split_cuts_inside_a_numbered_list_when_nothing_else_fits():
    items = [f"{number} {'न' * 40}" for number in range(1, 4)]
    assert split("\n".join(items), max_segments=1) == items


def test_counting_matches_naive_arithmetic_when_every_cluster_is_one_unit():
    for length in (71, 134, 135, 201, 268, 269):
        assert segments("न" * length) == math.ceil(length / 67)
    for length in (161, 306, 307):
        assert segments("a" * length) == math.ceil(length / 153)
