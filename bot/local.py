"""Where `screener run` leaves what the other `screener` commands read (the local outbox, the
address of its embedded Redis): one folder, whatever folder a command is run from.

`SCREENER_VAR` when set, else `var/` in the project folder (beside `flows/`). Development
only: production has Twilio credentials (no outbox) and a `REDIS_URL`.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def folder() -> Path:
    return Path(os.environ.get("SCREENER_VAR") or PROJECT / "var").resolve()
