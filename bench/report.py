"""Keeping the latest figures of each benchmark in docs/benchmarks.md, one section each."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, section: str, table: str) -> None:
    """Replace the section headed `section` (or add it at the end) with `table`, leaving one
    blank line before the section after it."""
    text = path.read_text(encoding="utf-8")
    table = table.rstrip("\n") + "\n"
    if section in text:
        start = text.index(section)
        following = text.find("\n## ", start + len(section))
        rest = text[following + 1:] if following >= 0 else ""
        text = text[:start] + table + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + table
    path.write_text(text, encoding="utf-8")
