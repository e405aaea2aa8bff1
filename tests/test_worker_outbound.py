"""The outbound job: every message outside a reply, sent once, at a decent hour, at the
sender's pace, through the real Twilio client over a fake HTTP layer.

RQ runs for real (SimpleWorker with its scheduler, on fakeredis with Lua); a backoff or a
hold is skipped by making the scheduled job due instead of sleeping.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from phone import NUMBER, SECRET
from redis.exceptions import RedisError
from rq.job import Job, JobStatus
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError
from worker_kit import (
    CREATED,
    FORMS,
    MESSAGING_SERVICE,
    PUBLIC_URL,
    everything_in,
    make_due,
    outcomes,
    recipient,
    refused,
    run_worker,
)

from bot import outbox, simulated, window
from bot.engine import Job as Job_
from bot.engine import new_session
from bot.redis_embedded import free_port
from bot.sealing import SealError, open_sealed, seal
from bot.store import Change, Store
from worker import delivery, engine_jobs, outbound, throughput
from worker.admin import retry_failed
from worker.callbacks import FAILURES
from worker.outbound import enqueue_message
from worker.port import cancel_jobs
from worker.queues import OUTBOUND, queue, schedule
from worker.quiet import QuietHours
from worker.settings import Settings, Timing

pytest_plugins = ["redis_server", "worker_fixtures"]
CITY = ZoneInfo("America/Los_Angeles")
TEMPLATE = "HX" + "1" * 32


@pytest.fixture
def redis(fake_redis):
    return fake_redis


def city_time(*args: int) -> float:
    return datetime(*args, tzinfo=CITY).timestamp()


def scheduled_for(redis, job: Job) -> datetime:
    return queue(OUTBOUND, redis).scheduled_job_registry.get_scheduled_time(job)


def status(redis, job: Job) -> JobStatus:
    return Job.fetch(job.id, connection=redis).get_status()


def finished_badly(redis, job: Job) -> bool:
    """Failed, or waiting to be tried again."""
    outbound_queue = queue(OUTBOUND, redis)
    return job.id in outbound_queue.failed_job_registry \
        or job.id in outbound_queue.scheduled_job_registry


def failures(redis) -> dict[str, int]:
    return {field.decode(): int(value) for field, value in redis.hgetall(FAILURES).items()}


def send(redis, body: str = "Hi there", message_id: str = "m1", channel: str = "sms") -> Job:
    job = enqueue_message(redis, recipient(channel=channel), body, message_id)
    run_worker(redis, OUTBOUND)
    return job


# -- through Twilio ---------------------------------------------------------------------------

def test_a_201_sends_the_message_once_with_a_status_callback(redis, twilio_api):
    http = twilio_api(CREATED)
    send(redis)
    [sent] = http.posts
    assert sent["To"] == NUMBER and sent["Body"] == "Hi there"
    assert sent["MessagingServiceSid"] == MESSAGING_SERVICE
    assert sent["StatusCallback"] == f"{PUBLIC_URL}/twilio/status"
    assert http.requests[0]["url"].endswith("/Messages.json")
    assert outcomes(redis) == {"sent": 1}


REFUSED = requests.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused")))


@pytest.mark.parametrize("trouble", [refused(429, 20429), refused(500), refused(503), REFUSED],
                         ids=["429", "500", "503", "no-connection"])
def test_429_5xx_and_network_errors_are_retried_with_backoff_then_sent_once(redis, twilio_api,
                                                                            trouble):
    http = twilio_api(trouble, trouble, CREATED)
    started = datetime.now(UTC)
    job = send(redis)
    assert status(redis, job) == JobStatus.SCHEDULED
    assert timedelta(seconds=4) < scheduled_for(redis, job) - started < timedelta(seconds=7)
    make_due(redis, OUTBOUND)
    run_worker(redis, OUTBOUND)
    assert scheduled_for(redis, job) - started > timedelta(seconds=25)  # backing off: 30 s
    make_due(redis, OUTBOUND)
    run_worker(redis, OUTBOUND)
    assert len(http.posts) == 3  # two refused, one taken: the resident got one text
    assert outcomes(redis) == {"sent": 1}
    assert failures(redis) == {"outbound:retried": 2}
    assert not make_due(redis, OUTBOUND)


def test_a_refusal_other_than_429_is_not_retried_and_waits_in_the_failed_registry(
        redis, twilio_api):
    http = twilio_api(refused(400, 21617))  # the body is too long: it would fail again
    job = send(redis)
    assert status(redis, job) == JobStatus.FAILED
    assert job.id in queue(OUTBOUND, redis).failed_job_registry
    assert not make_due(redis, OUTBOUND)
    run_worker(redis, OUTBOUND)
    assert len(http.posts) == 1
    assert failures(redis) == {"outbound": 1}


def test_a_21610_refusal_opts_the_contact_out_and_is_not_retried(redis, twilio_api, content):
    http = twilio_api(refused(400, 21610))
    store = Store(redis)
    contact = recipient().contact
    store.commit(contact, Change([], session=new_session(content, 0)), 0)
    job = send(redis)
    assert store.opt_out_record(contact) is not None
    assert store.snapshot(contact, None).session is None
    assert not make_due(redis, OUTBOUND) and not finished_badly(redis, job)
    send(redis, message_id="m2")  # and nothing more goes to them
    assert len(http.posts) == 1
    assert outcomes(redis) == {"opted_out": 2}


@pytest.mark.parametrize("code", [21211, 21614])
def test_an_invalid_number_is_flagged_counted_and_not_tried_again(redis, twilio_api, code):
    http = twilio_api(refused(400, code))
    send(redis)
    assert not make_due(redis, OUTBOUND)
    send(redis, message_id="m2")
    assert len(http.posts) == 1
    assert outcomes(redis) == {"invalid_number": 2}
    assert redis.exists(f"sj:{{{recipient().contact}}}:invalid")


def test_a_read_timeout_is_not_retried_because_the_text_may_have_gone_out(redis, twilio_api):
    http = twilio_api(requests.ReadTimeout("no answer"))
    send(redis)
    send(redis)  # the same message queued again
    assert not make_due(redis, OUTBOUND)
    assert len(http.posts) == 1
    assert outcomes(redis) == {"unconfirmed": 1, "duplicate": 1}


class LocalTwilio(TwilioHttpClient):
    """The real HTTP client (requests, urllib3, sockets) with Twilio's host swapped for ours."""

    def __init__(self, port: int):
        super().__init__(timeout=2)
        self.port = port

    def request(self, method, url, *args, **kwargs):
        local = url.replace("https://api.twilio.com", f"http://127.0.0.1:{self.port}")
        return super().request(method, local, *args, **kwargs)


@contextmanager
def server_that_hangs_up() -> Iterator[tuple[int, list[bytes]]]:
    """Reads each request whole, then closes the connection without a word: Twilio may have
    taken the message and we cannot know."""
    received: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                data = connection.recv(65536)
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                while len(body) < length:
                    body += connection.recv(65536)
                received.append(body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        listener.close()


def use_local_twilio(monkeypatch, port: int) -> None:
    monkeypatch.setattr(delivery, "twilio_client", lambda settings: Client(
        settings.account_sid, settings.auth_token, http_client=LocalTwilio(port)))


def test_a_connection_closed_after_the_request_went_out_is_not_retried(redis, twilio_api,
                                                                       monkeypatch):
    twilio_api(CREATED)
    with server_that_hangs_up() as (port, received):
        use_local_twilio(monkeypatch, port)
        job = send(redis)
        assert not make_due(redis, OUTBOUND) and not finished_badly(redis, job)
        send(redis)  # the same message queued again
    assert len(received) == 1  # at most once: Twilio may have it, so we never send it again
    assert outcomes(redis) == {"unconfirmed": 1, "duplicate": 1}


def test_a_connection_never_made_is_retried_and_sent_once(redis, twilio_api, monkeypatch):
    http = twilio_api(CREATED)
    use_local_twilio(monkeypatch, free_port())  # nobody listens there: connection refused
    job = send(redis)
    assert status(redis, job) == JobStatus.SCHEDULED
    monkeypatch.setattr(delivery, "twilio_client", lambda settings: Client(
        settings.account_sid, settings.auth_token, http_client=http))
    make_due(redis, OUTBOUND)
    run_worker(redis, OUTBOUND)
    assert len(http.posts) == 1 and outcomes(redis) == {"sent": 1}


def test_a_duplicated_or_rerun_job_texts_the_resident_once(redis, twilio_api):
    http = twilio_api(CREATED)
    for _ in range(2):
        enqueue_message(redis, recipient(), "Hi", "same")
    run_worker(redis, OUTBOUND)
    send(redis, body="Hi", message_id="same")
    assert len(http.posts) == 1
    assert outcomes(redis)["sent"] == 1


def test_a_plain_twilio_from_number_sends_sms_and_whatsapp_with_its_prefix(
        redis, twilio_api, monkeypatch):
    monkeypatch.delenv("TWILIO_MESSAGING_SERVICE_SID")
    monkeypatch.setenv("TWILIO_FROM", "+14085550000")
    http = twilio_api(CREATED)
    window.note_inbound(redis, recipient().contact, outbound.clock())
    send(redis, message_id="m1")
    send(redis, message_id="m2", channel="whatsapp")
    assert [(p["From"], p["To"]) for p in http.posts] == [
        ("+14085550000", NUMBER), ("whatsapp:+14085550000", f"whatsapp:{NUMBER}")]
    assert all("MessagingServiceSid" not in p for p in http.posts)


# -- the staff simulator's fictional residents -----------------------------------------------

@pytest.mark.parametrize("credentials", [True, False], ids=["twilio", "outbox"])
def test_a_fictional_residents_message_goes_to_the_simulator_thread_never_out(
        redis, request, credentials):
    if credentials:  # a real number's message would go to Twilio
        http = request.getfixturevalue("twilio_api")(CREATED)
    else:  # ...or to the local outbox
        request.getfixturevalue("worker_env")
    fictional = simulated.number(7)
    to = recipient(number=fictional)
    enqueue_message(redis, to, "Your estimate: $229 a month", "m1")
    enqueue_message(redis, to, "Did you apply?", "m2")
    run_worker(redis, OUTBOUND)
    if credentials:
        assert http.posts == []
    assert outbox.read() == []
    assert simulated.thread(redis, to.contact) == ["Your estimate: $229 a month",
                                                   "Did you apply?"]
    assert 0 < redis.ttl(simulated.thread_key(to.contact)) <= simulated.THREAD_SECONDS
    assert outcomes(redis) == {"sent": 2}
    stored = b"\n".join(everything_in(redis))
    assert fictional.encode() not in stored and fictional[2:].encode() not in stored


# -- WhatsApp's 24-hour window ----------------------------------------------------------------

def test_inside_the_whatsapp_window_the_text_goes_as_it_is(redis, twilio_api, monkeypatch):
    monkeypatch.setenv("WHATSAPP_TEMPLATE_SID", TEMPLATE)
    http = twilio_api(CREATED)
    window.note_inbound(redis, recipient().contact, outbound.clock() - 3600)
    send(redis, channel="whatsapp")
    [sent] = http.posts
    assert sent["Body"] == "Hi there" and "ContentSid" not in sent
    assert outcomes(redis) == {"sent": 1}


def test_outside_the_window_the_approved_template_carries_the_text(redis, twilio_api,
                                                                   monkeypatch):
    monkeypatch.setenv("WHATSAPP_TEMPLATE_SID", TEMPLATE)
    http = twilio_api(CREATED)
    window.note_inbound(redis, recipient().contact, outbound.clock() - 24 * 3600)
    send(redis, body="Reminder: CalFresh", channel="whatsapp")
    [sent] = http.posts
    assert sent["ContentSid"] == TEMPLATE and "Body" not in sent
    assert json.loads(sent["ContentVariables"]) == {"1": "Reminder: CalFresh"}
    assert outcomes(redis) == {"sent_template": 1}


def test_outside_the_window_without_a_template_nothing_is_sent_and_it_is_counted(
        redis, twilio_api):
    http = twilio_api(CREATED)
    job = send(redis, channel="whatsapp")
    assert http.posts == []
    assert outcomes(redis) == {"needs_template": 1}
    assert not finished_badly(redis, job)


def test_a_63016_refusal_is_sent_again_as_the_template(redis, twilio_api, monkeypatch):
    monkeypatch.setenv("WHATSAPP_TEMPLATE_SID", TEMPLATE)
    http = twilio_api(refused(400, 63016), CREATED)
    window.note_inbound(redis, recipient().contact, outbound.clock())  # we thought it open
    send(redis, channel="whatsapp")
    first, second = http.posts
    assert first["Body"] == "Hi there" and second["ContentSid"] == TEMPLATE
    assert outcomes(redis) == {"sent_template": 1}


def test_a_63016_refusal_without_a_template_is_recorded_as_needs_template(redis, twilio_api):
    http = twilio_api(refused(400, 63016))
    window.note_inbound(redis, recipient().contact, outbound.clock())
    send(redis, channel="whatsapp")
    assert not make_due(redis, OUTBOUND)
    assert len(http.posts) == 1
    assert outcomes(redis) == {"needs_template": 1}


# -- quiet hours ------------------------------------------------------------------------------

def test_quiet_hours_are_read_in_city_time_and_wrap_past_midnight():
    quiet = QuietHours.parse("21:00-08:00")
    assert QuietHours.parse(None) == quiet and QuietHours.parse("") == quiet
    assert QuietHours.parse("off") is None
    night, day = datetime(2030, 1, 15, 23, 30, tzinfo=CITY), datetime(2030, 1, 15, 12, tzinfo=CITY)
    assert quiet.contains(night) and not quiet.contains(day)
    assert quiet.next_allowed(day) == day
    assert quiet.next_allowed(night) == datetime(2030, 1, 16, 8, tzinfo=CITY)
    early = datetime(2030, 1, 16, 6, tzinfo=CITY)
    assert quiet.next_allowed(early) == datetime(2030, 1, 16, 8, tzinfo=CITY)
    # The night clocks spring forward: still 08:00 on the wall, now PDT.
    spring = quiet.next_allowed(datetime(2030, 3, 9, 23, tzinfo=CITY))
    assert spring == datetime(2030, 3, 10, 15, tzinfo=UTC)
    assert QuietHours.parse("00:30-06:00").contains(datetime(2030, 1, 15, 1, tzinfo=CITY))
    for wrong in ("9pm-8am", "25:00-08:00", "08:00-08:00"):
        with pytest.raises(ValueError):
            QuietHours.parse(wrong)


def test_a_message_due_at_night_is_scheduled_for_the_morning(redis, worker_env, monkeypatch):
    monkeypatch.setenv("QUIET_HOURS", "21:00-08:00")
    monkeypatch.setattr(outbound, "clock", lambda: city_time(2030, 1, 15, 23, 30))
    job = enqueue_message(redis, recipient(), "Reminder", "m1")
    assert scheduled_for(redis, job) == datetime(2030, 1, 16, 8, tzinfo=CITY)
    later = datetime(2030, 1, 18, 22, tzinfo=CITY)  # a reminder due at 22:00 in three days
    job = enqueue_message(redis, recipient(), "Reminder", "m2", at=later)
    assert scheduled_for(redis, job) == datetime(2030, 1, 19, 8, tzinfo=CITY)


def test_a_job_scheduled_in_a_pipeline_is_the_job_rqs_enqueue_at_makes(redis):
    """worker/queues.py `schedule` writes every part in the caller's pipeline, where RQ's own
    writes the registry apart: the stored job and its registry score must not differ."""
    due = datetime(2030, 1, 16, 8, 0, 30, 500000, tzinfo=CITY)
    options = {"description": "send m", "job_timeout": 30, "result_ttl": 0,
               "failure_ttl": 60, "meta": {"contact": "c0ffee00"}}
    outbound_queue = queue(OUTBOUND, redis)
    made = {}
    for job_id in ("by-rq", "by-us"):
        if job_id == "by-rq":
            outbound_queue.enqueue_at(due, outbound.send_message, "c", "s", "sms", "Hi", "m",
                                      job_id=job_id, **options)
        else:
            pipe = redis.pipeline()
            schedule(outbound_queue, due, pipe, outbound.send_message, "c", "s", "sms", "Hi",
                     "m", job_id=job_id, **options)
            assert not redis.exists(f"rq:job:{job_id}")  # nothing written before execute
            pipe.execute()
        stored = redis.hgetall(f"rq:job:{job_id}")
        made[job_id] = ({k: v for k, v in stored.items() if k not in (b"created_at",)},
                        redis.zscore("rq:scheduled:outbound", job_id))
    assert made["by-rq"] == made["by-us"]
    assert Job.fetch("by-us", connection=redis).get_status() == JobStatus.SCHEDULED
    assert redis.sismember("rq:queues", b"rq:queue:outbound")


def test_the_web_side_queues_with_its_apps_quiet_hours_and_retention_not_the_environment(
        redis, worker_env, content):
    # worker_env: QUIET_HOURS=off and no RETENTION_DAYS in this process's environment.
    config = {"QUIET_HOURS": "21:00-08:00", "RETENTION_DAYS": "2"}
    night = city_time(2030, 1, 15, 22, 30)
    reminder = Job_("reminder", {"lang": "en", "programs": ["calfresh"], "days": 3})
    engine_jobs.enqueue(redis, content, SECRET.encode(), NUMBER, [reminder], "SM1", night,
                        timing=Timing.from_config(config))
    [job_id] = queue(OUTBOUND, redis).scheduled_job_registry.get_job_ids()
    job = Job.fetch(job_id, connection=redis)
    assert scheduled_for(redis, job) == datetime(2030, 1, 19, 8, tzinfo=CITY)  # from the turn
    jobs_ttl = redis.ttl(f"sj:{{{recipient().contact}}}:jobs")
    due_in = scheduled_for(redis, job).timestamp() - night
    assert due_in + 2 * 86400 - 5 < jobs_ttl <= due_in + 2 * 86400


@pytest.mark.redis_server
def test_a_turns_jobs_are_noted_for_stop_even_when_redis_forgot_the_noting_script(
        real_redis, worker_env, content):
    real_redis.script_flush()  # a restarted Redis knows no script: the EVALSHA in EXEC fails
    jobs = [Job_("reminder", {"lang": "en", "programs": ["calfresh"], "days": 3}),
            Job_("follow_up", {"kind": "did_you_apply", "lang": "en", "after": 7 * 86400,
                               "programs": ["calfresh"]})]
    engine_jobs.enqueue(real_redis, content, SECRET.encode(), NUMBER, jobs, "SM1",
                        city_time(2030, 1, 15, 12))
    scheduled = set(queue(OUTBOUND, real_redis).scheduled_job_registry.get_job_ids())
    noted = {raw.decode() for raw in real_redis.smembers(f"sj:{{{recipient().contact}}}:jobs")}
    assert scheduled == noted == {"send-reminder-SM1", "did_you_apply-SM1"}
    cancel_jobs(real_redis, recipient().contact)
    assert not queue(OUTBOUND, real_redis).scheduled_job_registry.get_job_ids()


@pytest.mark.redis_server
def test_a_full_redis_leaves_no_job_half_queued_and_they_queue_once_it_has_room(
        real_redis, worker_env, content):
    jobs = [Job_("follow_up", {"kind": "did_you_apply", "lang": "en", "after": 7 * 86400,
                               "programs": ["calfresh"]}),
            Job_("estimate", {"lang": "en", "answers": {"age": 22}, "programs": ["calfresh"]})]
    real_redis.config_set("maxmemory-policy", "noeviction")
    real_redis.config_set("maxmemory", "1")
    try:
        with pytest.raises(RedisError):
            engine_jobs.enqueue(real_redis, content, SECRET.encode(), NUMBER, jobs, "SM1",
                                city_time(2030, 1, 15, 12))
    finally:
        real_redis.config_set("maxmemory", "0")
    assert real_redis.keys("*") == []  # no job, no note, no household in line: all or none
    engine_jobs.enqueue(real_redis, content, SECRET.encode(), NUMBER, jobs, "SM1",
                        city_time(2030, 1, 15, 12))  # as the parked jobs are queued again
    assert {raw.decode() for raw in real_redis.smembers(
        f"sj:{{{recipient().contact}}}:jobs")} == {"did_you_apply-SM1"}
    assert real_redis.lrange("sj:estimates:pending", 0, -1) == [recipient().contact.encode()]


def test_stop_can_still_cancel_a_reminder_due_after_the_retention_period(redis, worker_env):
    timing = Timing.from_config({"QUIET_HOURS": "off", "RETENTION_DAYS": "1"})
    later = datetime.now(UTC) + timedelta(days=20)
    enqueue_message(redis, recipient(), "Reminder", "far", at=later, timing=timing)
    enqueue_message(redis, recipient(), "Now", "near", timing=timing)  # must not shorten it
    jobs = f"sj:{{{recipient().contact}}}:jobs"
    assert redis.ttl(jobs) > 20 * 86400  # the set outlives the reminder: STOP finds it
    cancel_jobs(redis, recipient().contact)
    assert queue(OUTBOUND, redis).scheduled_job_registry.get_job_ids() == []


def test_a_job_that_runs_at_night_is_held_until_morning_then_sent(redis, twilio_api,
                                                                  monkeypatch):
    monkeypatch.setenv("QUIET_HOURS", "21:00-08:00")
    http = twilio_api(CREATED)
    now = {"t": city_time(2030, 1, 15, 20, 59)}
    monkeypatch.setattr(outbound, "clock", lambda: now["t"])
    job = enqueue_message(redis, recipient(), "Your estimate", "m1")
    now["t"] = city_time(2030, 1, 15, 21, 5)  # the worker was busy: it is night now
    started = datetime.now(UTC)
    run_worker(redis, OUTBOUND)
    wait = scheduled_for(redis, job) - started
    assert timedelta(hours=10, minutes=54) < wait < timedelta(hours=10, minutes=56)
    assert http.posts == [] and outcomes(redis) == {"held_quiet_hours": 1}
    now["t"] = city_time(2030, 1, 16, 8, 0)
    make_due(redis, OUTBOUND)
    run_worker(redis, OUTBOUND)
    assert len(http.posts) == 1
    assert outcomes(redis) == {"held_quiet_hours": 1, "sent": 1}


def test_a_message_held_more_often_than_allowed_fails_is_counted_and_can_be_retried(
        redis, twilio_api, monkeypatch):
    monkeypatch.setenv("QUIET_HOURS", "21:00-08:00")
    monkeypatch.setattr(outbound, "HOLDS", 2)
    http = twilio_api(CREATED)
    now = {"t": city_time(2030, 1, 15, 23, 0)}
    monkeypatch.setattr(outbound, "clock", lambda: now["t"])  # a clock stuck at night
    job = enqueue_message(redis, recipient(), "Your estimate", "m1",
                          at=datetime.fromtimestamp(now["t"], UTC))
    for _ in range(3):
        make_due(redis, OUTBOUND)
        run_worker(redis, OUTBOUND)
    assert status(redis, job) == JobStatus.FAILED and not make_due(redis, OUTBOUND)
    assert failures(redis) == {"outbound": 1}
    assert outcomes(redis) == {"held_quiet_hours": 2, "held_too_long": 1}
    now["t"] = city_time(2030, 1, 16, 9, 0)
    assert retry_failed(redis, [OUTBOUND]) == 1  # `screener jobs retry`: holds start afresh
    run_worker(redis, OUTBOUND)
    assert len(http.posts) == 1


# -- throughput -------------------------------------------------------------------------------

def test_the_limiter_books_segments_on_the_senders_timeline(redis_client):
    redis, at = redis_client, 1_800_000_000.0  # milliseconds beyond 32 bits
    waits = [throughput.book(redis, "+14085550000", 1, 1.0, at) for _ in range(4)]
    assert waits == [0.0, 0.0, 1.0, 2.0]  # one second ahead goes at once, then 1 a second
    assert throughput.book(redis, "+14085550000", 1, 1.0, at + 10) == 0.0  # free again
    assert throughput.book(redis, "+14085550000", 5, 1.0, at + 10) == 0.0
    assert throughput.book(redis, "+14085550000", 1, 1.0, at + 10) == 5.0  # after 6 segments
    assert [throughput.book(redis, "short", 1, 100.0, at) for _ in range(101)][-1] == 0.0
    assert throughput.book(redis, "other", 1, 1.0, at) == 0.0  # each sender its own


@pytest.mark.parametrize(("kind", "held"), [("long_code", 1), ("short_code", 0)])
def test_a_burst_beyond_the_senders_throughput_is_rescheduled_not_slept_on(
        redis, twilio_api, monkeypatch, kind, held):
    monkeypatch.setenv("SENDER_KIND", kind)
    monkeypatch.setattr(outbound, "clock", lambda: 1_000_000.0)
    http = twilio_api(CREATED)
    for n in range(3):
        enqueue_message(redis, recipient(), "Reminder", f"m{n}")
    run_worker(redis, OUTBOUND)
    assert len(http.posts) == 3 - held
    assert len(make_due(redis, OUTBOUND)) == held
    run_worker(redis, OUTBOUND)  # the booked slot has come: it goes without booking again
    assert len(http.posts) == 3
    assert outcomes(redis) == {"sent": 3, **({"throttled": 1} if held else {})}


def test_an_unknown_sender_kind_is_refused_at_start_up(monkeypatch):
    with pytest.raises(ValueError, match="SENDER_KIND"):
        Settings.from_env({"SCREENER_SECRET": "s", "SENDER_KIND": "pigeon"})
    with pytest.raises(RuntimeError, match="TWILIO_FROM"):
        Settings.from_env({"SCREENER_SECRET": "s", "TWILIO_ACCOUNT_SID": "AC1",
                           "TWILIO_AUTH_TOKEN": "t"})
    with pytest.raises(RuntimeError, match="SCREENER_SECRET"):
        Settings.from_env({})


# -- privacy and failures ---------------------------------------------------------------------

def test_a_sealed_address_opens_only_with_its_secret():
    token = seal(SECRET.encode(), f"whatsapp:{NUMBER}")
    assert open_sealed(SECRET, token) == f"whatsapp:{NUMBER}"
    assert token != seal(SECRET, f"whatsapp:{NUMBER}")  # a fresh nonce each time
    assert not any(form in token for form in FORMS)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for secret, sealed in (("another secret", token), (SECRET, tampered),
                           (SECRET, "v1.short"), (SECRET, NUMBER)):
        with pytest.raises(SealError):
            open_sealed(secret, sealed)


def test_jobs_sends_and_failures_leave_no_phone_number_in_redis_or_logs(redis, twilio_api,
                                                                        caplog):
    caplog.set_level(logging.DEBUG)
    # Twilio's error messages may quote the number: none of it may reach Redis or the logs.
    quoted = {"message": f"The 'To' number {NUMBER} is not valid", "more_info": NUMBER}
    twilio_api(CREATED, (400, {"code": 21617, "status": 400, **quoted}),
               (400, {"code": 21211, "status": 400, **quoted}))
    enqueue_message(redis, recipient(), "Hi", "queued-only", at=datetime.now(UTC) + timedelta(
        days=3))
    for n in range(3):
        send(redis, message_id=f"m{n}")
    assert failures(redis) == {"outbound": 1}
    stored = b"\n".join(everything_in(redis))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for form in FORMS:
        assert form.encode() not in stored, form
        assert form not in logged, form


def test_a_failure_is_logged_with_the_contact_prefix_and_counted_per_queue(redis, twilio_api,
                                                                           caplog):
    twilio_api(refused(500), refused(403, 20003))
    send(redis)
    make_due(redis, OUTBOUND)
    run_worker(redis, OUTBOUND)
    prefix = recipient().contact[:8]
    lines = [r.getMessage() for r in caplog.records if r.name == "worker.callbacks"]
    assert len(lines) == 2 and all(f"contact {prefix}" in line for line in lines)
    assert "will retry" in lines[0] and "will retry" not in lines[1]
    assert failures(redis) == {"outbound:retried": 1, "outbound": 1}
