"""A turn's cost in Redis round trips: one to take the lock and read the contact, one to write
the turn and let go of the lock (bot/store.py). Counted on the wire, against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest
from phone import ANSWERS, BY_TYPE, Phone, make_app
from redis import ConnectionPool, Redis
from redis.connection import Connection

from bot.redis_embedded import RedisServer

pytest_plugins = ["redis_server"]


class CountingConnection(Connection):
    """A connection that counts what it sends: one packed write is one round trip (a
    pipeline's commands leave together)."""

    sent: ClassVar[list[bytes]] = []

    def send_packed_command(self, command, check_health=True):
        CountingConnection.sent.append(command)
        super().send_packed_command(command, check_health)


@pytest.fixture
def counted(redis_server: RedisServer) -> Iterator[Redis]:
    pool = ConnectionPool.from_url(redis_server.url, connection_class=CountingConnection)
    client = Redis(connection_pool=pool)
    client.flushall()
    yield client
    client.close()


def round_trips(phone: Phone, body: str, **fields: str) -> tuple[int, list[str]]:
    CountingConnection.sent.clear()
    said = phone.text(body, **fields)
    return len(CountingConnection.sent), said


@pytest.mark.redis_server
@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_an_answer_mid_screening_costs_two_round_trips(counted, content, channel):
    phone = Phone(make_app(counted, content), channel=channel)
    phone.text("hello")
    phone.text("22")  # the scripts are loaded by now
    trips, said = round_trips(phone, "95112")
    assert said and trips == 2


@pytest.mark.redis_server
def test_a_redelivered_message_costs_two_round_trips_and_runs_nothing(counted, content):
    phone = Phone(make_app(counted, content))
    phone.text("hello")
    first = phone.text("22", sid="SM" + "1" * 32)
    trips, said = round_trips(phone, "22", sid="SM" + "1" * 32)
    assert said == first and trips == 2


class Port:
    """A job port that only notes what STOP takes back (RQ's own round trips are RQ's)."""

    def __init__(self) -> None:
        self.cancelled: list[str] = []

    def enqueue(self, address, jobs, turn_id, now) -> None:
        pass

    def cancel(self, contact: str) -> None:
        self.cancelled.append(contact)


@pytest.mark.redis_server
def test_stop_costs_two_round_trips_beside_taking_back_the_queued_jobs(counted, content):
    port = Port()
    phone = Phone(make_app(counted, content, JOBS=port))
    phone.text("hello")
    phone.text("22")
    trips, _ = round_trips(phone, "STOP")
    assert trips == 2 and port.cancelled == [phone.contact]



def results_turn(phone: Phone) -> tuple[int, list[str]]:
    """Answer question after question; the round trips and replies of the turn with results."""
    phone.text("hello")
    while True:
        session = phone.session
        question = phone.app.extensions["textline"].content.flow.question(session["question"])
        trips, said = round_trips(phone, ANSWERS.get(question.id, BY_TYPE[question.type]))
        if phone.session["stage"] == "results":
            return trips, said


@pytest.mark.redis_server
def test_the_results_turn_queues_its_follow_ups_in_three_more_round_trips(counted, content):
    """Begin and commit as any turn; then, the lock still held, the jobs for later (with
    their places in RQ's scheduled-jobs registry) and the estimate's place in line in one
    pipeline, the estimate drain; and the lock's release."""
    app = make_app(counted, content)
    Phone(app, number="+14085550199").screen_to_results()  # scripts loaded, Redis version read
    counted.delete("sj:estimates:drain")  # that drain ran: this turn queues the next
    trips, said = results_turn(Phone(app))
    assert said and trips == 2 + 3


@pytest.mark.redis_server
def test_the_first_message_schedules_its_nudge_in_two_more_round_trips(counted, content):
    """The nudge for a screening left unfinished: its job and its place in the scheduled-jobs
    registry in one pipeline, then the lock's release."""
    app = make_app(counted, content)
    Phone(app, number="+14085550199").screen_to_results()  # scripts loaded, Redis version read
    scheduled = counted.zcard("rq:scheduled:outbound")
    trips, said = round_trips(Phone(app), "hello")
    assert said and trips == 2 + 2
    assert counted.zcard("rq:scheduled:outbound") == scheduled + 1
