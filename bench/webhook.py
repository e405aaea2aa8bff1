"""How much of Twilio's 15 s the web hook uses: our own time per inbound message.

Measures, in one process and one run, against a throwaway real Redis server:
- baseline: a Flask route that does one Redis GET and one SET (bench/bare.py's), through the
  same kind of test client: the least a web hook that keeps state could cost;
- `GET /healthz` of the text line (a PING and a SET);
- a whole signed `POST /twilio/messages` turn (signature check, lock, dedup, load, opt-out and
  flood checks, engine, save and unlock, TwiML), over complete screenings, in English and
  in Vietnamese (UCS-2 texts, the longest catalog lookups);
- within those same turns, the time in `engine.step` (the pure engine: the flow's questions,
  rules and texts) and the rest (the host: web, signature, Redis, encoding, logging).
Each figure is reported as a ratio to the baseline measured in the same run.

    .venv/bin/python bench/webhook.py [--conversations 40] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from redis import Redis
from report import write_section  # bench/report.py, beside this script
from twilio.request_validator import RequestValidator

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
BEFORE = ("Before issue 14's cheaper turn (2026-12-06, same machine, baseline `/healthz`): an "
          "English turn 2.72 ms median, 7.7× `/healthz`; issue 14 measured it at 4.1× the bare "
          "GET/SET route. A turn then made 8 Redis round trips; it makes 2 now "
          "(tests/test_round_trips.py).")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
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
        baseline = timed(lambda: bare.post("/bare"), 400)
        health = timed(lambda: client.get("/healthz"), 400)
        engine = EngineTimer()
        inbound.step = engine

        def turn(number: str, body: str) -> None:
            form = {"MessageSid": f"SM{next(sids):032d}", "From": number, "To": "+14085550000",
                    "Body": body, "NumMedia": "0"}
            signature = validator.compute_signature(URL, form)
            response = client.post("/twilio/messages", data=form,
                                    headers={"X-Twilio-Signature": signature})
            assert response.status_code == 200

        turns: dict[str, list[float]] = {}
        engine_share: list[float] = []
        for lang, messages in SCREENING.items():
            samples = []
            for _ in range(args.conversations):
                number = f"+1{next(numbers)}"
                for body in messages:
                    engine.spent = 0.0
                    samples += timed(lambda n=number, b=body: turn(n, b), 1)
                    engine_share.append(engine.spent)
            turns[lang] = samples
        inbound.step = engine.step
    every_turn = turns["en"] + turns["vi"]
    host = [whole - spent for whole, spent in zip(every_turn, engine_share, strict=True)]
    rows = [("bare GET/SET route (baseline)", baseline), ("GET /healthz", health),
            ("signed web hook turn, English", turns["en"]),
            ("signed web hook turn, Vietnamese", turns["vi"]),
            ("  of which engine.step (both languages)", engine_share),
            ("  of which the host: everything but engine.step", host)]
    base = statistics.median(baseline)
    lines = [
        SECTION, "",
        "Our own time per inbound message (Twilio allows 15 s in all), in one process "
        "through Flask's test client. Command:", "",
        "```bash", f".venv/bin/python bench/webhook.py --conversations {args.conversations}",
        "```", "",
        f"Run on {date.today().isoformat()} with a throwaway real Redis on this machine; "
        f"{args.conversations} complete screenings per language. Ratios are to the baseline "
        "median from the same run. Issue 14's target is a turn at most 2× the bare GET/SET "
        "route.", "",
        "| Measure | Samples | Median | 95th percentile | Median / baseline |",
        "|---|---|---|---|---|",
    ]
    for name, samples in rows:
        median, p95 = summary(samples)
        lines.append(f"| {name} | {len(samples)} | {median * 1000:.2f} ms | "
                     f"{p95 * 1000:.2f} ms | {median / base:.1f}x |")
    table = "\n".join([*lines, "", BEFORE]) + "\n"
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
