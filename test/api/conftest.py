"""Shared machinery for the black-box API tests: a synthetic city around a real `suishen serve`.

A `City` owns a temporary data directory. It runs `suishen init`, writes and imports a population registry of
synthetic people (valid GB 11643 ID numbers, Chinese names, phone numbers), creates staff with the command line,
and starts `suishen serve` on a free loopback port, waiting for GET /healthz with a deadline. At the end it stops the
server with SIGTERM (which must exit 0) and checks that nothing the server wrote to stderr/stdout carries personal
data or secrets: no ID number, name, phone number, password, session or staff token, TOTP secret.

Fixtures:
  city       module-scoped, running; a pool of registry people, one staff member per role. Tests that share it
             take fresh people from the pool (`city.new_person()`), so they do not interfere.
  fresh_city function-scoped, running; for tests that change global state (lock-out, restarts, keys).
  bare_city  function-scoped, initialised but not started and without a registry; for command-line tests.

Helpers: `totp(secret_b32, t=None)` (RFC 6238, HMAC-SHA1, 6 digits, 30 s), `secret_of(totp_uri)`,
`assert_error(resp, status, code, field=None)` (the one error shape of the contract), `make_id_number(...)`.

One-time codes are single use (RFC 6238 5.2): the server accepts the code of the 30-s step before, at and after now,
but only for a step above the one of the person's last successful log-in. `City.login()` therefore remembers, per
person, the step of each successful log-in (`Person.totp_last_step`; also when the test passed the code itself) and,
when the test leaves the code to it, sends the code of the smallest step the server still accepts
(`next_totp_step()`), waiting (polling, with a deadline) in the rare case that a person has used up the window.
Tests that pass `otp=` send exactly that code.
"""
import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SUISHEN_BIN") or str(REPO / "build" / "suishen")

START_DEADLINE = 30.0  # seconds; generous for sanitizer builds
STOP_DEADLINE = 15.0  # the server finishes requests in flight for up to 10 s
HTTP_TIMEOUT = 15.0
# every test speaks from 127.0.0.1: log-ins and registrations from one address are limited to 20 a second by
# default (serve --logins-per-ip), more than the tests' pace allows; test_http.py checks the default
LOGINS_PER_IP = int(os.environ.get("SUISHEN_TEST_LOGINS_PER_IP", "100000")) or None  # 0: leave the option out
LOGIN_DELAY_MS = 200  # long enough that "at once" is at once even on a loaded CI machine

CSV_HEADER = "id_number,name,sex,birth_date,division,phone"
ROLES = ("admin", "operator", "handler", "epidemiologist", "security")
CHANNELS = ("app", "wechat", "alipay", "web")
MISSING = object()  # a body member to leave out

# ---------------------------------------------------------------------------------------------------------------
# GB 11643 ID numbers


WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
SHANGHAI = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113", "310114",
            "310115", "310116", "310117", "310118", "310120", "310151")


def check_char(body17):
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of an ID number."""
    assert len(body17) == 17 and body17.isdigit()
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(body17, WEIGHTS)) % 11]


def make_id_number(division, birth_yyyymmdd, seq):
    """A well-formed ID number with a correct check character (the date and division are not checked here)."""
    body = f"{division}{birth_yyyymmdd}{seq:03d}"
    return body + check_char(body)


def wrong_check_char(id_number):
    """The same ID number with a wrong check character."""
    right = id_number[17].upper()
    return id_number[:17] + ("0" if right != "0" else "1")


# ---------------------------------------------------------------------------------------------------------------
# Synthetic people

SURNAMES = ("张", "李", "王", "欧阳", "陈", "司马", "刘", "赵", "黄", "周")
GIVEN = ("三", "四", "小明", "建国", "秀英", "伟", "静", "晓红", "志强", "敏")
FIXED_NAMES = ("张三", "欧阳小明", "李四")

_serial = itertools.count(1)
_password_salt = os.urandom(3).hex()


class Person:
    """One synthetic resident of the population registry (and, once registered, a citizen)."""

    def __init__(self, id_number, name, sex, birth_date, division, phone, password):
        self.id_number = id_number
        self.name = name
        self.sex = sex
        self.birth_date = birth_date  # YYYY-MM-DD
        self.division = division
        self.phone = phone
        self.password = password
        self.guardians = []  # ID numbers of the guardians the registry names (its optional guardians column)
        self.citizen_id = None
        self.secret = None  # base32 TOTP secret, once registered
        self.totp_uri = None
        self.totp_last_step = None  # the TOTP step of the last successful log-in (each step logs in once only)
        self.used = False

    def csv_line(self, guardians=False):
        line = f"{self.id_number},{self.name},{self.sex},{self.birth_date},{self.division},{self.phone}"
        return line + "," + ";".join(self.guardians) if guardians else line

    def body(self, **overrides):
        """The POST /v1/citizens body; an override of MISSING leaves that member out."""
        b = {"name": self.name, "id_number": self.id_number, "phone": self.phone, "password": self.password}
        for k, v in overrides.items():
            if v is MISSING:
                b.pop(k, None)
            else:
                b[k] = v
        return b

    def __repr__(self):
        return f"Person({self.id_number}, {self.name})"


def make_person(name=None, want_x=False, division=None):
    """A new person with a unique, valid ID number; `want_x` makes its check character 'X'."""
    n = next(_serial)
    division = division or SHANGHAI[n % len(SHANGHAI)]
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(n * 53) % 20000)
    seq = (n * 7) % 1000
    for _ in range(1000):
        idn = make_id_number(division, birth.strftime("%Y%m%d"), seq)
        if not want_x or idn.endswith("X"):
            break
        seq = (seq + 1) % 1000
    sex = "M" if int(idn[16]) % 2 else "F"
    if name is None:
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]
    phone = f"139{(n * 7919 + 12345678) % 10 ** 8:08d}"
    password = f"pw-{_password_salt}-{n:05d}-secret"
    return Person(idn, name, sex, birth.isoformat(), division, phone, password)


# ---------------------------------------------------------------------------------------------------------------
# TOTP (RFC 6238 over RFC 4226)


def totp(secret_b32, t=None):
    """The 6-digit TOTP (HMAC-SHA1, 30 s steps, T0 = 0) of a base32 secret at Unix time t (default: now)."""
    s = secret_b32.strip().replace(" ", "").upper()
    key = base64.b32decode(s + "=" * (-len(s) % 8))
    counter = int((time.time() if t is None else t) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return f"{value:06d}"


def secret_of(totp_uri):
    """The `secret` parameter of an otpauth:// URI."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(totp_uri).query)
    assert "secret" in q, totp_uri
    return q["secret"][0]


def wait_for_step_margin(margin):
    """Returns once at least `margin` seconds are left in the current 30-s TOTP step (waits out the step if not),
    so that a test computing codes relative to "now" does not straddle a step boundary."""
    deadline = time.monotonic() + 31
    while 30 - (time.time() % 30) < margin:
        assert time.monotonic() < deadline
        time.sleep(0.05)


TOTP_STEP = 30  # seconds
TOTP_DRIFT = 1  # steps accepted either side of now
STEP_MARGIN = 2.0  # seconds: the step before now is not sent this close to the end of the current step, lest the
#                    server's clock has moved on (then it is two steps old) by the time it checks the code
STEP_WAIT_DEADLINE = TOTP_STEP + 10.0  # the longest wait for a step to come into the window, with room to spare
_step_lock = threading.Lock()
step_waits = []  # (person's ID number, seconds waited) for each log-in that had to wait for a step


def totp_step_now(t=None):
    return int((time.time() if t is None else t) // TOTP_STEP)


def totp_at_step(secret_b32, step):
    """The code of one TOTP step (counter)."""
    return totp(secret_b32, step * TOTP_STEP)


def steps_of_otp(secret_b32, otp, t_from, t_to):
    """The steps, within the drift window of any moment between t_from and t_to, whose code is `otp`."""
    lo, hi = totp_step_now(t_from) - TOTP_DRIFT, totp_step_now(t_to) + TOTP_DRIFT
    return [s for s in range(lo, hi + 1) if totp_at_step(secret_b32, s) == otp]


def next_totp_step(person):
    """The smallest TOTP step the server accepts for the person's next log-in: at least the step before now (the
    current one near the end of a step, see STEP_MARGIN), above the step of their last successful log-in. If that
    is beyond the step after now, waits (polling) until it comes into the window."""
    now = time.time()
    now_step = totp_step_now(now)
    lowest = now_step - TOTP_DRIFT if TOTP_STEP - now % TOTP_STEP >= STEP_MARGIN else now_step
    last = person.totp_last_step
    step = lowest if last is None else max(lowest, last + 1)
    if step > now_step + TOTP_DRIFT:
        start = time.monotonic()
        deadline = start + STEP_WAIT_DEADLINE
        while totp_step_now() < step - TOTP_DRIFT:
            assert time.monotonic() < deadline, f"TOTP step {step} not in the window within {STEP_WAIT_DEADLINE} s"
            time.sleep(min(0.1, max(0.005, (step - TOTP_DRIFT) * TOTP_STEP - time.time())))
        step_waits.append((person.id_number, time.monotonic() - start))
    return step


def used_totp_step(person, step):
    """Records that a log-in of `person` with the code of `step` succeeded."""
    with _step_lock:
        if person.totp_last_step is None or step > person.totp_last_step:
            person.totp_last_step = step


def pytest_terminal_summary(terminalreporter):
    if step_waits:
        total = sum(w for _, w in step_waits)
        terminalreporter.write_line(f"log-ins that waited for a fresh TOTP step: {len(step_waits)}, {total:.1f} s")


def wrong_otp(secret_b32):
    """A 6-digit code that is not valid for any step near now."""
    now = time.time()
    near = {totp(secret_b32, now + k * 30) for k in range(-3, 4)}
    v = (int(totp(secret_b32, now)) + 123457) % 1000000
    while f"{v:06d}" in near:
        v = (v + 1) % 1000000
    return f"{v:06d}"


# ---------------------------------------------------------------------------------------------------------------
# The error shape


def assert_error(resp, status, code, field=None):
    """The contract's one error shape: exactly {"error":{"code","message","field"?}} with the matching status."""
    assert resp.status_code == status, f"expected {status} {code}, got {resp.status_code}: {resp.text[:500]}"
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers.get("Content-Type")
    body = resp.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err, dict), body
    assert {"code", "message"} <= set(err) <= {"code", "message", "field"}, body
    assert err["code"] == code, body
    assert isinstance(err["message"], str) and err["message"], body
    if "field" in err:
        assert isinstance(err["field"], str) and err["field"], body
    if field is not None:
        assert err.get("field") == field, body
    return err


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra):
    """The environment for suishen, without a master key inherited from the caller."""
    env = {k: v for k, v in os.environ.items() if k != "SUISHEN_MASTER_KEY"}
    env.update(extra)
    return env


# ---------------------------------------------------------------------------------------------------------------
# The city


class City:
    """A data directory, its population registry and staff, and (when started) a `suishen serve` on it."""

    def __init__(self, root, login_delay_ms=LOGIN_DELAY_MS, logins_per_ip=LOGINS_PER_IP):
        self.root = Path(root)
        self.data = self.root / "data"
        self.log_path = self.root / "server.stderr"
        self.out_path = self.root / "server.stdout"
        self.login_delay_ms = login_delay_ms
        self.logins_per_ip = logins_per_ip  # None: the server's default
        self.proc = None
        self.port = None
        self.pool = []  # registry people not yet handed out
        self.people = []  # everyone ever written to a registry file for this city
        self.staff = {}  # role -> {"staff_id", "token", "name"}
        self.sensitive = set()  # strings that must never appear in the server's output
        self.server_runs = 0
        r = self.cli("init", "--data", str(self.data))
        assert r.returncode == 0, f"suishen init failed ({r.returncode}): {r.stderr}"

    # -- command line -------------------------------------------------------------------------------------------

    def cli(self, *args, env=None, timeout=60):
        """Runs `suishen ARGS...`; returns the CompletedProcess with stdout/stderr decoded as UTF-8."""
        p = subprocess.run([BIN, *map(str, args)], capture_output=True, env=env or clean_env(), timeout=timeout)
        p.stdout = p.stdout.decode("utf-8", "replace")
        p.stderr = p.stderr.decode("utf-8", "replace")
        return p

    def remember(self, *values):
        for v in values:
            if v:
                self.sensitive.add(str(v))

    def remember_person(self, p):
        self.remember(p.id_number, p.id_number.lower(), p.name, p.phone, p.password)

    def write_csv(self, people, name=None, header=None, extra_lines=()):
        """A registry file of people; with the guardians column when one of them has guardians (or header has it)."""
        path = self.root / (name or f"people-{next(_serial)}.csv")
        guardians = any(p.guardians for p in people) if header is None else header.endswith(",guardians")
        if header is None:
            header = CSV_HEADER + (",guardians" if guardians else "")
        lines = [header] + [p.csv_line(guardians) for p in people] + list(extra_lines)
        path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        for p in people:
            self.remember_person(p)
        return path

    def import_file(self, path):
        return self.cli("import", "population", "--data", str(self.data), str(path))

    def import_people(self, people):
        """Imports people into the registry (must succeed)."""
        path = self.write_csv(people)
        r = self.import_file(path)
        assert r.returncode == 0, f"import failed ({r.returncode}): {r.stderr}"
        self.people.extend(people)
        return r

    def add_pool(self, n, **kw):
        """Makes n people (half with the names of FIXED_NAMES, some with an 'X' check character), imports them and
        pools them."""
        people = [make_person(name=FIXED_NAMES[(i // 2) % len(FIXED_NAMES)] if i % 2 == 0 else None,
                              want_x=(i % 7 == 3), **kw) for i in range(n)]
        self.import_people(people)
        self.pool.extend(people)
        return people

    def new_person(self, name=None, want_x=False):
        """A registry person that no test has used yet."""
        def fits(p):
            return not p.used and (name is None or p.name == name) and (not want_x or p.id_number.endswith("X"))

        def plain(p):  # keep the people that some tests ask for by name or check character for them
            return p.name not in FIXED_NAMES and not p.id_number.endswith("X")

        plain_first = sorted(self.pool, key=lambda p: not plain(p)) if name is None and not want_x else self.pool
        for p in plain_first:
            if fits(p):
                p.used = True
                return p
        raise AssertionError(f"pool exhausted (name={name}, want_x={want_x}); make the pool bigger")

    def outsider(self):
        """A person with a valid ID number who is not in the registry."""
        p = make_person()
        self.remember_person(p)
        return p

    def create_staff(self, role, name):
        """`suishen staff create`; returns the parsed JSON line (must succeed)."""
        self.remember(name)
        r = self.cli("staff", "create", "--data", str(self.data), "--name", name, "--role", role)
        assert r.returncode == 0, f"staff create failed ({r.returncode}): {r.stderr}"
        lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
        assert len(lines) == 1, r.stdout
        out = json.loads(lines[0])
        self.remember(out.get("token"))
        out["name"] = name
        out["role"] = role
        return out

    def add_staff_per_role(self):
        # titles, not people's names: staff names are kept in clear, and the privacy tests look for residents' names
        # in the data files, which must not find a resident who happens to share a staff member's name
        names = {"admin": "系统管理员", "operator": "热线接线员", "handler": "申诉处理员", "epidemiologist": "流调人员",
                 "security": "安全审计员"}
        for role in ROLES:
            self.staff[role] = self.create_staff(role, names[role])

    # -- the server -----------------------------------------------------------------------------------------------

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def spawn(self, extra_args=(), env=None, port=None):
        """Starts `suishen serve` without waiting; output is appended to the city's log files."""
        self.port = port or free_port()
        self.server_runs += 1
        with open(self.log_path, "ab") as err, open(self.out_path, "ab") as out:
            proc = subprocess.Popen(
                [BIN, "serve", "--data", str(self.data), "--listen", f"127.0.0.1:{self.port}",
                 "--login-delay-ms", str(self.login_delay_ms),
                 *(["--logins-per-ip", str(self.logins_per_ip)] if self.logins_per_ip else []), *extra_args],
                stdout=out, stderr=err, env=env or clean_env())
        return proc

    def start(self, extra_args=(), env=None):
        assert not self.running, "server already running"
        self.proc = self.spawn(extra_args, env)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise AssertionError(f"suishen serve exited with {rc} before answering: {self.log_tail()}")
            try:
                r = requests.get(self.url("/healthz"), timeout=1)
                if r.status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"suishen serve not healthy within {START_DEADLINE} s"
            time.sleep(0.02)

    def stop(self):
        """SIGTERM; the server must exit 0 within a few seconds."""
        assert self.running, "server not running"
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            raise AssertionError(f"suishen serve did not exit within {STOP_DEADLINE} s of SIGTERM")
        self.proc = None
        assert rc == 0, f"suishen serve exited {rc} after SIGTERM: {self.log_tail()}"

    def kill(self):
        """SIGKILL: no chance to clean up."""
        assert self.running
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        self.start()

    def log_bytes(self):
        data = b""
        for p in (self.log_path, self.out_path):
            if p.exists():
                data += p.read_bytes()
        return data

    def log_tail(self, n=3000):
        return self.log_bytes()[-n:].decode("utf-8", "replace")

    def check_logs(self):
        """The server's output carries none of the personal data or secrets that the tests used."""
        log = self.log_bytes()
        leaked = sorted(s for s in self.sensitive if s.encode("utf-8") in log)
        assert not leaked, f"server output carries personal data or secrets: {leaked}"

    def close(self):
        try:
            if self.running:
                self.stop()
        finally:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        self.check_logs()

    # -- HTTP -------------------------------------------------------------------------------------------------------

    def request(self, method, path, json_body=MISSING, data=None, headers=None, token=None, channel=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if channel is not None:
            h["X-Channel"] = channel
        kw = {}
        if json_body is not MISSING:
            kw["data"] = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            h.setdefault("Content-Type", "application/json")
        elif data is not None:
            kw["data"] = data
            h.setdefault("Content-Type", "application/json")
        return requests.request(method, self.url(path), headers=h, timeout=HTTP_TIMEOUT, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=MISSING, **kw):
        return self.request("POST", path, json_body=body, **kw)

    def register(self, person, channel="app", **overrides):
        """POST /v1/citizens for a person (members overridable); returns the response."""
        self.remember_person(person)
        for k in ("name", "id_number", "phone", "password"):
            if isinstance(overrides.get(k), str):
                self.remember(overrides[k])
        return self.post("/v1/citizens", person.body(**overrides), channel=channel)

    def register_ok(self, person, channel="app", **overrides):
        """Registers a person (must answer 201) and records their citizen id and TOTP secret."""
        r = self.register(person, channel, **overrides)
        assert r.status_code == 201, f"registration failed: {r.status_code} {r.text}"
        return self.adopt(person, r.json(), **overrides)

    def adopt(self, person, body, **overrides):
        """Records what a 201 answer to a registration of `person` (with `overrides`) gave them."""
        person.citizen_id = body["citizen_id"]
        person.totp_uri = body["totp_uri"]
        person.secret = secret_of(body["totp_uri"])
        self.remember(person.secret)
        if "password" in overrides:
            person.password = overrides["password"]
        if "phone" in overrides:
            person.phone = overrides["phone"]
        return body

    def register_new(self, **kw):
        p = self.new_person(**kw)
        self.register_ok(p)
        return p

    def login(self, person, password=None, otp=MISSING, id_number=None, channel="app", omit=()):
        """POST /v1/sessions. otp defaults to the code of the next TOTP step the server accepts for the person
        (next_totp_step: codes are single use). A 200 answer records the step used (of a given otp too), so that
        the person's next log-in uses a later one."""
        step = None
        if otp is MISSING:
            step = next_totp_step(person)
            otp = totp_at_step(person.secret, step)
        body = {"id_number": id_number or person.id_number, "password": password or person.password, "otp": otp}
        for k in omit:
            body.pop(k)
        if isinstance(password, str):
            self.remember(password)
        sent_at = time.time()
        r = self.post("/v1/sessions", body, channel=channel)
        r.otp_sent = body.get("otp", MISSING)
        if r.status_code == 200 and "otp" in body:
            if step is None and isinstance(otp, str) and person.secret:
                steps = steps_of_otp(person.secret, otp, sent_at, time.time())
                step = max(steps) if steps else None  # none: a server bug, for the test to find
            if step is not None:
                used_totp_step(person, step)
        r.otp_step = step
        return r

    def login_ok(self, person, **kw):
        r = self.login(person, **kw)
        assert r.status_code == 200, f"log-in failed: {r.status_code} {r.text}"
        token = r.json()["token"]
        self.remember(token)
        return token


# ---------------------------------------------------------------------------------------------------------------
# Fixtures


def _city(root, pool=40, staff=True, start=True, login_delay_ms=LOGIN_DELAY_MS, logins_per_ip=LOGINS_PER_IP):
    c = City(root, login_delay_ms=login_delay_ms, logins_per_ip=logins_per_ip)
    if pool:
        c.add_pool(pool)
    if staff:
        c.add_staff_per_role()
    if start:
        c.start()
    return c


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    c = _city(tmp_path_factory.mktemp("city"), pool=120)
    yield c
    c.close()


@pytest.fixture
def fresh_city(tmp_path):
    c = _city(tmp_path, pool=12)
    yield c
    c.close()


@pytest.fixture
def bare_city(tmp_path):
    c = City(tmp_path)
    yield c
    c.close()


# ---------------------------------------------------------------------------------------------------------------
# Codes, terminals and scans (issue 3)
#
# Helpers: `Terminal`, `make_terminal(city, scene=..., place=...)`, `sign_headers(...)` (HMAC-SM3 signing as api.md
# "Terminals" says; scripts/sign.py when it is there, else hashlib/hmac here), `scan(city, terminal, code, **over)`
# (a signed POST /v1/scans, any part overridable), `scan_ok(...)` (must answer 200; checks the answer's shape),
# `resident(city)` (a registered, logged-in person and their token), `get_code(city, token)`, `parse_time(text)`,
# `keys_list(city)`, `verify_cli(city, code)`, `poll(fn, deadline)`.

import re as _re
import sys as _sys

SCENES = ("checkpoint", "community", "venue", "hospital", "transit", "pool")
MASKED_NAME_SCENES = ("checkpoint", "community", "venue", "pool", "transit")
COLORS = ("green", "yellow", "red")
RESULTS = COLORS + ("expired", "invalid", "unknown")
CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
RFC3339 = _re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
SIGN_WINDOW = 300

try:
    _sys.path.insert(0, str(REPO / "scripts"))
    import sign as _sign_module  # scripts/sign.py
    if not hasattr(_sign_module, "sign"):
        _sign_module = None
except ImportError:
    _sign_module = None
finally:
    if _sys.path and _sys.path[0] == str(REPO / "scripts"):
        _sys.path.pop(0)


def sm3_hex(data):
    return hashlib.new("sm3", data).hexdigest()


def signature_of(secret_hex, method, path, timestamp, nonce, body):
    """The lowercase hex HMAC-SM3 signature of a terminal request (computed here, independently of sign.py)."""
    msg = "\n".join([method, path, str(timestamp), nonce, sm3_hex(body)]).encode()
    return hmac.new(bytes.fromhex(secret_hex), msg, "sm3").hexdigest()


def new_nonce():
    return os.urandom(16).hex()


def sign_headers(secret_hex, method, path, body, timestamp=None, nonce=None, terminal_id=None):
    """X-Terminal-Id (when given), X-Timestamp, X-Nonce and X-Signature for a request."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = new_nonce() if nonce is None else nonce
    if _sign_module is not None:
        h = dict(_sign_module.sign(secret_hex, method, path, body, timestamp=timestamp, nonce=nonce))
    else:
        h = {"X-Timestamp": timestamp, "X-Nonce": nonce,
             "X-Signature": signature_of(secret_hex, method, path, timestamp, nonce, body)}
    h.pop("X-Terminal-Id", None)
    if terminal_id is not None:
        h["X-Terminal-Id"] = str(terminal_id)
    return h


class Terminal:
    def __init__(self, terminal_id, secret, org, place, scene):
        self.terminal_id = terminal_id
        self.secret = secret
        self.org = org
        self.place = place
        self.scene = scene

    def __repr__(self):
        return f"Terminal({self.terminal_id}, {self.scene}, {self.place})"


def create_terminal(city, body, token=MISSING):
    """POST /v1/staff/terminals (admin token unless token is given); returns the response."""
    if token is MISSING:
        token = city.staff["admin"]["token"]
    return city.post("/v1/staff/terminals", body, token=token)


def make_terminal(city, scene="checkpoint", place=None, org=None, division=None):
    """Creates a terminal (must answer 201); its secret is remembered as sensitive."""
    n = next(_serial)
    org = org or f"测试单位{n}"
    place = place or f"测试地点{n}号"
    body = {"org": org, "place": place, "scene": scene}
    if division is not None:
        body["division"] = division
    r = create_terminal(city, body)
    assert r.status_code == 201, f"terminal creation failed: {r.status_code} {r.text}"
    b = r.json()
    city.remember(b["secret"])
    return Terminal(b["terminal_id"], b["secret"], org, place, scene)


def scan_body(code):
    return json.dumps({"code": code}, ensure_ascii=False).encode("utf-8")


def scan(city, terminal, code, *, body=None, signed_body=None, secret=None, method="POST", signed_method=None,
         path="/v1/scans", signed_path=None, timestamp=None, nonce=None, terminal_id=MISSING, drop=(),
         headers=None, replace=None, session=None):
    """A signed POST /v1/scans of `code` from `terminal`; returns the response. Overrides:
    body (bytes sent, default {"code": code}), signed_body / signed_method / signed_path (what is signed, default what
    is sent), secret (the key to sign with), timestamp, nonce, terminal_id (X-Terminal-Id sent), drop (header names to
    leave out), replace (a dict of headers that replace the signed ones, e.g. a replayed set), headers (more)."""
    body = scan_body(code) if body is None else body
    h = sign_headers(secret or terminal.secret, signed_method or method, signed_path or path,
                     body if signed_body is None else signed_body, timestamp=timestamp, nonce=nonce,
                     terminal_id=terminal.terminal_id if terminal_id is MISSING else terminal_id)
    if replace is not None:
        h = dict(replace)
    h["Content-Type"] = "application/json"
    h.update(headers or {})
    for name in drop:
        h.pop(name, None)
    req = session or requests
    r = req.request(method, city.url(path), data=body, headers=h, timeout=HTTP_TIMEOUT)
    r.sent_headers = h
    return r


def parse_time(text):
    """An RFC 3339 UTC time ('...Z') as a Unix timestamp (float)."""
    assert isinstance(text, str) and RFC3339.fullmatch(text), f"not an RFC 3339 UTC time: {text!r}"
    return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.timezone.utc).timestamp()


def check_scan_answer(body, scene=None):
    """The shape of a 200 answer to POST /v1/scans."""
    assert isinstance(body, dict), body
    assert {"scan_id", "scanned_at", "result"} <= set(body) <= {"scan_id", "scanned_at", "result", "person",
                                                                "presented_by"}, body
    assert isinstance(body["scan_id"], int) and not isinstance(body["scan_id"], bool), body
    parse_time(body["scanned_at"])
    assert body["result"] in RESULTS, body
    if body["result"] in COLORS:
        assert isinstance(body.get("person"), dict), f"a valid code's answer carries person: {body}"
        if scene in MASKED_NAME_SCENES:
            assert set(body["person"]) == {"name"}, body
        elif scene == "hospital":
            assert set(body["person"]) == {"name", "id_number"}, body
    else:
        assert "person" not in body, f"person shown for a {body['result']} code: {body}"
    if "presented_by" in body:  # a relative's code (issue 5): who showed it, masked, and how related
        assert body["result"] in COLORS and set(body["presented_by"]) == {"name", "relation"}, body
    return body


def scan_ok(city, terminal, code, **kw):
    """A signed scan that must answer 200 with a well-formed body; returns the body."""
    r = scan(city, terminal, code, **kw)
    assert r.status_code == 200, f"scan refused: {r.status_code} {r.text[:500]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers.get("Content-Type")
    return check_scan_answer(r.json(), terminal.scene)


def scan_result(city, terminal, code, **kw):
    return scan_ok(city, terminal, code, **kw)["result"]


def resident(city, name=None):
    """A new registered resident and a session token: (person, token)."""
    p = city.new_person(name=name)
    city.register_ok(p)
    return p, city.login_ok(p)


def get_code(city, token):
    """GET /v1/me/code (must answer 200); returns the body."""
    r = city.get("/v1/me/code", token=token)
    assert r.status_code == 200, f"GET /v1/me/code: {r.status_code} {r.text[:500]}"
    return r.json()


def my_scans(city, token):
    r = city.get("/v1/me/scans", token=token)
    assert r.status_code == 200, f"GET /v1/me/scans: {r.status_code} {r.text[:500]}"
    body = r.json()
    assert set(body) == {"scans"} and isinstance(body["scans"], list), body
    for s in body["scans"]:
        assert set(s) == {"scanned_at", "place", "scene", "result"}, s
        parse_time(s["scanned_at"])
        assert s["scene"] in SCENES and s["result"] in RESULTS, s
    return body["scans"]


def my_status(city, token):
    r = city.get("/v1/me/status", token=token)
    assert r.status_code == 200, f"GET /v1/me/status: {r.status_code} {r.text[:500]}"
    return r.json()


def set_status(city, id_number, color, reason, token=MISSING):
    if token is MISSING:
        token = city.staff["admin"]["token"]
    return city.post("/v1/staff/status", {"id_number": id_number, "color": color, "reason": reason}, token=token)


def mask_name(name):
    """A name as the API masks it: its first character, then a * for each other (张三 -> 张*)."""
    return name[0] + "*" * (len(name) - 1)


def mask_id(id_number):
    """An ID number as the API masks it: its first 2 and last 2 characters."""
    return id_number[:2] + "*" * (len(id_number) - 4) + id_number[-2:]


def records_count(city):
    """How many records the data directory keeps (read-only, beside the running server)."""
    db = sqlite3.connect(f"file:{city.data / 'suishen.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM records").fetchone()[0]
    finally:
        db.close()


def keys_list(city):
    """`suishen keys list`: [(key_id, purpose, state)] (tab-separated, after one header line)."""
    r = city.cli("keys", "list", "--data", city.data)
    assert r.returncode == 0, r.stderr
    keys = []
    for ln in r.stdout.splitlines():
        fields = ln.split("\t") if "\t" in ln else ln.split()
        if not fields or not fields[0].strip().isdigit():
            continue
        keys.append((int(fields[0]), fields[1].strip(), fields[2].strip()))
    assert keys, r.stdout
    return keys


def verify_cli(city, code, *extra):
    """`suishen verify --data DIR CODE`: the one JSON line it prints, parsed."""
    r = city.cli("verify", "--data", city.data, *extra, code)
    assert r.returncode == 0, f"verify failed ({r.returncode}): {r.stderr}"
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stdout
    return json.loads(lines[0])


def poll(fn, timeout, interval=0.1, what="condition"):
    """Calls fn() until it returns something true, for at most `timeout` seconds; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s (last: {v!r})"
        time.sleep(interval)


def early_in_second(limit=0.3):
    """Returns once the wall clock is in the first `limit` of a second, so that a test that reasons about whole
    Unix seconds (a timestamp window, a 2-s TTL) has the rest of the second to act in."""
    deadline = time.monotonic() + 2
    while time.time() % 1 >= limit:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def metric_value(text, name, labels):
    """The value of one Prometheus sample `name{labels}` (labels: a dict; all must match), or None."""
    for ln in text.splitlines():
        if ln.startswith("#") or not ln.startswith(name):
            continue
        m = _re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)", ln)
        if not m or m.group(1) != name:
            continue
        got = dict(_re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(4))
    return None


# ---------------------------------------------------------------------------------------------------------------
# Reading QR images: zbarimg (Debian's zbar-tools) reads PNG and PGM; an SVG is rasterised here first.


def svg_modules(svg_text):
    """Rasterises the filled shapes of a simple QR SVG (a viewBox; <rect> elements and <path> elements made of
    axis-aligned rectangles written with M/m, H/h, V/v, Z/z) to a grid of booleans (True: dark). Returns None if the
    SVG uses anything else."""
    m = _re.search(r'viewBox="\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)\s*"', svg_text)
    if not m:
        return None
    x0, y0, w, h = (float(v) for v in m.groups())
    if (x0, y0) != (0, 0) or w != int(w) or h != int(h):
        return None
    W, H = int(w), int(h)
    grid = [[False] * W for _ in range(H)]

    def light(fill):
        f = (fill or "").lower()
        return f in ("#fff", "#ffffff", "white", "none")

    def fill_rect(x, y, rw, rh):
        for yy in range(int(y), int(y + rh)):
            for xx in range(int(x), int(x + rw)):
                if 0 <= yy < H and 0 <= xx < W:
                    grid[yy][xx] = True

    for el in _re.finditer(r"<(rect|path)\b([^>]*)/?>", svg_text):
        kind, attrs = el.group(1), el.group(2)
        a = dict(_re.findall(r'([\w-]+)="([^"]*)"', attrs))
        if light(a.get("fill")):
            continue
        if kind == "rect":
            try:
                fill_rect(float(a.get("x", 0)), float(a.get("y", 0)), float(a["width"]), float(a["height"]))
            except (KeyError, ValueError):
                return None
            continue
        tokens = _re.findall(r"[MmHhVvZz]|-?[\d.]+", a.get("d", ""))
        if set(_re.findall(r"[A-Za-z]", a.get("d", ""))) - set("MmHhVvZz"):
            return None
        x = y = 0.0
        pts = []
        i = 0
        cmd = None

        def flush():
            if pts:
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                fill_rect(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
            pts.clear()

        while i < len(tokens):
            t = tokens[i]
            if t.isalpha():
                cmd = t
                i += 1
                if cmd in "Zz":
                    flush()
                continue
            v = float(t)
            if cmd in "Mm":
                flush()
                nx = float(tokens[i + 1])
                x, y = (v, nx) if cmd == "M" else (x + v, y + nx)
                pts.append((x, y))
                i += 2
                cmd = "L" if cmd == "M" else "l"
                continue
            if cmd == "H":
                x = v
            elif cmd == "h":
                x += v
            elif cmd == "V":
                y = v
            elif cmd == "v":
                y += v
            else:
                return None
            pts.append((x, y))
            i += 1
        flush()
    return grid


def write_pgm(grid, path, scale=8, quiet=4):
    H, W = len(grid), len(grid[0])
    rows = []
    for y in range(-quiet, H + quiet):
        row = bytearray()
        for x in range(-quiet, W + quiet):
            dark = 0 <= y < H and 0 <= x < W and grid[y][x]
            row += bytes([0 if dark else 255]) * scale
        rows.extend([bytes(row)] * scale)
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % ((W + 2 * quiet) * scale, (H + 2 * quiet) * scale))
        f.write(b"".join(rows))


def zbar_read(path):
    """The text of the one QR code in the image at path, read with `zbarimg --raw -q`."""
    p = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, timeout=30)
    assert p.returncode == 0, f"zbarimg could not read the QR ({p.returncode}): {p.stderr[-300:]!r}"
    lines = [ln for ln in p.stdout.decode().splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    return lines[0]


# A rule file with two errors, on lines 3 (an unknown colour, "purple") and 9 (an unknown kind, "no_such_kind"): the
# command line and the API refuse it, naming both lines, and change nothing.
BAD_RULES = ("version broken-1\n"
             "rule red.x\n"
             "    color purple\n"
             "    when close_contact within 14d\n"
             "    reason zh 测试\n"
             "    reason en test\n"
             "rule yellow.y\n"
             "    color yellow\n"
             "    when no_such_kind within 3d\n"
             "    reason zh 测试\n"
             "    reason en test\n")
