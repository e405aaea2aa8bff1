"""Rule tables carry their effective dates and switch on their own, on San José's calendar."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.engine import step
from bot.flow import RESULTS
from bot.rules import (
    DEFAULT_PROGRAMS_PATH,
    SAN_JOSE,
    Limit,
    Rules,
    lint_rules,
    load_rules,
    san_jose_date,
)
from bot.yamlsource import YamlFileError

# The audit's CalFresh household: $2,650 a month, alone (issue 10).
AUDIT_HOUSEHOLD = {
    "age": 20, "zip": "95112", "household_size": 1, "monthly_income": 2650, "student": False,
    "works_20h": True, "pregnant": False, "youngest_child_age": None, "foster_youth": False,
    "housing_risk": False, "lost_job": False, "has_health_insurance": False,
}


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


def _limit(rules: Rules, name: str) -> Limit:
    return next(limit for limit in rules.limits if limit.name == name)


def _screener_check(profile: dict[str, Any], *options: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "check", *options, "-"],
                            input=json.dumps(profile), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Through the command staff use ---------------------------------------------------------------


def test_screener_check_shows_calfresh_switching_to_the_ffy2027_limit_on_1_october() -> None:
    before = _screener_check(AUDIT_HOUSEHOLD, "--date", "2026-09-30")
    after = _screener_check(AUDIT_HOUSEHOLD, "--date", "2026-10-01")
    assert (before["date"], after["date"]) == ("2026-09-30", "2026-10-01")
    assert "calfresh" not in [program["id"] for program in before["programs"]]
    assert "calfresh" in [program["id"] for program in after["programs"]]


def test_screener_check_defaults_to_today_in_san_jose() -> None:
    assert _screener_check({"age": 20})["date"] == san_jose_date().isoformat()


def test_screener_check_rejects_a_date_that_is_not_one() -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "check", "--date", "2026-13-01",
                             "-"], input="{}", capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "is not a date: write YYYY-MM-DD" in result.stderr


# The row in force on a day -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "one_person", "four_people"),
    [(date(2025, 9, 30), None, None), (date(2025, 10, 1), 2610, 5360),
     (date(2026, 9, 30), 2610, 5360), (date(2026, 10, 1), 2660, 5500),
     (date(2030, 1, 1), 2660, 5500)],
)
def test_the_calfresh_row_in_force_is_the_latest_one_that_has_started(
    rules: Rules, day: date, one_person: int | None, four_people: int | None
) -> None:
    table = _limit(rules, "calfresh_gross_limit")
    assert (table.value(1, day), table.value(4, day)) == (one_person, four_people)


def test_match_and_facts_use_the_day_they_are_given(rules: Rules) -> None:
    before, after = date(2026, 9, 30), date(2026, 10, 1)
    assert rules.facts(AUDIT_HOUSEHOLD, on=before)["calfresh_gross_limit"] == 2610
    assert rules.facts(AUDIT_HOUSEHOLD, on=after)["calfresh_gross_limit"] == 2660
    assert "calfresh" not in [program.id for program in rules.match(AUDIT_HOUSEHOLD, on=before)]
    assert "calfresh" in [program.id for program in rules.match(AUDIT_HOUSEHOLD, on=after)]


@pytest.mark.parametrize(
    ("name", "day", "expected"),
    [("calworks_mbsac", date(2026, 6, 30), 930), ("calworks_mbsac", date(2026, 7, 1), 963),
     ("care_income_limit", date(2026, 5, 31), 42300),
     ("care_income_limit", date(2026, 6, 1), 43280),
     ("federal_eitc_limit_no_children", date(2025, 12, 31), 19104),
     ("federal_eitc_limit_no_children", date(2026, 1, 1), 19540)],
)
def test_each_table_switches_on_its_own_programs_date(
    rules: Rules, name: str, day: date, expected: int
) -> None:
    assert _limit(rules, name).value(1, day) == expected


def test_lifeline_lists_households_of_three_and_more(rules: Rules) -> None:
    lifeline = _limit(rules, "lifeline_income_limit")
    assert [lifeline.value(size) for size in (2, 3, 4, 6)] == [32500, 37700, 45900, 62300]


# Percent-of-guideline rows -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "day", "guideline_for_two", "percent"),
    [("wic_income_limit", date(2026, 6, 30), 21150, 185),
     ("wic_income_limit", date(2026, 7, 1), 21640, 185),
     ("covered_california_max_income", date(2026, 10, 31), 21150, 400),
     ("covered_california_max_income", date(2026, 11, 1), 21640, 400),
     ("medi_cal_adult_limit", date(2025, 12, 31), 21150, 138),
     ("medi_cal_adult_limit", date(2026, 1, 1), 21640, 138)],
)
def test_percent_rows_are_that_percent_of_their_guideline_year_for_the_household(
    rules: Rules, name: str, day: date, guideline_for_two: int, percent: int
) -> None:
    assert _limit(rules, name).value(2, day) == pytest.approx(guideline_for_two * percent / 100)


def test_a_monthly_percent_row_is_a_twelfth_of_the_yearly_figure(tmp_path: Path) -> None:
    monthly = PERCENT_LIMIT.replace('unit: "year"', 'unit: "month"')
    rules = load_rules(_rules_file(tmp_path, DATED_LIMIT + monthly))
    assert _limit(rules, "help_limit").value(1, date(2026, 3, 1)) == pytest.approx(15960 * 2 / 12)


def test_a_pregnant_residents_baby_counts_where_the_limit_says_so(rules: Rules) -> None:
    day = date(2026, 8, 1)
    alone = rules.facts({"household_size": 1, "pregnant": False}, on=day)
    expecting = rules.facts({"household_size": 1, "pregnant": True}, on=day)
    assert alone["wic_income_limit"] == pytest.approx(15960 * 1.85)
    assert expecting["wic_income_limit"] == pytest.approx(21640 * 1.85)
    assert expecting["medi_cal_pregnancy_limit"] == pytest.approx(21640 * 2.13)
    assert expecting["medi_cal_adult_limit"] == pytest.approx(15960 * 1.38)  # not a pregnancy limit


def test_covered_california_uses_the_2026_guideline_from_open_enrollment_for_2027(
    rules: Rules,
) -> None:
    # $5,300 a month is over 400% of the 2025 guideline for 1 ($62,600 a year) but not of 2026's.
    answers = {"household_size": 1, "monthly_income": 5300}
    assert rules.facts(answers, on=date(2026, 10, 31))["covered_california_max_income"] < 63600
    assert rules.facts(answers, on=date(2026, 11, 1))["covered_california_max_income"] >= 63600


def test_every_shipped_limit_says_when_it_changes(rules: Rules) -> None:
    assert [limit.name for limit in rules.limits if limit.changes is None] == []


# The engine uses the conversation's own date, in San José ----------------------------------


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=SAN_JOSE).timestamp()


def _screen(content: Any, start: float) -> list[str]:
    """Answer every question for the audit household; the programs at the results."""
    replies = {"age": "20", "zip": "95112", "household_size": "1", "has_children": "no",
               "pregnant": "no", "monthly_income": "2650", "work": "1", "lost_job": "no",
               "student": "no", "foster_youth": "no", "has_health_insurance": "no",
               "housing_risk": "no"}
    result = step(content, None, "hi", start)
    for turn in range(1, 40):
        session = result.session
        if session["stage"] == RESULTS:
            return session["programs"]
        text = replies.get(session.get("question"), "yes")
        result = step(content, session, text, start + 60 * turn)
    raise AssertionError(f"no results; last question {result.session.get('question')}")


def test_the_engine_matches_on_the_conversations_date_in_san_jose(content: Any) -> None:
    # 23:00 on 30 September in San José is already 1 October in UTC: still FFY2026.
    assert "calfresh" not in _screen(content, _epoch("2026-09-30T23:00:00"))
    assert "calfresh" in _screen(content, _epoch("2026-10-01T00:30:00"))


def test_san_jose_date_is_the_local_date_not_utc() -> None:
    assert san_jose_date(_epoch("2026-09-30T23:59:00")) == date(2026, 9, 30)
    assert san_jose_date(_epoch("2026-10-01T00:00:00")) == date(2026, 10, 1)


# Lint: the next row is due ----------------------------------------------------------------

HEADER = """\
version: "2026-11-27"
poverty_guidelines:
  - year: 2025
    base: 15650
    per_person: 5500
    source: "HHS"
    effective: "2025-01-17"
  - year: 2026
    base: 15960
    per_person: 5680
    source: "HHS"
    effective: "2026-01-13"
limits:
"""
PROGRAMS = """\
programs:
  - id: calfresh
    name: "CalFresh"
    summary: "Money for food each month"
    details: "An EBT card for groceries."
    apply: "Apply at BenefitsCal.com."
    rank_value: 3576
    when: "monthly_income <= food_limit and annual_income <= help_limit"
    sources:
      - limit: "Gross income limit"
        source: "CDSS"
        effective: "2025-10-01"
"""
DATED_LIMIT = """\
  food_limit:
    description: "A monthly limit"
    changes: "yearly on 10-01"
    rows:
      - effective: "2025-10-01"
        by_household_size: {1: 2610, 2: 3526}
        each_extra_person: 918
        source: "CDSS FFY2026"
"""
PERCENT_LIMIT = """\
  help_limit:
    description: "A yearly percent limit"
    unit: "year"
    changes: "by tax year"
    rows:
      - effective: "2026-01-01"
        percent_of_guideline: 200
        guideline: 2026
        source: "a notice"
"""


def _rules_file(tmp_path: Path, limits: str = DATED_LIMIT + PERCENT_LIMIT) -> Path:
    path = tmp_path / "programs.yaml"
    path.write_text(HEADER + limits + PROGRAMS, encoding="utf-8")
    return path


def _problems(path: Path, today: date) -> list[tuple[int, str, str]]:
    asked = {"monthly_income", "household_size", "pregnant"}
    return [(p.line, p.severity, p.message) for p in lint_rules(path, asked, today=today)]


def test_lint_warns_when_a_tables_next_row_was_due_and_not_before(tmp_path: Path) -> None:
    path = _rules_file(tmp_path)
    assert _problems(path, date(2026, 9, 30)) == []
    line = HEADER.count("\n") + 1
    assert _problems(path, date(2026, 10, 1)) == [
        (line, "warning", "food_limit: a new row was expected on 2026-10-01; add the new figures")
    ]


def test_adding_the_due_row_clears_the_warning_until_the_next_one_is_due(tmp_path: Path) -> None:
    new_row = DATED_LIMIT + """\
      - effective: "2026-10-01"
        by_household_size: {1: 2660, 2: 3608}
        each_extra_person: 948
        source: "CDSS FFY2027"
"""
    path = _rules_file(tmp_path, new_row + PERCENT_LIMIT)

    def food_warnings(today: date) -> list[str]:
        return [text for _, _, text in _problems(path, today) if text.startswith("food_limit")]

    assert food_warnings(date(2026, 10, 1)) == food_warnings(date(2027, 9, 30)) == []
    assert food_warnings(date(2027, 10, 1)) == [
        "food_limit: a new row was expected on 2027-10-01; add the new figures"]


def test_lint_on_a_tax_year_table_expects_the_next_year_on_1_january(tmp_path: Path) -> None:
    path = _rules_file(tmp_path)
    warnings = [message for _, _, message in _problems(path, date(2027, 1, 1))]
    assert "help_limit: a new row was expected on 2027-01-01; add the new figures" in warnings


def test_the_shipped_tables_are_due_no_sooner_than_their_own_schedule(rules: Rules) -> None:
    due = {limit.name: limit.next_change() for limit in rules.limits}
    assert due["calfresh_gross_limit"] == date(2027, 10, 1)
    assert due["covered_california_max_income"] == date(2027, 11, 1)
    assert due["federal_eitc_limit_with_children"] == date(2027, 1, 1)
    assert due["care_income_limit"] == date(2027, 6, 1)
    assert due["calworks_earned_income_disregard"] is None


def test_the_old_one_row_form_still_works(tmp_path: Path) -> None:
    one_row = """\
  food_limit:
    description: "A monthly limit"
    by_household_size: {1: 2610}
    source: "CDSS FFY2026"
    effective: "2025-10-01"
"""
    path = _rules_file(tmp_path, one_row + PERCENT_LIMIT)
    assert _limit(load_rules(path), "food_limit").value(1, date(2026, 1, 1)) == 2610
    assert _problems(path, date(2026, 9, 30)) == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('effective: "2026-01-01"', 'effective: "2027-01-01"', "rows go oldest first"),
        ("        guideline: 2026\n", "        guideline: 2024\n",
         "no 2024 guideline under poverty_guidelines"),
        ('    unit: "year"\n', "", "a percent of the guideline needs unit"),
        ('changes: "yearly on 10-01"', 'changes: "yearly on 02-30"', "not a schedule I know"),
        ("        percent_of_guideline: 200\n",
         "        amount: 9\n        percent_of_guideline: 2\n",
         "give one of amount, by_household_size or percent_of_guideline"),
    ],
)
def test_lint_reports_a_broken_dated_table_on_its_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    limits = DATED_LIMIT + PERCENT_LIMIT + """\
      - effective: "2026-10-01"
        percent_of_guideline: 200
        guideline: 2026
        source: "a later notice"
"""
    assert limits.count(old) >= 1, old
    path = _rules_file(tmp_path, limits.replace(old, new, 1))
    found = [(severity, text) for _, severity, text in _problems(path, date(2026, 3, 1))]
    assert any(severity == "error" and message in text for severity, text in found), found
    with pytest.raises(YamlFileError):
        load_rules(path)


def test_the_shipped_file_has_no_errors_today() -> None:
    problems = lint_rules(DEFAULT_PROGRAMS_PATH, None)
    assert [p for p in problems if p.severity == "error"] == []
