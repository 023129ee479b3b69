"""Residents' codes: GET /v1/me/code, code.svg and code.png, their life time, the keys they are made with, and the
operators' command line (`suishen code`, `suishen verify`).

Covers the code's form (at most 64 characters of the QR alphanumeric set; issued_at now; expires_at the code TTL
later), that every call issues a new code and each scans green, the QR images (SVG; a PNG that zbarimg reads back to
a code that scans green), `Cache-Control: no-store` and 401 without a citizen token; expiry with `--code-ttl 2`
(green before its expires_at and `expired` from then on by the server's clock, without `person`, and listed in the
resident's history); codes made with a key that is rotated out (still green) and then retired (invalid, while new
codes are green); a code whose holder was deleted (unknown); and the command line.
"""
import re
import signal
import sqlite3
import time

import pytest

from conftest import (
    CODE_ALPHABET, _city, assert_error, early_in_second, get_code, keys_list, make_terminal, my_scans, parse_time,
    poll, resident, scan_ok, scan_result, svg_modules, verify_cli, write_pgm, zbar_read,
)

CODE_RE = re.compile(r"[0-9A-Z $%*+\-./:]{1,64}")


def check_code(body, ttl):
    assert set(body) == {"code", "issued_at", "expires_at"}, body
    code = body["code"]
    assert isinstance(code, str) and CODE_RE.fullmatch(code), f"not a code of the QR alphanumeric set: {code!r}"
    assert all(c in CODE_ALPHABET for c in code)
    issued, expires = parse_time(body["issued_at"]), parse_time(body["expires_at"])
    assert expires - issued == ttl, body
    return code, issued, expires


@pytest.fixture(scope="module")
def checkpoint(city):
    return make_terminal(city, scene="checkpoint", place="延安东路隧道卡口")


@pytest.fixture(scope="module")
def hospital(city):
    return make_terminal(city, scene="hospital", place="华山医院急诊")


# -- GET /v1/me/code -------------------------------------------------------------------------------------------------


def test_code_form_and_lifetime(city, checkpoint):
    _, token = resident(city)
    before = time.time()
    r = city.get("/v1/me/code", token=token)
    after = time.time()
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    code, issued, _ = check_code(r.json(), 60)
    assert before - 2 <= issued <= after + 2
    assert scan_result(city, checkpoint, code) == "green"


def test_codes_back_to_back_differ_and_each_scans(city, checkpoint):
    _, token = resident(city)
    codes = [check_code(get_code(city, token), 60)[0] for _ in range(12)]
    assert len(set(codes)) == len(codes), codes
    for c in codes:
        assert scan_result(city, checkpoint, c) == "green"


def test_codes_of_two_residents_differ(city, hospital):
    a, ta = resident(city)
    b, tb = resident(city)
    ca, cb = get_code(city, ta)["code"], get_code(city, tb)["code"]
    assert ca != cb
    assert scan_ok(city, hospital, ca)["person"]["name"] == a.name
    assert scan_ok(city, hospital, cb)["person"]["name"] == b.name


def test_code_reveals_nothing_in_clear(city):
    p, token = resident(city)
    code = get_code(city, token)["code"]
    for s in (p.id_number, p.id_number[-6:], p.phone, p.phone[-4:], str(p.citizen_id).rjust(6, "0")):
        assert s not in code


# -- the QR images ---------------------------------------------------------------------------------------------------


def test_svg(city):
    _, token = resident(city)
    r = city.get("/v1/me/code.svg", token=token)
    assert r.status_code == 200, r.text[:300]
    assert r.headers.get("Content-Type", "").split(";")[0].strip() == "image/svg+xml", r.headers
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    text = r.content.decode("utf-8").lstrip()
    assert text.startswith("<svg") or text.startswith("<?xml"), text[:100]
    assert "<svg" in text and text.rstrip().endswith("</svg>")
    # each call draws a new code
    assert city.get("/v1/me/code.svg", token=token).content != r.content


def test_svg_reads_back_and_scans(city, hospital, tmp_path):
    """The SVG, rasterised here (it is drawn with rectangles), is a QR code that zbarimg reads: this resident's code."""
    p, token = resident(city)
    r = city.get("/v1/me/code.svg", token=token)
    assert r.status_code == 200, r.text[:300]
    grid = svg_modules(r.text)
    assert grid is not None, "the SVG uses shapes that svg_modules (conftest) does not rasterise: extend it"
    write_pgm(grid, tmp_path / "code.pgm")
    code = zbar_read(tmp_path / "code.pgm")
    assert CODE_RE.fullmatch(code), code
    body = scan_ok(city, hospital, code)
    assert body["result"] == "green" and body["person"]["name"] == p.name


def test_png_reads_back_and_scans(city, hospital, tmp_path):
    p, token = resident(city)
    decoded = []
    for i in range(2):
        r = city.get("/v1/me/code.png", token=token)
        assert r.status_code == 200, r.text[:300]
        assert r.headers.get("Content-Type", "").split(";")[0].strip() == "image/png", r.headers
        assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
        assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
        f = tmp_path / f"code{i}.png"
        f.write_bytes(r.content)
        code = zbar_read(f)
        assert CODE_RE.fullmatch(code), code
        decoded.append(code)
    assert decoded[0] != decoded[1], "each call issues a new code"
    for code in decoded:
        body = scan_ok(city, hospital, code)
        assert body["result"] == "green"
        assert body["person"]["name"] == p.name  # the code in the picture is this resident's


@pytest.mark.parametrize("path", ["/v1/me/code", "/v1/me/code.svg", "/v1/me/code.png"])
def test_code_needs_a_citizen_token(city, path):
    assert_error(city.get(path), 401, "unauthenticated")
    assert_error(city.get(path, token="0" * 64), 401, "unauthenticated")
    assert_error(city.get(path, token=city.staff["admin"]["token"]), 401, "unauthenticated")


# -- the command line ------------------------------------------------------------------------------------------------


def code_lines(stdout):
    return [ln.strip() for ln in stdout.splitlines() if re.fullmatch(r"[0-9A-Z$%*+\-./:]{16,64}", ln.strip())]


def test_cli_code_prints_a_code_that_scans(city, hospital):
    p, token = resident(city)
    r = city.cli("code", "--data", city.data, "--id-number", p.id_number)
    assert r.returncode == 0, r.stderr
    codes = code_lines(r.stdout)
    assert len(codes) == 1, r.stdout
    assert any(ch in r.stdout for ch in "▀▄█"), "no QR drawn with block characters"
    body = scan_ok(city, hospital, codes[0])
    assert body["result"] == "green" and body["person"]["name"] == p.name
    # the scan is in the resident's history like any other
    assert [s["place"] for s in my_scans(city, token)] == [hospital.place]


def test_cli_code_lower_case_x(city, checkpoint):
    p = city.new_person(want_x=True)
    city.register_ok(p)
    r = city.cli("code", "--data", city.data, "--id-number", p.id_number.lower())
    assert r.returncode == 0, r.stderr
    assert scan_result(city, checkpoint, code_lines(r.stdout)[0]) == "green"


def test_cli_code_for_people_without_a_code(city):
    unregistered = city.new_person()  # in the registry, never registered
    outsider = city.outsider()  # not in the registry
    for idn in (unregistered.id_number, outsider.id_number, unregistered.id_number[:17] + "Z", "not-a-number"):
        r = city.cli("code", "--data", city.data, "--id-number", idn)
        assert r.returncode != 0, f"code printed for {idn}: {r.stdout}"
        assert not code_lines(r.stdout), r.stdout


def test_cli_code_usage(city):
    assert city.cli("code", "--data", city.data).returncode != 0


def test_cli_verify(city):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    v = verify_cli(city, code)
    assert v["result"] == "green", v
    assert isinstance(v["key_id"], int), v
    assert verify_cli(city, "GARBAGE")["result"] == "invalid"
    assert verify_cli(city, code.lower())["result"] == "invalid"
    flipped = code[:-3] + ("A" if code[-3] != "A" else "B") + code[-2:]
    assert verify_cli(city, flipped)["result"] == "invalid"


def test_cli_verify_records_no_scan(city, checkpoint):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    assert verify_cli(city, code)["result"] == "green"
    assert my_scans(city, token) == []


# -- expiry: a server with --code-ttl 2 ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_city(tmp_path_factory):
    c = _city(tmp_path_factory.mktemp("short"), pool=12, start=False)
    c.start(extra_args=["--code-ttl", "2"])
    yield c
    c.close()


def test_ttl_is_the_servers(short_city):
    _, token = resident(short_city)
    body = get_code(short_city, token)
    check_code(body, 2)


def test_code_expires(short_city):
    """Green before expires_at, expired from then on: judged by the server's own clock (each answer's scanned_at, the
    second the server checked the code in), not by how long the test took between its requests."""
    city = short_city
    term = make_terminal(city, scene="hospital", place="仁济医院")
    _, token = resident(city)
    scans = []  # every answer, oldest first: the resident's history lists them all

    def scanned(code, expires):
        b = scan_ok(city, term, code)
        scans.append(b)
        assert b["result"] == ("expired" if parse_time(b["scanned_at"]) >= expires else "green"), (b, expires)
        return b

    def green_at_first():
        # a code lives 2 s: a machine slower than that between issuing and scanning sees it expired, and tries anew
        early_in_second(0.5)
        body = get_code(city, token)
        expires = parse_time(body["expires_at"])
        return (body["code"], expires) if scanned(body["code"], expires)["result"] == "green" else None

    code, expires = poll(green_at_first, timeout=60, interval=0, what="a code scanned green before it expired")
    last = poll(lambda: (lambda b: b if b["result"] != "green" else None)(scanned(code, expires)), timeout=30,
                interval=0.2, what="the code expiring")
    assert "person" not in last
    # expired stays expired, and the CLI agrees
    assert scanned(code, expires)["result"] == "expired"
    assert verify_cli(city, code, "--code-ttl", "2")["result"] == "expired"
    # a new code is green again (or, on a machine slower than its 2 s, expired at its own expires_at)
    poll(green_at_first, timeout=60, interval=0, what="a new code scanned green")
    # the resident's history holds every scan, newest first, expired ones too
    assert [s["result"] for s in my_scans(city, token)] == [b["result"] for b in reversed(scans)]
    assert [b["result"] for b in scans].count("expired") >= 2


# -- keys: a code key rotated out, then retired ----------------------------------------------------------------------


def sighup(city):
    city.proc.send_signal(signal.SIGHUP)


def test_retired_key(fresh_city):
    city = fresh_city
    term = make_terminal(city, scene="checkpoint")
    _, token = resident(city)
    old = get_code(city, token)["code"]
    old_key = verify_cli(city, old)["key_id"]
    assert (old_key, "code", "current") in keys_list(city)

    r = city.cli("keys", "rotate", "--data", city.data)
    assert r.returncode == 0, r.stderr
    sighup(city)

    def new_key_code():
        c = get_code(city, token)["code"]
        k = verify_cli(city, c)["key_id"]
        return (c, k) if k != old_key else None

    new_code, new_key = poll(new_key_code, timeout=10, interval=0.2, what="codes under the new key")
    keys = keys_list(city)
    assert (new_key, "code", "current") in keys, keys
    assert (old_key, "code", "current") not in keys, keys
    # a code made with the old key still scans within its TTL, as does the new one
    assert scan_result(city, term, old) == "green"
    assert scan_result(city, term, new_code) == "green"

    # the current key cannot be retired; a data key neither
    assert city.cli("keys", "retire", "--data", city.data, "--id", new_key).returncode != 0
    data_keys = [k for k, purpose, _ in keys if purpose == "data"]
    assert data_keys and city.cli("keys", "retire", "--data", city.data, "--id", data_keys[0]).returncode != 0

    r = city.cli("keys", "retire", "--data", city.data, "--id", old_key)
    assert r.returncode == 0, r.stderr
    assert (old_key, "code", "retired") in keys_list(city)
    sighup(city)
    last = poll(lambda: (lambda b: b if b["result"] != "green" else None)(scan_ok(city, term, old)), timeout=10,
                interval=0.2, what="the retired key's code being refused")
    assert last["result"] == "invalid" and "person" not in last, last
    assert verify_cli(city, old)["result"] == "invalid"
    # codes under the current key are untouched
    assert scan_result(city, term, new_code) == "green"
    assert scan_result(city, term, get_code(city, token)["code"]) == "green"
    # and a restart keeps the retired key retired
    city.restart()
    assert scan_result(city, term, old) == "invalid"
    assert scan_result(city, term, get_code(city, token)["code"]) == "green"


# -- a holder who no longer exists -----------------------------------------------------------------------------------


def test_holder_deleted_is_unknown(fresh_city):
    city = fresh_city
    term = make_terminal(city, scene="hospital")
    gone, gone_token = resident(city)
    stays, stays_token = resident(city)
    gone_code = get_code(city, gone_token)["code"]
    assert scan_result(city, term, gone_code) == "green"
    city.stop()
    db = sqlite3.connect(city.data / "suishen.db")
    try:
        with db:
            db.execute("DELETE FROM sessions")
            n = db.execute("DELETE FROM citizens WHERE citizen_id = ?", (gone.citizen_id,)).rowcount
        assert n == 1
    finally:
        db.close()
    city.start()
    body = scan_ok(city, term, gone_code)
    assert body["result"] == "unknown", body
    assert "person" not in body
    # everyone else is as before
    stays_token = city.login_ok(stays)
    assert scan_ok(city, term, get_code(city, stays_token)["code"])["person"]["name"] == stays.name
