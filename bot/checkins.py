"""The follow-ups that close the loop, decided as a pure function, like the engine's turns.

When a follow-up job comes due (worker/checkins.py), `check_in` looks at the session as it
is then and says whether to text, what, and the session to save:

- **nudge**: once, about a day after a screening was left unfinished ("Want to finish?
  Reply GO"). Not if the resident finished, started over, or wrote since (then later).
- **applied**: "Did you apply?" about a week after the results, for the top program or two,
  if the resident is still at those results. The reply (1, 2, 3) is read by the engine's
  FOLLOW_UP stage.
- **approved**: "Were you approved?" about a month after "I applied". The session may have
  expired by then (answers are kept 30 days): a small one holds just the question.

Each is asked once per conversation (`asked` in the session). No I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.content import Content
from bot.engine import Event, new_session
from bot.results import program_names
from bot.segments import segments
from bot.session import Stage, copied

EARLY_SECONDS = 60  # a job this close to its time may go


@dataclass(frozen=True)
class CheckIn:
    session: dict[str, Any] | None = None  # to save; None leaves the session as it is
    text: str | None = None  # to send; None sends nothing
    events: list[Event] = field(default_factory=list)
    later: float | None = None  # not yet: come back at this time


def check_in(content: Content, session: dict[str, Any] | None, kind: str,
             data: dict[str, Any], now: float) -> CheckIn:
    session = copied(session) if session else None
    if kind == "nudge":
        return _nudge(content, session, data, now)
    return _ask(content, session, kind, data, now)


def _skip(kind: str, why: str) -> CheckIn:
    return CheckIn(events=[Event("follow_up_skipped", {"kind": kind, "why": why})])


def _nudge(content: Content, session: dict[str, Any] | None, data: dict[str, Any],
           now: float) -> CheckIn:
    if session is None or session.get("created") != data.get("session"):
        return _skip("nudge", "another_conversation")
    if session["stage"] in (Stage.RESULTS, Stage.FOLLOW_UP) or session.get("nudged"):
        return _skip("nudge", "finished" if not session.get("nudged") else "nudged")
    due = session.get("updated", now) + data["after"]
    if now < due - EARLY_SECONDS:
        return CheckIn(later=due)  # they wrote since: a day after their last message
    session["nudged"] = now
    return CheckIn(session, content.message(session["lang"], "nudge"),
                   [Event("asked", {"kind": "nudge"})])


def _ask(content: Content, session: dict[str, Any] | None, kind: str, data: dict[str, Any],
         now: float) -> CheckIn:
    """"Did you apply?" or "Were you approved?", when the resident is still at the results
    the question is about."""
    if session is None and kind == "approved":
        session = new_session(content, now, data.get("lang") or "en")
        session.update(stage=Stage.RESULTS, question=None, programs=list(data["programs"]),
                       campaign=data.get("campaign"))
    if session is None:
        return _skip(kind, "no_conversation")
    if kind in session.get("asked", ()):
        return _skip(kind, "asked")
    if session["stage"] != Stage.RESULTS or session.get("outside"):
        return _skip(kind, "busy")
    if kind == "applied" and session.get("results_at") != data.get("results_at"):
        return _skip(kind, "screened_again")
    text = question_text(content, session["lang"], kind, data["programs"])
    if text is None:
        return _skip(kind, "programs_removed")
    session.setdefault("asked", []).append(kind)
    session.update(stage=Stage.FOLLOW_UP, follow_up={"kind": kind,
                                                     "programs": list(data["programs"])})
    return CheckIn(session, text, [Event("asked", {"kind": kind})])


def question_text(content: Content, lang: str, kind: str, programs: list[str]) -> str | None:
    """ "Did you apply for A, B?" naming two programs, or only the first when two names
    would take the text over the question budget in SMS segments; None when no program
    is left (staff removed them)."""
    key = "ask_applied" if kind == "applied" else "ask_approved"
    budget = content.flow.settings.question_segments
    text = None
    for most in (2, 1):
        names = program_names(content, lang, programs, most=most)
        if not names:
            return None
        text = content.message(lang, key, programs=names)
        if segments(text) <= budget:
            break
    return text
