"""Quiet hours: no unprompted text at night, on the city's clock.

A reminder or estimate that falls due at night waits until the quiet hours end. Set with
`QUIET_HOURS=21:00-08:00` (America/Los_Angeles, the default); `off` turns them off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.store import CITY_TIME

DEFAULT = "21:00-08:00"
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    start: time  # city time; may be later than `end` (the night wraps past midnight)
    end: time

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        """`HH:MM-HH:MM` in city time; None for `off`. Unset means the default."""
        text = DEFAULT if text is None or not text.strip() else text
        if text.strip().lower() == "off":
            return None
        found = _SPAN.match(text)
        if not found:
            raise ValueError(f"QUIET_HOURS must look like {DEFAULT} or be off, not {text!r}")
        h1, m1, h2, m2 = (int(part) for part in found.groups())
        try:
            span = cls(time(h1, m1), time(h2, m2))
        except ValueError:
            raise ValueError(f"QUIET_HOURS has an impossible time: {text!r}") from None
        if span.start == span.end:
            raise ValueError(f"QUIET_HOURS starts and ends at the same time: {text!r}")
        return span

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(CITY_TIME).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """`moment` itself when it is not quiet, else when these quiet hours end (UTC)."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(CITY_TIME)
        day = local.date() if local.time() < self.end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=CITY_TIME).astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"
