"""Sessions outlive deploys: one saved by older code is brought up to date, step by step,
what the engine saves is plain JSON, and Redis keeps it compressed."""

from __future__ import annotations

import json

from bot.engine import step
from bot.session import FORMAT, MIGRATIONS, Stage, decode, encode, upgrade

NOW = 1_800_000_000.0


def test_every_format_has_a_step_to_the_next_and_new_sessions_are_current():
    assert sorted(MIGRATIONS) == list(range(1, FORMAT))
    assert upgrade({"stage": Stage.ASKING})["format"] == FORMAT


def test_a_format_1_session_mid_urgent_goes_back_to_its_question(content):
    asked = step(content, None, "hi", NOW).session
    saved = {**asked, "format": 1, "stage": "urgent", "resume": "asking"}  # as format 1 kept it
    back = step(content, json.loads(json.dumps(saved)), "1", NOW + 60)
    assert back.session["stage"] == Stage.ASKING
    assert back.session["question"] == "age"
    assert "resume" not in back.session and back.session["format"] == FORMAT


def test_a_saved_session_is_plain_json_with_stages_as_words(content):
    session = step(content, None, "hi", NOW).session
    assert json.loads(json.dumps(session))["stage"] == "asking"


def screened(content):
    session = None
    for said in ("hi", "20", "95112", "1", "no", "no", "$1,200", "1", "no", "no", "no", "no"):
        session = step(content, session, said, NOW).session
    return session


def test_a_finished_screening_is_kept_in_under_a_tenth_of_its_json(content):
    session = screened(content)
    kept = encode(session)
    assert decode(kept) == json.loads(json.dumps(session))
    assert len(kept) < len(json.dumps(session, separators=(",", ":"))) / 10


def test_a_session_saved_as_plain_json_by_older_code_still_loads(content):
    session = screened(content)
    assert decode(json.dumps(session).encode()) == json.loads(json.dumps(session))


def test_any_json_value_comes_back_as_it_went_in():
    value = [["SM" + "0" * 32, NOW, ["¡Hola! ¿Cuántos años tienes?", "ਤੁਹਾਡੀ ਉਮਰ ਕਿੰਨੀ ਹੈ?"]]]
    assert decode(encode(value)) == value


def test_a_value_far_larger_than_the_compressors_window_comes_back_whole():
    """The compressor keeps an 8 KB window; the decoder's is 32 KB, as older code wrote."""
    words = [f"answer-{n}-{n * 7919 % 1000}" for n in range(6000)]
    value = {"trail": words, "again": words[::-1]}
    assert len(json.dumps(value)) > 100_000
    assert decode(encode(value)) == value


def test_threads_encoding_at_once_each_get_their_own_value_back():
    """Every encode copies the one loaded compressor: gunicorn's threads share it."""
    from concurrent.futures import ThreadPoolExecutor

    values = [{"answers": {"age": n, "zip": f"95{n:03d}"}, "trail": ["x" * (n % 50)]}
              for n in range(400)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        kept = list(pool.map(encode, values))
    assert [decode(raw) for raw in kept] == values
