"""Signing staff in and out, and who may open what.

Sessions are Flask's signed cookies (key derived from SCREENER_SECRET), HttpOnly, SameSite=Lax,
Secure when the site is served over HTTPS (`PUBLIC_URL`), and end after 8 hours. Sign-in
attempts are limited per name and per address (Redis), and every form carries a CSRF token.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import (
    Flask,
    Request,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from redis.exceptions import RedisError

from bot.web.staff import bp
from bot.web.staff.accounts import Account, check, parse_accounts

log = logging.getLogger(__name__)
csrf = CSRFProtect()
ATTEMPTS = 5  # sign-in attempts per name, and per address, in WINDOW_SECONDS
WINDOW_SECONDS = 15 * 60
View = TypeVar("View", bound=Callable[..., Any])


def install(app: Flask) -> None:
    secret = str(app.config["SCREENER_SECRET"]).encode()
    app.secret_key = hmac.new(secret, b"staff sessions", hashlib.sha256).hexdigest()
    secure = str(app.config.get("PUBLIC_URL") or "").startswith("https://")
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=secure, SESSION_COOKIE_NAME="staff",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
                      WTF_CSRF_TIME_LIMIT=8 * 3600)
    app.session_interface = StaffSessions()
    app.extensions["staff_accounts"] = parse_accounts(app.config.get("STAFF_USERS"))
    csrf.init_app(app)
    from bot.web import twilio

    csrf.exempt(twilio.bp)  # Twilio signs its requests; it has no CSRF token


class StaffSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer built only for a request that brings
    the cookie. Flask builds it for every request, and every Twilio web hook (no cookie ever)
    paid for it: a fortieth of a turn. A request whose Cookie header does not even name it
    is not parsed for cookies at all."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        name = self.get_cookie_name(app)
        if app.secret_key and (name not in request.headers.get("Cookie", "")
                               or not request.cookies.get(name)):
            return self.session_class()
        return super().open_session(app, request)


def accounts() -> dict[str, Account]:
    return current_app.extensions["staff_accounts"]


def current() -> Account | None:
    name = session.get("name")
    return accounts().get(name) if name else None


def requires(area: str) -> Callable[[View], View]:
    """Only a signed-in account whose role may open `area`; others go to sign in (403 for a
    role that may not)."""
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            account = current()
            if account is None:
                return redirect(url_for("staff.login", next=request.path))
            if not account.may(area):
                return render_template("staff/forbidden.html", account=account), 403
            g.account = account
            return view(*args, **kwargs)
        return guarded  # type: ignore[return-value]
    return decorate


@bp.get("/login")
def login() -> Any:
    if not accounts():
        return render_template("staff/no_accounts.html"), 503
    return render_template("staff/login.html", next=_safe_next(request.args.get("next")))


@bp.post("/login")
def sign_in() -> Any:
    name = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    target = _safe_next(request.form.get("next"))
    if not accounts():
        return render_template("staff/no_accounts.html"), 503
    if _too_many_attempts(name):
        log.warning("staff sign-in refused: too many attempts")
        return render_template("staff/login.html", next=target, error="too_many"), 429
    account = check(accounts(), name, password)
    if account is None:
        log.info("staff sign-in failed")
        return render_template("staff/login.html", next=target, error="wrong"), 401
    session.clear()
    session.permanent = True
    session["name"] = account.name
    log.info("staff %s signed in (%s)", account.name, account.role)
    return redirect(target or url_for("staff.home"))


@bp.post("/logout")
def sign_out() -> Response:
    account = current()
    if account:
        log.info("staff %s signed out", account.name)
    session.clear()
    return redirect(url_for("staff.login"))


@bp.get("/")
def home() -> Any:
    """Where signing in lands: the first page the role may open."""
    account = current()
    if account is None:
        return redirect(url_for("staff.login"))
    g.account = account
    for area, endpoint, _ in PAGES:
        if account.may(area) and endpoint in current_app.view_functions:
            return redirect(url_for(endpoint))
    return render_template("staff/forbidden.html", account=account), 403


PAGES = (("dashboard", "staff.dashboard", "Dashboard"), ("simulator", "staff.simulator",
         "Simulator"), ("flow", "staff.flow", "Flow map"), ("cases", "staff.cases", "Cases"),
         ("flyers", "staff.flyers", "Flyers"))


@bp.context_processor
def navigation() -> dict[str, Any]:
    """The pages the signed-in account may open, for the header."""
    account = getattr(g, "account", None)
    pages = [(endpoint, label) for area, endpoint, label in PAGES
             if account and account.may(area) and endpoint in current_app.view_functions]
    return {"nav": pages}


def _safe_next(target: str | None) -> str | None:
    """Only a path of this console (never another site) to go back to after signing in."""
    if target and target.startswith("/staff/") and not target.startswith("//"):
        return target
    return None


def _too_many_attempts(name: str) -> bool:
    """Count this attempt per name and per address; over ATTEMPTS in the window refuses.
    Keys hold hashes only (an address or a mistyped password in a name field is personal)."""
    redis = current_app.extensions["textline"].store.redis
    window = int(time.time() // WINDOW_SECONDS)
    secret = str(current_app.config["SCREENER_SECRET"]).encode()
    over = False
    try:
        pipe = redis.pipeline(transaction=False)
        for who in (f"name:{name.casefold()}", f"addr:{request.remote_addr}"):
            digest = hmac.new(secret, who.encode(), hashlib.sha256).hexdigest()[:24]
            key = f"sj:staff:signin:{digest}:{window}"
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS)
        counts = pipe.execute()[::2]
        over = any(count > ATTEMPTS for count in counts)
    except RedisError:
        log.warning("sign-in attempts not counted: Redis unavailable")
    return over
