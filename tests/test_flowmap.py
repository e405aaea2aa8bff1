"""The flow map (bot/flowmap.py): what staff see of flows/screener.yaml at /staff/flow and in
`screener graph`: every question in order, its branches and checks, the programs each answer
can change (through the rules' derived values), and lint problems on the question they are on.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from browser import PASSWORDS, STAFF_USERS, screenshot, sign_in, wait_for
from flow_copies import edit
from phone import make_app
from selenium.webdriver.common.by import By

from bot import flowmap
from bot.cli import main
from bot.flow import RESULTS, load_flow
from bot.paths import SHIPPED_FLOWS
from bot.rules import load_rules

pytest_plugins = ["redis_server", "browser"]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def shipped() -> flowmap.FlowMap:
    return flowmap.current(SHIPPED_FLOWS)  # the same (cached) map the page shows


def svg_texts(svg: str) -> str:
    return " ".join("".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text"))


# -- the map as data --------------------------------------------------------------------------

def test_every_question_is_on_the_map_in_order_then_the_results(shipped):
    flow = load_flow(SHIPPED_FLOWS / "screener.yaml")
    assert [node.id for node in shipped.nodes] == [q.id for q in flow.questions] + [RESULTS]
    assert shipped.node("work").when == "monthly_income > 0"
    assert shipped.node("work").answers == ("lost_job", "work", "works_20h")  # what it `sets`


def test_no_children_branches_to_pregnant_and_otherwise_goes_to_the_next_question(shipped):
    ways = [(e.target, e.kind, e.condition) for e in shipped.edges_from("has_children")]
    assert ways == [("pregnant", "branch", "has_children == false"),
                    ("youngest_child_age", "next", None)]
    last = shipped.questions[-1]
    assert [e.target for e in shipped.edges_from(last.id)] == [RESULTS]


def test_checks_ask_again_after_the_last_answer_they_read(shipped):
    checks = {e.check: (e.source, e.target) for e in shipped.edges if e.kind == "check"}
    assert checks["child_in_household_of_one"] == ("has_children", "household_size")
    assert checks["income_per_person"] == ("monthly_income", "monthly_income")
    again = shipped.checks_asking("youngest_child_age")
    assert [e.condition for e in again] == ["youngest_child_age > age - 12"]


def test_an_answer_changes_the_programs_that_read_it_through_derived_values(shipped):
    programs = shipped.programs
    assert {"calfresh", "medi_cal", "calworks", "caleitc"} <= set(programs["monthly_income"])
    assert {"calfresh_student", "pell_grant", "cal_grant"} <= set(programs["student"])
    assert programs["housing_risk"] == ("homelessness_prevention",)
    assert programs["has_health_insurance"] == ("covered_california",)
    assert "sjpl" in programs["zip"]  # county_or_unknown <- in_santa_clara_county <- zip
    assert "wic" in programs["pregnant"]  # wic_income_limit counts the unborn child
    assert "pell_grant" not in programs["monthly_income"]
    # A choice's `sets` count for its question: `work` records works_20h and lost_job.
    assert "unemployment_insurance" in shipped.node("work").programs


def test_what_an_answer_changes_is_what_the_rules_decide():
    """Changing an answer the map says a program reads can flip it; one it does not, never."""
    flow = load_flow(SHIPPED_FLOWS / "screener.yaml")
    rules = load_rules(SHIPPED_FLOWS / "programs.yaml")
    reads = flowmap.programs_by_answer(flow, rules)
    base = {"age": 22, "zip": "95112", "household_size": 1, "has_children": False,
            "pregnant": False, "monthly_income": 4000, "work": "works_20h", "works_20h": True,
            "lost_job": False, "student": False, "foster_youth": False,
            "has_health_insurance": True, "housing_risk": False}
    changes = {"monthly_income": 900, "student": True, "housing_risk": True,
               "has_health_insurance": False, "zip": "97201", "pregnant": True}
    for answer, value in changes.items():
        before = {p.id for p in rules.match(base)}
        after = {p.id for p in rules.match({**base, answer: value})}
        assert before ^ after, answer
        assert before ^ after <= set(reads[answer]), answer


# -- lint marks -------------------------------------------------------------------------------

def test_a_lint_error_is_marked_on_its_question_and_the_rest_listed_above(flows):
    bad_goto = edit(flows / "screener.yaml", "goto: pregnant", "goto: pregnent")
    bad_check = edit(flows / "screener.yaml", "ask: household_size\n", "ask: household_sise\n")
    found = flowmap.build(flows)
    marks = found.node("has_children").marks
    assert [(m.line, m.severity) for m in marks] == [(bad_goto - 1, "error")]  # its branch
    assert "did you mean 'pregnant'" in marks[0].message
    assert not any(node.marks for node in found.nodes if node.id != "has_children")
    assert any(p.line == bad_check - 2 and "household_sise" in p.message  # the check's line
               for p in found.problems)
    svg = flowmap.render_svg(found)
    group = next(g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("data-id") ==
                 "has_children")
    assert "fm-error" in group.get("class")
    assert f"line {bad_goto - 1}" in "".join(group.itertext())
    assert "household_sise" in svg_texts(svg)  # listed above the map
    assert "household_sise" not in svg_texts(flowmap.render_svg(found, listed=False))


def test_a_flow_that_does_not_load_still_draws_with_its_problems(flows):
    edit(flows / "screener.yaml", "id: has_children\n    type: yes_no",
         "id: has_children\n    type: maybe")
    found = flowmap.build(flows)
    assert [node.id for node in found.nodes] == [RESULTS]
    assert any("maybe" in p.message for p in found.problems)
    assert "maybe" in svg_texts(flowmap.render_svg(found))


# -- the SVG and `screener graph` -------------------------------------------------------------

def test_screener_graph_writes_a_valid_svg_and_prints_its_path(tmp_path, capsys, shipped):
    out = tmp_path / "maps" / "flow.svg"
    assert main(["graph", "--out", str(out), "--flows", str(SHIPPED_FLOWS)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text.startswith("Flow map")
    drawn = [g.get("data-id") for g in root.iter(f"{SVG}g") if g.get("data-id")]
    assert drawn == [node.id for node in shipped.nodes]
    for group in root.iter(f"{SVG}g"):  # every box and arrow says what it is
        assert group.find(f"{SVG}title").text, group.attrib
    edges = {(g.get("data-from"), g.get("data-to")) for g in root.iter(f"{SVG}g")
             if "fm-edge-branch" in (g.get("class") or "")}
    assert ("has_children", "pregnant") in edges
    when = shipped.node("student_exempt").when  # has < and a parenthesis: escaped, read back
    assert "<" in when and when[:40] in svg_texts(out.read_text(encoding="utf-8"))


def test_text_that_looks_like_markup_stays_text(flows):
    edit(flows / "screener.yaml", 'when: "age <= 25"', 'when: "age <= 25 and \'<b>\' != \'&\'"')
    svg = flowmap.render_svg(flowmap.build(flows))
    assert ET.fromstring(svg).find(f".//{SVG}b") is None
    assert "'<b>' != '&'" in svg_texts(svg)


# -- the staff page ---------------------------------------------------------------------------

@pytest.fixture
def app(fake_redis, content):
    return make_app(fake_redis, content, STAFF_USERS=STAFF_USERS)


def signed_in(app, name: str):
    client = app.test_client()
    page = client.get("/staff/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/staff/login", data={"username": name, "password": PASSWORDS[name],
                                                  "csrf_token": token})
    assert response.status_code == 302
    return client


def test_the_flow_page_needs_sign_in_and_a_role_that_may_see_it(app, shipped):
    response = app.test_client().get("/staff/flow")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert signed_in(app, "nia").get("/staff/flow").status_code == 403  # a navigator
    page = signed_in(app, "sam").get("/staff/flow")
    assert page.status_code == 200
    assert page.text.count("<svg") == 1 and 'aria-labelledby="fm-title fm-desc"' in page.text
    for node in shipped.questions:
        assert f'id="q-{node.id}"' in page.text
    assert "has_children == false" in page.text and "homelessness_prevention" in page.text


@pytest.mark.browser
def test_in_chromium_the_flow_map_and_its_list_fit_a_phone(app, browser, serve):
    base = serve(app)
    sign_in(browser, base, "sam")
    browser.get(f"{base}/staff/flow")
    wait_for(browser, ".flow-scroll svg")
    boxes = browser.find_elements(By.CSS_SELECTOR, "svg g.fm-node")
    assert len(boxes) == len(browser.find_elements(By.CSS_SELECTOR, ".flow-list > li"))
    item = browser.find_element(By.ID, "q-has_children")
    assert "pregnant if has_children == false" in " ".join(item.text.split())
    screenshot(browser, "flow_map")
    browser.set_window_size(390, 844)
    try:
        wide = browser.execute_script("return document.documentElement.scrollWidth")
        assert wide <= 390  # only the map scrolls sideways, never the page
        assert browser.find_element(By.ID, "q-monthly_income").size["width"] < 390
    finally:
        browser.set_window_size(1280, 900)
