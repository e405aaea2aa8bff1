"""No phone number in clear: not in a Redis key, not in a Redis value, not in a log line."""

from __future__ import annotations

import logging

import pytest
from phone import NUMBER, Phone, make_app, sign
from rq import Queue
from rq.job import Job
from worker_kit import FORMS, everything_in

from worker.queues import OUTBOUND

pytest_plugins = ["redis_server"]


@pytest.mark.parametrize("mode", ["twilio", "app"])
def test_a_whole_conversation_leaves_no_phone_number_in_redis_or_logs(redis_client, content,
                                                                     caplog, mode):
    caplog.set_level(logging.DEBUG)
    app = make_app(redis_client, content, OPT_OUT_MODE=mode, RATE_LIMIT_PER_MINUTE="100")
    for channel in ("sms", "whatsapp"):
        phone = Phone(app, channel=channel)
        phone.screen_to_results()
        phone.text("1")
        phone.text("HELP")
        phone.text("22", sid="SM" + "5" * 32)
        phone.text("22", sid="SM" + "5" * 32)
        phone.text("STOP")
        phone.text("hello")
        phone.text("START")
        phone.screen_to_results()  # queues a dollar estimate
        phone.text("REMIND")  # schedules a reminder
    assert redis_client.exists(f"sj:{{{phone.contact}}}:estimate")  # waiting for its estimate
    assert Queue(OUTBOUND, connection=redis_client).scheduled_job_registry.count  # reminders
    status = {"MessageSid": "SM" + "6" * 32, "MessageStatus": "undelivered",
              "ErrorCode": "30003", "To": NUMBER}
    app.test_client().post("/twilio/status", data=status, headers={
        "X-Twilio-Signature": sign("http://localhost/twilio/status", status)})

    stored = b"\n".join(everything_in(redis_client))
    assert stored  # the scan saw the conversation
    assert b'"stage": "results"' in stored  # and inside the compressed sessions
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "contact=" in logged
    for form in FORMS:
        assert form.encode() not in stored, form
        assert form not in logged, form


def test_every_key_about_a_contact_expires(redis_client, content):
    app = make_app(redis_client, content)
    phone = Phone(app)
    phone.screen_to_results()
    phone.text("HELP")
    keys = redis_client.keys(f"sj:{{{phone.contact}}}:*")
    assert keys
    assert all(redis_client.ttl(name) > 0 for name in keys), keys


def test_the_retention_limit_is_configurable(redis_client, content):
    app = make_app(redis_client, content, RETENTION_DAYS="2")
    phone = Phone(app)
    phone.text("hello")
    ttl = redis_client.ttl(f"sj:{{{phone.contact}}}:session")
    assert 2 * 86400 - 60 < ttl <= 2 * 86400


def test_queued_jobs_describe_themselves_without_the_message_text(redis_client, content):
    app = make_app(redis_client, content)
    phone = Phone(app)
    phone.screen_to_results()
    phone.text("REMIND")
    registry = Queue(OUTBOUND, connection=redis_client).scheduled_job_registry
    jobs = [Job.fetch(job_id, connection=redis_client) for job_id in registry.get_job_ids()
            if job_id.startswith("send-")]  # messages (follow-ups carry no text: "check-in")
    assert jobs
    for job in jobs:
        body = job.args[3]
        assert body and body not in job.description
        assert body[:20] not in job.description
