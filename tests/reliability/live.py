"""Real parts for the fault-injection suite: gunicorn started as the Procfile starts it (on a
free 127.0.0.1 port), residents that text it with Twilio's signature, and the tally each
scenario prints (sent, lost, doubled, 5xx: docs/reliability.md, "Faults")."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from phone import ANSWERS, AUTH_TOKEN, BY_TYPE, SECRET, new_sid, sign

from bot.redis_embedded import free_port
from bot.store import Store, connect, contact_id

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def procfile_web(port: int) -> list[str]:
    """The Procfile's web command, bound to 127.0.0.1:port (never any other address)."""
    [line] = [line for line in PROCFILE.read_text().splitlines() if line.startswith("web:")]
    line = line.removeprefix("web:").replace("0.0.0.0:${PORT:-8000}", f"127.0.0.1:{port}")
    line = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1]) or m[2], line)
    args = shlex.split(line)
    assert args[0] == "gunicorn" and f"127.0.0.1:{port}" in args, args
    # No control socket: gunicorn 27 puts one in the home folder, shared by every gunicorn.
    return [str(Path(sys.executable).with_name("gunicorn")), *args[1:], "--no-control-socket"]


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `check` until it holds; fail after `seconds` (never a fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what}")
        time.sleep(0.05)


class Gunicorn:
    """The web process group as deployed: its own session, stopped with SIGTERM (then KILL)."""

    def __init__(self, redis_url: str, folder: Path, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"gunicorn-{self.port}.log"
        base = {name: value for name, value in os.environ.items()
                if not name.startswith(("TWILIO_", "SCREENER_"))}
        self.env = base | {
            "REDIS_URL": redis_url, "SCREENER_SECRET": SECRET,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "QUIET_HOURS": "off", "OPT_OUT_FALLBACK_PATH": str(folder / "optouts.jsonl"),
            "WEB_CONCURRENCY": "2", **env}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        with self.log.open("w") as log:
            self.process = subprocess.Popen(procfile_web(self.port), env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_for(self._answers, 60, f"gunicorn on {self.url}: {self.tail()}")
        return self

    def _answers(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.tail()
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code in (200, 503)
        except requests.RequestException:  # not listening yet, or its workers still loading
            return False

    def health(self) -> requests.Response:
        return requests.get(f"{self.url}/healthz", timeout=10)

    def tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Tally:
    """What a scenario tried and what survived; thread-safe counters."""

    requests: int = 0
    five_xx: int = 0
    apologies: int = 0
    lost: int = 0
    doubled: int = 0
    notes: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, **by: int) -> None:
        with self._lock:
            for name, n in by.items():
                setattr(self, name, getattr(self, name) + n)

    def line(self, scenario: str, tried: str) -> str:
        extra = "".join(f", {k} {v}" for k, v in self.notes.items())
        text = (f"[faults] {scenario}: tried {tried}; sent {self.requests}, lost {self.lost}, "
                f"doubled {self.doubled}, 5xx {self.five_xx}, apologies {self.apologies}"
                f"{extra}")
        print(text)
        return text


class Resident:
    """One resident's phone against a live server: signed form posts, as Twilio makes them."""

    _local = threading.local()

    def __init__(self, base_url: str, number: str, tally: Tally):
        self.url = f"{base_url}/twilio/messages"
        self.number, self.tally = number, tally
        self.contact = contact_id(SECRET.encode(), number)

    @classmethod
    def http(cls) -> requests.Session:
        if not hasattr(cls._local, "session"):
            cls._local.session = requests.Session()
        return cls._local.session

    def post(self, body: str, sid: str | None = None) -> tuple[int, list[str]]:
        form = {"MessageSid": sid or new_sid(), "AccountSid": "AC" + "0" * 32,
                "From": self.number, "To": "+14085550000", "Body": body, "NumMedia": "0"}
        response = self.http().post(self.url, data=form, timeout=60,
                                    headers={"X-Twilio-Signature": sign(self.url, form)})
        self.tally.count(requests=1, five_xx=int(response.status_code >= 500))
        if response.status_code != 200:
            return response.status_code, []
        return 200, [m.text or "" for m in ET.fromstring(response.content).iter("Message")]


def session_of(store: Store, contact: str) -> dict[str, Any] | None:
    return store.snapshot(contact, None).session


def next_answer(session: dict[str, Any] | None, *contents: Any) -> str:
    """What a resident types next: an answer to the question on their screen (from the first
    of `contents` that has it: a deploy may have removed it), or "1" at a menu."""
    if session is None:
        return "hello"
    if session["stage"] != "asking":
        return "1"
    [question, *_] = [q for c in contents if (q := c.flow.question(session["question"]))]
    return ANSWERS.get(question.id, BY_TYPE[question.type])


def store_for(url: str) -> Store:
    return Store(connect(url))
