"""The staff dashboard: counts only, summed over a period of city days from the counters the
text line keeps; the same numbers on the page, in its CSV and in Chromium; only for the roles
that may see it.

Every test here counts the same scripted conversations (`script`), run through Twilio's signed
web hook on fakeredis with the test's clock, and the real job port (RQ on the same Redis).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from browser import PASSWORDS, STAFF_USERS, screenshot, sign_in, wait_for, wait_until
from phone import Phone, make_app, new_sid, sign
from selenium.webdriver.common.by import By

from bot.dashboard import Period, median_minutes, parse_period, read_counts
from bot.web.staff.charts import Bar, bars
from worker.followups import DISAGREEMENTS

pytest_plugins = ["redis_server", "browser"]
CITY = ZoneInfo("America/Los_Angeles")
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=CITY).timestamp()  # campaigns run from Dec 1
DAY = 86400
STATUS_URL = "http://localhost/twilio/status"
# The expected counts of `script`, written out.
DAYS = {"2026-12-07": (4, 2), "2026-12-08": (1, 1)}  # day -> (started, finished)
LANGUAGES = {"en": (3, 2), "es": (2, 1)}
CHANNELS = {"sms": (3, 1), "whatsapp": (2, 2)}
CAMPAIGNS = {"none": (4, 2), "feria_salud_2027": (1, 1)}
FUNNEL = {"started": 5, "age": 5, "zip": 4, "household_size": 3, "has_children": 3,
          "youngest_child_age": 0, "pregnant": 3, "monthly_income": 3, "work": 3,
          "lost_job": 0, "student": 3, "student_exempt": 0, "foster_youth": 3,
          "foster_care_at_18": 0, "has_health_insurance": 0, "housing_risk": 3, "finished": 3}
# Nobody is asked about health insurance: each of them is already decided for Medi-Cal.
PROGRAMS = dict.fromkeys(("caleitc", "calfresh", "care", "clipper_start", "family_pact",
                          "lifeline", "medi_cal", "sjpl", "work2future"), 3)
OUTREACH = {"none": {"started": 4, "finished": 2, "matched": 2, "opted_out": 1},
            "feria_salud_2027": {"started": 1, "finished": 1, "matched": 1}}


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def wait(self, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def app(fake_redis, content, clock):
    made = make_app(fake_redis, content, CLOCK=clock, QUIET_HOURS="off",
                    STAFF_USERS=STAFF_USERS)
    script(made, clock)
    clock.now = MONDAY + 13 * DAY  # two weeks on: the default period still holds both days
    return made


def finish(phone: Phone, clock: Clock, first: str, minutes: float) -> None:
    """Text `first`, then answer every question `minutes` apart until the results."""
    phone.text(first)
    for _ in range(40):
        if phone.session["stage"] == "results":
            return
        clock.wait(minutes)
        phone.answer_current_question()
    raise AssertionError(phone.session)


def script(app, clock: Clock) -> None:
    """Monday: A (SMS, English) finishes in 10 minutes; B (SMS, English) answers two questions
    and stops; C (WhatsApp) texts the Spanish fair's keyword FERIA and finishes in 20 minutes;
    D (SMS) says "hola", answers one question in Spanish and sends STOP. Tuesday: E (WhatsApp,
    English) answers "banana" to the age (not understood) and finishes in 27 minutes. The
    worker sent two texts and found one number invalid; Twilio reported one text delivered
    and one undelivered; the estimate model disagreed with our rules twice."""
    finish(Phone(app, "+14085550101"), clock, "hello", 1)
    b = Phone(app, "+14085550102")
    for text in ("hello", "30", "95112"):
        b.text(text)
    finish(Phone(app, "+14085550103", channel="whatsapp"), clock, "FERIA", 2)
    d = Phone(app, "+14085550104")
    for text in ("hola", "40", "STOP"):
        d.text(text)
    line = app.extensions["textline"]
    line.store.count(clock(), ["sent", "sent", "invalid_number"], table="outbound")
    line.store.count(clock(), ["estimate", "reminder"], table="sent")  # as the worker counts
    for status in ({"MessageStatus": "delivered"},
                   {"MessageStatus": "undelivered", "ErrorCode": "30003"}):
        form = {"MessageSid": new_sid(), "AccountSid": "AC" + "0" * 32, **status}
        response = app.test_client().post("/twilio/status", data=form,
                                          headers={"X-Twilio-Signature": sign(STATUS_URL, form)})
        assert response.status_code == 204
    line.store.redis.hincrby(DISAGREEMENTS, "calworks:shown_not_eligible", 2)
    clock.wait(24 * 60)
    e = Phone(app, "+14085550105", channel="whatsapp")
    e.text("hi")
    e.text("banana")
    finish(e, clock, "22", 3)


def signed_in(app, name: str = "ana"):
    client = app.test_client()
    login = client.get("/staff/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    response = client.post("/staff/login", data={
        "username": name, "password": PASSWORDS[name], "csrf_token": token})
    assert response.status_code == 302
    return client


class Page(HTMLParser):
    """The numbers of a dashboard page: `tiles[id]`, and `cells[(table, row, column)]` for
    every table cell that has a `data-col` in a row with a `data-key`."""

    def __init__(self, html: str):
        super().__init__()
        self.tiles: dict[str, str] = {}
        self.cells: dict[tuple[str, str, str], str] = {}
        self.table = self.row = ""
        self.into: tuple[str, object] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "table":
            self.table = found.get("id", "")
        elif tag == "tr":
            self.row = found.get("data-key", "")
        elif tag == "td" and "data-col" in found:
            self.into = ("cell", (self.table, self.row, found["data-col"]))
        elif tag == "div" and found.get("id", "").startswith("total-"):
            self.into = ("tile", found["id"])

    def handle_endtag(self, tag):
        if tag == "td":
            self.into = None  # an empty cell

    def handle_data(self, data):
        if self.into and data.strip():
            kind, name = self.into
            if kind == "cell":
                self.cells[name] = data.strip()
            else:
                self.tiles[name] = data.strip()
            self.into = None

    def column(self, table: str, column: str) -> dict[str, int]:
        return {row: int(value) for (t, row, col), value in self.cells.items()
                if t == table and col == column}


def pairs(page: Page, table: str) -> dict[str, tuple[int, int]]:
    started, finished = page.column(table, "started"), page.column(table, "finished")
    return {key: (started[key], finished[key]) for key in started}


def csv_totals(text: str) -> dict[tuple[str, str], int]:
    """(metric, dimension) -> count, summed over the days."""
    found: dict[tuple[str, str], int] = {}
    for row in csv.DictReader(io.StringIO(text)):
        key = (row["metric"], row["dimension"])
        found[key] = found.get(key, 0) + int(row["count"])
    return found


# -- the counts -------------------------------------------------------------------------------

def test_the_counts_are_summed_by_day_language_channel_campaign_and_question(app):
    client = signed_in(app)
    page = Page(client.get("/staff/dashboard").text)
    board_days = {day: counts for day, counts in pairs(page, "table-days").items()
                  if counts != (0, 0)}
    assert board_days == DAYS
    assert len(page.column("table-days", "started")) == 14  # the last 14 days by default
    assert pairs(page, "table-languages") == LANGUAGES
    assert pairs(page, "table-channels") == CHANNELS
    assert pairs(page, "table-campaigns") == CAMPAIGNS
    assert page.column("table-funnel", "count") == FUNNEL
    assert {k: v for k, v in page.cells.items() if k[2] == "misunderstood"} == {
        ("table-funnel", "age", "misunderstood"): "1"}
    assert page.tiles == {"total-started": "5", "total-finished": "3",
                          "total-median": "20 min", "total-opted-out": "1",
                          "total-delivery-failures": "1", "total-estimates": "3"}


def test_programs_estimates_messages_queues_and_outreach_are_counted(app):
    text = signed_in(app).get("/staff/dashboard").text
    page = Page(text)
    assert re.findall(r'<tr data-key="(\w+)"><th scope="row">[^<]*</th><td class="n">(\d+)',
                      text.split('id="table-programs"')[1].split("</table>")[0]) \
        == [(program, "3") for program in PROGRAMS]
    assert 'id="estimates-asked">3<' in text and 'id="estimates-waiting">3<' in text
    assert 'id="estimates-sent">1<' in text
    for table, expected in (("table-opt-outs", {"opted_out": 1, "opted_out_by_carrier": 0,
                                                "opted_out_in_outage": 0}),
                            ("table-delivery", {"delivered": 1, "undelivered": 1,
                                                "error:30003": 1}),
                            ("table-outbound", {"sent": 2, "invalid_number": 1}),
                            ("table-disagreements", {"calworks:shown_not_eligible": 2})):
        section = text.split(f'id="{table}"')[1].split("</table>")[0]
        rows = re.findall(r'data-key="([^"]+)"><th scope="row">[^<]*</th>\s*'
                          r'<td class="n">(\d+)', section)
        assert {key: int(n) for key, n in rows} == expected, table
    # Four nudges and three "did you apply?" waiting; one drain for the three estimates.
    assert page.column("table-queues", "scheduled") == {"outbound": 7, "estimates": 0}
    assert page.column("table-queues", "queued") == {"outbound": 0, "estimates": 1}
    for campaign, outcomes in OUTREACH.items():
        shown = {col: int(v) for (t, row, col), v in page.cells.items()
                 if t == "table-outreach" and row == campaign and v != "0"}
        assert shown == outcomes, campaign


def test_the_csv_has_the_same_counts_as_the_page(app):
    response = signed_in(app).get("/staff/dashboard.csv?from=2026-12-07&to=2026-12-20")
    assert response.mimetype == "text/csv"
    assert "dashboard-2026-12-07-2026-12-20.csv" in response.headers["Content-Disposition"]
    assert response.text.splitlines()[0] == "metric,dimension,day,count"
    totals = csv_totals(response.text)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_day = {(r["day"], r["metric"]): int(r["count"]) for r in rows if r["dimension"] == ""}
    assert {day: (by_day[(day, "started")], by_day[(day, "results")]) for day in DAYS} == DAYS
    assert (totals[("started", "")], totals[("results", "")]) == (5, 3)
    assert {q: totals.get(("answered", q), 0) for q in FUNNEL if q not in (
        "started", "finished")} == {q: n for q, n in FUNNEL.items() if q not in (
            "started", "finished")}
    assert {p: totals[("program", p)] for p in PROGRAMS} == PROGRAMS
    assert totals[("finish_minutes", "10")] == totals[("finish_minutes", "20")] \
        == totals[("finish_minutes", "27")] == 1
    assert totals[("outreach", "feria_salud_2027|es|whatsapp|started")] == 1
    assert totals[("outreach", "none|es|sms|opted_out")] == 1
    assert (totals[("opted_out", "")], totals[("delivery", "undelivered")],
            totals[("outbound", "sent")]) == (1, 1, 2)
    assert totals[("queue", "outbound:scheduled")] == 7
    assert totals[("estimate_disagreements", "calworks:shown_not_eligible")] == 2
    assert totals[("estimates_waiting", "")] == 3
    assert "+1408" not in response.text and "whatsapp:" not in response.text


def test_a_period_counts_only_its_days(app):
    client = signed_in(app)
    page = Page(client.get("/staff/dashboard?from=2026-12-08&to=2026-12-08").text)
    assert page.tiles["total-started"] == "1" and page.tiles["total-median"] == "27 min"
    assert pairs(page, "table-languages") == {"en": (1, 1)}
    assert 'value="2026-12-08"' in client.get("/staff/dashboard?from=2026-12-08&to=2026-12-08").text
    empty = Page(client.get("/staff/dashboard?from=2026-11-01&to=2026-11-30").text)
    assert empty.tiles["total-started"] == "0" and empty.tiles["total-median"] == "–"


def test_dates_that_cannot_be_read_show_the_last_14_days_and_say_so(app):
    client = signed_in(app)
    page = client.get("/staff/dashboard?from=7/12/2026&to=2026-12-20")
    assert page.status_code == 200 and "Dates look like 2026-12-07" in page.text
    assert Page(page.text).tiles["total-started"] == "5"
    assert client.get("/staff/dashboard.csv?from=2026-12-20&to=2026-12-07").status_code == 400


def test_the_period_form_reads_dates_and_keeps_to_the_days_counts_are_kept():
    today = date(2026, 12, 20)
    assert parse_period(None, None, today) == (Period(date(2026, 12, 7), today), None)
    assert parse_period("2026-12-01", None, today)[0] == Period(date(2026, 12, 1), today)
    assert parse_period(None, "2026-12-10", today)[0] == Period(date(2026, 11, 27),
                                                                date(2026, 12, 10))
    long, said = parse_period("2020-01-01", "2026-12-20", today)
    assert len(long.days) == 400 and "400 days" in said
    assert parse_period("2026-12-09", "2026-12-08", today)[1].startswith("The first day")


def test_the_median_time_to_finish_is_the_middle_screening_or_between_the_middle_two():
    assert median_minutes({}) is None
    assert median_minutes({"11": 1, "22": 1, "30": 1}) == 22
    assert median_minutes({"4": 1, "9": 1}) == 6.5
    assert median_minutes({"3": 5, "60": 4}) == 3
    assert median_minutes({"3": 1, "60": 4}) == 60


def test_an_hour_or_more_shows_as_60_plus(fake_redis, content, clock):
    app = make_app(fake_redis, content, CLOCK=clock, STAFF_USERS=STAFF_USERS)
    app.extensions["textline"].store.count(clock(), ["results", "finish_minutes:60"])
    page = Page(signed_in(app).get("/staff/dashboard").text)
    assert page.tiles["total-median"] == "60+ min"


def test_counts_are_read_from_the_daily_tables_only(fake_redis):
    """No contact key is read: a session's answers cannot reach the dashboard."""
    seen: list[str] = []
    original = fake_redis.pipeline

    def recording(*args, **kwargs):
        pipe = original(*args, **kwargs)
        real = pipe.hgetall
        pipe.hgetall = lambda name: (seen.append(name), real(name))[1]
        return pipe

    fake_redis.pipeline = recording
    read_counts(fake_redis, Period(date(2026, 12, 7), date(2026, 12, 8)))
    tables = ("stats", "outreach", "outbound", "delivery", "sent")
    assert sorted(seen) == sorted(f"sj:{table}:{{2026-12-0{d}}}" for d in (7, 8)
                                  for table in tables)


def test_chart_labels_are_escaped_and_long_ones_cut_with_the_whole_as_a_tooltip():
    drawn = str(bars("x", "A <chart>", [Bar("<b>Feria de Salud, Mexican Heritage Plaza</b>", 4,
                                            2)], legend=("Started", "Finished")))
    assert "<b>" not in drawn and "&lt;b&gt;Feria de Salud" in drawn and "…" in drawn
    assert "2 of 4" in drawn and 'role="img"' in drawn and "A &lt;chart&gt;" in drawn


# -- who may see it ---------------------------------------------------------------------------

def test_signed_out_the_dashboard_and_its_csv_send_to_sign_in(app):
    client = app.test_client()
    for path in ("/staff/dashboard", "/staff/dashboard.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_a_navigator_may_not_see_the_dashboard_and_staff_may(app):
    navigator = signed_in(app, "nia")
    for path in ("/staff/dashboard", "/staff/dashboard.csv"):
        assert navigator.get(path).status_code == 403
    assert signed_in(app, "sam").get("/staff/dashboard").status_code == 200


def test_no_phone_number_reaches_the_page(app):
    text = signed_in(app).get("/staff/dashboard").text
    assert not re.search(r"\+?1?408555\d{4}", text)


# -- in a real browser ------------------------------------------------------------------------

@pytest.mark.browser
def test_in_chromium_an_admin_reads_the_counts_on_the_dashboard(app, browser, serve):
    base = serve(app)
    sign_in(browser, base, "ana")
    try:
        read_the_dashboard(browser, base)
    finally:
        # Cookies are kept per host, not per port: sign out here, or the next test's app (same
        # secret, another port) finds this session.
        browser.delete_all_cookies()


def read_the_dashboard(browser, base: str) -> None:
    browser.get(base + "/staff/dashboard")
    wait_for(browser, "#total-started")

    def tile(name: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, f"#total-{name} .big").text

    assert (tile("started"), tile("finished"), tile("median"), tile("opted-out")) == (
        "5", "3", "20 min", "1")

    def cell(table: str, row: str, col: str) -> str:
        return browser.find_element(
            By.CSS_SELECTOR, f'#table-{table} tr[data-key="{row}"] td[data-col="{col}"]').text

    assert cell("days", "2026-12-07", "started") == "4"
    assert cell("languages", "es", "finished") == "1"
    assert cell("channels", "whatsapp", "started") == "2"
    assert cell("campaigns", "feria_salud_2027", "started") == "1"
    assert cell("funnel", "zip", "count") == "4"
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart[role=img]")) == 6
    screenshot(browser, "dashboard")
    browser.find_element(By.ID, "from").send_keys("12082026")  # Chromium's date field, en-US
    browser.find_element(By.CSS_SELECTOR, "form.period button").click()
    wait_until(browser, lambda driver: "from=2026-12-08" in driver.current_url)
    wait_for(browser, "#total-started")
    assert tile("started") == "1"
