"""The terminal tools, run as staff run them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def screener(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


def programs_for(profile: dict, *options: str) -> list[str]:
    result = screener("check", "-", *options, stdin=json.dumps(profile))
    assert result.returncode == 0, result.stderr
    return [program["id"] for program in json.loads(result.stdout)["programs"]]


@pytest.mark.parametrize(("date", "income", "shown"), [
    ("2026-09-30", 2610, True), ("2026-09-30", 2611, False),  # FFY2026: 200% of 2025
    ("2026-10-01", 2660, True), ("2026-10-01", 2661, False),  # FFY2027: 200% of 2026
])
def test_check_agrees_with_the_calfresh_limit_for_one_person_on_each_date(date, income, shown):
    profile = {"age": 20, "household_size": 1, "monthly_income": income, "student": False}
    assert ("calfresh" in programs_for(profile, "--date", date)) is shown


@pytest.mark.parametrize(("age", "shown"), [(23, False), (24, True), (25, True)])
def test_check_shows_the_federal_eitc_without_children_from_24_as_age_counts_on_31_december(
        age, shown):
    profile = {"age": age, "household_size": 1, "monthly_income": 1200}
    assert ("federal_eitc" in programs_for(profile, "--date", "2026-12-01")) is shown


def test_check_explains_a_broken_profile_with_its_line():
    result = screener("check", "-", stdin='{"age": 20,\n "zip": }')
    assert result.returncode == 2
    assert result.stderr.startswith("-:2: not valid JSON")


def test_chat_reads_one_message_per_line_and_prints_each_reply():
    result = screener("chat", stdin="hi\n22\n")
    assert result.returncode == 0, result.stderr
    assert "How old are you?" in result.stdout
    assert "What is your ZIP code?" in result.stdout


def test_chat_can_start_in_another_language():
    result = screener("chat", "--lang", "es", stdin="hola\n")
    assert "¿Qué edad tienes?" in result.stdout


def test_check_refuses_a_misspelled_answer_with_its_line_and_the_name_meant():
    result = screener("check", "-", stdin='{"age": 20,\n "houshold_size": 1}')
    assert result.returncode == 2
    assert result.stderr.strip() == ("-:2: 'houshold_size' is not an answer the rules read "
                                     "(did you mean 'household_size'?)")


def test_check_why_shows_the_condition_that_decided_each_program_and_what_it_read():
    profile = {"age": 20, "household_size": 1, "monthly_income": 1200}
    result = screener("check", "--why", "--date", "2026-12-01", "-", stdin=json.dumps(profile))
    why = {entry["id"]: entry for entry in json.loads(result.stdout)["why"]}
    assert why["calfresh"]["shown"] is True
    assert why["calworks"]["shown"] is False
    assert why["calworks"]["when"] == "may_get_calworks"
    assert why["calworks"]["values"] == {"may_get_calworks": False}
