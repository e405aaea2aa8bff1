"""The web doors onto the text line: Twilio's web hooks, health, and the staff simulator."""

from __future__ import annotations

import os
from collections.abc import Iterable
from xml.sax.saxutils import escape

from flask import Response, current_app, g

from bot.inbound import Textline


def textline() -> Textline:
    return current_app.extensions["textline"]


def request_id() -> str:
    """A short id that ties this request's log lines together (and to the response header)."""
    if "request_id" not in g:
        g.request_id = os.urandom(6).hex()  # 48 random bits, as uuid4().hex[:12] gave
    return g.request_id


TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def twiml(replies: Iterable[str]) -> Response:
    """TwiML with one <Message> per reply; none renders as an empty <Response />.

    Written as a string: the twilio library's MessagingResponse builds an ElementTree for the
    same bytes, a twentieth of a turn. tests/test_twiml.py holds the two equal."""
    messages = "".join(f"<Message>{escape(reply)}</Message>" if reply else "<Message />"
                       for reply in replies)
    body = f"<Response>{messages}</Response>" if messages else "<Response />"
    return Response(TWIML_HEAD + body, mimetype="text/xml", headers={"X-Request-Id": request_id()})
