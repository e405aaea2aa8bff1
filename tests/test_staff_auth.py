"""Signing in to the staff console: accounts from STAFF_USERS, roles, signed sessions, CSRF on
every form, limited sign-in attempts, and nothing under /staff for anyone signed out."""

from __future__ import annotations

import re

import pytest
from browser import PASSWORDS, STAFF_USERS, sign_in, wait_for
from phone import make_app
from selenium.webdriver.common.by import By

from bot.cli import main
from bot.serve import local_account
from bot.web.staff.accounts import AccountsError, check, make_hash, parse_accounts
from bot.web.staff.auth import StaffSessions

pytest_plugins = ["redis_server", "browser"]


@pytest.fixture
def app(fake_redis, content):
    return make_app(fake_redis, content, STAFF_USERS=STAFF_USERS)


def token(client, path: str = "/staff/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def signed_in(app, name: str = "ana"):
    client = app.test_client()
    response = client.post("/staff/login", data={
        "username": name, "password": PASSWORDS[name], "csrf_token": token(client)})
    assert response.status_code == 302, response.text
    return client


def staff_pages(app) -> list[str]:
    """Every GET page of the console, with made-up ids where a route needs one."""
    pages = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff") and "GET" in rule.methods \
                and rule.endpoint not in ("staff.login", "staff.static"):
            pages.append(re.sub(r"<[^>]+>", "1", rule.rule))
    return pages


# -- accounts ---------------------------------------------------------------------------------

def test_staff_users_are_read_as_name_role_hash_and_a_bad_entry_is_named_without_its_hash():
    accounts = parse_accounts(STAFF_USERS)
    assert {name: a.role for name, a in accounts.items()} == {
        "ana": "admin", "sam": "staff", "nia": "navigator"}
    secret_hash = make_hash("a long password!")
    for bad, says in ((f"bo:boss:{secret_hash}", "role 'boss' is not one of"),
                      ("bo:admin", "entry 1 is not name:role:hash"),
                      ("bo:admin:plaintext", "not one `screener staff-hash` makes"),
                      (f"bo:admin:{secret_hash},bo:staff:{secret_hash}", "used twice")):
        with pytest.raises(AccountsError) as error:
            parse_accounts(bad)
        assert says in str(error.value) and secret_hash not in str(error.value)


def test_a_password_is_checked_against_its_hash_and_a_wrong_name_gets_nothing():
    accounts = parse_accounts(STAFF_USERS)
    assert check(accounts, "ana", PASSWORDS["ana"]).role == "admin"
    assert check(accounts, "ana", PASSWORDS["sam"]) is None
    assert check(accounts, "nobody", PASSWORDS["ana"]) is None


def test_screener_staff_hash_reads_the_password_from_standard_input(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("correct horse battery\n"))
    assert main(["staff-hash"]) == 0
    made = capsys.readouterr().out.strip()
    assert check(parse_accounts(f"x:staff:{made}"), "x", "correct horse battery")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("short\n"))
    assert main(["staff-hash"]) == 2


def test_screener_run_makes_a_local_account_only_without_accounts_or_twilio(monkeypatch):
    monkeypatch.delenv("STAFF_USERS", raising=False)
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    name, password = local_account()
    import os

    assert check(parse_accounts(os.environ["STAFF_USERS"]), name, password)
    monkeypatch.delenv("STAFF_USERS")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    assert local_account() is None and "STAFF_USERS" not in os.environ


# -- the web side -----------------------------------------------------------------------------

def test_every_staff_page_sends_a_signed_out_visitor_to_sign_in(app):
    client = app.test_client()
    pages = staff_pages(app)
    assert "/staff/" in pages
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302, page
        assert "/staff/login" in response.headers["Location"], page


def test_without_accounts_sign_in_says_how_to_make_one(fake_redis, content):
    client = make_app(fake_redis, content).test_client()
    page = client.get("/staff/login")
    assert page.status_code == 503 and "screener staff-hash" in page.text


def test_a_form_without_its_csrf_token_is_refused(app):
    client = app.test_client()
    response = client.post("/staff/login", data={"username": "ana",
                                                  "password": PASSWORDS["ana"]})
    assert response.status_code == 400
    signed = signed_in(app)
    assert signed.post("/staff/logout").status_code == 400  # signing out too


def test_twilio_routes_stay_signed_by_twilio_not_by_csrf(app):
    response = app.test_client().post("/twilio/messages", data={"Body": "hi"})
    assert response.status_code == 403  # the signature check, not a CSRF 400


def test_only_a_request_with_the_staff_cookie_pays_for_checking_its_signature(app, monkeypatch):
    built = []
    signer = StaffSessions.get_signing_serializer
    monkeypatch.setattr(StaffSessions, "get_signing_serializer",
                        lambda self, app: built.append(1) or signer(self, app))
    app.test_client().post("/twilio/messages", data={"Body": "hi"})
    assert built == []  # a Twilio web hook never brings the cookie
    client = signed_in(app)
    assert client.get("/staff/flow").status_code == 200 and built
    forged = app.test_client()
    forged.set_cookie("staff", client.get_cookie("staff").value[:-2] + "xx")
    assert forged.get("/staff/flow").status_code == 302  # a cookie whose signature fails


def test_a_wrong_password_is_refused_and_the_sixth_try_waits(app):
    client = app.test_client()
    for attempt in range(6):
        response = client.post("/staff/login", data={
            "username": "ana", "password": "guess", "csrf_token": token(client)})
        assert response.status_code == (401 if attempt < 5 else 429)
    right = client.post("/staff/login", data={
        "username": "ana", "password": PASSWORDS["ana"], "csrf_token": token(client)})
    assert right.status_code == 429  # even the right password, until the window passes
    keys = [k.decode() for k in app.extensions["textline"].store.redis.scan_iter("sj:staff:*")]
    assert keys and not any("ana" in k or "127.0.0.1" in k for k in keys)


def test_the_session_cookie_is_signed_http_only_and_secure_over_https(fake_redis, content):
    app = make_app(fake_redis, content, STAFF_USERS=STAFF_USERS,
                   PUBLIC_URL="https://textline.example.org")
    client = app.test_client()
    response = client.post("/staff/login", data={
        "username": "ana", "password": PASSWORDS["ana"], "csrf_token": token(client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_sign_in_goes_back_only_to_a_console_page(app):
    client = app.test_client()
    for target, lands in (("/staff/flow", "/staff/flow"), ("https://evil.example/x", "/staff/"),
                          ("//evil.example", "/staff/")):
        response = client.post("/staff/login", data={
            "username": "sam", "password": PASSWORDS["sam"], "next": target,
            "csrf_token": token(client)})
        assert response.headers["Location"] == lands, target
        client.post("/staff/logout", data={"csrf_token": token(client, "/staff/login")})


# -- in a real browser ------------------------------------------------------------------------

@pytest.mark.browser
def test_in_chromium_signing_in_and_out_and_no_page_without_it(app, browser, serve):
    base = serve(app)
    for page in staff_pages(app):
        browser.get(base + page)
        wait_for(browser, "#username")  # every page sends a signed-out visitor to sign in
    sign_in(browser, base, "ana")
    assert "ana (admin)" in browser.find_element(By.CSS_SELECTOR, ".who").text
    browser.find_element(By.CSS_SELECTOR, "form.signout button").click()
    wait_for(browser, "#username")
    browser.get(base + "/staff/")
    wait_for(browser, "#username")


@pytest.mark.browser
def test_in_chromium_a_form_without_its_token_is_refused(app, browser, serve):
    base = serve(app)
    browser.get(base + "/staff/login")
    wait_for(browser, "#username")
    browser.execute_script(
        "document.querySelector('input[name=csrf_token]').remove();"
        "document.getElementById('username').value='ana';"
        f"document.getElementById('password').value='{PASSWORDS['ana']}';"
        "document.querySelector('form button[type=submit]').click();")
    wait_for(browser, "body")
    assert "CSRF" in browser.page_source or "Bad Request" in browser.page_source
    browser.get(base + "/staff/")
    wait_for(browser, "#username")  # not signed in


def test_staff_print_a_campaigns_flyer_from_the_console(app):
    client = signed_in(app, "sam")
    page = client.get("/staff/flyers").text
    assert "FERIA" in page and "/staff/flyers/feria_salud_2027-hi.pdf" in page
    pdf = client.get("/staff/flyers/feria_salud_2027-hi.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    png = client.get("/staff/flyers/mela_2027-pa.png")
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    assert client.get("/staff/flyers/nothing-hi.pdf").status_code == 404
    assert signed_in(app, "nia").get("/staff/flyers").status_code == 403
