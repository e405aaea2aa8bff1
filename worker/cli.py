"""The worker's `screener` subcommands: `worker`, `jobs` and `agreement`.

`bot/cli.py` never imports `worker`: it reads the entry point group `screener.commands`
(pyproject.toml), whose `worker` entry is `register` below.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from worker.queues import QUEUES


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the worker's subcommands to the `screener` parser."""
    worker = commands.add_parser("worker", help="run an RQ worker with the model loaded once")
    worker.add_argument("--queue", action="append", choices=QUEUES, dest="queues",
                        help="serve only this queue (repeatable; default: all of them)")
    worker.set_defaults(handler=_worker)

    jobs = commands.add_parser("jobs", help="queues, failed jobs and estimate disagreements")
    jobs.add_argument("action", nargs="?", choices=("show", "retry", "drop"), default="show",
                      help="show (default), or retry or drop the failed jobs")
    jobs.add_argument("--queue", choices=QUEUES, help="only this queue")
    jobs.set_defaults(handler=_jobs)

    agreement = commands.add_parser(
        "agreement", help="our rules against PolicyEngine-US on random households")
    agreement.add_argument("--households", type=int, default=500, help="how many to draw")
    agreement.add_argument("--seed", type=int, default=1, help="the same seed, the same homes")
    agreement.add_argument("--date", default=None,
                           help="YYYY-MM-DD for the rules and the model (default: today)")
    agreement.add_argument("--write", type=Path, default=None,
                           help="write the report to this Markdown file (docs/agreement.md)")
    agreement.set_defaults(handler=_agreement)


def _worker(args: argparse.Namespace) -> int:
    from worker.start import run

    return run(args.queues or QUEUES)


def _jobs(args: argparse.Namespace) -> int:
    from redis import Redis
    from redis.exceptions import RedisError

    from bot.redis_embedded import which_redis
    from worker import admin

    url, why = which_redis()
    print(f"Redis at {url} ({why})", file=sys.stderr)
    connection = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    names = [args.queue] if args.queue else list(QUEUES)
    try:
        if args.action == "show":
            print(admin.report(connection, names))
        elif args.action == "retry":
            print(f"{admin.retry_failed(connection, names)} failed jobs requeued")
        else:
            print(f"{admin.drop_failed(connection, names)} failed jobs deleted")
    except RedisError as error:
        print(f"screener jobs: could not read Redis at {url} ({why}): {error} Set REDIS_URL to "
              "the text line's Redis, or start `screener run`.", file=sys.stderr)
        return 1
    return 0


def _agreement(args: argparse.Namespace) -> int:
    """Print per-program agreement between our rules and the model, with every reason."""
    from datetime import date

    from worker.agreement import agreement_page, render, run_agreement, san_jose_today

    today = date.fromisoformat(args.date) if args.date else san_jose_today()
    report = run_agreement(args.households, args.seed, today)
    text = render(report)
    print(text)
    if args.write:
        args.write.write_text(agreement_page(text, args), encoding="utf-8")
    return 0
