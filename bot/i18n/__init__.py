"""Translations: every resident-facing text is an English msgid looked up in gettext catalogs.

Catalogs live in `translations/<lang>/LC_MESSAGES/messages.po` (Babel/gettext). We read the
compiled `.mo` when it is at least as new as the `.po`, otherwise the `.po` itself, so a
translator's edit is never hidden behind a stale binary. Fuzzy and empty entries fall back to
English, as gettext does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

BASE_LANGUAGE = "en"
# The order in which languages are offered to a new contact.
LANGUAGES = ("en", "es", "vi", "pa", "hi")
DEFAULT_TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "translations"


class Catalogs:
    """msgid -> msgstr per language; English is the identity."""

    def __init__(self, tables: Mapping[str, Mapping[str, str]]):
        self._tables = {lang: dict(table) for lang, table in tables.items()}

    @classmethod
    def load(cls, directory: str | Path = DEFAULT_TRANSLATIONS_DIR) -> Catalogs:
        directory = Path(directory)
        tables = {}
        for lang in LANGUAGES[1:]:
            table = load_table(directory / lang / "LC_MESSAGES")
            if table is not None:
                tables[lang] = table
        return cls(tables)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang in LANGUAGES if lang == BASE_LANGUAGE or lang in self._tables)

    def gettext(self, lang: str, msgid: str) -> str:
        if not msgid:
            return msgid
        return self._tables.get(lang, {}).get(msgid) or msgid


def load_table(folder: Path) -> dict[str, str] | None:
    """The usable translations of one language folder, or None when it has no catalog."""
    po_path, mo_path = folder / "messages.po", folder / "messages.mo"
    mo_is_current = mo_path.exists() and (
        not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    )
    if mo_is_current:
        with mo_path.open("rb") as handle:
            catalog = read_mo(handle)
    elif po_path.exists():
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
    else:
        return None
    return {
        message.id: message.string
        for message in catalog
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy
    }
