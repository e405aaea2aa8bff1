"""Which language a resident writes in: from the script, from typical letters, or from a
greeting or keyword staff list in flows/languages/<lang>.yaml (`detect`)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.flow import Flow
from bot.questions.normalize import bare, fold, words

_SCRIPTS = (
    ("hi", 0x0900, 0x097F),  # Devanagari
    ("pa", 0x0A00, 0x0A7F),  # Gurmukhi
)
# Letters Vietnamese uses and Spanish and English do not.
_VIETNAMESE = set("ăâđêôơưĂÂĐÊÔƠƯ") | {chr(c) for c in range(0x1EA0, 0x1EFA)}
_SPANISH = set("ñ¿¡Ñ")


def detect(text: str, flow: Flow, available: Iterable[str]) -> str | None:
    """The language `text` is clearly in, among `available`; None when it is not clear."""
    available = set(available)
    found = _by_script(text) or _by_keyword(text, flow)
    return found if found in available else None


def _by_script(text: str) -> str | None:
    for char in text:
        for lang, low, high in _SCRIPTS:
            if low <= ord(char) <= high:
                return lang
    if any(char in _VIETNAMESE for char in text):
        return "vi"
    if any(char in _SPANISH for char in text):
        return "es"
    return None


def _by_keyword(text: str, flow: Flow) -> str | None:
    """A message that is a `detect` word, or starts with one ("hola, necesito ayuda")."""
    message = bare(text)
    first_words = {" ".join(words(text)[:n]) for n in (1, 2, 3)}
    for lang in flow.languages.values():
        for word in lang.detect:
            wanted = bare(fold(word))
            if wanted == message or wanted in first_words:
                return lang.code
    return None
