"""A conversation's saved state: its stages, and how sessions saved by older code are brought
up to date.

Sessions are plain JSON in Redis and outlive deploys, so their shape carries a `format`
number. Each change of shape adds one step to `MIGRATIONS` (format N -> N+1); `upgrade`
runs the steps a session needs, in order, as RapidPro's goflow does, so the engine only ever
sees the current shape.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from bot.flow import RESULTS


class Stage(StrEnum):
    """What the conversation waits for. Saved as its plain string value."""

    WELCOME = "welcome"  # a first message was an urgent need: the welcome comes after
    LANGUAGE = "language"  # the five-language menu
    ASKING = "asking"  # a question of the flow (`question` says which)
    CONFIRM = "confirm"  # a surprising answer read back, waiting for a yes
    URGENT = "urgent"  # help today was sent; "1" goes back
    IDLE_OFFER = "idle_offer"  # back after hours away: go on, or start over
    RESULTS = RESULTS  # the programs, page by page
    FOLLOW_UP = "follow_up"  # days later: did you apply? were you approved? (1, 2 or 3)
    CONSENT = "handoff_consent"  # asked for a person: may we share your answers? (yes/no)
    WITH_NAVIGATOR = "with_navigator"  # a case is open: texts go to the navigator, bot quiet


Session = dict[str, Any]


def _urgent_resume_of_its_own(session: Session) -> None:
    """Format 2: an urgent reply keeps where to go back in `after_urgent`, so it no longer
    overwrites the language menu's `resume`."""
    if session.get("stage") == Stage.URGENT and "after_urgent" not in session:
        session["after_urgent"] = session.pop("resume", Stage.ASKING)


MIGRATIONS: dict[int, Callable[[Session], None]] = {
    1: _urgent_resume_of_its_own,
}
FORMAT = max(MIGRATIONS) + 1


def upgrade(session: Session) -> Session:
    """`session` in the current format (changed in place and returned)."""
    version = session.get("format", 1)
    while version < FORMAT:
        MIGRATIONS[version](session)
        version += 1
    session["format"] = FORMAT
    return session


def copied(session: Session) -> Session:
    """A copy of `session` to change, in the current format; the caller's stays as it was.
    Sessions are JSON (dicts, lists and plain values): walking those costs a fifth of
    `copy.deepcopy`, which was a tenth of a turn."""
    return upgrade(_copy(session))


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


# How a session is kept in Redis (bot/store.py; the replies kept for redeliveries too): its JSON,
# compressed with raw DEFLATE against a preset dictionary of the words sessions are made of,
# behind one byte that names the encoding. A finished screening's 1 KB of JSON becomes about
# 70 bytes: most of a session is its own keys, question ids and program ids, which the
# dictionary holds already. Sessions saved as plain JSON by older code (they start with "{")
# still load.
#
# A dictionary is frozen once released: a session saved with it must decode for as long as
# sessions live. A better one (new questions, new keys) is added as the next encoding, and
# `ENCODING` moves to it; the old entry stays.
_DICTIONARIES: dict[int, bytes] = {
    1: "".join((
        '"after_urgent":"asking","resume":"asking","outside":true,"pending":{"ask":"',
        '"recheck":"","rechecked":[],"before_handoff":"results","case":"',
        '"follow_up":{"kind":"did_you_apply","kind":"were_you_approved","kind":"nudge",',
        '"reminder_set":true,"helped":true,"help_wanted":true,"returned":true,"nudged":true,',
        '"campaign":"","stage":"welcome","stage":"language","stage":"confirm",',
        '"stage":"urgent","stage":"idle_offer","stage":"follow_up","stage":"handoff_consent",',
        '"stage":"with_navigator","lang":"es","lang":"vi","lang":"pa","lang":"hi",',
        '"unemployment_insurance","homelessness_prevention","general_assistance",',
        '"extended_foster_care","chafee_grant","covered_california","calworks","fera",',
        '"foster_youth_tax_credit","young_child_tax_credit","federal_eitc","calfresh_student",',
        '"college_promise_grant","pell_grant","cal_grant","wic",',
        '{"id":"youngest_child_age","set":["youngest_child_age"]},',
        '{"id":"student_exempt","set":["student_exempt"]},',
        '{"id":"foster_care_at_18","set":["foster_care_at_18"]},',
        '{"id":"lost_job","set":["lost_job"]},"youngest_child_age":2,"student_exempt":false,',
        '"foster_care_at_18":false,"zip":null,"work":"works_less","work":"lost_job",',
        '"work":"no_work","works_20h":false,"lost_job":true,"student":true,"pregnant":true,',
        '"has_children":true,"foster_youth":true,"housing_risk":true,',
        '"has_health_insurance":true,"household_size":2,',
        '{"format":2,"flow":"1-","lang":"en","stage":"asking","question":"age",',
        '"answers":{},"trail":[],"misses":0,"programs":[],"page":0,"created":17',
        '"stage":"results","question":null,"answers":{"age":20,"zip":"95112",',
        '"household_size":1,"has_children":false,"pregnant":false,"monthly_income":1200,',
        '"work":"works_20h","works_20h":true,"lost_job":false,"student":false,',
        '"foster_youth":false,"has_health_insurance":false,"housing_risk":false},',
        '"trail":[{"id":"age","set":["age"]},{"id":"zip","set":["zip"]},',
        '{"id":"household_size","set":["household_size"]},',
        '{"id":"has_children","set":["has_children"]},{"id":"pregnant","set":["pregnant"]},',
        '{"id":"monthly_income","set":["monthly_income"]},',
        '{"id":"work","set":["work","works_20h","lost_job"]},',
        '{"id":"student","set":["student"]},{"id":"foster_youth","set":["foster_youth"]},',
        '{"id":"has_health_insurance","set":["has_health_insurance"]},',
        '{"id":"housing_risk","set":["housing_risk"]}],"misses":0,',
        '"programs":["medi_cal","calfresh","work2future","clipper_start","care","caleitc",',
        '"family_pact","lifeline","sjpl"],"page":0,"created":1800000000.0,',
        '"updated":1800000000.0,"results_at":1800000000.0}',
    )).encode(),
}
ENCODING = 1
_RAW_DEFLATE = -15  # zlib's wbits for DEFLATE without zlib's header and checksum
# Made once: `json.dumps` and `json.loads` with options build a new encoder or decoder per call.
_JSON_OUT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_JSON_IN = json.JSONDecoder()
# The compressor, its dictionary loaded once and copied for each value: loading it cost more
# than compressing a session. An 8 KB window (wbits 13) and a small hash table (memLevel 2)
# hold the dictionary and a session, and make the copy cheap; a decoder's larger window reads
# the stream all the same (tests/test_session.py).
_PACKER = zlib.compressobj(9, zlib.DEFLATED, -13, 2, zdict=_DICTIONARIES[ENCODING])


def encode(value: Any) -> bytes:
    """`value` (a session, or any JSON value) as Redis keeps it: the encoding's byte, then its
    compressed JSON."""
    packer = _PACKER.copy()
    text = _JSON_OUT.encode(value).encode()
    return bytes((ENCODING,)) + packer.compress(text) + packer.flush()


def decode(raw: bytes) -> Any:
    """A value as `encode`, or older code as plain JSON, saved it."""
    if raw[:1] == b"{":
        return json.loads(raw)
    unpacker = zlib.decompressobj(_RAW_DEFLATE, zdict=_DICTIONARIES[raw[0]])
    return _JSON_IN.decode((unpacker.decompress(raw[1:]) + unpacker.flush()).decode())
