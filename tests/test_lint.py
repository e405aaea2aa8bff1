"""`screener lint` finds each kind of mistake staff can make, on the right line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flow_copies import edit

from bot.lint import lint

FLOWS = Path(__file__).resolve().parent.parent / "flows"


def errors(folder: Path) -> list[str]:
    return [str(p) for p in lint(folder) if p.severity == "error"]


def test_the_shipped_flows_are_clean():
    assert errors(FLOWS) == []


def test_the_command_exits_zero_on_the_shipped_flows_and_one_on_a_broken_flow(flows):
    ok = subprocess.run([sys.executable, "-m", "bot.cli", "lint"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    edit(flows / "screener.yaml", "goto: pregnant", "goto: pregant")
    broken = subprocess.run([sys.executable, "-m", "bot.cli", "lint", "--flows", str(flows)],
                            capture_output=True, text=True)
    assert broken.returncode == 1
    assert "screener.yaml:" in broken.stdout


def test_a_yaml_syntax_error_is_reported_with_its_line(flows):
    line = edit(flows / "screener.yaml", '  offer_help: "Stuck? Reply HELP."',
                "  offer_help: Stuck: Reply HELP.")
    assert any(f"screener.yaml:{line}: YAML syntax" in e and "quotes" in e
               for e in errors(flows))


def test_a_schema_violation_names_the_field(flows):
    line = edit(flows / "screener.yaml", "    type: money", "    type: dollars")
    assert f"{flows}/screener.yaml:{line}: questions.6.type: 'dollars' is not one of" in "\n".join(
        errors(flows))


def test_an_unknown_field_is_caught(flows):
    zip_question = "    optional: true\n\n  - id: household_size"  # the ZIP question's
    line = edit(flows / "screener.yaml", zip_question, zip_question.replace("optional", "optionl"))
    assert any(f"screener.yaml:{line}: questions.1: 'optionl' is not a known field "
               "(did you mean 'optional'?)" in e for e in errors(flows))


def test_a_goto_to_a_missing_question_suggests_the_right_one(flows):
    line = edit(flows / "screener.yaml", "        goto: pregnant", "        goto: pregant")
    assert any(f"screener.yaml:{line - 1}: goto 'pregant' is not a question id "
               "(did you mean 'pregnant'?)" in e for e in errors(flows))


def test_a_question_no_path_reaches_is_reported(flows):
    edit(flows / "screener.yaml", '      - if: "has_children == false"\n        goto: pregnant',
         "      - goto: monthly_income")
    line = edit(flows / "screener.yaml", "  - id: pregnant\n", "  - id: pregnant\n")
    assert any(f"screener.yaml:{line}: question 'pregnant' is never asked" in e
               for e in errors(flows))


def test_a_loop_that_never_reaches_the_results_is_reported(flows):
    edit(flows / "screener.yaml", "    next:\n      - goto: results",
         "    next:\n      - goto: has_health_insurance")
    line = edit(flows / "screener.yaml", "  - id: has_health_insurance\n",
                "  - id: has_health_insurance\n")
    assert any(f"screener.yaml:{line}: from question 'has_health_insurance' the flow never "
               "reaches the results (it loops)" in e for e in errors(flows))


def test_a_condition_that_does_not_parse_is_reported(flows):
    line = edit(flows / "screener.yaml", 'when: "age <= 25"', 'when: "age <= "')
    assert any(f"screener.yaml:{line}: the condition 'age <=' does not parse" in e
               for e in errors(flows))


def test_a_condition_on_an_answer_nobody_asks_suggests_one(flows):
    line = edit(flows / "screener.yaml", 'when: "age <= 25"', 'when: "ages <= 25"')
    assert any(f"screener.yaml:{line}: the condition uses 'ages', which no question asks "
               "(did you mean 'age'?)" in e for e in errors(flows))


def test_a_duplicate_question_id_is_reported_with_the_first_line(flows):
    first = edit(flows / "screener.yaml", "  - id: pregnant\n", "  - id: pregnant\n")
    line = edit(flows / "screener.yaml", "  - id: student\n", "  - id: pregnant\n")
    assert any(f"screener.yaml:{line}: the question id 'pregnant' is used twice "
               f"(first on line {first})" in e for e in errors(flows))


def test_a_rule_using_an_answer_the_flow_never_asks_is_reported(flows):
    line = edit(flows / "programs.yaml", 'when: "county_or_unknown"',
                'when: "county_or_unknown and veteran == true"')
    assert any(f"programs.yaml:{line}:" in e and "'veteran'" in e for e in errors(flows))


def test_a_program_without_a_source_is_reported(flows):
    text = (flows / "programs.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: sjpl")
    sources = text.index("    sources:", start)
    following = text.index("\n  - id:", sources)
    (flows / "programs.yaml").write_text(text[:sources] + text[following + 1:], encoding="utf-8")
    assert any("programs.yaml:" in e and "sources" in e for e in errors(flows))


def test_a_choice_word_that_is_a_command_is_reported(flows):
    line = edit(flows / "screener.yaml", '        label: "I lost my job recently"\n',
                '        label: "I lost my job recently"\n        words: [more]\n')
    assert any(f"screener.yaml:{line - 1}: (en) 'more' is a phrase of the choice 'lost_job'"
               in e and "the more command" in e for e in errors(flows))


def test_a_question_over_its_sms_budget_is_reported(flows):
    line = edit(flows / "screener.yaml",
                '    ask: "How old are you?"',
                '    ask: "' + "How old are you, really and truly? " * 10 + '"')
    assert any(f"screener.yaml:{line}: question 'age' takes 3 SMS segments in en" in e
               for e in errors(flows))


def test_a_check_that_asks_no_question_or_says_no_message_is_reported(flows):
    line = edit(flows / "screener.yaml",
                "    ask: household_size\n    say: recheck_household_child",
                "    ask: houshold_size\n    say: recheck_houshold")
    found = errors(flows)
    assert any(f"screener.yaml:{line - 2}: check 'child_in_household_of_one': ask "
               "'houshold_size' is not a question id (did you mean 'household_size'?)" in e
               for e in found), found
    assert any("say 'recheck_houshold' is not a message" in e for e in found)
