"""The web hook under load, as the Procfile serves it: latency at a short code's top speed and
throughput at saturation, each against a bare endpoint measured in the same run.

Both servers run the Procfile's web command (gunicorn, 8 threads a process, its access log),
on loopback, each against a throwaway real Redis server of its own:
- the baseline: a Flask app whose one route does one Redis GET and one SET (bench/bare.py);
- the text line: `bot.app:create_app()`, fed correctly signed Twilio requests (every field
  Twilio posts, tests/phone.py `twilio_form`) from residents going through whole screenings.
Reported: p50 and p99 latency at a steady 100 requests a second with the Procfile's 2
processes (open loop: requests leave on schedule whether or not earlier ones came back), the
CPU time a request costs at that rate and at saturation (the server's processes and its
Redis, from /proc and `INFO cpu`), and requests a second at saturation (closed loop, 16
clients) with 1 and with 2 web processes, the text line's as a ratio to the baseline's. At
100 a second a request's CPU includes a share of what the servers spend whether or not
requests come (waking threads, Redis's timers), the same for both, which brings the ratio
towards 1; at saturation that share is spread over many more requests, so the saturation row
is what one more request costs. At 100 a second the servers run side by side, each with its
own Redis, and get their requests in the same moments (one to each, in turn): a load that
comes and goes elsewhere on this shared machine moves them all alike. Saturation fills the
cores, so there the servers take turns. The load generator (plain http.client, keep-alive)
shares the machine's cores with the servers. Each figure is the median of `--rounds` rounds.
`--before DIR` serves a checkout of an earlier commit beside them (its own `bot` package,
compiled catalogs), for a before-and-after measured in the same run. `--engine-free` serves
the text line once more with its engine at no cost (bench/engine_free.py): what everything
else in a turn costs, a bound on any target for the whole turn.

    .venv/bin/python bench/load.py [--seconds 20] [--rounds 3] [--before DIR]
                                   [--engine-free] [--write docs/benchmarks.md]
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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "reliability")]

from live import procfile_web  # noqa: E402  (the Procfile's web line, on loopback)
from phone import twilio_form  # noqa: E402  (Twilio's whole form)
from redis import Redis  # noqa: E402
from report import write_section  # noqa: E402  (bench/report.py, beside this script)
from twilio.request_validator import RequestValidator  # noqa: E402
from webhook import SCREENING as SCREENINGS  # noqa: E402  (bench/webhook.py's screenings)
from webhook import TOKEN  # noqa: E402

from bot.redis_embedded import RedisServer, free_port  # noqa: E402

SECRET = "bench-secret"
SCREENING = SCREENINGS["en"]
SECTION = "## The web hook under load"
RATE = 100  # requests a second: a short code's top speed
CLIENTS = 16
BEFORE = ("Before this work (2026-12-06, this command then, the servers one after the "
          "other): p50 11.9 ms against 3.6 ms (3.3×), p99 69.2 ms against 5.6 ms (12.4×), 170 "
          "against 599 requests a second at saturation with 2 processes (0.28×); the "
          "generator was `requests`, heavier than today's, so compare ratios. Measured one "
          "after the other, the latency ratios at 100 a second moved by about ±0.5× from run "
          "to run on this shared machine; side by side, a load elsewhere moves all servers "
          "alike, but the bare route then waits for cores the text line is using, so its "
          "latency is no longer its own: hold the latencies against the p99 target, and read "
          "what a turn costs from the CPU a request takes at saturation.")

COLUMNS = {"now": "text line now", "before": "text line before",
           "engine_free": "text line, engine at no cost"}

Send = Callable[[http.client.HTTPConnection], float]


class Server:
    """The Procfile's web command serving `app` with `workers` processes on a free port."""

    def __init__(self, app: str, env: dict[str, str], workers: int, root: Path = ROOT):
        self.port = free_port()
        command = procfile_web(self.port)
        command[1] = app
        command[command.index("--workers") + 1] = str(workers)
        self.process = subprocess.Popen(command, env={**env, "PYTHONPATH": str(root)},
                                        cwd=root, stdout=subprocess.DEVNULL,
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
    try:
        conn.request(method, path, body, headers)
        response = conn.getresponse()
    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
        conn.close()  # gunicorn closed the idle keep-alive connection (after 2 s): reconnect
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
        form = twilio_form(sid, number, SCREENING[index])
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


def steady(servers: list[tuple[Send, int]], seconds: float) -> list[list[float]]:
    """Open loop at RATE a second to each (send, port), one request to each in turn: the
    latency of each request, by server."""
    local = threading.local()

    def one(send: Send, port: int) -> float:
        connections = local.__dict__.setdefault("connections", {})
        if port not in connections:
            connections[port] = connection(port)
        return send(connections[port])

    futures: list[list[Future[float]]] = [[] for _ in servers]
    with ThreadPoolExecutor(max_workers=64) as pool:
        start = time.perf_counter()
        for n in range(int(seconds * RATE)):
            delay = start + n / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            for sent, (send, port) in zip(futures, servers, strict=True):
                sent.append(pool.submit(one, send, port))
    return [[future.result() for future in sent] for sent in futures]


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


@dataclass(frozen=True)
class Target:
    """A server to measure: the app gunicorn serves, from which checkout."""

    name: str
    app: str
    root: Path = ROOT

    @property
    def bare(self) -> bool:
        return self.app.startswith("bench.bare")


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far: the web processes' in user space and in the kernel, and
    Redis's."""

    user: float
    kernel: float
    redis: float

    @property
    def total(self) -> float:
        return self.user + self.kernel + self.redis

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.user - other.user, self.kernel - other.kernel, self.redis - other.redis)


def cpu_seconds(group: int, redis: Redis) -> Cpu:
    """CPU time used so far by a process group (Linux /proc) and by Redis (`INFO cpu`)."""
    user = kernel = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # the fields after the name
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == group:  # pgrp, then utime and stime at 11 and 12
            user += int(fields[11])
            kernel += int(fields[12])
    used = redis.info("cpu")
    ticks = os.sysconf("SC_CLK_TCK")
    return Cpu(user / ticks, kernel / ticks, used["used_cpu_user"] + used["used_cpu_sys"])


class Running:
    """A target served by the Procfile's command with `workers` processes, on its own Redis."""

    def __init__(self, target: Target, env: dict[str, str], workers: int):
        self.redis_server = RedisServer().start()
        self.redis = Redis.from_url(self.redis_server.url)
        self.server = Server(target.app, {**env, "REDIS_URL": self.redis_server.url}, workers,
                             target.root)
        self.port = self.server.port
        self.send = bare if target.bare else Residents(self.port).send
        saturation(self.send, self.port, 3)  # warm every process and thread up

    def cpu_seconds(self) -> Cpu:
        return cpu_seconds(self.server.process.pid, self.redis)

    def saturation(self, seconds: float) -> tuple[float, float, float, float]:
        """Requests a second at saturation, the CPU seconds each took, and of those the web
        processes' in the kernel and Redis's."""
        before = self.cpu_seconds()
        rate = saturation(self.send, self.port, seconds)
        used, requests = self.cpu_seconds() - before, rate * seconds
        return rate, used.total / requests, used.kernel / requests, used.redis / requests

    def stop(self) -> None:
        self.server.stop()
        self.redis_server.stop()


def side_by_side(targets: list[Target], env: dict[str, str],
                 seconds: float) -> list[tuple[float, ...]]:
    """For each target with the Procfile's 2 processes: p50, p99 and CPU seconds a request
    at RATE a second (all served at once), then requests a second at saturation (in turn)
    and the CPU seconds a request there (`Running.saturation`)."""
    running = [Running(target, env, 2) for target in targets]
    try:
        used = [server.cpu_seconds() for server in running]
        latencies = steady([(server.send, server.port) for server in running], seconds)
        used = [(server.cpu_seconds() - before).total
                for server, before in zip(running, used, strict=True)]
        return [(statistics.median(times), percentile(times, 0.99), cpu / len(times),
                 *server.saturation(seconds))
                for server, times, cpu in zip(running, latencies, used, strict=True)]
    finally:
        for server in running:
            server.stop()


def one_process(target: Target, env: dict[str, str], seconds: float) -> float:
    """Requests a second at saturation with one web process."""
    server = Running(target, env, 1)
    try:
        return server.saturation(seconds)[0]
    finally:
        server.stop()


def rounds(targets: list[Target], env: dict[str, str], seconds: float,
           count: int) -> dict[str, tuple[float, ...]]:
    """name -> (p50, p99, CPU a request, saturation with 2 processes, CPU a request there
    and of it the kernel's and Redis's, saturation with 1): medians of `count` rounds."""
    runs: dict[str, list[tuple[float, ...]]] = {target.name: [] for target in targets}
    for _ in range(count):
        for target, two in zip(targets, side_by_side(targets, env, seconds), strict=True):
            runs[target.name].append((*two, one_process(target, env, seconds)))
    return {name: tuple(statistics.median(values) for values in zip(*found, strict=True))
            for name, found in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of an earlier commit, measured alongside")
    parser.add_argument("--before-name", default="an earlier commit",
                        help="what the table calls that checkout (e.g. its commit)")
    parser.add_argument("--engine-free", action="store_true",
                        help="also serve the text line with its engine at no cost "
                             "(bench/engine_free.py): what the rest of a turn costs")
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    targets = [Target("bare", "bench.bare:app"), Target("now", "bot.app:create_app()")]
    if args.before:
        targets.append(Target("before", "bot.app:create_app()", args.before.resolve()))
    if args.engine_free:
        targets.append(Target("engine_free", "bench.engine_free:create_app()"))
    env = {**os.environ, "SCREENER_SECRET": SECRET,
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
           "QUIET_HOURS": "off", "GLOBAL_RATE_LIMIT_PER_MINUTE": "1000000",
           "RATE_LIMIT_PER_MINUTE": "1000"}
    env.pop("PUBLIC_URL", None)
    found = rounds(targets, env, args.seconds, args.rounds)
    table = "\n".join([
        SECTION, "",
        f"`.venv/bin/python bench/load.py --seconds {args.seconds:g} --rounds {args.rounds}"
        + (f" --before DIR --before-name {args.before_name}" if args.before else "")
        + (" --engine-free" if args.engine_free else "")
        + " --write docs/benchmarks.md` "
        f"({date.today().isoformat()}; the Procfile's web command on loopback, a throwaway "
        f"Redis each, {os.cpu_count()} cores shared with the load generator; medians of "
        f"{args.rounds} rounds; at 100 requests a second the servers side by side, each "
        "request to one followed by one to the other). Baseline: the same command serving "
        "a route that does one Redis GET and one SET (`bench/bare.py`)"
        + (f"; \"before\": {args.before_name} (`git archive` into DIR, catalogs compiled), "
           "served the same way" if args.before else "")
        + ("; \"engine at no cost\": the text line with each engine answer replayed from "
           "memory after its first time (`bench/engine_free.py`), everything else as it runs"
           if args.engine_free else "")
        + ". Targets (issue 14): p99 under 50 ms at 100 requests a second on 2 cores, a turn "
        "at most 2× the baseline.", "",
        *rows(found), "", BEFORE, ""])
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


def rows(found: dict[str, tuple[float, ...]]) -> list[str]:
    """The table: each measure for the baseline, the text line now (and before, and with its
    engine at no cost), with the text line's ratio to the baseline."""
    names = [name for name in COLUMNS if name in found]
    head = " | ".join(f"{COLUMNS[name]} | ratio" for name in names)
    lines = [f"| measure | bare GET/SET | {head} |", "|---" * (2 + 2 * len(names)) + "|"]
    measures = [(f"p50 latency at {RATE} requests/s, 2 processes", 0, "ms"),
                (f"p99 latency at {RATE} requests/s, 2 processes", 1, "ms"),
                (f"CPU time a request at {RATE} requests/s (web processes and Redis)", 2,
                 "ms"),
                (f"throughput at saturation ({CLIENTS} clients), 2 processes (Procfile)", 3,
                 "/s"),
                ("CPU time a request at saturation, 2 processes (web processes and Redis)", 4,
                 "ms"),
                ("  of which the web processes' time in the kernel", 5, "ms"),
                ("  of which Redis's", 6, "ms"),
                (f"throughput at saturation ({CLIENTS} clients), 1 process", 7, "/s")]
    for label, index, unit in measures:
        cells = [shown(found["bare"][index], unit)]
        for name in names:
            cells += [shown(found[name][index], unit),
                      f"{found[name][index] / found['bare'][index]:.2f}×"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    scaling = [f"{found[name][3] / found[name][7]:.2f}×" for name in ("bare", *names)]
    lines.append("| 2 processes against 1, at saturation | " + " | ".join(
        [scaling[0], *(cell for value in scaling[1:] for cell in (value, ""))]) + " |")
    return lines


def shown(value: float, unit: str) -> str:
    return f"{value * 1000:.2f} ms" if unit == "ms" else f"{value:.0f}/s"


if __name__ == "__main__":
    main()
