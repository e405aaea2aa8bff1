"""A conversation's saved state: its stages, and how sessions saved by older code are brought
up to date.

Sessions are plain JSON in Redis and outlive deploys, so their shape carries a `format`
number. Each change of shape adds one step to `MIGRATIONS` (format N -> N+1); `upgrade`
runs the steps a session needs, in order, as RapidPro's goflow does, so the engine only ever
sees the current shape.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from bot.flow import RESULTS


class Stage(StrEnum):
    """What the conversation waits for. Saved as its plain string value."""

    WELCOME = "welcome"  # a first message was an urgent need: the welcome comes after
    LANGUAGE = "language"  # the five-language menu
    ASKING = "asking"  # a question of the flow (`question` says which)
    CONFIRM = "confirm"  # a surprising answer read back, waiting for a yes
    URGENT = "urgent"  # help today was sent; "1" goes back
    IDLE_OFFER = "idle_offer"  # back after hours away: go on, or start over
    RESULTS = RESULTS  # the programs, page by page
    FOLLOW_UP = "follow_up"  # days later: did you apply? were you approved? (1, 2 or 3)
    CONSENT = "handoff_consent"  # asked for a person: may we share your answers? (yes/no)
    WITH_NAVIGATOR = "with_navigator"  # a case is open: texts go to the navigator, bot quiet


Session = dict[str, Any]


def _urgent_resume_of_its_own(session: Session) -> None:
    """Format 2: an urgent reply keeps where to go back in `after_urgent`, so it no longer
    overwrites the language menu's `resume`."""
    if session.get("stage") == Stage.URGENT and "after_urgent" not in session:
        session["after_urgent"] = session.pop("resume", Stage.ASKING)


MIGRATIONS: dict[int, Callable[[Session], None]] = {
    1: _urgent_resume_of_its_own,
}
FORMAT = max(MIGRATIONS) + 1


def upgrade(session: Session) -> Session:
    """`session` in the current format (changed in place and returned)."""
    version = session.get("format", 1)
    while version < FORMAT:
        MIGRATIONS[version](session)
        version += 1
    session["format"] = FORMAT
    return session
