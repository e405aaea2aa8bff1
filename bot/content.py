"""Everything staff and translators edit, loaded once: the flow, the rules and the catalogs.

The engine reads texts only through `Content.text`/`Content.message`, so every word a resident
sees comes from YAML and is translated through gettext.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.campaigns import Campaigns, load_campaigns
from bot.flow import Flow, load_flow
from bot.handoff import Handoff, load_handoff
from bot.i18n import DEFAULT_TRANSLATIONS_DIR, Catalogs
from bot.paths import flows_dir
from bot.questions.normalize import Phrases, bare, same_words
from bot.relevance import Relevance
from bot.rules import Rules, load_rules
from bot.services import Catalog, load_services
from bot.urgent import Matcher, Need, Urgent, load_urgent

# Word classes (flows/languages/*.yaml `words:`) that are whole answers on their own.
ANSWER_WORD_CLASSES = ("yes", "no", "zero", "unsure", "just_me", "newborn")


@dataclass(frozen=True)
class Content:
    flow: Flow
    rules: Rules
    catalogs: Catalogs
    urgent: Urgent
    services: Catalog
    fingerprint: str = ""  # of everything a session can point into (`_fingerprint`)
    # Not in the fingerprint: a new campaign must not tell every live session "we updated".
    campaigns: Campaigns = field(default_factory=Campaigns)
    handoff: Handoff = field(default_factory=Handoff)

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
        known = self._command_words
        if (name, lang) not in known:  # asked for every command at every turn: built once
            table = self.flow.commands.get(name, {})
            langs = [lang, "en"] if lang else list(table)
            known[name, lang] = tuple(dict.fromkeys(w for code in langs
                                                    for w in table.get(code, ())))
        return known[name, lang]

    @cached_property
    def _command_words(self) -> dict[tuple[str, str | None], tuple[str, ...]]:
        return {}


    def is_answer_word(self, text: str) -> bool:
        """Whether the whole message is an answer word of some language (yes, no, none,
        not sure, a choice's words): such a message is read as the answer, never a command."""
        return any(same_words(text, word) for word in self._answer_words.get(bare(text), ()))

    def phrases(self, kind: str) -> Phrases:
        """The phrases of every language that ask for a person ("person") or revoke consent
        ("opt_out"), wherever they stand in a message."""
        return self._phrases[kind]

    @cached_property
    def _phrases(self) -> dict[str, Phrases]:
        return {kind: Phrases(phrase for phrases in getattr(self.flow, kind).values()
                              for phrase in phrases)
                for kind in ("person", "opt_out")}

    @cached_property
    def relevance(self) -> Relevance:
        """Which questions can still change the results (bot/relevance.py)."""
        return Relevance(self.flow, self.rules)

    @cached_property
    def _answer_words(self) -> dict[str, list[str]]:
        by_bare: dict[str, list[str]] = {}
        tables = [self.flow.words.get(name, {}) for name in ANSWER_WORD_CLASSES]
        tables += list(self.flow.choice_words.values())
        for table in tables:
            for words in table.values():
                for word in words:
                    by_bare.setdefault(bare(word), []).append(word)
        for question in self.flow.questions:
            for choice in question.choices:
                for word in (choice.label, *choice.words):
                    by_bare.setdefault(bare(word), []).append(word)
        return by_bare

    def urgent_need(self, text: str) -> tuple[Need, str] | None:
        """The urgent need a message speaks of, and the language of the phrase that matched."""
        found = self._urgent_matcher.detect(text)
        return (found.need, found.lang) if found else None

    @cached_property
    def _urgent_matcher(self) -> Matcher:
        return self.urgent.matcher(frozenset(self.flow.ordinary_words()))


class _Params(dict):
    def __init__(self, values: Mapping[str, Any]):
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def load_content(flows: str | Path | None = None,
                 translations: str | Path | None = None) -> Content:
    """Load the flow, rules and catalogs; raise YamlFileError with path:line problems."""
    folder = Path(flows) if flows else flows_dir()
    flow = load_flow(folder / "screener.yaml")
    return Content(
        flow=flow,
        rules=load_rules(folder / "programs.yaml"),
        catalogs=Catalogs.load(translations or DEFAULT_TRANSLATIONS_DIR),
        urgent=load_urgent(folder / "urgent.yaml"),
        services=load_services(folder / "services.yaml"),
        fingerprint=_fingerprint(flow, folder),
        campaigns=load_campaigns(folder / "campaigns.yaml"),
        handoff=load_handoff(folder / "handoff.yaml"),
    )


# Files a session can point into besides the flow: its programs (results pages, details,
# reminders), urgent needs and services (help today).
SESSION_FILES = ("programs.yaml", "urgent.yaml", "services.yaml")


def _fingerprint(flow: Flow, folder: Path) -> str:
    """One fingerprint over all the content a session can point into: a deploy that changes
    any of it is noticed by every live session (engine `_migrate`), never a KeyError."""
    digest = hashlib.sha256(flow.fingerprint.encode())
    for name in SESSION_FILES:
        digest.update((folder / name).read_bytes())
    return f"{flow.version}-{digest.hexdigest()[:12]}"
