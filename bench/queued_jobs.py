"""What a finished screening leaves in Redis for the worker: the RQ jobs its results queue
(the dollar estimate, "Did you apply?" a week later), for docs/scaling.md.

The golden personas screen through the real Textline with the real RQ job port
(worker/port.py), against a throwaway Redis; no worker runs, so every job stays queued or
scheduled, as at a peak. Reported: `used_memory` growth per screening outside the contacts'
own keys (those are bench/redis_memory.py's), against bare keys in the same server.

    .venv/bin/python bench/queued_jobs.py [--conversations 1000] [--write docs/benchmarks.md]
"""

from __future__ import annotations

from datetime import date

from redis import Redis
from redis_memory import (
    SECRET,
    Clock,
    Resident,
    arguments,
    bare_keys,
    golden_personas,
    screen,
    used,
)
from report import write_section

from bot.content import load_content
from bot.inbound import Textline
from bot.ratelimit import Limits
from bot.redis_embedded import RedisServer
from worker.port import RqJobs
from worker.settings import Timing

SECTION = "## Redis memory of queued jobs"


def main() -> None:
    args = arguments(__doc__, 1000)
    content = load_content()
    personas = golden_personas()
    with RedisServer() as server:
        redis = Redis.from_url(server.url)
        clock = Clock()
        jobs = RqJobs(redis, content, SECRET, Timing.from_config({"QUIET_HOURS": "off"}))
        line = Textline(content, redis, SECRET, jobs=jobs, clock=clock,
                        limits=Limits(global_per_minute=10**9))
        residents = [Resident(line, personas[n % len(personas)], "en", f"+1408{n:07d}")
                     for n in range(args.conversations)]
        bare = bare_keys(redis, args.conversations)
        before = used(redis)
        screen(residents, clock)
        contacts = sum(redis.memory_usage(k, samples=0) or 0
                       for k in redis.scan_iter(match="sj:{*", count=1000))
        worker_part = (used(redis) - before - contacts) / args.conversations
        queued = sum(1 for _ in redis.scan_iter(match="rq:job:*", count=1000))
    table = "\n".join([
        SECTION, "",
        f"`.venv/bin/python bench/queued_jobs.py --conversations {args.conversations} --write "
        f"docs/benchmarks.md` ({date.today().isoformat()}). {args.conversations:,} screenings "
        "by the golden personas (English) through the real `Textline` and RQ job port, no "
        "worker running (every job still queued or scheduled, as at a peak), against bare "
        "keys in the same server.", "",
        "| measure | per screening | ratio to a bare key |",
        "|---|---|---|",
        f"| a bare key (baseline) | {bare:.0f} B | 1.0× |",
        f"| RQ jobs and queues (outside the contacts' own keys); {queued / args.conversations:.1f} "
        f"jobs a screening | {worker_part:,.0f} B | {worker_part / bare:.1f}× |", ""])
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
