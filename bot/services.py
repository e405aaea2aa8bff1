"""Services near San José for young adults in urgent need, from `flows/services.yaml`.

A resident who texts "food" or "I have nowhere to sleep" needs a few true phone numbers and
places, nearest first. Staff keep the catalog in YAML; every entry names the source it was
read in. This module loads and checks that file (with the line of each problem, for staff)
and answers "which services of this kind are nearest to this ZIP". Pure: no network.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from bot.paths import SHIPPED_FLOWS, flows_dir, schema
from bot.places import Place, lookup_zip
from bot.segments import non_gsm7
from bot.yamlsource import Problem, SourceMap, YamlFileError, load_yaml, schema_problems

SCHEMA_PATH = schema("services.schema.json")
DEFAULT_SERVICES_PATH = SHIPPED_FLOWS / "services.yaml"
CATEGORIES = ("food", "shelter", "crisis", "violence", "health", "youth", "benefits", "general")
OFFERS_MAX_CHARS = 70  # SMS is paid per segment: keep each line of a reply short

_PHONE = re.compile(r"(1-)?\d{3}-\d{3}-\d{4}|211|988|911")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_URL = re.compile(r"https?://[^\s/]+\.[^\s]+")
_LANGUAGE = re.compile(r"[a-z]{2}|any")
_ZIP = re.compile(r"\d{5}")


@dataclass(frozen=True)
class Service:
    """One entry of the catalog; `line` is where it starts in the file."""

    id: str
    name: str
    categories: tuple[str, ...]
    offers: str
    min_age: int | None
    max_age: int | None
    languages: tuple[str, ...]
    phone: str
    address: str | None
    zip: str | None
    hours: str | None
    source: str
    verified: str
    line: int
    first_for: tuple[str, ...] = ()  # categories for which this line always comes first
    offers_line: int = 0  # lines of the resident-facing texts (0 when not from a file)
    hours_line: int = 0

    def serves_age(self, age: int | None) -> bool:
        """True unless we know the age and it is outside the range the service serves."""
        if age is None:
            return True
        too_young = self.min_age is not None and age < self.min_age
        too_old = self.max_age is not None and age > self.max_age
        return not (too_young or too_old)


@dataclass(frozen=True)
class Catalog:
    """The loaded catalog; `path` is the file it came from, for messages."""

    services: tuple[Service, ...]
    path: str

    def nearest(
        self, category: str, zip_code: str | None, age: int | None = None, limit: int = 3
    ) -> list[tuple[Service, float | None]]:
        """Services of `category` for this resident with their distance in miles (None: a line).

        Lines marked `first_for` the category come first. Then, from a ZIP in the county,
        places nearest first and phone lines after them; from a ZIP outside the county, the
        phone lines first (a place 40 miles away helps less). Unknown ZIP: file order.
        """
        if category not in CATEGORIES:
            raise ValueError(f"unknown service category {category!r}")
        origin = lookup_zip(zip_code) if zip_code else None
        scored = [
            (service, _miles(origin, service))
            for service in self.services
            if category in service.categories and service.serves_age(age)
        ]
        scored.sort(key=lambda pair: _rank(pair[0], pair[1], category, origin))
        return scored[: max(limit, 0)]

    def texts(self) -> Iterator[tuple[str, int]]:
        """Resident-facing texts (offers, hours) with their lines, for the translation catalogs."""
        for service in self.services:
            yield service.offers, service.offers_line
            if service.hours:
                yield service.hours, service.hours_line


def _miles(origin: Place | None, service: Service) -> float | None:
    place = lookup_zip(service.zip) if origin and service.zip else None
    return origin.miles_to(place) if origin and place else None


def _rank(
    service: Service, miles: float | None, category: str, origin: Place | None
) -> tuple[int, float]:
    """Sort key; Python's sort is stable, so equal keys keep the file's order."""
    if category in service.first_for:
        return (0, 0.0)
    if origin is None:
        return (1, 0.0)
    is_place = miles is not None
    group = 1 if is_place == origin.in_home_county else 2
    return (group, miles or 0.0)


def services_path() -> Path:
    """The catalog in use (bot/paths.py)."""
    return flows_dir() / "services.yaml"


def load_services(path: str | Path | None = None) -> Catalog:
    """The catalog, or YamlFileError listing every error as `path:line: problem`."""
    path = str(path or services_path())
    data, problems = _check(path)
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors:
        raise YamlFileError(errors)
    return Catalog(tuple(_service(entry) for entry in data["services"]), path)


def lint_services(path: str | Path | None = None) -> list[Problem]:
    """Every problem in the catalog file (errors and warnings), in line order."""
    return _check(str(path or services_path()))[1]


def _check(path: str) -> tuple[Any, list[Problem]]:
    try:
        data = load_yaml(path)
    except YamlFileError as error:
        return None, error.problems
    problems = schema_problems(data, _schema(), path)
    entries = data.get("services") if isinstance(data, SourceMap) else None
    if isinstance(entries, list):
        problems += _duplicate_ids(entries, path)
        for index, entry in enumerate(entries):
            if isinstance(entry, SourceMap):
                problems += _entry_problems(entry, index, path)
    return data, sorted(problems, key=lambda problem: problem.line)


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _service(entry: SourceMap) -> Service:
    serves = entry.get("serves") or {}
    return Service(
        id=entry["id"],
        name=entry["name"],
        categories=tuple(entry["categories"]),
        offers=entry["offers"],
        min_age=serves.get("min_age"),
        max_age=serves.get("max_age"),
        languages=tuple(entry["languages"]),
        phone=str(entry["phone"]),
        address=entry["address"],
        zip=_text(entry["zip"]),
        hours=entry["hours"],
        source=entry["source"],
        verified=entry["verified"],
        line=entry.line,
        first_for=tuple(entry.get("first_for", ())),
        offers_line=entry.line_of("offers"),
        hours_line=entry.line_of("hours"),
    )


def _text(value: Any) -> str | None:
    """Phones and ZIPs written without quotes load as numbers; both read the same as text."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


# --- Checks on one entry beyond the schema: each finds (field, message, severity) ---------


class _Finding(NamedTuple):
    key: str
    message: str
    severity: str = "error"


def _duplicate_ids(entries: list, path: str) -> list[Problem]:
    first_lines: dict[str, int] = {}
    problems = []
    for index, entry in enumerate(entries):
        service_id = entry.get("id") if isinstance(entry, SourceMap) else None
        if not isinstance(service_id, str):
            continue
        line = entry.line_of("id")
        if service_id in first_lines:
            earlier = first_lines[service_id]
            message = f"services.{index}.id: {service_id!r} is already used on line {earlier}"
            problems.append(Problem(path, line, message))
        else:
            first_lines[service_id] = line
    return problems


def _entry_problems(entry: SourceMap, index: int, path: str) -> list[Problem]:
    findings = [found for check in _CHECKS for found in check(entry)]
    return [
        Problem(path, entry.line_of(key), f"services.{index}.{key}: {message}", severity)
        for key, message, severity in findings
    ]


def _phone(entry: SourceMap) -> Iterator[_Finding]:
    phone = _text(entry.get("phone"))
    if phone is not None and not _PHONE.fullmatch(phone):
        examples = "408-555-1234, 1-800-555-1234, 211, 988 or 911"
        yield _Finding("phone", f"{phone!r} is not a phone number like {examples}")


def _zip(entry: SourceMap) -> Iterator[_Finding]:
    zip_code = _text(entry.get("zip"))
    if zip_code is None:
        return
    if not _ZIP.fullmatch(zip_code):
        yield _Finding("zip", f'{zip_code!r} is not 5 digits; write it in quotes, like "95112"')
    elif lookup_zip(zip_code) is None:
        yield _Finding("zip", f"{zip_code} is not a real ZIP code")


def _place(entry: SourceMap) -> Iterator[_Finding]:
    """A place needs an address and its ZIP (we sort by it); a phone line has neither."""
    area, address, zip_code = entry.get("area"), entry.get("address"), entry.get("zip")
    if address and zip_code is None:
        yield _Finding("address", 'this address has no ZIP: add its zip line, like zip: "95112"')
    if area == "phone" and (address or zip_code is not None):
        yield _Finding("area", "a phone line has address: null and zip: null (or use area: place)")
    if area == "place" and not address:
        yield _Finding("area", "a place needs an address (or use area: phone)")


def _verified(entry: SourceMap) -> Iterator[_Finding]:
    verified = entry.get("verified")
    if isinstance(verified, str) and not _is_date(verified):
        yield _Finding("verified", f"{verified!r} is not a date like 2026-11-27 (year-month-day)")


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _source(entry: SourceMap) -> Iterator[_Finding]:
    source = entry.get("source")
    if isinstance(source, str) and not _URL.fullmatch(source):
        yield _Finding("source", f"{source!r} is not a web link starting with http:// or https://")


def _languages(entry: SourceMap) -> Iterator[_Finding]:
    languages = entry.get("languages")
    if not isinstance(languages, list):
        return
    wrong = [str(code) for code in languages if not _LANGUAGE.fullmatch(str(code))]
    if wrong:
        yield _Finding("languages", f"{', '.join(wrong)}: use two-letter codes (en, es, vi) or any")


def _first_for(entry: SourceMap) -> Iterator[_Finding]:
    first_for, categories = entry.get("first_for"), entry.get("categories")
    if isinstance(first_for, list) and isinstance(categories, list):
        missing = [str(category) for category in first_for if category not in categories]
        if missing:
            yield _Finding("first_for", f"{', '.join(missing)} must also be in categories")


def _ages(entry: SourceMap) -> Iterator[_Finding]:
    serves = entry.get("serves")
    if not isinstance(serves, dict):
        return
    low, high = serves.get("min_age"), serves.get("max_age")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        yield _Finding("serves", f"min_age {low} is above max_age {high}")


def _resident_texts(entry: SourceMap) -> Iterator[_Finding]:
    """Residents read these by SMS: one non-GSM-7 character makes every segment cost more."""
    for key in ("offers", "hours"):
        text = entry.get(key)
        if not isinstance(text, str):
            continue
        costly = sorted(non_gsm7(text))
        if costly:
            yield _Finding(key, f"uses {''.join(costly)!r}: use plain quotes, dashes and letters")
    offers = entry.get("offers")
    if isinstance(offers, str) and len(offers) > OFFERS_MAX_CHARS:
        advice = f"is {len(offers)} characters; keep it to {OFFERS_MAX_CHARS}"
        yield _Finding("offers", advice, "warning")


_CHECKS: tuple[Callable[[SourceMap], Iterator[_Finding]], ...] = (
    _phone,
    _zip,
    _place,
    _verified,
    _source,
    _languages,
    _first_for,
    _ages,
    _resident_texts,
)
