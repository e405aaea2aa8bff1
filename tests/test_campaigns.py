"""Campaigns as staff write them (flows/campaigns.yaml): what lint refuses, at which line, and
how keywords are recognised."""

from __future__ import annotations

import datetime

import pytest
from flow_copies import copy_flows, edit

from bot.campaigns import load_campaigns
from bot.lint import lint
from bot.yamlsource import YamlFileError

TODAY = datetime.date(2027, 1, 15)
FAIR = "    keywords: [FERIA]\n"


@pytest.fixture
def flows(tmp_path):
    return copy_flows(tmp_path)


def problems_in_campaigns(flows) -> list[str]:
    return [str(p) for p in lint(flows) if "campaigns.yaml" in p.path]


@pytest.mark.parametrize(("keyword", "what"), [
    ("AYUDA", "the help command word"),      # a Spanish command
    ("DỪNG", "the yes answer word"),         # folds to "dung", as "đúng" (right) does
    ("SI", "the yes answer word"),           # an answer word
    ("nope", "the no answer word"),
])
def test_lint_refuses_a_keyword_that_is_a_command_or_an_answer_at_its_line(flows, keyword,
                                                                          what):
    line = edit(flows / "campaigns.yaml", FAIR, f"    keywords: [{keyword}]\n")
    found = problems_in_campaigns(flows)
    assert any(f"campaigns.yaml:{line}: keyword '{keyword}' is also {what}" in p
               for p in found), found


def test_lint_refuses_one_keyword_for_two_campaigns_at_the_same_time(flows):
    line = edit(flows / "campaigns.yaml", "    keywords: [SJSU, SPARTAN]\n",
                "    keywords: [SJSU, FERIA]\n")
    assert any(f"campaigns.yaml:{line}: keyword 'FERIA' is also a keyword of campaign "
               "'feria_salud_2027'" in p for p in problems_in_campaigns(flows))


def test_a_keyword_can_be_given_to_a_new_event_once_the_old_one_ended(flows):
    edit(flows / "campaigns.yaml", "    keywords: [SJSU, SPARTAN]\n",
         "    keywords: [SJSU, FERIA]\n")
    edit(flows / "campaigns.yaml", '    starts: "2026-12-01"\n    ends: "2027-03-31"\n',
         '    starts: "2027-03-01"\n    ends: "2027-03-31"\n')
    assert not any("also a keyword" in p for p in problems_in_campaigns(flows))


def test_lint_warns_of_a_campaign_that_has_ended(flows):
    sangat = '    starts: "2026-12-01"\n    ends: "2027-04-30"\n\n  - id: mela'
    edit(flows / "campaigns.yaml", sangat,
         sangat.replace("2026-12-01", "2025-12-01").replace("2027-04-30", "2026-01-31"))
    found = problems_in_campaigns(flows)
    assert any("warning: campaign 'gurdwara_sangat_2027' ended on 2026-01-31" in p
               for p in found), found


@pytest.mark.parametrize(("old", "new", "says"), [
    ("    lang: es\n", "    lang: fr\n", "language 'fr' is not one of"),
    ('    starts: "2026-12-01"\n    ends: "2027-02-28"\n',
     '    starts: "2027-03-01"\n    ends: "2027-02-28"\n', "ends (2027-02-28) before it starts"),
    ('    ends: "2027-02-28"\n', '    ends: "2027-02-30"\n', "is not a date on the calendar"),
    (FAIR, "    keyword: [FERIA]\n", "keyword"),
])
def test_lint_says_what_is_wrong_in_a_campaign_in_plain_words(flows, old, new, says):
    line = edit(flows / "campaigns.yaml", old, new)
    found = problems_in_campaigns(flows)
    assert any(says in p and "campaigns.yaml:" in p for p in found), found
    assert all(":0:" not in p for p in found)
    assert line


def test_a_broken_campaigns_file_is_an_error_with_its_line_not_a_crash(flows):
    (flows / "campaigns.yaml").write_text("campaigns:\n  - id: [broken\n", encoding="utf-8")
    with pytest.raises(YamlFileError) as error:
        load_campaigns(flows / "campaigns.yaml")
    assert "campaigns.yaml:" in str(error.value)
    assert problems_in_campaigns(flows)


def test_keywords_are_read_whatever_the_case_accents_and_spacing():
    campaigns = load_campaigns()
    for text in ("FERIA", "feria", " Feria ", "feria hola", "FERIA!"):
        found = campaigns.keyword_at_start(text, TODAY)
        assert found and found[0].id == "feria_salud_2027", text
    assert campaigns.keyword_alone("tết", TODAY).id == "thu_vien_tet_2027"
    assert campaigns.keyword_at_start("thư viện xin chào", TODAY)[1] == "xin chào"
    assert campaigns.keyword_alone("feria hola", TODAY) is None  # mid-screening: alone only
    assert campaigns.keyword_at_start("hola feria", TODAY) is None  # at the start only


def test_a_keyword_works_only_on_the_days_its_event_runs_asked_in_any_order():
    campaigns = load_campaigns()  # the Tết library event runs 2026-12-01 to 2027-03-15
    days = [TODAY, datetime.date(2027, 3, 16), datetime.date(2026, 11, 30),
            datetime.date(2027, 3, 15), datetime.date(2026, 12, 1)]
    found = [campaigns.keyword_alone("tết", day) for day in days]
    assert [c.id if c else None for c in found] == [
        "thu_vien_tet_2027", None, None, "thu_vien_tet_2027", "thu_vien_tet_2027"]


def test_no_campaigns_file_means_no_campaigns(tmp_path):
    assert load_campaigns(tmp_path / "campaigns.yaml").campaigns == ()
