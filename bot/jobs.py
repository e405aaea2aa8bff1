"""The job port: what the web side needs from a worker, and how it finds one.

`bot/` never imports `worker/`: the web process would otherwise load the worker's modules
(RQ internals, the estimates code) and the two packages could not change apart. The web side
talks to `Jobs`; `worker/port.py` implements it with RQ and declares itself as the entry
point `jobs` of the group `screener.plugins` (pyproject.toml). The app factory injects it the
way it injects `Store`; tests pass their own as `config["JOBS"]`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any, Protocol

from redis import Redis

from bot.content import Content
from bot.engine import Job

PLUGINS = "screener.plugins"  # `jobs`: a JobsFactory; `worker`: a LocalWorker
COMMANDS = "screener.commands"  # each a function adding subcommands to the `screener` parser


class Jobs(Protocol):
    """Slow work handed to a worker, and taken back when a resident opts out."""

    def enqueue(self, address: str, jobs: Sequence[Job], turn_id: str, now: float) -> None:
        """Queue a saved turn's engine jobs for `address` (clear, or `whatsapp:` prefixed).
        `turn_id` (the MessageSid) makes the job ids, so queueing a turn twice is harmless."""
        ...

    def cancel(self, contact: str) -> None:
        """Delete every job still waiting for the contact (STOP), with the data it holds."""
        ...

    def health(self) -> Mapping[str, Any]:
        """Counts only, for the staff dashboard (the worker's keys are the worker's to read):
        `queues` (queue -> RQ registry -> jobs now), `failures` (queue, or `<queue>:retried`
        -> failed runs), `disagreements` (`<program>:<kind>` -> estimates where the model and
        the rules disagreed) and `estimates_waiting` (households in line for an estimate)."""
        ...

    def readiness(self) -> Mapping[str, Any]:
        """The workers, for /healthz, in one cheap read: per queue, `state` (`ready` when a
        worker listens, `loading` while one loads its model, else `none`), how many are
        `ready` and `loading`, and `since` (ISO time, UTC) when the first got there. The web
        hook never waits for a worker: this only informs."""
        ...


class JobsFactory(Protocol):
    def __call__(self, config: Mapping[str, Any], redis: Redis, content: Content,
                 secret: bytes) -> Jobs:
        """A port that reads its settings (quiet hours, retention) from the app's `config`."""
        ...


class LocalWorker(Protocol):
    """What `screener run` needs to start workers beside the web app."""

    queues: Sequence[str]

    def describe_quiet_hours(self, config: Mapping[str, Any]) -> str | None:
        """The quiet hours in force under `config` (e.g. `21:00-08:00`), or None when off."""
        ...


class NoPlugin(RuntimeError):
    """No installed package provides a plugin the text line needs."""


def plugin(name: str) -> Any:
    """The object the entry point `name` of `screener.plugins` names, loaded."""
    found = list(entry_points(group=PLUGINS, name=name))
    if not found:
        raise NoPlugin(f"no '{name}' entry point in the group {PLUGINS}: install the text line "
                       "with its worker (pip install -e .)")
    return found[0].load()


def for_app(config: Mapping[str, Any], redis: Redis, content: Content, secret: bytes) -> Jobs:
    """The installed port, built from the app's configuration."""
    factory: JobsFactory = plugin("jobs")
    return factory(config, redis, content, secret)


def command_registrars() -> list[Any]:
    """The functions that add installed packages' subcommands to `screener`, by name."""
    return [point.load() for point in sorted(entry_points(group=COMMANDS),
                                              key=lambda point: point.name)]
