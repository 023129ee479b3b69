"""Failed log-ins do not tell who is registered (issue 11 item 2).

The same sequence of wrong log-ins is sent for a registered resident's ID number, for the number of a person of the
registry who never registered, and for a valid number that is not in the registry at all. The answers must be the
same for all three, answer by answer: status, error body and headers (Retry-After included; only Date is left out):
four failures at once, then from the 5th each next attempt must wait (--login-delay-ms, doubling), and at the 10th
the number is locked for 15 minutes; the lock-out survives a restart of the server for every number alike. Before
the fix only the resident's number was ever slowed or locked.

Retry-After is a function of the clock, so the attempts that are refused (the probes) are sent at times that fix
it: a probe after a failure whose delay d is at least a second goes d mod 1000 ms after that failure's answer, so
that what is left of the delay is a whole number of seconds less the time the server took from counting the failure
to counting the probe; Retry-After (rounded up) is then that whole number as long as that time is under a second.
The next failure is sent once the delay has passed since the answer (later is as good: nothing else changes the
count). The numbers are driven at once from three threads, each at its own times.

A number that fails GB 11643 cannot be anyone's account: it is answered like any wrong credential and never counted.
"""
import threading
import time

from conftest import LOGIN_DELAY_MS, assert_error

WRONG_PASSWORD = "definitely-not-the-password"
LOCK_MS = 15 * 60 * 1000


def delay_ms(failures):
    """The wait the server's rules set after the given number of consecutive failures (core/identity.h)."""
    if failures >= 10:
        return LOCK_MS
    if failures < 5:
        return 0
    return LOGIN_DELAY_MS * 2 ** (failures - 5)


def until(t):
    """Waits until time.monotonic() reaches t (a time the server's rules name, not an event)."""
    while (left := t - time.monotonic()) > 0:
        time.sleep(left)


class Prober:
    """One ID number's wrong log-ins, each answer kept as (label, status, body, headers without Date)."""

    def __init__(self, city, id_number):
        self.city = city
        self.body = {"id_number": id_number, "password": WRONG_PASSWORD, "otp": "000000"}
        self.answers = []
        self.answered_at = None  # time.monotonic() when the last answer arrived
        self.error = None

    def send(self, label):
        r = self.city.post("/v1/sessions", self.body, channel="app")
        self.answered_at = time.monotonic()
        headers = {k.lower(): v for k, v in r.headers.items() if k.lower() != "date"}
        self.answers.append((label, r.status_code, r.json(), headers))
        return r

    def lock(self):
        """Ten failures, with a probe after each from the 7th (a delay of 800 ms and more: room for a busy server)."""
        for k in range(1, 11):
            r = self.send(f"failure {k}")
            assert_error(r, 401, "unauthenticated")
            d, answered = delay_ms(k), self.answered_at
            if k >= 7:
                until(answered + (d % 1000 if d >= 1000 else 0) / 1000)
                self.send(f"probe after failure {k}")
            if k < 10:
                until(answered + d / 1000 + 0.02)
        self.locked_at = answered

    def run(self):
        try:
            self.lock()
        except BaseException as e:  # reported by the test's thread
            self.error = e


def expected_retry_after(k):
    d = delay_ms(k)
    return d // 1000 if d >= 1000 else 1


def test_failed_logins_answer_alike_registered_or_not(fresh_city):
    city = fresh_city
    resident = city.register_new()
    unregistered = city.new_person()  # in the registry, never registered
    outsider = city.outsider()  # a valid number that is not in the registry
    probers = [Prober(city, p.id_number) for p in (resident, unregistered, outsider)]
    threads = [threading.Thread(target=p.run) for p in probers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in probers:
        if p.error:
            raise p.error

    ours = probers[0].answers
    # what the rules say, shown on the resident's number: refused probes with a Retry-After of the delay left
    assert [a[1] for a in ours] == [401] * 7 + [429, 401, 429, 401, 429, 401, 429], ours
    for label, status, body, headers in ours:
        if status == 429:
            k = int(label.rsplit(" ", 1)[1])
            assert body["error"]["code"] == "rate_limited", body
            assert headers.get("retry-after") == str(expected_retry_after(k)), (label, headers)
    # and every answer the same for the other two numbers
    for p, who in zip(probers[1:], ("a registry person who never registered", "a number not in the registry")):
        assert p.answers == ours, f"the answers for {who} differ from a resident's"

    # the lock-out survives a restart, for every number alike; probes at whole seconds after each one's 10th failure
    city.restart()
    after = 1000 * (int((time.monotonic() - min(p.locked_at for p in probers)) * 1000) // 1000 + 1)
    for p in sorted(probers, key=lambda p: p.locked_at):
        until(p.locked_at + after / 1000)
        p.answers = []
        p.send("probe after a restart")
    ours = probers[0].answers
    assert ours[0][1] == 429 and ours[0][3]["retry-after"] == str((LOCK_MS - after) // 1000), ours
    for p in probers[1:]:
        assert p.answers == ours


def test_malformed_number_is_never_counted(fresh_city):
    """A number that fails GB 11643 (here: its check character) is no one's: twelve wrong log-ins with it are each
    answered 401 like any wrong credential, and none is slowed."""
    city = fresh_city
    p = city.outsider()
    bad = p.id_number[:17] + ("0" if p.id_number[17] != "0" else "1")
    body = {"id_number": bad, "password": WRONG_PASSWORD, "otp": "000000"}
    good = city.post("/v1/sessions", {**body, "id_number": city.outsider().id_number}, channel="app")
    for _ in range(12):
        r = city.post("/v1/sessions", body, channel="app")
        assert_error(r, 401, "unauthenticated")
        assert r.json() == good.json()
        assert r.headers.get("Retry-After") is None
