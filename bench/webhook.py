"""How much of Twilio's 15 s the web hook uses: our own time per inbound message.

Measures, in one process and one run, against a throwaway real Redis server:
- baseline: a Flask route that does one Redis GET and one SET (bench/bare.py's), through the
  same kind of test client: the least a web hook that keeps state could cost;
- `GET /healthz` of the text line (a PING and a SET);
- a whole signed `POST /twilio/messages` turn, with every field Twilio posts
  (tests/phone.py `twilio_form`): signature check, lock, dedup, load, opt-out and
  flood checks, engine, save and unlock, TwiML, over complete screenings, in English and
  in Vietnamese (UCS-2 texts, the longest catalog lookups);
- within those same turns, the time in `engine.step` (the pure engine: the flow's questions,
  rules and texts) and the rest (the host: web, signature, Redis, encoding, logging);
- a floor: the bare route running `engine.step` on the same screenings (sessions kept in the
  process), what a turn would cost if everything but the engine were as cheap as the bare
  route's GET and SET.
Each figure is reported as a ratio to the baseline measured in the same run, in blocks: as
many bare requests go just before every screening (or 20 other requests) as it has, so a load
that comes and goes on the machine moves both alike, and each block runs warm, as it would
alone.

    .venv/bin/python bench/webhook.py [--conversations 40] [--before DIR --before-name NAME]
                                      [--write docs/benchmarks.md]

`--before DIR` measures a `git archive` of an earlier commit (catalogs compiled) the same way,
right after, in a process of its own.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask
from redis import Redis
from report import write_section  # bench/report.py, beside this script
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from phone import twilio_form  # tests/phone.py: Twilio's whole form

from bot import inbound
from bot.app import create_app
from bot.content import load_content
from bot.redis_embedded import RedisServer

TOKEN = "bench-token"
URL = "http://localhost/twilio/messages"
SCREENING = {
    "en": ["hi", "20", "95112", "1", "no", "no", "$1,200", "1", "no", "no", "no", "no", "2"],
    "vi": ["xin chào", "20", "95112", "1", "không", "không", "1200", "1", "không", "không",
           "không", "không", "2"],
}
SECTION = "## Web hook turn time"
BEFORE = ("A turn made 8 Redis round trips before issue 14's cheaper turn, and makes 2 now "
          "(tests/test_round_trips.py). Issue 14 measured the whole turn at 4.1× the bare "
          "route and asks for 2×. The floor row is the bare route running `engine.step` "
          "besides its GET and SET: a 2× turn in this process would leave everything else "
          "the host does less than the bare route itself costs. That is the signature and "
          "the form, two Lua scripts in Redis (lock, redeliveries, flood window, session and "
          "counters: tens of microseconds of Redis's time each, where a GET and a SET take "
          "one or two), the session's and the replies' encoding, TwiML and the log line. The "
          "host's row says what those cost now. Through the test client the bare route costs "
          "less than any real server makes a request cost; under the Procfile's gunicorn "
          "(next section) both pay the server's own work, and the ratio is that of the CPU "
          "a request takes at saturation.")


def timed(action: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


class EngineTimer:
    """Wraps the engine as the host calls it, keeping the time of each call."""

    def __init__(self) -> None:
        self.step, self.spent = inbound.step, 0.0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.step(*args, **kwargs)
        finally:
            self.spent += time.perf_counter() - started


def measure(conversations: int) -> dict[str, list[float]]:
    """Every measure's samples (seconds), in one run against a throwaway Redis."""
    content = load_content()
    numbers = itertools.count(4085550000)
    sids = itertools.count(1)
    validator = RequestValidator(TOKEN)
    with RedisServer() as server:
        os.environ["REDIS_URL"] = server.url
        from bare import app as bare_app  # bench/bare.py: connects to REDIS_URL on import

        redis = Redis.from_url(server.url)
        app = create_app({
            "SCREENER_SECRET": "bench", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": TOKEN, "REDIS": redis, "CONTENT": content,
            "RATE_LIMIT_PER_MINUTE": "1000", "GLOBAL_RATE_LIMIT_PER_MINUTE": "1000000",
        })
        client, bare = app.test_client(), bare_app.test_client()
        for warm in (lambda: client.get("/healthz"), lambda: bare.post("/bare")):
            timed(warm, 50)
        baseline: list[float] = []

        def baseline_block(size: int) -> None:
            """`size` bare requests, timed just before as many requests measured."""
            baseline.extend(timed(lambda: bare.post("/bare"), size))

        health: list[float] = []
        for _ in range(20):
            baseline_block(20)
            health += timed(lambda: client.get("/healthz"), 20)
        floor = engine_floor(redis, content, [f"+1{next(numbers)}" for _ in
                                              range(conversations)], baseline_block)
        engine = EngineTimer()
        inbound.step = engine

        def signed(number: str, body: str) -> tuple[bytes, dict[str, str]]:
            """What Twilio would post, signed and encoded (outside the time measured)."""
            form = twilio_form(f"SM{next(sids):032d}", number, body)
            return urlencode(form).encode(), {
                "X-Twilio-Signature": validator.compute_signature(URL, form),
                "Content-Type": "application/x-www-form-urlencoded"}

        def turn(data: bytes, headers: dict[str, str]) -> None:
            response = client.post("/twilio/messages", data=data, headers=headers)
            assert response.status_code == 200

        turns: dict[str, list[float]] = {}
        engine_share: list[float] = []
        for lang, messages in SCREENING.items():
            samples = []
            for _ in range(conversations):
                number = f"+1{next(numbers)}"
                baseline_block(len(messages))
                for body in messages:
                    request = signed(number, body)
                    engine.spent = 0.0
                    samples += timed(lambda r=request: turn(*r), 1)
                    engine_share.append(engine.spent)
            turns[lang] = samples
        inbound.step = engine.step
    every_turn = turns["en"] + turns["vi"]
    return {"bare GET/SET route (baseline)": baseline, "GET /healthz": health,
            "floor: the bare route plus engine.step, English": floor,
            "signed web hook turn, English": turns["en"],
            "signed web hook turn, Vietnamese": turns["vi"],
            "  of which engine.step (both languages)": engine_share,
            "  of which the host: everything but engine.step":
                [whole - spent for whole, spent in zip(every_turn, engine_share, strict=True)]}


def engine_floor(redis: Redis, content, numbers: list[str],
                 baseline_block: Callable[[int], None]) -> list[float]:
    """A Flask route like the bare one (GET and SET) that also runs `engine.step` over whole
    English screenings, the sessions kept in a dict: the least a turn running the engine
    could cost here."""
    sessions: dict[str, dict | None] = {}
    message: dict[str, str] = {}
    app = Flask("floor")

    @app.post("/floor")
    def floor() -> str:
        redis.get("bench:bare")
        number = message["from"]
        sessions[number] = inbound.step(content, sessions.get(number), message["body"],
                                        time.time()).session
        redis.set("bench:bare", "1", ex=60)
        return "<Response/>"

    client = app.test_client()
    samples = []
    for number in numbers:
        baseline_block(len(SCREENING["en"]))
        for body in SCREENING["en"]:
            message.update({"from": number, "body": body})
            samples += timed(lambda: client.post("/floor"), 1)
    return samples


def before(checkout: Path, conversations: int) -> dict[str, list[float]]:
    """The same measures for an earlier commit's `bot` (a `git archive` in `checkout`, its
    catalogs compiled), by this script in a process of its own."""
    done = subprocess.run(
        [sys.executable, __file__, "--conversations", str(conversations), "--json"],
        env={**os.environ, "PYTHONPATH": str(checkout.resolve())}, cwd=checkout,
        capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of an earlier commit, measured right after")
    parser.add_argument("--before-name", default="an earlier commit")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    found = measure(args.conversations)
    if args.json:
        print(json.dumps(found))
        return
    earlier = before(args.before, args.conversations) if args.before else None
    base = statistics.median(found["bare GET/SET route (baseline)"])
    command = f".venv/bin/python bench/webhook.py --conversations {args.conversations}"
    if args.before:
        command += f" --before DIR --before-name {args.before_name}"
    head = "| Measure | Samples | Median | 95th percentile | Median / baseline |"
    rule = "|---|---|---|---|---|"
    if earlier:
        head += f" {args.before_name}: median | {args.before_name}: median / baseline |"
        rule += "---|---|"
    lines = [
        SECTION, "",
        "Our own time per inbound message (Twilio allows 15 s in all), in one process "
        "through Flask's test client. Command:", "",
        "```bash", command, "```", "",
        f"Run on {date.today().isoformat()} with a throwaway real Redis on this machine; "
        f"{args.conversations} complete screenings per language. Ratios are to the baseline "
        "median from the same run, the bare route timed in blocks just before each screening "
        "(and each 20 health checks), as many requests as it has"
        + (f"; {args.before_name} (a `git archive` in DIR, catalogs compiled) was measured "
           "by this script right after, against its own baseline" if earlier else "")
        + ". Issue 14's target is a turn at most 2× the bare GET/SET route.", "",
        head, rule]
    for name, samples in found.items():
        median, p95 = summary(samples)
        line = (f"| {name} | {len(samples)} | {median * 1000:.2f} ms | {p95 * 1000:.2f} ms | "
                f"{median / base:.1f}x |")
        if earlier:
            then = statistics.median(earlier[name])
            then_base = statistics.median(earlier["bare GET/SET route (baseline)"])
            line += f" {then * 1000:.2f} ms | {then / then_base:.1f}x |"
        lines.append(line)
    table = "\n".join([*lines, "", BEFORE]) + "\n"
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
