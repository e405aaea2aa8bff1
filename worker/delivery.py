"""One send, through Twilio's REST API (or into the local outbox, or a simulated resident's
thread), and what a failure means."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import Enum

from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, RequestException
from rq import get_current_job
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from bot import outbox, simulated
from bot.optout import CARRIER_OPT_OUT
from bot.store import contact_id, normalize_address
from worker.settings import Settings

HTTP_TIMEOUT_SECONDS = 10  # well inside the job's own timeout
INVALID_NUMBER = frozenset({21211, 21614})  # not a valid number; not a mobile number
OUTSIDE_WINDOW = 63016  # WhatsApp: free text outside the 24-hour window


class Failure(Enum):
    """What a failed send means for the message."""

    OPTED_OUT = "opted_out"
    INVALID_NUMBER = "invalid_number"
    OUTSIDE_WINDOW = "outside_window"
    TRANSIENT = "transient"  # 429, 5xx, no connection made: Twilio took nothing; try again
    UNCONFIRMED = "unconfirmed"  # the request may have gone out: it may have been sent
    REJECTED = "rejected"  # any other refusal: the same request would fail again


@dataclass(frozen=True)
class Outgoing:
    address: str  # as Twilio wants it: +1..., or whatsapp:+1...
    channel: str
    body: str
    message_id: str
    template: bool = False  # send the approved WhatsApp template, with `body` as variable 1


def deliver(settings: Settings, message: Outgoing) -> str:
    """The Twilio message SID, `outbox` without credentials, or `simulator` for a fictional
    number: never to Twilio, its text goes to the staff simulator's thread (bot/simulated.py).
    Raises what the send raised."""
    if simulated.is_fictional(message.address):
        simulated.leave(get_current_job().connection,
                        contact_id(settings.secret, message.address), message.body)
        return "simulator"
    if not settings.uses_twilio:
        record = {"id": message.message_id, "to": message.address, "channel": message.channel,
                  "body": message.body, "at": time.time()}
        if message.template:
            record["template"] = settings.whatsapp_template_sid
        outbox.append(record)
        return "outbox"
    created = twilio_client(settings).messages.create(**_params(settings, message))
    return created.sid


def _params(settings: Settings, message: Outgoing) -> dict[str, str]:
    params = {"to": message.address}
    if settings.messaging_service_sid:
        params["messaging_service_sid"] = settings.messaging_service_sid
    else:
        number = normalize_address(settings.sender_number or "")
        params["from_"] = f"whatsapp:{number}" if message.channel == "whatsapp" else number
    if message.template:
        params["content_sid"] = settings.whatsapp_template_sid or ""
        params["content_variables"] = json.dumps({"1": message.body}, ensure_ascii=False)
    else:
        params["body"] = message.body
    if settings.status_callback:
        params["status_callback"] = settings.status_callback
    return params


def twilio_client(settings: Settings) -> Client:
    return Client(settings.account_sid, settings.auth_token,
                  http_client=TwilioHttpClient(timeout=HTTP_TIMEOUT_SECONDS))


def explain(error: Exception) -> Failure:
    if isinstance(error, TwilioRestException):
        if error.code == CARRIER_OPT_OUT:
            return Failure.OPTED_OUT
        if error.code in INVALID_NUMBER:
            return Failure.INVALID_NUMBER
        if error.code == OUTSIDE_WINDOW:
            return Failure.OUTSIDE_WINDOW
        if error.status == 429 or error.status >= 500:
            return Failure.TRANSIENT
        return Failure.REJECTED
    if isinstance(error, RequestException):  # docs/twilio.md "A send that may have gone out"
        return Failure.TRANSIENT if _never_sent(error) else Failure.UNCONFIRMED
    return Failure.TRANSIENT  # Redis trouble, the unforeseen, before any request: try again


def _never_sent(error: RequestException) -> bool:
    """Only a connection that was never made proves Twilio has nothing. A reset, a closed
    socket or a timeout after the request was written may come after Twilio took it: we
    prefer a lost follow-up (counted `unconfirmed`) to a resident texted twice."""
    if isinstance(error, ConnectTimeout):
        return True
    if not isinstance(error, RequestsConnectionError) or not error.args:
        return False
    cause = error.args[0]
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | ConnectTimeoutError)
