"""A turn's cost in CPU instructions, against the bare GET/SET route's: a figure this shared,
noisy machine cannot move.

Wall-clock ratios on these 2 cores swing by a fifth between runs minutes apart
(docs/benchmarks.md). Valgrind's callgrind counts the instructions the Python process runs
instead, nearly the same on every run: whole signed screenings through Flask's test client (the
signature check, both Redis round trips from the client's side, the engine, TwiML, the log
line; Twilio's whole form, signed by the parent process so that signing is not counted) and as
many bare GET/SET requests. Each count is the difference between a run of `--screenings`
screenings and one of 2, so start-up and loading cancel out; PYTHONHASHSEED is fixed. Redis's
own work is not counted (another process): `bench/load.py` counts it. `--engine-free` also
counts the turns with the engine's answers replayed from memory (bench/engine_free.py): what
the rest of a turn runs. Needs `valgrind`.

    .venv/bin/python bench/instructions.py [--screenings 12] [--before DIR --before-name NAME]
                                           [--engine-free] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
SECTION = "## Instructions a turn runs"
FEW = 2  # screenings in the run whose count is taken away: start-up, loading, warming up
TOKEN = "bench-token"
URL = "http://localhost/twilio/messages"


def run(mode: str, screenings: int) -> None:
    """In the traced process: `screenings` English screenings as signed turns (`turn`; with
    the engine's answers replayed from memory, `engine_free`) or as many bare requests
    (`bare`), after one screening of each to warm up. The turns' bodies and signatures come
    signed from the parent (`BENCH_REQUESTS`), so that Twilio's signing is not counted as
    the turn's work."""
    sys.path.insert(0, str(HERE))
    from bare import app as bare_app  # bench/bare.py: connects to REDIS_URL on import
    from redis import Redis
    from webhook import SCREENING

    from bot.app import create_app

    if mode == "engine_free":
        from engine_free import replay_engine  # bench/engine_free.py

        replay_engine()
    signed = iter(json.loads(Path(os.environ["BENCH_REQUESTS"]).read_text()))
    app = create_app({
        "SCREENER_SECRET": "bench", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": TOKEN, "REDIS": Redis.from_url(os.environ["REDIS_URL"]),
        "RATE_LIMIT_PER_MINUTE": "1000", "GLOBAL_RATE_LIMIT_PER_MINUTE": "1000000"})
    client, bare = app.test_client(), bare_app.test_client()

    def post() -> None:
        body, signature = next(signed)
        client.post("/twilio/messages", data=body.encode(), headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded"})

    for _ in SCREENING["en"]:
        post()
        bare.post("/bare")
    # A full collection over everything loaded costs tens of millions of instructions, and
    # falls inside one run's count and not the other's: set what is loaded aside first.
    gc.collect()
    gc.freeze()
    for _ in range(screenings):
        for _ in SCREENING["en"]:
            if mode != "bare":
                post()
            else:
                bare.post("/bare")


def signed_requests(screenings: int) -> list[tuple[str, str]]:
    """The bodies and signatures of the turns `run` posts, in order: one screening to warm
    up, then `screenings`, each resident a number of their own."""
    from twilio.request_validator import RequestValidator
    from webhook import SCREENING, twilio_form

    validator, sids = RequestValidator(TOKEN), itertools.count(1)
    numbers = ["+14085559999", *(f"+1408555{n:04d}" for n in range(screenings))]
    found = []
    for number in numbers:
        for body in SCREENING["en"]:
            form = twilio_form(f"SM{next(sids):032d}", number, body)
            found.append((urlencode(form), validator.compute_signature(URL, form)))
    return found


def counted(checkout: Path, mode: str, screenings: int, redis_url: str) -> int:
    """Instructions of one traced run of `run` with `checkout`'s `bot`."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as requests:
        # Only what the run posts: the bare run reads no more for more screenings.
        json.dump(signed_requests(screenings if mode != "bare" else 0), requests)
        requests.flush()
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
             __file__, "--run", mode, str(screenings)],
            env={**os.environ, "PYTHONPATH": str(checkout.resolve()), "PYTHONHASHSEED": "0",
                 "REDIS_URL": redis_url, "BENCH_REQUESTS": requests.name},
            cwd=checkout, capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", done.stderr)[1])


def per_request(checkout: Path, screenings: int, pool: ThreadPoolExecutor,
                modes: tuple[str, ...] = ("turn", "bare")) -> dict[str, float]:
    """Instructions a request in each of `modes` (see `run`) with `checkout`'s code (the
    traced runs side by side: a count does not depend on what else runs)."""
    from webhook import SCREENING

    from bot.redis_embedded import RedisServer

    def count(mode: str, size: int) -> int:
        with RedisServer() as server:  # a fresh Redis each run: the same lists and keys
            return counted(checkout, mode, size, server.url)

    runs = {(mode, size): pool.submit(count, mode, size)
            for mode in modes for size in (FEW, screenings)}
    requests = (screenings - FEW) * len(SCREENING["en"])
    return {mode: (runs[mode, screenings].result() - runs[mode, FEW].result()) / requests
            for mode in modes}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--screenings", type=int, default=12)
    parser.add_argument("--before", type=Path, default=None)
    parser.add_argument("--before-name", default="an earlier commit")
    parser.add_argument("--engine-free", action="store_true",
                        help="also count this tree's turn with the engine's answers replayed "
                             "(bench/engine_free.py): what the rest of a turn runs")
    parser.add_argument("--write", type=Path, default=None)
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run(args.run[0], int(args.run[1]))
        return
    sys.path.insert(0, str(HERE))
    trees = {"now": HERE.parent}
    if args.before:
        trees[args.before_name] = args.before
    rows = []
    now_modes = ("turn", "bare", "engine_free") if args.engine_free else ("turn", "bare")
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        measured = {name: per_request(tree, args.screenings, pool,
                                      now_modes if name == "now" else ("turn", "bare"))
                    for name, tree in trees.items()}
    for name, found in measured.items():
        turns = [(name, found["turn"])]
        if "engine_free" in found:
            turns.append((f"{name}, engine at no cost", found["engine_free"]))
        rows += [f"| {label} | {found['bare'] / 1e6:.2f} M | {turn / 1e6:.2f} M | "
                 f"{turn / found['bare']:.2f}× |" for label, turn in turns]
    command = f".venv/bin/python bench/instructions.py --screenings {args.screenings}"
    if args.before:
        command += f" --before DIR --before-name {args.before_name}"
    if args.engine_free:
        command += " --engine-free"
    table = "\n".join([
        SECTION, "",
        f"`{command}` ({date.today().isoformat()}; valgrind's callgrind, the Python process "
        "only, Redis not counted; PYTHONHASHSEED=0; each figure the difference between "
        f"{args.screenings} and {FEW} English screenings, so start-up cancels out"
        + (f"; {args.before_name} is a `git archive` in DIR, catalogs compiled" if args.before
           else "")
        + ("; \"engine at no cost\": the same turns with each engine answer replayed from "
           "memory after its first time (`bench/engine_free.py`)" if args.engine_free else "")
        + "). Steadier than time on this shared machine, but not exact: the same "
        "tree's turn has counted within 2% on some runs and 6% apart on others, and the bare "
        "route, the same code in every tree, from 0.88 to 1.28 M in the runs of 2026-12-07 "
        "(the whole loaded heap runs in the same process). A row's ratio moves with its bare "
        "count as much as with its turn: compare turns between trees measured side by side, "
        "and trust a difference only when it is well above a quarter of a million.", "",
        "| code | bare GET/SET request | signed turn | turn / bare |", "|---|---|---|---|",
        *rows])
    print(table)
    if args.write:
        from report import write_section

        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
