"""The results texts: a numbered list of programs split into pages that fit the SMS budget,
and the details of one program ("how to apply")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.content import Content
from bot.questions.money import format_money
from bot.rules import Program
from bot.segments import segments
from bot.urgent import Need


def _line(content: Content, lang: str, number: int, program: Program) -> str:
    name = content.text(lang, program.name)
    return f"{number} {name}: {content.text(lang, program.summary)}"


def paginate(content: Content, lang: str, programs: Sequence[Program]) -> list[list[int]]:
    """Program indexes per page: as many as fit in the page budget, in order of value.

    Every page but the last ends with "MORE"; the last ends with the pointer to help today.
    A page always holds at least one program: when one long line and the last page's two
    footers overflow the budget (UCS-2 languages), the engine splits the page at a line end
    (bot/segments.split), so the pointer to help today may come as a text of its own.
    """
    budget = content.flow.settings.results_page_segments

    def fits(page_number: int, indexes: list[int], last: bool) -> bool:
        return segments(_page_text(content, lang, programs, page_number, indexes, last)) <= budget

    pages: list[list[int]] = []
    current: list[int] = []
    for index in range(len(programs)):
        if current and not fits(len(pages), [*current, index], last=False):
            pages.append(current)
            current = []
        current.append(index)
    while len(current) > 1 and not fits(len(pages), current, last=True):
        pages.append(current[:-1])
        current = current[-1:]
    pages.append(current)
    return pages


def _page_text(content: Content, lang: str, programs: Sequence[Program], page: int,
               indexes: list[int], last: bool) -> str:
    lines = [content.message(lang, "results_header")] if page == 0 else []
    lines += [_line(content, lang, i + 1, programs[i]) for i in indexes]
    if last:
        lines += [content.message(lang, "results_last"),
                  content.message(lang, "results_help_today")]
    else:
        lines.append(content.message(lang, "results_more"))
    return "\n".join(lines)


def render_page(content: Content, lang: str, programs: Sequence[Program], page: int) -> str:
    if not programs:
        return content.message(lang, "results_none")
    pages = paginate(content, lang, programs)
    page = min(page, len(pages) - 1)
    return _page_text(content, lang, programs, page, pages[page], last=page == len(pages) - 1)


def render_details(content: Content, lang: str, program: Program) -> str:
    lines = [
        f"{content.text(lang, program.name)}: {content.text(lang, program.details)}",
        f"{content.message(lang, 'details_apply')} {content.text(lang, program.apply)}",
    ]
    if program.caution:
        lines.append(content.text(lang, program.caution))
    lines.append(content.message(lang, "details_footer"))
    return "\n".join(lines)


@dataclass(frozen=True)
class Place:
    """One service for a need, as a resident reads it: hours in their language."""

    name: str
    phone: str
    address: str | None
    hours: str | None


def nearest_places(content: Content, lang: str, need: Need,
                   answers: Mapping[str, Any]) -> list[Place]:
    """The nearest services for an urgent need (the SMS lines and the web door's cards)."""
    age = answers.get("age")
    found = content.services.nearest(need.services, answers.get("zip"),
                                     age if isinstance(age, int) else None,
                                     limit=content.urgent.services_listed)
    return [Place(service.name, service.phone, service.address,
                  content.text(lang, service.hours) if service.hours else None)
            for service, _miles in found]


def service_lines(content: Content, lang: str, need: Need,
                  answers: Mapping[str, Any]) -> list[str]:
    """The nearest services for an urgent need: name, phone and hours, one per line."""
    lines = []
    for place in nearest_places(content, lang, need, answers):
        where = f", {place.address}" if place.address else ""
        hours = f" ({place.hours})" if place.hours else ""
        number = "" if place.phone == place.name else f": {place.phone}"
        lines.append(f"{place.name}{where}{number}{hours}")
    return lines


def render_estimates(content: Content, lang: str,
                     amounts: Sequence[tuple[str, int, str, str | None]]) -> str:
    """The follow-up with dollar estimates: (program id, dollars, "month"|"year", basis).

    `basis` is "at_least" (a floor) or "typical_bill" (for an average bill), else None."""
    lines = [content.message(lang, "estimate_intro")]
    for program_id, dollars, period, basis in amounts:
        key = {"at_least": "estimate_at_least", "typical_bill": "estimate_typical_bill"}.get(
            basis or "", "estimate_year" if period == "year" else "estimate_month")
        name = content.text(lang, content.rules.program(program_id).name)
        lines.append(content.message(lang, key, program=name, amount=format_money(dollars)))
    lines.append(content.message(lang, "estimate_footer"))
    return "\n".join(lines)


def render_reminder(content: Content, lang: str, program_ids: Sequence[str]) -> str:
    return content.message(lang, "reminder", programs=program_names(content, lang, program_ids))


def program_names(content: Content, lang: str, program_ids: Sequence[str], most: int = 3) -> str:
    """The first `most` programs' names, in `lang`, for a one-line text (a removed program is
    left out)."""
    known = {program.id for program in content.rules.programs}
    return ", ".join(content.text(lang, content.rules.program(pid).name)
                     for pid in [pid for pid in program_ids if pid in known][:most])
