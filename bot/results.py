"""The results texts: a numbered list of programs split into pages that fit the SMS budget,
and the details of one program ("how to apply")."""

from __future__ import annotations

from collections.abc import Sequence

from bot.content import Content
from bot.rules import Program
from bot.segments import segments


def _line(content: Content, lang: str, number: int, program: Program) -> str:
    name = content.text(lang, program.name)
    return f"{number} {name}: {content.text(lang, program.summary)}"


def paginate(content: Content, lang: str, programs: Sequence[Program]) -> list[list[int]]:
    """Program indexes per page: as many as fit in the page budget, in order of value."""
    budget = content.flow.settings.results_page_segments
    header = content.message(lang, "results_header")
    footer = content.message(lang, "results_more")
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
