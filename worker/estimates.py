"""Dollar estimates, computed with PolicyEngine-US, for the programs our rules show.

Why this shape (docs/estimates.md): importing the model takes ~30 s and ~0.8 GB, and one
`Simulation` costs about a second whatever the number of households in it. So a worker process
loads the model once (`get_estimator()` at start-up, before RQ forks) and computes every
household waiting in the queue in one simulation (`estimate_batch`). This module is pure
computation: no Redis, no messages. The household assumptions are in docs/estimates.md.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TypeVar

from bot.places import in_home_county
from bot.rules import san_jose_date

log = logging.getLogger(__name__)

COUNTY = "SANTA_CLARA_COUNTY_CA"  # without it the model silently uses Alameda County
STATE = "CA"
# One Simulation costs about the same for 1 or 200 households (docs/estimates.md); bigger batches
# are split so memory and the wait for the first follow-up stay bounded.
BATCH_LIMIT = 200
GROUPS = ("tax_units", "spm_units", "families", "marital_units", "households")

# Assumed household facts we do not ask about (docs/estimates.md says where each comes from).
HOURS_20_PLUS = 25  # weekly hours for "I work 20+ hours a week"
HOURS_UNDER_20 = 10  # weekly hours for anyone else with pay from work
CHILD_AGE_STEP = 2  # years between children after the youngest
PHONE_MONTHLY = 50  # one phone line; LifeLine pays at most $19 a month of it
ELECTRICITY_MONTHLY = 145  # California average residential bill (EIA 2023 data)
GAS_MONTHLY = 75  # PG&E average residential gas bill (September 2024)
# The warm-up's throwaway households, one per branch of the model a batch usually takes: a
# single worker paying rent, a young parent, a student, a couple above Medi-Cal's limit. With
# only the first, a job's first batch of 100 rebuilt the others' parameter tables in every
# fork (1.72 s against 1.34 s, and 1.22x its second batch); with all four, ~2 s more
# warm-up once.
WARM_UP: tuple[Mapping[str, Any], ...] = (
    {"age": 20, "household_size": 1, "monthly_income": 1200, "works_20h": True,
     "monthly_rent": 900},
    {"age": 22, "household_size": 2, "youngest_child_age": 2, "monthly_income": 2000,
     "works_20h": True},
    {"age": 19, "household_size": 1, "monthly_income": 600, "student": True},
    {"age": 24, "household_size": 2, "monthly_income": 4500, "works_20h": True},
)

T = TypeVar("T")
Period = Literal["month", "year"]
Basis = Literal["at_least", "typical_bill"]
Kind = Literal["shown_not_eligible", "eligible_not_shown"]
SHOWN_NOT_ELIGIBLE: Kind = "shown_not_eligible"
ELIGIBLE_NOT_SHOWN: Kind = "eligible_not_shown"


@dataclass(frozen=True)
class Spec:
    """How one of our programs is read from the model."""

    program: str
    eligible: str | None  # model flag; None: eligible means a positive amount
    amounts: tuple[str, ...]  # model variables summed into the value; () for coverage
    model_period: Period  # the period the model defines those variables for
    period: Period  # the period the resident is told
    basis: Basis | None = None
    resident_only: bool = False  # the resident's own eligibility, as our rule asks
    # Tax credits are the resident's own return, not a housemate's who files separately.
    resident_tax_unit: bool = False


SPECS = (
    # Utilities are never counted and rent only when given: the shelter deduction errs low,
    # so the CalFresh amount is a floor.
    Spec("calfresh", "is_snap_eligible", ("snap",), "month", "month", "at_least"),
    Spec("medi_cal", "is_medicaid_eligible", (), "year", "year", resident_only=True),
    Spec("wic", "is_wic_eligible", ("wic",), "month", "month"),
    Spec("calworks", "ca_tanf_eligible", ("ca_tanf",), "year", "month"),
    Spec("caleitc", None, ("ca_eitc",), "year", "year", resident_tax_unit=True),
    Spec("young_child_tax_credit", None, ("ca_yctc",), "year", "year", resident_tax_unit=True),
    Spec("federal_eitc", None, ("eitc",), "year", "year", resident_tax_unit=True),
    Spec("foster_youth_tax_credit", None, ("ca_foster_youth_tax_credit",), "year", "year",
         resident_tax_unit=True),
    Spec("covered_california", None, ("aca_ptc", "ca_premium_subsidy"), "year", "year",
         resident_tax_unit=True),
    Spec("care", "ca_care_eligible", ("ca_care",), "year", "month", "typical_bill"),
    Spec("fera", "ca_fera_eligible", ("ca_fera",), "year", "month", "typical_bill"),
    Spec("lifeline", "is_lifeline_eligible", ("lifeline",), "year", "month", "typical_bill"),
)
PROGRAMS = tuple(spec.program for spec in SPECS)


@dataclass(frozen=True)
class Estimate:
    """The model's answer for one program: eligibility and a rounded value for `period`."""

    program: str
    eligible: bool
    amount: int | None  # dollars per `period`; None for coverage or when not eligible
    period: Period
    basis: Basis | None = None  # at_least: a floor; typical_bill: for an average bill


@dataclass(frozen=True)
class Disagreement:
    """The model and our rules differ on a program: staff count these per program."""

    program: str
    kind: Kind


@dataclass(frozen=True)
class Estimates:
    """One household's estimates, already compared with the programs our rules show."""

    modelled: Mapping[str, Estimate]  # every program the model covers, for staff and tests
    agreed: tuple[Estimate, ...]  # shown by our rules and eligible in the model, in shown order
    disagreements: tuple[Disagreement, ...]
    skipped: str | None = None  # why nothing was computed (outside_county, invalid_answers)

    @property
    def amounts(self) -> tuple[Estimate, ...]:
        """What a follow-up may state: agreed programs that have a dollar value."""
        return tuple(estimate for estimate in self.agreed if estimate.amount is not None)


@dataclass(frozen=True)
class Item:
    """One household waiting in the queue: an id for the caller, answers, programs shown."""

    id: str
    answers: Mapping[str, Any]
    matched: Sequence[str]


# Building the situation ---------------------------------------------------------------------

Role = Literal["head", "spouse", "child", "adult"]


@dataclass(frozen=True)
class Person:
    """One member of a household as the model sees it.

    The head files taxes with a spouse and the children as dependents; any other adult (a
    sibling or roommate who shares food) files alone but shares the CalFresh household, as
    they would in life. Entering those adults as dependents gave the head extra "children"
    and a bigger tax household, which skewed the EITC and the Medi-Cal poverty line.
    """

    suffix: str
    age: int
    role: Role
    earnings: float = 0.0  # yearly pay from work
    unemployment: float = 0.0  # yearly unemployment pay
    weekly_hours: float = 0.0
    student: bool = False  # at least half-time in college or job training
    pregnant: bool = False
    foster: bool = False  # was in foster care
    rent: float = 0.0  # yearly rent the household pays (given on the head)

    @property
    def dependent(self) -> bool:
        return self.role == "child"

    @property
    def files_with_head(self) -> bool:
        return self.role != "adult"


def households(answers_list: Sequence[Mapping[str, Any]], today: date) -> dict[str, Any]:
    """One situation holding every household (unique names), so one Simulation does them all."""
    return situation([people_from_answers(answers) for answers in answers_list], today)


def situation(people_lists: Sequence[Sequence[Person]], today: date) -> dict[str, Any]:
    """The model's situation for households given person by person (h0, h1, ... in order)."""
    result: dict[str, Any] = {"people": {}, **{group: {} for group in GROUPS}}
    year = str(today.year)
    for index, people in enumerate(people_lists):
        _add_household(result, f"h{index}", people, year)
    return result


def _add_household(situation: dict[str, Any], prefix: str, people: Sequence[Person],
                   year: str) -> None:
    names = [f"{prefix}_{person.suffix}" for person in people]
    for name, person in zip(names, people, strict=True):
        situation["people"][name] = _person_values(person, year)
    filers = [name for name, p in zip(names, people, strict=True) if p.files_with_head]
    couple = [name for name, p in zip(names, people, strict=True) if p.role in ("head", "spouse")]
    situation["tax_units"][f"{prefix}_tax"] = {"members": filers}
    situation["marital_units"][f"{prefix}_marital"] = {"members": couple}
    for name, person in zip(names, people, strict=True):
        if person.role == "adult":
            situation["tax_units"][f"{name}_tax"] = {"members": [name]}
        if person.role not in ("head", "spouse"):
            situation["marital_units"][f"{name}_marital"] = {"members": [name]}
    situation["spm_units"][f"{prefix}_spm"] = {"members": names, **_costs(year)}
    situation["families"][f"{prefix}_family"] = {"members": names}
    situation["households"][f"{prefix}_household"] = {
        "members": names, "state_code": {year: STATE}, "county": {year: COUNTY},
    }


def people_from_answers(answers: Mapping[str, Any]) -> list[Person]:
    """The resident (head), then a partner, children or other adults up to the household size.

    With a child: household of 2 is a single parent; 3 or more adds a partner (fewer children
    means smaller tax credits: we err low). Without a child: a partner, then adults who file
    their own taxes. All the income is the resident's pay from work.
    """
    age = _whole(answers.get("age"), "age")
    size = _whole(answers.get("household_size") or 1, "household_size")
    youngest = answers.get("youngest_child_age")
    income = max(_money(answers.get("monthly_income")), 0.0)
    people = [Person(
        "you", age, "head", earnings=income * 12,
        weekly_hours=_hours(answers.get("works_20h"), income),
        student=answers.get("student") is True, pregnant=answers.get("pregnant") is True,
        foster=answers.get("foster_youth") is True,
        rent=max(_money(answers.get("monthly_rent")), 0.0) * 12,
    )]
    if youngest is None:
        if size >= 2:
            people.append(Person("partner", age, "spouse"))
        people += [Person(f"adult{k}", age, "adult") for k in range(1, size - 1)]
        return people
    if size >= 3:
        people.append(Person("partner", age, "spouse"))
    count = max(1, size - len(people))
    youngest = _whole(youngest, "youngest_child_age")
    people += [Person(f"child{k}", min(youngest + k * CHILD_AGE_STEP, 18), "child")
               for k in range(count)]
    return people


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"answer {name!r} must be a number >= 0, not {value!r}")
    return int(value)


def _person_values(person: Person, year: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "age": person.age, "is_tax_unit_dependent": person.dependent,
        "employment_income": person.earnings,
        "weekly_hours_worked": person.weekly_hours,
        "is_full_time_college_student": person.student,
        "is_pregnant": person.pregnant,
        "was_in_foster_care": person.foster,
    }
    if person.unemployment:
        values["unemployment_compensation"] = person.unemployment
    if person.rent:
        values["rent"] = person.rent
    return {name: {year: value} for name, value in values.items()}


def _money(value: Any) -> float:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if is_number else 0.0


def _hours(works_20h: Any, monthly_income: float) -> int:
    if works_20h is True:
        return HOURS_20_PLUS
    return HOURS_UNDER_20 if monthly_income > 0 else 0


def _costs(year: str) -> dict[str, Any]:
    """Typical phone and energy bills, so LifeLine, CARE and FERA have a value (not $0)."""
    yearly = {
        "phone_cost": PHONE_MONTHLY * 12,
        "pre_subsidy_electricity_expense": ELECTRICITY_MONTHLY * 12,
        "gas_expense": GAS_MONTHLY * 12,
        # Utilities are not asked: CalFresh counts no utility allowance (the bills above would
        # otherwise earn one), so its estimate stays a floor.
        "has_heating_cooling_expense": False,
        "snap_utility_allowance_type": "NONE",
    }
    return {name: {year: value} for name, value in yearly.items()}


# Computing ----------------------------------------------------------------------------------


class Estimator:
    """Holds the loaded model; load and warm once per process, then estimate many times."""

    def __init__(self) -> None:
        self._simulation: Any = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None
        self.warm_up_seconds: float | None = None
        self.warm_month: tuple[int, int] | None = None  # (year, month) the warm-up computed

    def load(self) -> None:
        """Import the model (~40 s, ~0.8 GB): once per process, never per job."""
        with self._lock:
            if self._simulation is not None:
                return
            started = time.perf_counter()
            self._simulation = _import_simulation()
            self.load_seconds = time.perf_counter() - started

    def warm_up(self, today: date | None = None) -> None:
        """Load, fill the model's lazy caches with throwaway households, then freeze the heap.

        The first calculation for a month builds that month's (and year's) parameter tables:
        ~10 s at start, and again, in every job, for a year the warm-up did not see. A forked
        job throws away what it built, so the parent builds it (`keep_warm`). `gc.freeze()`
        keeps the collector off the ~1 GB of model objects: no multi-second GC pauses, and
        forked RQ children keep sharing those pages copy-on-write.
        """
        self.load()
        today = today or san_jose_date()
        started = time.perf_counter()
        self.estimate(WARM_UP, [[]] * len(WARM_UP), today)
        self.warm_up_seconds = time.perf_counter() - started
        self.warm_month = (today.year, today.month)
        gc.collect()
        gc.freeze()

    def keep_warm(self, today: date) -> bool:
        """Warm up again when San José's month has turned since the last warm-up (call it in
        the parent, before forking a job); whether it did."""
        if self.warm_month == (today.year, today.month):
            return False
        self.warm_up(today)
        return True

    def estimate(self, answers_list: Sequence[Mapping[str, Any]],
                 matched_list: Sequence[Iterable[str]],
                 today: date | None = None) -> list[Estimates]:
        """Estimates for many households, computed together in one Simulation."""
        if len(answers_list) != len(matched_list):
            raise ValueError("give one list of matched programs per household")
        today = today or san_jose_date()
        skipped = [_skip_reason(answers) for answers in answers_list]
        todo = [index for index, skip in enumerate(skipped) if skip is None]
        computed = self._model([answers_list[index] for index in todo], today) if todo else []
        modelled = dict(zip(todo, computed, strict=True))
        return [skip or compare(modelled[index], list(matched_list[index]), answers_list[index])
                for index, skip in enumerate(skipped)]

    def _model(self, answers_list: Sequence[Mapping[str, Any]],
               today: date) -> list[dict[str, Estimate]]:
        """The model's answer for every program, for each household, from one Simulation."""
        people_lists = [people_from_answers(answers) for answers in answers_list]
        return self.simulate(people_lists, today)[0]

    def simulate(self, people_lists: Sequence[Sequence[Person]],
                 today: date) -> tuple[list[dict[str, Estimate]], Any]:
        """Every program for households given person by person, and the Simulation itself
        (so a caller such as `screener agreement` can read more variables from the same run)."""
        self.load()
        return in_one_stack_chunk(lambda: self._simulate(people_lists, today))

    def _simulate(self, people_lists: Sequence[Sequence[Person]],
                  today: date) -> tuple[list[dict[str, Estimate]], Any]:
        simulation = self._simulation(situation=situation(people_lists, today))
        count = len(people_lists)
        residents = _resident_rows(simulation, count)
        columns = {spec.program: _column(simulation, spec, today, count, residents)
                   for spec in SPECS}
        rows = [{program: column[row] for program, column in columns.items()}
                for row in range(count)]
        return rows, simulation


def in_one_stack_chunk(call: Callable[[], T]) -> T:
    """`call()`, with every frame it makes in one chunk of the interpreter's frame stack.

    CPython 3.11 keeps frames in 16 KB chunks and unmaps a chunk as soon as the frame at its
    base returns, so a deep recursion that keeps crossing a chunk boundary maps and unmaps
    memory each time (gh-142183; fixed in 3.13 and 3.14, not 3.11). The model's recursion
    crossed ~35,000 times a batch of 100: 3-10% of its time, by the depth it started at,
    went to mmap, munmap and page faults. This frame declares STACK_RESERVE more stack slots
    than it uses, so the interpreter gives it a 1 MB chunk of its own, and the frames `call`
    makes (at most the recursion limit, 1,000, of a few hundred bytes each) fit in the
    0.5 MB it leaves free.
    """
    return call()


STACK_RESERVE = 65_536  # slots of 8 bytes: 512 KB, so the chunk rounds up to 1 MB
in_one_stack_chunk.__code__ = in_one_stack_chunk.__code__.replace(
    co_stacksize=in_one_stack_chunk.__code__.co_stacksize + STACK_RESERVE)


def _import_simulation() -> Any:
    if "numpy" in sys.modules and "OPENBLAS_NUM_THREADS" not in os.environ:
        log.warning("numpy was imported before the model: OPENBLAS_NUM_THREADS=1 comes too late")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread per worker process
    from policyengine_us import Simulation

    return Simulation


def _skip_reason(answers: Mapping[str, Any]) -> Estimates | None:
    """A result without computing, for answers the model cannot estimate; None otherwise."""
    if in_home_county(_zip(answers.get("zip"))) is False:
        return _skipped("outside_county")  # the model is set up for Santa Clara County only
    try:
        people_from_answers(answers)
    except ValueError:
        return _skipped("invalid_answers")
    return None


def _skipped(reason: str) -> Estimates:
    return Estimates(modelled={}, agreed=(), disagreements=(), skipped=reason)


def _zip(value: Any) -> str | None:
    return None if value is None else str(value)


def _resident_rows(simulation: Any, count: int) -> list[int]:
    """Each household's resident in the person arrays (people are listed in that order)."""
    rows = {name: row for row, name in enumerate(simulation.populations["person"].ids)}
    return [rows[f"h{index}_you"] for index in range(count)]


def _column(simulation: Any, spec: Spec, today: date, count: int,
            residents: list[int]) -> list[Estimate]:
    period = today.strftime("%Y-%m") if spec.model_period == "month" else str(today.year)
    values = [0.0] * count
    for variable in spec.amounts:
        if spec.resident_tax_unit:
            column = simulation.calculate(variable, period, map_to="person")
            amounts = [column[row] for row in residents]
        else:
            amounts = _per_household(simulation, variable, period)
        values = [a + float(b) for a, b in zip(values, amounts, strict=True)]
    flags = [True] * count
    if spec.eligible and spec.resident_only:
        people = simulation.calculate(spec.eligible, period)
        flags = [bool(people[row]) for row in residents]
    elif spec.eligible:
        flags = [bool(flag) for flag in _per_household(simulation, spec.eligible, period)]
    return [_estimate(spec, flag, value) for flag, value in zip(flags, values, strict=True)]


def _per_household(simulation: Any, variable: str, period: str) -> Any:
    """Summed over each household's members or units: household i is row i."""
    return simulation.calculate(variable, period, map_to="household")


def _estimate(spec: Spec, flag: bool, value: float) -> Estimate:
    """Eligible means the flag and, for a cash program, something to get."""
    eligible = flag and (value > 0 or not spec.amounts)
    amount = _rounded(value, spec) if eligible and spec.amounts else None
    return Estimate(spec.program, eligible, amount, spec.period,
                    spec.basis if amount is not None else None)


def _rounded(value: float, spec: Spec) -> int:
    """$1 a month, $10 a year: an estimate should not look more precise than it is."""
    if spec.period == "month":
        monthly = value / 12 if spec.model_period == "year" else value
        return max(1, round(monthly))
    return max(10, int(round(value, -1)))


# Comparing with our rules -------------------------------------------------------------------


def compare(modelled: Mapping[str, Estimate], matched: Sequence[str],
            answers: Mapping[str, Any]) -> Estimates:
    """Keep what both agree on; note every program where the model and our rules differ."""
    agreed = tuple(modelled[program] for program in matched
                   if program in modelled and modelled[program].eligible)
    disagreements = [Disagreement(program, SHOWN_NOT_ELIGIBLE) for program in matched
                     if program in modelled and not modelled[program].eligible]
    unknowable = _not_modelled_facts(answers)
    disagreements += [Disagreement(program, ELIGIBLE_NOT_SHOWN)
                      for program, estimate in modelled.items()
                      if estimate.eligible and program not in matched
                      and program not in unknowable]
    return Estimates(dict(modelled), agreed, tuple(disagreements))


def _not_modelled_facts(answers: Mapping[str, Any]) -> set[str]:
    """Programs our rules hide for a fact the model is not told, so hiding them is no drift."""
    return {"covered_california"} if answers.get("has_health_insurance") is True else set()


# One model per process, batches from the queue ----------------------------------------------

_estimator: Estimator | None = None
_estimator_lock = threading.Lock()


def get_estimator() -> Estimator:
    """The process-wide warm Estimator: call at worker start-up, before RQ forks children."""
    global _estimator
    with _estimator_lock:
        if _estimator is None:
            estimator = Estimator()
            estimator.warm_up()
            _estimator = estimator
        return _estimator


def loaded_estimator() -> Estimator | None:
    """The process-wide Estimator if this process has made one; never loads the model."""
    return _estimator


def estimate_batch(items: Sequence[Item], today: date | None = None,
                   estimator: Estimator | None = None) -> dict[str, Estimates]:
    """Estimates for every waiting household, by item id, from one Simulation.

    If the whole batch fails, each household is retried alone, so one bad household cannot
    take the others' follow-ups down with it; the ones that still fail are left out (logged).
    """
    estimator = estimator or get_estimator()
    results: dict[str, Estimates] = {}
    for start in range(0, len(items), BATCH_LIMIT):
        results |= _chunk(estimator, items[start:start + BATCH_LIMIT], today)
    return results


def _chunk(estimator: Estimator, items: Sequence[Item],
           today: date | None) -> dict[str, Estimates]:
    try:
        return _batch(estimator, items, today)
    except Exception:
        log.exception("estimate batch of %d failed; retrying one by one", len(items))
    results: dict[str, Estimates] = {}
    for item in items:
        try:
            results |= _batch(estimator, [item], today)
        except Exception:
            log.exception("estimate %s failed", item.id)
    return results


def _batch(estimator: Estimator, items: Sequence[Item],
           today: date | None) -> dict[str, Estimates]:
    estimates = estimator.estimate([item.answers for item in items],
                                   [item.matched for item in items], today)
    return {item.id: result for item, result in zip(items, estimates, strict=True)}
