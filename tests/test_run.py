"""`screener run` serves the whole text line on one machine; `screener outbox` shows what
it sent outside replies."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from phone import NUMBER, Phone, make_app, replies
from redis import Redis

from bot import outbox
from bot.cli import main
from bot.redis_embedded import free_port
from worker.outbound import Recipient, enqueue_message

pytest_plugins = ["redis_server"]
RUN_SECRET = "run-test-secret"


def wait_for(check, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.fixture
def screener_run(tmp_path):
    """`screener run --port <free>` with no Redis URL and no Twilio credentials."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                        "SCREENER_SECRET", "SIMULATOR")}
    env["OUTBOX_PATH"] = str(tmp_path / "outbox.jsonl")
    env["QUIET_HOURS"] = "off"  # the queued message below must go out whatever the time
    env["SCREENER_SECRET"] = RUN_SECRET  # the test seals the address its message goes to
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--port", str(port)],
                                   cwd=tmp_path, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: urllib.request.urlopen(f"{base}/healthz", timeout=1).status == 200)
        yield base, log, env
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log.read_text()


@pytest.mark.slow
def test_screener_run_serves_the_simulator_with_an_embedded_redis_and_a_worker(
        screener_run, content, monkeypatch):
    base, log, env = screener_run
    printed = log.read_text()
    assert f"{base}/simulator" in printed

    request = urllib.request.Request(f"{base}/simulator/send",
                                     data=json.dumps({"Body": "hello"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/xml")
        assert content.message("en", "welcome").split(".")[0] in response.read().decode()

    # The worker runs too: a message queued for later lands in the local outbox.
    redis_url = re.search(r"redis://127\.0\.0\.1:\d+/0", printed).group(0)
    for name in ("OUTBOX_PATH", "QUIET_HOURS"):
        monkeypatch.setenv(name, env[name])
    enqueue_message(Redis.from_url(redis_url), Recipient.of(RUN_SECRET.encode(), "+15555550100"),
                    "Later", "r1")
    wait_for(outbox.read, timeout=10)
    assert [m["body"] for m in outbox.read()] == ["Later"]


def test_screener_outbox_prints_one_json_object_per_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "var" / "outbox.jsonl"))
    assert main(["outbox"]) == 0
    assert capsys.readouterr().out == ""
    outbox.append({"id": "a", "to": "+15555550100", "channel": "sms", "body": "Hola, ¿qué tal?"})
    outbox.append({"id": "b", "to": "whatsapp:+15555550100", "channel": "whatsapp",
                   "body": "Line one\nline two"})
    assert main(["outbox"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["body"] for line in lines] == ["Hola, ¿qué tal?",
                                                            "Line one\nline two"]
    assert all({"to", "channel", "body"} <= json.loads(line).keys() for line in lines)


def test_the_simulator_asked_for_without_twilio_credentials_runs_the_real_pipeline(
        fake_redis, content):
    app = make_app(fake_redis, content, TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="",
                   SIMULATOR="1")
    client = app.test_client()
    page = client.get("/simulator")
    assert page.status_code == 200 and b"simulator/send" in page.data
    said = replies(client.post("/simulator/send", json={"Body": "hello", "From": NUMBER}))
    assert said[0].startswith(content.message("en", "welcome"))
    assert Phone(app).session["stage"] == "asking"  # the same contact as a Twilio message
    assert client.get("/simulator/outbox").json == []


@pytest.mark.parametrize("setting", ["", "1", "0"])
def test_with_twilio_credentials_the_simulator_is_never_served(fake_redis, content, setting):
    app = make_app(fake_redis, content, SIMULATOR=setting)
    assert app.test_client().get("/simulator").status_code == 404
