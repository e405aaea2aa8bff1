"""Charts for the staff pages: SVG drawn on the server, so nothing is fetched and no script runs.

Each chart is one `<svg role="img">` named by its `<title>`, with text labels on it for those
who look; the page puts the same numbers in a table beside or below it, which is what screen
readers read (an image role keeps them from reading every label twice). Sizes are in a fixed
coordinate space (`WIDTH` wide) that the CSS scales to the column, phone or desk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH = 360
LABEL_CHARS = 20  # longer labels are cut with "…" (the table beside has them whole)
ROW = 26  # height of a horizontal bar's row
LABELS = 150  # width of the labels' column in a horizontal bar chart
VALUES = 50  # room right of the longest bar for its number
CHAR = 8  # about how wide a character of the charts' 14-unit text is


@dataclass(frozen=True)
class Bar:
    """A horizontal bar: `value`, and optionally the `part` of it drawn darker inside."""

    label: str
    value: int
    part: int | None = None


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


def bars(name: str, title: str, rows: Sequence[Bar], legend: Sequence[str] = ()) -> Markup:
    """Horizontal bars, one per row, labelled on the left with the number at the bar's end
    ("2 of 3" when a part is drawn). `legend`: the names of the whole and of the part."""
    top = 24 if legend else 4
    height = top + ROW * len(rows) + 4
    longest = max([row.value for row in rows] + [row.part or 0 for row in rows] + [1])
    room = WIDTH - LABELS - VALUES
    shapes = [_legend(legend, top - 8)] if legend else []
    for index, row in enumerate(rows):
        y = top + index * ROW
        shapes.append(_text(LABELS - 6, y + 18, _cut(row.label), "end", row.label))
        shapes.append(_rect(LABELS, y + 6, room * row.value / longest, ROW - 11, "s0"))
        end = room * row.value / longest
        number = str(row.value)
        if row.part is not None:
            part = room * row.part / longest
            shapes.append(_rect(LABELS, y + 6, part, ROW - 11, "s1"))
            end = max(end, part)
            number = f"{row.part} of {row.value}"
        shapes.append(_text(LABELS + end + 4, y + 18, number, "start", css="n"))
    return _svg(name, title, height, shapes)


def columns(name: str, title: str, days: Sequence[str], series: Sequence[Series]) -> Markup:
    """Columns per day, the series side by side, with a legend, the largest count on the
    axis and a few day labels (at most about seven, so they never overlap)."""
    left, right, top, bottom, height = 30, WIDTH - 4, 28, 200 - 22, 200
    peak = max([v for s in series for v in s.values] + [1])
    plot_w, plot_h = right - left, bottom - top
    shapes = [_legend([s.name for s in series], 14)]
    for tick in sorted({0, math.ceil(peak / 2), peak}):
        y = bottom - plot_h * tick / peak
        shapes.append(f'<line class="grid" x1="{left}" x2="{right}" y1="{y:.1f}" '
                      f'y2="{y:.1f}"/>')
        shapes.append(_text(left - 4, y + 4, str(tick), "end", css="n axis"))
    group = plot_w / max(len(days), 1)
    width = group * 0.8 / max(len(series), 1)
    every = math.ceil(len(days) / 7) if days else 1
    for index, day in enumerate(days):
        x = left + index * group + group * 0.1
        for number, s in enumerate(series):
            value = s.values[index]
            h = plot_h * value / peak
            shapes.append(_rect(x + number * width, bottom - h, width, h, f"s{number}"))
        if index % every == 0:
            shapes.append(_text(left + (index + 0.5) * group, bottom + 17, _short(day),
                                "middle", css="axis"))
    return _svg(name, title, height, shapes)


def _svg(name: str, title: str, height: float, shapes: Sequence[str]) -> Markup:
    return Markup(
        f'<svg class="chart" id="chart-{escape(name)}" role="img" '
        f'aria-labelledby="chart-{escape(name)}-title" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-{escape(name)}-title">{escape(title)}</title>'
        + "".join(shapes) + "</svg>")


def _legend(names: Sequence[str], y: float) -> str:
    parts, x = [], 0.0
    for number, label in enumerate(names):
        parts.append(_rect(x, y - 10, 11, 11, f"s{number}"))
        parts.append(_text(x + 15, y, label, "start"))
        x += 15 + CHAR * len(label) + 16
    return "".join(parts)


def _rect(x: float, y: float, width: float, height: float, css: str) -> str:
    return (f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" '
            f'height="{max(height, 0):.1f}"/>')


def _text(x: float, y: float, text: str, anchor: str, whole: str | None = None,
          css: str = "") -> str:
    """A label; `whole` (the uncut text) shows as a tooltip when the label was cut."""
    tip = f"<title>{escape(whole)}</title>" if whole and whole != text else ""
    kind = f' class="{css}"' if css else ""
    return (f'<text{kind} x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{tip}'
            f"{escape(text)}</text>")


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"


def _short(day: str) -> str:
    """2026-12-07 -> Dec 7."""
    found = date.fromisoformat(day)
    return f"{found:%b} {found.day}"
