"""The rules audit's findings (issue 10), each checked through `screener check` as staff run it.

Every case starts from the audit's base profile and changes only the fields the finding names.
The day is fixed inside the 2026 open enrollment, so the dated tables cannot move under a test.
"""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import sys
from datetime import date
from typing import Any

import pytest

from bot.cli import main
from bot.rules import load_rules

BASE: dict[str, Any] = {
    "age": 20, "zip": "95112", "household_size": 1, "monthly_income": 1200, "student": False,
    "works_20h": True, "pregnant": False, "youngest_child_age": None, "foster_youth": False,
    "housing_risk": False, "lost_job": False, "has_health_insurance": False,
}
DAY = "2026-12-01"  # open enrollment for 2027 coverage; tax year 2026; CalFresh FFY2027
GUIDELINE_2026 = {1: 15960, 2: 21640, 3: 27320, 4: 33000}

# Programs only California offers: none may reach a ZIP outside the state.
CALIFORNIA_PROGRAMS = {
    "calfresh", "calfresh_student", "medi_cal", "medi_cal_child", "medi_cal_foster_youth",
    "medi_cal_access", "covered_california", "calworks", "wic", "caleitc",
    "young_child_tax_credit", "foster_youth_tax_credit", "clipper_start", "lifeline", "care",
    "fera", "family_pact", "extended_foster_care", "chafee_grant", "cal_grant",
    "college_promise_grant", "work2future", "sjpl", "homelessness_prevention",
    "unemployment_insurance", "general_assistance",
}


def check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          day: str = DAY, **changes: Any) -> dict[str, dict[str, Any]]:
    """`screener check --date DAY -` on the base profile with `changes`: programs by id."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({**BASE, **changes})))
    assert main(["check", "--date", day, "-"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["date"] == day
    return {program["id"]: program for program in output["programs"]}


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    def run(day: str = DAY, **changes: Any) -> dict[str, dict[str, Any]]:
        return check(monkeypatch, capsys, day, **changes)
    return run


def details(program_id: str) -> str:
    """A program's details text (`screener check` prints the list texts and the caution)."""
    return load_rules().program(program_id).details


def monthly(size: int, percent: float) -> int:
    """The largest whole monthly income at or under `percent` of the 2026 guideline."""
    return math.floor(GUIDELINE_2026[size] * percent / 100 / 12)


# CalFresh students ---------------------------------------------------------------------------

STUDENT = {"student": True, "works_20h": False}


def test_a_student_with_an_exemption_from_the_county_list_gets_calfresh(shown) -> None:
    found = shown(**STUDENT, student_exempt=True)
    assert "calfresh" in found
    assert "calfresh_student" not in found


@pytest.mark.parametrize("exempt", [None, False])
def test_a_student_with_no_known_exemption_still_hears_of_calfresh_if_they_have_one(
    shown, exempt: bool | None
) -> None:
    found = shown(**STUDENT, student_exempt=exempt)
    assert "calfresh" not in found
    student_entry = found["calfresh_student"]
    assert student_entry["name"] == "CalFresh"
    assert "exemption" in details("calfresh_student")
    assert "exemption" in student_entry["caution"]


@pytest.mark.parametrize(
    "changes",
    [{"works_20h": True}, {"household_size": 2, "youngest_child_age": 11}, {"age": 50}],
)
def test_students_exempt_by_work_a_child_or_age_need_no_exemption_answer(
    shown, changes: dict[str, Any]
) -> None:
    found = shown(**{**STUDENT, **changes})
    assert "calfresh" in found
    assert "calfresh_student" not in found


def test_having_been_in_foster_care_is_not_a_student_exemption_by_itself(shown) -> None:
    # 7 CFR 273.5(b): a foster youth program (NextUp is part of EOPS) is; foster care is not.
    found = shown(**STUDENT, foster_youth=True, foster_care_at_18=False, student_exempt=False)
    assert "calfresh" not in found
    assert "calfresh_student" in found
    assert "calfresh" in shown(**STUDENT, foster_youth=True, student_exempt=True)


@pytest.mark.parametrize("exempt", [None, False])
def test_a_student_without_an_exemption_leaves_the_rest_of_the_home_calfresh(
    shown, exempt: bool | None
) -> None:
    # 7 CFR 273.5(a), 273.11(d): only the student is left out; the others may still get it.
    found = shown(**STUDENT, household_size=2, monthly_income=3000, student_exempt=exempt)
    assert "calfresh" in found
    assert "left out" in found["calfresh_student"]["caution"]
    assert "others at home" in found["calfresh_student"]["caution"]


def test_a_student_over_the_calfresh_income_limit_sees_neither_calfresh_entry(shown) -> None:
    found = shown(**STUDENT, monthly_income=2661)
    assert not {"calfresh", "calfresh_student"} & set(found)


# Pregnancy: the baby counts, MCAP, and the partner's coverage ----------------------------------


def test_the_audit_pregnant_household_gets_medi_cal_and_wic(shown) -> None:
    found = shown(pregnant=True, monthly_income=2900)
    assert {"medi_cal", "wic"} <= set(found)


@pytest.mark.parametrize(
    ("income", "medi_cal", "access"),
    [
        (monthly(2, 213), True, False),  # the pregnant person counts as two
        (monthly(2, 213) + 1, False, True),  # over 213%: the Medi-Cal Access Program
        (monthly(2, 322), False, True),
        (monthly(2, 322) + 1, False, False),
    ],
)
def test_pregnancy_medi_cal_to_213_percent_then_mcap_to_322_percent_with_the_baby_counted(
    shown, income: int, medi_cal: bool, access: bool
) -> None:
    found = shown(pregnant=True, monthly_income=income)
    assert ("medi_cal" in found, "medi_cal_access" in found) == (medi_cal, access)


def test_mcap_texts_are_short_plain_and_promise_nothing(shown) -> None:
    access = shown(pregnant=True, monthly_income=4500)["medi_cal_access"]
    assert len(access["summary"]) <= 35
    assert "check" in access["caution"]
    assert not re.search(r"\byou (qualify|are eligible|will get)\b", details("medi_cal_access"))
    assert "1-800-433-2611" in access["apply"]


@pytest.mark.parametrize(("income", "expected"), [(monthly(2, 185), True),
                                                  (monthly(2, 185) + 1, False)])
def test_wic_income_test_counts_the_unborn_baby(shown, income: int, expected: bool) -> None:
    no_other_aid = dict.fromkeys(
        ("may_get_medi_cal", "medi_cal_by_income", "may_get_calfresh", "may_get_calworks",
         "child_may_get_medi_cal"),
        False)
    found = shown(pregnant=True, monthly_income=income, **no_other_aid)
    assert ("wic" in found) is expected


def test_covered_california_stays_for_the_partner_of_a_pregnant_person_on_medi_cal(
    shown,
) -> None:
    found = shown(household_size=2, pregnant=True, monthly_income=3500)
    assert "medi_cal" in found
    assert "covered_california" in found
    assert "Medi-Cal" in details("covered_california")


def test_a_pregnant_person_living_alone_on_medi_cal_is_not_sent_to_covered_california(
    shown,
) -> None:
    assert "covered_california" not in shown(pregnant=True, monthly_income=2900)


def test_a_pregnant_resident_living_alone_in_the_mcap_range_gets_mcap_not_covered_california(
    shown,
) -> None:
    # CHIP-funded MCAP is minimum essential coverage: no premium help for the pregnant person.
    alone = shown(pregnant=True, monthly_income=4200)
    assert "medi_cal_access" in alone
    assert "covered_california" not in alone
    with_partner = shown(household_size=2, pregnant=True, monthly_income=5000)
    assert {"medi_cal_access", "covered_california"} <= set(with_partner)


# Children's Medi-Cal -------------------------------------------------------------------------

PARENT = {"household_size": 2, "youngest_child_age": 2}


def test_the_audit_parent_sees_medi_cal_for_the_child(shown) -> None:
    found = shown(**PARENT, monthly_income=3000)
    assert "medi_cal" not in found  # the parent is over 138%
    assert found["medi_cal_child"]["name"] == "Medi-Cal"
    assert "child" in found["medi_cal_child"]["summary"]


@pytest.mark.parametrize(("income", "expected"), [(monthly(2, 266), True),
                                                  (monthly(2, 266) + 1, False)])
def test_childrens_medi_cal_up_to_266_percent(shown, income: int, expected: bool) -> None:
    assert ("medi_cal_child" in shown(**PARENT, monthly_income=income)) is expected


def test_a_parent_on_medi_cal_gets_one_medi_cal_entry_not_two(shown) -> None:
    found = shown(**PARENT, monthly_income=1500)
    assert "medi_cal" in found
    assert "medi_cal_child" not in found


# Foster care on the 18th birthday -------------------------------------------------------------

FOSTER = {"foster_youth": True, "monthly_income": 3000}  # over 138%: only the foster rule helps


def test_foster_care_on_the_18th_birthday_gives_medi_cal_to_26_and_extended_care(shown) -> None:
    found = shown(**FOSTER, foster_care_at_18=True)
    assert {"medi_cal", "extended_foster_care"} <= set(found)
    assert "medi_cal_foster_youth" not in found
    assert "covered_california" not in found


def test_foster_care_at_13_but_not_at_18_gives_neither(shown) -> None:
    found = shown(**FOSTER, foster_care_at_18=False)
    assert not {"medi_cal", "medi_cal_foster_youth", "extended_foster_care"} & set(found)


def test_foster_care_at_18_unknown_says_if_you_were_never_a_promise(shown) -> None:
    found = shown(**FOSTER)
    assert "medi_cal" not in found
    for program_id in ("medi_cal_foster_youth", "extended_foster_care"):
        assert "18th birthday" in found[program_id]["caution"], program_id


def test_a_parents_foster_youth_medi_cal_does_not_make_the_child_eligible_for_wic(shown) -> None:
    # 7 CFR 246.7(d)(2)(vi): Medi-Cal counts for WIC only for the person on it (or a pregnant
    # member or baby); $6,000 a month for 3 is over WIC's 185% and children's Medi-Cal's 266%.
    parent = {"foster_youth": True, "foster_care_at_18": True, "household_size": 3,
              "youngest_child_age": 2, "monthly_income": 6500}
    found = shown(**parent)
    assert "medi_cal" in found
    assert "wic" not in found
    assert "wic" in shown(**{**parent, "pregnant": True})  # her own Medi-Cal counts


# General Assistance ---------------------------------------------------------------------------

NOT_WORKING = {"works_20h": False}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"monthly_income": 0}, True),
        ({"monthly_income": 300}, True),  # a small income no longer hides it
        ({"monthly_income": 376}, True),  # $343 after about 9% payroll withholding
        ({"monthly_income": 377}, False),
        ({"household_size": 2, "monthly_income": 505}, True),  # a couple: $460
        ({"household_size": 2, "monthly_income": 506}, False),
        ({"household_size": 2, "monthly_income": 6000, "lost_job": True}, False),
        ({"household_size": 2, "youngest_child_age": 3, "monthly_income": 0}, False),
        ({"pregnant": True, "monthly_income": 0}, False),  # CalWORKs comes first
    ],
)
def test_general_assistance_follows_the_county_need_standard(
    shown, changes: dict[str, Any], expected: bool
) -> None:
    assert ("general_assistance" in shown(**{**NOT_WORKING, **changes})) is expected


def test_general_assistance_cautions_about_the_county_residency_rule(shown) -> None:
    caution = shown(**NOT_WORKING, monthly_income=0)["general_assistance"]["caution"]
    assert "Santa Clara County" in caution
    assert "15 days" in caution


# Dated figures: Covered California by coverage year, EITC by tax year, LifeLine sizes ---------


def test_covered_california_uses_the_2026_guideline_from_open_enrollment_on_1_november(
    shown,
) -> None:
    income = 5300  # over 400% of the 2025 guideline ($5,216), under 400% of 2026 ($5,320)
    assert "covered_california" not in shown("2026-10-31", monthly_income=income)
    assert "covered_california" in shown("2026-11-01", monthly_income=income)


def test_federal_eitc_uses_the_tax_year_2026_limit(shown) -> None:
    income = 1600  # $19,200: over the 2025 limit ($19,104), under 2026 ($19,540)
    assert "federal_eitc" not in shown("2025-12-31", age=30, monthly_income=income)
    assert "federal_eitc" in shown(age=30, monthly_income=income)


def test_federal_eitc_amounts_quoted_are_tax_year_2026(shown) -> None:
    assert "federal_eitc" in shown(age=30)
    assert "$664" in details("federal_eitc") and "$8,231" in details("federal_eitc")


@pytest.mark.parametrize(("age", "expected"), [(23, False), (24, True), (64, True), (65, False)])
def test_eitc_age_counts_on_31_december_so_24_may_already_qualify(
    shown, age: int, expected: bool
) -> None:
    found = shown(age=age)
    assert ("federal_eitc" in found) is expected
    if expected:
        assert "31 December" in found["federal_eitc"]["caution"]


def test_eitc_without_children_goes_by_the_residents_age_not_a_partners(shown) -> None:
    # Either spouse 25-64 is enough (26 U.S.C. 32(c)(1)(A)(ii)); we ask no partner's age.
    assert "federal_eitc" not in shown(age=22, household_size=2, monthly_income=1500)
    assert "federal_eitc" in shown(age=26, household_size=2, monthly_income=1500)


@pytest.mark.parametrize("program", ["caleitc", "federal_eitc", "foster_youth_tax_credit"])
def test_tax_credits_shown_after_a_lost_job_say_pay_from_work_is_needed(shown, program) -> None:
    # We ask monthly income, not its kind: unemployment pay alone earns no credit.
    found = shown(age=24, works_20h=False, lost_job=True, foster_youth=True,
                  foster_care_at_18=True)
    assert "pay from work this year" in found[program]["caution"]


@pytest.mark.parametrize("size", [4, 6])
def test_lifeline_has_an_income_limit_for_households_of_3_or_more(shown, size: int) -> None:
    # No one at home on other aid (set directly): LifeLine only through its own income limit.
    profile = {**BASE, "age": 30, "household_size": size, "household_may_get_aid": False}
    limit = load_rules().facts(profile, on=date.fromisoformat(DAY))["lifeline_income_limit"]
    assert limit is not None
    under = math.floor(limit / 12)
    changes = {key: profile[key] for key in ("age", "household_size", "household_may_get_aid")}
    assert "lifeline" in shown(**changes, monthly_income=under)
    assert "lifeline" not in shown(**changes, monthly_income=under + 1)


# Place: PG&E territory and California -----------------------------------------------------


def test_care_reaches_all_of_pge_territory_such_as_oakland(shown) -> None:
    found = shown(zip="94601")
    assert "care" in found
    assert "PG&E" in found["care"]["caution"]


def test_a_zip_outside_california_gets_no_california_program(shown) -> None:
    everything = {"zip": "97201", "monthly_income": 0, "works_20h": False, "lost_job": True,
                  "student": True, "pregnant": True, "household_size": 3,
                  "youngest_child_age": 1, "foster_youth": True, "housing_risk": True}
    assert not CALIFORNIA_PROGRAMS & set(shown(**everything))
    assert {"calfresh", "medi_cal", "calworks"} <= set(shown(**{**everything, "zip": "95112"}))


def test_federal_programs_still_show_outside_california(shown) -> None:
    found = shown(zip="97201", student=True, age=30, works_20h=True)
    assert {"pell_grant", "federal_eitc"} <= set(found)


def test_an_unknown_zip_keeps_state_programs(shown) -> None:
    assert {"calfresh", "medi_cal", "caleitc"} <= set(shown(zip=None))


# Judgment calls kept on purpose (flows/programs.md) ---------------------------------------------


def test_work2future_cautions_that_some_training_needs_work_authorization(shown) -> None:
    caution = shown()["work2future"]["caution"]
    assert "work in the US" in caution


def test_unemployment_insurance_is_for_a_lost_job_not_for_every_part_time_worker(shown) -> None:
    assert "unemployment_insurance" in shown(works_20h=False, lost_job=True)
    assert "unemployment_insurance" not in shown(works_20h=False, lost_job=False)


# The real command, once -----------------------------------------------------------------------


def test_screener_check_as_a_command_keeps_portland_out_of_california_programs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", "--date", DAY, "-"],
        input=json.dumps({**BASE, "zip": "97201"}), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = {program["id"] for program in json.loads(result.stdout)["programs"]}
    assert not CALIFORNIA_PROGRAMS & found
