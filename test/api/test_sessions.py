"""POST /v1/sessions: log-in with ID number, password and TOTP second factor.

Covers the success answer (token, RFC 3339 expiry in the future), the 401 answers for every wrong credential (all
identical, so they give no hint which part was wrong), the TOTP window (the previous 30-s step is accepted, a code
two steps old is not), and the throttling of repeated failures: slowed after 5 consecutive failures (429 with
Retry-After, even for the right credentials), reset by a success, locked after 10, per account, and kept across a
restart of the server. Lock-out tests run on their own server (`fresh_city`) with --login-delay-ms 200.
"""
import datetime as dt
import re
import time

import pytest

from conftest import MISSING, assert_error, totp, wait_for_step_margin, wrong_otp

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
WRONG_PASSWORD = "definitely-not-the-password"
POLL_DEADLINE = 15.0  # seconds; the longest slow-down step at 200 ms is 3.2 s


def parse_time(s):
    assert RFC3339_UTC.match(s), s
    return dt.datetime.strptime(s.split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)


def otp_steps_ago(secret, steps):
    """The code of `steps` steps ago, chosen so that it differs from every code the server may accept now."""
    now = time.time()
    accepted = {totp(secret, now + k * 30) for k in (-1, 0, 1, 2)}
    while totp(secret, now - steps * 30) in accepted:
        steps += 1
    return totp(secret, now - steps * 30)


def assert_unauthenticated(resp):
    assert_error(resp, 401, "unauthenticated")
    return resp.json()


def assert_rate_limited(resp):
    assert_error(resp, 429, "rate_limited")
    ra = resp.headers.get("Retry-After")
    assert ra is not None and ra.strip().isdigit(), f"Retry-After: {ra!r}"
    return int(ra)


# -- success ---------------------------------------------------------------------------------------------------------


def test_login(city):
    p = city.register_new()
    r = city.login(p)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    body = r.json()
    assert isinstance(body["token"], str) and len(body["token"]) >= 16
    city.remember(body["token"])
    expires = parse_time(body["expires_at"])
    assert expires > dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)
    assert city.get("/v1/me", token=body["token"]).status_code == 200


@pytest.mark.parametrize("channel", ["app", "wechat", "alipay", "web", None])
def test_login_on_each_channel(city, channel):
    p = city.register_new()
    city.login_ok(p, channel=channel)


def test_two_logins_give_different_tokens(city):
    p, q = city.register_new(), city.register_new()
    assert city.login_ok(p) != city.login_ok(q)


def test_previous_step_otp_accepted(city):
    p = city.register_new()
    wait_for_step_margin(3)
    city.login_ok(p, otp=totp(p.secret, time.time() - 30))


def test_otp_two_steps_old_refused(city):
    p = city.register_new()
    assert_unauthenticated(city.login(p, otp=otp_steps_ago(p.secret, 2)))
    city.login_ok(p)


# -- failures --------------------------------------------------------------------------------------------------------


def test_wrong_password(city):
    p = city.register_new()
    assert_unauthenticated(city.login(p, password=WRONG_PASSWORD))
    city.login_ok(p)


def test_wrong_otp(city):
    p = city.register_new()
    assert_unauthenticated(city.login(p, otp=wrong_otp(p.secret)))
    city.login_ok(p)


@pytest.mark.parametrize("otp", [MISSING, "", "12345", "1234567", "abcdef", None])
def test_missing_or_malformed_otp(city, otp):
    p = city.register_new()
    r = city.login(p, omit=("otp",)) if otp is MISSING else city.login(p, otp=otp)
    assert_unauthenticated(r)
    city.login_ok(p)


def test_unknown_id_number(city):
    outsider = city.outsider()  # valid, not in the registry
    resident = city.new_person()  # in the registry, never registered
    for p in (outsider, resident):
        r = city.login(p, otp="123456")
        assert_unauthenticated(r)


def test_failures_are_indistinguishable(city):
    p = city.register_new()
    stranger = city.new_person()
    answers = [
        city.login(p, password=WRONG_PASSWORD),
        city.login(p, otp=wrong_otp(p.secret)),
        city.login(p, omit=("otp",)),
        city.login(stranger, otp="123456"),
    ]
    bodies = [assert_unauthenticated(r) for r in answers]
    assert all(b == bodies[0] for b in bodies), bodies
    for r in answers:
        assert r.headers.get("Retry-After") is None
        assert r.headers.get("WWW-Authenticate") == answers[0].headers.get("WWW-Authenticate")
    # three failures are below the threshold: the right credentials still work at once
    city.login_ok(p)


# -- throttling and lock-out -----------------------------------------------------------------------------------------


def fail_once(city, p):
    """Polls with a wrong password until the server checks it (answers other than 429); returns that answer."""
    deadline = time.monotonic() + POLL_DEADLINE
    while True:
        r = city.login(p, password=WRONG_PASSWORD)
        if r.status_code != 429:
            return r
        assert_rate_limited(r)
        assert time.monotonic() < deadline, "still rate limited after the delay should have passed"
        time.sleep(0.01)


def login_when_allowed(city, p):
    """Polls with the right credentials until the answer is not 429; returns it."""
    deadline = time.monotonic() + POLL_DEADLINE
    while True:
        r = city.login(p)
        if r.status_code != 429:
            return r
        assert_rate_limited(r)
        assert time.monotonic() < deadline, "still rate limited after the delay should have passed"
        time.sleep(0.01)


def lock(city, p):
    for i in range(10):
        r = fail_once(city, p)
        assert_unauthenticated(r)


def test_slowed_after_five_failures_and_reset_by_success(fresh_city):
    city = fresh_city
    p, other = city.register_new(), city.register_new()
    for _ in range(5):
        assert_unauthenticated(city.login(p, password=WRONG_PASSWORD))
    # at once: too early, even with the right password and code
    assert_rate_limited(city.login(p))
    assert_rate_limited(city.login(p, password=WRONG_PASSWORD))
    # another account is not slowed
    city.login_ok(other)
    # after the delay, the right credentials log in
    r = login_when_allowed(city, p)
    assert r.status_code == 200, r.text
    city.remember(r.json()["token"])
    # and the count starts again: five failures in a row are all checked, the sixth attempt is too early
    for _ in range(5):
        assert_unauthenticated(city.login(p, password=WRONG_PASSWORD))
    assert_rate_limited(city.login(p))


def test_locked_after_ten_failures(fresh_city):
    city = fresh_city
    p, other = city.register_new(), city.register_new()
    lock(city, p)
    retry = assert_rate_limited(city.login(p))
    assert 600 <= retry <= 901, f"locked for 15 minutes, but Retry-After is {retry}"
    # still locked after the longest slow-down step has passed many times over: polling never gets through
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        assert_rate_limited(city.login(p))
        time.sleep(0.1)
    city.login_ok(other)


def test_lockout_survives_restart(fresh_city):
    city = fresh_city
    p = city.register_new()
    lock(city, p)
    assert_rate_limited(city.login(p))
    city.restart()
    retry = assert_rate_limited(city.login(p))
    assert retry >= 600


def test_failures_are_counted_per_account(fresh_city):
    city = fresh_city
    a, b = city.register_new(), city.register_new()
    for _ in range(4):
        assert_unauthenticated(city.login(a, password=WRONG_PASSWORD))
        assert_unauthenticated(city.login(b, password=WRONG_PASSWORD))
    # four each: neither account is slowed
    city.login_ok(a)
    city.login_ok(b)
