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
import struct
import subprocess
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
        self.citizen_id = None
        self.secret = None  # base32 TOTP secret, once registered
        self.totp_uri = None
        self.used = False

    def csv_line(self):
        return f"{self.id_number},{self.name},{self.sex},{self.birth_date},{self.division},{self.phone}"

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

    def __init__(self, root, login_delay_ms=LOGIN_DELAY_MS):
        self.root = Path(root)
        self.data = self.root / "data"
        self.log_path = self.root / "server.stderr"
        self.out_path = self.root / "server.stdout"
        self.login_delay_ms = login_delay_ms
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

    def write_csv(self, people, name=None, header=CSV_HEADER, extra_lines=()):
        path = self.root / (name or f"people-{next(_serial)}.csv")
        lines = [header] + [p.csv_line() for p in people] + list(extra_lines)
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
        names = {"admin": "王芳", "operator": "李娜", "handler": "张伟", "epidemiologist": "刘强", "security": "陈洁"}
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
                 "--login-delay-ms", str(self.login_delay_ms), *extra_args],
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
        """POST /v1/sessions; otp defaults to the current code of the person's secret."""
        if otp is MISSING:
            otp = totp(person.secret)
        body = {"id_number": id_number or person.id_number, "password": password or person.password, "otp": otp}
        for k in omit:
            body.pop(k)
        if isinstance(password, str):
            self.remember(password)
        return self.post("/v1/sessions", body, channel=channel)

    def login_ok(self, person, **kw):
        r = self.login(person, **kw)
        assert r.status_code == 200, f"log-in failed: {r.status_code} {r.text}"
        token = r.json()["token"]
        self.remember(token)
        return token


# ---------------------------------------------------------------------------------------------------------------
# Fixtures


def _city(root, pool=40, staff=True, start=True):
    c = City(root)
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
