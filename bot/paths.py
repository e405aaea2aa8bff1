"""Where the staff-edited files live: one place, so every loader and tool reads the same folder.

`flows/` ships with the code (`SHIPPED_FLOWS`); `SCREENER_FLOWS_DIR` points elsewhere for
staging or tests. JSON Schemas always come from the shipped folder: they describe the format
the code understands, not one deployment's content.
"""

from __future__ import annotations

import os
from pathlib import Path

SHIPPED_FLOWS = Path(__file__).resolve().parent.parent / "flows"


def flows_dir() -> Path:
    """The flows folder in use: `$SCREENER_FLOWS_DIR` when set, else the shipped one."""
    return Path(os.environ.get("SCREENER_FLOWS_DIR") or SHIPPED_FLOWS)


def schema(name: str) -> Path:
    """A JSON Schema of the shipped format, e.g. `schema("programs.schema.json")`."""
    return SHIPPED_FLOWS / name
