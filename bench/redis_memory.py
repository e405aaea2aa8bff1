"""How much Redis a finished screening leaves: `used_memory` growth per conversation and per
key, over complete screenings run through the real Textline, against a throwaway Redis.

Residents are the golden personas (tests/personas.yaml) in all five languages, each with its
own number, texting one message a minute, all at once (a city-wide burst). Measured in one
run against the same server:
- baseline: as many bare keys as there are conversations (`sj:{<hash>}:session`, the value
  "1", with a TTL), the least a contact could cost;
- at the last reply: the contact's keys by `MEMORY USAGE`, while Twilio may still redeliver
  (the replies kept for redeliveries, the flood window);
- what stays: `used_memory` growth once those have expired (the session, for RETENTION_DAYS).
RQ jobs (follow-ups queued for later) are the worker's and are not counted: the job port here
only counts them.

    .venv/bin/python bench/redis_memory.py [--conversations 10000] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import yaml
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

from report import write_section  # noqa: E402  (bench/report.py, beside this script)
from resident import Script, spoken  # noqa: E402  (the golden personas' driver)

from bot.content import load_content  # noqa: E402
from bot.inbound import Message, Textline  # noqa: E402
from bot.ratelimit import Limits  # noqa: E402
from bot.redis_embedded import RedisServer  # noqa: E402
from bot.store import WHATSAPP_WINDOW, Ttl, contact_id, key  # noqa: E402

SECTION = "## Redis memory per conversation"
START = 1_800_000_000.0
SECRET = b"bench-secret"
# Every key a contact may have after a screening (bot/store.py); the others are the worker's.
PARTS = ("session", "optout", "replies", "rate", "rate:notice", WHATSAPP_WINDOW)
BEFORE = ("Before issue 14: about 5.7 KB in 4 keys per finished conversation (issue 14), "
          "6.0 KB right after a screening by `MEMORY USAGE` (docs/operations.md, 2026-12-06): "
          "the session as plain JSON (1.1 KB) and each reply under its own key for a day, "
          "later an hour.")


class Jobs:
    """A job port that only counts what it is given."""

    def __init__(self) -> None:
        self.queued = 0

    def enqueue(self, address, jobs, turn_id, now) -> None:
        self.queued += len(jobs)

    def cancel(self, contact: str) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Resident:
    def __init__(self, line: Textline, persona: dict, lang: str, number: str):
        self.line, self.lang, self.number = line, lang, number
        self.contact = contact_id(SECRET, number)
        self.script = Script(persona, line.content.flow)
        self.token = persona.get("first", "HELLO")
        self.sent = 0

    def text(self) -> bool:
        """Send the next message; False once the persona is done."""
        if self.token is None:
            return False
        self.sent += 1
        body = spoken(self.line.content, self.lang, self.token)
        self.line.handle(Message(self.number, body, f"SM{self.sent:04x}{self.number[2:]:>028}"))
        self.token = self.script.next(self.line.store.snapshot(self.contact, None).session)
        return True


def used(redis: Redis) -> int:
    return int(redis.info("memory")["used_memory"])


def bare_keys(redis: Redis, count: int) -> float:
    """Bytes per key for `count` keys of the value "1" with a TTL, named like a session."""
    before = used(redis)
    pipe = redis.pipeline(transaction=False)
    for n in range(count):
        pipe.set(key(contact_id(SECRET, f"bare-{n}"), "session"), "1", ex=Ttl().retention)
    pipe.execute()
    grown = used(redis) - before
    redis.flushall()
    return grown / count


def contact_bytes(redis: Redis, contact: str) -> tuple[int, int]:
    """The contact's keys and their `MEMORY USAGE` in bytes, now."""
    pipe = redis.pipeline(transaction=False)
    for part in PARTS:
        pipe.memory_usage(key(contact, part), samples=0)
    sizes = [size for size in pipe.execute() if size is not None]
    return len(sizes), sum(sizes)


def settle(redis: Redis, seconds: float) -> None:
    """Wait until the keys kept only for redeliveries and flood limits have expired."""
    deadline = time.monotonic() + seconds
    while any(next(redis.scan_iter(match=pattern, count=1000), None)
              for pattern in ("sj:{*}:replies", "sj:{*}:rate")):
        if time.monotonic() > deadline:
            raise RuntimeError("the reply and flood keys did not expire")
        time.sleep(5)


def screen(residents: list[Resident], clock: Clock) -> list[tuple[int, int]]:
    """Every resident texts a message a minute, all at once, until each is done; the keys
    and bytes each contact holds at its last reply."""
    at_last_reply, active = [], residents
    while active:
        still = []
        for resident in active:
            if resident.text():
                still.append(resident)
            else:
                at_last_reply.append(contact_bytes(resident.line.store.redis, resident.contact))
        active = still
        clock.now += 60
    return at_last_reply


def arguments(about: str | None, conversations: int) -> argparse.Namespace:
    """`--conversations N` and `--write FILE`, as the Redis benchmarks take them."""
    parser = argparse.ArgumentParser(description=(about or "").split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=conversations)
    parser.add_argument("--write", type=Path, default=None)
    return parser.parse_args()


def golden_personas() -> list[dict]:
    """The golden personas (tests/personas.yaml) the benchmarks screen with."""
    return yaml.safe_load((ROOT / "tests" / "personas.yaml").read_text(encoding="utf-8"))


def main() -> None:
    args = arguments(__doc__, 10_000)
    content = load_content()
    personas = golden_personas()
    languages = content.languages
    with RedisServer() as server:
        redis = Redis.from_url(server.url)
        clock, jobs = Clock(), Jobs()
        line = Textline(content, redis, SECRET, jobs=jobs, clock=clock,
                        limits=Limits(global_per_minute=10**9))

        def people(first: int, count: int) -> list[Resident]:
            return [Resident(line, personas[n % len(personas)],
                             languages[n // len(personas) % len(languages)], f"+1408{n:07d}")
                    for n in range(first, first + count)]

        # Every persona in every language once, then forgotten: the scripts loaded and the
        # server's one-time allocations made before anything is measured.
        screen(people(args.conversations, len(personas) * len(languages)), clock)
        redis.flushall()
        bare = bare_keys(redis, args.conversations)
        before, keys_before = used(redis), redis.dbsize()
        started = time.monotonic()
        residents = people(0, args.conversations)
        at_last_reply = screen(residents, clock)
        driven = time.monotonic() - started
        finished = sum(1 for r in residents
                       if (line.store.snapshot(r.contact, None).session or {}).get("stage")
                       == "results")
        settle(redis, Ttl().seen + 120)
        grown, keys = used(redis) - before, redis.dbsize() - keys_before
        version = redis.info("server")["redis_version"]
    per_conversation = grown / args.conversations
    window_keys = statistics.median(count for count, _ in at_last_reply)
    window_bytes = sorted(size for _, size in at_last_reply)
    messages = sum(r.sent for r in residents)
    table = "\n".join([
        SECTION, "",
        f"`.venv/bin/python bench/redis_memory.py --conversations {args.conversations} --write "
        f"docs/benchmarks.md` ({date.today().isoformat()}; Redis {version}, one "
        f"throwaway server). {args.conversations:,} screenings by the golden personas in five "
        f"languages through the real `Textline` ({messages:,} messages, one a minute each, "
        f"{finished:,} at the results, {driven:.0f} s), against {args.conversations:,} bare "
        "keys (`sj:{<hash>}:session` = \"1\" with a TTL) in the same server. RQ jobs are the "
        "worker's and not counted.", "",
        "| measure | per conversation | keys | ratio to a bare key |",
        "|---|---|---|---|",
        f"| a bare key (baseline) | {bare:.0f} B | 1 | 1.0× |",
        f"| at the last reply, while Twilio may redeliver (`MEMORY USAGE`, median; 90th "
        f"percentile {window_bytes[int(len(window_bytes) * 0.9)]:,} B) | "
        f"{statistics.median(window_bytes):,.0f} B | {window_keys:g} | "
        f"{statistics.median(window_bytes) / bare:.1f}× |",
        f"| what stays for RETENTION_DAYS (`used_memory` growth once the replies and flood "
        f"window expired) | {per_conversation:,.0f} B | {keys / args.conversations:.2f} | "
        f"{per_conversation / bare:.1f}× |", "",
        BEFORE, ""])
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
