"""A value worked out once a day: a content lookup every message needs (today's campaign
keywords, the limit rows in force today), built again only when San José's day moves on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")


class Daily(Generic[T]):
    """`build(day)`, kept for the last day asked (days only move on, so one is enough)."""

    def __init__(self, build: Callable[[date], T]):
        self._build = build
        self._kept: tuple[date, T] | None = None

    def on(self, day: date) -> T:
        kept = self._kept  # read once: another thread may replace it meanwhile, harmlessly
        if kept is None or kept[0] != day:
            kept = (day, self._build(day))
            self._kept = kept
        return kept[1]
