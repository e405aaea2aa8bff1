"""What a turn on the resident web door costs next to the same turn by SMS (issue 15).

Measures, in one run against a throwaway real Redis server, over the same complete screenings:
- baseline: the signed `POST /twilio/messages` turn (TwiML answer);
- the web door's `POST /chat/send` answered as JSON (the page's script): the same pipeline,
  plus reading the session before (for a tapped button's label) and the session and
  transcript after, and building the view (cards and services at the results);
- the same send as a plain form (no JavaScript): the 303, then `GET` of the page it names,
  rendered from the view on the server.
Each figure is reported as a ratio to the SMS turn's median measured in the same run.

    .venv/bin/python bench/web_door.py [--conversations 40] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from datetime import date
from pathlib import Path

from redis import Redis
from report import write_section  # bench/report.py, beside this script
from twilio.request_validator import RequestValidator
from webhook import SCREENING, TOKEN, URL, summary, timed, twilio_form  # bench/webhook.py

from bot.app import create_app
from bot.content import load_content
from bot.redis_embedded import RedisServer

SECTION = "## Web door turn time"
JSON = {"Accept": "application/json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    content = load_content()
    numbers, sids, addresses = (itertools.count(4085550000), itertools.count(1),
                                itertools.count(1))
    validator = RequestValidator(TOKEN)
    messages = SCREENING["en"]
    with RedisServer() as server:
        app = create_app({
            "SCREENER_SECRET": "bench", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": TOKEN, "REDIS": Redis.from_url(server.url),
            "CONTENT": content, "RATE_LIMIT_PER_MINUTE": "1000",
            "GLOBAL_RATE_LIMIT_PER_MINUTE": "1000000",
        })

        def sms(number: str, body: str) -> None:
            form = twilio_form(f"SM{next(sids):032d}", number, body)
            response = app.test_client().post(
                "/twilio/messages", data=form,
                headers={"X-Twilio-Signature": validator.compute_signature(URL, form)})
            assert response.status_code == 200

        def browser():
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"10.0.{next(addresses) % 250}.1"
            return client

        def web_json(client, body: str) -> None:
            response = client.post("/chat/send", data={"text": body, "lang": "en"}, headers=JSON)
            assert response.status_code == 200

        def web_form(client, body: str) -> None:
            response = client.post("/chat/send", data={"text": body, "lang": "en"})
            assert response.status_code == 303
            assert client.get(response.headers["Location"]).status_code == 200

        for _ in range(5):  # warm up: the language model, templates, scripts
            client = browser()
            for body in messages:
                web_form(client, body)
                sms(f"+1{next(numbers)}", body)
        samples: dict[str, list[float]] = {"sms": [], "json": [], "form": []}
        for _ in range(args.conversations):
            number, by_json, by_form = f"+1{next(numbers)}", browser(), browser()
            for body in messages:
                samples["sms"] += timed(lambda n=number, b=body: sms(n, b), 1)
                samples["json"] += timed(lambda c=by_json, b=body: web_json(c, b), 1)
                samples["form"] += timed(lambda c=by_form, b=body: web_form(c, b), 1)
    rows = [("signed SMS web hook turn (baseline)", samples["sms"]),
            ("web door send, JSON (the page's script)", samples["json"]),
            ("web door send without JavaScript: 303 + GET of the page", samples["form"])]
    base = statistics.median(samples["sms"])
    lines = [
        SECTION, "",
        "Our own time per resident message on the web page, next to the same message by SMS. "
        "Command:", "",
        "```bash", f".venv/bin/python bench/web_door.py --conversations {args.conversations}",
        "```", "",
        f"Run on {date.today().isoformat()} with a throwaway real Redis on this machine; "
        f"{args.conversations} complete English screenings per door, interleaved message by "
        "message. Ratios are to the SMS turn's median from the same run.", "",
        "| Measure | Samples | Median | 95th percentile | Median / baseline |",
        "|---|---|---|---|---|",
    ]
    for name, found in rows:
        median, p95 = summary(found)
        lines.append(f"| {name} | {len(found)} | {median * 1000:.2f} ms | "
                     f"{p95 * 1000:.2f} ms | {median / base:.2f}x |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
