"""`screener run` serves the whole text line on one machine; `screener outbox` shows what
it sent outside replies."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlencode

import pytest
from phone import NUMBER
from redis import Redis

from bot import outbox, serve, simulated
from bot.cli import main
from bot.jobs import plugin
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
                        "SCREENER_SECRET", "STAFF_USERS")}
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


def post_json(opener, url: str, data: dict, csrf: str) -> dict:
    request = urllib.request.Request(url, data=json.dumps(data).encode(), headers={
        "Content-Type": "application/json", "X-CSRFToken": csrf})
    with opener.open(request, timeout=5) as response:
        return json.load(response)


@pytest.mark.slow
def test_screener_run_serves_the_staff_simulator_with_an_embedded_redis_and_a_worker(
        screener_run, content, monkeypatch):
    base, log, env = screener_run
    printed = log.read_text()
    assert f"{base}/staff/simulator" in printed
    password = re.search(r"sign in as local, password (\S+);", printed).group(1)

    # Signed in with the account it printed, the simulator texts the bot.
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    login = opener.open(f"{base}/staff/login", timeout=5).read().decode()
    form = {"username": "local", "password": password, "next": "/staff/simulator",
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)}
    with opener.open(f"{base}/staff/login", data=urlencode(form).encode(), timeout=5) as page:
        assert page.url == f"{base}/staff/simulator"
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.read().decode()).group(1)
    resident = post_json(opener, f"{base}/staff/simulator/residents", {}, csrf)["resident"]
    said = post_json(opener, f"{base}/staff/simulator/send",
                     {"resident": resident, "body": "hello"}, csrf)["replies"]
    assert content.message("en", "welcome").split(".")[0] in said[0]["text"]

    # The worker runs too: a message queued for later lands in the local outbox, and one for
    # the simulated resident in its thread on the page.
    redis_url = re.search(r"redis://127\.0\.0\.1:\d+/0", printed).group(0)
    for name in ("OUTBOX_PATH", "QUIET_HOURS"):
        monkeypatch.setenv(name, env[name])
    redis = Redis.from_url(redis_url)
    enqueue_message(redis, Recipient.of(RUN_SECRET.encode(), NUMBER), "Later", "r1")
    enqueue_message(redis, Recipient.of(RUN_SECRET.encode(), simulated.number(resident)),
                    "Later, simulated", "r2")
    wait_for(outbox.read, timeout=10)
    assert [m["body"] for m in outbox.read()] == ["Later"]
    thread = f"{base}/staff/simulator/thread?resident={resident}"
    shown = wait_for(lambda: json.load(opener.open(thread, timeout=5))["messages"], timeout=10)
    assert [m["text"] for m in shown] == ["Later, simulated"]


def test_the_banner_names_the_staff_simulator_and_the_local_account():
    banner = serve._banner("http://127.0.0.1:8000", plugin("worker"), ("local", "pw"))
    assert "simulator: http://127.0.0.1:8000/staff/simulator" in banner
    assert "sign in as local, password pw; for this run only" in banner


def test_screener_run_opens_the_simulator_only_at_a_desktop_terminal(monkeypatch):
    url, opened = "http://127.0.0.1:8000/staff/simulator", []
    monkeypatch.setattr(serve.webbrowser, "open", opened.append)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(sys, "stdout", Terminal())
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    serve.open_in_browser(url)  # no display: Python would start a console browser in it
    assert opened == []
    monkeypatch.setenv("DISPLAY", ":0")
    serve.open_in_browser(url)
    assert opened == [url]
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a script or a log file: never
    serve.open_in_browser(url)
    assert opened == [url]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


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
