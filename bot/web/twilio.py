"""Twilio's web hooks: inbound SMS and WhatsApp messages, and delivery status callbacks.

Every request must carry a valid `X-Twilio-Signature`: HMAC-SHA1 with the Auth Token, or,
when `X-Twilio-Webhooks-Signature-Settings` names a Webhook-Rule SharedKey, the algorithm it
names with that key (`TWILIO_WEBHOOK_KEYS="keyId=secret,..."`). Without an Auth Token every
request is refused. Twilio signs the URL it was told to call; behind a proxy or tunnel this app
sees another one, so `PUBLIC_URL` (the public base URL) replaces scheme, host and port.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache, wraps
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from werkzeug.datastructures import ImmutableMultiDict

from bot import optout
from bot.inbound import Message
from bot.web import request_id, textline, twiml

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")
_WORD = re.compile(r"[A-Za-z0-9_]{1,32}")


def signed(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        read_form()
        if not signature_is_valid():
            log.warning("request=%s %s refused: missing or wrong Twilio signature",
                        request_id(), request.path)
            abort(403)
        return view(*args, **kwargs)

    return checked


def read_form() -> None:
    """Twilio's form (always URL-encoded) read the short way: the body, then one `parse_qsl`,
    as Werkzeug's own parser does after building a stream and a parser for it (a thirtieth
    of a turn). The body still comes through Werkzeug's size-limited stream (413 above
    MAX_CONTENT_LENGTH), a body that is not UTF-8 reads as no form at all, as Werkzeug's
    does, and any other kind of body is left to `request.form`."""
    if request.mimetype == "application/x-www-form-urlencoded" and "form" not in request.__dict__:
        try:
            items = parse_qsl(request.get_data().decode(), keep_blank_values=True,
                              errors="werkzeug.url_quote")
        except ValueError:  # UnicodeDecodeError: Werkzeug's parser is silent about it too
            items = []
        request.__dict__["form"] = ImmutableMultiDict(items)  # where `request.form` caches it


def signature_is_valid() -> bool:
    """Twilio's own validator, built once per secret. The URL as this app put it together is
    tried first: one HMAC for a good request, where `validate` always computes two (the URL
    with and without its port, as Twilio may sign either); `validate`, given the URL exactly
    as Werkzeug writes it, still decides every other case."""
    config = current_app.config
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature or not config.get("TWILIO_AUTH_TOKEN"):
        return False
    settings = request.headers.get(SIGNATURE_SETTINGS_HEADER)
    if settings:
        secret = shared_keys(config).get(_setting(settings, "key"))
    else:
        secret = config["TWILIO_AUTH_TOKEN"]
    if not secret or None in request.form:  # a multipart part named "\r" has no name; the
        return False  # validator would raise sorting it, and Twilio never sends one
    validator = _validator(secret)
    algorithm = get_signature_algorithm(settings)
    fields = _Fields(request.form)
    try:
        expected = validator.compute_signature(signed_url(exact=False), fields, algorithm)
    except ValueError:  # an algorithm the library does not know: `validate` says so
        expected = ""
    return hmac.compare_digest(expected.encode(), signature.encode()) or validator.validate(
        signed_url(), fields, signature, algorithm=algorithm)


class _Fields:
    """The form as the validator reads a form's values: by `getall`, which it tries first.
    Werkzeug's MultiDict has `getlist` instead, which the validator reaches after an
    AttributeError for every field (Twilio posts about twenty): half the signature's time."""

    def __init__(self, form: ImmutableMultiDict[str, str]):
        self._form = form

    def __iter__(self) -> Iterator[str]:
        return iter(self._form)

    def getall(self, name: str) -> list[str]:
        return self._form.getlist(name)


@lru_cache(maxsize=16)
def _validator(secret: str) -> RequestValidator:
    return RequestValidator(secret)


def signed_url(exact: bool = True) -> str:
    """The URL Twilio signed: PUBLIC_URL + the path and query this app received.

    Without PUBLIC_URL it is the URL as this app received it. Werkzeug's `request.url`
    writes it exactly (quoting, IRI) at a twentieth of a turn; `exact=False` puts the parts
    together as they came, which is the same text for the plain URLs Twilio is given, and is
    tried first."""
    public = current_app.config.get("PUBLIC_URL")
    if not public:
        if exact:
            return request.url
        public = f"{request.scheme}://{request.host}"
    query = request.query_string.decode("latin-1")
    return public.rstrip("/") + request.script_root + request.path + (f"?{query}" if query else "")


def shared_keys(config: Mapping[str, Any]) -> dict[str, str]:
    return _keys(config.get("TWILIO_WEBHOOK_KEYS") or "")


@lru_cache(maxsize=4)
def _keys(setting: str) -> dict[str, str]:
    """`keyId=secret,...` read once per process, not per request."""
    pairs = (item.partition("=") for item in setting.split(","))
    return {name.strip(): secret.strip() for name, _, secret in pairs if name.strip() and secret}


def _setting(header: str, name: str) -> str:
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key.strip() == name:
            return value.strip()
    return ""


@bp.post("/messages")
@signed
def messages() -> Response:
    return respond(request.form)


def respond(form: Mapping[str, str]) -> Response:
    """Run one inbound message through the text line and answer in TwiML (the simulator too)."""
    return twiml(textline().handle(Message.from_form(form), request_id()))


@bp.post("/status")
@signed
def status() -> tuple[str, int]:
    """Count delivery outcomes; a 21610 refusal means the contact opted out at Twilio."""
    form, line = request.form, textline()
    outcome = form.get("MessageStatus") or form.get("SmsStatus") or "unknown"
    error = form.get("ErrorCode") or ""
    fields = [outcome if _WORD.fullmatch(outcome) else "unknown"]
    if _WORD.fullmatch(error):
        fields.append(f"error:{error}")
    try:
        line.store.count(line.clock(), fields, table="delivery")
        if error == str(optout.CARRIER_OPT_OUT) and form.get("To"):
            line.opt_out_after_failure(form["To"])
    except Exception:
        log.exception("request=%s status callback not recorded", request_id())
    return "", 204


@bp.app_errorhandler(413)
def too_large(error: Exception) -> tuple[Response, int]:
    """A body far above anything Twilio sends: refused unread, still with valid TwiML."""
    log.warning("request=%s %s refused: body over %s bytes", request_id(), request.path,
                current_app.config.get("MAX_CONTENT_LENGTH"))
    return twiml([]), 413


@bp.errorhandler(500)
def apologise(error: Exception) -> Response:
    """The last line of defence: Twilio never gets a 5xx, the resident gets an apology."""
    log.error("request=%s unexpected error in a Twilio web hook: %r", request_id(), error)
    return twiml([textline().content.message("en", "sorry_error")])
