"""The resident web door (issue 15): the text line as a web page at `/`, `/es`, `/vi`, `/pa`,
`/hi`, with no sign-in and no phone number. docs/web.md says how it works and why.

A turn on the page is a turn of the text line: `POST /chat/send` runs the same inbound
pipeline as SMS (bot/inbound.py, channel `web`: dedup, lock, flood limits, STOP, one commit)
for the contact that is the keyed hash of "web:<id>", the id a random 128 bits in a signed,
HttpOnly, SameSite=Strict cookie. The page is rendered on the server from the view
(bot/door_view.py), so plain form posts carry a whole screening; the page's script asks for
the same view as JSON. Every POST must come from our own pages (Sec-Fetch-Site or Origin);
every answer carries a strict Content-Security-Policy and the other security headers.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from itsdangerous import BadSignature, URLSafeSerializer
from redis.exceptions import RedisError

from bot import cases, door_view, ratelimit, text_me
from bot.commands import command_in
from bot.i18n import BASE_LANGUAGE, LANGUAGES
from bot.inbound import WEB, Message, Textline
from bot.store import PREFIX, Snapshot, key
from bot.web import request_id, textline
from bot.webtexts import WebTexts, load_web_texts

log = logging.getLogger(__name__)
bp = Blueprint("door", __name__, template_folder="templates", static_folder="static/door",
               static_url_path="/static/door")
COOKIE = "sj_web"
MAX_TEXT = 500  # the page's box takes 500 characters; SMS bodies are cut at 1,600 anyway
# Per client address (hashed), all door POSTs: a library's Wi-Fi puts many residents behind
# one address, so this stops a script, not a busy branch. Per session the text line's own
# flood limits apply (RATE_LIMIT_PER_MINUTE), as for any contact.
PER_ADDRESS = ratelimit.Limits(per_contact=120, window=60)
# "Text me my results", per day: per session, per client address, per phone number.
TEXTS_PER_DAY = {"session": 3, "address": 10, "number": 3}
DAY = 86400
# How often a page waiting for a navigator asks for news (config DOOR_POLL_SECONDS): a reply
# shows within seconds, and a page not waiting asks nothing.
POLL_SECONDS = 10
_REQUEST = re.compile(r"[0-9a-f]{32}")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self'; font-src 'self'; connect-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def install(app: Flask) -> None:
    """Register the door: its texts loaded once, its forms exempt from the staff console's
    CSRF tokens (they have SameSite=Strict and the same-origin check instead)."""
    app.extensions["door_texts"] = load_web_texts()
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)


# -- pages ------------------------------------------------------------------------------------

@bp.get("/")
@bp.get(f"/<any({', '.join(LANGUAGES[1:])}):lang>")
def page(lang: str = BASE_LANGUAGE) -> Any:
    line = textline()
    if lang not in line.content.languages:
        abort(404)
    snapshot, transcript = _state(line, _session_id())
    view = _view(line, snapshot, lang, transcript=transcript)
    texts = _texts(lang)
    poll = float(current_app.config.get("DOOR_POLL_SECONDS") or POLL_SECONDS)
    return render_template("door/page.html", view=view, lang=lang, texts=texts,
                           languages=_languages(line), notice=_notice(request.args, lang),
                           poll_ms=round(poll * 1000))


@bp.post("/chat/send")
def send() -> Any:
    line, lang = textline(), _page_lang()
    session_id = _session_id()
    fresh = session_id is None
    session_id = session_id or secrets.token_hex(16)
    text = (request.form.get("text") or "")[:MAX_TEXT]
    replies: list[str] = []
    if text.strip():
        before, _ = _state(line, session_id, transcript=False)
        if door_view.can_text_results(before.session) and command_in(line.content,
                                                                     text) == "remind":
            replies = _no_reminder_here(line, session_id, text, lang)
        else:
            tapped = door_view.shown(door_view.buttons(line.content, before.session, lang,
                                                       _texts(lang)), text)
            replies = line.handle(Message(f"{WEB}:{session_id}", text, sid=_turn_id(),
                                          lang=lang, shown=tapped), request_id())
    snapshot, transcript = _state(line, session_id)
    view = _view(line, snapshot, _conversation_lang(snapshot, lang), replies=replies,
                 transcript=transcript)
    answer = jsonify(view) if _wants_json() else redirect(_path(view["lang"]), 303)
    if fresh and text.strip():  # the session exists only once a message ran
        _set_cookie(answer, session_id)
    return answer


@bp.get("/chat/state")
def state() -> Any:
    """The conversation as it stands, as JSON: the view a send answers, with no new replies.
    A page whose resident waits for a navigator asks every POLL_SECONDS (door.js), so the
    navigator's reply shows without a reload; the web contact has no number to text it to."""
    line = textline()
    page_lang = request.args.get("lang") or BASE_LANGUAGE
    page_lang = page_lang if page_lang in line.content.languages else BASE_LANGUAGE
    snapshot, transcript = _state(line, _session_id())
    return jsonify(_view(line, snapshot, _conversation_lang(snapshot, page_lang),
                         transcript=transcript))


def _no_reminder_here(line: Textline, session_id: str, text: str, lang: str) -> list[str]:
    """REMIND at the results: by SMS the engine queues a text days later, but a web session
    has no number, so the engine's "we'll text you" would be a promise nobody keeps. The page
    points to "text me my results" instead (which checks in later), in the transcript too."""
    reply = _texts(lang)["remind_by_text"]
    line.store.add_to_transcript(line.contact(f"{WEB}:{session_id}"),
                                 [("resident", text.strip()), ("bot", reply)])
    return [reply]


@bp.post("/chat/forget")
def forget() -> Any:
    """Everything of this web session goes at once: session, transcript, replies, limits. A
    turn still running then fails to write (its lock is gone) rather than bring any back."""
    line, lang = textline(), _page_lang()
    session_id = _session_id()
    if session_id is not None:
        contact = line.contact(f"{WEB}:{session_id}")
        found = line.store.snapshot(contact, None)
        if (found.session or {}).get("case"):
            cases.erase(line.store.redis, found.session["case"])
        line.store.forget(contact, None)
        log.info("request=%s contact=%s forgotten", request_id(), contact[:8])
    if _wants_json():
        answer = jsonify({"forgotten": True, **_view(line, Snapshot(None, None, None), lang)})
    else:
        answer = redirect(_path(lang, "forgotten"), 303)
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return answer


@bp.post("/chat/text-me")
def text_me_route() -> Any:
    line, lang = textline(), _page_lang()
    outcome, status = _text_me(line, lang)
    if _wants_json():
        if outcome == "text_me_sent":
            return jsonify({"sent": True})
        return jsonify({"error": _notice_text(outcome, lang)}), status
    return redirect(_path(lang, outcome), 303)


def _text_me(line: Textline, lang: str) -> tuple[str, int]:
    """The outcome as the name of the text that tells it, and the HTTP status."""
    session_id = _session_id()
    snapshot, _ = _state(line, session_id, transcript=False)
    web = snapshot.session
    if session_id is None or not door_view.can_text_results(web):
        return "results_first", 409
    number = text_me.us_number(request.form.get("phone") or "")
    if number is None:
        return "phone_invalid", 400
    if request.form.get("consent") != "yes":
        return "consent_needed", 400
    now = line.clock()
    if not _within_daily_limits(line, session_id, number, now):
        log.warning("request=%s text me refused: daily limit", request_id())
        return "too_many_texts", 429
    consent = text_me.Consent(now, current_app.extensions["door_texts"].consent_version, lang)
    if not text_me.send(line, number, web, consent, _turn_id()):
        log.info("request=%s text me refused: the number opted out", request_id())
        return "number_stopped", 409
    log.info("request=%s text me queued", request_id())
    return "text_me_sent", 200


def _within_daily_limits(line: Textline, session_id: str, number: str, now: float) -> bool:
    """Count this request against the session's, the address's and the number's day."""
    names = {"session": key(line.contact(f"{WEB}:{session_id}"), "texted"),
             "address": _address_key("texted"),
             "number": key(line.contact(number), "texted")}
    pipe = line.store.redis.pipeline(transaction=False)
    for name in names.values():
        pipe.set(name, 0, ex=DAY, nx=True)
        pipe.incr(name)
    counts = pipe.execute()[1::2]
    return all(count <= TEXTS_PER_DAY[which] for which, count in zip(names, counts, strict=True))


# -- every door request -------------------------------------------------------------------------

@bp.before_request
def refuse_strangers() -> Any:
    """POSTs only from our own pages, and not in a flood from one address."""
    if request.method != "POST":
        return None
    lang = _page_lang()
    if not _same_origin():
        log.warning("request=%s %s refused: not from our page", request_id(), request.path)
        return jsonify({"error": _texts(lang)["error"]}), 403
    if not _address_allowed(textline().clock()):
        log.warning("request=%s %s refused: too many from one address", request_id(),
                    request.path)
        if _wants_json():
            return jsonify({"error": _notice_text("rate_limited", lang)}), 429
        return redirect(_path(lang, "rate_limited"), 303)
    return None


@bp.after_request
def security_headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    if _https():
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.endpoint != "door.static":  # a page or answer holds the conversation
        response.headers["Cache-Control"] = "no-store"
    return response


def _https() -> bool:
    """Served over HTTPS: this request says so, or PUBLIC_URL does (a proxy in front ends TLS
    and passes plain HTTP on, as the staff console's cookie also assumes)."""
    return request.is_secure or str(current_app.config.get("PUBLIC_URL") or "").startswith(
        "https://")


def _same_origin() -> bool:
    """Sec-Fetch-Site when the browser sends it, else Origin; a browser that sends neither
    (old ones) is left to the SameSite=Strict cookie."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    ours = {request.host_url.rstrip("/")}
    public = current_app.config.get("PUBLIC_URL")
    if public:
        parts = urlsplit(public)
        ours.add(f"{parts.scheme}://{parts.netloc}")
    return origin in ours


def _address_allowed(now: float) -> bool:
    name = _address_key("rate")
    pipe = textline().store.redis.pipeline(transaction=True)
    pipe.zremrangebyscore(name, 0, now - PER_ADDRESS.window)
    pipe.zadd(name, {f"{now:.6f}-{secrets.token_hex(4)}": now})
    pipe.zcard(name)
    pipe.expire(name, PER_ADDRESS.window)
    recent = pipe.execute()[2]
    return ratelimit.verdict(recent, 0, False, PER_ADDRESS) is ratelimit.Verdict.OK


def _address_key(part: str) -> str:
    """A key for the client's address, keyed-hashed like a phone number (never in clear). Not
    a contact's key: it holds no conversation, only counts."""
    secret = textline().secret
    digest = hmac.new(secret, f"web address:{request.remote_addr}".encode(), hashlib.sha256)
    return f"{PREFIX}:door:{{{digest.hexdigest()[:32]}}}:{part}"


# -- the session and its view -------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    secret = textline().secret
    return URLSafeSerializer(hmac.new(secret, b"web door cookies", hashlib.sha256).hexdigest(),
                             salt=COOKIE)


def _session_id() -> str | None:
    """The id in a good cookie; None without one, or with one we did not sign."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{32}", value) else None


def _set_cookie(response: Response, session_id: str) -> None:
    """A browser-session cookie (no Max-Age): on a shared computer it ends with the browser;
    the conversation itself ends with the retention or "forget me"."""
    response.set_cookie(COOKIE, _serializer().dumps(session_id), path="/", httponly=True,
                        samesite="Strict", secure=_https())


def _turn_id() -> str:
    """The turn's dedup key: the page's own request id when it sends one (a double submit
    is then answered once), else a fresh one."""
    given = request.form.get("request") or ""
    return f"web{given if _REQUEST.fullmatch(given) else uuid.uuid4().hex}"


def _state(line: Textline, session_id: str | None,
           transcript: bool = True) -> tuple[Snapshot, list[dict[str, str]]]:
    """The web session as Redis holds it, and its transcript; nothing when Redis fails (the
    page still shows, and a send still gets the text line's own apology)."""
    empty = Snapshot(None, None, None)
    if session_id is None:
        return empty, []
    contact = line.contact(f"{WEB}:{session_id}")
    try:
        found = line.store.snapshot(contact, None)
        return found, line.store.transcript(contact) if transcript else []
    except RedisError as error:
        log.warning("request=%s web session not read: %s", request_id(), type(error).__name__)
        return empty, []


def _view(line: Textline, snapshot: Snapshot, lang: str, *, replies: list[str] | None = None,
          transcript: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return door_view.view(line.content, snapshot.session, lang, texts=_texts(lang),
                          replies=replies or [], transcript=transcript or [],
                          opted_out=snapshot.opt_out is not None)


def _conversation_lang(snapshot: Snapshot, page_lang: str) -> str:
    """The language the conversation is in now (it changes with LANGUAGE)."""
    return (snapshot.session or snapshot.opt_out or {}).get("lang") or page_lang


def _texts(lang: str) -> dict[str, str]:
    texts: WebTexts = current_app.extensions["door_texts"]
    line = textline()
    return texts.in_language(line.content, lang, line.store.ttl.retention // DAY)


def _languages(line: Textline) -> list[dict[str, str]]:
    return [{"code": code, "name": line.content.flow.languages[code].name, "href": _path(code)}
            for code in line.content.languages]


def _page_lang() -> str:
    lang = request.form.get("lang") or BASE_LANGUAGE
    return lang if lang in textline().content.languages else BASE_LANGUAGE


def _path(lang: str, notice: str | None = None) -> str:
    path = "/" if lang == BASE_LANGUAGE else f"/{lang}"
    return f"{path}?notice={notice}" if notice else path


def _notice(args: Any, lang: str) -> str | None:
    """The notice a plain form's round trip carries (`?notice=<text name>`)."""
    name = args.get("notice")
    return _notice_text(name, lang) if name else None


def _notice_text(name: str, lang: str) -> str | None:
    if name == "rate_limited":  # the text line's own words for a flood
        return textline().content.message(lang, "rate_limited")
    return _texts(lang).get(name)


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) \
        == "application/json"
