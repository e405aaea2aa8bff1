"""Redis commands sent the short way: packed into one write, their replies read back in order,
on a connection each thread keeps for itself.

A turn is two such batches (bot/store.py). redis-py's pipeline sends the same bytes, but on the
way it builds an object, packs every argument, looks up a callback for every reply, and takes
the connection from its pool and gives it back (a poll for stray data, metrics, an event), all
in Python: together a sixth of a turn. The connections are made as the client's pool makes
them, so the same address, timeouts, health checks and retry policy apply.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.connection import AbstractConnection
from redis.exceptions import DataError, ResponseError

Word = bytes | str | int | float
Command = Sequence[Word]


class Wire:
    """One connection per thread (and process: a forked child makes its own) to `redis`'s
    server. A connection left in doubt by a failure is closed, so no reply is ever read as
    the answer to a later command."""

    def __init__(self, redis: Redis):
        self.pool = redis.connection_pool
        self._mine = threading.local()

    def send(self, commands: Sequence[Command]) -> list[Any]:
        """The replies to `commands`, in order. An error reply comes back as its exception, as
        `pipeline.execute(raise_on_error=False)` gives it; a lost connection is retried as the
        client's retry policy says, then raised."""
        packed = pack(commands)
        connection = self._connection()

        def exchange() -> list[Any]:
            connection.send_packed_command([packed])
            replies: list[Any] = []
            for _ in commands:
                try:
                    replies.append(connection.read_response())
                except ResponseError as error:
                    replies.append(error)
            return replies

        try:
            return connection.retry.call_with_retry(exchange, lambda _: connection.disconnect())
        except BaseException:
            connection.disconnect()  # replies may be left unread on it
            raise

    def _connection(self) -> AbstractConnection:
        mine = self._mine
        if getattr(mine, "pid", None) != os.getpid():
            mine.connection = self.pool.connection_class(**self.pool.connection_kwargs)
            mine.pid = os.getpid()
        return mine.connection


def pack(commands: Sequence[Command]) -> bytes:
    """The commands in Redis's protocol (RESP): arrays of bulk strings. A word's type is
    tested exactly, commonest first, and its bulk string written in one step: a commit
    script has sixty words, and this ran a twentieth of a turn."""
    parts: list[bytes] = []
    for command in commands:
        parts.append(b"*%d\r\n" % len(command))
        for word in command:
            kind = type(word)
            if kind is str:
                data = word.encode()
            elif kind is bytes:
                data = word
            elif kind is int:
                data = b"%d" % word
            else:
                data = _bytes(word, command)
            parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


def _bytes(word: Word, command: Command) -> bytes:
    """Any other word: a float as Python writes it back exactly, subclasses of bytes and
    str as themselves."""
    if isinstance(word, bytes):
        return word
    if isinstance(word, str):
        return word.encode()
    if isinstance(word, int | float) and not isinstance(word, bool):
        return repr(word).encode()
    # As redis-py refuses them: None or a boolean is no value to write.
    raise DataError(f"{command[0]!r}: cannot send {word!r}")
