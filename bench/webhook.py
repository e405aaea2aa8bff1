"""How much of Twilio's 15 s the web hook uses: our own time per inbound message.

Measures, in one run against a throwaway real Redis server:
- baseline: `GET /healthz` through the same Flask app (one request, one Redis PING);
- the pure engine alone (`engine.step`), for a typical answer;
- a whole signed `POST /twilio/messages` turn (signature check, dedup, lock, opt-out and flood
  checks, session load and save, counters, TwiML), over complete screenings;
- the same turn in Vietnamese (UCS-2 texts, the longest catalog lookups).
Each figure is reported as a ratio to the baseline measured in the same run.

    .venv/bin/python bench/webhook.py [--conversations 40] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from redis import Redis
from report import write_section  # bench/report.py, beside this script
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.content import load_content
from bot.engine import step
from bot.redis_embedded import RedisServer

TOKEN = "bench-token"
URL = "http://localhost/twilio/messages"
SCREENING = {
    "en": ["hi", "20", "95112", "1", "no", "no", "$1,200", "1", "no", "no", "no", "no", "2"],
    "vi": ["xin chào", "20", "95112", "1", "không", "không", "1200", "1", "không", "không",
           "không", "không", "2"],
}
SECTION = "## Web hook turn time"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    content = load_content()
    numbers = itertools.count(4085550000)
    sids = itertools.count(1)
    validator = RequestValidator(TOKEN)
    with RedisServer() as server:
        redis = Redis.from_url(server.url)
        app = create_app({
            "SCREENER_SECRET": "bench", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": TOKEN, "REDIS": redis, "CONTENT": content,
            "RATE_LIMIT_PER_MINUTE": "1000", "GLOBAL_RATE_LIMIT_PER_MINUTE": "1000000",
        })
        client = app.test_client()
        timed(lambda: client.get("/healthz"), 50)  # warm up
        baseline = timed(lambda: client.get("/healthz"), 400)

        def turn(number: str, body: str) -> None:
            form = {"MessageSid": f"SM{next(sids):032d}", "From": number, "To": "+14085550000",
                    "Body": body, "NumMedia": "0"}
            signature = validator.compute_signature(URL, form)
            response = client.post("/twilio/messages", data=form,
                                   headers={"X-Twilio-Signature": signature})
            assert response.status_code == 200

        turns: dict[str, list[float]] = {}
        for lang, messages in SCREENING.items():
            samples = []
            for _ in range(args.conversations):
                number = f"+1{next(numbers)}"
                for body in messages:
                    samples += timed(lambda n=number, b=body: turn(n, b), 1)
            turns[lang] = samples

        session = step(content, None, "hi", 0.0).session
        engine = timed(lambda: step(content, session, "22", 60.0), 2000)
    rows = [("GET /healthz (baseline)", baseline), ("engine.step alone", engine),
            ("signed web hook turn, English", turns["en"]),
            ("signed web hook turn, Vietnamese", turns["vi"])]
    base = statistics.median(baseline)
    lines = [
        SECTION, "",
        "Our own time per inbound message (Twilio allows 15 s in all). Command:", "",
        "```bash", f".venv/bin/python bench/webhook.py --conversations {args.conversations}",
        "```", "",
        f"Run on {date.today().isoformat()} with a throwaway real Redis on this machine; "
        f"{args.conversations} complete screenings per language. Ratios are to the baseline "
        "median from the same run.", "",
        "| Measure | Samples | Median | 95th percentile | Median / baseline |",
        "|---|---|---|---|---|",
    ]
    for name, samples in rows:
        median, p95 = summary(samples)
        lines.append(f"| {name} | {len(samples)} | {median * 1000:.2f} ms | "
                     f"{p95 * 1000:.2f} ms | {median / base:.1f}x |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
