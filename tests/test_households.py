"""Households that make sense, residents outside California, and the questions only some
residents are asked (issue 10). Each test reads like the conversation it protects."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine import Step, step
from bot.segments import segments

NOW = 1_800_000_000.0
HOUSEHOLD_CHILD = ("You said 1 person, and a child lives with you. How many people, counting "
                   "you and your child?")
CHILD_AGE_AGAIN = "Just to check: how old is the youngest child who lives with you?"
INCOME_AGAIN = "Just to check: about how much money does everyone in your home get"
OUTSIDE = "These are California programs"


class Chat:
    """One resident texting the line, a minute between messages."""

    def __init__(self, content: Any, lang: str | None = None):
        self.content = content
        self.lang = lang
        self.session: dict[str, Any] | None = None
        self.last: Step | None = None
        self.minute = 0

    def says(self, *messages: str) -> str:
        """Send the messages; the bot's reply to the last one, as one text."""
        for message in messages:
            self.minute += 1
            self.last = step(self.content, self.session, message, NOW + 60 * self.minute,
                             lang=self.lang)
            self.session = self.last.session
        assert self.last is not None
        return "\n".join(self.last.replies)

    @property
    def answers(self) -> dict[str, Any]:
        assert self.session is not None
        return self.session["answers"]

    @property
    def waiting_at(self) -> str | None:
        assert self.session is not None
        return self.session["question"]


def test_a_household_of_one_with_a_child_is_asked_again_kindly(content):
    chat = Chat(content)
    chat.says("hi", "20", "95112", "1")
    assert HOUSEHOLD_CHILD in chat.says("yes")
    reply = chat.says("2")
    assert reply.startswith("How old is your youngest child?")
    assert chat.answers["household_size"] == 2
    assert chat.answers["has_children"] is True


def test_the_same_answer_twice_is_believed_and_the_screening_goes_on(content):
    chat = Chat(content)
    chat.says("hi", "20", "95112", "1", "yes")
    reply = chat.says("1")  # a child who lives here but eats elsewhere: never trapped
    assert reply.startswith("How old is your youngest child?")
    assert chat.answers["household_size"] == 1


def test_back_while_asked_again_lets_the_check_come_back(content):
    chat = Chat(content)
    chat.says("hi", "20", "95112", "1", "yes")
    assert chat.says("BACK").startswith("Do you have a child who lives with you?")
    assert HOUSEHOLD_CHILD in chat.says("yes")
    assert chat.says("no").startswith("Please send a number")  # still the household question


def test_not_sure_while_asked_again_repeats_the_kind_question(content):
    chat = Chat(content)
    chat.says("hi", "20", "95112", "1", "yes")
    reply = chat.says("not sure")
    assert "Your best guess is fine" in reply and HOUSEHOLD_CHILD in reply


def test_a_household_of_one_without_children_is_not_questioned(content):
    chat = Chat(content)
    chat.says("hi", "20", "95112", "1")
    assert chat.says("no").startswith("Are you or someone in your home pregnant?")


def test_a_child_older_than_a_parent_of_that_age_could_have_is_asked_again(content):
    chat = Chat(content)
    chat.says("hi", "19", "95112", "3", "yes")
    assert CHILD_AGE_AGAIN in chat.says("10")
    assert chat.says("1").startswith("Are you or someone in your home pregnant?")
    assert chat.answers["youngest_child_age"] == 1


def test_a_young_parents_toddler_is_not_questioned(content):
    chat = Chat(content)
    chat.says("hi", "19", "95112", "2", "yes")
    assert chat.says("2").startswith("Are you or someone in your home pregnant?")


def test_a_brother_they_raise_is_believed_when_the_age_is_given_again(content):
    chat = Chat(content)
    chat.says("hi", "22", "95112", "3", "yes", "12")
    assert chat.says("12").startswith("Are you or someone in your home pregnant?")
    assert chat.answers["youngest_child_age"] == 12


@pytest.mark.parametrize("income, asked_again", [("150", True), ("199", True), ("200", False),
                                                  ("0", False), ("1500", False)])
def test_an_income_absurd_for_four_people_is_asked_again(content, income, asked_again):
    chat = Chat(content)
    chat.says("hi", "20", "95112", "4", "yes", "3", "no")
    reply = chat.says(income)
    assert (INCOME_AGAIN in reply) is asked_again
    if asked_again:
        assert chat.waiting_at == "monthly_income"
        chat.says("1800")
        assert chat.answers["monthly_income"] == 1800
        assert chat.waiting_at == "work"


def test_a_zip_outside_california_ends_kindly_with_where_to_look_instead(content):
    chat = Chat(content)
    chat.says("hi", "20")
    reply = chat.says("97201")
    assert OUTSIDE in reply and "2-1-1" in reply and "988" in reply
    assert "Santa Clara County" not in reply  # not the in-state note
    assert chat.session["stage"] == "results" and chat.session["programs"] == []
    assert not chat.last.jobs  # no estimates for programs that do not apply
    assert any(event.kind == "outside_area" for event in chat.last.events)
    assert OUTSIDE in chat.says("what about calfresh")  # later texts get the same answer


def test_a_mistyped_zip_outside_california_can_be_fixed_with_back(content):
    chat = Chat(content)
    chat.says("hi", "20", "97201")
    assert chat.says("BACK").startswith("What is your ZIP code?")
    assert chat.says("95112").startswith("How many people buy and cook food with you")
    assert chat.answers["zip"] == "95112"


def test_a_california_zip_outside_the_county_goes_on_to_statewide_programs(content):
    chat = Chat(content)
    chat.says("hi", "20")
    reply = chat.says("94612")  # Oakland
    assert "outside Santa Clara County" in reply and OUTSIDE not in reply
    assert chat.waiting_at == "household_size"


@pytest.mark.parametrize("lang", ["en", "es", "vi", "pa", "hi"])
def test_the_outside_california_reply_fits_three_segments_in_every_language(content, lang):
    text = content.message(lang, "outside_california")
    assert segments(text) <= content.flow.settings.results_page_segments


def test_foster_care_on_the_18th_birthday_is_asked_only_of_former_foster_youth(content):
    foster = Chat(content)
    foster.says("hi", "21", "95112", "1", "no", "no", "900", "2", "no")
    assert foster.says("yes").startswith("Were you in foster care on your 18th birthday?")
    foster.says("no")
    assert foster.answers["foster_care_at_18"] is False
    never = Chat(content)
    never.says("hi", "21", "95112", "1", "no", "no", "900", "2", "no")
    # Not asked about health insurance either: at $900 a month Medi-Cal is already decided.
    assert never.says("no").startswith("Could you lose your housing soon?")


def test_a_minor_who_was_in_foster_care_is_not_asked_about_the_18th_birthday(content):
    chat = Chat(content)
    chat.says("hi", "17", "95112", "1", "no", "no", "0", "no", "no")
    assert chat.says("yes").startswith("Could you lose your housing soon?")


@pytest.mark.parametrize("work, children, asked", [
    ("2", ("no",), True),            # works under 20 hours, no child
    ("1", ("no",), False),           # works 20+ hours: already let in
    ("2", ("yes", "5"), False),      # a child under 12: already let in
    ("2", ("yes", "14"), True),      # a teenager does not let a student in
])
def test_the_student_exemptions_are_asked_only_of_students_not_already_let_in(
        content, work, children, asked):
    chat = Chat(content)
    chat.says("hi", "30", "95112", "3", *children, "no", "1500", work)
    reply = chat.says("yes")  # a student
    assert reply.startswith("Do you have EOP/EOPS") is asked
    if asked:
        chat.says("yes")
        assert chat.answers["student_exempt"] is True


def test_a_student_unsure_of_the_exemptions_may_skip(content):
    chat = Chat(content)
    chat.says("hi", "22", "95112", "1", "no", "no", "0", "no", "yes")
    assert "reply SKIP" in chat.says("idk")
    chat.says("SKIP")
    assert chat.answers["student_exempt"] is None


@pytest.mark.parametrize("lang", ["en", "es", "vi", "pa", "hi"])
def test_the_first_results_page_says_the_office_decides(content, lang):
    chat = Chat(content, lang=lang)
    # English answer words work in every language; health insurance is not asked (Medi-Cal
    # is already decided at $1,200 a month).
    chat.says("hi", "20", "95112", "1", "NO", "NO", "1200", "1", "NO", "NO")
    first_page = chat.says("NO")
    assert chat.session["stage"] == "results"
    assert first_page.startswith(content.message(lang, "results_header"))
    for part in chat.last.replies:
        assert segments(part) <= content.flow.settings.results_page_segments
