"""The web hook under load, as the Procfile serves it: latency at a short code's top speed and
throughput at saturation, each against a bare endpoint measured in the same run.

Both servers are gunicorn with the Procfile's settings (2 workers, 8 threads), on loopback,
against one throwaway real Redis server:
- the baseline: a Flask app whose one route does one Redis GET and one SET (bench/bare.py);
- the text line: `bot.app:create_app()`, fed correctly signed Twilio requests from residents
  going through whole screenings.
Reported: p50 and p99 latency at a steady 100 requests a second (open loop: requests leave on
schedule whether or not earlier ones came back), and requests a second at saturation (closed
loop, 16 clients), the text line's as a ratio to the baseline's.

    .venv/bin/python bench/load.py [--seconds 20] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import requests
from report import write_section  # bench/report.py, beside this script
from twilio.request_validator import RequestValidator

from bot.redis_embedded import RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
SECRET = "bench-secret"
SCREENING = ["hi", "20", "95112", "1", "no", "no", "$1,200", "1", "no", "no", "no", "no", "2"]
SECTION = "## The web hook under load"
RATE = 100  # requests a second: a short code's top speed
CLIENTS = 16


class Server:
    """gunicorn with the Procfile's settings, serving `app` on a free loopback port."""

    def __init__(self, app: str, env: dict[str, str]):
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), app, "--bind",
             f"127.0.0.1:{self.port}", "--workers", "2", "--threads", "8", "--timeout", "30",
             "--graceful-timeout", "20"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/healthz", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"{app} did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


class Residents:
    """Signed requests from residents who each go through a whole screening, then start over
    as a new number: every request is a real turn, never a duplicate."""

    def __init__(self, base: str):
        self.url = f"{base}/twilio/messages"
        self.validator = RequestValidator(TOKEN)
        self.lock = threading.Lock()
        self.numbers = itertools.count(1)
        self.sids = itertools.count(1)
        self.free: list[tuple[str, int]] = []

    def next_request(self) -> tuple[dict[str, str], dict[str, str], tuple[str, int]]:
        with self.lock:
            number, index = self.free.pop() if self.free else (
                f"+1408{next(self.numbers):07d}", 0)
            sid = f"SM{next(self.sids):032x}"
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": number,
                "To": "+14085550000", "Body": SCREENING[index], "NumMedia": "0"}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(self.url, form)}
        return form, headers, (number, index)

    def done(self, resident: tuple[str, int]) -> None:
        number, index = resident
        if index + 1 < len(SCREENING):
            with self.lock:
                self.free.append((number, index + 1))

    def send(self, session: requests.Session) -> float:
        form, headers, resident = self.next_request()
        start = time.perf_counter()
        response = session.post(self.url, data=form, headers=headers, timeout=15)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"the web hook answered {response.status_code}")
        self.done(resident)
        return elapsed


def bare_sender(base: str):
    def send(session: requests.Session) -> float:
        start = time.perf_counter()
        response = session.post(f"{base}/bare", timeout=15)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"the bare endpoint answered {response.status_code}")
        return elapsed
    return send


def steady(send, seconds: float) -> list[float]:
    """Open loop at RATE a second: the latency of each request."""
    sessions = threading.local()

    def one() -> float:
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
        return send(sessions.session)

    futures = []
    with ThreadPoolExecutor(max_workers=64) as pool:
        start = time.perf_counter()
        for n in range(int(seconds * RATE)):
            delay = start + n / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one))
    return [future.result() for future in futures]


def saturation(send, seconds: float) -> float:
    """Closed loop with CLIENTS clients: requests a second."""
    stop = time.perf_counter() + seconds
    counts = [0] * CLIENTS

    def client(index: int) -> None:
        session = requests.Session()
        while time.perf_counter() < stop:
            send(session)
            counts[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    with RedisServer() as redis:
        env = {**os.environ, "REDIS_URL": redis.url, "SCREENER_SECRET": SECRET,
               "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
               "QUIET_HOURS": "off", "GLOBAL_RATE_LIMIT_PER_MINUTE": "1000000",
               "RATE_LIMIT_PER_MINUTE": "1000", "PYTHONPATH": str(ROOT)}
        env.pop("PUBLIC_URL", None)
        results = {}
        for name, app in (("bare", "bench.bare:app"), ("text line", "bot.app:create_app()")):
            server = Server(app, env)
            try:
                send = bare_sender(server.base) if name == "bare" else Residents(
                    server.base).send
                saturation(send, 3)  # warm both processes up
                latencies = steady(send, args.seconds)
                results[name] = (statistics.median(latencies), percentile(latencies, 0.99),
                                 saturation(send, args.seconds))
            finally:
                server.stop()
    bare, line = results["bare"], results["text line"]
    table = "\n".join([
        SECTION, "",
        f"`.venv/bin/python bench/load.py --seconds {args.seconds:g} --write "
        f"docs/benchmarks.md` ({date.today().isoformat()}; gunicorn with the Procfile's "
        f"settings on loopback, one throwaway Redis, {os.cpu_count()} cores shared with the "
        "load generator). Baseline: the same gunicorn serving a route that does one Redis GET "
        "and one SET (`bench/bare.py`). Measured before the work of issue 14 (a cheaper "
        "turn): its targets are p99 under 50 ms at 100 requests a second and a turn at most "
        "2× the baseline.", "",
        "| measure | bare GET/SET | signed web hook turn | ratio |",
        "|---|---|---|---|",
        f"| p50 latency at {RATE} requests/s | {bare[0] * 1000:.1f} ms | "
        f"{line[0] * 1000:.1f} ms | {line[0] / bare[0]:.1f}× |",
        f"| p99 latency at {RATE} requests/s | {bare[1] * 1000:.1f} ms | "
        f"{line[1] * 1000:.1f} ms | {line[1] / bare[1]:.1f}× |",
        f"| throughput at saturation ({CLIENTS} clients) | {bare[2]:.0f}/s | {line[2]:.0f}/s | "
        f"{line[2] / bare[2]:.2f}× |", ""])
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
