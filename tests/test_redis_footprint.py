"""Nothing stays in Redis for ever: after whole conversations (screenings on SMS and WhatsApp,
a reminder, follow-ups run by the worker with the model disagreeing, a failed job, a hand-off
to a navigator, a flood, STOP and START, delivery callbacks, the staff simulator) every key
the text line wrote has a TTL. RQ's own bookkeeping (`rq:*`: queues, registries, worker
records) is RQ's, and bounded by its jobs. And a finished screening leaves little."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from phone import Phone, make_app, new_sid, sign
from worker_kit import make_due, run_worker

from bot import simulated
from bot.store import Ttl
from worker import callbacks, followups
from worker.estimates import Disagreement, Estimates

pytest_plugins = ["redis_server", "worker_fixtures"]
STATUS_URL = "http://localhost/twilio/status"


@pytest.fixture
def model(monkeypatch, content) -> None:
    """PolicyEngine stands aside: no household gets an amount, and it disagrees with our
    rules once each (staff count those)."""
    drift = (Disagreement("wic", "eligible_not_shown"),)
    monkeypatch.setattr(followups, "estimate_batch", lambda items, today=None, estimator=None:
                        {item.id: Estimates({}, (), drift) for item in items})
    monkeypatch.setattr(followups, "content", lambda: content)


def conversations(app) -> None:
    screened = Phone(app, number="+14085550101")
    screened.screen_to_results()
    screened.text("REMIND")
    on_whatsapp = Phone(app, number="+14085550102", channel="whatsapp")
    on_whatsapp.screen_to_results()
    on_whatsapp.text("can I talk to a person please")
    on_whatsapp.text("yes")  # a case opens for the navigators
    leaving = Phone(app, number="+14085550103")
    leaving.text("hello")
    leaving.text("STOP")
    leaving.text("START")
    leaving.text("STOP")
    flooding = Phone(app, number="+14085550104")
    for _ in range(25):
        flooding.text("hi")
    for status in ({"MessageStatus": "delivered"},
                   {"MessageStatus": "undelivered", "ErrorCode": "30003"}):
        form = {"MessageSid": new_sid(), "AccountSid": "AC" + "0" * 32, **status}
        app.test_client().post("/twilio/status", data=form,
                               headers={"X-Twilio-Signature": sign(STATUS_URL, form)})
    line = app.extensions["textline"]
    simulated.next_resident(line.store.redis, line.contact, line.jobs.cancel)
    failed = SimpleNamespace(id="send-x", origin="outbound", should_retry=False, meta={})
    callbacks.on_failure(failed, line.store.redis, RuntimeError, RuntimeError("x"), None)


@pytest.mark.redis_server
def test_every_key_the_text_line_writes_expires(real_redis, content, worker_env, model):
    app = make_app(real_redis, content, QUIET_HOURS="off")
    conversations(app)
    run_worker(real_redis)  # the estimate drain, and the texts it queues
    make_due(real_redis)  # the nudge, "did you apply?", the reminder: their time has come
    run_worker(real_redis)
    names = {name.decode() for name in real_redis.scan_iter(count=1000)}
    assert {"sj:cases:open", "sj:estimates:disagreements", "sj:jobs:failures",
            "sj:simulator:next"} <= names  # the scenario reached every kind of key
    forever = sorted(name for name in names
                     if real_redis.ttl(name) == -1 and not name.startswith("rq:"))
    assert forever == []


@pytest.mark.redis_server
def test_a_finished_screening_keeps_a_small_session_and_its_replies_for_minutes(real_redis,
                                                                               content):
    phone = Phone(make_app(real_redis, content))
    phone.screen_to_results()
    ttl = {part: real_redis.ttl(f"sj:{{{phone.contact}}}:{part}")
           for part in ("session", "replies", "rate")}
    assert ttl["session"] > Ttl().seen
    assert 0 < ttl["replies"] <= Ttl().seen and 0 < ttl["rate"] <= 60
    assert real_redis.memory_usage(f"sj:{{{phone.contact}}}:session") < 300
