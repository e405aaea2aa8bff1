"""Commands residents text in any language (HELP, BACK, STOP...): which one a message is.

The words are in flows/languages/<lang>.yaml (`commands:` and `opt_out:`); the engine says
what each command does. Every language's commands work in every conversation: a resident who
switched to English may still text AYUDA or DỪNG.
"""

from __future__ import annotations

from bot.content import Content
from bot.questions.normalize import matches_phrase

# Checked in this order; each is a handler `_on_<name>` of the engine.
COMMANDS = ("stop", "start", "help", "back", "restart", "language", "skip", "more", "remind",
            "go", "person")


def command_in(content: Content, text: str) -> str | None:
    """The command the whole message is. A bare answer word is never a command: typed
    without its marks, "dung" is "đúng" (right), not "dừng" (stop)."""
    if content.is_answer_word(text):
        return None
    for name in COMMANDS:
        if matches_phrase(text, content.command_words(name)):
            return name
    return None


def asks_for_person(content: Content, text: str) -> bool:
    """ "can I talk to someone", "quiero hablar con alguien": a person, wherever the phrase
    stands in the message, in any language."""
    return content.phrases("person").found_in(text)


def opts_out(content: Content, text: str) -> bool:
    """ "stop texting me", "para de mandarme mensajes", "đừng nhắn nữa": revoking consent by
    any reasonable means, in any language, wherever the phrase stands in the message."""
    return content.phrases("opt_out").found_in(text)
