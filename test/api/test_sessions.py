"""POST /v1/sessions: log-in with ID number, password and TOTP second factor.

Covers the success answer (token, RFC 3339 expiry in the future), the 401 answers for every wrong credential (all
identical, so they give no hint which part was wrong), the TOTP window (the previous 30-s step is accepted, a code
two steps old is not), single use of a code (RFC 6238 5.2: the code of a successful log-in, or of any step before
it, is refused like a wrong password, counts as a failure, and stays refused after a crash; a failed attempt does
not use up its code; the next step's code is accepted; concurrent log-ins with one code succeed once), and the
throttling of repeated failures: slowed after 5 consecutive failures (429 with Retry-After, even for the right
credentials), reset by a success, locked after 10, per account, kept across a restart of the server, and not outrun
by concurrent attempts. Lock-out tests run on their own server (`fresh_city`) with --login-delay-ms 200; the tests
that an attempt at once after the 5th failure is too early, on one with 2000 (`slow_city`).
"""
import datetime as dt
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import (HTTP_TIMEOUT, MISSING, _city, assert_error, totp, totp_at_step, totp_step_now, used_totp_step,
                      wait_for_step_margin, wrong_otp)

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
WRONG_PASSWORD = "definitely-not-the-password"
POLL_DEADLINE = 15.0  # seconds; the longest slow-down step at 200 ms is 3.2 s


@pytest.fixture
def slow_city(tmp_path):
    """A server of its own whose 5th failure slows the account for 2 s: an attempt sent at once after the 5th answer
    must reach the server within that. The slow-down starts before the 5th attempt's password hash, which a loaded
    machine can spend most of 200 ms on, so that 200 ms may be over by the time the answer comes."""
    c = _city(tmp_path, pool=12, login_delay_ms=2000)
    yield c
    c.close()


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


# -- one-time codes are single use (RFC 6238 5.2) --------------------------------------------------------------------


def test_code_of_a_successful_login_is_not_accepted_again(slow_city):
    city = slow_city
    p = city.register_new()
    wait_for_step_margin(5)
    code = totp(p.secret)
    token = city.login_ok(p, otp=code)
    # the same code again, with the right password, within its step: refused like a wrong password
    reused = city.login(p, otp=code)
    wrong = city.login(p, password=WRONG_PASSWORD)  # with the next step's code
    assert_unauthenticated(reused)
    assert reused.json() == assert_unauthenticated(wrong)
    for r in (reused, wrong):
        assert r.headers.get("Retry-After") is None
        assert r.headers.get("WWW-Authenticate") == wrong.headers.get("WWW-Authenticate")
    # the first session is unharmed
    assert city.get("/v1/me", token=token).status_code == 200
    # the reuse counted as a failure: with it and the wrong password, three more make five; the next is too early
    for _ in range(3):
        assert_unauthenticated(city.login(p, password=WRONG_PASSWORD))
    assert_rate_limited(city.login(p))
    # after the delay the next step's code logs in
    r = login_when_allowed(city, p)
    assert r.status_code == 200, r.text
    assert r.otp_sent != code
    city.remember(r.json()["token"])


def test_next_step_code_accepted_after_current_one(city):
    p = city.register_new()
    wait_for_step_margin(5)
    now = totp_step_now()
    first = city.login_ok(p, otp=totp_at_step(p.secret, now))
    second = city.login_ok(p, otp=totp_at_step(p.secret, now + 1))
    assert first != second
    for token in (first, second):
        r = city.get("/v1/me", token=token)
        assert r.status_code == 200, r.text
        assert r.json()["citizen_id"] == p.citizen_id
    # the window is used up to the step after now: its code again, or the current one, is refused
    assert_unauthenticated(city.login(p, otp=totp_at_step(p.secret, now + 1)))
    assert_unauthenticated(city.login(p, otp=totp_at_step(p.secret, now)))


def test_code_of_a_step_before_the_last_used_one_refused(city):
    p = city.register_new()
    wait_for_step_margin(5)
    now = totp_step_now()
    earlier, current = totp_at_step(p.secret, now - 1), totp_at_step(p.secret, now)
    if earlier == current:
        pytest.skip("the codes of two consecutive steps coincide (one chance in a million)")
    city.login_ok(p, otp=current)
    # the step before now is in the drift window, but it comes before the step just used
    assert_unauthenticated(city.login(p, otp=earlier))
    # a failed attempt does not use up a step: the step after now still logs in (the helper's choice)
    r = city.login(p)
    assert r.status_code == 200, r.text
    assert r.otp_step == now + 1
    city.remember(r.json()["token"])


def test_failed_login_does_not_use_up_the_code(city):
    p = city.register_new()
    wait_for_step_margin(5)
    code = totp(p.secret)
    assert_unauthenticated(city.login(p, password=WRONG_PASSWORD, otp=code))
    city.login_ok(p, otp=code)


def test_used_code_stays_used_across_a_crash(fresh_city):
    city = fresh_city
    p = city.register_new()
    wait_for_step_margin(5)
    code = totp(p.secret)
    city.login_ok(p, otp=code)
    city.kill()  # SIGKILL right after the answer: the step was recorded before it
    city.start()
    assert_unauthenticated(city.login(p, otp=code))
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


def test_slowed_after_five_failures_and_reset_by_success(slow_city):
    city = slow_city
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


# -- concurrent attempts ---------------------------------------------------------------------------------------------

CONCURRENT = 24
SERVER_THREADS = 8


def concurrent_logins(city, body, n=CONCURRENT):
    """n POST /v1/sessions of the same body, sent at once from n threads; returns the answers and the seconds from
    the first request sent to the last answer received."""
    barrier = threading.Barrier(n + 1)

    def one(_):
        with requests.Session() as s:
            barrier.wait(timeout=HTTP_TIMEOUT)
            return s.post(city.url("/v1/sessions"), json=body, headers={"X-Channel": "app"}, timeout=HTTP_TIMEOUT)

    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        start = time.monotonic()  # no request leaves before this thread, too, reaches the barrier
        barrier.wait(timeout=HTTP_TIMEOUT)
        answers = [f.result() for f in futures]
        return answers, time.monotonic() - start


def concurrent_wrong_logins(city, p, n=CONCURRENT):
    """n log-ins with a wrong password (and a valid code) at once."""
    return concurrent_logins(city, {"id_number": p.id_number, "password": WRONG_PASSWORD, "otp": totp(p.secret)}, n)


def test_concurrent_failures_do_not_outrun_the_count(fresh_city):
    """Bursts of 24 wrong passwords at once against 8 server threads, until the account is locked. The rules allow
    the first 5 failures at once; after that each checked attempt must wait at least --login-delay-ms (doubling) after
    the one before, so a burst that lasts D seconds holds at most 1 + D / delay of them; the 10th locks the account."""
    city = fresh_city
    city.stop()
    city.start(extra_args=("--threads", str(SERVER_THREADS)))
    p, other = city.register_new(), city.register_new()
    delay = city.login_delay_ms / 1000
    checked = 0  # 401 answers: attempts the server checked
    bursts = 0
    deadline = time.monotonic() + 30.0  # the slow-down steps before the lock add up to 6.2 s at 200 ms
    while checked < 10:
        answers, took = concurrent_wrong_logins(city, p)
        bursts += 1
        n401 = 0
        for r in answers:
            if r.status_code == 401:
                assert_unauthenticated(r)
                n401 += 1
            else:
                assert_rate_limited(r)
        if bursts == 1:
            # the first five attempts are never slowed
            assert n401 >= 5, f"only {n401} of {CONCURRENT} attempts on a fresh account were checked"
        slowed = checked + n401 - max(checked, 5)  # checked in this burst after the fifth failure
        allowed = 1 + int(took / delay)
        assert slowed <= allowed, f"burst {bursts} of {CONCURRENT} ({took * 1000:.0f} ms): {n401} attempts " \
                                  f"checked after {checked} failures; the delay allows at most {allowed} past the fifth"
        checked += n401
        assert checked <= 10, f"{checked} failed attempts checked (in {bursts} bursts of {CONCURRENT}): the 10th " \
                              f"should have locked the account"
        assert time.monotonic() < deadline, f"only {checked} attempts checked in {bursts} bursts"
        time.sleep(0.05)
    # locked: the right credentials are refused, and so is every attempt of another burst
    retry = assert_rate_limited(city.login(p))
    assert 600 <= retry <= 901, f"locked for 15 minutes, but Retry-After is {retry}"
    answers, _ = concurrent_wrong_logins(city, p)
    for r in answers:
        assert_rate_limited(r)
    city.login_ok(other)


def test_concurrent_logins_with_one_code_succeed_once(fresh_city):
    """The right credentials, the same code, sent 8 times at once to 8 server threads: one log-in, no more."""
    city = fresh_city
    city.stop()
    city.start(extra_args=("--threads", str(SERVER_THREADS)))
    p = city.register_new()
    wait_for_step_margin(5)
    step = totp_step_now()
    answers, _ = concurrent_logins(city, {"id_number": p.id_number, "password": p.password,
                                          "otp": totp_at_step(p.secret, step)}, SERVER_THREADS)
    ok = [r for r in answers if r.status_code == 200]
    for r in ok:
        city.remember(r.json()["token"])
    used_totp_step(p, step)
    assert len(ok) == 1, f"{len(ok)} of {SERVER_THREADS} concurrent log-ins with one code succeeded: " \
                         f"{sorted(r.status_code for r in answers)}"
    for r in answers:
        if r.status_code == 429:
            assert_rate_limited(r)
        elif r.status_code != 200:
            assert_unauthenticated(r)
    assert city.get("/v1/me", token=ok[0].json()["token"]).status_code == 200
    # the next step's code logs in (once the throttle, if the failures reached it, lets it)
    r = login_when_allowed(city, p)
    assert r.status_code == 200, r.text
    assert r.otp_step == step + 1
    city.remember(r.json()["token"])


# -- logging out (DELETE /v1/sessions) ---------------------------------------------------------------------------------


def test_logout_ends_that_session_only(city):
    from conftest import resident as _resident
    p, token = _resident(city)
    other = city.login_ok(p)  # a second session of the same person (another phone)
    r = city.request("DELETE", "/v1/sessions", token=token)
    assert r.status_code == 200 and r.json() == {"status": "logged_out"}, r.text
    assert_error(city.get("/v1/me", token=token), 401, "unauthenticated")
    assert city.get("/v1/me", token=other).status_code == 200
    # logging out again with the ended token is refused like any unknown token
    assert_error(city.request("DELETE", "/v1/sessions", token=token), 401, "unauthenticated")
    assert_error(city.request("DELETE", "/v1/sessions"), 401, "unauthenticated")


def test_logout_survives_a_restart(fresh_city):
    from conftest import resident as _resident
    p, token = _resident(fresh_city)
    assert fresh_city.request("DELETE", "/v1/sessions", token=token).status_code == 200
    fresh_city.kill()
    fresh_city.start()
    assert_error(fresh_city.get("/v1/me", token=token), 401, "unauthenticated")


# -- endpoints without a body take an empty object, and nothing else ---------------------------------------------------


def test_no_body_endpoints_take_an_empty_object(city):
    from conftest import resident as _resident
    p, token = _resident(city)
    for body in (b"{}", b" { } \n"):
        r = city.request("GET", "/v1/me", data=body, token=token)
        assert r.status_code == 200, (body, r.text)
    assert_error(city.request("GET", "/v1/me", data=b'{"a":1}', token=token), 400, "invalid_argument")
    assert_error(city.request("GET", "/v1/me", data=b"[]", token=token), 400, "invalid_argument")
    # what follows a NUL is part of the body too (it used to be read as a C string, and "{}\0xyz" passed)
    assert_error(city.request("GET", "/v1/me", data=b"{}\0xyz", token=token), 400, "invalid_argument")
    assert_error(city.request("GET", "/v1/me", data=b"{", token=token), 400, "invalid_argument")
    assert_error(city.request("GET", "/v1/me", data=b"{" + b" " * 64 + b"}", token=token), 413, "too_large")
    # and a logged-out session stays logged out whatever the body
    r = city.request("DELETE", "/v1/sessions", data=b"{}", token=token)
    assert r.status_code == 200, r.text
    assert_error(city.get("/v1/me", token=token), 401, "unauthenticated")
