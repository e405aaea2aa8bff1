"""Navigators' cases at /staff/cases: residents who asked for a person and agreed to share their
answers. A navigator claims a case, replies from the page (sent by the worker, with the usual
STOP, quiet-hours and WhatsApp-window rules) and closes it, which hands the resident back to
the bot with a short note. Never a phone number on these pages; every action is logged and
audited by staff name.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import abort, current_app, g, redirect, render_template, request, url_for
from redis.exceptions import LockError

from bot import cases
from bot.engine import Job, back_from_navigator
from bot.inbound import WEB
from bot.sealing import open_sealed
from bot.store import Change
from bot.web.staff import bp
from bot.web.staff.auth import requires

log = logging.getLogger(__name__)
MAX_REPLY_CHARS = 640  # four SMS segments of plain text; longer belongs in a call


def _line() -> Any:
    return current_app.extensions["textline"]


def _case(case_id: str) -> cases.Case:
    case = cases.load(_line().store.redis, case_id)
    if case is None:
        abort(404)
    return case


@bp.get("/cases", endpoint="cases")
@requires("cases")
def cases_page() -> Any:
    line = _line()
    now = line.clock()
    shown = [(case, cases.waiting_since(line.store.redis, case))
             for case in cases.open_cases(line.store.redis)]
    return render_template("staff/cases.html", cases=shown, now=now,
                           languages=line.content.flow.languages)


@bp.get("/cases/<case_id>")
@requires("cases")
def case_page(case_id: str) -> Any:
    line = _line()
    case = _case(case_id)
    content = line.content
    answers = [(question.id, content.text("en", question.ask), case.answers[question.id])
               for question in content.flow.questions if question.id in case.answers]
    programs = [content.text("en", content.rules.program(pid).name)
                for pid in case.programs
                if pid in {p.id for p in content.rules.programs}]
    saved = [(reply.id, content.text(case.lang, reply.text))
             for reply in content.handoff.saved_replies]
    return render_template(
        "staff/case.html", case=case, answers=answers, programs=programs, saved=saved,
        thread=cases.messages(line.store.redis, case.id), now=line.clock(),
        waiting=cases.waiting_since(line.store.redis, case),
        language=content.flow.languages.get(case.lang), error=request.args.get("error"))


@bp.post("/cases/<case_id>/claim")
@requires("cases")
def claim(case_id: str) -> Any:
    line = _line()
    case = _case(case_id)
    case.claimed_by = g.account.name
    cases.save(line.store.redis, case, line.store.ttl.retention)
    _audit(case, "claimed")
    return redirect(url_for("staff.case_page", case_id=case.id))


@bp.post("/cases/<case_id>/reply")
@requires("cases")
def reply(case_id: str) -> Any:
    line = _line()
    case = _case(case_id)
    body = " ".join(request.form.get("body", "").split())
    if not body or len(body) > MAX_REPLY_CHARS or case.status != "open":
        return redirect(url_for("staff.case_page", case_id=case.id, error="reply"))
    now = line.clock()
    if case.claimed_by is None:
        case.claimed_by = g.account.name
        cases.save(line.store.redis, case, line.store.ttl.retention)
    _send(case, [body], now)
    cases.add_message(line.store.redis, case.id,
                      cases.Message("navigator", body, now, g.account.name),
                      line.store.ttl.retention)
    _audit(case, "replied")
    return redirect(url_for("staff.case_page", case_id=case.id))


@bp.post("/cases/<case_id>/close")
@requires("cases")
def close(case_id: str) -> Any:
    """Hand the resident back to the bot: under their lock (a text may be arriving), the
    session leaves the navigator's hands, and the bot's note goes out through the worker."""
    line = _line()
    case = _case(case_id)
    store, now = line.store, line.clock()
    lock = store.lock(case.contact)
    if not lock.acquire():
        return redirect(url_for("staff.case_page", case_id=case.id, error="busy"))
    try:
        found = store.snapshot(case.contact, None)
        notes: list[str] = []
        if found.session is not None and found.session.get("case") == case.id:
            step = back_from_navigator(line.content, found.session, now, case.channel)
            store.commit(case.contact, Change([], session=step.session), now,
                         token=lock.local.token)
            notes = step.replies
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("case %s: the contact's lock had expired", case.id)
    if notes and store.opt_out_record(case.contact) is None:
        _send(case, notes, now)
        for note in notes:
            cases.add_message(store.redis, case.id, cases.Message("bot", note, now),
                              store.ttl.retention)
    case.status, case.closed_by, case.closed_at = "closed", g.account.name, now
    cases.save(store.redis, case, store.ttl.retention)
    _audit(case, "closed")
    return redirect(url_for("staff.cases"))


def _send(case: cases.Case, texts: list[str], now: float) -> None:
    """Through the worker, like every message outside a reply (opt-out, quiet hours, window)."""
    line = _line()
    if case.channel == WEB:  # a web door resident has no number: the page shows them
        line.store.add_to_transcript(case.contact, [("bot", text) for text in texts])
        return
    address = open_sealed(line.secret, case.sealed)
    line.jobs.enqueue(address, [Job("message", {"body": text}) for text in texts],
                      f"case-{case.id}-{uuid.uuid4().hex[:12]}", now)


def _audit(case: cases.Case, action: str) -> None:
    line = _line()
    cases.audit(line.store.redis, g.account.name, action, case.id, line.clock())
    log.info("staff %s %s case %s", g.account.name, action, case.id)
