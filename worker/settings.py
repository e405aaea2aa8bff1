"""The worker's settings, from the environment (docs/twilio.md lists them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.store import DEFAULT_REDIS_URL, Ttl
from worker import throughput
from worker.quiet import QuietHours


@dataclass(frozen=True)
class Timing:
    """When a queued message may go and how long its traces live. Read from the queueing
    process's own configuration: the app's config in the web process (which need not be its
    environment), the environment in the worker."""

    quiet_hours: QuietHours | None = field(default_factory=lambda: QuietHours.parse(None))
    ttl: Ttl = field(default_factory=Ttl)

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> Timing:
        quiet = config.get("QUIET_HOURS")
        return cls(QuietHours.parse(str(quiet) if quiet is not None else None),
                   Ttl.from_config(config))


@dataclass(frozen=True)
class Settings:
    secret: bytes  # SCREENER_SECRET: opens the sealed addresses jobs carry
    account_sid: str | None = None
    auth_token: str | None = None
    messaging_service_sid: str | None = None  # send from a Messaging Service (MG...)...
    sender_number: str | None = None  # ...or from this number (TWILIO_FROM)
    public_url: str | None = None  # for the status callback URL
    whatsapp_template_sid: str | None = None  # HX..., one variable: the message text
    sender_kind: str = "long_code"
    quiet_hours: QuietHours | None = None
    ttl: Ttl = field(default_factory=Ttl)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        secret = env.get("SCREENER_SECRET")
        if not secret:
            raise RuntimeError("SCREENER_SECRET is not set: the worker needs it to open the "
                               "sealed addresses in its jobs")
        return cls(
            secret=secret.encode(),
            account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
            sender_number=env.get("TWILIO_FROM") or None,
            public_url=env.get("PUBLIC_URL") or None,
            whatsapp_template_sid=env.get("WHATSAPP_TEMPLATE_SID") or None,
            sender_kind=env.get("SENDER_KIND") or "long_code",
            quiet_hours=QuietHours.parse(env.get("QUIET_HOURS")),
            ttl=Ttl.from_config(env),
        )

    def __post_init__(self) -> None:
        """Refuse settings that would fail every send, at start-up rather than at send time."""
        throughput.rate(self.sender_kind)
        if self.uses_twilio and not (self.messaging_service_sid or self.sender_number):
            raise RuntimeError("with Twilio credentials set, set TWILIO_MESSAGING_SERVICE_SID "
                               "or TWILIO_FROM: the sender of outbound messages")

    @property
    def uses_twilio(self) -> bool:
        """Credentials set: send through Twilio; else write to the local outbox."""
        return bool(self.account_sid and self.auth_token)

    @property
    def timing(self) -> Timing:
        return Timing(self.quiet_hours, self.ttl)

    @property
    def segments_per_second(self) -> float:
        return throughput.rate(self.sender_kind)

    @property
    def sender(self) -> str:
        """The sender whose throughput a send uses."""
        return self.messaging_service_sid or self.sender_number or ""

    @property
    def status_callback(self) -> str | None:
        return self.public_url.rstrip("/") + "/twilio/status" if self.public_url else None


def redis_url(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("REDIS_URL") or DEFAULT_REDIS_URL
