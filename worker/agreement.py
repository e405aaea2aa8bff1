"""`screener agreement`: our YAML rules against PolicyEngine-US on the same random households.

Why: the rules in flows/programs.yaml are hand-written by staff and drift (stale tables, missed
exemptions). PolicyEngine-US is an independent, maintained model. Drawing many plausible young
adult households, asking both, and explaining every difference shows which differences are
choices (we say "may qualify" where the model wants facts we never ask) and which are bugs.

The households are drawn person by person (`draw_households`), then turned into the answers
the text line would collect (`Household.answers`) and into the model's people
(`Household.people`), so both sides see the same household. One Simulation does them all.
"""

from __future__ import annotations

import inspect
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from bot.rules import Rules, load_rules
from worker.estimates import PROGRAMS, Estimator, Person

# San José ZIP codes (all in Santa Clara County).
ZIPS = ("95110", "95111", "95112", "95116", "95117", "95118", "95119", "95120", "95121",
        "95122", "95123", "95124", "95125", "95126", "95127", "95128", "95129", "95131",
        "95132", "95133", "95134", "95135", "95136", "95138", "95139", "95148")
# Poverty guideline used only to place incomes near the programs' limits (2026, 48 states).
GUIDELINE_BASE, GUIDELINE_STEP = 15960, 5680
# Limits as a share of the guideline (CalWORKs, Medi-Cal, WIC, CalFresh/CARE, pregnancy,
# FERA, children's Medi-Cal, MCAP, Covered California) and yearly dollar limits (EITC,
# CalEITC): incomes are drawn near these so a wrong table shows up.
THRESHOLD_SHARES = (0.75, 1.0, 1.1, 1.38, 1.5, 1.85, 2.0, 2.13, 2.5, 2.66, 3.22, 4.0)
THRESHOLD_DOLLARS = (19104, 26214, 32901, 50434, 57554)
MAX_SIZE = 5
# Programs both sides cover: all of worker/estimates.py's.
COMPARED = PROGRAMS
# Our programs PolicyEngine-US does not model (for the report: what is not compared, and why).
NOT_MODELLED = {
    "clipper_start": "a Bay Area transit discount; not in the model",
    "family_pact": "California family planning; not in the model",
    "extended_foster_care": "needs the foster care court order; not in the model",
    "chafee_grant": "foster youth school grant; not in the model",
    "pell_grant": "the model's Pell needs cost of attendance and assets we never ask",
    "cal_grant": "not in the model",
    "college_promise_grant": "not in the model",
    "work2future": "a local job center; not in the model",
    "sjpl": "the library; not in the model",
    "homelessness_prevention": "a county service; not in the model",
    "unemployment_insurance": "the model takes UI pay as an input, it does not decide it",
    "general_assistance": "the model has Los Angeles General Relief, not Santa Clara's",
}


# The households ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Household:
    """One drawn household: its people and the few facts only our questions carry."""

    zip: str
    people: tuple[Person, ...]
    work: str | None  # the head's answer to the work question (None when not asked)
    lost_job: bool
    housing_risk: bool = False
    # Answers to the two questions only some residents get; None: skipped (or not drawn).
    # The model is not told either: its set-up has no input for a CalFresh student exemption,
    # and it reads "was in foster care" as foster care at a valid age (see the checks below).
    student_exempt: bool | None = None  # EOP/EOPS, Cal Grant A/B, work-study, CalWORKs, WIOA
    foster_at_18: bool | None = None  # in foster care on the 18th birthday

    @property
    def head(self) -> Person:
        return self.people[0]

    @property
    def children(self) -> tuple[Person, ...]:
        return tuple(person for person in self.people if person.role == "child")

    @property
    def monthly_income(self) -> int:
        """What the resident would say: everyone's pay and other income, per month."""
        return round(sum(p.earnings + p.unemployment for p in self.people) / 12)

    def answers(self) -> dict[str, Any]:
        """The answers the text line would collect from this household's resident."""
        head = self.head
        children = self.children
        answers: dict[str, Any] = {
            "age": head.age, "zip": self.zip, "household_size": len(self.people),
            "has_children": bool(children),
            "youngest_child_age": min(c.age for c in children) if children else None,
            "pregnant": any(p.pregnant for p in self.people),
            "monthly_income": self.monthly_income,
            "student": head.student, "has_health_insurance": False,
            "housing_risk": self.housing_risk,
        }
        if self.work is not None:  # asked when there is income; its choice sets the rest
            answers["work"] = self.work
            answers["works_20h"] = self.work == "works_20h"
            if self.work != "not_working":
                answers["lost_job"] = self.work == "lost_job"
        else:
            answers["lost_job"] = self.lost_job
        if head.age <= 25:  # the foster care question is asked up to 25
            answers["foster_youth"] = head.foster
        if self.asks_student_exempt(answers) and self.student_exempt is not None:
            answers["student_exempt"] = self.student_exempt
        if answers.get("foster_youth") is True and self.foster_at_18 is not None:
            answers["foster_care_at_18"] = self.foster_at_18  # asked of foster youth 18+
        return answers

    def every_answer(self) -> dict[str, Any]:
        """The true answer to every question, whether the flow asks it or not (to replay a
        screening whatever the bot asks: bot/replay.py). No health insurance, as above."""
        answers = self.answers()
        answers.setdefault("lost_job", self.lost_job or self.work == "lost_job")
        answers.setdefault("foster_youth", self.head.foster)
        answers.update(student_exempt=self.student_exempt, foster_care_at_18=self.foster_at_18)
        return answers

    @staticmethod
    def asks_student_exempt(answers: Mapping[str, Any]) -> bool:
        """The flow's condition for the CalFresh exemption question (flows/screener.yaml)."""
        youngest = answers.get("youngest_child_age")
        return (answers.get("student") is True and 18 <= answers["age"] <= 49
                and answers.get("works_20h") is not True
                and not (youngest is not None and youngest < 12))


def draw_households(count: int, seed: int) -> list[Household]:
    """`count` plausible San José young-adult households; the same seed gives the same list.

    The answers to the exemption and 18th-birthday questions come from a second stream, so
    adding them left the households of each seed as they were (reports stay comparable).
    """
    rng, extra = random.Random(seed), random.Random(f"{seed}:answers")
    return [_with_extra_answers(_draw(rng), extra) for _ in range(count)]


# How the residents asked answer the two questions only some get: yes, no or skip (None).
STUDENT_EXEMPT_ANSWERS = ((True, 30), (False, 60), (None, 10))
FOSTER_AT_18_ANSWERS = ((True, 50), (False, 40), (None, 10))


def _with_extra_answers(household: Household, rng: random.Random) -> Household:
    """The household with its resident's answers to the exemption and 18th-birthday questions.

    Both are drawn for every household (so each household uses the stream the same way) and
    kept only where the flow asks them.
    """
    def pick(weighted: tuple[tuple[bool | None, int], ...]) -> bool | None:
        return rng.choices([value for value, _ in weighted], [w for _, w in weighted])[0]

    exempt, at_18 = pick(STUDENT_EXEMPT_ANSWERS), pick(FOSTER_AT_18_ANSWERS)
    answers = household.answers()
    return replace(
        household,
        student_exempt=exempt if Household.asks_student_exempt(answers) else None,
        foster_at_18=at_18 if household.head.foster and household.head.age >= 18 else None)


def _draw(rng: random.Random) -> Household:
    age = rng.randint(18, 24) if rng.random() < 0.8 else rng.randint(25, 30)
    kind = rng.choices(("single", "couple", "parent", "couple_kids", "housemates"),
                       (35, 20, 18, 15, 12))[0]
    head = {"age": age, "student": rng.random() < (0.35 if age <= 24 else 0.15),
            "foster": age <= 25 and rng.random() < 0.08, "pregnant": rng.random() < 0.08}
    others: list[tuple[str, int, Literal["spouse", "child", "adult"]]] = []
    if kind in ("couple", "couple_kids"):
        others.append(("partner", max(18, age + rng.randint(-3, 3)), "spouse"))
    if kind == "housemates":
        others += [(f"adult{k}", rng.randint(18, 30), "adult")
                   for k in range(1, rng.randint(1, 3) + 1)]
    if kind in ("parent", "couple_kids"):
        others += [(f"child{k}", child_age, "child")
                   for k, child_age in enumerate(_child_ages(rng, age, MAX_SIZE - 1 - len(others)))]
    size = 1 + len(others)
    income = _monthly_income(rng, size)
    work, lost_job, shares = _work(rng, income, [role for _, _, role in others])
    hours = {"works_20h": rng.randint(20, 40), "works_less": rng.randint(5, 19)}
    # Rent: most pay a share of a San José rent; some live rent-free with family.
    rent = 0 if rng.random() < 0.25 else rng.randint(600, 1200) + 350 * (size - 1)
    people = [Person(
        "you", age, "head", rent=12.0 * rent,
        earnings=12 * income * shares[0] if work != "lost_job" else 0.0,
        unemployment=12 * income * shares[0] if work == "lost_job" else 0.0,
        weekly_hours=hours.get(work or "", 0), student=head["student"],
        pregnant=head["pregnant"], foster=head["foster"],
    )]
    for (suffix, other_age, role), share in zip(others, shares[1:], strict=True):
        people.append(Person(suffix, other_age, role, earnings=12 * income * share,
                             weekly_hours=rng.randint(20, 40) if share else 0))
    return Household(rng.choice(ZIPS), tuple(people), work, lost_job,
                     housing_risk=rng.random() < 0.15)


def _child_ages(rng: random.Random, parent_age: int, room: int) -> list[int]:
    """One to three children the parent could have had at 16 or older, youngest first."""
    oldest_possible = min(18, parent_age - 16)
    youngest = rng.randint(0, min(oldest_possible, 10))
    ages = [youngest]
    for _ in range(rng.randint(1, max(1, min(3, room))) - 1):
        older = ages[-1] + rng.randint(1, 4)
        if older > oldest_possible:
            break
        ages.append(older)
    return ages


def _monthly_income(rng: random.Random, size: int) -> int:
    """Zero, near a program's limit (most of the mass), or anywhere up to 5 times the line."""
    monthly_line = (GUIDELINE_BASE + GUIDELINE_STEP * (size - 1)) / 12
    pick = rng.random()
    if pick < 0.15:
        return 0
    if pick < 0.7:
        if rng.random() < 0.75:
            limit = monthly_line * rng.choice(THRESHOLD_SHARES)
        else:
            limit = rng.choice(THRESHOLD_DOLLARS) / 12
        return max(1, round(limit * (1 + rng.uniform(-0.05, 0.05))))
    return round(rng.uniform(50, 5 * monthly_line))


def _work(rng: random.Random, income: int,
          roles: Sequence[str]) -> tuple[str | None, bool, list[float]]:
    """The head's work answer, whether they lost a job, and each person's share of income."""
    adults = [index for index, role in enumerate(roles, start=1) if role != "child"]
    shares = [0.0] * (1 + len(roles))
    if income == 0:
        return None, rng.random() < 0.3, shares
    choices = ["works_20h", "works_less", "lost_job"] + (["not_working"] if adults else [])
    work = rng.choices(choices, (55, 25, 10, 10)[:len(choices)])[0]
    earners = [index for index in adults if rng.random() < 0.6]
    if work == "not_working" and not earners:
        earners = [adults[0]]
    head_share = 0.0 if work == "not_working" else (rng.uniform(0.3, 1.0) if earners else 1.0)
    shares[0] = head_share
    for index in earners:
        shares[index] = (1 - head_share) / len(earners)
    return work, work == "lost_job", shares


# Running both sides ----------------------------------------------------------------------------

# Model variables read for explaining differences: (name, variable, period, whose).
# "others": how many other adults at home have the flag false.
Whose = Literal["head", "household", "others"]
DIAGNOSTICS: tuple[tuple[str, str, Literal["month", "year"], Whose], ...] = (
    ("snap_eligible", "is_snap_eligible", "month", "household"),
    ("snap", "snap", "month", "household"),
    ("snap_gross_ok", "meets_snap_gross_income_test", "month", "household"),
    ("snap_net_ok", "meets_snap_net_income_test", "month", "household"),
    ("snap_work_ok", "meets_snap_work_requirements", "month", "household"),
    ("snap_abawd_ok", "meets_snap_abawd_work_requirements", "month", "head"),
    ("snap_abawd_others_out", "meets_snap_work_requirements_person", "month", "others"),
    ("snap_categorical", "meets_snap_categorical_eligibility", "month", "household"),
    ("snap_allotment_ok", "ca_snap_meets_allotment_requirement", "month", "household"),
    ("snap_student_out", "is_snap_ineligible_student", "year", "head"),
    ("snap_gross_ratio", "snap_gross_income_fpg_ratio", "month", "household"),
    ("medicaid_level", "medicaid_income_level", "year", "head"),
    ("medicaid_people", "is_medicaid_eligible", "year", "household"),
    ("medicaid_category", "medicaid_category", "year", "head"),
    ("ffyp", "ca_ffyp_eligible", "year", "head"),
    ("tax_unit_size", "tax_unit_size", "year", "head"),
    ("tanf_eligible", "ca_tanf_eligible", "year", "household"),
    ("lifeline_income_ok", "is_lifeline_income_eligible", "year", "household"),
    ("care_income_ok", "ca_care_income_eligible", "year", "household"),
    ("aca_eligible", "is_aca_ptc_eligible", "year", "head"),
    ("eitc_eligible", "eitc_eligible", "year", "head"),
    ("ca_eitc_eligible", "ca_eitc_eligible", "year", "head"),
    ("ca_eitc_earned", "ca_eitc_earned_income", "year", "head"),
    ("aca_magi_fraction", "aca_magi_fraction", "year", "head"),
    ("aca_ptc", "aca_ptc", "year", "head"),
    ("aca_people", "is_aca_ptc_eligible", "year", "household"),
    ("chip", "is_chip_eligible", "year", "head"),
    ("medicaid_head", "is_medicaid_eligible", "year", "head"),
    ("wic_people", "is_wic_eligible", "month", "household"),
)


@dataclass(frozen=True)
class Case:
    """One household on one program: what our rules say, what the model says, and why."""

    index: int
    household: Household
    answers: Mapping[str, Any]
    facts: Mapping[str, Any]  # our rules' facts (answers plus computed values)
    model: Mapping[str, float]  # the model's DIAGNOSTICS for this household
    program: str
    ours: bool
    theirs: bool

    @property
    def agrees(self) -> bool:
        return self.ours == self.theirs


def match_ids(rules: Rules, answers: Mapping[str, Any], today: date) -> set[str]:
    """Programs our rules show, on `today` when the rules take a date (dated tables)."""
    if "on" in inspect.signature(rules.match).parameters:
        return {program.id for program in rules.match(answers, on=today)}
    return {program.id for program in rules.match(answers)}


def rule_facts(rules: Rules, answers: Mapping[str, Any], today: date) -> dict[str, Any]:
    if "on" in inspect.signature(rules.facts).parameters:
        return rules.facts(answers, on=today)
    return rules.facts(answers)


def compare_households(households: Sequence[Household], today: date,
                       estimator: Estimator | None = None,
                       rules: Rules | None = None) -> list[Case]:
    """Every household on every compared program, both sides, from one Simulation."""
    rules = rules or load_rules()
    estimator = estimator or Estimator()
    rows, simulation = estimator.simulate([h.people for h in households], today)
    model = _diagnostics(simulation, today, len(households))
    cases = []
    for index, (household, row) in enumerate(zip(households, rows, strict=True)):
        answers = household.answers()
        shown = match_ids(rules, answers, today)
        facts = rule_facts(rules, answers, today)
        for program in COMPARED:
            cases.append(Case(index, household, answers, facts, model[index], program,
                              program in shown, row[program].eligible))
    return cases


def _diagnostics(simulation: Any, today: date, count: int) -> list[dict[str, float]]:
    ids = list(simulation.populations["person"].ids)
    heads = [ids.index(f"h{index}_you") for index in range(count)]
    values: list[dict[str, float]] = [{} for _ in range(count)]
    for name, variable, period_kind, whose in DIAGNOSTICS:
        period = today.strftime("%Y-%m") if period_kind == "month" else str(today.year)
        if whose == "head":
            column = simulation.calculate(variable, period, map_to="person")
            picked = [column[row] for row in heads]
        elif whose == "others":
            column = simulation.calculate(variable, period, map_to="person")
            ages = simulation.calculate("age", str(today.year), map_to="person")
            picked = [0.0] * count
            for row, person_id in enumerate(ids):  # not `name`: that is the value's key
                index = int(person_id.split("_")[0][1:])
                if row != heads[index] and ages[row] >= 18 and not column[row]:
                    picked[index] += 1
        else:
            picked = list(simulation.calculate(variable, period, map_to="household"))
        for index, value in enumerate(picked):
            values[index][name] = value if isinstance(value, str) else float(value)
    return values


# Explaining differences ------------------------------------------------------------------------

Kind = Literal["by_design", "model", "follows", "rule_bug", "unexplained"]
KIND_TEXT: dict[Kind, str] = {
    "by_design": "modelled differently on purpose (our questions or a choice we made)",
    "model": "a limit of PolicyEngine-US 2.68 or of what its set-up tells it",
    "follows": "follows from a difference in another program",
    "rule_bug": "our rule is wrong or stale: fix it",
    "unexplained": "not explained yet: look at it",
}
# Kinds that mean the two sides do not model the same rule: left out of "same-rule" agreement.
DIFFERENT_RULE: frozenset[Kind] = frozenset({"by_design", "model", "follows"})
TAX_CREDITS = ("caleitc", "young_child_tax_credit", "federal_eitc", "foster_youth_tax_credit")
AID = ("care", "fera", "lifeline")


@dataclass(frozen=True)
class Reason:
    """Why one side shows a program and the other does not."""

    key: str
    kind: Kind
    text: str


@dataclass(frozen=True)
class _Check:
    reason: Reason
    programs: tuple[str, ...]
    side: Literal["ours", "theirs", "either"]  # who shows the program
    holds: Callable[[Case], bool]


def _housemates(case: Case) -> bool:
    return any(person.role == "adult" for person in case.household.people)


def _housemate_income(case: Case) -> bool:
    return any(p.role == "adult" and p.earnings + p.unemployment > 0
               for p in case.household.people)


def _ui_only(case: Case) -> bool:
    head = case.household.head
    return head.unemployment > 0 and head.earnings == 0


def _check(key: str, kind: Kind, text: str, programs: Sequence[str],
           side: Literal["ours", "theirs", "either"],
           holds: Callable[[Case], bool]) -> _Check:
    return _Check(Reason(key, kind, text), tuple(programs), side, holds)


def _exempt_not_told(case: Case) -> bool:
    return case.answers.get("student_exempt") is True and case.model.get("snap_student_out") == 1


def _ffyp(case: Case, at_18: bool | None) -> bool:
    """The model gives the resident Former Foster Youth Medi-Cal; we were told `at_18`."""
    return (case.household.head.foster and case.model.get("ffyp") == 1
            and case.household.foster_at_18 is at_18)


def _others_under_19(case: Case) -> bool:
    """An 18-year-old resident whose other adults are under 19 too (Medi-Cal as children)."""
    adults = [p for p in case.household.people if p.role in ("spouse", "adult")]
    return case.household.head.age < 19 and bool(adults) and all(p.age < 19 for p in adults)


def _guideline_year_straddles(case: Case, percent: float) -> bool:
    """The home is on different sides of `percent` of the 2025 and the 2026 guideline."""
    old, new = case.facts.get("fpl_pct_2025"), case.facts.get("fpl_pct_2026")
    return (isinstance(old, int | float) and isinstance(new, int | float)
            and (old > percent) != (new > percent))


def _medi_cal_differs(case: Case) -> bool:
    return bool(case.model.get("medicaid_head")) != (case.facts.get("may_get_medi_cal") is True)


def _no_spouse(case: Case) -> bool:
    people = case.household.people
    return len(people) >= 2 and not any(p.role == "spouse" for p in people)


def _everyone_on_medi_cal_in_model(case: Case) -> bool:
    covered = case.model.get("medicaid_people", 0) + (not case.model.get("medicaid_head")
                                                      and case.model.get("chip", 0))
    return (case.facts.get("others_may_need_coverage") is True
            and covered >= len(case.household.people))


# First match wins: specific reasons before broad ones.
CHECKS: tuple[_Check, ...] = (
    _check("snap_abawd", "by_design",
           "PolicyEngine applies the federal ABAWD work rule (H.R. 1) at once to adults 18-64 "
           "without a child under 14 who work under 20 hours a week; in life the first 3 months "
           "in 36 are free, so we show CalFresh with the rule as a caution",
           ["calfresh"], "ours",
           lambda c: c.model.get("snap_abawd_ok") == 0 or c.model.get("snap_work_ok") == 0),
    _check("snap_abawd_other", "by_design",
           "PolicyEngine drops another adult at home who does not work for the work rules "
           "(ABAWD, work registration) but keeps their income, so the smaller household fails "
           "the limit",
           ["calfresh"], "ours", lambda c: bool(c.model.get("snap_abawd_others_out"))),
    _check("snap_zero_benefit", "by_design",
           "3+ people whose benefit works out to $0 after deductions: California denies them; "
           "our rule tests gross income only and the county computes the rest",
           ["calfresh"], "ours", lambda c: c.model.get("snap_allotment_ok") == 0),
    _check("snap_exemption_not_told", "model",
           "the student said yes to a CalFresh exemption (EOP/EOPS, Cal Grant A or B, "
           "work-study, CalWORKs, WIOA); the model's set-up (worker/estimates.py) has no input "
           "for it, so the model leaves the student out",
           ["calfresh"], "ours", _exempt_not_told),
    _check("snap_student_income", "by_design",
           "a student without an exemption is left out and so is the student's own income "
           "(7 CFR 273.11(d)); we ask one income for the home, not each person's, so a home "
           "whose income is mostly the student's is over our limit",
           ["calfresh"], "theirs",
           lambda c: c.model.get("snap_student_out") == 1
           and c.answers.get("household_size", 1) >= 2
           and c.facts.get("calfresh_income_ok") is False),
    _check("snap_student_household", "rule_bug",
           "student rule: our rule drops the whole household when the resident is a student "
           "without an exemption; only the student is left out, the others may still get "
           "CalFresh (7 CFR 273.5, 273.11(d))",
           ["calfresh"], "theirs", lambda c: c.model.get("snap_student_out") == 1),
    _check("snap_foster_student", "rule_bug",
           "student rule: our rule exempts every former foster youth; having been in foster "
           "care is not an exemption by itself (a foster youth program such as NextUp is part of "
           "EOPS, which the exemption question names)",
           ["calfresh"], "ours",
           lambda c: c.model.get("snap_student_out") == 1 and c.household.head.foster),
    _check("calworks_year_limit", "model",
           "PolicyEngine tests CalWORKs for the whole year against January's limits (July 2025 "
           "table); our rule uses the July 2026 table",
           ["calworks"], "ours", lambda c: not c.household.head.unemployment),
    _check("ffyp_not_at_18", "model",
           "PolicyEngine gives Former Foster Youth Medi-Cal to anyone who was in foster care (it "
           "assumes care on the 18th birthday); the resident said they were not in care on their "
           "18th birthday, which the program needs",
           ["medi_cal", "covered_california", "wic", *AID], "either",
           lambda c: _ffyp(c, False)),
    _check("ffyp_skipped", "by_design",
           "the resident skipped the 18th-birthday question: we show the medi_cal_foster_youth "
           "entry (Medi-Cal \"if you were in foster care on your 18th birthday\"), not compared "
           "here, and keep Covered California; the model assumes care at 18",
           ["medi_cal", "covered_california", "wic", *AID], "either",
           lambda c: _ffyp(c, None)),
    _check("wic_foster_adjunct", "rule_bug",
           "our WIC rule counts the parent's former-foster-youth Medi-Cal as automatic WIC "
           "eligibility; only the child's (or a pregnant member's) Medi-Cal counts",
           ["wic"], "ours",
           lambda c: c.household.head.foster and not c.household.head.pregnant),
    _check("wic_chip_pregnancy", "model",
           "PolicyEngine counts the CHIP-funded pregnancy coverage (in California the Medi-Cal "
           "Access Program, over 213%) as automatic WIC eligibility; the WIC rule names Medicaid "
           "(7 CFR 246.7(d)(2)(vi)), so we use the WIC income limit",
           ["wic"], "theirs", lambda c: c.model.get("chip") == 1 and c.household.head.pregnant),
    _check("wic_follows_medi_cal", "follows",
           "WIC is automatic with Medi-Cal, and the two sides differ on the resident's Medi-Cal "
           "(a difference explained above)",
           ["wic"], "either", _medi_cal_differs),
    _check("eitc_spouse_age", "by_design",
           "EITC without children: a married couple qualifies when either spouse is 25-64; we "
           "ask neither a partner's age nor whether they are married, so the rule goes by the "
           "resident's age (young partners are mostly near the resident's age; flows/programs.md)",
           ["federal_eitc"], "theirs",
           lambda c: any(p.role == "spouse" and 25 <= p.age <= 64
                         for p in c.household.people)),
    _check("eitc_age_on_31_december", "by_design",
           "without children the age counts on 31 December of the tax year: we show the EITC "
           "from 24 with a caution (\"you must be 25 by 31 December\"); the model takes the "
           "age as given",
           ["federal_eitc"], "ours",
           lambda c: not c.household.children and c.household.head.age == 24),
    _check("unemployment_not_counted", "model",
           "the income is unemployment pay, which the model leaves out of this income test "
           "(in life it counts)",
           ["calfresh", "calworks", "wic", "care", "lifeline"], "theirs",
           lambda c: c.household.head.unemployment > 0),
    _check("ffyp_at_18", "model",
           "PolicyEngine starts Former Foster Youth Medi-Cal after age 18 (age > 18); at 18 "
           "the youth is usually still in foster care",
           ["medi_cal"], "ours",
           lambda c: c.household.head.foster and c.household.head.age == 18),
    _check("fytc_no_earnings", "model",
           "PolicyEngine gives the Foster Youth Tax Credit without pay from work; the credit "
           "needs CalEITC, which needs earnings",
           ["foster_youth_tax_credit"], "theirs",
           lambda c: c.household.head.earnings == 0),
    _check("ui_as_earnings", "by_design",
           "the income is unemployment pay: we ask the home's monthly income, not its kind, and "
           "a resident who lost a job usually had pay from work earlier in the tax year, so we "
           "show the tax credits with a caution (\"you need pay from work this year\"); the "
           "model sees no earnings",
           TAX_CREDITS, "ours", _ui_only),
    _check("aca_coverage_year", "model",
           "open enrollment since 1 November is for 2027 coverage, which uses the 2026 "
           "guideline; the model computes 2026 coverage with the 2025 guideline, and the home "
           "is on different sides of 400% (or 100%) of the two",
           ["covered_california"], "either",
           lambda c: _guideline_year_straddles(c, 400) or _guideline_year_straddles(c, 100)),
    _check("eitc_married_limit", "by_design",
           "our EITC tables take the highest limit a household of that size could mean (married "
           "filing jointly; we do not ask who is a spouse), to err toward showing",
           ["federal_eitc"], "ours", _no_spouse),
    _check("tax_household", "by_design",
           "housemates: Medi-Cal, Covered California and tax credits use the resident's own "
           "tax household (own income, own size); our question asks about everyone who buys "
           "and cooks food together",
           ("medi_cal", "covered_california", *TAX_CREDITS), "either", _housemates),
    _check("partner_under_19", "by_design",
           "an 18-year-old with a partner under 19: both get Medi-Cal as children (under 19), "
           "so nobody needs a plan; we do not ask the partner's age and show Covered California "
           "for the others at home when the income is over the adults' Medi-Cal limit",
           ["covered_california"], "ours", _others_under_19),
    _check("santa_clara_cchip", "rule_bug",
           "a resident under 19 between 266% and 322%: the model gives CHIP (Santa Clara County's "
           "children's health program covers under-19s to 322%), so no premium help; our rules "
           "have no entry for it and show Covered California: a program to add",
           ["covered_california"], "ours",
           lambda c: c.household.head.age < 19 and c.model.get("chip") == 1
           and not c.household.head.pregnant),
    _check("others_on_medi_cal", "by_design",
           "we show Covered California for the others at home when the resident (or the "
           "pregnant person) gets Medi-Cal and the income is over the adults' limit; we do not "
           "ask who the others are, and the model finds them all covered (children on Medi-Cal "
           "to 266%, the pregnant person on MCAP, or a partner whose household counts the "
           "unborn baby, which California may do)",
           ["covered_california"], "ours", _everyone_on_medi_cal_in_model),
    _check("covered_ca_partner", "rule_bug",
           "our rule hides Covered California for the whole home when the resident may get "
           "Medi-Cal; the partner still needs it",
           ["covered_california"], "theirs",
           lambda c: c.facts.get("may_get_medi_cal") is True),
    _check("aca_zero_credit", "by_design",
           "no credit because the benchmark plan costs less than the share of income the "
           "household must pay (young adults' premiums are low); we show Covered California on "
           "income alone",
           ["covered_california"], "ours",
           lambda c: c.model.get("aca_eligible") == 1 or c.model.get("aca_people", 0) >= 1),
    _check("federal_lifeline", "by_design",
           "PolicyEngine models federal Lifeline (135% of the guideline); California LifeLine "
           "has its own, higher limit, which we use",
           ["lifeline"], "ours", lambda c: c.model.get("lifeline_income_ok") == 0),
    _check("aid_member", "follows",
           "one side finds someone at home eligible for CalFresh or Medi-Cal and the other does "
           "not (a difference explained above); that alone qualifies the home for CARE and "
           "LifeLine, and a home that qualifies for CARE gets CARE, not FERA",
           AID, "either",
           lambda c: bool(c.model.get("snap_eligible") or c.model.get("medicaid_people"))
           != (c.facts.get("household_may_get_aid") is True)),
    _check("housemate_income", "by_design",
           "housemates with their own income: the model splits the home into units; our "
           "questions ask one income for everyone",
           COMPARED, "either", _housemate_income),
)
UNEXPLAINED = Reason("unexplained", "unexplained", "not explained yet")


def classify(case: Case) -> Reason | None:
    """Why the two sides differ on this case; None when they agree."""
    if case.agrees:
        return None
    side = "ours" if case.ours else "theirs"
    for check in CHECKS:
        if case.program in check.programs and check.side in (side, "either") \
                and check.holds(case):
            return check.reason
    return UNEXPLAINED


# The report ------------------------------------------------------------------------------------

EXAMPLES_PER_REASON = 5


@dataclass(frozen=True)
class Report:
    """Every case of one run, with what the run was."""

    seed: int
    count: int
    today: date
    cases: tuple[Case, ...]

    def for_program(self, program: str) -> list[Case]:
        return [case for case in self.cases if case.program == program]


def run_agreement(count: int, seed: int, today: date, estimator: Estimator | None = None,
                  rules: Rules | None = None) -> Report:
    """Draw the households, run both sides on them, keep every case."""
    households = draw_households(count, seed)
    return Report(seed, count, today,
                  tuple(compare_households(households, today, estimator, rules)))


def program_row(cases: Sequence[Case]) -> dict[str, Any]:
    """Counts for one program: both sides, agreement, and agreement where the rules match."""
    reasons = Counter(reason for case in cases if (reason := classify(case)))
    different = sum(n for reason, n in reasons.items() if reason.kind in DIFFERENT_RULE)
    agree = sum(case.agrees for case in cases)
    same_rule = len(cases) - different
    return {
        "households": len(cases), "ours": sum(c.ours for c in cases),
        "model": sum(c.theirs for c in cases), "agree": agree,
        "agreement": agree / len(cases) if cases else 1.0,
        "same_rule": agree / same_rule if same_rule else 1.0, "reasons": reasons,
    }


def describe(household: Household) -> str:
    """A household in one line, for staff: who lives there and what they earn."""
    parts = []
    for person in household.people:
        text = f"{person.role} {person.age}"
        if person.earnings:
            text += f" pay ${person.earnings / 12:,.0f}/mo"
        if person.unemployment:
            text += f" UI ${person.unemployment / 12:,.0f}/mo"
        flags = [name for name, on in (("student", person.student),
                                        ("pregnant", person.pregnant),
                                        ("foster", person.foster)) if on]
        parts.append(text + (f" ({', '.join(flags)})" if flags else ""))
    return "; ".join(parts)


def render(report: Report) -> str:
    """The table and every reason, as Markdown (read in a terminal as well)."""
    lines = [
        f"{report.count} households, seed {report.seed}, rules and model on "
        f"{report.today.isoformat()}.",
        "",
        "| Program | we show | model shows | agree | agreement | same-rule agreement |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = {program: program_row(report.for_program(program)) for program in COMPARED}
    for program, row in rows.items():
        lines.append(f"| {program} | {row['ours']} | {row['model']} | {row['agree']} | "
                     f"{row['agreement']:.1%} | {row['same_rule']:.1%} |")
    lines += ["", "Same-rule agreement leaves out differences where the two sides model a "
              "different rule on purpose, where the model is known to fall short, or that "
              "follow from another program's difference.", ""]
    for kind, kind_text in KIND_TEXT.items():
        entries = [(program, reason, n) for program, row in rows.items()
                   for reason, n in row["reasons"].most_common() if reason.kind == kind]
        if not entries:
            continue
        lines += [f"### {kind_text}", ""]
        for program, reason, n in entries:
            lines.append(f"- **{program}**, {n}: {reason.text} (`{reason.key}`)")
        lines.append("")
    lines += _examples(report)
    return "\n".join(lines).rstrip() + "\n"


def _examples(report: Report) -> list[str]:
    """The households behind each rule bug and each unexplained difference, for the fixers."""
    lines: list[str] = []
    shown: Counter[tuple[str, str]] = Counter()
    for case in report.cases:
        reason = classify(case)
        if reason is None or reason.kind not in ("rule_bug", "unexplained"):
            continue
        key = (case.program, reason.key)
        shown[key] += 1
        if shown[key] > EXAMPLES_PER_REASON:
            continue
        if not lines:
            lines = ["### Households behind rule bugs and unexplained differences", ""]
        answer = "we show it, the model does not" if case.ours else \
            "the model shows it, we do not"
        lines.append(f"- {case.program} `{reason.key}`, household {case.index}: {answer}. "
                     f"{describe(case.household)}; answers income "
                     f"${case.answers['monthly_income']:,}/mo, household of "
                     f"{case.answers['household_size']}.")
    return lines + ([""] if lines else [])


def san_jose_today() -> date:
    """Today in San José: the date the rules and the model are asked about by default."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("America/Los_Angeles")).date()


def agreement_page(report_text: str, args: Any) -> str:
    """docs/agreement.md: the command, how the households are drawn, and the report."""
    command = (f"screener agreement --households {args.households} --seed {args.seed}"
               + (f" --date {args.date}" if args.date else "")
               + (f" --write {args.write}" if args.write else ""))
    return "\n".join([
        "# Our rules against PolicyEngine-US",
        "",
        f"Produced by `{command}` (worker/agreement.py); do not edit by hand, re-run it.",
        "",
        "**How.** The command draws random San José households of young adults (18-24 mostly,",
        "some 25-30): single, couples, single parents and couples with 1-3 children of ages the",
        "parent could have, and homes with 1-3 housemates who share food. Some are pregnant,",
        "students, former foster youth; incomes are 0 (15%), within 5% of a program limit",
        "(55%) or anywhere up to 5 times the poverty line; pay is split between the adults who",
        "work; a lost job brings unemployment pay; most pay rent. Each household is turned into",
        "the answers the text line would collect and into PolicyEngine-US people (the head, a",
        "spouse, children as dependents, housemates filing their own taxes), and both sides are",
        "asked about the same date in one Simulation. The same seed gives the same households.",
        "Where the flow asks them, students answer the CalFresh exemption question (yes 30%,",
        "no 60%, skip 10%) and former foster youth 18+ say whether they were in foster care on",
        "their 18th birthday (yes 50%, no 40%, skip 10%); the model is told neither (see the",
        "reasons `snap_exemption_not_told`, `ffyp_not_at_18` and `ffyp_skipped`).",
        "",
        "**Reading it.** *Agreement* counts every household. *Same-rule agreement* leaves out",
        "differences where the two sides model a different rule on purpose, where the model",
        "falls short, or that follow from another program's difference; the target is 97% or",
        "more. Each difference has one reason (the first that fits, `worker/agreement.CHECKS`).",
        "",
        report_text,
    ])
