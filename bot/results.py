"""The results texts: a numbered list of programs split into pages that fit the SMS budget,
and the details of one program ("how to apply")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.content import Content
from bot.rules import Program
from bot.segments import segments
from bot.urgent import Need


def _line(content: Content, lang: str, number: int, program: Program) -> str:
    name = content.text(lang, program.name)
    return f"{number} {name}: {content.text(lang, program.summary)}"


def paginate(content: Content, lang: str, programs: Sequence[Program]) -> list[list[int]]:
    """Program indexes per page: as many as fit in the page budget, in order of value."""
    budget = content.flow.settings.results_page_segments
    header = content.message(lang, "results_header")
    footer = "\n".join([content.message(lang, "results_more"),
                        content.message(lang, "results_help_today")])
    pages: list[list[int]] = []
    current: list[int] = []
    for index in range(len(programs)):
        candidate = [*current, index]
        lines = [header, *(_line(content, lang, i + 1, programs[i]) for i in candidate), footer]
        if current and segments("\n".join(lines)) > budget:
            pages.append(current)
            candidate = [index]
        current = candidate
    if current:
        pages.append(current)
    return pages


def render_page(content: Content, lang: str, programs: Sequence[Program], page: int) -> str:
    if not programs:
        return content.message(lang, "results_none")
    pages = paginate(content, lang, programs)
    page = min(page, len(pages) - 1)
    lines = [content.message(lang, "results_header") if page == 0 else ""]
    lines += [_line(content, lang, i + 1, programs[i]) for i in pages[page]]
    last = page == len(pages) - 1
    lines.append(content.message(lang, "results_last" if last else "results_more"))
    lines.append(content.message(lang, "results_help_today"))
    return "\n".join(line for line in lines if line)


def render_details(content: Content, lang: str, program: Program) -> str:
    lines = [
        f"{content.text(lang, program.name)}: {content.text(lang, program.details)}",
        f"{content.message(lang, 'details_apply')} {content.text(lang, program.apply)}",
    ]
    if program.caution:
        lines.append(content.text(lang, program.caution))
    lines.append(content.message(lang, "details_footer"))
    return "\n".join(lines)


def service_lines(content: Content, lang: str, need: Need,
                  answers: Mapping[str, Any]) -> list[str]:
    """The nearest services for an urgent need: name, phone and hours, one per line."""
    age = answers.get("age")
    found = content.services.nearest(need.services, answers.get("zip"),
                                     age if isinstance(age, int) else None,
                                     limit=content.urgent.services_listed)
    lines = []
    for service, _miles in found:
        where = f", {service.address}" if service.address else ""
        hours = f" ({content.text(lang, service.hours)})" if service.hours else ""
        number = "" if service.phone == service.name else f": {service.phone}"
        lines.append(f"{service.name}{where}{number}{hours}")
    return lines
