"""The hand-off to a city benefits navigator, as staff edit it (flows/handoff.yaml): the hours
navigators answer, and the saved replies they can send (translated in the catalogs).

Cases themselves live in Redis (bot/cases.py); the conversation side (asking consent, staying
quiet while a navigator has the resident) is in bot/engine.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.paths import flows_dir, schema
from bot.yamlsource import load_with_schema

CITY = ZoneInfo("America/Los_Angeles")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class StaffedHours:
    days: tuple[str, ...] = DAYS[:5]
    opens: time = time(9)
    closes: time = time(17)

    def staffed(self, now: float) -> bool:
        """Whether navigators answer at `now` (San José time)."""
        moment = datetime.fromtimestamp(now, CITY)
        return DAYS[moment.weekday()] in self.days and self.opens <= moment.time() < self.closes


@dataclass(frozen=True)
class SavedReply:
    id: str
    text: str  # English; translated in the catalogs
    line: int = 0


@dataclass(frozen=True)
class Handoff:
    hours: StaffedHours = field(default_factory=StaffedHours)
    saved_replies: tuple[SavedReply, ...] = ()
    path: str = ""


def load_handoff(path: str | Path | None = None) -> Handoff:
    """Staffed hours and saved replies, or YamlFileError (`path:line: problem`). No file:
    weekdays 9 to 5 and no saved replies."""
    path = Path(path or flows_dir() / "handoff.yaml")
    if not path.exists():
        return Handoff(path=str(path))
    data = load_with_schema(path, schema("handoff.schema.json"))
    hours = data["staffed_hours"]
    return Handoff(
        hours=StaffedHours(tuple(hours["days"]), time.fromisoformat(hours["from"]),
                           time.fromisoformat(hours["to"])),
        saved_replies=tuple(SavedReply(raw["id"], raw["text"], raw.line_of("text"))
                            for raw in data["saved_replies"]),
        path=str(path),
    )
