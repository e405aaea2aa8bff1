"""The benchmarks' text line with its engine at no cost (bench/engine_free.py) answers every
resident as the real engine does: a bound measured on a server that said something else would
bound nothing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import fakeredis
from phone import Phone, make_app

from bot import inbound

BENCH = Path(__file__).resolve().parent.parent / "bench" / "engine_free.py"
RESIDENTS = 3


def engine_free():
    spec = importlib.util.spec_from_file_location("engine_free", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def transcripts(app) -> list[list[str]]:
    """What each resident is told, texting hello, answering every question, then asking for
    the next page and a program's details."""
    told = []
    for n in range(RESIDENTS):
        phone = Phone(app, number=f"+1408555{n:04d}")
        told.append(phone.screen_to_results() + phone.text("MORE") + phone.text("2"))
    return told


def test_the_engine_replayed_from_memory_tells_every_resident_what_the_engine_tells(
        content, monkeypatch):
    real = transcripts(make_app(fakeredis.FakeRedis(server=fakeredis.FakeServer()), content))
    engine_runs = []

    def counted(*args, **kwargs):
        engine_runs.append(args[2])
        return real_step(*args, **kwargs)

    real_step = inbound.step
    monkeypatch.setattr(inbound, "step", counted)  # and put back after the test
    real_again = transcripts(make_app(fakeredis.FakeRedis(server=fakeredis.FakeServer()),
                                      content))
    turns = len(engine_runs) // RESIDENTS
    engine_runs.clear()
    engine_free().replay_engine()
    replayed = transcripts(make_app(fakeredis.FakeRedis(server=fakeredis.FakeServer()),
                                    content))

    assert replayed == real == real_again
    # The first resident's turns ran the engine, no one else's.
    assert len(engine_runs) == turns, engine_runs
