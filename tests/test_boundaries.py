"""`bot/` never imports `worker/`: the web process talks to the job port (bot/jobs.py), and
finds the worker's implementation through an entry point."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from phone import make_app

from bot import jobs
from worker.port import RqJobs

BOT = Path(__file__).resolve().parents[1] / "bot"


def worker_imports(source: str) -> list[int]:
    """The lines of `import worker...` and `from worker... import` in `source`."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "worker" or name.startswith("worker.") for name in names):
            lines.append(node.lineno)
    return lines


def test_the_scan_sees_every_form_of_importing_worker():
    source = ("import worker\nimport os, worker.queues\nfrom worker import port\n"
              "from worker.port import for_app\ndef f():\n    import worker.start\n"
              "import workers\nfrom bot import worker\nfrom . import worker\n")
    assert worker_imports(source) == [1, 2, 3, 4, 6]


def test_no_module_under_bot_imports_worker():
    found = [f"{path.relative_to(BOT.parent)}:{line}"
             for path in sorted(BOT.rglob("*.py"))
             for line in worker_imports(path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_app_finds_the_rq_port_through_its_entry_point(fake_redis, content):
    app = make_app(fake_redis, content, QUIET_HOURS="off", RETENTION_DAYS="3")
    port = app.extensions["textline"].jobs
    assert isinstance(port, RqJobs)
    # Built from the app's config, not from this process's environment.
    assert port.timing.quiet_hours is None and port.timing.ttl.retention == 3 * 86400


def test_a_port_given_in_the_config_is_the_one_the_app_uses(fake_redis, content):
    class Recorder:
        def enqueue(self, address, queued, turn_id, now):
            raise AssertionError("no jobs expected")

        def cancel(self, contact):
            self.cancelled = contact

    port = Recorder()
    app = make_app(fake_redis, content, JOBS=port)
    assert app.extensions["textline"].jobs is port


def test_the_installed_plugins_name_the_worker_and_add_its_commands():
    assert jobs.plugin("jobs").__module__ == "worker.port"
    assert list(jobs.plugin("worker").queues) == ["outbound", "estimates"]
    assert [register.__module__ for register in jobs.command_registrars()] == ["worker.cli"]


def test_the_web_side_loads_without_the_worker_until_it_asks_for_the_port():
    script = ("import sys, bot.app, bot.cli, bot.serve, bot.inbound, bot.optout\n"
              "print(sorted(m for m in sys.modules if m == 'worker' or m.startswith('worker.')))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
