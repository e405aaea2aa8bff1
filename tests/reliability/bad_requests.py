"""Hypothesis strategies for bad input at Twilio's door, and the check every answer must pass.

Shared by tests/reliability/test_bad_input.py (a few hundred examples per run) and
bench/fuzz_webhook.py (the one big run recorded in docs/reliability.md), so the big run
exercises exactly what CI exercises.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st
from phone import AUTH_TOKEN, WEBHOOK_URL, sign
from werkzeug.test import EnvironBuilder, TestResponse, encode_multipart
from werkzeug.wrappers import Request

PATH = "/twilio/messages"
LIMIT = 64 * 1024  # bot/app.py MAX_BODY_BYTES
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
NUMBERS = ["+14085550101", "+14085550102", "whatsapp:+14085550103", "+14085550104"]
# Scripts residents write in, and characters that break naive code: controls, bidi marks,
# emoji with joiners, combining marks, the replacement character, a byte-order mark.
SAMPLES = ["hola", "xin chào", "ਸਤ ਸ੍ਰੀ ਅਕਾਲ", "नमस्ते", "٣", "²", "\u202e22\u202c", "\u200f",
           "👩‍👩‍👧", "\x00", "\r\n", "\x1b[2J", "\ufeff", "\ufffd", "e\u0301", "STOP", "HELP",
           "1", "22", "95112", "$1,200", "yes", "no", "restart", "more", "९५११२", "੨੨"]
ODD_COUNTS = ["", "0", "1", "10", "11", "-1", "²", "٣", "१", " 1", "1e3", "0x1", "99", "1" * 25,
              "NaN", "\x00"]


@dataclass
class Bad:
    """One request as it goes on the wire, and what the text line may answer to it."""

    body: bytes
    content_type: str | None
    headers: dict[str, str] = field(default_factory=dict)
    signed: bool = False  # signed with the real token over what the app will parse
    allowed: frozenset[int] = frozenset({200, 403, 413})

    def send(self, client) -> TestResponse:  # type: ignore[no-untyped-def]
        headers = dict(self.headers)
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        return client.post(PATH, data=self.body, headers=headers)

    def __repr__(self) -> str:  # a 64 KB body would bury the failing example
        body = self.body if len(self.body) < 400 else self.body[:300] + b"..."
        return (f"Bad({len(self.body)} bytes: {body!r}, {self.content_type!r}, {self.headers!r},"
                f" allowed={sorted(self.allowed)})")


def _text() -> st.SearchStrategy[str]:
    """Any Unicode a phone could carry, the scripts we serve, and the odd characters."""
    return st.one_of(
        st.text(max_size=40),
        st.text(st.characters(codec="utf-8", categories=("Cc", "Cf", "Zs", "Mn", "So")),
                max_size=20),
        st.text(st.characters(min_codepoint=0x0900, max_codepoint=0x0A7F), max_size=30),
        st.text(st.characters(min_codepoint=0x0590, max_codepoint=0x06FF), max_size=30),
        st.sampled_from(SAMPLES),
        st.lists(st.sampled_from(SAMPLES), max_size=6).map(" ".join),
    )


def _value_bytes() -> st.SearchStrategy[bytes]:
    """Encoded values: mostly UTF-8, sometimes lone surrogates, Latin-1 or raw bytes."""
    return st.one_of(
        _text().map(lambda text: text.encode("utf-8")),
        _text().map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1,
                max_size=4).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.text(st.characters(max_codepoint=0xFF), max_size=20).map(
            lambda text: text.encode("latin-1")),
        st.binary(max_size=30),
    )


def _sid() -> st.SearchStrategy[str]:
    hex32 = st.text("0123456789abcdef", min_size=32, max_size=32)
    return st.one_of(
        st.builds(lambda prefix, digits: prefix + digits, st.sampled_from(["SM", "MM"]), hex32),
        st.sampled_from(["SM" + "0" * 32, "MM" + "f" * 32]),  # repeats: duplicates
        st.sampled_from(["", "SM123", "SM" + "A" * 32, "SM" + "a" * 33, "XX" + "a" * 32,
                         "SM" + "a" * 32 + "NumMedia0", "SM" + "a" * 31 + "\u0661"]),
        st.text(max_size=40),
    )


@st.composite
def resident_fields(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """A message as Twilio sends it from a resident (so a turn runs), with an odd body or
    media: the text reaches the engine and the answer readers."""
    sid = draw(st.sampled_from(["SM", "MM"])) + draw(st.text("0123456789abcdef", min_size=32,
                                                            max_size=32))
    pairs = [("MessageSid", sid.encode()), ("AccountSid", b"AC" + b"0" * 32),
             ("From", draw(st.one_of(st.sampled_from(NUMBERS),  # long sessions, and many
                                     st.integers(0, 9999).map("+1669555{:04d}".format)  # contacts
                                     )).encode()),
             ("To", b"+14085550000"),
             ("Body", draw(_value_bytes())),
             ("NumMedia", draw(st.sampled_from(ODD_COUNTS)).encode())]
    for index in range(draw(st.integers(0, 2))):
        pairs.append((f"MediaUrl{index}", b"https://api.twilio.com/m/" + draw(_value_bytes())))
    return pairs


@st.composite
def fields(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """Twilio's fields with any of them missing, odd, repeated, or joined by unknown ones."""
    if draw(st.integers(0, 2)) > 0:  # two in three: a resident's message with odd content
        return draw(resident_fields())
    chosen: dict[str, st.SearchStrategy[bytes]] = {
        "MessageSid": _sid().map(str.encode),
        "AccountSid": st.just(b"AC" + b"0" * 32),
        "From": st.one_of(st.sampled_from(NUMBERS), st.text(max_size=20)).map(str.encode),
        "To": st.just(b"+14085550000"),
        "Body": _value_bytes(),
        "NumMedia": st.one_of(st.sampled_from(ODD_COUNTS), st.text(max_size=4)).map(str.encode),
    }
    pairs = [(name, draw(values)) for name, values in chosen.items()
             if draw(st.integers(0, 9)) > 0]  # each field is missing one time in ten
    if draw(st.booleans()):
        pairs.append((draw(st.sampled_from(["MediaUrl0", "MediaContentType0", "OptOutType",
                                            "SmsMessageSid", "ButtonPayload"])),
                      draw(_value_bytes())))
    for _ in range(draw(st.integers(0, 2))):  # a field sent again with another value
        name = draw(st.sampled_from([*chosen, "Body"]))
        pairs.append((name, draw(_value_bytes())))
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.text(max_size=10)), draw(_value_bytes())))
    return draw(st.permutations(pairs))


def _encoded(pairs: list[tuple[str, bytes]]) -> bytes:
    return "&".join(quote_from_bytes(name.encode("utf-8", "surrogatepass")) + "="
                    + quote_from_bytes(value) for name, value in pairs).encode("ascii")


def parsed(body: bytes, content_type: str | None) -> object:
    """The form the app will read from this body: what a Twilio signature covers."""
    builder = EnvironBuilder(method="POST", path=PATH, data=body, content_type=content_type)
    return Request(builder.get_environ()).form


@st.composite
def bad_requests(draw: st.DrawFn) -> Bad:
    """A request at the web hook: odd fields, content types, sizes and signatures."""
    pairs = draw(fields())
    kind = draw(st.sampled_from(["form", "form", "form", "multipart", "other", "none"]))
    if kind == "multipart":
        boundary, body = encode_multipart(  # a fixed boundary: hypothesis replays examples
            {name.encode("utf-8", "replace").decode(): value.decode("utf-8", "replace")
             for name, value in pairs},
            boundary="----bad-input-boundary")
        content_type: str | None = f"{MULTIPART}; boundary={boundary}"
    else:
        body = _encoded(pairs)
        content_type = {"form": FORM, "none": None}.get(kind) or draw(st.sampled_from(
            ["text/plain", "application/json", "text/xml", f"{FORM}; charset=latin-1",
             "multipart/form-data", "application/octet-stream"]))
    if draw(st.integers(0, 19)) == 0:  # far over the limit: Twilio never sends this
        body += b"&Body=" + b"x" * draw(st.integers(LIMIT, 3 * LIMIT))
    huge = len(body) > LIMIT
    form = None if huge else parsed(body, content_type)
    if form is not None and None in form:  # a part named "\r": no one can sign that form
        form = None
    signature = draw(st.sampled_from(["real"] * 4 + ["missing", "forged", "other token",
                                                    "sha256 unknown key"]))
    headers: dict[str, str] = {}
    if huge and signature != "missing":  # any header makes the app read the form: 413
        headers["X-Twilio-Signature"] = "forged-" + signature.replace(" ", "-")
    elif signature == "real" and form is not None:
        headers["X-Twilio-Signature"] = sign(WEBHOOK_URL, form)
    elif signature == "forged":
        headers["X-Twilio-Signature"] = draw(st.text(st.characters(min_codepoint=32,
                                                                   max_codepoint=126),
                                                     max_size=40))
    elif signature == "other token" and form is not None:
        headers["X-Twilio-Signature"] = sign(WEBHOOK_URL, form, token=AUTH_TOKEN[::-1])
    elif signature == "sha256 unknown key" and form is not None:
        headers["X-Twilio-Signature"] = sign(WEBHOOK_URL, form, algorithm="HMAC_SHA256")
        headers["X-Twilio-Webhooks-Signature-Settings"] = "key=nobody,algorithm=HMAC_SHA256"
    is_form = (content_type or "").split(";")[0] in (FORM, MULTIPART)
    if huge:
        allowed = {413} if is_form and headers else {403, 413}
    elif signature == "real" and form is not None:
        allowed = {200}
    else:
        allowed = {403}
    return Bad(body, content_type, headers, signature == "real" and form is not None,
               frozenset(allowed))


def problems(bad: Bad, response: TestResponse) -> list[str]:
    """What is wrong with the answer to `bad`: empty when it is one the text line may give."""
    found = []
    if response.status_code not in bad.allowed:
        found.append(f"status {response.status_code}, expected one of {sorted(bad.allowed)}")
    if response.status_code in (200, 413):
        try:
            root = ET.fromstring(response.data)
        except ET.ParseError as error:
            found.append(f"not XML: {error}: {response.data[:200]!r}")
        else:
            if root.tag != "Response":
                found.append(f"root is <{root.tag}>, not <Response>")
            if any(child.tag != "Message" for child in root):
                found.append(f"unexpected elements: {[child.tag for child in root]}")
        if response.mimetype != "text/xml":
            found.append(f"content type {response.mimetype}")
    return found
