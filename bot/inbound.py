"""One inbound message, start to finish; shared by the Twilio web hook, the simulator and the
resident web door (channel `web`: no Twilio, no texts sent; its transcript is kept instead).

Per-contact lock, dedup and load (one script) → opt-out keywords → flood limits →
engine.step → save, count and unlock (one script) → queue the engine's jobs → the replies:
two Redis round trips for an ordinary turn (bot/store.py). No Flask here: the caller turns
replies into TwiML. A WhatsApp message also notes the time, for the worker to know whether
WhatsApp's 24-hour window is open (bot/window.py).

A lock rather than WATCH/MULTI: a turn has effects outside its own keys (STOP deletes queued
RQ jobs), and under a burst from one person optimistic retries would re-run the engine again
and again; with a lock the messages wait their turn and run one after the other. The lock's
timeout frees a contact whose holder crashed; the final write is still one transaction, and
it is fenced by the lock's token (bot/store.py): a turn that outlived its lock fails instead of
overwriting the turn after it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace

from redis import Redis
from redis.exceptions import RedisError
from redis.lock import Lock

from bot import cases, optout, outreach, ratelimit, window
from bot.content import Content
from bot.engine import Event, Job, Step, clean, new_session, step
from bot.jobs import Jobs
from bot.sealing import open_sealed, seal
from bot.store import (
    KEEP,
    PENDING_JOBS,
    Begun,
    Change,
    Command,
    LockLost,
    Snapshot,
    Store,
    Ttl,
    contact_id,
)

log = logging.getLogger(__name__)
# Twilio's message SIDs: SM (SMS, WhatsApp) or MM (MMS) and 32 hex digits. Nothing looser: a
# signed request replays as a "new" message when a field's name and value move into the SID.
_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
_COUNT = re.compile(r"[0-9]{1,2}")  # NumMedia: Twilio sends at most 10
# A resident's address: an E.164 number, on WhatsApp prefixed. Nothing looser: a signed
# request replays as a "new" contact when the fields after From are folded into its value.
_ADDRESS = re.compile(r"(whatsapp:)?\+[1-9][0-9]{6,14}")
WEB = "web"  # the resident web door's channel: its addresses are "web:<session id>"


@dataclass(frozen=True)
class Message:
    """An inbound message as Twilio (or the simulator) describes it."""

    address: str
    body: str = ""
    sid: str | None = None
    media: int = 0
    opt_out_type: str | None = None
    lang: str | None = None  # the web page's language: the conversation goes on in it
    shown: str | None = None  # what the web transcript shows the resident said (a label)

    @property
    def channel(self) -> str:
        address = self.address.lower()
        if address.startswith(f"{WEB}:"):
            return WEB
        return "whatsapp" if address.startswith("whatsapp:") else "sms"

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Message:
        """Read Twilio's fields, ignoring any others (Twilio adds fields without notice)."""
        sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
        media = form.get("NumMedia") or "0"
        address = form.get("From") or ""
        return cls(
            address=address if _ADDRESS.fullmatch(address) else "",
            body=form.get("Body") or "",
            sid=sid if _SID.fullmatch(sid) else None,
            media=int(media) if _COUNT.fullmatch(media) else 0,
            opt_out_type=form.get("OptOutType") or None,
        )


class ContactMemory:
    """Recent contacts' language and opt-out state, in this process only.

    With Redis down we can still apologise in the resident's language, and stay silent to
    someone who opted out."""

    def __init__(self, size: int = 10_000):
        self._size = size
        self._items: OrderedDict[str, tuple[str, bool]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, contact: str, lang: str, stopped: bool) -> None:
        with self._lock:
            self._items[contact] = (lang, stopped)
            self._items.move_to_end(contact)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def recall(self, contact: str) -> tuple[str, bool]:
        with self._lock:
            return self._items.get(contact, ("en", False))


LIMITED = {verdict.value for verdict in ratelimit.Verdict} - {ratelimit.Verdict.OK.value}
LOCK_POLL_SECONDS = 0.01  # turns take milliseconds: a queued message waits little


class ContactBusy(Exception):
    """The contact's lock stayed taken longer than we can keep Twilio waiting."""


class Textline:
    """The text line's host around the pure engine."""

    def __init__(self, content: Content, redis: Redis, secret: bytes, *, jobs: Jobs,
                 opt_out_mode: str = "twilio", ttl: Ttl | None = None,
                 limits: ratelimit.Limits | None = None,
                 clock: Callable[[], float] = time.time,
                 fallback: optout.Fallback | None = None):
        self.content = content
        self.store = Store(redis, ttl)
        self.secret = secret
        self.jobs = jobs
        self.keywords = optout.Keywords(content, opt_out_mode)
        self.limits = limits or ratelimit.Limits()
        self.clock = clock
        self.memory = ContactMemory()
        self.fallback = fallback or optout.Fallback()

    def contact(self, address: str) -> str:
        return contact_id(self.secret, address)

    def handle(self, message: Message, request_id: str = "-") -> list[str]:
        """The replies to send back. Never raises: on any failure, a short apology."""
        if not message.address or message.sid is None:
            log.warning("request=%s message without a sender or a Twilio MessageSid ignored",
                        request_id)
            return []
        contact = self.contact(message.address)
        started = time.perf_counter()
        try:
            replies, outcome, waiting = self._locked_turn(contact, message)
        except Exception:
            log.exception("request=%s contact=%s turn failed", request_id, contact[:8])
            return self._after_failure(contact, message, request_id)
        self._catch_up(waiting)
        log.info("request=%s contact=%s channel=%s outcome=%s replies=%d ms=%.1f",
                 request_id, contact[:8], message.channel, outcome, len(replies),
                 (time.perf_counter() - started) * 1000)
        return replies

    def _after_failure(self, contact: str, message: Message, request_id: str) -> list[str]:
        """What a failed turn says. A turn that was saved before the failure answers with
        what was saved (a "please resend" would turn the resend into the next answer); a STOP
        or START is kept on disk and honoured; anyone else gets the apology, unless they
        opted out."""
        try:
            saved = self.store.seen(contact, message.sid or "-")
        except Exception as error:  # Redis is still failing: we cannot know
            log.warning("request=%s could not check for a saved turn: %s", request_id,
                        type(error).__name__)
            saved = None
        if saved is not None:
            log.info("request=%s contact=%s outcome=saved_before_failure", request_id,
                     contact[:8])
            return saved
        lang, stopped = self.memory.recall(contact)
        kind = self.keywords.kind(message.body, message.opt_out_type)
        if kind is None and self._says_stop(message.body, lang):
            kind = "stop"
        if kind in ("stop", "start"):
            try:
                self.fallback.append(contact, kind, self.clock(), lang)
            except OSError:
                log.exception("request=%s contact=%s %s could not be kept on disk",
                              request_id, contact[:8], kind)
            self.memory.remember(contact, lang, stopped=kind == "stop")
            log.warning("request=%s contact=%s %s kept on disk until Redis is back",
                        request_id, contact[:8], kind)
            if kind == "stop":
                confirmed = self._confirmed(message, "stop")
                return [] if confirmed else [self.content.message(lang, "stopped")]
            if self._confirmed(message, "start"):
                return []
            return [self.content.message(lang, "sorry_error")]
        kept = self._kept_state(contact)
        if kept if kept is not None else stopped:
            return []
        return [self.content.message(lang, "sorry_error")]

    def _kept_state(self, contact: str) -> bool | None:
        try:
            return self.fallback.stopped(contact)
        except OSError:
            return None

    def _says_stop(self, body: str, lang: str) -> bool:
        """Whether the engine would read the message as STOP ("please stop texting me")."""
        try:
            result = step(self.content, new_session(self.content, self.clock(), lang), body,
                          self.clock())
        except Exception:
            return False
        return any(event.kind == "opted_out" for event in result.events)

    def _catch_up(self, waiting: int) -> None:
        """After a good turn: record opt-outs kept on disk, and queue the `waiting` jobs left
        waiting. Never costs the resident the reply."""
        try:
            self.fallback.replay(self.store, self.jobs.cancel)
        except Exception:
            log.exception("kept opt-outs not recorded yet")
        if not waiting:
            return
        try:
            self.retry_pending_jobs()
        except Exception:
            log.exception("waiting engine jobs not queued yet")

    @contextmanager
    def _locked(self, contact: str) -> Iterator[bytes]:
        """Hold the contact's lock; yields its token, which fences the turn's commit."""
        lock = self.store.lock(contact)
        if not lock.acquire():
            raise ContactBusy(contact[:8])
        try:
            yield lock.local.token
        finally:
            _release(lock)

    def _locked_turn(self, contact: str, message: Message) -> tuple[list[str], str, int]:
        """The replies, the outcome, and how many engine jobs wait to be queued. Two round
        trips for most turns: `begin`, then a commit that also releases the lock. A turn
        with engine jobs releases it only after queueing them (a STOP waits, then finds the
        jobs to cancel)."""
        token = os.urandom(16).hex().encode()
        begun, now, total, waiting = self._begin(contact, message, token)
        found = begun.found
        if not begun.locked:  # a redelivery of a saved turn, while another turn runs
            self.store.count(now, ["duplicate"])
            return found.seen or [], "duplicate", waiting
        released = False
        try:
            if found.seen is not None:
                self.store.commit(contact, Change([], counts=("duplicate",)), now,
                                  token=token, release=True)
                released = True
                return found.seen, "duplicate", waiting
            change, jobs = self._turn(contact, message, begun, total, now)
            if message.channel == WEB:
                change, jobs = self._on_the_web(contact, message, found, change), []
            limited = bool(set(change.counts) & LIMITED)
            change = replace(change, counts=(f"inbound:{message.channel}", *change.counts))
            # A limited message is not marked seen: its redelivery deserves a real answer.
            self.store.commit(contact, change, now, None if limited else message.sid,
                              token=token, release=not jobs)
            released = not jobs
            self._enqueue(contact, message, jobs, now)
        finally:
            if not released:
                self.store.release(contact, token)
        self._remember(contact, found, change)
        return change.replies, ",".join(change.counts[1:]) or "quiet", waiting

    def _on_the_web(self, contact: str, message: Message, found: Snapshot,
                    change: Change) -> Change:
        """A web door turn: the transcript is written with it, erased with the session (STOP)
        and begun afresh by RESTART. A web contact has no number, so the engine's jobs (all
        texts: follow-ups, reminders, estimates) are dropped; "text me my results" gives an SMS
        contact its own (bot/web/door.py)."""
        session = found.session if change.session is KEEP else change.session
        said = [] if session is None else [("resident", message.shown or clean(message.body)),
                                           *(("bot", reply) for reply in change.replies)]
        writes = self.store.transcript_writes(contact, said, erase=session is None
                                              or change.forget_replies)
        return replace(change, also=(*change.also, *writes))

    def _begin(self, contact: str, message: Message,
               token: bytes) -> tuple[Begun, float, int, int]:
        """Take the contact's lock and read the contact, polling while another turn holds it;
        a redelivery of a saved turn needs no lock. The first try also counts the message in
        the global minute and reads how many engine jobs wait to be queued, in its one round
        trip. Returns what was found, the turn's time (once locked), the minute's count and
        the jobs waiting."""
        deadline = time.monotonic() + self.store.ttl.lock_wait
        whatsapp = window.WINDOW_SECONDS if message.channel == "whatsapp" else 0
        along: tuple[Command, ...] = (*ratelimit.minute_count(self.clock()),
                                       ("LLEN", PENDING_JOBS))
        while True:
            now = self.clock()
            begun = self.store.begin(contact, message.sid, token, now,
                                     rate_window=self.limits.window,
                                     whatsapp_seconds=whatsapp, along=along)
            if along:
                total, _, waiting = begun.along
                along = ()
            if begun.locked or begun.found.seen is not None:
                return begun, now, total, waiting
            if time.monotonic() > deadline:
                raise ContactBusy(contact[:8])
            time.sleep(LOCK_POLL_SECONDS)

    def _enqueue(self, contact: str, message: Message, jobs: list[Job], now: float) -> None:
        """Hand the engine's slow work to the worker, after the turn is saved and still under
        the lock (a STOP waits, then finds the jobs to cancel). A failure here costs the
        resident a follow-up, never the reply."""
        if not jobs:
            return
        turn_id = message.sid or os.urandom(16).hex()
        try:
            self.jobs.enqueue(message.address, jobs, turn_id, now)
        except Exception:
            log.exception("contact=%s engine jobs %s not queued; kept to try again",
                          contact[:8], [job.kind for job in jobs])
            self._keep_jobs(contact, message.address, jobs, turn_id, now)

    def _keep_jobs(self, contact: str, address: str, jobs: list[Job], turn_id: str,
                   now: float) -> None:
        """Park jobs that could not be queued (the address sealed, never in clear); the next
        turn of anyone queues them (`retry_pending_jobs`), under the same ids."""
        entry = json.dumps({"contact": contact, "sealed": seal(self.secret, address),
                            "jobs": [[job.kind, job.data] for job in jobs], "turn": turn_id,
                            "at": now}, ensure_ascii=False)
        try:
            pipe = self.store.redis.pipeline(transaction=True)
            pipe.rpush(PENDING_JOBS, entry)
            pipe.expire(PENDING_JOBS, self.store.ttl.retention)
            pipe.execute()
            self.store.count(now, ["jobs_not_queued"])
        except RedisError:
            log.error("contact=%s engine jobs %s lost: Redis refused them twice",
                      contact[:8], [job.kind for job in jobs])

    def retry_pending_jobs(self, limit: int = 5) -> int:
        """Queue up to `limit` parked jobs, oldest first; how many. An entry leaves the list
        only once queued (its job ids come from its turn, so queueing twice is harmless); a
        contact who opted out meanwhile loses its entry; one that can never be queued (a
        bug, not Redis) is dropped with an error rather than block the rest."""
        redis, done = self.store.redis, 0
        for _ in range(limit):
            raw = redis.lindex(PENDING_JOBS, 0)
            if raw is None:
                break
            entry = json.loads(raw)
            if self.store.opt_out_record(entry["contact"]) is None:
                try:
                    self.jobs.enqueue(open_sealed(self.secret, entry["sealed"]),
                                      [Job(kind, data) for kind, data in entry["jobs"]],
                                      entry["turn"], entry["at"])
                except RedisError:
                    raise
                except Exception:
                    log.exception("contact=%s parked engine jobs dropped: they cannot be "
                                  "queued", entry["contact"][:8])
            redis.lrem(PENDING_JOBS, 1, raw)
            done += 1
        return done

    def _turn(self, contact: str, message: Message, begun: Begun, total: int,
              now: float) -> tuple[Change, list[Job]]:
        found = begun.found
        kind = self.keywords.kind(message.body, message.opt_out_type)
        lang = message.lang or (found.session or found.opt_out or {}).get("lang") \
            or self.memory.recall(contact)[0]
        if found.opt_out is not None:
            if kind == "start":
                return self._opt_in(message, lang, now), []
            # A session saved by a turn that raced a carrier opt-out goes now.
            leftover = KEEP if found.session is None else None
            if kind == "help" and self.keywords.mode == "app":  # nobody else answers it
                return Change([self.content.message(lang, "help")], session=leftover,
                              counts=("help_while_opted_out",)), []
            return Change([], session=leftover, counts=("while_opted_out",)), []
        if kind == "stop":
            return self._opt_out(contact, message, lang, now, found.session), []
        verdict = ratelimit.verdict(begun.recent + 1, total, begun.noticed, self.limits)
        change, jobs = self._rated_turn(contact, message, found, kind, lang, verdict, now)
        return replace(change, also=ratelimit.marks(contact, now, self.limits, verdict)), jobs

    def _rated_turn(self, contact: str, message: Message, found: Snapshot, kind: str | None,
                    lang: str, verdict: ratelimit.Verdict,
                    now: float) -> tuple[Change, list[Job]]:
        """A message that counts towards the flood limits: the notice, or the engine's turn."""
        if verdict is not ratelimit.Verdict.OK:
            silent = verdict is ratelimit.Verdict.SILENT
            return Change([] if silent else [self.content.message(lang, verdict.value)],
                          counts=(verdict.value,)), []
        if message.media and not clean(message.body):
            return Change([self.content.message(lang, "media_only")],
                          counts=("media_only",)), []
        # OptOutType=HELP may come from a keyword the flow does not list: say it the flow's way.
        text = self._command_word("help") if kind == "help" else message.body
        result = step(self.content, found.session, text, now, lang=message.lang,
                      channel=message.channel)
        counted = outreach.fields(result.session or found.session, message.channel,
                                  outreach.outcomes(result.events))
        self._keep_case(contact, message, found.session, result, now)
        if any(event.kind == "opted_out" for event in result.events):
            # "please stop texting me": the engine read it as STOP; Twilio did not see it.
            self._erase_case(found.session)
            self.jobs.cancel(contact)
            return Change(result.replies, session=None, opt_out={"at": now, "lang": lang},
                          counts=funnel(result.events), outreach=counted), []
        restarted = any(event.kind == "restarted" for event in result.events)
        return Change(result.replies, session=result.session, counts=funnel(result.events),
                      forget_replies=restarted, outreach=counted), result.jobs

    def _keep_case(self, contact: str, message: Message, before: dict | None, result: Step,
                   now: float) -> None:
        """The hand-off: open a case when the resident agreed to share their answers, and put
        their texts into it while it is open (the bot stays quiet then)."""
        redis, ttl = self.store.redis, self.store.ttl.retention
        opened = next((e for e in result.events if e.kind == "handoff"), None)
        case_id = (before or {}).get("case")
        if opened is not None and result.session is not None:
            case = cases.open_case(redis, contact=contact, sealed=seal(self.secret,
                                                                         message.address),
                                   channel=message.channel, session=result.session, now=now,
                                   staffed=opened.data["staffed"], ttl=ttl)
            result.session["case"] = case.id
            log.info("contact=%s case %s opened", contact[:8], case.id)
        elif case_id and result.session is not None and result.session.get("case") == case_id:
            cases.add_message(redis, case_id, cases.Message("resident", clean(message.body),
                                                            now), ttl)

    def _erase_case(self, session: dict | None) -> None:
        if (session or {}).get("case"):
            cases.erase(self.store.redis, session["case"])

    def _opt_out(self, contact: str, message: Message, lang: str, now: float,
                 session: dict | None) -> Change:
        self._erase_case(session)
        self.jobs.cancel(contact)
        confirmed = self._confirmed(message, "stop")
        replies = [] if confirmed else [self.content.message(lang, "stopped")]
        return Change(replies, session=None, opt_out={"at": now, "lang": lang},
                      counts=("opted_out",),
                      outreach=outreach.fields(session, message.channel, ["opted_out"]))

    def _opt_in(self, message: Message, lang: str, now: float) -> Change:
        if self._confirmed(message, "start"):
            return Change([], opt_out=None, counts=("opted_in",))
        result = step(self.content, new_session(self.content, now, lang),
                      self._command_word("start"), now, channel=message.channel)
        return Change(result.replies, session=result.session, opt_out=None,
                      counts=funnel(result.events))

    def _confirmed(self, message: Message, kind: str) -> bool:
        """Whether Twilio answered this keyword already (never on the web door, which
        Twilio does not see)."""
        return message.channel != WEB and self.keywords.twilio_confirmed(
            message.body, message.opt_out_type, kind)

    def _command_word(self, name: str) -> str:
        return self.content.command_words(name, "en")[0]

    def _remember(self, contact: str, found: Snapshot, change: Change) -> None:
        session = found.session if change.session is KEEP else change.session
        record = found.opt_out if change.opt_out is KEEP else change.opt_out
        lang = (session or record or {}).get("lang") or self.memory.recall(contact)[0]
        self.memory.remember(contact, lang, stopped=record is not None)

    def opt_out_after_failure(self, address: str) -> None:
        """Twilio refused a send with 21610: the number opted out where we could not see it."""
        contact = self.contact(address)
        try:
            try:
                with self._locked(contact) as token:
                    optout.opt_out_now(self.store, self.jobs.cancel, contact, self.clock(),
                                       "opted_out_by_carrier", token)
            except (ContactBusy, LockLost):
                # A turn holds the contact: write the record now rather than lose it. A
                # session that turn saves afterwards is erased by the contact's next message.
                optout.opt_out_now(self.store, self.jobs.cancel, contact, self.clock(),
                                   "opted_out_by_carrier")
        except RedisError:
            self.fallback.append(contact, "stop", self.clock(), self.memory.recall(contact)[0])
        self.memory.remember(contact, self.memory.recall(contact)[0], stopped=True)


FINISH_MINUTES_CAP = 60


def funnel(events: Iterable[Event]) -> tuple[str, ...]:
    """Counter fields for engine events: `answered:age`, `program:calfresh`, never a number."""
    fields: list[str] = []
    for event in events:
        data = event.data
        if event.kind in ("answered", "misunderstood"):
            fields.append(f"{event.kind}:{data.get('question')}")
        elif event.kind == "command":
            fields.append(f"command:{data.get('command')}")
        elif event.kind == "details":
            fields.append(f"details:{data.get('program')}")
        elif event.kind == "results":
            fields += ["results", *(f"program:{p}" for p in data.get("programs", ()))]
            if "minutes" in data:  # for the median time to finish (capped: an hour or more)
                fields.append(f"finish_minutes:{min(data['minutes'], FINISH_MINUTES_CAP)}")
        elif event.kind == "follow_up_answer":
            fields.append(f"{data.get('kind')}:{data.get('answer')}")
        else:
            fields.append(event.kind)
    return tuple(fields)


def _release(lock: Lock) -> None:
    """Release the lock; if that fails (Redis gone, lock expired) its timeout frees it."""
    try:
        lock.release()
    except RedisError as error:
        log.warning("could not release a contact lock: %s", type(error).__name__)
