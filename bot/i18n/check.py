"""Checks of the translation catalogs against the texts in the staff YAML (`screener lint`).

Per language: texts with no translation or only a fuzzy one, placeholders ({amount}) that
differ from the English, questions and program details over their SMS segment budget, and
how much is translated. Missing and fuzzy texts fall back to English, so they are warnings;
a wrong placeholder or a text over budget is an error.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import PYTHON_FORMAT, Catalog
from babel.messages.pofile import read_po

from bot.flow import Flow
from bot.i18n import LANGUAGES
from bot.i18n.extract import texts
from bot.segments import segments
from bot.yamlsource import Problem, YamlFileError

_STAFF_FILES = ("screener.yaml", "programs.yaml", "services.yaml", "urgent.yaml",
                "campaigns.yaml", "handoff.yaml", "web.yaml")


@dataclass(frozen=True)
class Coverage:
    lang: str
    translated: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.translated / self.total if self.total else 100.0


UNBALANCED = "<unbalanced brace>"


def placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:  # an unbalanced brace: report it as a placeholder of its own
        return {UNBALANCED}


def source_texts(flows_dir: Path) -> list[tuple[str, str, int]]:
    """(text, path, line) for every resident-facing text in the staff YAML."""
    found = []
    for name in _STAFF_FILES:
        path = flows_dir / name
        try:
            found += [(text, str(path), line) for text, line, _ in texts(path)]
        except YamlFileError:
            continue  # the file's own check reports why it cannot be read
    return found


def catalog_problems(flows_dir: Path, translations_dir: Path,
                     flow: Flow | None) -> tuple[list[Problem], list[Coverage]]:
    problems: list[Problem] = []
    coverage: list[Coverage] = []
    sources = source_texts(flows_dir)
    problems += [
        Problem(path, line, "'%' followed by a letter looks like a code to the translation "
                            "tools (and breaks `pybabel compile`): write 'percent'")
        for text, path, line in sources if PYTHON_FORMAT.search(text)
    ]
    for lang in LANGUAGES[1:]:
        po_path = translations_dir / lang / "LC_MESSAGES" / "messages.po"
        if not po_path.exists():
            problems.append(Problem(str(po_path), 1, f"({lang}) the catalog is missing"))
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        found, translated = _language_problems(lang, catalog, str(po_path), sources)
        problems += found
        if flow is not None:
            problems += budget_problems(flow, lang, catalog, str(po_path))
        coverage.append(Coverage(lang, translated, len({text for text, _, _ in sources})))
    return problems, coverage


def _language_problems(lang: str, catalog: Catalog, po_path: str,
                       sources: list[tuple[str, str, int]]) -> tuple[list[Problem], int]:
    problems = []
    translated = set()
    for text, path, line in sources:
        message = catalog.get(text)
        if message is None or not message.string:
            problems.append(Problem(path, line, f"({lang}) no translation yet", "warning"))
            continue
        if message.fuzzy:
            problems.append(Problem(po_path, message.lineno,
                                    f"({lang}) the translation is marked fuzzy: check it",
                                    "warning"))
            continue
        if placeholders(text) != placeholders(message.string):
            expected = ", ".join(sorted(placeholders(text))) or "none"
            problems.append(Problem(po_path, message.lineno,
                                    f"({lang}) placeholders differ from the English "
                                    f"(expected: {expected})"))
            continue
        translated.add(text)
    return problems, len(translated)


def _tr(catalog: Catalog, text: str) -> str:
    message = catalog.get(text)
    return message.string if message and message.string and not message.fuzzy else text


def rendered_questions(flow: Flow, translate) -> Iterator[tuple[str, str, int]]:
    """(question id, text as sent, line) with the choices listed as the engine lists them."""
    for question in flow.questions:
        lines = [translate(question.ask)]
        lines += [f"{i} {translate(c.label)}" for i, c in enumerate(question.choices, 1)]
        yield question.id, "\n".join(lines), question.line_of("ask")


def budget_problems(flow: Flow, lang: str, catalog: Catalog, po_path: str) -> list[Problem]:
    budget = flow.settings.question_segments
    problems = []
    for question_id, text, _ in rendered_questions(flow, lambda t: _tr(catalog, t)):
        used = segments(text)
        if used > budget:
            message = catalog.get(flow.question(question_id).ask)
            line = message.lineno if message else 1
            problems.append(Problem(po_path, line,
                                    f"({lang}) question '{question_id}' takes {used} SMS "
                                    f"segments; the budget is {budget}: shorten it"))
    return problems
