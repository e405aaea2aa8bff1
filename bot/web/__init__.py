"""The web doors onto the text line: Twilio's web hooks, health, and the staff simulator."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import uuid4

from flask import Response, current_app, g
from twilio.twiml.messaging_response import MessagingResponse

from bot.inbound import Textline


def textline() -> Textline:
    return current_app.extensions["textline"]


def request_id() -> str:
    """A short id that ties this request's log lines together (and to the response header)."""
    if "request_id" not in g:
        g.request_id = uuid4().hex[:12]
    return g.request_id


def twiml(replies: Iterable[str]) -> Response:
    """TwiML with one <Message> per reply; none renders as an empty <Response/>."""
    response = MessagingResponse()
    for reply in replies:
        response.message(reply)
    return Response(str(response), mimetype="text/xml",
                    headers={"X-Request-Id": request_id()})
