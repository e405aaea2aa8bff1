"""The services catalog: true, sourced entries that come back nearest first.

A resident in urgent need gets at most a few lines by SMS, so the order matters: urgent lines
first, then what is near them. Staff edit the YAML, so every problem must name its line.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import pytest
import zipcodes

from bot.services import (
    CATEGORIES,
    DEFAULT_SERVICES_PATH,
    SCHEMA_PATH,
    lint_services,
    load_services,
)
from bot.yamlsource import YamlFileError

SAN_JOSE_ZIPS = ["95112", "95123", "95134", "95116"]

# One valid entry; the line of each field is fixed (phone is line 7, zip line 10, ...).
VALID = """\
services:
  - id: corner_pantry
    name: "Corner Pantry"
    categories: [food]
    offers: "Free groceries."
    languages: [en]
    phone: "408-555-0100"
    area: place
    address: "1 Main St, San Jose"
    zip: "95112"
    hours: null
    source: "https://example.org/pantry"
    verified: "2026-11-27"
"""


@pytest.fixture(scope="module")
def catalog():
    return load_services(DEFAULT_SERVICES_PATH)


def lint_text(tmp_path: Path, text: str) -> list[tuple[int, str, str]]:
    path = tmp_path / "services.yaml"
    path.write_text(text, encoding="utf-8")
    return [(p.line, p.severity, p.message) for p in lint_services(path)]


def lines_of(problems: list[tuple[int, str, str]]) -> list[int]:
    return [line for line, _, _ in problems]


def miles_between(zip_a: str, zip_b: str) -> float:
    """Haversine from the zipcodes data, written here so the test does not trust bot.places."""
    (a,), (b,) = zipcodes.matching(zip_a), zipcodes.matching(zip_b)
    lat1, lon1, lat2, lon2 = map(
        math.radians, (float(a["lat"]), float(a["long"]), float(b["lat"]), float(b["long"]))
    )
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 3958.8 * 2 * math.asin(math.sqrt(h))


# --- The shipped catalog ------------------------------------------------------------------


def test_shipped_catalog_lints_clean():
    assert lint_services(DEFAULT_SERVICES_PATH) == []


def test_shipped_catalog_tells_editors_where_its_schema_is():
    first_line = DEFAULT_SERVICES_PATH.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=services.schema.json"


def test_every_entry_names_the_page_it_was_read_in_and_when(catalog):
    for service in catalog.services:
        assert service.source.startswith(("https://", "http://")), service.id
        assert datetime.date.fromisoformat(service.verified) <= datetime.date(2026, 11, 27)


def test_every_place_has_a_real_zip_so_it_can_be_sorted_by_distance(catalog):
    places = [s for s in catalog.services if s.address]
    assert places
    for service in places:
        assert zipcodes.matching(service.zip), service.id


def test_engine_categories_are_the_ones_staff_may_write():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert list(CATEGORIES) == schema["$defs"]["category"]["enum"]


def test_every_category_offers_at_least_one_service(catalog):
    for category in CATEGORIES:
        assert catalog.nearest(category, "95112"), category


# --- Nearest first --------------------------------------------------------------------------


@pytest.mark.parametrize("zip_code", SAN_JOSE_ZIPS)
def test_benefit_offices_come_back_nearest_first(catalog, zip_code):
    found = catalog.nearest("benefits", zip_code, limit=20)
    places = [(s, miles) for s, miles in found if s.address]
    expected = sorted(places, key=lambda pair: miles_between(zip_code, pair[0].zip))
    assert [s.id for s, _ in places] == [s.id for s, _ in expected]
    for service, miles in places:
        assert miles == pytest.approx(miles_between(zip_code, service.zip), abs=0.01)


@pytest.mark.parametrize("zip_code", SAN_JOSE_ZIPS)
def test_in_san_jose_places_come_before_phone_lines(catalog, zip_code):
    found = catalog.nearest("benefits", zip_code, limit=20)
    has_place = [service.address is not None for service, _ in found]
    assert has_place == sorted(has_place, reverse=True)
    assert [miles is None for _, miles in found] == [not place for place in has_place]


def test_north_san_jose_is_sent_to_mountain_view_before_gilroy(catalog):
    ids = [s.id for s, _ in catalog.nearest("benefits", "95134", limit=4)]
    assert ids == [
        "scc_benefits_assistance_center",
        "scc_general_assistance",
        "scc_ssa_north_county",
        "scc_ssa_south_county",
    ]


def test_south_san_jose_finds_the_food_pantry_first(catalog):
    (service, miles), *_ = catalog.nearest("food", "95123")
    assert service.id == "sacred_heart_community_service"
    assert 5 < miles < 10


def test_988_then_911_come_first_in_a_crisis(catalog):
    ids = [s.id for s, _ in catalog.nearest("crisis", "95112")]
    assert ids[:2] == ["lifeline_988", "emergency_911"]


def test_911_comes_first_when_someone_is_in_danger(catalog):
    (service, miles), *_ = catalog.nearest("violence", "95116")
    assert (service.id, miles) == ("emergency_911", None)


def test_zip_outside_the_county_gets_phone_lines_before_far_places(catalog):
    found = catalog.nearest("benefits", "94601", limit=20)  # Oakland
    (first, miles), *rest = found
    assert (first.id, miles) == ("second_harvest_food_connection", None)
    far = [miles for _, miles in rest if miles is not None]
    assert far == sorted(far) and min(far) > 20


def test_zip_outside_the_county_still_gets_urgent_lines_first(catalog):
    ids = [s.id for s, _ in catalog.nearest("crisis", "94601")]
    assert ids[:2] == ["lifeline_988", "emergency_911"]


@pytest.mark.parametrize("zip_code", ["00000", "99999", "9511", None, ""])
def test_unknown_zip_falls_back_to_file_order(catalog, zip_code):
    found = catalog.nearest("benefits", zip_code, limit=20)
    in_file_order = [s for s in catalog.services if "benefits" in s.categories]
    assert [s for s, _ in found] == in_file_order
    assert all(miles is None for _, miles in found)


def test_limit_keeps_replies_short(catalog):
    assert len(catalog.nearest("crisis", "95112")) == 3
    assert len(catalog.nearest("crisis", "95112", limit=1)) == 1


def test_age_filter_leaves_out_services_for_other_ages(catalog):
    def ids(age):
        return {s.id for s, _ in catalog.nearest("crisis", "95112", age=age, limit=20)}

    assert "ca_youth_crisis_line" in ids(20)
    assert "ca_youth_crisis_line" in ids(None)
    assert "ca_youth_crisis_line" not in ids(30)
    assert "emergency_911" in ids(30)


def test_general_assistance_is_for_adults_only(catalog):
    def ids(age):
        return {s.id for s, _ in catalog.nearest("benefits", "95112", age=age, limit=20)}

    assert "scc_general_assistance" in ids(18)
    assert "scc_general_assistance" not in ids(17)


def test_unknown_category_is_a_programming_error(catalog):
    with pytest.raises(ValueError, match="unknown service category"):
        catalog.nearest("housing", "95112")


# --- Texts for translators ----------------------------------------------------------------


def test_texts_point_translators_at_the_right_lines(catalog):
    lines = DEFAULT_SERVICES_PATH.read_text(encoding="utf-8").splitlines()
    texts = list(catalog.texts())
    assert len(texts) >= len(catalog.services)
    for text, line in texts:
        assert f'"{text}"' in lines[line - 1]


def test_texts_include_offers_and_hours_but_not_empty_hours(catalog):
    texts = {text for text, _ in catalog.texts()}
    assert "Mon-Fri 8am-5pm" in texts
    assert "Talk to a crisis counselor now. Free and private." in texts
    assert None not in texts


# --- Lint names the line of each problem --------------------------------------------------


def test_a_valid_fixture_lints_clean(tmp_path):
    assert lint_text(tmp_path, VALID) == []


def test_lint_finds_a_bad_phone_on_its_line(tmp_path):
    problems = lint_text(tmp_path, VALID.replace('"408-555-0100"', '"(408) 555-0100"'))
    assert lines_of(problems) == [7]
    assert "not a phone number like 408-555-1234" in problems[0][2]


@pytest.mark.parametrize("phone", ['"211"', '"988"', "911", '"1-800-984-3663"'])
def test_lint_accepts_short_codes_and_toll_free_numbers(tmp_path, phone):
    assert lint_text(tmp_path, VALID.replace('"408-555-0100"', phone)) == []


def test_lint_finds_a_zip_that_does_not_exist(tmp_path):
    problems = lint_text(tmp_path, VALID.replace('zip: "95112"', 'zip: "99999"'))
    assert lines_of(problems) == [10]
    assert "not a real ZIP code" in problems[0][2]


def test_lint_finds_a_zip_that_is_not_five_digits(tmp_path):
    problems = lint_text(tmp_path, VALID.replace('zip: "95112"', 'zip: "9511"'))
    assert lines_of(problems) == [10]
    assert "not 5 digits" in problems[0][2]


def test_a_zip_written_without_quotes_still_works(tmp_path):
    path = tmp_path / "services.yaml"
    path.write_text(VALID.replace('zip: "95112"', "zip: 95112"), encoding="utf-8")
    assert load_services(path).services[0].zip == "95112"


def test_lint_finds_an_address_without_its_zip(tmp_path):
    problems = lint_text(tmp_path, VALID.replace('zip: "95112"', "zip: null"))
    assert lines_of(problems) == [9]
    assert "no ZIP" in problems[0][2]


def test_lint_finds_a_phone_line_with_an_address(tmp_path):
    problems = lint_text(tmp_path, VALID.replace("area: place", "area: phone"))
    assert lines_of(problems) == [8]


def test_lint_finds_a_missing_source_on_the_entry_line(tmp_path):
    text = VALID.replace('    source: "https://example.org/pantry"\n', "")
    problems = lint_text(tmp_path, text)
    assert lines_of(problems) == [2]
    assert "'source' is missing" in problems[0][2]


def test_lint_finds_a_source_that_is_not_a_web_link(tmp_path):
    problems = lint_text(tmp_path, VALID.replace('"https://example.org/pantry"', '"flyer"'))
    assert lines_of(problems) == [12]
    assert "http://" in problems[0][2]


@pytest.mark.parametrize("verified", ['"27/11/2026"', '"2026-02-30"', '"2026-11"'])
def test_lint_finds_a_verified_date_that_is_not_a_date(tmp_path, verified):
    problems = lint_text(tmp_path, VALID.replace('"2026-11-27"', verified))
    assert lines_of(problems) == [13]


def test_lint_finds_an_unknown_category_on_its_own_line(tmp_path):
    text = VALID.replace("categories: [food]", "categories:\n      - food\n      - housing")
    problems = lint_text(tmp_path, text)
    assert lines_of(problems) == [6]
    assert "'housing' is not one of" in problems[0][2]


def test_lint_finds_a_duplicate_id_where_it_is_repeated(tmp_path):
    second = VALID.removeprefix("services:\n")
    problems = lint_text(tmp_path, VALID + second)
    assert lines_of(problems) == [14]
    assert "already used on line 2" in problems[0][2]


def test_lint_finds_first_for_a_category_the_service_is_not_in(tmp_path):
    text = VALID.replace("categories: [food]", "categories: [food]\n    first_for: [crisis]")
    problems = lint_text(tmp_path, text)
    assert lines_of(problems) == [5]
    assert "crisis must also be in categories" in problems[0][2]


def test_lint_finds_ages_the_wrong_way_round(tmp_path):
    wrong_way = "languages: [en]\n    serves: {min_age: 24, max_age: 18}"
    text = VALID.replace("languages: [en]", wrong_way)
    assert lines_of(lint_text(tmp_path, text)) == [7]


def test_lint_finds_a_language_that_is_not_a_code(tmp_path):
    problems = lint_text(tmp_path, VALID.replace("languages: [en]", "languages: [English]"))
    assert lines_of(problems) == [6]


def test_lint_finds_characters_that_make_sms_cost_more(tmp_path):
    em_dash = '"Free groceries \u2014 today."'
    problems = lint_text(tmp_path, VALID.replace('"Free groceries."', em_dash))
    assert lines_of(problems) == [5]
    assert problems[0][1] == "error"


def test_long_offers_are_a_warning_that_does_not_block_loading(tmp_path):
    text = VALID.replace('"Free groceries."', '"' + "Free groceries. " * 5 + '"')
    assert [(line, severity) for line, severity, _ in lint_text(tmp_path, text)] == [(5, "warning")]
    assert load_services(tmp_path / "services.yaml").services[0].id == "corner_pantry"


def test_lint_reports_yaml_syntax_errors_with_their_line(tmp_path):
    problems = lint_text(tmp_path, VALID.replace('name: "Corner Pantry"', "name: Corner: Pantry"))
    assert lines_of(problems) == [3]
    assert "YAML syntax" in problems[0][2]


def test_load_refuses_a_broken_catalog_and_lists_every_problem(tmp_path):
    path = tmp_path / "services.yaml"
    text = VALID.replace('"408-555-0100"', '"555-0100"').replace('"95112"', '"99999"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(YamlFileError) as caught:
        load_services(path)
    assert [p.line for p in caught.value.problems] == [7, 10]
    assert str(caught.value).startswith(f"{path}:7: ")


def test_flows_dir_from_the_environment_is_used(tmp_path, monkeypatch):
    (tmp_path / "services.yaml").write_text(VALID, encoding="utf-8")
    monkeypatch.setenv("SCREENER_FLOWS_DIR", str(tmp_path))
    catalog = load_services()
    assert [s.id for s in catalog.services] == ["corner_pantry"]
    assert catalog.path == str(tmp_path / "services.yaml")
