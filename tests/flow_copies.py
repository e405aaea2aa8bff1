"""Copies of the shipped flows that a test may edit, as staff would, without touching the real
ones: copy, replace a piece of text, insert before a line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.paths import SHIPPED_FLOWS as FLOWS_DIR


def copy_flows(where: Path) -> Path:
    """A fresh copy of flows/ inside `where`; returns the copy's folder."""
    folder = where / "flows"
    shutil.copytree(FLOWS_DIR, folder)
    return folder


def edit(path: Path, old: str, new: str) -> int:
    """Replace `old` (which must appear once) and return the line number where it was."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def insert_before(folder: Path, before: str, insert: str) -> Path:
    """Put `insert` just before the line `before` of the copy's screener.yaml."""
    edit(folder / "screener.yaml", before, insert + before)
    return folder


def remove_question(folder: Path, question_id: str, next_id: str) -> Path:
    """Delete the question `question_id` (up to the question `next_id`) from the copy, and
    the checks that would ask it again (lint asks staff to do the same)."""
    path = folder / "screener.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index(f"  - id: {question_id}\n"), text.index(f"  - id: {next_id}\n")
    text = text[:start] + text[end:]
    check = rf"  - id: \w+\n    if: [^\n]*\n    ask: {question_id}\n    say: [^\n]*\n"
    path.write_text(re.sub(check, "", text), encoding="utf-8")
    return folder


def free_text_flows(where: Path, questions: int) -> Path:
    """A copy whose questions are all free text (`q1`...), so any message is an answer; the
    checks go, since they name the shipped questions. No rule reads them, so each is marked
    `always: true` (else the text line would skip them all)."""
    folder = copy_flows(where)
    path = folder / "screener.yaml"
    head = path.read_text(encoding="utf-8").split("\nquestions:")[0]
    head = re.sub(r"\nchecks:\n(?:[ #].*\n|\n)*", "\n", head + "\n")
    asked = "".join(f'  - id: q{n}\n    type: text\n    always: true\n    ask: "Question {n}?"\n'
                    for n in range(1, questions + 1))
    path.write_text(f"{head}\nquestions:\n{asked}", encoding="utf-8")
    return folder
