"""`screener run`: the whole text line on one machine, with embedded defaults.

No REDIS_URL: an embedded Redis (data lasts until it stops). No Twilio credentials: outbound
messages go to the local outbox (`screener outbox`), and a local admin account is made for the
run. It prints the staff simulator's address and, at a desktop, opens it in a browser. The web
app runs in Werkzeug's threaded server here; production uses the Procfile (gunicorn +
`screener worker`). Two workers run beside it: one for outbound messages, ready at once, and
one for dollar estimates, which loads the PolicyEngine model first (30-50 s) and says when it
is ready; the web app does not wait for either.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import webbrowser
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import FrameType

from werkzeug.serving import make_server

from bot.app import ENVIRONMENT, create_app
from bot.jobs import LocalWorker, plugin
from bot.redis_embedded import RedisServer
from bot.web.staff.accounts import make_hash


def run(host: str, port: int) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    local: LocalWorker = plugin("worker")  # the installed worker: its queues, its quiet hours
    with ExitStack() as stack:
        if not os.environ.get("REDIS_URL"):
            # Announced, so `screener jobs` in another terminal reads this Redis.
            redis = stack.enter_context(RedisServer(announce=True))
            os.environ["REDIS_URL"] = redis.url
            print(f"Embedded Redis at {redis.url}; its data is gone when this stops.")
        account = local_account()
        if not os.environ.get("SCREENER_SECRET"):
            os.environ["SCREENER_SECRET"] = secrets.token_hex(32)
            print("SCREENER_SECRET is not set: using a random one for this run.")
        for name in local.queues:
            stack.enter_context(_worker(name))
        server = make_server(host, port, create_app(), threaded=True)
        base = f"http://{host}:{server.port}"
        print(_banner(base, local, account), flush=True)
        open_in_browser(f"{base}/staff/simulator")
        server.serve_forever()  # returns on Ctrl-C or SIGTERM
    print("Stopped.")
    return 0


def local_account() -> tuple[str, str] | None:
    """On a laptop with no staff accounts configured: one local admin with a random password,
    for this run only. Never where Twilio credentials say the site is real."""
    if os.environ.get("STAFF_USERS") or os.environ.get("TWILIO_ACCOUNT_SID") \
            or os.environ.get("TWILIO_AUTH_TOKEN"):
        return None
    password = secrets.token_urlsafe(12)
    os.environ["STAFF_USERS"] = f"local:admin:{make_hash(password)}"
    return "local", password


def _banner(base: str, local: LocalWorker, account: tuple[str, str] | None = None) -> str:
    lines = [
        f"Serving the San José benefits text line on {base}",
        f"  simulator: {base}/staff/simulator  (text the bot as a fictional resident)",
        f"  staff:     {base}/staff/"
        + (f"  (sign in as {account[0]}, password {account[1]}; for this run only)"
           if account else "  (accounts from STAFF_USERS)"),
        f"  health:    {base}/healthz",
        f"  Twilio:    POST {base}/twilio/messages  (behind a tunnel, set PUBLIC_URL; "
        "see docs/twilio.md)",
    ]
    if os.environ.get("TWILIO_ACCOUNT_SID") and os.environ.get("TWILIO_AUTH_TOKEN"):
        lines.append("  outbound:  through Twilio")
    else:
        lines.append("  outbound:  the local outbox; see `screener outbox`")
    quiet = local.describe_quiet_hours(_app_environment())
    if quiet is not None:
        lines.append(f"  quiet hours: {quiet} city time (QUIET_HOURS): follow-ups due then "
                     "wait for the morning")
    lines.append("  jobs:      `screener jobs` (dollar estimates start once the model is loaded)")
    lines.append("Ctrl-C to stop.")
    return "\n".join(lines)


def open_in_browser(url: str) -> None:
    """Open the simulator when someone runs this at a desktop. Never from a script (no
    terminal) or without a display, where Python would start a console browser in the
    terminal the server prints to."""
    if not sys.stdout.isatty():
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return
    webbrowser.open(url)


def _app_environment() -> dict[str, str]:
    """What `create_app()` reads from the environment: the banner says what the app does."""
    return {name: os.environ[name] for name in ENVIRONMENT if os.environ.get(name)}


@contextmanager
def _worker(name: str) -> Iterator[subprocess.Popen[bytes]]:
    """`screener worker` for one queue, so a slow model load never holds up a message."""
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--queue", name])
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
