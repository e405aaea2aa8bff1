"""Outreach: campaign keywords start and attribute conversations, and the follow-ups that close
the loop (a nudge, "Did you apply?", "Were you approved?") go out at the right times, once
each, in the resident's language, never after STOP and never at night; the answers move the
campaign's counts.

The clock is the test's: the web app reads `CLOCK`, the worker `outbound.clock`. A follow-up
scheduled for a time the test's clock has reached is made due and run by a real RQ worker
(burst) on fakeredis; texts land in the local outbox.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from phone import Phone, make_app
from rq.job import Job
from worker_kit import make_due, run_worker

from bot import outbox, outreach
from bot.cli import main
from bot.content import load_content
from bot.flow import RESULTS
from bot.store import Store
from worker import followups, outbound
from worker.queues import OUTBOUND, queue

pytest_plugins = ["redis_server", "worker_fixtures"]
CITY = ZoneInfo("America/Los_Angeles")
HOUR, DAY = 3600, 86400
NUMBER_DIGITS = "4085550"
CAMPAIGN_WORDS = [(c.id, keyword, c.lang) for c in load_content().campaigns.campaigns
                  for keyword in c.keywords]


def city_time(*args: int) -> float:
    return datetime(*args, tzinfo=CITY).timestamp()


class Line:
    """The text line with a clock the test moves: residents' phones, and the worker."""

    def __init__(self, redis, content, monkeypatch, start: float, **config):
        self.redis, self.content, self.now = redis, content, start
        monkeypatch.setattr(outbound, "clock", lambda: self.now)
        monkeypatch.setattr(followups, "content", lambda: content)
        self.app = make_app(redis, content, CLOCK=lambda: self.now,
                            **({"QUIET_HOURS": "off"} | config))

    def phone(self, number: str = "+14085550123", channel: str = "sms") -> Phone:
        return Phone(self.app, number=number, channel=channel)

    def scheduled(self) -> dict[str, float]:
        """Follow-up job id -> when it is due (epoch seconds), of jobs still waiting."""
        registry = queue(OUTBOUND, self.redis).scheduled_job_registry
        return {job_id: registry.get_scheduled_time(Job.fetch(job_id, connection=self.redis))
                .timestamp() for job_id in registry.get_job_ids()}

    def wait(self, seconds: float) -> list[dict]:
        """Move the clock on; run every job due by then; the texts sent meanwhile."""
        before = len(outbox.read())
        self.now += seconds
        registry = queue(OUTBOUND, self.redis).scheduled_job_registry
        for job_id, due in self.scheduled().items():
            if due <= self.now:
                registry.schedule(Job.fetch(job_id, connection=self.redis),
                                  datetime.now(UTC).replace(year=2000))
        run_worker(self.redis, OUTBOUND)
        return outbox.read()[before:]

    def counts(self, **where: str) -> dict[str, int]:
        return outreach.totals(outreach.read(self.redis), **where)


@pytest.fixture
def line(fake_redis, content, worker_env, monkeypatch) -> Line:
    return Line(fake_redis, content, monkeypatch, city_time(2026, 12, 7, 12, 0))


def flat(*texts: str) -> str:
    """Texts as one line: replies are split into SMS-sized messages at spaces."""
    return " ".join(" ".join(texts).split())


def answer_some(phone: Phone, count: int) -> None:
    for _ in range(count):
        phone.answer_current_question()


def finish(phone: Phone) -> None:
    for _ in range(40):
        if phone.session["stage"] == RESULTS:
            return
        phone.answer_current_question()
    raise AssertionError(phone.session)


# -- keywords ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("campaign", "keyword", "lang"), CAMPAIGN_WORDS)
def test_each_campaign_keyword_starts_the_screening_in_its_language_and_is_attributed(
        line, content, campaign, keyword, lang):
    phone = line.phone()
    said = phone.text(keyword.lower() if keyword.isascii() else keyword)
    session = phone.session
    assert session["campaign"] == campaign
    greeting = content.campaigns.get(campaign).greeting
    if lang:
        assert session["lang"] == lang and session["stage"] == "asking"
        assert said[0].startswith(content.text(lang, greeting))
        assert flat(content.message(lang, "welcome")) in flat(*said)
    else:  # no language implied: the menu, then the greeting in the language chosen
        assert session["stage"] == "language"
        said = phone.text("2")
        assert said[0].startswith(content.text("es", greeting))
    assert line.counts(campaign=campaign) == {"started": 1}


def test_a_keyword_and_a_language_name_start_that_campaign_in_that_language(line, content):
    phone = line.phone()
    phone.text("SJSU हिंदी")  # what the Hindi SJSU flyer's QR code types in
    assert (phone.session["campaign"], phone.session["lang"]) == ("sjsu_spring_2027", "hi")


def test_a_keyword_with_more_words_still_starts_the_campaign(line):
    phone = line.phone()
    phone.text("Feria hola buenas")
    assert (phone.session["campaign"], phone.session["lang"]) == ("feria_salud_2027", "es")


def test_a_keyword_mid_screening_is_attributed_and_loses_nothing(line, content):
    phone = line.phone()
    phone.text("hello")
    answer_some(phone, 3)
    before = phone.session
    said = phone.text("FERIA")
    after = phone.session
    assert after["campaign"] == "feria_salud_2027"
    assert after["answers"] == before["answers"] and after["question"] == before["question"]
    question = content.flow.question(after["question"])
    assert said[0].startswith(content.message("en", "keyword_noted"))
    assert flat(content.text("en", question.ask)) in flat(*said)
    finish(phone)
    assert line.counts(campaign="feria_salud_2027") == {
        "joined": 1, "finished": 1, "matched": 1}
    assert line.counts(campaign="none") == {"started": 1}


def test_a_keyword_after_its_campaign_ended_starts_an_ordinary_screening(
        fake_redis, content, worker_env, monkeypatch):
    ended = Line(fake_redis, content, monkeypatch, city_time(2027, 3, 1, 12, 0))
    phone = ended.phone()
    phone.text("FERIA")  # the fair ended on 28 February
    assert "campaign" not in phone.session
    assert ended.counts(campaign="feria_salud_2027") == {}


# -- the nudge --------------------------------------------------------------------------------

def test_an_unfinished_screening_gets_one_nudge_the_next_day_in_its_language(line, content):
    phone = line.phone()
    phone.text("FERIA")
    answer_some(phone, 2)
    assert line.wait(21 * HOUR) == []
    [nudge] = line.wait(1 * HOUR)
    assert nudge["to"] == phone.address and nudge["body"] == content.message("es", "nudge")
    assert line.wait(3 * DAY) == []  # once
    question = content.flow.question(phone.session["question"])
    said = phone.text("seguir")  # "Reply SEGUIR", in Spanish
    assert flat(content.text("es", question.ask)) in flat(*said)
    assert line.counts(campaign="feria_salud_2027") == {
        "started": 1, "nudged": 1, "returned": 1}
    sent = {k.decode(): int(v) for name in line.redis.scan_iter("sj:sent:*")
            for k, v in line.redis.hgetall(name).items()}
    assert sent == {"nudge": 1}  # texts the worker handed on, by kind (the dashboard's)


def test_the_nudge_waits_a_day_after_the_last_message_not_the_first(line):
    phone = line.phone()
    phone.text("hello")
    assert line.wait(10 * HOUR) == []
    answer_some(phone, 1)  # still going at hour 10
    assert line.wait(12 * HOUR) == []  # hour 22: too soon after the last message
    assert line.wait(8 * HOUR) == []
    [nudge] = line.wait(2 * HOUR)  # hour 32: a day (22 hours) after it
    assert nudge["to"] == phone.address


def test_a_finished_screening_is_never_nudged(line):
    phone = line.phone()
    phone.text("hello")
    finish(phone)
    assert line.wait(1 * DAY) == []
    assert "nudged" not in line.counts()


# -- did you apply, were you approved ---------------------------------------------------------

def test_did_you_apply_a_week_after_results_then_were_you_approved_a_month_later(line, content):
    phone = line.phone()
    phone.text("hello")
    finish(phone)
    top = phone.session["programs"][:2]
    assert line.wait(6 * DAY) == []
    [asked] = line.wait(1 * DAY)
    names = ", ".join(content.text("en", content.rules.program(p).name) for p in top)
    assert asked["body"] == content.message("en", "ask_applied", programs=names)
    said = phone.text("1")
    assert said[0] == "\n".join([content.message("en", "applied_yes"),
                                 content.message("en", "check_in_later")])
    assert line.wait(27 * DAY) == []
    [approved] = line.wait(1 * DAY)
    assert approved["body"] == content.message("en", "ask_approved", programs=names)
    said = phone.text("2")
    assert said[0] == content.message("en", "approved_no")
    assert phone.session["stage"] == RESULTS
    assert line.wait(60 * DAY) == []  # each asked once
    assert line.counts() == {"started": 1, "finished": 1, "matched": 1, "asked_applied": 1,
                             "applied": 1, "asked_approved": 1, "denied": 1}


@pytest.mark.parametrize("reply", ["3", "HELP"])
def test_i_need_help_gets_the_county_line_and_how_to_apply(line, content, reply):
    phone = line.phone()
    phone.text("hello")
    finish(phone)
    line.wait(7 * DAY)
    said = phone.text(reply)
    first = content.rules.program(phone.session["programs"][0])
    assert said[0].startswith(content.message("en", "applied_need_help"))
    assert flat(content.text("en", first.apply)) in flat(*said)
    assert phone.session["help_wanted"] is True
    assert line.counts()["need_help"] == 1
    assert line.wait(60 * DAY) == []  # no "were you approved?" without "I applied"


def test_an_unclear_reply_to_did_you_apply_is_asked_again_and_counts_nothing(line, content):
    phone = line.phone()
    phone.text("hello")
    finish(phone)
    line.wait(7 * DAY)
    assert phone.text("what") == [content.message("en", "follow_up_retry")]
    assert phone.text("yes")[0].startswith(content.message("en", "applied_yes"))


def test_a_resident_who_screened_again_is_not_asked_about_the_old_results(line):
    phone = line.phone()
    phone.text("hello")
    finish(phone)
    line.wait(3 * DAY)
    phone.text("RESTART")
    answer_some(phone, 2)
    sent = line.wait(4 * DAY)
    assert [m["body"] for m in sent if "apply" in m["body"]] == []


# -- STOP, quiet hours, WhatsApp, switches ----------------------------------------------------

def test_stop_cancels_every_follow_up(line):
    phone = line.phone()
    phone.text("hello")
    finish(phone)
    assert line.scheduled()
    phone.text("STOP")
    assert line.scheduled() == {}
    assert line.wait(60 * DAY) == []


def test_a_follow_up_that_runs_after_stop_sends_nothing(line):
    phone = line.phone()
    phone.text("hello")
    finish(phone)
    line.redis.set(f"sj:{{{phone.contact}}}:optout", '{"at": 0, "lang": "en"}')  # by Twilio
    assert line.wait(60 * DAY) == []


def test_a_stop_that_lands_just_before_a_follow_up_takes_the_lock_wins(line, monkeypatch):
    phone = line.phone()
    phone.text("hello")
    finish(phone)
    line.wait(7 * DAY)
    phone.text("1")  # applied: "were you approved?" is scheduled for later
    assert any(job.startswith("approved-") for job in line.scheduled())
    # A STOP's writes, landing after the job checked the opt-out but before it took the lock
    # (so the job is already running: STOP could not cancel it).
    line.redis.set(f"sj:{{{phone.contact}}}:optout", '{"at": 0, "lang": "en"}')
    line.redis.delete(f"sj:{{{phone.contact}}}:session")
    monkeypatch.setattr(Store, "opt_out_record", lambda self, contact: None)  # the early check
    assert line.wait(60 * DAY) == []
    assert phone.session is None  # no session made again for a contact who opted out


def test_follow_ups_never_go_out_at_night(fake_redis, content, worker_env, monkeypatch):
    monkeypatch.setenv("QUIET_HOURS", "21:00-08:00")
    night = Line(fake_redis, content, monkeypatch, city_time(2026, 12, 7, 22, 30),
                 QUIET_HOURS="21:00-08:00")
    phone = night.phone()
    phone.text("hello")
    finish(phone)  # at 22:30: "did you apply?" is due a week later, at night
    [applied_at] = [at for job, at in night.scheduled().items() if job.startswith("applied")]
    assert datetime.fromtimestamp(applied_at, CITY) == datetime(2026, 12, 15, 8, tzinfo=CITY)
    night.now = city_time(2026, 12, 14, 23, 0)  # a worker that runs it early, at night
    make_due(fake_redis, OUTBOUND)
    run_worker(fake_redis, OUTBOUND)
    assert outbox.read() == [] and phone.session["stage"] == RESULTS
    [asked] = night.wait(9 * HOUR)  # 08:00
    assert asked["body"].startswith(content.message("en", "ask_applied").split("{")[0])


def test_on_whatsapp_outside_the_window_without_a_template_nothing_is_asked(line):
    phone = line.phone(channel="whatsapp")
    phone.text("hello")
    finish(phone)
    assert line.wait(7 * DAY) == []
    assert phone.session["stage"] == RESULTS  # not left waiting for an answer
    assert "asked_applied" not in line.counts()


def test_a_campaign_can_turn_a_follow_up_off(line):
    phone = line.phone()
    phone.text("SJSU")  # approved: false
    phone.text("1")
    finish(phone)
    line.wait(7 * DAY)
    said = phone.text("1")
    assert said == [line.content.message("en", "applied_yes")]  # no "we'll check in"
    assert line.wait(60 * DAY) == []


# -- screener report --------------------------------------------------------------------------

@pytest.mark.redis_server
def test_screener_report_after_scripted_conversations_shows_the_exact_counts(
        real_redis, redis_server, content, worker_env, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    line = Line(real_redis, content, monkeypatch, city_time(2026, 12, 7, 12, 0))
    fair, nudged, student, stops, joins, mela = (line.phone(f"+1408555{n:04d}")
                                                 for n in range(6))
    fair.text("FERIA")
    finish(fair)
    nudged.text("FERIA")
    answer_some(nudged, 2)
    student.text("SJSU")
    student.text("1")  # English, from the menu
    finish(student)
    stops.text("hello")
    answer_some(stops, 1)
    stops.text("STOP")
    joins.text("hola")
    answer_some(joins, 2)
    joins.text("FERIA")  # attributed mid-screening
    finish(joins)
    mela.text("मेला")
    mela.text("STOP")

    assert len(line.wait(22 * HOUR)) == 1  # the one unfinished screening is nudged
    nudged.text("seguir")
    finish(nudged)
    assert len(line.wait(7 * DAY - 22 * HOUR)) == 3  # did you apply? (fair, student, joins)
    fair.text("1")
    student.text("3")
    assert len(line.wait(22 * HOUR)) == 1  # did you apply? (nudged, who finished later)
    nudged.text("2")
    assert len(line.wait(28 * DAY)) == 1  # were you approved? (fair)
    fair.text("1")

    assert main(["report", "--campaign", "feria_salud_2027"]) == 0
    shown = capsys.readouterr().out.split("\n\n")[0].splitlines()
    assert [row.split() for row in shown] == [
        ["campaign", "started", "joined", "finished", "matched", "nudged", "returned",
         "asked_applied", "applied", "not_yet", "asked_approved", "approved"],
        ["feria_salud_2027", "2", "1", "3", "3", "1", "1", "3", "1", "1", "1", "1"]]
    assert main(["report", "--json"]) == 0
    rows = [json.loads(row) for row in capsys.readouterr().out.splitlines()]
    by_campaign: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = by_campaign.setdefault(row["campaign"], {})
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + row["count"]
    assert by_campaign["sjsu_spring_2027"] == {"started": 1, "finished": 1, "matched": 1,
                                               "asked_applied": 1, "need_help": 1}
    assert by_campaign["none"] == {"started": 2, "opted_out": 1}
    assert by_campaign["mela_2027"] == {"started": 1, "opted_out": 1}
    assert {row["lang"] for row in rows if row["campaign"] == "mela_2027"} == {"hi"}
    assert all(NUMBER_DIGITS not in json.dumps(row) for row in rows)


def test_screener_report_refuses_an_unknown_campaign_in_one_sentence(capsys):
    assert main(["report", "--campaign", "feriaa"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "no campaign 'feriaa'" in err and "feria_salud_2027" in err
