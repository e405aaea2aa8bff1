"""The web hook under load, as the Procfile serves it: latency at a short code's top speed and
throughput at saturation, each against a bare endpoint measured in the same run.

Both servers run the Procfile's web command (gunicorn, 8 threads a process, its access log),
on loopback, against one throwaway real Redis server:
- the baseline: a Flask app whose one route does one Redis GET and one SET (bench/bare.py);
- the text line: `bot.app:create_app()`, fed correctly signed Twilio requests from residents
  going through whole screenings.
Reported: p50 and p99 latency at a steady 100 requests a second with the Procfile's 2
processes (open loop: requests leave on schedule whether or not earlier ones came back), and
requests a second at saturation (closed loop, 16 clients) with 1 and with 2 web processes, the
text line's as a ratio to the baseline's. The load generator (plain http.client, keep-alive)
shares the machine's cores with the servers.

    .venv/bin/python bench/load.py [--seconds 20] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "reliability")]

from live import procfile_web  # noqa: E402  (the Procfile's web line, on loopback)
from report import write_section  # noqa: E402  (bench/report.py, beside this script)
from twilio.request_validator import RequestValidator  # noqa: E402

from bot.redis_embedded import RedisServer, free_port  # noqa: E402

TOKEN = "bench-token"
SECRET = "bench-secret"
SCREENING = ["hi", "20", "95112", "1", "no", "no", "$1,200", "1", "no", "no", "no", "no", "2"]
SECTION = "## The web hook under load"
RATE = 100  # requests a second: a short code's top speed
CLIENTS = 16
BEFORE = ("Before this work (2026-12-06, the same command then): p50 11.9 ms against 3.6 ms "
          "(3.3×), p99 69.2 ms against 5.6 ms (12.4×), 170 against 599 requests a second at "
          "saturation with 2 processes (0.28×); the generator was `requests`, heavier than "
          "today's, so compare ratios.")
Send = Callable[[http.client.HTTPConnection], float]


class Server:
    """The Procfile's web command serving `app` with `workers` processes on a free port."""

    def __init__(self, app: str, env: dict[str, str], workers: int):
        self.port = free_port()
        command = procfile_web(self.port)
        command[1] = app
        command[command.index("--workers") + 1] = str(workers)
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = request(connection(self.port), "GET", "/healthz", b"", {})
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{app} did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def connection(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=15)


def request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes,
            headers: dict[str, str]) -> tuple[int, bytes]:
    conn.request(method, path, body, headers)
    response = conn.getresponse()
    return response.status, response.read()


class Residents:
    """Signed requests from residents who each go through a whole screening, then start over
    as a new number: every request is a real turn, never a duplicate."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/twilio/messages"
        self.validator = RequestValidator(TOKEN)
        self.lock = threading.Lock()
        self.numbers = itertools.count(1)
        self.sids = itertools.count(1)
        self.free: list[tuple[str, int]] = []

    def send(self, conn: http.client.HTTPConnection) -> float:
        with self.lock:
            number, index = self.free.pop() if self.free else (
                f"+1408{next(self.numbers):07d}", 0)
            sid = f"SM{next(self.sids):032x}"
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": number,
                "To": "+14085550000", "Body": SCREENING[index], "NumMedia": "0"}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(self.url, form),
                   "Content-Type": "application/x-www-form-urlencoded"}
        start = time.perf_counter()
        status, _ = request(conn, "POST", "/twilio/messages", urlencode(form).encode(), headers)
        elapsed = time.perf_counter() - start
        if status != 200:
            raise RuntimeError(f"the web hook answered {status}")
        if index + 1 < len(SCREENING):
            with self.lock:
                self.free.append((number, index + 1))
        return elapsed


def bare(conn: http.client.HTTPConnection) -> float:
    start = time.perf_counter()
    status, _ = request(conn, "POST", "/bare", b"", {})
    elapsed = time.perf_counter() - start
    if status != 200:
        raise RuntimeError(f"the bare endpoint answered {status}")
    return elapsed


def steady(send: Send, port: int, seconds: float) -> list[float]:
    """Open loop at RATE a second: the latency of each request."""
    local = threading.local()

    def one() -> float:
        if not hasattr(local, "conn"):
            local.conn = connection(port)
        return send(local.conn)

    futures = []
    with ThreadPoolExecutor(max_workers=64) as pool:
        start = time.perf_counter()
        for n in range(int(seconds * RATE)):
            delay = start + n / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one))
    return [future.result() for future in futures]


def saturation(send: Send, port: int, seconds: float) -> float:
    """Closed loop with CLIENTS clients: requests a second."""
    stop = time.perf_counter() + seconds
    counts = [0] * CLIENTS

    def client(index: int) -> None:
        conn = connection(port)
        while time.perf_counter() < stop:
            send(conn)
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


def measure(app: str, env: dict[str, str], workers: int, seconds: float,
            latency: bool) -> tuple[float, ...]:
    """(p50, p99 at RATE a second, if `latency`) and requests a second at saturation."""
    server = Server(app, env, workers)
    try:
        send = bare if app.startswith("bench.bare") else Residents(server.port).send
        saturation(send, server.port, 3)  # warm every process and thread up
        figures: tuple[float, ...] = ()
        if latency:
            latencies = steady(send, server.port, seconds)
            figures = (statistics.median(latencies), percentile(latencies, 0.99))
        return (*figures, saturation(send, server.port, seconds))
    finally:
        server.stop()


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
        apps = {"bare": "bench.bare:app", "line": "bot.app:create_app()"}
        two = {name: measure(app, env, 2, args.seconds, True) for name, app in apps.items()}
        one = {name: measure(app, env, 1, args.seconds, False)[0] for name, app in apps.items()}
    (bare_p50, bare_p99, bare_two), (p50, p99, line_two) = two["bare"], two["line"]
    table = "\n".join([
        SECTION, "",
        f"`.venv/bin/python bench/load.py --seconds {args.seconds:g} --write "
        f"docs/benchmarks.md` ({date.today().isoformat()}; the Procfile's web command on "
        f"loopback, one throwaway Redis, {os.cpu_count()} cores shared with the load "
        "generator). Baseline: the same command serving a route that does one Redis GET and "
        "one SET (`bench/bare.py`). Targets (issue 14): p99 under 50 ms at 100 requests a "
        "second on 2 cores.", "",
        "| measure | bare GET/SET | signed web hook turn | ratio |",
        "|---|---|---|---|",
        f"| p50 latency at {RATE} requests/s, 2 processes | {bare_p50 * 1000:.1f} ms | "
        f"{p50 * 1000:.1f} ms | {p50 / bare_p50:.1f}× |",
        f"| p99 latency at {RATE} requests/s, 2 processes | {bare_p99 * 1000:.1f} ms | "
        f"{p99 * 1000:.1f} ms | {p99 / bare_p99:.1f}× |",
        f"| throughput at saturation ({CLIENTS} clients), 1 process | {one['bare']:.0f}/s | "
        f"{one['line']:.0f}/s | {one['line'] / one['bare']:.2f}× |",
        f"| throughput at saturation ({CLIENTS} clients), 2 processes (Procfile) | "
        f"{bare_two:.0f}/s | {line_two:.0f}/s | {line_two / bare_two:.2f}× |",
        f"| 2 processes against 1, at saturation | {bare_two / one['bare']:.2f}× | "
        f"{line_two / one['line']:.2f}× | |", "",
        BEFORE, ""])
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
