"""The rules audit's findings (issue 10), told as a resident would live them: a whole
conversation by text, in English and in one other language, ending on the programs shown.
`tests/test_rule_findings.py` checks the same findings through `screener check`."""

from __future__ import annotations

from typing import Any

import pytest
from resident import converse

# The audit's base resident, answering by question id (YES/NO are said in each language).
BASE: dict[str, Any] = {
    "age": 20, "zip": "95112", "household_size": 1, "has_children": "NO", "pregnant": "NO",
    "monthly_income": 1200, "work": 1, "student": "NO", "foster_youth": "NO",
    "has_health_insurance": "NO", "housing_risk": "NO",
}

FINDINGS = [
    # (finding, answers changed, programs that must be shown, programs that must not)
    ("calfresh_2026_table", {"monthly_income": 2650}, {"calfresh"}, set()),
    ("pregnancy_counts_as_two", {"pregnant": "YES", "monthly_income": 2900},
     {"medi_cal", "wic"}, set()),
    ("medi_cal_access_program", {"pregnant": "YES", "monthly_income": 4200},
     {"medi_cal_access"}, set()),
    ("childrens_medi_cal", {"household_size": 2, "has_children": "YES",
                            "youngest_child_age": 2, "monthly_income": 3000},
     {"medi_cal_child"}, set()),
    ("foster_care_on_18th_birthday", {"foster_youth": "YES", "foster_care_at_18": "YES"},
     {"extended_foster_care"}, set()),
    ("foster_care_at_13_is_not_enough", {"foster_youth": "YES", "foster_care_at_18": "NO"},
     set(), {"extended_foster_care", "medi_cal_foster_youth"}),
    ("student_exemption", {"student": "YES", "work": 2, "student_exempt": "YES"},
     {"calfresh"}, {"calfresh_student"}),
    ("student_without_known_exemption", {"student": "YES", "work": 2, "student_exempt": "NO"},
     {"calfresh_student"}, {"calfresh"}),
    ("care_is_pge_wide", {"zip": "94601"}, {"care"}, set()),
    ("general_assistance_keeps_no_high_earner", {"household_size": 2, "monthly_income": 6000},
     set(), {"general_assistance"}),
    ("general_assistance_allows_a_small_income", {"monthly_income": 300, "work": 2},
     {"general_assistance"}, set()),
    ("eitc_age_counts_on_31_december", {"age": 24}, {"federal_eitc"}, set()),
    ("calworks_for_pregnancy", {"pregnant": "YES", "monthly_income": 500, "work": 2},
     {"calworks", "wic", "medi_cal"}, set()),
]


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("finding", "changes", "shown", "hidden"), FINDINGS,
                         ids=[f[0] for f in FINDINGS])
def test_each_finding_holds_through_a_whole_conversation(content, lang, finding, changes, shown,
                                                         hidden):
    resident = {"id": finding, "persona": finding, "answers": {**BASE, **changes}}
    _, session = converse(content, lang, resident)
    assert session["stage"] == "results"
    programs = set(session["programs"])
    assert shown <= programs, programs
    assert not hidden & programs, programs


def test_a_zip_outside_california_gets_no_california_program_by_text(content):
    resident = {"id": "portland", "persona": "portland", "answers": {**BASE, "zip": "97201"}}
    transcript, session = converse(content, "en", resident)
    assert session["programs"] == []
    assert "2-1-1" in transcript and "988" in transcript
