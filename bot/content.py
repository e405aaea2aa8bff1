"""Everything staff and translators edit, loaded once: the flow, the rules and the catalogs.

The engine reads texts only through `Content.text`/`Content.message`, so every word a resident
sees comes from YAML and is translated through gettext.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.flow import FLOWS_DIR, Flow, load_flow
from bot.i18n import DEFAULT_TRANSLATIONS_DIR, Catalogs
from bot.rules import Rules, load_rules
from bot.services import Catalog, load_services
from bot.urgent import Matcher, Need, Urgent, load_urgent


@dataclass(frozen=True)
class Content:
    flow: Flow
    rules: Rules
    catalogs: Catalogs
    urgent: Urgent
    services: Catalog

    @property
    def languages(self) -> tuple[str, ...]:
        return self.catalogs.languages

    def text(self, lang: str, msgid: str, **params: Any) -> str:
        """`msgid` in `lang`, with {placeholders} filled; unknown ones stay visible, never crash."""
        translated = self.catalogs.gettext(lang, msgid)
        return string.Formatter().vformat(translated, (), _Params(params)) if params else translated

    def message(self, lang: str, key: str, **params: Any) -> str:
        return self.text(lang, self.flow.messages[key], **params)

    def command_words(self, name: str, lang: str | None = None) -> tuple[str, ...]:
        """A command's words in `lang` plus English; with no `lang`, in every language.

        The engine understands commands in every language: a resident who switched to
        English may still text AYUDA or DỪNG."""
        table = self.flow.commands.get(name, {})
        langs = [lang, "en"] if lang else list(table)
        return tuple(dict.fromkeys(w for code in langs for w in table.get(code, ())))


    def urgent_need(self, text: str) -> tuple[Need, str] | None:
        """The urgent need a message speaks of, and the language of the word that matched."""
        found = self._urgent_matcher.detect(text)
        if found is None:
            return None
        need, word = found
        by_lang = self.flow.urgent_words[need.id]
        return need, next(lang for lang, words in by_lang.items() if word in words)

    @cached_property
    def _urgent_matcher(self) -> Matcher:
        words = {need: tuple(w for words in by_lang.values() for w in words)
                 for need, by_lang in self.flow.urgent_words.items()}
        return self.urgent.matcher(words, frozenset(self.flow.ordinary_words()))


class _Params(dict):
    def __init__(self, values: Mapping[str, Any]):
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def flows_dir() -> Path:
    return Path(os.environ.get("SCREENER_FLOWS_DIR") or FLOWS_DIR)


def load_content(flows: str | Path | None = None,
                 translations: str | Path | None = None) -> Content:
    """Load the flow, rules and catalogs; raise YamlFileError with path:line problems."""
    folder = Path(flows) if flows else flows_dir()
    return Content(
        flow=load_flow(folder / "screener.yaml"),
        rules=load_rules(folder / "programs.yaml"),
        catalogs=Catalogs.load(translations or DEFAULT_TRANSLATIONS_DIR),
        urgent=load_urgent(folder / "urgent.yaml"),
        services=load_services(folder / "services.yaml"),
    )
