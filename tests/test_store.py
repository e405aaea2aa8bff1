"""The Redis layout: keyed hashes instead of numbers, one cluster slot per contact, one
script to begin a turn and one to commit it, fenced by the turn's lock."""

from __future__ import annotations

import json

import pytest
from phone import replied_sids
from redis.crc import key_slot
from redis.exceptions import DataError

from bot.store import (
    KEEP,
    Change,
    LockLost,
    Store,
    Ttl,
    contact_id,
    day,
    key,
    normalize_address,
)

pytest_plugins = ["redis_server"]
SECRET = b"secret"


@pytest.mark.parametrize("address", [
    "+14085550123", "whatsapp:+14085550123", "WhatsApp:+14085550123", " +1 (408) 555-0123 ",
    "sms:+14085550123",
])
def test_sms_and_whatsapp_addresses_of_one_number_are_one_contact(address):
    assert normalize_address(address) == "+14085550123"
    assert contact_id(SECRET, address) == contact_id(SECRET, "+14085550123")


def test_a_contact_id_is_a_keyed_hash_not_the_number():
    contact = contact_id(SECRET, "+14085550123")
    assert len(contact) == 32 and "4085550123" not in contact
    assert contact != contact_id(b"another secret", "+14085550123")
    assert contact != contact_id(SECRET, "+14085550124")


def test_every_key_of_a_contact_lands_on_one_cluster_slot():
    contact = contact_id(SECRET, "+14085550123")
    parts = ("session", "optout", "lock", "replies", "rate", "rate:notice", "jobs", "sent:m1")
    slots = {key_slot(key(contact, part).encode()) for part in parts}
    assert len(slots) == 1


def test_a_turn_writes_session_replies_and_counts_together(redis_client):
    store = Store(redis_client)
    store.commit("c1", Change(["hi"], session={"lang": "en"}, counts=("started",)), 0, "SM1")
    found = store.snapshot("c1", "SM1")
    assert (found.seen, found.session, found.opt_out) == (["hi"], {"lang": "en"}, None)
    assert redis_client.hget(f"sj:stats:{{{day(0)}}}", "started") == b"1"


def test_keep_leaves_the_session_alone_and_none_erases_it_with_its_replies(redis_client):
    store = Store(redis_client)
    store.commit("c1", Change(["hi"], session={"lang": "vi"}), 0, "SM1")
    store.commit("c1", Change([], session=KEEP), 0, "SM2")
    assert store.snapshot("c1", None).session == {"lang": "vi"}
    store.commit("c1", Change(["bye"], session=None, opt_out={"at": 0, "lang": "vi"}), 0, "SM3")
    assert store.snapshot("c1", "SM1").seen is None  # earlier replies went with the session
    assert store.snapshot("c1", "SM3").seen == ["bye"]  # a redelivered STOP still gets its own
    assert store.snapshot("c1", None).session is None
    store.commit("c1", Change([], opt_out=None), 0)
    assert store.opt_out_record("c1") is None


def test_retention_comes_from_the_config():
    assert Ttl.from_config({"RETENTION_DAYS": "7"}).retention == 7 * 86400
    assert Ttl.from_config({"OPT_OUT_RETENTION_DAYS": "0.5"}).opt_out == 43200
    assert Ttl.from_config({}) == Ttl()


def test_counters_follow_the_citys_calendar_day():
    new_year_utc = 1_767_225_600  # 2026-01-01 00:00 UTC is still New Year's Eve in San José
    assert day(new_year_utc) == "2025-12-31"
    assert day(new_year_utc + 8 * 3600) == "2026-01-01"
    assert day(new_year_utc + 8 * 3600 - 0.5) == "2025-12-31"  # the last second of the year
    summer_midnight = 1_783_234_800  # 2026-07-05 00:00 in San José (UTC-7)
    assert [day(summer_midnight - 1), day(summer_midnight)] == ["2026-07-04", "2026-07-05"]


def test_a_turn_begins_with_the_lock_and_commits_only_while_it_is_still_its_own(redis_client):
    store = Store(redis_client)
    store.commit("c1", Change([], session={"lang": "es"}), 0)
    begun = store.begin("c1", "SM1", b"mine", 0, rate_window=60)
    assert begun.locked and begun.found.session == {"lang": "es"}
    assert not store.begin("c1", "SM2", b"theirs", 0, rate_window=60).locked
    redis_client.set(key("c1", "lock"), b"theirs")  # mine timed out; another turn took it
    with pytest.raises(LockLost):
        store.commit("c1", Change(["late"], session={"lang": "vi"}), 1, "SM1", token=b"mine",
                     release=True)
    assert store.snapshot("c1", "SM1") == store.snapshot("c1", None)  # nothing landed
    assert redis_client.get(key("c1", "lock")) == b"theirs"


def test_a_commit_that_releases_the_lock_frees_the_contact_for_the_next_turn(redis_client):
    store = Store(redis_client)
    assert store.begin("c1", "SM1", b"one", 0, rate_window=60).locked
    store.commit("c1", Change(["hi"], session={"lang": "en"}), 0, "SM1", token=b"one",
                 release=True)
    begun = store.begin("c1", "SM1", b"two", 1, rate_window=60)
    assert begun.found.seen == ["hi"]  # the redelivery finds its replies


def test_a_redis_that_forgot_its_scripts_still_runs_the_turn_and_its_commands_once(
        redis_client):
    """A restarted Redis knows no script: `begin` and `commit` load theirs again, and the
    commands sent along with `begin` (the global minute's count) run once, not twice."""
    store = Store(redis_client)
    along = (("INCR", "sj:{global}:rate:1"),)
    redis_client.script_flush()
    begun = store.begin("c1", "SM1", b"one", 0, rate_window=60, along=along)
    assert begun.locked and begun.along == [1]
    redis_client.script_flush()
    store.commit("c1", Change(["hi"], session={"lang": "en"}), 0, "SM1", token=b"one",
                 release=True)
    assert redis_client.get("sj:{global}:rate:1") == b"1"
    assert store.begin("c1", "SM1", b"two", 1, rate_window=60).found.seen == ["hi"]


def test_a_session_saved_as_json_by_older_code_loads(redis_client):
    redis_client.set(key("c1", "session"), json.dumps({"lang": "pa", "stage": "asking"}))
    assert Store(redis_client).snapshot("c1", None).session == {"lang": "pa", "stage": "asking"}


def test_replies_are_kept_for_the_window_only_and_go_with_the_session(redis_client):
    store, window = Store(redis_client), Ttl().seen

    def turn(sid: str, now: float, change: Change) -> None:
        token = sid.encode()
        assert store.begin("c1", sid, token, now, rate_window=60).found.seen is None
        store.commit("c1", change, now, sid, token=token, release=True)

    turn("SM1", 0, Change(["one"], session={"lang": "en"}))
    turn("SM2", window - 1, Change(["two"], session=KEEP))
    assert replied_sids(redis_client, "c1") == ["SM1", "SM2"]
    assert store.begin("c1", "SM1", b"again", window - 1, rate_window=60).found.seen == ["one"]
    store.release("c1", b"again")
    turn("SM3", window + 1, Change(["three"], session=KEEP))  # SM1's window has passed
    assert replied_sids(redis_client, "c1") == ["SM2", "SM3"]
    assert 0 < redis_client.ttl(key("c1", "replies")) <= window
    store.commit("c1", Change([], session=None), window + 2)
    assert not redis_client.exists(key("c1", "replies"))


def test_a_message_id_with_a_space_is_answered_but_not_kept_for_redeliveries(redis_client):
    store = Store(redis_client)  # an entry is "<sid> <time> <replies>": Twilio's SIDs have none
    assert store.begin("c1", "odd id", b"one", 0, rate_window=60).locked
    store.commit("c1", Change(["hi"], session={"lang": "en"}), 0, "odd id", token=b"one",
                 release=True)
    assert replied_sids(redis_client, "c1") == []
    assert store.begin("c1", "SM2", b"two", 1, rate_window=60).locked  # the next turn runs


def test_a_write_of_no_value_is_refused_before_anything_of_the_turn_is_written(redis_client):
    store = Store(redis_client)  # redis-py refuses None and booleans; the turn's script too
    for nothing in (None, True):
        with pytest.raises(DataError):
            store.commit("c1", Change([], session={"lang": "en"},
                                      also=(("SET", key("c1", "texted"), nothing),)), 0)
    assert store.snapshot("c1", None).session is None
