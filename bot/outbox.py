"""The local outbox: where outbound messages go when no Twilio credentials are set.

A JSON Lines file (`OUTBOX_PATH`, default `outbox.jsonl` in the local folder, bot/local.py,
the same whatever folder a command runs in) rather than a Redis list, so `screener outbox` can
show it after `screener run` (and its embedded Redis) has stopped.
Development only: it holds numbers in clear, as a real send would hand them to Twilio.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot import local


def path() -> Path:
    return Path(os.environ.get("OUTBOX_PATH") or local.folder() / "outbox.jsonl").resolve()


def append(message: Mapping[str, Any]) -> None:
    """Add one message; a file lock keeps lines whole when several workers write."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(message, ensure_ascii=False) + "\n"
    with target.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line)


def read() -> list[dict[str, Any]]:
    target = path()
    if not target.exists():
        return []
    with target.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
