"""The resident web page's own words (flows/web.yaml): headings, buttons and notices around the
conversation, in English, translated in the catalogs like every other text.

The conversation itself comes from the flow, the rules and the services (bot/door_view.py);
these are only the page around it. Staff edit the file; `screener lint` checks it against its
schema and its placeholders, and the catalogs for its translations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.content import Content
from bot.i18n.check import placeholders
from bot.paths import SHIPPED_FLOWS, flows_dir, schema
from bot.yamlsource import Problem, YamlFileError, load_with_schema

FILE = "web.yaml"
# The placeholders each text may hold; the rest hold none. `days` is filled here; `number`
# and `site` by the page, per link.
PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "privacy": frozenset({"days"}), "call": frozenset({"number"}), "visit": frozenset({"site"})}


@dataclass(frozen=True)
class WebTexts:
    texts: Mapping[str, str]  # name -> English
    consent_version: int
    lines: Mapping[str, int] = field(default_factory=dict)
    path: str = ""

    def in_language(self, content: Content, lang: str, days: int) -> dict[str, str]:
        """Every text in `lang`, {days} filled (the other placeholders stay for the page)."""
        return {name: content.text(lang, english, days=days)
                for name, english in self.texts.items()}


def load_web_texts(path: str | Path | None = None) -> WebTexts:
    """The page's texts, or YamlFileError (`path:line: problem`). A flows folder without the
    file (a test's copy, an older deployment) uses the shipped one."""
    path = Path(path or flows_dir() / FILE)
    if not path.exists():
        path = SHIPPED_FLOWS / FILE
    data = load_with_schema(path, schema("web.schema.json"))
    texts = data["texts"]
    return WebTexts(dict(texts), data["consent_version"],
                    {name: texts.line_of(name) for name in texts}, str(path))


def lint_web_texts(path: Path) -> list[Problem]:
    """The file's schema problems, then any placeholder a text may not hold."""
    if not path.exists():
        return []
    try:
        web = load_web_texts(path)
    except YamlFileError as error:
        return list(error.problems)
    problems = []
    for name, text in web.texts.items():
        allowed = PLACEHOLDERS.get(name, frozenset())
        for extra in sorted(placeholders(text) - allowed):
            listed = ", ".join(f"{{{p}}}" for p in sorted(allowed)) or "none"
            problems.append(Problem(web.path, web.lines[name],
                                    f"texts: '{name}' uses {{{extra}}}, which nothing fills "
                                    f"(it may use: {listed})"))
    return problems
