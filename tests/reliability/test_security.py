"""Security checks (docs/security.md lists every check and where it lives): who gets in, what
a captured request can do, whether flood limits hold across web processes, and what the text
line keeps about a resident, during a run and after STOP.

The served checks run the Procfile's web command (gunicorn, two workers, threads) on
127.0.0.1 against a real Redis (tests/redis_server.py), and a real `screener worker` process
with a stand-in estimate model (tests/worker_kit.py); nothing leaves this machine.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from phone import (
    ANSWERS,
    AUTH_TOKEN,
    BY_TYPE,
    SECRET,
    Phone,
    make_app,
    replied_sids,
    replies,
    sign,
)
from redis import Redis
from rq import Queue
from rq.job import Job
from worker_kit import everything_in

from bot.store import Store, contact_id
from worker.queues import QUEUES

pytest_plugins = ["redis_server"]
ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "tests" / "worker_kit.py"
PUBLIC_URL = "https://textline.example.org"
ACCOUNT = "AC" + "0" * 32
TO = "+14085550000"


def form_of(address: str, body: str, sid: str, **fields: str) -> dict[str, str]:
    """An inbound message's fields as Twilio posts them."""
    return {"MessageSid": sid, "AccountSid": ACCOUNT, "From": address, "To": TO, "Body": body,
            "NumMedia": "0", **fields}


def sid_of(n: int, tag: int = 0) -> str:
    return f"SM{tag:08x}{n:024x}"


def said(response: requests.Response) -> list[str]:
    assert response.status_code == 200, (response.status_code, response.text)
    return [m.text or "" for m in ET.fromstring(response.content).iter("Message")]


# -- re-targeted signatures (in process) ------------------------------------------------------

@pytest.mark.parametrize("signed_for", [
    "https://staging.example.org/twilio/messages",  # our other deployment's PUBLIC_URL
    "http://textline.example.org/twilio/messages",  # the same host, another scheme
    "https://textline.example.org:8443/twilio/messages",  # another port
    "https://textline.example.org/twilio/status",  # another of our routes
    "https://textline.example.org/twilio/messages?campaign=flyer-7",  # a query since dropped
    "http://10.0.0.5:8000/twilio/messages",  # the internal address the proxy forwards to
])
def test_a_signature_made_for_another_address_is_refused_and_leaves_nothing(
        fake_redis, content, signed_for):
    app = make_app(fake_redis, content, PUBLIC_URL=PUBLIC_URL)
    form = Phone(app).form("hello")
    client = app.test_client()
    refused = client.post("/twilio/messages", data=form, base_url="http://10.0.0.5:8000",
                          headers={"X-Twilio-Signature": sign(signed_for, form)})
    assert refused.status_code == 403
    assert fake_redis.keys("sj:{*") == []
    accepted = client.post("/twilio/messages", data=form, base_url="http://10.0.0.5:8000",
                           headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/messages",
                                                               form)})
    assert replies(accepted)  # the same form, signed for the right address, gets in


# -- STOP: what is left of a contact (real Redis, in process) ----------------------------------

@pytest.mark.redis_server
def test_stop_erases_the_contacts_session_replies_jobs_and_estimate_and_keeps_the_opt_out(
        real_redis, content, monkeypatch):
    monkeypatch.setenv("QUIET_HOURS", "off")
    app = make_app(real_redis, content, OPT_OUT_MODE="app")
    stays = Phone(app, number="+14085550177")
    stays.screen_to_results()
    leaves = Phone(app, channel="whatsapp")
    leaves.screen_to_results()  # queues a dollar estimate
    leaves.text("REMIND")  # schedules a reminder

    def mine() -> list[bytes]:
        return [item for item in everything_in(real_redis) if leaves.contact.encode() in item]

    before = mine()
    assert real_redis.exists(f"sj:{{{leaves.contact}}}:estimate")
    their_jobs = [job_id.decode() for job_id in
                  real_redis.smembers(f"sj:{{{leaves.contact}}}:jobs")]
    assert their_jobs and all(Job.exists(job_id, connection=real_redis) for job_id in their_jobs)

    stop_sid = "SM" + "5" * 32
    assert leaves.text("STOP", sid=stop_sid) == [content.message("en", "stopped")]

    prefix = f"sj:{{{leaves.contact}}}:"
    left = {name.decode().removeprefix(prefix) for name in real_redis.keys(prefix + "*")}
    # Kept: the opt-out record; the STOP's own answer (a redelivered STOP gets it again, not a
    # second opt-out); the flood window (message times, a minute). Nothing the resident said,
    # nothing about them.
    assert left == {"optout", "replies", "rate"}
    assert replied_sids(real_redis, leaves.contact) == [stop_sid]
    assert real_redis.ttl(prefix + "rate") <= 60
    # No queued job, scheduled reminder or waiting household of theirs anywhere else: the one
    # mention left outside their keys is their hash in the estimate drain's line, which the
    # drain skips (the household it pointed at is gone).
    elsewhere = [item for item in mine() if not item.startswith(prefix.encode())]
    assert elsewhere == [leaves.contact.encode()]
    assert real_redis.lrange("sj:estimates:pending", 0, -1).count(leaves.contact.encode()) == 1
    assert len(before) > len(mine())
    assert not any(Job.exists(job_id, connection=real_redis) for job_id in their_jobs)
    for job_id in real_redis.smembers(f"sj:{{{stays.contact}}}:jobs"):
        assert Job.exists(job_id.decode(), connection=real_redis)  # the neighbour keeps theirs
    assert stays.session is not None


# -- the served app: gunicorn with the Procfile settings, on 127.0.0.1 -------------------------

def procfile_command(name: str) -> list[str]:
    """The Procfile's command for `name`, bound to a port the kernel picks on 127.0.0.1,
    with the worker's pid in each access log line (to see both workers answer)."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines()
                if line.startswith(f"{name}:"))
    line = line.split(":", 1)[1].replace("${PORT:-8000}", "0").replace(
        "${WEB_CONCURRENCY:-2}", "2").replace("0.0.0.0", "127.0.0.1")
    assert "$" not in line, line
    argv = shlex.split(line)
    return [str(Path(sys.executable).with_name(argv[0])), *argv[1:],
            "--access-logformat", 'pid=%(p)s "%(r)s" %(s)s', "--no-control-socket"]


class Served:
    """The web app under gunicorn; its log (access and application lines) in one file."""

    def __init__(self, env: Mapping[str, str], folder: Path, redis: Redis):
        self.log_path = folder / "gunicorn.log"
        self.redis = redis
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(procfile_command("web"), env=dict(env), cwd=folder,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        found = wait_for(lambda: re.search(r"Listening at: http://127\.0\.0\.1:(\d+)",
                                           self.log()), 60, self.log, "gunicorn to listen")
        self.base = f"http://127.0.0.1:{found.group(1)}"
        wait_for(lambda: len(re.findall(r"Booting worker with pid", self.log())) >= 2, 60,
                 self.log, "two gunicorn workers")
        # Each worker loads the app after it boots: ready once both have answered /healthz.
        wait_for(self._both_healthy, 120, self.log, "both workers to answer /healthz")

    def _both_healthy(self) -> bool:
        try:
            with ThreadPoolExecutor(4) as pool:
                codes = list(pool.map(lambda _: requests.get(self.base + "/healthz",
                                                             timeout=10).status_code, range(4)))
        except requests.ConnectionError:
            return False
        return all(code == 200 for code in codes) and len(self.pids("GET /healthz")) == 2

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def post(self, form: Mapping[str, str], signature: str | None = None,
             path: str = "/twilio/messages") -> requests.Response:
        """One request on a connection of its own, signed for PUBLIC_URL unless told."""
        if signature is None:
            signature = sign(PUBLIC_URL + path, form)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return requests.post(self.base + path, data=form, headers=headers, timeout=30)

    def post_all(self, requests_: list[tuple[dict[str, str], str | None]],
                 at_once: int = 16) -> list[requests.Response]:
        """Post them all, `at_once` at a time; the answers in the order of the list."""
        with ThreadPoolExecutor(at_once) as pool:
            return list(pool.map(lambda pair: self.post(*pair), requests_))

    def pids(self, request: str = "POST /twilio/messages") -> Counter[str]:
        """How many such requests each gunicorn worker answered (from its access log)."""
        return Counter(re.findall(rf'pid=<(\d+)> "{re.escape(request)}[ ?]', self.log()))

    def both_answered(self, count: int, request: str = "POST /twilio/messages") -> None:
        """Wait until the access log holds `count` such requests; both workers answered."""
        wait_for(lambda: sum(self.pids(request).values()) >= count, 30, self.log,
                 f"{count} access log lines")
        assert len(self.pids(request)) == 2, self.pids(request)

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (a graceful stop), SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(check: Callable[[], Any], timeout: float, logs: Callable[[], str],
             what: str) -> Any:
    """Poll `check` until it is truthy; fail with the logs after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; log:\n{logs()[-4000:]}")
        time.sleep(0.05)
    return found


def base_env(redis_url: str, folder: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("TWILIO_", "RATE_", "GLOBAL_"))
           and name not in ("PUBLIC_URL", "WHATSAPP_TEMPLATE_SID", "REDIS_URL")}
    return env | {"REDIS_URL": redis_url, "SCREENER_SECRET": SECRET, "QUIET_HOURS": "off",
                  "OUTBOX_PATH": str(folder / "outbox.jsonl"),
                  "OPT_OUT_FALLBACK_PATH": str(folder / "optouts.jsonl")}


@pytest.fixture
def serve(redis_server, real_redis, tmp_path) -> Iterator[Callable[..., Served]]:
    """Start the web app under gunicorn with these settings (strings, as in the environment)."""
    started: list[Served] = []

    def start(**settings: str) -> Served:
        env = base_env(redis_server.url, tmp_path) | {
            "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PUBLIC_URL": PUBLIC_URL, **settings}
        started.append(Served(env, tmp_path, real_redis))
        return started[-1]

    try:
        yield start
    finally:
        for served in started:
            served.stop()


def redis_contact(number: str) -> str:
    return contact_id(SECRET.encode(), number)


@pytest.mark.slow
@pytest.mark.redis_server
def test_forged_missing_and_retargeted_signatures_get_403_from_every_gunicorn_worker(
        serve, real_redis):
    served = serve()
    numbers = [f"+1408555{n:04d}" for n in range(2000, 2060)]
    attempts = []
    for n, number in enumerate(numbers):
        form = form_of(number, "hello", sid_of(n, 1))
        attempts.append((form, [
            "",  # none at all
            sign(PUBLIC_URL + "/twilio/messages", form, token="a-guessed-token"),  # forged
            sign("https://staging.example.org/twilio/messages", form),  # another PUBLIC_URL
            sign(PUBLIC_URL + "/twilio/status", form),  # another route
            sign(served.base + "/twilio/messages", form),  # the address gunicorn listens on
        ][n % 5]))
    answers = served.post_all(attempts)
    assert [answer.status_code for answer in answers] == [403] * len(attempts)
    served.both_answered(len(attempts))  # both workers refused some
    assert real_redis.keys("sj:{*") == []
    assert said(served.post(form_of(numbers[0], "hello", sid_of(99, 1))))  # a true one gets in


def counted(redis: Redis) -> Counter[str]:
    """The funnel counters of every day (a run may cross San José's midnight)."""
    totals: Counter[str] = Counter()
    for name in redis.scan_iter("sj:stats:*"):
        totals.update({field.decode(): int(value) for field, value in redis.hgetall(name).items()})
    return totals


# Every field Twilio posts with an inbound SMS, in a captured request.
CAPTURED = {
    "ToCountry": "US", "ToState": "CA", "SmsMessageSid": "", "NumMedia": "0",
    "ToCity": "SAN JOSE", "FromZip": "95112", "SmsSid": "", "FromState": "CA",
    "SmsStatus": "received", "FromCity": "SAN JOSE", "Body": "22", "FromCountry": "US",
    "To": TO, "ToZip": "95113", "NumSegments": "1", "MessageSid": "", "AccountSid": ACCOUNT,
    "From": "", "ApiVersion": "2010-04-01",
}


def resplit(form: Mapping[str, str]) -> list[dict[str, str]]:
    """Every form that signs the same as `form` by folding the fields after one field (in
    Twilio's signing order, sorted by name) into that field's value: name and value run
    together, so the signed string is unchanged."""
    names = sorted(form)
    forms = []
    for i, name in enumerate(names):
        for j in range(i + 1, len(names)):
            folded = "".join(other + form[other] for other in names[i + 1:j + 1])
            forms.append({other: form[other] for other in names if other not in
                          names[i + 1:j + 1]} | {name: form[name] + folded})
    return forms


@pytest.mark.slow
@pytest.mark.redis_server
def test_a_captured_request_replayed_with_its_fields_moved_starts_no_new_turn(
        serve, real_redis):
    """Finding 11: moving NumMedia into the MessageSid keeps the signature valid. Tried here:
    the request itself ten times at once, and every re-split of its signed fields."""
    served = serve()
    number = "+14085552100"
    assert said(served.post(form_of(number, "hello", sid_of(1, 2))))
    sid = sid_of(2, 2)
    captured = CAPTURED | {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid,
                           "From": number}
    signature = sign(PUBLIC_URL + "/twilio/messages", captured)
    first = said(served.post(captured, signature))
    store = Store(real_redis)
    trail = store.snapshot(redis_contact(number), None).session["trail"]
    before = counted(real_redis)
    replays = resplit(captured)
    assert all(sign(PUBLIC_URL + "/twilio/messages", form) == signature for form in replays)
    assert any(form.get("MessageSid") == sid + "NumMedia0" for form in replays)

    answers = served.post_all([(captured, signature)] * 10
                              + [(form, signature) for form in replays])
    assert [said(answer) for answer in answers[:10]] == [first] * 10  # the same answer again
    odd = [(form, said(answer)) for form, answer in zip(replays, answers[10:], strict=True)
           if said(answer) not in ([], first)]
    assert not odd, odd
    assert store.snapshot(redis_contact(number), None).session["trail"] == trail
    after = counted(real_redis)
    assert after["inbound:sms"] == before["inbound:sms"], after - before  # no turn ran
    assert after["duplicate"] - before["duplicate"] >= 10
    served.both_answered(2 + 10 + len(replays))


@pytest.mark.slow
@pytest.mark.redis_server
@pytest.mark.parametrize("numbers", [1, 4])
def test_a_flood_is_held_to_each_numbers_limit_across_gunicorn_workers(
        serve, real_redis, content, numbers):
    served = serve(RATE_LIMIT_PER_MINUTE="5")
    flood = [(form_of(f"+1408555{3000 + n:04d}", "hi", sid_of(k, 3000 + n)), None)
             for k in range(40) for n in range(numbers)]
    # Eight at a time: enough for both workers to take part, few enough that a message
    # waiting for its contact's lock gets it well inside the lock wait (5 s), even under load.
    answers = served.post_all(flood, at_once=8)
    notice = content.message("en", "rate_limited")
    for n in range(numbers):
        heard = [said(answer) for (form, _), answer in zip(flood, answers, strict=True)
                 if form["From"] == f"+1408555{3000 + n:04d}"]
        assert sum(1 for replies_ in heard if replies_) == 5 + 1, heard  # 5 turns, 1 notice
        assert sum(1 for replies_ in heard if replies_ == [notice]) == 1, heard
    totals = counted(real_redis)
    assert (totals["rate_limited"], totals["silent"]) == (numbers, 34 * numbers)
    served.both_answered(len(flood))


def wait_for_a_fresh_minute(margin: float = 15) -> None:
    """The global ceiling counts per clock minute: start a burst well inside one."""
    wait_for(lambda: time.time() % 60 < 60 - margin, 20, lambda: "", "a fresh minute")


@pytest.mark.slow
@pytest.mark.redis_server
def test_a_storm_from_many_numbers_is_held_to_the_global_ceiling_across_gunicorn_workers(
        serve, real_redis, content):
    served = serve(GLOBAL_RATE_LIMIT_PER_MINUTE="10")
    storm = [(form_of(f"+1408555{4000 + n:04d}", "hello", sid_of(n, 4)), None)
             for n in range(40)]
    wait_for_a_fresh_minute()
    heard = [said(answer) for answer in served.post_all(storm)]
    busy = [content.message("en", "busy")]
    assert sum(1 for replies_ in heard if replies_ == busy) == 30, heard
    assert all(replies_ for replies_ in heard)  # nobody dropped silently
    served.both_answered(len(storm))


# -- after a run: no number and no message text in Redis, logs or job arguments ---------------

class HttpPhone:
    """A resident texting the served app; reads its session from Redis to answer."""

    def __init__(self, served: Served, content: Any, number: str, channel: str):
        self.served, self.content, self.number = served, content, number
        self.address = f"whatsapp:{number}" if channel == "whatsapp" else number
        self.contact = redis_contact(self.address)
        self.store = Store(served.redis)
        self.sent = 0

    def text(self, body: str) -> list[str]:
        self.sent += 1
        return said(self.served.post(form_of(self.address, body,
                                             sid_of(self.sent, int(self.number[-4:])))))

    def session(self) -> dict[str, Any] | None:
        return self.store.snapshot(self.contact, None).session

    def screen_to_results(self, aside: str, limit: int = 40) -> None:
        """Answer every question, saying `aside` (not an answer) at the first one."""
        for _ in range(limit):
            session = self.session() or {}
            if session.get("stage") == "results":
                return
            if session.get("stage") != "asking":
                self.text("1")  # a menu: language, continue or start over
                continue
            question = self.content.flow.question(session["question"])
            if aside:
                self.text(aside)
                aside = ""
            self.text(ANSWERS.get(question.id, BY_TYPE[question.type]))
        raise AssertionError(f"no results after {limit} answers: {self.session()}")


def ways_to_write(number: str) -> list[str]:
    """An E.164 number as a careless line might write it (long enough never to be chance)."""
    national = number[2:]
    return [number, number[1:], national, f"{national[:3]}-{national[3:6]}-{national[6:]}",
            f"({national[:3]}) {national[3:6]}-{national[6:]}"]


def every_job(redis: Redis) -> list[Job]:
    """Every RQ job of every queue, whatever its state (waiting, scheduled, done, failed)."""
    ids: set[str] = set()
    for name in QUEUES:
        queue = Queue(name, connection=redis)
        ids.update(queue.get_job_ids())
        for registry in (queue.scheduled_job_registry, queue.finished_job_registry,
                         queue.failed_job_registry, queue.started_job_registry,
                         queue.deferred_job_registry, queue.canceled_job_registry):
            ids.update(registry.get_job_ids())
    return [job for job in Job.fetch_many(sorted(ids), connection=redis) if job is not None]


def sent_follow_ups(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [entry for entry in map(json.loads, lines)
            if str(entry.get("id", "")).startswith("estimate-")]


@pytest.mark.slow
@pytest.mark.redis_server
def test_after_a_run_no_number_or_message_text_is_in_redis_the_logs_or_job_arguments(
        serve, real_redis, content, redis_server, tmp_path):
    """Four residents screened through gunicorn (SMS and WhatsApp), each saying something
    that is not an answer, asking for a reminder; a real worker drains their follow-ups.
    Answers themselves ("22", "95112") are kept as parsed answers for the retention period
    (docs/security.md); what a resident says besides is never kept."""
    served = serve()
    worker_log = tmp_path / "worker.log"
    env = base_env(redis_server.url, tmp_path) | {
        "STANDIN_LEASE": "2", "STANDIN_DELAY": "0", "STANDIN_LOG": str(tmp_path / "batches")}
    with worker_log.open("w") as log:
        worker = subprocess.Popen([sys.executable, str(KIT)], env=env, cwd=tmp_path,
                                  stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        residents, asides, queued = [], [], []
        for n, word in enumerate(("periwinkle", "Bartholomew", "Quetzalcoatl", "zucchini")):
            phone = HttpPhone(served, content, f"+1408555{6100 + n}",
                              "whatsapp" if n % 2 else "sms")
            opening = f"Hello, my neighbour {word} told me about this"
            aside = f"not sure, I would ask {word}-{n}"
            phone.text(opening)
            phone.screen_to_results(aside)
            phone.text(f"thanks, tell {word} too")
            phone.text("REMIND")
            residents.append(phone)
            asides += [opening, aside, f"thanks, tell {word} too", word]
            queued += every_job(real_redis)  # before the worker takes them
        wait_for(lambda: len(sent_follow_ups(tmp_path / "outbox.jsonl")) >= len(residents),
                 90, lambda: worker_log.read_text() + served.log(), "every follow-up")
        wait_for(lambda: not any(Queue(name, connection=real_redis).count for name in QUEUES),
                 30, worker_log.read_text, "the queues to drain")
    finally:
        stop(worker)
    served.stop()  # every log line written

    jobs = queued + every_job(real_redis)  # done jobs are not kept (result_ttl=0)
    assert {job.func_name for job in jobs} >= {"worker.followups.drain"}, jobs
    scheduled = [job.id for job in every_job(real_redis) if job.is_scheduled]
    assert sum(job_id.startswith("send-reminder") for job_id in scheduled) == len(residents)
    assert sum(job_id.startswith("applied-") for job_id in scheduled) == len(residents)
    job_text = "\n".join(f"{job.description} {job.args!r} {job.kwargs!r} {job.meta!r}"
                         for job in jobs)
    stored = b"\n".join(everything_in(real_redis)).decode("utf-8", "replace")
    logged = served.log() + worker_log.read_text()
    assert "contact=" in logged and f"sj:{{{residents[0].contact}}}:session" in stored
    for where, text in (("redis", stored), ("logs", logged), ("job arguments", job_text)):
        folded = text.casefold()
        for phone in residents:
            for form in ways_to_write(phone.number):
                assert form not in text, (where, form)
        for said_ in asides:
            assert said_.casefold() not in folded, (where, said_)
