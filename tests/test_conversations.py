"""Golden conversations: each persona in tests/personas.yaml, in every language.

The transcript a resident would see is compared with tests/golden/<lang>/<persona>.txt, and
the programs shown must be the same in every language. After a deliberate change of texts,
regenerate the transcripts with `UPDATE_GOLDEN=1 pytest tests/test_conversations.py` and read
the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bot.content import Content, load_content
from bot.engine import step
from bot.i18n.segments_report import said
from bot.yamlsource import load_yaml

HERE = Path(__file__).parent
PERSONAS = load_yaml(HERE / "personas.yaml")  # YAML 1.2 booleans: YES and NO stay words
LANGUAGES = load_content().languages
START = 1_800_000_000.0  # a fixed clock: one minute between messages, never idle


def spoken(content: Content, lang: str, token: Any) -> str:
    """What the persona texts in `lang` (a mapping gives the text per language)."""
    if isinstance(token, dict):
        return str(token.get(lang, token["en"]))
    return said(content, lang, str(token))


def converse(content: Content, lang: str, persona: dict) -> tuple[str, dict | None]:
    """Run the persona's messages through the engine; return the transcript and session."""
    lines = [f"# {persona['persona']} ({lang})"]
    session = None
    for minute, token in enumerate(persona["says"]):
        text = spoken(content, lang, token)
        result = step(content, session, text, START + 60 * minute)
        session = result.session
        lines.append(f"resident: {text}")
        for reply in result.replies:
            first, *rest = reply.split("\n")
            lines.append(f"bot:      {first}")
            lines += [f"          {line}" for line in rest]
    return "\n".join(lines) + "\n", session


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("persona", PERSONAS, ids=[p["id"] for p in PERSONAS])
def test_each_persona_sees_its_golden_transcript_and_programs(content, persona, lang):
    transcript, session = converse(content, lang, persona)
    golden = HERE / "golden" / lang / f"{persona['id']}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(transcript, encoding="utf-8")
    assert golden.exists(), f"no golden transcript yet: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert transcript == golden.read_text(encoding="utf-8")
    assert session["stage"] == "results"
    assert session["programs"] == persona["programs"]


def test_there_are_at_least_ten_personas_across_the_programs():
    shown = {program for persona in PERSONAS for program in persona["programs"]}
    assert len(PERSONAS) >= 10
    assert len(shown) >= 18
