"""A resident who answers by question id: the driver replies to whatever question the bot
asks next, so a new question changes transcripts but not the people who answer them.
Used by the golden conversations and by the rules audit's findings told as conversations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.content import Content
from bot.engine import step
from bot.flow import RESULTS, Flow
from bot.i18n.segments_report import said

START = 1_800_000_000.0  # a fixed clock: one minute between messages, never idle
MAX_TURNS = 80


class PersonaError(AssertionError):
    """A persona that cannot go on: the bot asked something it has no answer for."""


def spoken(content: Content, lang: str, token: Any) -> str:
    """What the persona texts in `lang` (a mapping gives the text per language)."""
    if isinstance(token, Mapping):
        return str(token.get(lang, token["en"]))
    return said(content, lang, str(token))


class Script:
    """What one persona sends next, decided from where the conversation is."""

    def __init__(self, persona: Mapping[str, Any], flow: Flow):
        self.persona = persona
        self.flow = flow
        self.answers = {qid: list(v) if isinstance(v, list) else [v]
                        for qid, v in persona.get("answers", {}).items()}
        self.extra = [(entry["at"], list(entry["say"])) for entry in persona.get("extra", [])]
        self.queued: list[Any] = []

    def next(self, session: Mapping[str, Any] | None) -> Any | None:
        """The next token to send, or None when the persona is done."""
        if self.queued:
            return self.queued.pop(0)
        if session is None:
            return None
        stage = session["stage"]
        point = session["question"] if stage == "asking" else stage
        if self.extra and self.extra[0][0] == point:
            self.queued = self.extra.pop(0)[1]
            return self.queued.pop(0)
        if stage == RESULTS:
            return None
        if stage != "asking":
            raise PersonaError(f"persona '{self.persona['id']}': the bot waits at stage "
                               f"'{stage}', which the persona does not expect")
        return self.answer(point)

    def answer(self, question_id: str) -> Any:
        replies = self.answers.get(question_id)
        if replies:
            return replies.pop(0) if len(replies) > 1 else replies[0]
        question = self.flow.question(question_id)
        if question is not None and question.optional:
            return "SKIP"
        raise PersonaError(f"persona '{self.persona['id']}' has no answer for question "
                           f"'{question_id}': add one under its answers in tests/personas.yaml")


def converse(content: Content, lang: str, persona: Mapping[str, Any]) -> tuple[str, dict | None]:
    """Run the persona through the engine; return the transcript and the last session."""
    lines = [f"# {persona['persona']} ({lang})"]
    script = Script(persona, content.flow)
    session = None
    token = persona.get("first", "HELLO")
    for minute in range(MAX_TURNS):
        text = spoken(content, lang, token)
        result = step(content, session, text, START + 60 * minute)
        session = result.session
        lines.append(f"resident: {text}")
        for reply in result.replies:
            first, *rest = reply.split("\n")
            lines.append(f"bot:      {first}")
            lines += [f"          {line}" for line in rest]
        token = script.next(session)
        if token is None:
            break
    else:
        raise PersonaError(f"persona '{persona['id']}' is still talking after {MAX_TURNS} "
                           f"messages: the bot keeps asking '{(session or {}).get('question')}'")
    return "\n".join(lines) + "\n", session
