"""No word means two things: lint compares every word class of every language with every
command of every language, after the folding the matcher uses, and points at the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.collisions import collision_problems
from bot.flow import load_flow
from bot.yamlsource import load_yaml

FLOWS = Path(__file__).resolve().parent.parent / "flows"
LANGUAGES = ("en", "es", "vi", "pa", "hi")


def add_yes_word(folder: Path, lang: str, word: str) -> tuple[Path, int]:
    """Put `word` first in the language's yes words; return the file and its line."""
    path = folder / "languages" / f"{lang}.yaml"
    text = path.read_text(encoding="utf-8")
    match = re.search(r'^\s*"?yes"?:\s*\[', text, re.MULTILINE)
    assert match, f"no yes list in {path}"
    path.write_text(text[:match.end()] + f'"{word}", ' + text[match.end():], encoding="utf-8")
    return path, text[:match.end()].count("\n") + 1


def collisions(folder: Path) -> list[str]:
    flow = load_flow(folder / "screener.yaml")
    return [str(p) for p in collision_problems(flow, folder / "languages")]


def test_the_shipped_words_have_no_collision():
    assert collisions(FLOWS) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_yes_word_that_is_a_stop_word_is_refused_at_its_file_and_line(flows, lang):
    stop_word = str(load_yaml(flows / "languages" / f"{lang}.yaml")["commands"]["stop"][0])
    path, line = add_yes_word(flows, lang, stop_word.lower())
    found = collisions(flows)
    assert any(p.startswith(f"{path}:{line}: ({lang}) '{stop_word.lower()}' is the yes word")
               and "stop command" in p for p in found), found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_command_word_of_another_language_collides_too(flows, lang):
    path, line = add_yes_word(flows, lang, "unsubscribe")  # an English STOP word
    assert any(p.startswith(f"{path}:{line}:") for p in collisions(flows))


def test_marks_tell_dung_from_dung_only_when_both_words_carry_them(flows):
    path, line = add_yes_word(flows, "vi", "đúng")
    assert not any(p.startswith(f"{path}:{line}:") for p in collisions(flows))
    path, line = add_yes_word(flows, "vi", "dung")
    assert any(p.startswith(f"{path}:{line}:") for p in collisions(flows))


def test_a_word_that_is_both_yes_and_no_is_refused(flows):
    path, line = add_yes_word(flows, "es", "no")
    assert any(p.startswith(f"{path}:{line}:") and "could not tell them apart" in p
               for p in collisions(flows))
