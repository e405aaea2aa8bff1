"""The big bad-input run: many generated requests at the signed web hook, counted by status.

Uses the strategies of tests/reliability/bad_requests.py (the same ones CI runs a few hundred
of) against the app on a throwaway real Redis server, in rounds of hypothesis examples. Every
answer is checked as the test checks it; the figures go to docs/reliability.md ("Bad input").

    .venv/bin/python bench/fuzz_webhook.py [--requests 100000] [--round 5000]
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "reliability")]

from bad_requests import Bad, bad_requests, problems  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from phone import make_app  # noqa: E402

from bot.content import load_content  # noqa: E402
from bot.redis_embedded import RedisServer  # noqa: E402
from bot.store import connect  # noqa: E402


class Errors(logging.Handler):
    """Counts ERROR records: each is a failed turn answered with an apology."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--round", type=int, default=5_000, help="examples per hypothesis run")
    args = parser.parse_args()
    # Stopped with kill: leave through `with` so the throwaway Redis server stops too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().setLevel(logging.CRITICAL)  # refusals log a warning each
    errors = Errors()
    logging.getLogger().addHandler(errors)
    statuses: Counter[int] = Counter()
    wrong: list[str] = []
    started = time.perf_counter()
    with RedisServer() as server:
        app = make_app(connect(server.url), load_content())
        client = app.test_client()

        @settings(max_examples=args.round, deadline=None, database=None,
                  phases=["generate"], suppress_health_check=list(HealthCheck))
        @given(bad=bad_requests())
        def one(bad: Bad) -> None:
            response = bad.send(client)
            statuses[response.status_code] += 1
            found = problems(bad, response)
            if found and len(wrong) < 20:
                wrong.append(f"{found} {bad!r}")

        while sum(statuses.values()) < args.requests:
            one()
    seconds = time.perf_counter() - started
    total = sum(statuses.values())
    fivexx = sum(n for status, n in statuses.items() if status >= 500)
    print(f"requests {total}, 5xx {fivexx}, statuses {dict(sorted(statuses.items()))}, "
          f"failed turns {errors.count}, wrong answers {len(wrong)}, {seconds:.0f} s "
          f"({total / seconds:.0f} requests/s)")
    for line in wrong:
        print(line[:500])
    return 1 if fivexx or wrong or errors.count else 0


if __name__ == "__main__":
    sys.exit(main())
