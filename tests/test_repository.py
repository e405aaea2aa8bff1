"""The repository stands alone: a newcomer with only this checkout can follow every
reference. Nothing points at the team's notes kept outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = re.compile(r"shared/|\b(?:DESIGN|PLATFORM|PROGRAMS|ANCHORS)\.md\b")
FOLDERS = ("bot", "worker", "flows", "docs", "translations", "tests", "bench", "scripts")
SUFFIXES = {".py", ".md", ".yaml", ".json", ".po", ".pot", ""}


def files() -> list[Path]:
    found = [ROOT / "README.md"]
    for folder in FOLDERS:
        found += [path for path in (ROOT / folder).rglob("*")
                  if path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts
                  and path != Path(__file__).resolve()]
    return found


def test_no_file_points_outside_the_repository():
    assert len(files()) > 100  # the scan reads the code, flows, docs and catalogs
    pointing = [f"{path.relative_to(ROOT)}:{number}"
                for path in files()
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if OUTSIDE.search(line)]
    assert pointing == []
