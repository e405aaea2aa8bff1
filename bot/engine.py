"""The conversation engine: a pure function of (content, session, inbound text, time).

`step` returns the new session, the replies to send and events that describe what happened
(for counters and the host). It performs no I/O: the web hook, the terminal chat and the
tests all call it the same way, so what staff preview is what residents get.

A session is plain JSON-serialisable data. `None` means "no session": a new contact, or a
contact whose data was erased (STOP).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from bot import results
from bot.campaigns import Campaign
from bot.commands import asks_for_person, command_in, opts_out
from bot.content import Content
from bot.flow import RESULTS, Check, Question, applies
from bot.language import detect
from bot.places import in_california
from bot.questions import Context, Reading, reader_for
from bot.questions.follow_up import read as read_follow_up
from bot.questions.normalize import ascii_digits, bare
from bot.rules import san_jose_date
from bot.segments import split
from bot.session import FORMAT, Stage, copied
from bot.urgent import Need

MAX_INBOUND_CHARS = 1600
# The re-prompt a question's own `retry` text replaces, per type.
DEFAULT_RETRY = {
    "number": "retry_number", "money": "retry_money", "yes_no": "retry_yes_no",
    "choice": "retry_choice", "zip": "retry_zip", "text": "retry_text",
}
# Stages that wait for something other than a flow question; a flow edit leaves them as they are.
AWAY_FROM_QUESTIONS = (Stage.FOLLOW_UP, Stage.CONSENT, Stage.WITH_NAVIGATOR)
# What the bot says to each answer to a follow-up question (worker/checkins.py asks them).
FOLLOW_UP_REPLIES = {"applied": "applied_yes", "not_yet": "applied_not_yet",
                     "need_help": "applied_need_help", "approved": "approved_yes",
                     "denied": "approved_no", "waiting": "approved_waiting"}


@dataclass(frozen=True)
class Event:
    """Something that happened in a turn, for funnels and for the host to act on."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """Slow work for a worker (the host enqueues it)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    session: dict[str, Any] | None
    replies: list[str]
    events: list[Event] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)


def new_session(content: Content, now: float, lang: str = "en") -> dict[str, Any]:
    return {
        "format": FORMAT,
        "flow": content.fingerprint,
        "lang": lang if lang in content.languages else "en",
        "stage": Stage.ASKING,
        "question": content.flow.first.id,
        "answers": {},
        "trail": [],
        "misses": 0,
        "programs": [],
        "page": 0,
        "created": now,
        "updated": now,
    }


def step(content: Content, session: dict[str, Any] | None, text: str, now: float,
         lang: str | None = None, channel: str = "sms") -> Step:
    """Advance one conversation by one inbound message.

    `lang` forces a language (e.g. `screener chat --lang es`); `channel` decides how long
    replies are split: SMS by the segment budget, WhatsApp only at Twilio's 1,600 characters.
    """
    turn = _Turn(content, copied(session) if session else None, now, channel)
    turn.handle(clean(text), lang)
    return turn.finish()


def back_from_navigator(content: Content, session: dict[str, Any], now: float,
                        channel: str = "sms") -> Step:
    """A navigator closed the resident's case: the bot takes over again where they were,
    with a short note (sent by the worker, like any message outside a reply)."""
    turn = _Turn(content, copied(session), now, channel)
    turn.resume_after_navigator()
    return turn.finish()


def clean(text: str | None) -> str:
    """Normalise an inbound body: NFC, no control characters, bounded length."""
    text = unicodedata.normalize("NFC", text or "")[:MAX_INBOUND_CHARS]
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C").strip()


class _Turn:
    """The work of one `step`: collects replies and events while changing the session."""

    def __init__(self, content: Content, session: dict[str, Any] | None, now: float,
                 channel: str):
        self.content = content
        self.channel = channel
        self.flow = content.flow
        self.session = session
        self.now = now
        self.pieces: list[str] = []
        self.events: list[Event] = []
        self.jobs: list[Job] = []
        self._facts_cache: tuple[tuple[tuple[str, Any], ...], dict[str, Any]] | None = None

    # -- entry --------------------------------------------------------------------------------
    def handle(self, text: str, lang: str | None) -> None:
        """Safety first: STOP typed alone is honoured at once; then an urgent need, before
        anything else could take the message (the idle offer, a flow edit, the language
        menu, an opt-out phrase or an answer reader); then commands, then the answer."""
        if self.session is None:
            self._first_contact(text, lang)
            return
        if lang and lang in self.content.languages:
            self.session["lang"] = lang
        moved = self.session.get("flow") != self.content.fingerprint and self._migrate()
        command = command_in(self.content, text)
        if command == "stop":
            self._opt_out()
            return
        urgent = self.content.urgent_need(text)
        if urgent:
            self._on_urgent(*urgent)
            return
        if command is None and opts_out(self.content, text):
            self._opt_out()
            return
        if self.session["stage"] == Stage.WITH_NAVIGATOR:
            self.events.append(Event("to_navigator"))  # the host puts the text in the case
            return
        if self.session.get("nudged") and not self.session.get("returned"):
            self.session["returned"] = True
            self.events.append(Event("returned"))
        keyword = None if command else self.content.campaigns.keyword_alone(
            text, san_jose_date(self.now))
        if moved:
            self.say("flow_changed")
            if command is None and keyword is None:
                self.ask()
                return
        if keyword:
            self._on_keyword(keyword)
            return
        if command is None and self._idle():
            self.session["stage"] = Stage.IDLE_OFFER
            self.say("idle_return")
            return
        if command is None and self.session["stage"] != Stage.CONSENT \
                and asks_for_person(self.content, text):  # at consent: "yes, a person" is yes
            command = "person"
        if command:
            self.events.append(Event("command", {"command": command}))
            getattr(self, f"_on_{command}")()
            return
        self._dispatch(text)

    def _dispatch(self, text: str) -> None:
        """Read the message as the answer the current stage is waiting for."""
        stage = self.session["stage"]
        if stage == Stage.URGENT:
            self._on_after_urgent(text)
        elif stage == Stage.CONFIRM:
            self._on_confirm(text)
        elif stage == Stage.LANGUAGE:
            self._on_language_choice(text)
        elif stage == Stage.IDLE_OFFER:
            self._on_idle_choice(text)
        elif stage == Stage.RESULTS:
            self._on_results_reply(text)
        elif stage == Stage.FOLLOW_UP:
            self._on_follow_up_reply(text)
        elif stage == Stage.CONSENT:
            self._on_consent(text)
        elif stage == Stage.WITH_NAVIGATOR:  # back from an urgent reply: still theirs
            self.events.append(Event("to_navigator"))
        else:
            self._on_answer(text)

    def finish(self) -> Step:
        if self.session is not None:
            self.session["updated"] = self.now
        budget = None if self.channel == "whatsapp" else self.flow.settings.results_page_segments
        reply = "\n".join(piece for piece in self.pieces if piece)
        return Step(self.session, split(reply, budget), self.events, self.jobs)

    # -- helpers ------------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.session["lang"] if self.session else "en"

    def say(self, key: str, **params: Any) -> None:
        self.pieces.append(self.content.message(self.lang, key, **params))

    def say_text(self, msgid: str, **params: Any) -> None:
        self.pieces.append(self.content.text(self.lang, msgid, **params))

    def _idle(self) -> bool:
        idle_seconds = self.flow.settings.idle_minutes * 60
        return (
            self.session["stage"] == Stage.ASKING
            and bool(self.session["trail"])
            and self.now - self.session.get("updated", self.now) > idle_seconds
        )

    def _facts(self) -> dict[str, Any]:
        """Answers plus what the rules compute from them, once per set of answers in a turn
        (asking, branching and checking all read them)."""
        key = tuple(sorted(self.session["answers"].items()))
        if self._facts_cache is None or self._facts_cache[0] != key:
            facts = self.content.rules.facts(self.session["answers"], on=san_jose_date(self.now))
            self._facts_cache = (key, facts)
        return self._facts_cache[1]

    @property
    def question(self) -> Question:
        question = self.flow.question(self.session["question"])
        assert question is not None  # _migrate keeps the pointer valid
        return question

    def _repeat(self) -> None:
        """Say again, briefly, what the conversation is waiting for in its current stage."""
        stage = self.session["stage"]
        if stage in (Stage.ASKING, Stage.CONFIRM):
            self.ask()
        elif stage == Stage.RESULTS and self.session.get("outside"):
            self._show_page()
        elif stage == Stage.RESULTS and self.session["programs"]:
            self.say("results_prompt", count=len(self.session["programs"]))
        elif stage == Stage.RESULTS:
            self.say("results_none")
        elif stage == Stage.LANGUAGE:
            self._show_language_menu()
        elif stage == Stage.IDLE_OFFER:
            self.say("idle_return")
        elif stage == Stage.URGENT:
            self.say_text(self.content.urgent.resume)
        elif stage == Stage.FOLLOW_UP:
            self.say("follow_up_retry")
        elif stage == Stage.CONSENT:
            self.say("handoff_consent")

    def ask(self) -> None:
        """Say the current question (or show the results if the flow has ended; or what a
        follow-up, the consent question or a case is waiting for)."""
        if self.session["stage"] == Stage.RESULTS:
            self._show_page()
            return
        if self.session["stage"] in AWAY_FROM_QUESTIONS:
            self._repeat()
            return
        pending = self.session.get("pending")
        if self.session["stage"] == Stage.CONFIRM and pending:
            self.say(pending["confirm"], **pending["params"])
            return
        if pending and pending.get("ask"):
            self.say(pending["ask"])
            return
        question = self.question
        recheck = self.flow.check(self.session.get("recheck"))
        if recheck and recheck.ask == question.id:
            self.say(recheck.say)
        else:
            self.say_text(question.ask)
        for number, choice in enumerate(question.choices, start=1):
            self.pieces.append(f"{number} {self.content.text(self.lang, choice.label)}")

    # -- starting, stopping, moving -----------------------------------------------------------
    def _first_contact(self, text: str, lang: str | None) -> None:
        """A new conversation. A campaign keyword at the start ("FERIA", "SJSU हिंदी")
        attributes it and may name the language; the rest of the message still counts."""
        languages = self.content.languages
        keyed = self.content.campaigns.keyword_at_start(text, san_jose_date(self.now))
        campaign, rest = keyed if keyed else (None, text)
        chosen = lang or (detect(rest, self.flow, languages) if rest else None) \
            or (campaign.lang if campaign and campaign.lang in languages else None)
        if chosen is None and len(languages) == 1:
            chosen = languages[0]
        self.session = new_session(self.content, self.now, chosen or "en")
        if campaign:
            self.session["campaign"] = campaign.id
        if command_in(self.content, text) == "stop":
            self._opt_out()
            return
        urgent = self.content.urgent_need(text)
        if urgent is None and opts_out(self.content, text):  # "please stop texting me"
            self._opt_out()
            return
        self.events.append(Event("started", {"lang": chosen,
                                             "campaign": self.session.get("campaign")}))
        self._follow_up_later("nudge", session=self.now)
        if urgent:
            self.session["stage"] = Stage.WELCOME
            self._on_urgent(*urgent)
            return
        if chosen is None:
            self.session.update(stage=Stage.LANGUAGE, resume=None)
            self._show_language_menu()
            return
        self._welcome()

    def _welcome(self) -> None:
        campaign = self._campaign()
        if campaign and campaign.greeting:
            self.say_text(campaign.greeting)
        self.say("welcome")
        self.ask()

    def _campaign(self) -> Campaign | None:
        return self.content.campaigns.get(self.session.get("campaign"))

    def _follow_up_later(self, kind: str, **data: Any) -> bool:
        """Queue a follow-up (worker/checkins.py) unless it is off, for everyone
        (flows/screener.yaml) or for this conversation's campaign. Whether it was queued."""
        delay = self.flow.settings.follow_ups.delay(kind)
        campaign = self._campaign()
        if delay is None or (campaign and not campaign.sends(kind)):
            return False
        self.jobs.append(Job("follow_up", {"kind": kind, "after": delay, "lang": self.lang,
                                           "campaign": self.session.get("campaign"), **data}))
        return True

    def _on_keyword(self, campaign: Campaign) -> None:
        """A campaign's keyword in the middle of a conversation: attributed, nothing lost."""
        if not self.session.get("campaign"):
            self.session["campaign"] = campaign.id
            self.events.append(Event("campaign_joined", {"campaign": campaign.id}))
        self.say("keyword_noted")
        self._repeat()

    def _show_language_menu(self) -> None:
        self.say("language_menu")
        for number, code in enumerate(self.content.languages, start=1):
            self.pieces.append(f"{number} {self.flow.languages[code].name}")

    def _on_language_choice(self, text: str) -> None:
        languages = self.content.languages
        answer = bare(text).lstrip("#").rstrip(".")
        number = ascii_digits(answer)
        chosen = (
            languages[int(number) - 1] if number.isdigit() and 1 <= int(number) <= len(languages)
            else detect(text, self.flow, languages)
            or next((c for c in languages if bare(self.flow.languages[c].name) == answer), None)
        )
        if chosen is None:
            self._show_language_menu()
            return
        self.session["lang"] = chosen
        self.events.append(Event("language", {"lang": chosen}))
        resume = self.session.pop("resume", None)
        if resume is None:
            self.session["stage"] = Stage.ASKING
            self._welcome()
            return
        self.session["stage"] = resume
        self.ask()

    def _opt_out(self) -> None:
        self.events.append(Event("command", {"command": "stop"}))
        self._on_stop()

    def _on_stop(self) -> None:
        self.say("stopped")
        self.session = None
        self.events.append(Event("opted_out"))

    def _on_start(self) -> None:
        self._new_conversation("opted_in", "started")

    def _on_restart(self) -> None:
        self._new_conversation("restarted", "restarted")

    def _new_conversation(self, event: str, message: str) -> None:
        """START or RESTART: a fresh screening, in the same language and campaign."""
        campaign = self.session.get("campaign")
        self.session = new_session(self.content, self.now, self.lang)
        if campaign:
            self.session["campaign"] = campaign
        self.events.append(Event(event))
        self._follow_up_later("nudge", session=self.now)
        self.say(message)
        self.ask()

    def _on_help(self) -> None:
        follow_up = self.session.get("follow_up") or {}
        if self.session["stage"] == Stage.FOLLOW_UP and follow_up.get("kind") == "applied":
            self._on_follow_up_reply("3")  # "3 I need help", typed as HELP
            return
        if self.session["stage"] == Stage.ASKING and self.question.help:
            self.say_text(self.question.help)
        self.say("help")
        self.session["helped"] = True  # no "Stuck? Reply HELP." right after the help
        self._repeat()

    def _on_back(self) -> None:
        trail = self.session["trail"]
        if not trail:
            self.say("back_at_start")
            self._repeat()
            return
        last = trail.pop()
        self.session.pop("pending", None)
        self.session.pop("outside", None)
        recheck = self.flow.check(self.session.pop("recheck", None))
        if recheck:  # its contradiction may come back with the answer changed now
            self.session["rechecked"].remove(recheck.id)
        for answer_id in last["set"]:
            self.session["answers"].pop(answer_id, None)
        self.session.update(stage=Stage.ASKING, question=last["id"], misses=0, programs=[], page=0)
        self.ask()

    def _on_language(self) -> None:
        if len(self.content.languages) == 1:
            self.say("language_only_english")
            self._repeat()
            return
        if self.session["stage"] not in (Stage.LANGUAGE, Stage.URGENT):
            self.session["resume"] = self.session["stage"]
        self.session["stage"] = Stage.LANGUAGE
        self._show_language_menu()

    def _on_skip(self) -> None:
        if self.session["stage"] != Stage.ASKING:
            self._repeat()
            return
        if not self.question.optional:
            self.say("not_optional")
            self.ask()
            return
        self._record(None, Reading(None))

    def _on_more(self) -> None:
        if self.session["stage"] != Stage.RESULTS:
            self._repeat()
            return
        pages = results.paginate(self.content, self.lang, self._programs())
        if self.session["page"] + 1 >= len(pages):
            self.say("results_no_more")
            self._repeat()
            return
        self.session["page"] += 1
        self._show_page()

    def _on_remind(self) -> None:
        """A reminder to apply, some days from now (the worker sends it, never at night)."""
        if self.session["stage"] != Stage.RESULTS or not self.session["programs"]:
            self.say("remind_not_yet")
            self._repeat()
            return
        days = self.flow.settings.reminder_days
        if not self.session.get("reminder_set"):  # a second REMIND must not text twice
            self.jobs.append(Job("reminder", {"programs": list(self.session["programs"]),
                                              "lang": self.lang, "days": days}))
            self.events.append(Event("reminder_set"))
            self.session["reminder_set"] = True
        self.say("remind_set", days=days)

    def _on_person(self) -> None:
        """A person: ask consent to share the answers with a city navigator first."""
        if self.session["stage"] != Stage.CONSENT:
            self.session["before_handoff"] = self.session["stage"]
        self.session["stage"] = Stage.CONSENT
        self.say("handoff_consent")

    def resume_after_navigator(self) -> None:
        self.session.pop("case", None)
        self.events.append(Event("handoff_closed"))
        self.say("handoff_closed")
        self._resume(self.session.pop("before_handoff", None))

    def _resume(self, before: str | None) -> None:
        """Back where the resident was before asking for a person, and still sound if staff
        changed the flow meanwhile (the question gone): else their results, else the first
        question still open."""
        asking = self.flow.question(self.session.get("question") or "") is not None
        if (before in (Stage.ASKING, Stage.CONFIRM) and asking) \
                or before in (Stage.LANGUAGE, Stage.IDLE_OFFER, Stage.URGENT):
            self.session["stage"] = before
        elif self.session["programs"] or self.session.get("results_at") is not None:
            self.session["stage"] = Stage.RESULTS
        else:
            self.session.pop("pending", None)
            self._go_to(self._next_open(self.flow.first.id))
            return
        self._repeat()

    def _on_consent(self, text: str) -> None:
        says = reader_for("yes_no")(self.flow.first, text, self._context())
        agrees = says.value if says.understood else asks_for_person(self.content, text) or None
        if agrees is None:  # "yes I want to talk to someone" asks for the person: a yes
            self.say("retry_yes_no")
            return
        if not agrees:
            self.events.append(Event("handoff_declined"))
            self.say("handoff_declined")
            self._resume(self.session.pop("before_handoff", None))
            return
        staffed = self.content.handoff.hours.staffed(self.now)
        self.session["stage"] = Stage.WITH_NAVIGATOR
        self.events.append(Event("handoff", {"staffed": staffed}))
        self.say("handoff_opened" if staffed else "handoff_after_hours")

    def _on_go(self) -> None:
        """GO, the answer to the nudge: straight back to the open question."""
        if self.session["stage"] == Stage.IDLE_OFFER:
            self.session["stage"] = Stage.ASKING
        self._repeat()

    def _on_idle_choice(self, text: str) -> None:
        choice = ascii_digits(bare(text))
        if choice == "1":
            self.session["stage"] = Stage.ASKING
            self.ask()
        elif choice == "2":
            self._on_restart()
        else:
            self.say("idle_choice_retry")

    # -- help today ---------------------------------------------------------------------------
    def _on_urgent(self, need: Need, lang: str) -> None:
        """Stop the questions: send the right numbers now, then offer to go back."""
        if self.session["stage"] in (Stage.WELCOME, Stage.LANGUAGE) and not self.session["trail"]:
            self.session["lang"] = lang if lang in self.content.languages else self.lang
        self.events.append(Event("urgent", {"need": need.id}))
        if self.session["stage"] != Stage.URGENT:  # the language menu keeps its own `resume`
            self.session["after_urgent"] = self.session["stage"]
        self.session["stage"] = Stage.URGENT
        self.say_text(need.reply)
        self.pieces += results.service_lines(self.content, self.lang, need, self.session["answers"])
        self.say_text(self.content.urgent.resume)

    def _on_after_urgent(self, text: str) -> None:
        resume = self.session.pop("after_urgent", Stage.ASKING)
        if resume == Stage.WELCOME:
            self.session["stage"] = Stage.ASKING
            self._welcome()
            return
        self.session["stage"] = resume
        if ascii_digits(bare(text)) == "1" and resume != Stage.WITH_NAVIGATOR:
            self._repeat()  # whatever they were at: a question, results, a follow-up
        else:
            self._dispatch(text)

    # -- answering ----------------------------------------------------------------------------
    def _on_answer(self, text: str) -> None:
        question = self.question
        reading = reader_for(question.type)(question, text, self._context())
        if reading.unsure:
            self._not_sure(question)
        elif reading.pending:
            self.session["pending"] = {"ask": reading.retry, **reading.pending}
            self.events.append(Event("follow_up", {"question": question.id}))
            self.say(reading.retry)
        elif not reading.understood:
            self._misunderstood(question, reading)
        elif reading.confirm:
            self.session.update(stage=Stage.CONFIRM, pending={
                "value": reading.value, "confirm": reading.confirm,
                "params": dict(reading.note_params)})
            self.say(reading.confirm, **reading.note_params)
        else:
            self._record(reading.value, reading)

    def _context(self) -> Context:
        pending = self.session.get("pending") or {}
        return Context.of(self.flow, self.lang, lambda msgid: self.content.text(self.lang, msgid),
                          pending if pending.get("ask") else None)

    def _not_sure(self, question: Question) -> None:
        """ "I don't know" is not a miss: a guess is fine, or SKIP where it is allowed."""
        self.events.append(Event("unsure", {"question": question.id}))
        self.session.pop("pending", None)
        self.say("unsure_skip" if question.optional else "unsure_guess")
        self.ask()

    def _on_confirm(self, text: str) -> None:
        """After "Just to check: $12 a month?": yes keeps it; a reply with a number is a
        new answer ("no, 5000"); a plain "no" asks the question again."""
        pending = self.session.pop("pending")
        self.session["stage"] = Stage.ASKING
        if any(char.isdigit() for char in text):  # "no, 5000": a corrected amount
            self._on_answer(text)
            return
        says = reader_for("yes_no")(self.question, text, self._context())
        if says.understood and says.value is True:
            self._record(pending["value"], Reading(pending["value"]))
        elif says.understood:
            self.events.append(Event("read_back_refused", {"question": self.question.id}))
            self.ask()
        else:
            self._on_answer(text)

    def _misunderstood(self, question: Question, reading: Reading) -> None:
        self.session["misses"] += 1
        self.session.pop("pending", None)
        self.events.append(Event("misunderstood", {"question": question.id}))
        if question.retry and reading.retry == DEFAULT_RETRY[question.type]:
            self.say_text(question.retry)
        else:
            self.say(reading.retry or DEFAULT_RETRY[question.type], **reading.retry_params)
        if self.session["misses"] >= self.flow.settings.misses_before_help \
                and not self.session.get("helped"):
            self.say("offer_help")

    def _record(self, value: Any, reading: Reading) -> None:
        question = self.question
        answers = self.session["answers"]
        answers[question.id] = value
        written = [question.id]
        choice = next((c for c in question.choices if c.value == value), None)
        if choice:
            answers.update(choice.sets)
            written.extend(choice.sets)
        self.session["trail"].append({"id": question.id, "set": written})
        self.session["misses"] = 0
        self.session.pop("pending", None)
        self.session.pop("helped", None)
        self.events.append(Event("answered", {"question": question.id}))
        self.session.pop("recheck", None)
        if question.type == "zip" and in_california(value) is False:
            self._outside_california()
            return
        if reading.note:
            self.say(reading.note, **reading.note_params)
        recheck = self._contradiction()
        if recheck:
            self._ask_again(recheck)
            return
        self._go_to(self._next_open(self.flow.target_after(question, self._facts())))

    def _contradiction(self) -> Check | None:
        """The first check (flows/screener.yaml `checks:`) not yet asked whose answers
        contradict each other."""
        done = self.session.get("rechecked", [])
        facts = self._facts()
        return next((c for c in self.flow.checks if c.id not in done
                     and c.ask in self.session["answers"] and c.condition.holds(facts)), None)

    def _ask_again(self, recheck: Check) -> None:
        """Kindly ask the question once more; the old answer stands until the new one."""
        self.session.setdefault("rechecked", []).append(recheck.id)
        self.session.update(stage=Stage.ASKING, question=recheck.ask, recheck=recheck.id)
        self.events.append(Event("recheck", {"check": recheck.id}))
        self.ask()

    def _outside_california(self) -> None:
        """These are California programs: say where to look instead and end here, kindly.
        BACK (a mistyped ZIP) or RESTART go on from there."""
        self.session.update(stage=Stage.RESULTS, question=None, programs=[], page=0, outside=True)
        self.events.append(Event("outside_area"))
        self._show_page()

    def _next_open(self, target: str) -> str:
        """The first question from `target` on that applies, is not answered yet and can
        still change the results (bot/relevance.py)."""
        facts = self._facts()
        answers = self.session["answers"]
        relevance = self.content.relevance
        still_open = relevance.open_answers(answers, on=san_jose_date(self.now))
        seen: set[str] = set()
        while target != RESULTS and target not in seen:
            seen.add(target)
            question = self.flow.question(target)
            if question is None:
                return RESULTS
            if (question.id not in answers and applies(question, facts)
                    and relevance.matters(question, answers, still_open)):
                return target
            target = self.flow.target_after(question, facts)
        return RESULTS

    def _go_to(self, target: str) -> None:
        if target == RESULTS:
            self._finish_screening()
            return
        self.session.update(stage=Stage.ASKING, question=target)
        self.ask()

    # -- results ------------------------------------------------------------------------------
    def _programs(self) -> list[Any]:
        """The programs on the results pages (a program staff removed is left out)."""
        known = {program.id for program in self.content.rules.programs}
        return [self.content.rules.program(pid) for pid in self.session["programs"]
                if pid in known]

    def _match(self) -> list[Any]:
        """Match the answers against the rules; keep the programs, from the first page."""
        matched = self.content.rules.match(self.session["answers"], on=san_jose_date(self.now))
        self.session.update(programs=[p.id for p in matched], page=0)
        return matched

    def _finish_screening(self) -> None:
        matched = self._match()
        self.session.update(stage=Stage.RESULTS, question=None, results_at=self.now)
        minutes = int((self.now - self.session.get("created", self.now)) // 60)
        self.events.append(Event("results", {"programs": [p.id for p in matched],
                                             "minutes": minutes}))
        if matched:
            self.jobs.append(Job("estimate", {"answers": dict(self.session["answers"]),
                                              "programs": [p.id for p in matched],
                                              "lang": self.lang}))
            self._follow_up_later("applied", programs=[p.id for p in matched[:2]],
                                  results_at=self.now)
        self._show_page()

    def _show_page(self) -> None:
        if self.session.get("outside"):
            self.say("outside_california")
            return
        self.pieces.append(
            results.render_page(self.content, self.lang, self._programs(), self.session["page"])
        )

    def _on_follow_up_reply(self, text: str) -> None:
        """The answer to "Did you apply?" or "Were you approved?": 1, 2 or 3 (or yes/no)."""
        follow_up = self.session["follow_up"]
        kind = follow_up["kind"]
        answer = read_follow_up(kind, text, self._context(), self.content.command_words("help"))
        if answer is None:
            self.say("follow_up_retry")
            return
        self.events.append(Event("follow_up_answer", {"kind": kind, "answer": answer}))
        self.session.pop("follow_up")
        self.session.update(stage=Stage.RESULTS,
                            programs=self.session["programs"] or follow_up["programs"], page=0)
        self.say(FOLLOW_UP_REPLIES[answer])
        if answer == "applied" and self._follow_up_later("approved",
                                                         programs=follow_up["programs"]):
            self.say("check_in_later")
        if answer == "need_help":
            self.session["help_wanted"] = True  # for a person to pick up (the staff console)
        if answer in ("not_yet", "need_help"):
            programs = self._programs()
            if programs:
                self.pieces.append(results.render_details(self.content, self.lang, programs[0]))
        if answer == "need_help":
            self.say("offer_person")

    def _on_results_reply(self, text: str) -> None:
        programs = self._programs()
        number = ascii_digits(bare(text))
        if number.isdigit() and 1 <= int(number) <= len(programs):
            program = programs[int(number) - 1]
            self.events.append(Event("details", {"program": program.id}))
            self.pieces.append(results.render_details(self.content, self.lang, program))
            return
        self._repeat()

    # -- flow edits under a live session ------------------------------------------------------
    def _migrate(self) -> bool:
        """Keep a conversation going after staff changed the flow: never leave it stuck.

        Returns True when the resident is moved to another question (which must be asked,
        with a short note, before any answer is read). Says nothing itself: an urgent need
        in the same message is answered first."""
        session = self.session
        known = self.flow.answer_ids
        session["answers"] = {k: v for k, v in session["answers"].items() if k in known}
        session["trail"] = [t for t in session["trail"] if self.flow.question(t["id"])]
        session["flow"] = self.content.fingerprint
        self.events.append(Event("flow_changed"))
        if session["stage"] in (Stage.RESULTS, *AWAY_FROM_QUESTIONS):
            at_results = session["stage"] == Stage.RESULTS or session.get("results_at")
            if at_results and not session.get("outside"):
                self._match()
            return False  # a follow-up, a consent or a case: the resident stays there
        current = self.flow.question(session.get("question") or "")
        if current and applies(current, self._facts()):
            return False
        session.pop("pending", None)
        session.pop("recheck", None)
        target = self._next_open(self.flow.first.id)
        if target == RESULTS:
            self._match()
            session.update(stage=Stage.RESULTS, question=None)
        else:
            session.update(stage=Stage.ASKING, question=target)
        return True

