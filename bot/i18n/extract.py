"""Babel extractor for the staff YAML, registered as `screener_yaml` (see pyproject.toml).

`pybabel extract -F babel.cfg -o translations/messages.pot .` finds every resident-facing
text with its file, line and a comment telling the translator what it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from bot.yamlsource import SourceMap, load_yaml

# Resident-facing fields of a question in flows/screener.yaml (all `messages` are too).
QUESTION_FIELDS = ("ask", "help", "retry")
# Resident-facing fields of programs.yaml and services.yaml entries.
PROGRAM_FIELDS = ("name", "summary", "details", "apply", "caution")
# (`offers` is a description for staff: SMS replies list only name, phone and hours.)
SERVICE_FIELDS = ("hours",)


def texts(path: str | Path, text: str | None = None) -> Iterator[tuple[str, int, str]]:
    """(text, line, note for translators) for every resident-facing text in one YAML file."""
    data = load_yaml(path, text)
    name = Path(path).name
    if name == "screener.yaml":
        yield from _flow_texts(data)
    elif name == "programs.yaml":
        yield from _entry_texts(data.get("programs", []), PROGRAM_FIELDS, "program")
    elif name == "services.yaml":
        yield from _entry_texts(data.get("services", []), SERVICE_FIELDS, "service")
    elif name == "urgent.yaml":
        settings = data.get("settings", {})
        if "resume" in settings:
            yield settings["resume"], settings.line_of("resume"), "after an urgent reply"
        yield from _entry_texts(data.get("needs", []), ("reply",), "urgent need")
    elif name == "handoff.yaml":
        yield from _entry_texts(data.get("saved_replies", []), ("text",),
                                "a navigator's saved reply")
    elif name == "campaigns.yaml":
        yield from _entry_texts(data.get("campaigns", []), ("greeting",),
                                "campaign greeting, said before the welcome:")
    elif name == "web.yaml":
        page = data.get("texts", {})
        for key, value in page.items():
            if isinstance(value, str):
                yield value, page.line_of(key), f"web page: {key}"


def _flow_texts(data: SourceMap) -> Iterator[tuple[str, int, str]]:
    # An empty text is no text to translate (the flow's own check says it is missing).
    messages = data.get("messages", {})
    for key, value in messages.items():
        if isinstance(value, str):
            yield value, messages.line_of(key), f"message {key}"
    for question in data.get("questions", []):
        for field in QUESTION_FIELDS:
            if isinstance(question.get(field), str):
                note = f"question {question['id']}: {field}"
                yield question[field], question.line_of(field), note
        for choice in question.get("choices", []):
            yield choice["label"], choice.line_of("label"), (
                f"question {question['id']}: choice {choice['value']}"
            )


def _entry_texts(entries: list[Any], fields: tuple[str, ...],
                 kind: str) -> Iterator[tuple[str, int, str]]:
    for entry in entries:
        for field in fields:
            if isinstance(entry.get(field), str):
                note = f"{kind} {entry.get('id')}: {field}"
                if kind == "program" and field == "name":
                    note += " (official names like CalFresh stay as they are: see GLOSSARY.md)"
                yield entry[field], entry.line_of(field), note


def extract_yaml(fileobj: BinaryIO, keywords: Any, comment_tags: Any,
                 options: dict) -> Iterator[tuple[int, None, str, list[str]]]:
    """The Babel extractor interface: (lineno, funcname, message, comments)."""
    text = fileobj.read().decode("utf-8")
    for message, line, note in texts(getattr(fileobj, "name", "flow.yaml"), text):
        yield line, None, message, [note]
