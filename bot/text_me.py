""""Text me my results" (the web door, issue 15): a resident who screened on the web gives a US
mobile number and explicit consent; the number becomes an SMS contact (hashed like every
contact) at the same results, and the worker sends them and the usual "Did you apply?".

The decisions are pure (`us_number`, `sms_session`, `jobs`); `send` does the I/O, under the
SMS contact's lock as a turn would: it refuses a number that opted out (STOP), saves the
session with the consent record (time, wording version, page language; never the number),
and queues the texts through the job port, so quiet hours, STOP and the outbox all apply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.content import Content
from bot.engine import Job, new_session
from bot.inbound import Textline
from bot.results import render_page
from bot.session import Stage
from bot.store import Change, key

# NANP: area code and exchange each start 2-9. Only US numbers: texts to other countries cost
# many times more, and toll fraud ("SMS pumping") asks for exactly those.
_US = re.compile(r"\+?1?([2-9][0-9]{2}[2-9][0-9]{6})")
_SEPARATORS = re.compile(r"[\s().\-]")


@dataclass(frozen=True)
class Consent:
    """What the resident agreed to: kept with the SMS contact's keys as evidence."""

    at: float
    version: int  # flows/web.yaml `consent_version`: which words were shown
    lang: str  # the language they were shown in

    def record(self) -> str:
        return json.dumps({"at": self.at, "version": self.version, "lang": self.lang,
                           "via": "web"})


def us_number(typed: str) -> str | None:
    """`+1` and ten digits for a US number as people type it ("(408) 555-0123", "1 408...");
    None for anything else."""
    match = _US.fullmatch(_SEPARATORS.sub("", typed or ""))
    return f"+1{match.group(1)}" if match else None


def sms_session(content: Content, web: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The SMS contact's conversation: at the same results (first page), with the web's
    answers, programs, language and campaign; a reply by text goes on from there."""
    session = new_session(content, now, web["lang"])
    session.update(stage=Stage.RESULTS, question=None, answers=dict(web["answers"]),
                   trail=list(web["trail"]), programs=list(web["programs"]), page=0,
                   results_at=now)
    if web.get("campaign"):
        session["campaign"] = web["campaign"]
    return session


def jobs(content: Content, session: Mapping[str, Any], now: float) -> list[Job]:
    """The welcome (who texts, rates, HELP, STOP) with the first results page, as one text;
    the dollar estimate, as a screening by text gets it after its results; and "Did you
    apply?" later, unless it is off (for everyone, or for the campaign)."""
    lang = session["lang"]
    known = {program.id for program in content.rules.programs}
    programs = [content.rules.program(pid) for pid in session["programs"] if pid in known]
    body = "\n".join((content.message(lang, "welcome"),
                      render_page(content, lang, programs, 0)))
    found = [Job("message", {"body": body}),
             Job("estimate", {"answers": dict(session["answers"]),
                              "programs": [p.id for p in programs], "lang": lang})]
    delay = content.flow.settings.follow_ups.delay("applied")
    campaign = content.campaigns.get(session.get("campaign"))
    if delay is not None and not (campaign and not campaign.sends("applied")):
        found.append(Job("follow_up", {"kind": "applied", "after": delay, "lang": lang,
                                       "campaign": session.get("campaign"),
                                       "programs": [p.id for p in programs[:2]],
                                       "results_at": now}))
    return found


def send(line: Textline, number: str, web: Mapping[str, Any], consent: Consent,
         turn_id: str) -> bool:
    """Give `number` the web session's results by SMS. False (nothing saved, nothing sent)
    when the number opted out. The jobs are queued under the contact's lock, so a STOP that
    comes meanwhile waits, then finds them to cancel."""
    contact, now = line.contact(number), consent.at
    lock = line.store.lock(contact)
    if not lock.acquire():
        raise TimeoutError("the SMS contact stayed busy")
    token = lock.local.token
    try:
        found = line.store.snapshot(contact, None)
        if found.opt_out is not None:
            return False
        session = sms_session(line.content, web, now)
        consent_key = key(contact, "consent")
        line.store.commit(contact, Change(
            [], session=session, counts=("text_me",),
            also=(("SET", consent_key, consent.record(), "EX", line.store.ttl.opt_out),)),
            now, token=token)
        line.jobs.enqueue(number, jobs(line.content, session, now), turn_id, now)
        return True
    finally:
        line.store.release(contact, token)
