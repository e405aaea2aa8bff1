"""The dependency audit (scripts/audit): no known vulnerability is tolerated without a written
reason and a date to look again."""

from __future__ import annotations

import datetime
import importlib.machinery
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit"
TODAY = datetime.date(2026, 12, 6)


def load_audit():
    loader = importlib.machinery.SourceFileLoader("audit_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader("audit_script", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def audit(tmp_path, monkeypatch):
    module = load_audit()
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "EXCEPTIONS", tmp_path / "audit-exceptions.toml")
    return module


def test_the_shipped_exceptions_file_is_valid():
    assert isinstance(load_audit().exceptions(datetime.date.today()), list)


def test_an_accepted_advisory_with_its_reason_is_passed_to_pip_audit(audit):
    audit.EXCEPTIONS.write_text('[[accepted]]\nid = "GHSA-1"\npackage = "x"\n'
                                'reason = "We never call it."\nlook_again = 2027-01-01\n')
    assert audit.exceptions(TODAY) == ["GHSA-1"]


def test_an_accepted_advisory_without_a_reason_fails_the_audit(audit, capsys):
    audit.EXCEPTIONS.write_text('[[accepted]]\nid = "GHSA-1"\npackage = "x"\n'
                                'look_again = 2027-01-01\n')
    with pytest.raises(SystemExit):
        audit.exceptions(TODAY)
    assert "audit-exceptions.toml: entry 1 has no reason" in capsys.readouterr().err


def test_an_accepted_advisory_past_its_date_to_look_again_fails_the_audit(audit, capsys):
    audit.EXCEPTIONS.write_text('[[accepted]]\nid = "GHSA-1"\npackage = "x"\n'
                                'reason = "We never call it."\nlook_again = 2026-12-01\n')
    with pytest.raises(SystemExit):
        audit.exceptions(TODAY)
    assert "GHSA-1: its date to look again, 2026-12-01, has passed" in capsys.readouterr().err


def test_an_unreachable_advisory_database_is_said_plainly_and_fails_only_where_required(
        audit, monkeypatch, capsys):
    audit.EXCEPTIONS.write_text("")
    monkeypatch.setattr(audit, "advisories_reachable", lambda: False)
    monkeypatch.delenv("AUDIT_REQUIRED", raising=False)
    assert audit.main() == 0
    assert "pip-audit NOT RUN" in capsys.readouterr().out
    monkeypatch.setenv("AUDIT_REQUIRED", "1")
    assert audit.main() == 1


def test_a_reachable_database_runs_pip_audit_strictly_with_the_accepted_ids(audit, monkeypatch):
    audit.EXCEPTIONS.write_text('[[accepted]]\nid = "GHSA-1"\npackage = "x"\n'
                                'reason = "We never call it."\nlook_again = 2099-01-01\n')
    monkeypatch.setattr(audit, "advisories_reachable", lambda: True)
    ran = []
    monkeypatch.setattr(audit.subprocess, "run", lambda command, check: ran.append(command) or
                        type("Done", (), {"returncode": 3})())
    assert audit.main() == 3  # pip-audit's own verdict
    [command] = ran
    assert command[0].endswith("pip-audit") and "--strict" in command
    assert command[command.index("--ignore-vuln") + 1] == "GHSA-1"
