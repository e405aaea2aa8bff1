"""STOP, START and HELP: recognised before the flow runs, in every configured language.

Two modes (`OPT_OUT_MODE`):

- `twilio` (default): a long code, toll-free number or Messaging Service where Twilio handles
  opt-out keywords itself. Twilio already sent the confirmation, so we record the opt-out and
  answer with empty TwiML. When a keyword reaches us that Twilio did not handle (no
  `OptOutType`, not one of Twilio's default words, e.g. a Spanish word missing from Advanced
  Opt-Out) we confirm it ourselves: every opt-out gets exactly one confirmation.
- `app`: a standalone short code, where Twilio does nothing and we send the confirmations.

A contact who opted out gets no reply at all until an opt-in keyword (or HELP in `app` mode).

Opt-out is the last thing to fail: a STOP or START that arrives while Redis cannot take it is
appended to a small file (`Fallback`, `OPT_OUT_FALLBACK_PATH`) that every web process on the
machine reads before apologising, and the first turn after Redis is back records it there.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bot.content import Content
from bot.questions.normalize import bare
from bot.store import Change, Store

log = logging.getLogger(__name__)
MODES = ("twilio", "app")
DEFAULT_FALLBACK = Path(__file__).resolve().parents[1] / "var" / "optouts-pending.jsonl"
# The household's answers while it waits in line for an estimate (worker/followups.py).
PENDING_ESTIMATE = "estimate"
CARRIER_OPT_OUT = 21610  # Twilio: "Attempt to send to unsubscribed recipient"
KEYWORDS = ("stop", "start", "help")
# What Twilio itself acts on for long codes and toll-free numbers (docs/twilio.md).
TWILIO_DEFAULT_WORDS = {
    "stop": ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
    "start": ("START", "YES", "UNSTOP"),
    "help": ("HELP", "INFO"),
}
Cancel = Callable[[str], None]  # deletes a contact's queued jobs (bot/jobs.py, `Jobs.cancel`)


class Keywords:
    """The STOP, START and HELP words, folded once (matching runs on every message)."""

    def __init__(self, content: Content, mode: str):
        if mode not in MODES:
            raise ValueError(f"OPT_OUT_MODE must be one of {MODES}, not {mode!r}")
        self.mode = mode
        twilio_words = TWILIO_DEFAULT_WORDS if mode == "twilio" else {}
        self._words = {name: _folded([*content.command_words(name), *twilio_words.get(name, ())])
                       for name in KEYWORDS}
        self._twilio = {name: _folded(words) for name, words in TWILIO_DEFAULT_WORDS.items()}

    def kind(self, body: str, opt_out_type: str | None) -> str | None:
        """`stop`, `start` or `help` when the message is one of those keywords, else None.

        Twilio's `OptOutType` wins when present: Twilio has acted on it already. Otherwise
        the whole message must be a keyword of any configured language (a Spanish speaker
        whose session says English can still stop), plus Twilio's own words in `twilio` mode.
        """
        if opt_out_type and opt_out_type.lower() in KEYWORDS:
            return opt_out_type.lower()
        word = bare(body)
        return next((name for name in KEYWORDS if word and word in self._words[name]), None)

    def twilio_confirmed(self, body: str, opt_out_type: str | None, kind: str) -> bool:
        """Whether Twilio already answered this keyword, so a reply of ours would be a second."""
        if self.mode != "twilio":
            return False
        return bool(opt_out_type) or bare(body) in self._twilio[kind]


def _folded(words: Iterable[str]) -> frozenset[str]:
    return frozenset(bare(word) for word in words)


def opt_out_now(store: Store, cancel: Cancel, contact: str, now: float, reason: str,
                token: bytes | None = None, lang: str | None = None) -> None:
    """Opt a contact out outside a turn: Twilio refused a send to it with 21610, or a STOP
    kept during an outage is replayed. `cancel` takes back the contact's queued jobs (the job
    port's `cancel`, bot/jobs.py).

    `token` is the contact's lock token when the caller holds the lock (fences the write)."""
    found = store.snapshot(contact, None)
    lang = (found.session or found.opt_out or {}).get("lang") or lang or "en"
    cancel(contact)
    store.commit(contact, Change([], session=None, opt_out={"at": now, "lang": lang},
                                 counts=(reason,)), now, token=token)


class Fallback:
    """STOP and START that Redis could not take, kept on disk until it can.

    One JSON line per keyword: the contact hash (never the number), `stop` or `start`, the
    time and the language. Appends are flushed and fsynced under a file lock, so every web
    process on the machine sees them; the last line of a contact decides."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path else DEFAULT_FALLBACK

    def append(self, contact: str, kind: str, now: float, lang: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"contact": contact, "kind": kind, "at": now, "lang": lang})
        with self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def stopped(self, contact: str) -> bool | None:
        """True or False when a kept keyword decides for the contact; None when none does."""
        state = None
        for entry in _entries(self.path):
            if entry.get("contact") == contact:
                state = entry.get("kind") == "stop"
        return state

    def pending(self) -> int:
        return len(_entries(self.path))

    def replay(self, store: Store, cancel: Cancel) -> int:
        """Record the kept keywords in Redis, oldest first; how many. Another process that
        got here first owns the file (renamed away); on a Redis error the rest goes back."""
        if not os.path.exists(self.path):  # every turn asks: os's, not pathlib's, is cheap
            return 0
        claimed = self.path.with_name(f"{self.path.name}.{os.getpid()}.replaying")
        try:
            os.rename(self.path, claimed)
        except FileNotFoundError:
            return 0
        entries = _entries(claimed)
        done = 0
        try:
            for entry in entries:
                if entry["kind"] == "stop":
                    opt_out_now(store, cancel, entry["contact"], entry["at"],
                                "opted_out_in_outage", lang=entry.get("lang"))
                else:
                    store.commit(entry["contact"], Change([], opt_out=None,
                                                          counts=("opted_in_in_outage",)),
                                 entry["at"])
                done += 1
        finally:
            for entry in entries[done:]:
                self.append(entry["contact"], entry["kind"], entry["at"], entry["lang"])
            claimed.unlink()
        log.warning("recorded %d opt-out keywords kept on disk during a Redis failure", done)
        return done


def _entries(path: Path) -> list[dict[str, Any]]:
    """The kept lines; a line cut short by a crash is skipped."""
    try:
        with path.open(encoding="utf-8") as handle:
            lines = [line for line in handle if line.strip()]
    except FileNotFoundError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            log.error("a kept opt-out line was cut short and is skipped")
    return entries
