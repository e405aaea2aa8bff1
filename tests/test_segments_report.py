"""`screener segments` derives its scripted screenings from the flow, so a staff edit to the
questions (a new optional question, a new order) never breaks the report."""

from __future__ import annotations

import pytest
from flow_copies import copy_flows, insert_before

from bot.content import load_content
from bot.i18n.segments_report import report, screening

# No rule reads has_car, so it is asked only because staff say `always`.
NEW_QUESTION = """\
  - id: has_car
    type: yes_no
    ask: "Do you have a car? Reply YES, NO or SKIP."
    optional: true
    always: true
    when: "age <= 24"

"""


@pytest.fixture(scope="module")
def shipped():
    return load_content()


def test_an_added_optional_question_still_gives_a_report(tmp_path):
    content = load_content(insert_before(copy_flows(tmp_path), "  - id: student\n", NEW_QUESTION))
    table = report(content)
    assert "| `has_car` |" in table
    assert "whole screening, longest path" in table
    assert "whole screening, shortest path" in table


def test_the_longest_path_asks_a_new_conditional_question_and_the_shortest_does_not(
        tmp_path, shipped):
    content = load_content(insert_before(copy_flows(tmp_path), "  - id: student\n", NEW_QUESTION))
    longest = screening(content, "en", longest=True)
    shortest = screening(content, "en", longest=False)
    assert "has_car" in longest.asked
    assert "has_car" not in shortest.asked
    before = screening(shipped, "en", longest=True)
    assert len(longest.asked) == len(before.asked) + 1


def test_the_shortest_path_skips_an_optional_question_it_cannot_avoid(tmp_path):
    unconditional = NEW_QUESTION.replace('    when: "age <= 24"\n', "")
    content = load_content(insert_before(copy_flows(tmp_path), "  - id: student\n", unconditional))
    shortest = screening(content, "en", longest=False)
    assert "has_car" in shortest.asked


def test_reordered_questions_are_answered_by_id_not_position(tmp_path):
    pregnant = (
        "  - id: pregnant\n    type: yes_no\n"
        '    ask: "Are you or someone in your home pregnant? Reply YES or NO."\n\n'
    )
    folder = insert_before(copy_flows(tmp_path), "  - id: household_size\n", pregnant)
    flow = folder / "screener.yaml"
    text = flow.read_text(encoding="utf-8")
    original = text.split("  - id: pregnant\n")[2].split("\n\n", 1)[0]
    flow.write_text(text.replace("  - id: pregnant\n" + original + "\n\n", "", 1)
                    .replace("goto: pregnant", "goto: monthly_income"), encoding="utf-8")
    content = load_content(folder)
    run = screening(content, "es", longest=True)
    assert run.asked.index("pregnant") < run.asked.index("household_size")
    assert "youngest_child_age" in run.asked


def test_the_paths_ask_every_conditional_question_or_skip_them(shipped):
    longest = screening(shipped, "en", longest=True).asked
    shortest = screening(shipped, "en", longest=False).asked
    assert {"youngest_child_age", "work", "foster_youth"} <= set(longest)
    assert not {"youngest_child_age", "work", "foster_youth"} & set(shortest)
