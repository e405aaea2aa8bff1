"""Bad input never breaks the text line: any request at the web hook gets valid TwiML, a 403
or a 413 (never a 5xx, never a failed turn), and `screener lint` reports mangled flows as
`path:line` problems instead of crashing. Property-based (hypothesis); issue 11, item 4.

The big run (100,000+ requests) is bench/fuzz_webhook.py; its figures are in
docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Iterator

import fakeredis
import pytest
import yaml
from bad_requests import Bad, bad_requests, problems
from flask import Flask
from flow_copies import copy_flows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phone import make_app
from werkzeug.test import encode_multipart

from bot.cli import main as screener
from bot.content import load_content
from bot.paths import SHIPPED_FLOWS
from bot.redis_embedded import RedisServer
from bot.store import connect

pytest_plugins = ["redis_server"]
EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Failures(logging.Handler):
    """Collects ERROR records: a turn that failed and was answered with an apology."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def failures() -> Iterator[Failures]:
    handler = Failures()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture(scope="module")
def fake_app() -> Flask:
    return make_app(fakeredis.FakeRedis(server=fakeredis.FakeServer()), load_content())


@pytest.fixture(scope="module")
def real_app(redis_server: RedisServer) -> Iterator[Flask]:
    client = connect(redis_server.url)
    client.flushall()
    yield make_app(client, load_content())
    client.close()


def answered(app: Flask, bad: Bad, failures: Failures) -> None:
    failures.records.clear()
    response = bad.send(app.test_client())
    found = problems(bad, response)
    found += [f"turn failed: {record.getMessage()}" for record in failures.records]
    assert not found, f"{found}\nrequest: {bad.content_type} {bad.headers} {bad.body[:300]!r}"


@EXAMPLES
@given(bad=bad_requests())
def test_any_request_gets_twiml_403_or_413_never_a_5xx_or_a_failed_turn(fake_app, failures,
                                                                        bad):
    answered(fake_app, bad, failures)


def test_a_form_field_named_with_a_line_break_is_refused_not_answered(fake_app, failures):
    """Werkzeug reads a multipart part named "\\r" as a field named None, which Twilio's
    validator cannot sort: found by the big run, once an apology to an unsigned request."""
    boundary, body = encode_multipart({"\r": "x", "Body": "hi"}, boundary="----bad-input")
    answered(fake_app, Bad(body, f"multipart/form-data; boundary={boundary}",
                           {"X-Twilio-Signature": "forged"}, allowed=frozenset({403})), failures)


@pytest.mark.redis_server
@settings(EXAMPLES, max_examples=150)
@given(bad=bad_requests())
def test_bad_input_against_a_real_redis_server_gets_the_same_calm_answers(real_app, failures,
                                                                          bad):
    answered(real_app, bad, failures)


# --- screener lint on mangled flows --------------------------------------------------------

FILES = ["screener.yaml", "programs.yaml", "services.yaml", "urgent.yaml", "languages/en.yaml",
         "languages/hi.yaml", "languages/pa.yaml"]
JUNK = [":", ": x", "- ", "  ", "\t", "{", "[", "}", "]", '"', "'", "&a", "*a", "? ",
        "!!python/object:os.system", "|", ">", "#", "%YAML 1.1", "---", "...", "@", "`",
        "\x00", "\ufeff", "नमस्ते",
        "<<: *x", "null", "~", "1e400", "-1", "yes", "0x", "{{ x }}", "{name}", "%(x)s"]
PATH_LINE = re.compile(r"[^\n]+:\d+: ")
SEVERITY = re.compile(r"[^\n]+:\d+: (warning|info): ")


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str]:
    """One shipped flows file with a few staff-like slips: lines deleted, repeated, swapped,
    re-indented, cut short, or junk typed in."""
    name = draw(st.sampled_from(FILES))
    lines = (SHIPPED_FLOWS / name).read_text("utf-8").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "repeat", "swap", "indent", "dedent", "cut",
                                    "junk", "junk line", "truncate"]))
        if how == "delete":
            del lines[at: at + draw(st.integers(1, 30))]
        elif how == "repeat":
            lines.insert(at, lines[at])
        elif how == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif how == "indent":
            lines[at] = " " * draw(st.integers(1, 3)) + lines[at]
        elif how == "dedent":
            lines[at] = lines[at].lstrip()
        elif how == "cut":
            lines[at] = lines[at][: draw(st.integers(0, max(len(lines[at]) - 1, 0)))]
        elif how == "junk":
            cut = draw(st.integers(0, len(lines[at])))
            junk = draw(st.one_of(st.sampled_from(JUNK), st.text(max_size=8)))
            lines[at] = lines[at][:cut] + junk + lines[at][cut:]
        elif how == "junk line":
            lines.insert(at, draw(st.one_of(st.sampled_from(JUNK), st.text(max_size=20))))
        else:
            del lines[at:]
        if not lines:
            lines = [""]
    return name, "\n".join(lines)


def _parses(text: str) -> bool:
    try:
        yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return True


@pytest.mark.slow
@settings(EXAMPLES, max_examples=40)
@given(mutation=mutations())
def test_lint_reports_mangled_flows_as_path_line_problems_and_never_crashes(tmp_path_factory,
                                                                          mutation):
    name, text = mutation
    folder = copy_flows(tmp_path_factory.mktemp("mangled"))
    (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = screener(["lint", "--flows", str(folder)])
    shown = out.getvalue().splitlines()
    assert "Traceback" not in out.getvalue() + err.getvalue()
    # A problem starts with path:line; only its message may go on, indented, on the next line.
    starts = [line for line in shown if not line.startswith(" ")]
    assert all(PATH_LINE.match(line) for line in starts), shown
    errors = [line for line in starts if not SEVERITY.match(line)]
    assert code == (1 if errors else 0), (code, shown)
    if not _parses(text):
        assert any(line.startswith(str(folder / name) + ":") for line in errors), shown
