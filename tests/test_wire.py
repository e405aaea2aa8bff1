"""The turn's short way to Redis (bot/wire.py): the same bytes as redis-py, replies in order,
error replies handed back, and a lost connection survived as the client's retry policy says."""

from __future__ import annotations

import os
import threading

import pytest
from redis.connection import Connection
from redis.exceptions import DataError, NoScriptError, ResponseError

from bot import wire
from bot.wire import Wire

pytest_plugins = ["redis_server"]


@pytest.mark.parametrize("command", [
    ("SET", "sj:{a}:session", b"\x00\xff binary\r\n", "EX", 2592000),
    ("ZADD", "sj:{a}:rate", 1765000000.25, "1765000000.250000-ab12"),
    ("HINCRBY", "sj:stats:{2026-12-06}", "answered:age", -1),
    ("RPUSH", "list", "đúng ਪੰਜਾਬੀ हिंदी 😀", ""),
    ("ZADD", "sj:{a}:rate", -0.5, 10**20, 0, "0.1", 0.1, 1e-07),
])
def test_commands_are_packed_byte_for_byte_as_redis_py_packs_them(command):
    assert wire.pack([command]) == b"".join(Connection().pack_command(*command))


@pytest.mark.parametrize("word", [None, True, False, object()])
def test_a_value_that_is_no_value_is_refused_before_anything_is_sent(word):
    with pytest.raises(DataError):
        wire.pack([("SET", "key", "1"), ("SET", "key", word)])


def test_replies_come_back_in_order_with_error_replies_as_their_exceptions(redis_client):
    replies = Wire(redis_client).send([
        ("SET", "k", "1"), ("INCR", "k"), ("LPUSH", "k", "x"), ("GET", "k"),
        ("EVALSHA", "0" * 40, 0), ("GET", "missing")])
    assert replies[:2] == [b"OK", 2]  # raw replies: no callback turns OK into True
    assert isinstance(replies[2], ResponseError)
    assert replies[3] == b"2"
    assert isinstance(replies[4], NoScriptError)
    assert replies[5] is None


def test_every_thread_and_every_forked_process_talks_on_a_connection_of_its_own(
        redis_client, monkeypatch):
    wire = Wire(redis_client)
    wire.send([("SET", "k", "1")])
    mine = wire._connection()
    assert wire._connection() is mine
    other: list = []
    thread = threading.Thread(target=lambda: other.append(wire._connection()))
    thread.start()
    thread.join()
    assert other[0] is not mine
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a child after fork
    assert wire._connection() is not mine
    assert wire.send([("GET", "k")]) == [b"1"]


@pytest.mark.redis_server
def test_a_connection_killed_between_turns_is_made_again(real_redis):
    wire = Wire(real_redis)
    wire.send([("SET", "k", "1")])
    real_redis.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    assert wire.send([("INCR", "k")]) == [2]
    assert real_redis.get("k") == b"2"


@pytest.mark.redis_server
def test_a_connection_that_failed_midway_is_closed_before_it_is_used_again(real_redis,
                                                                           monkeypatch):
    """No reply is left unread on the connection for the next batch to take as its own."""
    wire = Wire(real_redis)
    wire.send([("SET", "k", "1")])
    connection = wire._connection()
    calls = []

    def fail_on_second_reply(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return Connection.read_response(connection, *args, **kwargs)

    monkeypatch.setattr(connection, "read_response", fail_on_second_reply)
    with pytest.raises(KeyboardInterrupt):
        wire.send([("GET", "k"), ("GET", "k")])
    monkeypatch.undo()
    assert connection._sock is None
    assert wire.send([("SET", "k", "2"), ("GET", "k")]) == [b"OK", b"2"]
