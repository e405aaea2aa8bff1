"""The text line with its engine at (almost) no cost, for the benchmarks' `--engine-free`: a
bound on what everything around the engine costs, so a target for the whole turn can be
checked against what the host alone already spends.

The engine runs once for each place a conversation can stand and message it can get there;
after that its answer (replies, session, jobs) is handed back from memory, which costs a
dictionary lookup. Every other part of the turn runs as in production: the signature, the
form, the lock and the reads, the flood and opt-out checks, the save, the jobs (the results
turn still queues its follow-ups, under the message's own ids), TwiML and the log line.
Only for measuring: every resident of the load generator sends the same screening.

    gunicorn 'bench.engine_free:create_app()'      (bench/load.py --engine-free)
    replay_engine() before the app is made        (bench/instructions.py --engine-free)
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from bot import inbound
from bot.app import create_app as create_text_line
from bot.engine import Step


def create_app() -> Flask:
    replay_engine()
    return create_text_line()


def replay_engine() -> None:
    """From now on in this process, each engine answer is worked out once and replayed."""
    real_step = inbound.step
    answered: dict[tuple[Any, ...], Step] = {}

    def step_from_memory(content: Any, session: dict[str, Any] | None, text: str, now: float,
                         **options: Any) -> Step:
        where = None if session is None else (
            session.get("stage"), session.get("question"), session.get("page"),
            len(session.get("trail", ())))
        place = (where, text, tuple(sorted(options.items())))
        if place not in answered:
            answered[place] = real_step(content, session, text, now, **options)
        return answered[place]

    inbound.step = step_from_memory
