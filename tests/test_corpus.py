"""Residents are understood as they really write: every message in tests/corpus/<lang>.yaml,
run through the real engine at the point where residents send it, gets its reading.

A misreading found later becomes a case there first (tests/corpus/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import _understanding_page
from bot.content import load_content
from bot.corpus import corpus_files, describe, load_corpus, run, run_case, table

LANGUAGES = ("en", "es", "vi", "pa", "hi")
CASES = [case for path in corpus_files() for case in load_corpus(path)]
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.lang}:{c.line}:{' / '.join(c.say)[:40]}" for c in CASES])
def test_each_corpus_message_gets_its_reading(content, case):
    outcome = run_case(content, case)
    assert outcome.got == describe(case.expect, case.wanted)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_has_at_least_150_real_looking_messages(lang):
    cases = [case for case in CASES if case.lang == lang]
    assert len(cases) >= 150
    kinds = {case.expect for case in cases}
    assert {"answer", "unsure", "again", "command", "urgent"} <= kinds
    assert {case.at for case in cases} >= {"first", "monthly_income", "work", "age"}


def test_docs_understanding_md_is_the_current_output_of_screener_corpus():
    content = load_content()
    outcomes = run(content, CASES)
    page = _understanding_page(table(outcomes), len(outcomes))
    current = (ROOT / "docs" / "understanding.md").read_text(encoding="utf-8")
    assert current == page, "run: screener corpus --write docs/understanding.md"
