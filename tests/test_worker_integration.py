"""The whole way round, for real: a resident screens through the signed web hook, a real
`screener worker` process (real Redis, the real PolicyEngine model, no Twilio credentials)
estimates the household and texts one follow-up to the local outbox, and /healthz shows it
ready; a REMIND is scheduled in RQ and a STOP takes it back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from phone import NUMBER, SECRET, Phone, make_app
from rq.exceptions import NoSuchJobError
from rq.job import Job

from bot import outbox
from worker.queues import OUTBOUND, queue

pytest_plugins = ["redis_server"]
pytestmark = [pytest.mark.slow, pytest.mark.redis_server]
# The model takes 30-50 s to load on a quiet machine; allow for a loaded one.
ESTIMATE_TIMEOUT_SECONDS = 180


@pytest.fixture
def worker_process(redis_server, real_redis, tmp_path, monkeypatch) -> Iterator[Path]:
    """`screener worker` on the test Redis; yields its log file."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("TWILIO_") and name != "WHATSAPP_TEMPLATE_SID"}
    env |= {"REDIS_URL": redis_server.url, "SCREENER_SECRET": SECRET,
            "OUTBOX_PATH": str(tmp_path / "outbox.jsonl"), "QUIET_HOURS": "off"}
    for name in ("OUTBOX_PATH", "QUIET_HOURS"):  # the host side, in this process
        monkeypatch.setenv(name, env[name])
    log = tmp_path / "worker.log"
    screener = Path(sys.executable).with_name("screener")
    with log.open("w") as output:
        process = subprocess.Popen([str(screener), "worker"], cwd=tmp_path, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        yield log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode is not None


def wait_for_outbox(log: Path, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while not outbox.read():
        if time.monotonic() > deadline:
            raise AssertionError(f"no follow-up after {timeout} s; worker log:\n"
                                 f"{log.read_text()[-4000:]}")
        time.sleep(0.5)
    return outbox.read()


def test_a_screening_ends_with_one_dollar_estimate_follow_up_from_the_worker(
        worker_process, real_redis, content):
    phone = Phone(make_app(real_redis, content))
    phone.screen_to_results()
    [follow_up] = wait_for_outbox(worker_process, ESTIMATE_TIMEOUT_SECONDS)
    assert (follow_up["to"], follow_up["channel"]) == (NUMBER, "sms")
    body = follow_up["body"]
    assert body.startswith(content.message("en", "estimate_intro"))
    assert "$" in body
    names = [content.text("en", content.rules.program(pid).name)
             for pid in phone.session["programs"]]
    assert any(name in body for name in names), body
    assert "Dollar estimates ready" in worker_process.read_text()
    workers = phone.app.test_client().get("/healthz").json["workers"]
    assert workers["estimates"]["state"] == workers["outbound"]["state"] == "ready"

    phone.text("REMIND")
    registry = queue(OUTBOUND, real_redis).scheduled_job_registry
    [reminder] = [job_id for job_id in registry.get_job_ids() if job_id.startswith("send-rem")]
    assert len(registry.get_job_ids()) == 3  # and the follow-ups: a nudge, "did you apply?"
    phone.text("STOP")
    assert registry.get_job_ids() == []
    with pytest.raises(NoSuchJobError):
        Job.fetch(reminder, connection=real_redis)
    time.sleep(1)  # the worker had a second to send something it should not
    assert len(outbox.read()) == 1
