"""The engine's jobs, done by the worker: one dollar-estimate follow-up per screening (the
households waiting estimated together), reminders days later, and `screener jobs` for staff.

The PolicyEngine model is replaced by a stand-in here (its own tests are test_estimates.py);
the real model runs in test_worker_integration.py.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from phone import NUMBER, SECRET, Phone, make_app
from rq.exceptions import NoSuchJobError
from rq.job import Job
from worker_kit import CREATED, make_due, outcomes, recipient, refused, run_worker, submit

from bot import outbox
from bot.cli import main
from bot.results import render_estimates, render_reminder
from bot.sealing import open_sealed
from worker import followups, outbound
from worker.callbacks import FAILURES
from worker.estimates import Disagreement, Estimate, Estimates
from worker.followups import DISAGREEMENTS, PENDING
from worker.outbound import Recipient
from worker.queues import ESTIMATES, OUTBOUND, queue

pytest_plugins = ["redis_server", "worker_fixtures"]
CITY = ZoneInfo("America/Los_Angeles")
TEMPLATE = "HX" + "1" * 32
CALFRESH = Estimate("calfresh", True, 229, "month", "at_least")
MEDI_CAL = Estimate("medi_cal", True, None, "year")  # coverage: no amount to state
DRIFT = (Disagreement("wic", "eligible_not_shown"),)


@pytest.fixture
def redis(fake_redis):
    return fake_redis


@pytest.fixture
def app(redis, content, worker_env):
    # The web side's quiet hours come from its config (worker/port.py), the worker's from
    # worker_env: off on both sides, so nothing waits for the morning whatever the time.
    return make_app(redis, content, QUIET_HOURS="off")


class Model:
    """Stands in for PolicyEngine: records each batch, answers `agreed` for everyone."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.agreed: tuple[Estimate, ...] = (CALFRESH, MEDI_CAL)

    def estimate_batch(self, items, today=None, estimator=None):
        self.batches.append([item.id for item in items])
        return {item.id: Estimates({}, self.agreed, DRIFT) for item in items}


@pytest.fixture
def model(monkeypatch, content) -> Model:
    model = Model()
    monkeypatch.setattr(followups, "estimate_batch", model.estimate_batch)
    monkeypatch.setattr(followups, "content", lambda: content)
    return model


def phones(app, count: int) -> list[Phone]:
    return [Phone(app, number=f"+1408555{n:04d}") for n in range(count)]


def calfresh_text(content, lang: str) -> str:
    return render_estimates(content, lang, [("calfresh", 229, "month", "at_least")])


def city_time(*args: int) -> float:
    return datetime(*args, tzinfo=CITY).timestamp()


# -- dollar estimates -------------------------------------------------------------------------

def test_results_put_the_household_in_line_sealed_and_one_drain_job_serves_everyone(app, redis):
    first, second = phones(app, 2)
    for phone in (first, second):
        phone.screen_to_results()
    assert redis.lrange(PENDING, 0, -1) == [first.contact.encode(), second.contact.encode()]
    waiting = json.loads(redis.get(f"sj:{{{first.contact}}}:estimate"))
    assert NUMBER[2:] not in json.dumps(waiting)
    assert open_sealed(SECRET, waiting["sealed"]) == first.address
    assert waiting["programs"] == first.session["programs"] and waiting["lang"] == "en"
    assert waiting["answers"]["age"] == 22
    assert queue(ESTIMATES, redis).count == 1


def test_one_batch_estimates_every_waiting_household_and_each_gets_one_follow_up(
        app, redis, model, content):
    residents = phones(app, 3)
    for phone in residents:
        phone.screen_to_results()
    run_worker(redis)
    assert len(model.batches) == 1 and len(model.batches[0]) == 3
    sent = outbox.read()
    assert sorted(m["to"] for m in sent) == sorted(p.address for p in residents)
    assert {m["body"] for m in sent} == {calfresh_text(content, "en")}  # amounts only
    run_worker(redis)
    assert len(outbox.read()) == 3


def test_the_follow_up_speaks_the_residents_language(redis, model, content, worker_env):
    submit(redis, recipient(), "es", {"age": 22}, ["calfresh", "medi_cal"], "estimate-es")
    run_worker(redis)
    [sent] = outbox.read()
    assert sent["body"] == calfresh_text(content, "es") != calfresh_text(content, "en")


def test_a_household_without_any_amount_gets_no_follow_up(app, redis, model):
    model.agreed = (MEDI_CAL,)
    Phone(app).screen_to_results()
    run_worker(redis)
    assert model.batches and outbox.read() == []


def test_disagreements_with_the_model_are_counted_per_program_for_staff(app, redis, model):
    for phone in phones(app, 2):
        phone.screen_to_results()
    run_worker(redis)
    assert redis.hgetall(DISAGREEMENTS) == {b"wic:eligible_not_shown": b"2"}


def test_a_resident_who_stops_before_the_estimate_is_sent_gets_nothing(app, redis, model):
    waiting, queued = phones(app, 2)
    waiting.screen_to_results()
    waiting.text("STOP")  # still in line for the model: the household leaves the line
    assert not redis.exists(f"sj:{{{waiting.contact}}}:estimate")
    run_worker(redis, ESTIMATES)
    assert model.batches == []
    queued.screen_to_results()
    run_worker(redis, ESTIMATES)  # estimated, the follow-up queued...
    queued.text("STOP")  # ...and cancelled
    run_worker(redis)
    assert outbox.read() == []


def test_more_than_200_waiting_households_are_estimated_200_at_a_time(redis, model,
                                                                      worker_env):
    for n in range(250):
        submit(redis, Recipient.of(SECRET.encode(), f"+1408{n:07d}"), "en", {"age": 22},
               ["calfresh"], f"estimate-{n}")
    run_worker(redis, ESTIMATES)
    assert [len(batch) for batch in model.batches] == [200, 50]
    assert queue(OUTBOUND, redis).count == 250


def test_a_drain_that_fails_gives_its_batch_back_in_order_and_the_next_sends_each_once(
        redis, model, worker_env, monkeypatch):
    for n in range(3):
        submit(redis, recipient(f"+1408555{n:04d}"), "en", {"age": 22}, ["calfresh"],
               f"estimate-{n}")
    answer = model.estimate_batch

    def out_of_memory(items, today=None, estimator=None):
        raise MemoryError  # or the job's timeout: nothing estimated, nothing queued

    monkeypatch.setattr(followups, "estimate_batch", out_of_memory)
    run_worker(redis, ESTIMATES)
    assert redis.lrange(PENDING, 0, -1) == [recipient(f"+1408555{n:04d}").contact.encode()
                                            for n in range(3)]
    assert redis.zcard(followups.LEASES) == 0
    monkeypatch.setattr(followups, "estimate_batch", answer)
    make_due(redis, ESTIMATES)  # the failed drain's retry
    run_worker(redis)
    assert sorted(m["id"] for m in outbox.read()) == [f"estimate-{n}" for n in range(3)]
    assert redis.llen(PENDING) == 0 and not redis.keys("sj:estimates:batch:*")


def test_a_killed_drains_batch_goes_back_in_line_once_its_lease_lapses(redis, model,
                                                                       worker_env, monkeypatch):
    submit(redis, recipient(), "en", {"age": 22}, ["calfresh"], "estimate-1")
    batch = followups.BATCH + "dead"
    [household] = followups._take(redis, batch)  # the drain that took it died here
    assert redis.llen(PENDING) == 0 and followups.recover(redis) == 0  # its lease runs
    later = followups.time.time() + followups.LEASE_SECONDS + 1
    monkeypatch.setattr(followups.time, "time", lambda: later)
    assert followups.recover(redis) == 1
    assert redis.lrange(PENDING, 0, -1) == [household["contact"].encode()]
    assert json.loads(redis.get(f"sj:{{{household['contact']}}}:estimate"))["tries"] == 1


def test_a_household_given_back_too_often_is_let_go_and_counted(redis, model, worker_env):
    submit(redis, recipient(), "en", {"age": 22}, ["calfresh"], "estimate-1")
    for _ in range(followups.MAX_TRIES):
        followups._take(redis, followups.BATCH + "dead")
        followups._give_back(redis, followups.BATCH + "dead", followups._ALWAYS)
    run_worker(redis)
    assert model.batches == [] and outbox.read() == []
    assert not redis.exists(f"sj:{{{recipient().contact}}}:estimate")
    assert redis.hget(FAILURES, followups.GIVEN_UP) == b"1"


def test_the_model_is_asked_about_san_joses_date_not_the_servers(redis, model, worker_env,
                                                                  monkeypatch):
    seen = []
    answer = model.estimate_batch
    monkeypatch.setattr(followups, "estimate_batch",
                        lambda items, today=None: seen.append(today) or answer(items, today))
    new_year_in_utc = datetime(2031, 1, 1, 2, 0, tzinfo=UTC).timestamp()  # 18:00 in San José
    monkeypatch.setattr(outbound, "clock", lambda: new_year_in_utc)
    submit(redis, recipient(), "en", {"age": 22}, ["calfresh"], "estimate-1")
    run_worker(redis, ESTIMATES)
    assert seen == [date(2030, 12, 31)]


# -- reminders and the WhatsApp window --------------------------------------------------------

def test_remind_schedules_the_reminder_days_ahead_and_stop_cancels_it(app, redis, content):
    phone = Phone(app)
    phone.screen_to_results()
    phone.text("REMIND")
    registry = queue(OUTBOUND, redis).scheduled_job_registry
    [job_id] = [j for j in registry.get_job_ids() if j.startswith("send-reminder")]
    job = Job.fetch(job_id, connection=redis)
    days = content.flow.settings.reminder_days
    due = registry.get_scheduled_time(job) - datetime.now(UTC)
    assert timedelta(days=days, seconds=-60) < due <= timedelta(days=days)
    contact, sealed, channel, body, _ = job.args
    assert (contact, channel) == (phone.contact, "sms")
    assert open_sealed(SECRET, sealed) == NUMBER
    assert body == render_reminder(content, "en", phone.session["programs"])
    phone.text("STOP")
    assert registry.get_job_ids() == []
    with pytest.raises(NoSuchJobError):
        Job.fetch(job_id, connection=redis)


def test_a_reminder_falling_due_at_night_waits_for_the_morning(redis, content, worker_env,
                                                               monkeypatch):
    monkeypatch.setenv("QUIET_HOURS", "21:00-08:00")
    now = city_time(2030, 1, 15, 22, 30)
    monkeypatch.setattr(outbound, "clock", lambda: now)
    phone = Phone(make_app(redis, content, CLOCK=lambda: now, QUIET_HOURS="21:00-08:00"))
    phone.screen_to_results()
    phone.text("REMIND")
    registry = queue(OUTBOUND, redis).scheduled_job_registry
    [job_id] = [j for j in registry.get_job_ids() if j.startswith("send-reminder")]
    days = content.flow.settings.reminder_days
    morning = datetime(2030, 1, 15 + days + 1, 8, tzinfo=CITY)
    assert registry.get_scheduled_time(Job.fetch(job_id, connection=redis)) == morning


def test_a_whatsapp_reminder_after_the_window_closed_goes_as_the_approved_template(
        redis, content, twilio_api, monkeypatch):
    monkeypatch.setenv("WHATSAPP_TEMPLATE_SID", TEMPLATE)
    http = twilio_api(CREATED)
    now = {"t": city_time(2030, 1, 15, 12, 0)}
    monkeypatch.setattr(outbound, "clock", lambda: now["t"])
    phone = Phone(make_app(redis, content, CLOCK=lambda: now["t"]), channel="whatsapp")
    phone.screen_to_results()
    phone.text("REMIND")
    now["t"] += content.flow.settings.reminder_days * 86400
    registry = queue(OUTBOUND, redis).scheduled_job_registry
    [reminder] = [job_id for job_id in registry.get_job_ids() if job_id.startswith("send-rem")]
    registry.schedule(Job.fetch(reminder, connection=redis), datetime.now(UTC) - timedelta(1))
    run_worker(redis, OUTBOUND)
    [sent] = http.posts
    assert sent["To"] == phone.address and sent["ContentSid"] == TEMPLATE
    programs = phone.session["programs"]
    assert json.loads(sent["ContentVariables"]) == {
        "1": render_reminder(content, "en", programs)}
    assert outcomes(redis) == {"sent_template": 1}


def test_only_whatsapp_messages_open_the_window_and_it_expires_with_it(app, redis):
    sms, whatsapp = Phone(app), Phone(app, number="+14085550999", channel="whatsapp")
    sms.text("hello")
    whatsapp.text("hello")
    assert not redis.exists(f"sj:{{{sms.contact}}}:whatsapp:last_in")
    assert 0 < redis.ttl(f"sj:{{{whatsapp.contact}}}:whatsapp:last_in") <= 86400


# -- screener jobs ----------------------------------------------------------------------------

@pytest.mark.redis_server
def test_screener_jobs_shows_the_queues_failures_and_drift_then_retries_or_drops(
        real_redis, redis_server, twilio_api, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    http = twilio_api(refused(400, 21617))
    redis = real_redis
    outbound.enqueue_message(redis, recipient(), "Too long", "m1")
    outbound.enqueue_message(redis, recipient(), "Later", "m2",
                             at=datetime.now(UTC) + timedelta(days=3))
    redis.hincrby(DISAGREEMENTS, "calfresh:shown_not_eligible", 2)
    run_worker(redis, OUTBOUND)

    assert main(["jobs"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0].split() == ["queue", "queued", "started", "scheduled", "deferred",
                                "finished", "failed"]
    assert shown[1].split() == ["outbound", "0", "0", "1", "0", "0", "1"]
    assert shown[2].split() == ["estimates", "0", "0", "0", "0", "0", "0"]
    assert any(line.split() == ["outbound", "1"] for line in shown)  # failures per queue
    assert any(line.split() == ["calfresh:shown_not_eligible", "2"] for line in shown)

    http.answers = [CREATED]
    assert main(["jobs", "retry", "--queue", "outbound"]) == 0
    assert capsys.readouterr().out.strip() == "1 failed jobs requeued"
    run_worker(redis, OUTBOUND)
    assert [post["Body"] for post in http.posts] == ["Too long", "Too long"]

    http.answers = [refused(400, 21617)]
    outbound.enqueue_message(redis, recipient(), "Again", "m3")
    run_worker(redis, OUTBOUND)
    assert main(["jobs", "drop"]) == 0
    assert capsys.readouterr().out.strip() == "1 failed jobs deleted"
    assert queue(OUTBOUND, redis).failed_job_registry.count == 0
