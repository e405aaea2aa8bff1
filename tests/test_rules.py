"""Specification of the benefit rules in flows/programs.yaml and of bot.rules, which runs them.

Threshold tests sit just under and just over each limit in flows/programs.yaml, so a typo in a
yearly update fails here before a resident gets a wrong answer.
"""

from __future__ import annotations

import math
import re
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.rules import (
    DEFAULT_PROGRAMS_PATH,
    DESIGN_PROGRAM_IDS,
    Rules,
    lint_rules,
    load_rules,
)
from bot.yamlsource import YamlFileError

ANSWER_IDS = {
    "age", "zip", "household_size", "monthly_income", "student", "works_20h", "pregnant",
    "youngest_child_age", "foster_youth", "housing_risk", "lost_job", "has_health_insurance",
    "student_exempt", "foster_care_at_18",  # asked only of students, of former foster youth
}

# A San José adult, working, no children: each test changes only what it is about.
RESIDENT: dict[str, Any] = {
    "zip": "95112", "age": 30, "household_size": 1, "monthly_income": 1000, "student": False,
    "works_20h": True, "pregnant": False, "youngest_child_age": None, "foster_youth": False,
    "housing_risk": False, "lost_job": False, "has_health_insurance": False,
}

# CARE and FERA are PG&E-wide, not county-only (issue 10): they are shown across California.
COUNTY_ONLY = {
    "clipper_start", "work2future", "sjpl", "homelessness_prevention", "general_assistance",
}

# Entries added to the contract's ids, each documented in flows/programs.md (issue 10): a student
# with no known CalFresh exemption, a child's, a former foster youth's and MCAP's Medi-Cal.
EXTRA_PROGRAM_IDS = {"calfresh_student", "medi_cal_child", "medi_cal_foster_youth",
                     "medi_cal_access"}

# The rules use the tables in force on a day: these tests fix one (tax year 2026, CalFresh
# FFY2027, open enrollment for 2027 coverage), so they do not change with the calendar.
DAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(DEFAULT_PROGRAMS_PATH)


def shown(rules: Rules, **changes: Any) -> set[str]:
    """The ids of the programs shown to RESIDENT with these answers changed."""
    return {program.id for program in rules.match({**RESIDENT, **changes}, on=DAY)}


# The shipped file --------------------------------------------------------------------------


def test_every_design_program_id_is_defined_exactly_once_and_extras_are_documented(
    rules: Rules,
) -> None:
    ids = [program.id for program in rules.programs]
    assert sorted(ids) == sorted(DESIGN_PROGRAM_IDS)
    assert EXTRA_PROGRAM_IDS <= DESIGN_PROGRAM_IDS
    guide = (Path(DEFAULT_PROGRAMS_PATH).parent / "programs.md").read_text(encoding="utf-8")
    assert [extra for extra in sorted(EXTRA_PROGRAM_IDS) if f"`{extra}`" not in guide] == []


def test_lint_passes_on_the_shipped_file_with_no_unknown_program_id() -> None:
    problems = lint_rules(DEFAULT_PROGRAMS_PATH, ANSWER_IDS, today=DAY)
    assert [p for p in problems if p.severity == "error"] == []
    assert [p for p in problems if "program id" in p.message] == []


def test_every_program_cites_sources_with_effective_dates(rules: Rules) -> None:
    for program in rules.programs:
        assert program.sources, program.id
        for source in program.sources:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source.effective), program.id


def test_resident_texts_never_promise_eligibility(rules: Rules) -> None:
    promise = re.compile(r"\byou (qualify|are eligible|will get)\b", re.IGNORECASE)
    assert [text for text, _ in rules.texts() if promise.search(text)] == []


def test_texts_gives_every_resident_text_with_its_line(rules: Rules) -> None:
    lines = Path(DEFAULT_PROGRAMS_PATH).read_text(encoding="utf-8").splitlines()
    texts = list(rules.texts())
    assert ("CalFresh", _line_containing(lines, 'name: "CalFresh"')) in texts
    for text, line in texts:
        assert text in lines[line - 1]
    cautions = sum(1 for program in rules.programs if program.caution)
    assert len(texts) == 4 * len(rules.programs) + cautions


@pytest.mark.parametrize(
    ("size", "fpl_2025", "fpl_2026"),
    [(1, 15650, 15960), (2, 21150, 21640), (3, 26650, 27320), (4, 32150, 33000),
     (5, 37650, 38680), (8, 54150, 55720)],
)
def test_poverty_guidelines_match_the_hhs_tables(
    rules: Rules, size: int, fpl_2025: int, fpl_2026: int
) -> None:
    by_year = {guideline.year: guideline for guideline in rules.guidelines}
    assert by_year[2025].amount(size) == fpl_2025
    assert by_year[2026].amount(size) == fpl_2026


def test_calfresh_limits_are_200_percent_of_their_year_s_guideline_rounded_up_the_usda_way(
    rules: Rules,
) -> None:
    table = _limit(rules, "calfresh_gross_limit")
    for year, day in ((2025, date(2026, 9, 30)), (2026, DAY)):
        guideline = _guideline(rules, year)
        for size in range(1, 9):
            assert table.value(size, day) == 2 * math.ceil(guideline.amount(size) / 12), size
    assert [table.value(size, date(2026, 9, 30)) for size in (1, 2, 3, 4)] == [
        2610, 3526, 4442, 5360]
    assert [table.value(size, DAY) for size in (1, 4)] == [2660, 5500]


def test_care_and_fera_limits_are_200_and_250_percent_of_2026_with_one_person_as_two(
    rules: Rules,
) -> None:
    guideline = _guideline(rules, 2026)
    for size in range(1, 7):
        counted = max(size, 2)
        assert _limit(rules, "care_income_limit").value(size) == 2 * guideline.amount(counted)
        assert _limit(rules, "fera_income_limit").value(size) == 2.5 * guideline.amount(counted)


def test_the_facts_give_every_limit_the_value_of_its_row_that_day_for_that_household(
    rules: Rules,
) -> None:
    """Limit values are worked out once a day per kind of household; asked in any order, for
    sizes, pregnancy and days that change the rows, they are what each limit says."""
    cases = [(day, size, pregnant) for day in (date(2026, 9, 30), DAY, date(2026, 9, 30))
             for size in (3, 1, None, 12, 3) for pregnant in (True, False, None)]
    for day, size, pregnant in cases:
        facts = rules.facts({"household_size": size, "pregnant": pregnant}, on=day)
        for limit in rules.limits:
            counted = size + 1 if size and pregnant and limit.counts_unborn_child else size
            assert facts[limit.name] == limit.value(counted, day), (limit.name, day, size)


def test_limit_tables_grow_by_each_extra_person_and_lifeline_covers_every_size(
    rules: Rules,
) -> None:
    assert _limit(rules, "calworks_mbsac").value(12, DAY) == 4202 + 2 * 37
    lifeline = _limit(rules, "lifeline_income_limit")
    sizes = [lifeline.value(size, DAY) for size in range(1, 8)]
    assert None not in sizes  # the audit: no limit for 3 or more people
    assert sizes == sorted(sizes)
    assert _limit(rules, "calworks_earned_income_disregard").value(None) == 450


# Facts: what conditions can read ------------------------------------------------------------


def test_fpl_percent_is_yearly_income_over_the_guideline_for_the_household(rules: Rules) -> None:
    facts = rules.facts({"household_size": 2, "monthly_income": 2000})
    assert facts["annual_income"] == 24000
    assert facts["fpl_pct_2025"] == pytest.approx(24000 * 100 / 21150)
    assert facts["fpl_pct_2026"] == pytest.approx(24000 * 100 / 21640)


@pytest.mark.parametrize(
    "answers",
    [
        {"household_size": 2},
        {"monthly_income": 2000},
        {"household_size": 0, "monthly_income": 9},
        {"household_size": "2", "monthly_income": 2000},
        {"household_size": True, "monthly_income": 1},
    ],
)
def test_fpl_percent_is_unknown_without_a_usable_income_and_household_size(
    rules: Rules, answers: dict[str, Any]
) -> None:
    assert rules.facts(answers)["fpl_pct_2026"] is None


@pytest.mark.parametrize(
    ("zip_code", "in_county"), [("95112", True), ("95014", True), ("90012", False), (None, None)]
)
def test_county_comes_from_the_zip(rules: Rules, zip_code: str | None, in_county: bool) -> None:
    assert rules.facts({"zip": zip_code})["in_santa_clara_county"] is in_county


def test_values_given_in_the_input_are_never_overwritten(rules: Rules) -> None:
    facts = rules.facts({**RESIDENT, "zip": "90012", "in_santa_clara_county": True,
                         "may_get_calfresh": False})
    assert facts["in_santa_clara_county"] is True
    assert facts["may_get_calfresh"] is False
    assert "calfresh" not in shown(rules, may_get_calfresh=False)


def test_arithmetic_on_an_unanswered_value_never_makes_a_condition_true(rules: Rules) -> None:
    facts = rules.facts({**RESIDENT, "pregnant": True, "monthly_income": None})
    assert facts["may_get_calworks"] is False


# Income and age limits, just under and just over ------------------------------------------


@pytest.mark.parametrize(
    ("size", "monthly", "expected"),
    [(1, 2660, True), (1, 2661, False), (4, 5500, True), (4, 5501, False)],  # FFY2027
)
def test_calfresh_gross_income_limit(rules: Rules, size: int, monthly: int, expected: bool) -> None:
    assert ("calfresh" in shown(rules, household_size=size, monthly_income=monthly)) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, False),
        ({"works_20h": True}, True),
        ({"youngest_child_age": 4}, True),
        ({"youngest_child_age": 11}, True),
        ({"youngest_child_age": 12}, False),
        ({"foster_youth": True}, False),  # a foster youth program is part of EOPS: asked
        ({"student_exempt": True}, True),
        ({"age": 17}, True),
        ({"age": 50}, True),
    ],
)
def test_calfresh_students_need_an_exemption(
    rules: Rules, changes: dict[str, Any], expected: bool
) -> None:
    """Without one the student is left out (`calfresh_student` says so); the home of 2 still
    sees CalFresh for the others (7 CFR 273.5(a), 273.11(d))."""
    student = {"student": True, "works_20h": False, "age": 20, "household_size": 2}
    found = shown(rules, **{**student, **changes})
    assert "calfresh" in found
    assert ("calfresh_student" not in found) is expected


@pytest.mark.parametrize(("monthly", "expected"), [(1835, True), (1836, False)])
def test_medi_cal_adults_up_to_138_percent_of_the_2026_guideline(
    rules: Rules, monthly: int, expected: bool
) -> None:
    assert ("medi_cal" in shown(rules, monthly_income=monthly)) is expected


# The unborn baby counts (issue 10): 213% of the 2026 guideline for 2 is $3,841.10 a month.
@pytest.mark.parametrize(("monthly", "expected"), [(3841, True), (3842, False)])
def test_medi_cal_in_pregnancy_up_to_213_percent_counting_the_baby(
    rules: Rules, monthly: int, expected: bool
) -> None:
    assert ("medi_cal" in shown(rules, pregnant=True, monthly_income=monthly)) is expected


@pytest.mark.parametrize(
    ("age", "monthly", "expected"), [(18, 3537, True), (18, 3538, False), (19, 3000, False)]
)
def test_medi_cal_under_19_up_to_266_percent(
    rules: Rules, age: int, monthly: int, expected: bool
) -> None:
    assert ("medi_cal" in shown(rules, age=age, monthly_income=monthly)) is expected


@pytest.mark.parametrize(("age", "expected"), [(18, True), (25, True), (26, False)])
def test_medi_cal_for_former_foster_youth_at_any_income_until_26(
    rules: Rules, age: int, expected: bool
) -> None:
    found = shown(rules, age=age, foster_youth=True, foster_care_at_18=True, monthly_income=6000)
    assert ("medi_cal" in found) is expected
    # Foster care at 13 but not on the 18th birthday is not enough (issue 10).
    assert "medi_cal" not in shown(rules, age=age, foster_youth=True, foster_care_at_18=False,
                                   monthly_income=6000)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"monthly_income": 1835}, False),  # Medi-Cal instead
        ({"monthly_income": 1836}, True),
        ({"monthly_income": 5320}, True),  # 2027 coverage: 400% of the 2026 guideline, $5,320
        ({"monthly_income": 5321}, False),
        ({"monthly_income": 3000, "has_health_insurance": True}, False),
    ],
)
def test_covered_california_between_medi_cal_and_400_percent_of_the_coverage_year_guideline(
    rules: Rules, changes: dict[str, Any], expected: bool
) -> None:
    assert ("covered_california" in shown(rules, **changes)) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"household_size": 3, "youngest_child_age": 4, "monthly_income": 2410}, True),
        ({"household_size": 3, "youngest_child_age": 4, "monthly_income": 2411}, False),
        ({"pregnant": True, "monthly_income": 1413}, True),
        ({"pregnant": True, "monthly_income": 1414}, False),
        ({"household_size": 2, "youngest_child_age": 19, "monthly_income": 0}, False),
        ({"monthly_income": 0}, False),
    ],
)
def test_calworks_income_after_the_450_disregard_at_or_under_the_mbsac(
    rules: Rules, changes: dict[str, Any], expected: bool
) -> None:
    assert ("calworks" in shown(rules, **changes)) is expected


@pytest.mark.parametrize(("monthly", "expected"), [(3336, True), (3337, False)])
def test_wic_income_test_alone_is_185_percent_of_2026(
    rules: Rules, monthly: int, expected: bool
) -> None:
    no_other_aid = dict.fromkeys(
        ("may_get_calfresh", "may_get_medi_cal", "child_may_get_medi_cal", "may_get_calworks"),
        False,
    )
    found = shown(rules, household_size=2, youngest_child_age=1, monthly_income=monthly,
                  **no_other_aid)
    assert ("wic" in found) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"pregnant": True, "monthly_income": 2660}, True),  # 200%: automatic through Medi-Cal
        ({"household_size": 2, "youngest_child_age": 4, "monthly_income": 4000}, True),
        ({"household_size": 2, "youngest_child_age": 5, "monthly_income": 1000}, False),
        ({"monthly_income": 500}, False),
    ],
)
def test_wic_for_pregnancy_and_children_under_5_including_through_medi_cal(
    rules: Rules, changes: dict[str, Any], expected: bool
) -> None:
    assert ("wic" in shown(rules, **changes)) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"monthly_income": 2741}, True),
        ({"monthly_income": 2742}, False),
        ({"monthly_income": 0}, False),
        ({"age": 17}, False),
        ({"age": 18}, True),
        ({"age": 70}, True),
    ],
)
def test_caleitc_from_18_with_earnings_under_32901(
    rules: Rules, changes: dict[str, Any], expected: bool
) -> None:
    assert ("caleitc" in shown(rules, **changes)) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"youngest_child_age": 5}, True),
        ({"youngest_child_age": 6}, False),
        ({"youngest_child_age": 2, "monthly_income": 0}, True),
        ({"youngest_child_age": 2, "monthly_income": 2742}, False),
    ],
)
def test_young_child_tax_credit_for_a_child_under_6(
    rules: Rules, changes: dict[str, Any], expected: bool
) -> None:
    assert ("young_child_tax_credit" in shown(rules, household_size=2, **changes)) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"age": 23}, False),
        ({"age": 24}, True),  # may be 25 by 31 December, when age counts
        ({"age": 64}, True),
        ({"age": 65}, False),
        ({"age": 30, "monthly_income": 1628}, True),
        ({"age": 30, "monthly_income": 1629}, False),  # $19,540 a year, single (tax year 2026)
        ({"age": 22, "household_size": 2, "youngest_child_age": 3, "monthly_income": 4299}, True),
        ({"age": 22, "household_size": 2, "youngest_child_age": 3, "monthly_income": 4300}, False),
    ],
)
def test_federal_eitc_without_children_needs_age_25_to_64_on_31_december(
    rules: Rules, changes: dict[str, Any], expected: bool
) -> None:
    assert ("federal_eitc" in shown(rules, **changes)) is expected


@pytest.mark.parametrize(("age", "expected"), [(17, False), (18, True), (25, True), (26, False)])
def test_foster_youth_tax_credit_ages_18_to_25(rules: Rules, age: int, expected: bool) -> None:
    assert ("foster_youth_tax_credit" in shown(rules, age=age, foster_youth=True)) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [({"age": 25}, True), ({"age": 26}, False), ({"age": 20, "student": False}, False)],
)
def test_chafee_grant_for_foster_youth_students_under_26(
    rules: Rules, changes: dict[str, Any], expected: bool
) -> None:
    found = shown(rules, **{"foster_youth": True, "student": True, **changes})
    assert ("chafee_grant" in found) is expected


@pytest.mark.parametrize(
    ("age", "expected"), [(17, False), (18, True), (20, True), (21, False)]
)
def test_extended_foster_care_from_18_until_21(rules: Rules, age: int, expected: bool) -> None:
    assert ("extended_foster_care" in shown(rules, age=age, foster_youth=True)) is expected
    assert "extended_foster_care" not in shown(rules, age=age, foster_youth=False)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"age": 18}, False),
        ({"age": 19}, True),
        ({"age": 64}, True),
        ({"age": 65}, False),
        ({"monthly_income": 2660}, True),  # 200% of the 2026 guideline
        ({"monthly_income": 2661}, False),
    ],
)
def test_clipper_start_ages_19_to_64_up_to_200_percent(
    rules: Rules, changes: dict[str, Any], expected: bool
) -> None:
    assert ("clipper_start" in shown(rules, **changes)) is expected


@pytest.mark.parametrize(
    ("size", "monthly", "care", "fera"),
    [
        (2, 3606, True, False),  # $43,272: CARE
        (2, 3607, False, True),  # $43,284: just over 200%, FERA
        (2, 4508, False, True),  # $54,096: FERA up to 250%
        (2, 4509, False, False),  # $54,108: neither
        (1, 3606, True, False),  # one person counts as two
    ],
)
def test_care_up_to_200_percent_and_fera_from_200_to_250_percent_of_2026(
    rules: Rules, size: int, monthly: int, care: bool, fera: bool
) -> None:
    found = shown(rules, household_size=size, monthly_income=monthly,
                  household_may_get_aid=False)
    assert ("care" in found, "fera" in found) == (care, fera)


def test_care_through_enrollment_in_other_aid_replaces_fera(rules: Rules) -> None:
    found = shown(rules, household_size=2, monthly_income=3607, pregnant=True)  # Medi-Cal
    assert "care" in found
    assert "fera" not in found


@pytest.mark.parametrize(("monthly", "expected"), [(2708, True), (2709, False)])
def test_lifeline_income_based_up_to_32500_for_two(
    rules: Rules, monthly: int, expected: bool
) -> None:
    # No one at home on other aid, so only the income limit decides.
    couple = {"household_size": 2, "student": True, "works_20h": False,
              "household_may_get_aid": False}
    assert ("lifeline" in shown(rules, monthly_income=monthly, **couple)) is expected


@pytest.mark.parametrize(("monthly", "expected"), [(2660, True), (2661, False)])
def test_family_pact_up_to_200_percent(rules: Rules, monthly: int, expected: bool) -> None:
    assert ("family_pact" in shown(rules, monthly_income=monthly)) is expected


def test_needs_based_programs_follow_the_answers_that_name_the_need(rules: Rules) -> None:
    assert "homelessness_prevention" in shown(rules, housing_risk=True)
    assert "homelessness_prevention" not in shown(rules)
    assert "unemployment_insurance" in shown(rules, lost_job=True, works_20h=False)
    assert "unemployment_insurance" not in shown(rules)
    assert "general_assistance" in shown(rules, monthly_income=0, works_20h=None)
    assert "general_assistance" not in shown(
        rules, monthly_income=0, household_size=2, youngest_child_age=3
    )


def test_college_aid_is_for_students(rules: Rules) -> None:
    college = {"pell_grant", "cal_grant", "college_promise_grant"}
    assert college <= shown(rules, student=True)
    assert not college & shown(rules, student=False)


# Personas ---------------------------------------------------------------------------------


def test_persona_20_year_old_living_alone_earning_1200(rules: Rules) -> None:
    found = shown(rules, age=20, monthly_income=1200)
    assert {"calfresh", "medi_cal", "caleitc", "clipper_start", "lifeline", "care",
            "family_pact", "work2future", "sjpl"} <= found
    assert not {"federal_eitc", "covered_california", "calworks", "fera"} & found


def test_persona_22_year_old_parent_of_a_2_year_old_earning_2000(rules: Rules) -> None:
    found = shown(rules, age=22, household_size=2, youngest_child_age=2, monthly_income=2000)
    assert {"calfresh", "medi_cal", "calworks", "wic", "caleitc", "young_child_tax_credit",
            "federal_eitc", "clipper_start", "lifeline", "care"} <= found
    assert "general_assistance" not in found


def test_persona_19_year_old_full_time_student_without_a_job(rules: Rules) -> None:
    found = shown(rules, age=19, student=True, monthly_income=0, works_20h=None)
    assert "calfresh" not in found  # student rule: no exemption
    assert {"medi_cal", "pell_grant", "cal_grant", "college_promise_grant", "lifeline"} <= found
    assert "caleitc" not in found


def test_persona_former_foster_youth_aged_21_in_college(rules: Rules) -> None:
    found = shown(rules, age=21, foster_youth=True, student=True, works_20h=False,
                  monthly_income=800)
    assert {"medi_cal", "calfresh_student", "chafee_grant", "foster_youth_tax_credit",
            "caleitc", "pell_grant"} <= found  # CalFresh only with an exemption (asked)
    assert "extended_foster_care" not in found


def test_persona_24_year_old_couple_earning_4500(rules: Rules) -> None:
    found = shown(rules, age=24, household_size=2, monthly_income=4500)
    assert {"covered_california", "fera"} <= found
    assert not {"calfresh", "medi_cal", "care", "caleitc", "federal_eitc"} & found


def test_persona_pregnant_23_year_old(rules: Rules) -> None:
    found = shown(rules, age=23, pregnant=True, monthly_income=2000)
    assert {"medi_cal", "wic", "calfresh", "caleitc", "care", "family_pact"} <= found
    assert "covered_california" not in found


# Robustness, ordering and place -----------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [
        {},
        dict.fromkeys(ANSWER_IDS),
        {"age": "twenty", "household_size": "2", "monthly_income": "lots", "zip": 95112,
         "youngest_child_age": "two", "student": "yes"},
        {"age": -1, "household_size": 0.5, "monthly_income": -100},
    ],
)
def test_unknown_or_odd_answers_never_crash(rules: Rules, answers: dict[str, Any]) -> None:
    found = {program.id for program in rules.match(answers)}
    assert found <= {"sjpl", "work2future", "family_pact"}


@pytest.mark.parametrize("answer_id", sorted(ANSWER_IDS))
def test_any_single_unknown_answer_never_crashes(rules: Rules, answer_id: str) -> None:
    rules.match({**RESIDENT, "youngest_child_age": 3, answer_id: None})


def test_results_are_most_valuable_first(rules: Rules) -> None:
    found = rules.match({**RESIDENT, "age": 22, "household_size": 2, "youngest_child_age": 2,
                         "monthly_income": 2000})
    values = [program.rank_value for program in found]
    assert values == sorted(values, reverse=True)
    assert found[0].id == "calworks"


def test_equal_values_keep_file_order(tmp_path: Path) -> None:
    second = FIXTURE.split("programs:\n")[1].replace("id: calfresh", "id: medi_cal")
    rules = load_rules(_write(tmp_path, FIXTURE + second))
    assert [program.id for program in rules.match({})] == ["calfresh", "medi_cal"]


def test_a_zip_outside_the_county_hides_county_only_programs(rules: Rules) -> None:
    everything = {"housing_risk": True, "monthly_income": 0, "lost_job": True, "works_20h": False}
    outside = shown(rules, zip="90012", **everything)
    assert not COUNTY_ONLY & outside
    assert {"calfresh", "medi_cal", "care"} <= outside
    assert COUNTY_ONLY - {"fera"} <= shown(rules, zip=None, **everything)
    assert COUNTY_ONLY - {"fera"} <= shown(rules, zip="95112", **everything)


def test_program_looks_up_by_id(rules: Rules) -> None:
    assert rules.program("calfresh").name == "CalFresh"
    with pytest.raises(KeyError):
        rules.program("free_pizza")


# Loading and lint, on small broken files -------------------------------------------------

FIXTURE = textwrap.dedent("""\
    version: "2026-11-27"
    poverty_guidelines:
      - year: 2026
        base: 15960
        per_person: 5680
        source: "HHS"
        effective: "2026-01-13"
    limits:
      rent_limit:
        description: "test table"
        by_household_size:
          1: 100
          2: 200
        source: "test"
        effective: "2026-01-01"
    derived:
      has_children: "known(youngest_child_age)"
    programs:
      - id: calfresh
        name: "CalFresh"
        summary: "Money for food"
        details: "An EBT card."
        apply: "Apply at BenefitsCal.com."
        rank_value: 10
        when: "true"
        sources:
          - limit: "200%"
            source: "test"
            effective: "2025-10-01"
    """)

SOURCES = """\
    sources:
      - limit: "200%"
        source: "test"
        effective: "2025-10-01"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "programs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _lint(tmp_path: Path, old: str, new: str) -> list[tuple[int, str, str]]:
    assert old in FIXTURE
    problems = lint_rules(_write(tmp_path, FIXTURE.replace(old, new)), ANSWER_IDS)
    return [(problem.line, problem.severity, problem.message) for problem in problems]


def test_the_lint_fixture_itself_is_clean(tmp_path: Path) -> None:
    assert lint_rules(_write(tmp_path, FIXTURE), ANSWER_IDS) == []


def test_lint_reports_yaml_syntax_errors_with_their_line(tmp_path: Path) -> None:
    [(line, severity, message)] = _lint(tmp_path, 'summary: "Money for food"',
                                        "summary: Money: for food")
    assert (line, severity) == (21, "error")
    assert "must be put in quotes" in message


def test_lint_reports_schema_violations_with_their_line(tmp_path: Path) -> None:
    [(line, _, message)] = _lint(tmp_path, "rank_value: 10", 'rank_value: "high"')
    assert line == 24
    assert "rank_value" in message


def test_lint_reports_duplicate_program_ids(tmp_path: Path) -> None:
    second = FIXTURE.split("programs:\n")[1]
    problems = lint_rules(_write(tmp_path, FIXTURE + second), ANSWER_IDS)
    assert [(p.line, p.message) for p in problems] == [(30, "program id 'calfresh' appears twice")]


@pytest.mark.parametrize(
    ("old", "field"),
    [
        ('    apply: "Apply at BenefitsCal.com."\n', "apply"),
        (SOURCES, "sources"),
    ],
)
def test_lint_reports_a_program_without_apply_info_or_sources(
    tmp_path: Path, old: str, field: str
) -> None:
    [(line, _, message)] = _lint(tmp_path, old, "")
    assert line == 19
    assert f"'{field}' is missing" in message


def test_lint_reports_an_empty_sources_list(tmp_path: Path) -> None:
    [(line, _, message)] = _lint(tmp_path, SOURCES, "    sources: []\n")
    assert line == 26
    assert "sources" in message


def test_lint_reports_a_source_without_an_effective_date(tmp_path: Path) -> None:
    [(line, _, message)] = _lint(tmp_path, '        effective: "2025-10-01"\n', "")
    assert line == 27
    assert "'effective' is missing" in message


def test_lint_reports_a_condition_that_does_not_parse(tmp_path: Path) -> None:
    [(line, _, message)] = _lint(tmp_path, 'when: "true"', 'when: "age >= 18 and"')
    assert line == 25
    assert "does not parse" in message


def test_lint_suggests_the_name_meant_for_an_unknown_name(tmp_path: Path) -> None:
    [(line, _, message)] = _lint(tmp_path, 'when: "true"', 'when: "monthly_incom < 100"')
    assert line == 25
    assert "did you mean 'monthly_income'?" in message


def test_lint_accepts_only_poverty_percents_of_defined_years(tmp_path: Path) -> None:
    [(line, _, message)] = _lint(tmp_path, 'when: "true"', 'when: "fpl_pct_2024 <= 200"')
    assert line == 25
    assert "did you mean 'fpl_pct_2026'?" in message


def test_lint_knows_limits_derived_values_and_built_in_values(tmp_path: Path) -> None:
    when = ('when: "annual_income <= rent_limit and not has_children '
            'and in_santa_clara_county != false and fpl_pct_2026 < 300"')
    assert _lint(tmp_path, 'when: "true"', when) == []


def test_lint_reports_a_name_the_questions_do_not_ask(tmp_path: Path) -> None:
    [(line, _, message)] = _lint(tmp_path, 'when: "true"', 'when: "is_veteran == true"')
    assert line == 25
    assert "'is_veteran'" in message


def test_lint_reports_a_derived_value_used_before_it_is_defined(tmp_path: Path) -> None:
    derived = '  has_children: "known(youngest_child_age)"\n'
    [(line, _, message)] = _lint(tmp_path, derived,
                                 '  needs_help: "has_kids"\n  has_kids: "true"\n')
    assert line == 17
    assert "further down" in message


def test_lint_reports_a_derived_value_that_hides_a_built_in_one(tmp_path: Path) -> None:
    [(line, _, message)] = _lint(tmp_path, "  has_children:", "  annual_income:")
    assert line == 17
    assert "built-in" in message


def test_lint_reports_a_household_size_table_with_a_gap(tmp_path: Path) -> None:
    [(line, _, message)] = _lint(tmp_path, "      2: 200", "      3: 200")
    assert line == 11
    assert "no gaps" in message


def test_lint_warns_about_a_program_id_outside_the_design_list(tmp_path: Path) -> None:
    assert _lint(tmp_path, "id: calfresh", "id: free_pizza") == [
        (19, "warning",
         "program id 'free_pizza' is not in the contract's list (docs/design.md) "
         "(others rely on those ids)")
    ]


def test_lint_warns_about_characters_that_make_sms_cost_more(tmp_path: Path) -> None:
    [(line, severity, message)] = _lint(tmp_path, "An EBT card.", "An EBT card \u2014 for food.")
    assert (line, severity) == (22, "warning")
    assert "GSM-7" in message


def test_lint_warns_about_a_long_summary(tmp_path: Path) -> None:
    longer = "Money for food all year, every month"  # 36 characters
    [(line, severity, _)] = _lint(tmp_path, "Money for food", longer)
    assert (line, severity) == (21, "warning")


def test_load_rules_raises_with_path_and_line_for_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, FIXTURE.replace('when: "true"', 'when: "age >="'))
    with pytest.raises(YamlFileError) as caught:
        load_rules(path)
    assert str(caught.value).startswith(f"{path}:25: ")


def test_load_rules_reads_the_flows_directory_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, FIXTURE)
    monkeypatch.setenv("SCREENER_FLOWS_DIR", str(tmp_path))
    assert load_rules().path == str(tmp_path / "programs.yaml")


def _guideline(rules: Rules, year: int) -> Any:
    return next(guideline for guideline in rules.guidelines if guideline.year == year)


def _limit(rules: Rules, name: str) -> Any:
    return next(limit for limit in rules.limits if limit.name == name)


def _line_containing(lines: list[str], text: str) -> int:
    return next(number for number, line in enumerate(lines, 1) if text in line)
