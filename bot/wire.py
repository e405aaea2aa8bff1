"""Redis commands sent the short way: packed into one write, their replies read back in order,
on one pooled connection of the client.

A turn is two such batches (bot/store.py). redis-py's pipeline sends the same bytes, but builds
an object, packs every argument and looks up a callback for every reply in Python on the way:
that was about a tenth of a turn. The client's connections, timeouts, health checks and retry
policy are used as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.exceptions import DataError, ResponseError

Word = bytes | str | int | float
Command = Sequence[Word]


def send(redis: Redis, commands: Sequence[Command]) -> list[Any]:
    """The replies to `commands`, in order. An error reply comes back as its exception, as
    `pipeline.execute(raise_on_error=False)` gives it; a lost connection is retried as the
    client's retry policy says, then raised."""
    packed = pack(commands)
    pool = redis.connection_pool
    connection = pool.get_connection()

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
    finally:
        pool.release(connection)


def pack(commands: Sequence[Command]) -> bytes:
    """The commands in Redis's protocol (RESP): arrays of bulk strings."""
    parts: list[bytes] = []
    for command in commands:
        parts.append(b"*%d\r\n" % len(command))
        for word in command:
            data = _bytes(word, command)
            parts += (b"$%d\r\n" % len(data), data, b"\r\n")
    return b"".join(parts)


def _bytes(word: Word, command: Command) -> bytes:
    if isinstance(word, bytes):
        return word
    if isinstance(word, str):
        return word.encode()
    if isinstance(word, int | float) and not isinstance(word, bool):
        return repr(word).encode()
    # As redis-py refuses them: None or a boolean is no value to write.
    raise DataError(f"{command[0]!r}: cannot send {word!r}")
