"""Benefit rules: which programs a household may qualify for, read from flows/programs.yaml.

Staff edit the rules as data (see flows/programs.md); this module loads them with line numbers,
checks them, and evaluates each program's `when` condition over the answers plus computed facts.
It is pure: the only I/O is reading the rules file and its JSON Schema.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.daily import Daily
from bot.expressions import FUNCTIONS, UNKNOWN, Expression, ExpressionError, parse
from bot.paths import flows_dir, schema
from bot.places import in_bay_area, in_california, in_home_county
from bot.segments import non_gsm7
from bot.yamlsource import Problem, SourceMap, YamlFileError, load_yaml, schema_problems

SCHEMA_PATH = schema("programs.schema.json")


def programs_path() -> Path:
    """The rules file in use (bot/paths.py)."""
    return flows_dir() / "programs.yaml"


DEFAULT_PROGRAMS_PATH = programs_path()

# The program ids the contract promises (docs/design.md, "Answer ids and program ids"), plus
# those added since; any other id draws a lint warning (a typo, or an id to add to the contract).
DESIGN_PROGRAM_IDS = frozenset({
    "calfresh_student", "medi_cal_child", "medi_cal_foster_youth", "medi_cal_access",
    "calfresh", "medi_cal", "covered_california", "calworks", "wic", "caleitc",
    "young_child_tax_credit", "federal_eitc", "foster_youth_tax_credit", "clipper_start",
    "lifeline", "care", "fera", "family_pact", "extended_foster_care", "chafee_grant",
    "pell_grant", "cal_grant", "college_promise_grant", "work2future", "sjpl",
    "homelessness_prevention", "unemployment_insurance", "general_assistance",
})

COUNTY = "in_santa_clara_county"
BAY_AREA = "in_bay_area"
CALIFORNIA = "in_california"
ANNUAL_INCOME = "annual_income"
KEPT_HOUSEHOLDS = 256  # limit values kept a day, per (household size, pregnant): a few
TEXT_FIELDS = ("name", "summary", "details", "apply", "caution")
SUMMARY_MAX = 35
_RESERVED = frozenset(FUNCTIONS) | {"true", "false", "null", "True", "False", "None"}

# Tables switch on San José's calendar, not the server's (which runs in UTC).
SAN_JOSE = ZoneInfo("America/Los_Angeles")
# `changes:` words and the month-day each names; None means no expected date.
_SCHEDULES: dict[str, tuple[int, int] | None] = {
    "by tax year": (1, 1),  # a tax year's limits are for the income earned that year
    "by coverage year": (11, 1),  # open enrollment for next year's coverage starts 1 Nov
    "when the law changes": None,
}
_LONG_AGO = "1900-01-01"  # stands in for a missing or broken date (always reported)
_YEARLY = re.compile(r"yearly on (\d{2})-(\d{2})")


def san_jose_date(epoch_seconds: float | None = None) -> date:
    """The calendar date in San José at this moment (now when not given)."""
    moment = time.time() if epoch_seconds is None else epoch_seconds
    return datetime.fromtimestamp(moment, SAN_JOSE).date()


def schedule_day(changes: str) -> tuple[int, int] | None:
    """The (month, day) a `changes:` text names; None for "when the law changes".

    Raises ValueError for anything else, so lint can say what is allowed."""
    if changes in _SCHEDULES:
        return _SCHEDULES[changes]
    found = _YEARLY.fullmatch(changes)
    if found is None:
        raise ValueError(changes)
    month, day = int(found[1]), int(found[2])
    date(2001, month, day)  # a real day of every year (not 02-29), else ValueError
    return month, day


@dataclass(frozen=True)
class Source:
    """Where one limit of a program comes from, so staff know what to re-check and when."""

    limit: str
    source: str
    effective: str
    line: int


@dataclass(frozen=True)
class Guideline:
    """One year of HHS poverty guidelines (48 states + DC), in yearly dollars."""

    year: int
    base: float
    per_person: float
    source: str
    effective: str
    line: int

    @property
    def name(self) -> str:
        return f"fpl_pct_{self.year}"

    def amount(self, household_size: int) -> float:
        return self.base + self.per_person * (household_size - 1)


@dataclass(frozen=True)
class LimitRow:
    """One dated version of a limit: the figures in force from `effective` on."""

    effective: str
    source: str
    line: int
    amount: float | None = None
    by_household_size: tuple[float, ...] = ()  # index 0 is 1 person
    each_extra_person: float | None = None
    percent_of_guideline: float | None = None
    guideline: Guideline | None = None

    @cached_property
    def starts(self) -> date:
        return date.fromisoformat(self.effective)

    def value(self, household_size: int | None, monthly: bool = False) -> float | None:
        """The limit for this household; None when the row does not say (conditions are false)."""
        if self.amount is not None:
            return self.amount
        if household_size is None:
            return None
        if self.guideline is not None and self.percent_of_guideline is not None:
            yearly = self.guideline.amount(household_size) * self.percent_of_guideline / 100
            return yearly / 12 if monthly else yearly
        largest = len(self.by_household_size)
        if household_size <= largest:
            return self.by_household_size[household_size - 1]
        if self.each_extra_person is None:
            return None
        return self.by_household_size[-1] + self.each_extra_person * (household_size - largest)


@dataclass(frozen=True)
class Limit:
    """A limit whose figures change on the program's own date: rows, each with its date.

    The row in force on a date is the latest one whose `effective` is on or before it."""

    name: str
    description: str
    line: int
    rows: tuple[LimitRow, ...]  # oldest first
    changes: str | None = None  # "yearly on 10-01", "by tax year", ...
    unit: str | None = None  # "month" or "year": needed by percent_of_guideline rows
    counts_unborn_child: bool = False

    @property
    def source(self) -> str:
        return self.rows[-1].source

    @property
    def effective(self) -> str:
        return self.rows[-1].effective

    def row_on(self, on: date | None = None) -> LimitRow | None:
        """The row in force on that day (today in San José when not given)."""
        day = on or san_jose_date()
        return next((row for row in reversed(self.rows) if row.starts <= day), None)

    def value(self, household_size: int | None, on: date | None = None) -> float | None:
        """The limit for this household on that day; None before the first row."""
        return self.value_in(self.row_on(on), household_size)

    def value_in(self, row: LimitRow | None, household_size: int | None) -> float | None:
        """The limit for this household by `row`, one of this limit's rows (None: no row)."""
        return row.value(household_size, self.unit == "month") if row else None

    def size_for(self, answers: Mapping[str, Any], household_size: int | None) -> int | None:
        """The household size this limit counts: a pregnant resident's baby counts when asked."""
        unborn = self.counts_unborn_child and answers.get("pregnant") is True
        return household_size + 1 if household_size is not None and unborn else household_size

    def next_change(self) -> date | None:
        """When the row after the latest one is due, by `changes`; None when no date is known."""
        try:
            day = schedule_day(self.changes) if self.changes else None
        except ValueError:
            return None
        if day is None:
            return None
        latest = self.rows[-1].starts
        start = date(latest.year, *day)
        if start > latest:
            start = date(latest.year - 1, *day)
        return date(start.year + 1, *day)


@dataclass(frozen=True)
class Derived:
    """A value computed from the answers, such as `has_children`, shared by many programs."""

    name: str
    expression: Expression
    line: int


@dataclass(frozen=True)
class Program:
    """One benefit: resident-facing texts, the condition that shows it, and its sources."""

    id: str
    name: str
    summary: str
    details: str
    apply: str
    caution: str | None
    rank_value: int
    when: Expression
    sources: tuple[Source, ...]
    line: int
    field_lines: tuple[tuple[str, int], ...] = ()  # (YAML key, its line)

    def line_of(self, field: str) -> int:
        return dict(self.field_lines).get(field, self.line)


@dataclass(frozen=True)
class Rules:
    """All benefit rules from one file; `match` is what the engine and `screener check` call."""

    version: str
    guidelines: tuple[Guideline, ...]
    derived: tuple[Derived, ...]
    programs: tuple[Program, ...]
    path: str
    limits: tuple[Limit, ...] = ()

    def facts(self, answers: Mapping[str, Any], on: date | None = None) -> dict[str, Any]:
        """Answers plus county, annual income, fpl_pct_YEAR, limits and derived values.

        Limits take the row in force `on` that day (today in San José when not given).
        Anything the input already gives (not None) wins, so a `screener check` profile can
        state a value directly; a computed value only fills what is missing or unknown.
        """
        values = dict(answers)
        inputs = self.inputs
        unknown = {name for name, value in values.items() if value is UNKNOWN}

        def blocked(name: str) -> bool:
            """Whether `name` is computed from an answer not given yet: then it is UNKNOWN."""
            if unknown.isdisjoint(inputs[name]):
                return False
            values[name] = UNKNOWN
            unknown.add(name)
            return True

        def fill(name: str, compute: Callable[..., Any], *args: Any) -> None:
            """Compute `name` unless given; UNKNOWN when what it is computed from is."""
            if values.get(name) is None and not (unknown and blocked(name)):
                values[name] = compute(*args)

        size = _household_size(values.get("household_size"))
        fill(COUNTY, lambda: in_home_county(_zip_text(values.get("zip"))))
        fill(BAY_AREA, lambda: in_bay_area(_zip_text(values.get("zip"))))
        fill(CALIFORNIA, lambda: in_california(_zip_text(values.get("zip"))))
        fill(ANNUAL_INCOME, lambda: _yearly(values.get("monthly_income")))
        for guideline in self.guidelines:
            fill(guideline.name, lambda g=guideline: _percent(values, g, size))
        limits = self._limit_values(on or san_jose_date(), size, values.get("pregnant") is True)
        for name, value in limits.items():  # worked out already: no `fill` call each
            if values.get(name) is None and not (unknown and blocked(name)):
                values[name] = value
        for item in self.derived:  # the evaluator itself carries UNKNOWN through
            if values.get(item.name) is None:
                values[item.name] = _evaluate(item.expression, values)
        return values

    @cached_property
    def inputs(self) -> dict[str, frozenset[str]]:
        """What each value `facts` computes is computed from: the county from the ZIP,
        guideline percents and sized limits from income and household size (and pregnancy, for
        limits that count the unborn child), derived values from the names they read."""
        found: dict[str, set[str]] = {
            COUNTY: {"zip"}, BAY_AREA: {"zip"}, CALIFORNIA: {"zip"},
            ANNUAL_INCOME: {"monthly_income"},
        }
        for guideline in self.guidelines:
            found[guideline.name] = {ANNUAL_INCOME, "household_size"}
        for limit in self.limits:
            sized = any(row.amount is None for row in limit.rows)
            found[limit.name] = ({"household_size"} if sized else set()) \
                | ({"pregnant"} if limit.counts_unborn_child else set())
        for item in self.derived:  # a derived value named like an answer is computed when unasked
            found.setdefault(item.name, set()).update(item.expression.names)
        return {name: frozenset(sources) for name, sources in found.items()}

    def _limit_values(self, day: date, size: int | None, pregnant: bool) -> dict[str, Any]:
        """Every limit's value for a household of `size` on `day` (pregnancy counts an unborn
        child for some), worked out once a day for each kind of household: every answer asks
        for all of them, and most households are a few sizes."""
        households = self._limits_on.on(day)
        found = households.get((size, pregnant))
        if found is None:
            said = {"pregnant": pregnant}
            found = {limit.name: limit.value_in(limit.row_on(day), limit.size_for(said, size))
                     for limit in self.limits}
            if len(households) < KEPT_HOUSEHOLDS:
                households[size, pregnant] = found
        return found

    @cached_property
    def _limits_on(self) -> Daily[dict[tuple[int | None, bool], dict[str, Any]]]:
        """The day's limit values by kind of household, begun afresh each day."""
        return Daily(lambda day: {})

    def reads(self, names: Iterable[str]) -> set[str]:
        """Every name that `names` read, following computed values back to the answers."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(self.inputs.get(name, ()))
        return seen

    def match(self, answers: Mapping[str, Any], on: date | None = None) -> list[Program]:
        """Programs whose condition holds on that day, most valuable first (file order breaks
        ties). The day is today in San José when not given."""
        facts = self.facts(answers, on)
        matched = [program for program in self.programs if program.when.holds(facts)]
        return sorted(matched, key=lambda program: -program.rank_value)

    def explain(self, answers: Mapping[str, Any],
                on: date | None = None) -> list[dict[str, Any]]:
        """For every program: shown or not, its condition, and the values it read (for
        `screener check --why`, so staff see which rule decided)."""
        facts = self.facts(answers, on=on)
        return [{"id": program.id, "shown": bool(program.when.holds(facts)),
                 "when": " ".join(program.when.source.split()),
                 "values": {name: facts.get(name) for name in sorted(program.when.names)}}
                for program in self.programs]

    def program(self, program_id: str) -> Program:
        for program in self.programs:
            if program.id == program_id:
                return program
        raise KeyError(f"no program with id '{program_id}' in {self.path}")

    def texts(self) -> Iterator[tuple[str, int]]:
        """Every resident-facing text with its line, for translation extraction."""
        for program in self.programs:
            for field in TEXT_FIELDS:
                text = getattr(program, field)
                if text:
                    yield text, program.line_of(field)


def _number(value: Any) -> float | None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return value if is_number else None


def _household_size(value: Any) -> int | None:
    size = _number(value)
    return int(size) if size is not None and size >= 1 and float(size).is_integer() else None


def _yearly(monthly_income: Any) -> float | None:
    monthly = _number(monthly_income)
    return monthly * 12 if monthly is not None else None


def _percent(values: Mapping[str, Any], guideline: Guideline, size: int | None) -> float | None:
    income = _number(values.get(ANNUAL_INCOME))
    if income is None or size is None:
        return None
    return income * 100 / guideline.amount(size)


def _zip_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _evaluate(expression: Expression, values: Mapping[str, Any]) -> Any:
    """A derived value that cannot be computed (e.g. arithmetic on an unknown) is unknown."""
    try:
        return expression.evaluate(values)
    except ExpressionError:
        return None


# Loading and checking ---------------------------------------------------------------------


def load_rules(path: str | Path | None = None) -> Rules:
    """Load and check the rules, or raise YamlFileError listing every `path:line` error."""
    reader = _read(Path(path) if path else programs_path())
    errors = [problem for problem in reader.problems if problem.severity == "error"]
    if errors:
        raise YamlFileError(errors)
    return reader.rules()


def lint_rules(
    path: str | Path, asked_answer_ids: set[str] | None, today: date | None = None
) -> list[Problem]:
    """Every problem staff should fix, errors and warnings, each with its line.

    `asked_answer_ids` is None when the questions themselves cannot be read: names in
    conditions are then not checked (every one would look unknown). A table whose next
    figures were due by `today` (San José's today when not given) draws a warning."""
    try:
        reader = _read(Path(path))
    except YamlFileError as error:
        return error.problems
    reader.lint(asked_answer_ids)
    reader.check_due(today or san_jose_date())
    return reader.problems


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _read(path: Path) -> _Reader:
    data = load_yaml(path)
    reader = _Reader(str(path))
    problems = schema_problems(data, _schema(), str(path))
    if problems:
        reader.problems.extend(problems)
    else:
        reader.read(data)
    return reader


class _Reader:
    """Turns schema-valid YAML into rule objects, noting each problem with its line."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []
        self.version = ""
        self.guidelines: list[Guideline] = []
        self.limits: list[Limit] = []
        self.derived: list[Derived] = []
        self.programs: list[Program] = []

    def problem(self, line: int, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.path, line, message, severity))

    def rules(self) -> Rules:
        return Rules(
            version=self.version,
            guidelines=tuple(self.guidelines),
            derived=tuple(self.derived),
            programs=tuple(self.programs),
            path=self.path,
            limits=tuple(self.limits),
        )

    def read(self, data: SourceMap) -> None:
        self.version = data["version"]
        self.guidelines = [self.guideline(node) for node in data["poverty_guidelines"]]
        self.check_years()
        limits = data.get("limits") or SourceMap()
        self.limits = [self.limit(name, limits[name], limits.line_of(name)) for name in limits]
        derived = data.get("derived") or SourceMap()
        for name, source in derived.items():
            expression = self.condition(source, derived.line_of(name), f"derived value '{name}'")
            if expression:
                self.derived.append(Derived(name, expression, derived.line_of(name)))
        self.check_names(derived)
        for node in data["programs"]:
            self.program(node)
        self.check_ids(data["programs"])

    def guideline(self, node: SourceMap) -> Guideline:
        return Guideline(
            node["year"], node["base"], node["per_person"], node["source"], node["effective"],
            node.line,
        )

    def check_years(self) -> None:
        seen: set[int] = set()
        for guideline in self.guidelines:
            if guideline.year in seen:
                self.problem(guideline.line, f"poverty guideline {guideline.year} appears twice")
            seen.add(guideline.year)

    def limit(self, name: str, node: SourceMap, line: int) -> Limit:
        """A limit with `rows:`, or the one-row form (figures, source, effective at the top)."""
        figures = ("amount", "by_household_size", "each_extra_person", "percent_of_guideline",
                   "guideline")
        if "rows" in node:
            for key in (*figures, "source", "effective"):
                if key in node:
                    self.problem(node.line_of(key), f"limit '{name}': with rows, put {key} in "
                                                    "a row, not at the top")
            rows = [self.limit_row(name, row, row.line) for row in node["rows"]]
        else:
            for key in ("source", "effective"):
                if key not in node:
                    self.problem(line, f"limit '{name}': give {key} (or rows, each with its "
                                       "effective date and source)")
            rows = [self.limit_row(name, node, line)]
        self.check_row_dates(name, rows)
        unit = node.get("unit")
        if unit is None and any(row.percent_of_guideline is not None for row in rows):
            self.problem(line, f"limit '{name}': a percent of the guideline needs unit: "
                               "\"month\" or \"year\"")
        changes = node.get("changes")
        if changes is not None:
            try:
                schedule_day(changes)
            except ValueError:
                self.problem(node.line_of("changes"),
                             f"limit '{name}': changes: {changes!r} is not a schedule I know: "
                             "write \"yearly on MM-DD\", \"by tax year\", \"by coverage year\" "
                             "or \"when the law changes\"")
        return Limit(
            name=name, description=node["description"], line=line, rows=tuple(rows),
            changes=changes, unit=unit, counts_unborn_child=node.get("counts_unborn_child", False),
        )

    def limit_row(self, name: str, node: SourceMap, line: int) -> LimitRow:
        table = node.get("by_household_size") or {}
        given = [key for key in ("amount", "by_household_size", "percent_of_guideline")
                 if node.get(key) is not None]
        if len(given) != 1:
            self.problem(line, f"limit '{name}': give one of amount, by_household_size or "
                               "percent_of_guideline")
        if "each_extra_person" in node and not table:
            self.problem(node.line_of("each_extra_person"),
                         f"limit '{name}': each_extra_person needs by_household_size")
        sizes = sorted(int(size) for size in table)
        if sizes != list(range(1, len(sizes) + 1)):
            listed = ", ".join(map(str, sizes))
            self.problem(node.line_of("by_household_size"),
                         f"limit '{name}': list every household size from 1 up with no gaps "
                         f"(found {listed})")
        amounts = {int(size): amount for size, amount in table.items()}
        guideline = None
        if ("percent_of_guideline" in node) != ("guideline" in node):
            self.problem(line, f"limit '{name}': percent_of_guideline and guideline (the "
                               "year) go together")
        elif "guideline" in node:
            years = {g.year: g for g in self.guidelines}
            guideline = years.get(node["guideline"])
            if guideline is None:
                self.problem(node.line_of("guideline"),
                             f"limit '{name}': no {node['guideline']} guideline under "
                             "poverty_guidelines")
        effective = node.get("effective", _LONG_AGO)
        try:
            date.fromisoformat(effective)
        except ValueError:
            self.problem(node.line_of("effective"), f"limit '{name}': {effective} is not a "
                                                    "real date")
            effective = _LONG_AGO
        return LimitRow(
            effective=effective, source=node.get("source", ""),
            line=line, amount=node.get("amount"),
            by_household_size=tuple(amounts[size] for size in sorted(amounts)),
            each_extra_person=node.get("each_extra_person"),
            percent_of_guideline=node.get("percent_of_guideline"), guideline=guideline,
        )

    def check_row_dates(self, name: str, rows: list[LimitRow]) -> None:
        """Rows go oldest first, one per date, so the row in force is never ambiguous."""
        for earlier, later in itertools.pairwise(rows):
            if not earlier.starts < later.starts:
                self.problem(later.line, f"limit '{name}': rows go oldest first, one per "
                                         f"date ({later.effective} is not after "
                                         f"{earlier.effective})")

    def check_names(self, derived: SourceMap) -> None:
        """A derived value or limit must not hide a built-in value or one another."""
        builtins = {COUNTY, BAY_AREA, CALIFORNIA, ANNUAL_INCOME}
        builtins |= {g.name for g in self.guidelines}
        limit_names = {limit.name for limit in self.limits}
        clashes = [(limit.name, limit.line) for limit in self.limits]
        clashes += [(name, derived.line_of(name)) for name in derived]
        for name, line in clashes:
            if name in builtins or name in _RESERVED:
                self.problem(line, f"'{name}' is a built-in name: choose another name")
        for name in derived:
            if name in limit_names:
                self.problem(derived.line_of(name), f"'{name}' is both a limit and a derived value")

    def condition(self, source: Any, line: int, where: str) -> Expression | None:
        try:
            return parse(source)
        except ExpressionError as error:
            self.problem(line, f"{where}: {error}")
            return None

    def program(self, node: SourceMap) -> None:
        when = self.condition(node["when"], node.line_of("when"), f"program '{node['id']}'")
        if when is None:
            return
        sources = tuple(
            Source(item["limit"], item["source"], item["effective"], item.line)
            for item in node["sources"]
        )
        self.programs.append(Program(
            id=node["id"], name=node["name"], summary=node["summary"], details=node["details"],
            apply=node["apply"], caution=node.get("caution"), rank_value=node["rank_value"],
            when=when, sources=sources, line=node.line,
            field_lines=tuple((key, node.line_of(key)) for key in node),
        ))

    def check_ids(self, programs: Iterable[SourceMap]) -> None:
        seen: set[str] = set()
        for node in programs:
            program_id, line = node["id"], node.line_of("id")
            if program_id in seen:
                self.problem(line, f"program id '{program_id}' appears twice")
            elif program_id not in DESIGN_PROGRAM_IDS:
                self.problem(line, f"program id '{program_id}' is not in the contract's list "
                                   "(docs/design.md) (others rely on those ids)", "warning")
            seen.add(program_id)

    def check_due(self, today: date) -> None:
        """Warn when a table's next figures were due by today, before residents are hurt."""
        for limit in self.limits:
            due = limit.next_change()
            if due is not None and due <= today:
                self.problem(limit.line, f"{limit.name}: a new row was expected on "
                                         f"{due.isoformat()}; add the new figures", "warning")

    # Checks that need to know which answers the question flows ask (lint only).

    def lint(self, asked_answer_ids: set[str] | None) -> None:
        self.reads_are_checked = asked_answer_ids is not None
        known = set(asked_answer_ids or ()) | {COUNTY, BAY_AREA, CALIFORNIA, ANNUAL_INCOME}
        known |= {g.name for g in self.guidelines} | {limit.name for limit in self.limits}
        later = {item.name for item in self.derived}
        for item in self.derived:
            later.discard(item.name)
            where = f"derived value '{item.name}'"
            self.check_reads(item.expression, item.line, where, known, later)
            known.add(item.name)
        for program in self.programs:
            where = f"program '{program.id}'"
            self.check_reads(program.when, program.line_of("when"), where, known, set())
            self.check_texts(program)

    def check_reads(
        self, expression: Expression, line: int, where: str, known: set[str], later: set[str]
    ) -> None:
        for name in sorted(expression.names - known):
            if name in later:
                self.problem(line, f"{where} uses '{name}', which is defined further down in "
                                   "derived: move it below that line")
                continue
            if not self.reads_are_checked:
                continue
            guess = difflib.get_close_matches(name, sorted(known | later), n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            self.problem(line, f"{where} uses '{name}', which is not an answer the questions ask, "
                               f"a derived value or a limit{hint}")

    def check_texts(self, program: Program) -> None:
        if len(program.summary) > SUMMARY_MAX:
            self.problem(program.line_of("summary"),
                         f"program '{program.id}' summary has {len(program.summary)} characters: "
                         f"keep it to {SUMMARY_MAX} so the results list stays short", "warning")
        for field in TEXT_FIELDS:
            odd = non_gsm7(getattr(program, field) or "")
            if odd:
                self.problem(program.line_of(field),
                             f"program '{program.id}' {field} uses {odd!r}, which SMS cannot send "
                             "in its cheap alphabet (GSM-7): use plain quotes and dashes",
                             "warning")

