"""STOP, START and HELP: recognised before the flow runs, in every configured language.

Two modes (`OPT_OUT_MODE`):

- `twilio` (default): a long code, toll-free number or Messaging Service where Twilio handles
  opt-out keywords itself. Twilio already sent the confirmation, so we record the opt-out and
  answer with empty TwiML. When a keyword reaches us that Twilio did not handle (no
  `OptOutType`, not one of Twilio's default words, e.g. a Spanish word missing from Advanced
  Opt-Out) we confirm it ourselves: every opt-out gets exactly one confirmation.
- `app`: a standalone short code, where Twilio does nothing and we send the confirmations.

A contact who opted out gets no reply at all until an opt-in keyword.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from bot.content import Content
from bot.questions.normalize import bare
from bot.store import Change, Store, key

MODES = ("twilio", "app")
# The household's answers while it waits in line for an estimate (worker/followups.py).
PENDING_ESTIMATE = "estimate"
CARRIER_OPT_OUT = 21610  # Twilio: "Attempt to send to unsubscribed recipient"
KEYWORDS = ("stop", "start", "help")
# What Twilio itself acts on for long codes and toll-free numbers (PLATFORM.md section 2).
TWILIO_DEFAULT_WORDS = {
    "stop": ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
    "start": ("START", "YES", "UNSTOP"),
    "help": ("HELP", "INFO"),
}


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


def cancel_jobs(redis: Redis, contact: str) -> None:
    """Delete every queued or scheduled RQ job for the contact and the household waiting for
    a dollar estimate (their data goes with them).

    A job already running is left to its worker, whose opt-out check at send time stops it."""
    redis.delete(key(contact, PENDING_ESTIMATE))
    jobs_key = key(contact, "jobs")
    for raw in redis.smembers(jobs_key):
        job_id = raw.decode() if isinstance(raw, bytes) else raw
        try:
            job = Job.fetch(job_id, connection=redis)
        except NoSuchJobError:
            continue
        if job.get_status() != JobStatus.STARTED:
            job.delete()
    redis.delete(jobs_key)


def opt_out_now(store: Store, contact: str, now: float, reason: str,
                token: bytes | None = None) -> None:
    """Opt a contact out outside a turn: Twilio refused a send to it with 21610.

    `token` is the contact's lock token when the caller holds the lock (fences the write)."""
    found = store.snapshot(contact, None)
    lang = (found.session or found.opt_out or {}).get("lang", "en")
    cancel_jobs(store.redis, contact)
    store.commit(contact, Change([], session=None, opt_out={"at": now, "lang": lang},
                                 counts=(reason,)), now, kept=found.kept, token=token)
