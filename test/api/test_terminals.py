"""Terminals: POST /v1/staff/terminals, and the signature every terminal request carries.

Covers creating a terminal for each scene (201, an integer id and a 64-lowercase-hex secret, distinct per terminal),
the optional division, bad bodies (a bad scene -> 400 field scene; a missing or empty org or place -> 400 naming it;
a bad division -> 400 field division), roles (admin only: 403 for every other role, 401 without a staff token); and
the terminal signature of api.md "Terminals": a missing header, an unknown terminal, a signature made with another
secret, a body, path or method other than the one signed, a timestamp 301 s off either way (300 s is accepted), a
replayed nonce, a nonce shorter than 16 or longer than 64 characters are each 401 unauthenticated, and a refused scan
leaves no trace in the resident's scan history.
"""
import os
import re
import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from conftest import (
    HTTP_TIMEOUT, ROLES, SCENES, SIGN_WINDOW, Terminal, assert_error, create_terminal, early_in_second, get_code,
    make_terminal, my_scans, new_nonce, poll, resident, scan, scan_body, scan_ok, sign_headers, signature_of,
)

# -- creating terminals ----------------------------------------------------------------------------------------------


def check_created(r):
    assert r.status_code == 201, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    b = r.json()
    assert set(b) == {"terminal_id", "secret"}, b
    assert isinstance(b["terminal_id"], int) and not isinstance(b["terminal_id"], bool), b
    assert re.fullmatch(r"[0-9a-f]{64}", b["secret"]), b
    return b


@pytest.mark.parametrize("scene", SCENES)
def test_create_each_scene_and_scan(city, scene):
    body = {"org": f"{scene}单位", "place": f"{scene}一号点", "scene": scene}
    r = create_terminal(city, body)
    b = check_created(r)
    city.remember(b["secret"])
    # the new terminal works at once
    _, token = resident(city)
    t = Terminal(b["terminal_id"], b["secret"], body["org"], body["place"], scene)
    assert scan_ok(city, t, get_code(city, token)["code"])["result"] == "green"


def test_terminal_ids_and_secrets_are_distinct(city):
    made = [make_terminal(city, scene="venue") for _ in range(4)]
    # two terminals at the same place of the same organisation are still two terminals
    made += [make_terminal(city, scene="venue", org="同一单位", place="同一地点") for _ in range(2)]
    ids = [t.terminal_id for t in made]
    secrets = [t.secret for t in made]
    assert len(set(ids)) == len(ids)
    assert len(set(secrets)) == len(secrets)


@pytest.mark.parametrize("division", ["310101", "310115"])
def test_create_with_division(city, division):
    b = check_created(create_terminal(city, {"org": "黄浦区卫健委", "place": "外滩卡口", "scene": "checkpoint",
                                             "division": division}))
    city.remember(b["secret"])


@pytest.mark.parametrize("division", ["31010", "3101011", "31010a", "", "abcdef", 310101])
def test_bad_division(city, division):
    r = create_terminal(city, {"org": "单位", "place": "地点", "scene": "venue", "division": division})
    assert_error(r, 400, "invalid_argument", field="division")


@pytest.mark.parametrize("scene", ["", "Checkpoint", "CHECKPOINT", "airport", "hospital ", "checkpoint,pool", 3, None,
                                   ["pool"]])
def test_bad_scene(city, scene):
    r = create_terminal(city, {"org": "单位", "place": "地点", "scene": scene})
    assert_error(r, 400, "invalid_argument", field="scene")


@pytest.mark.parametrize("field", ["org", "place", "scene"])
def test_missing_member(city, field):
    body = {"org": "单位", "place": "地点", "scene": "venue"}
    del body[field]
    assert_error(create_terminal(city, body), 400, "invalid_argument", field=field)


@pytest.mark.parametrize("field", ["org", "place"])
@pytest.mark.parametrize("value", ["", 7, None, "x" * 5000])
def test_bad_org_or_place(city, field, value):
    body = {"org": "单位", "place": "地点", "scene": "venue", field: value}
    assert_error(create_terminal(city, body), 400, "invalid_argument", field=field)


def test_malformed_body(city):
    r = city.post("/v1/staff/terminals", data=b'{"org": "x", "place":', token=city.staff["admin"]["token"])
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_argument"


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_admin_creates_terminals(city, role):
    r = create_terminal(city, {"org": "单位", "place": "地点", "scene": "venue"}, token=city.staff[role]["token"])
    assert_error(r, 403, "permission_denied")


def test_create_needs_a_staff_token(city):
    body = {"org": "单位", "place": "地点", "scene": "venue"}
    assert_error(create_terminal(city, body, token=None), 401, "unauthenticated")
    assert_error(create_terminal(city, body, token="not-a-token"), 401, "unauthenticated")
    _, citizen_token = resident(city)
    assert_error(create_terminal(city, body, token=citizen_token), 401, "unauthenticated")


# -- the signature ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def term(city):
    return make_terminal(city, scene="checkpoint", place="人民广场站卡口")


@pytest.fixture
def code(city):
    _, token = resident(city)
    return get_code(city, token)["code"]


def test_signing_helper_matches_the_contract(term):
    """sign.py (when present) and the formula of api.md computed here agree."""
    body = scan_body("ABC")
    h = sign_headers(term.secret, "POST", "/v1/scans", body, timestamp="1795680000", nonce="0123456789abcdef")
    assert h["X-Signature"] == signature_of(term.secret, "POST", "/v1/scans", "1795680000", "0123456789abcdef", body)
    assert re.fullmatch(r"[0-9a-f]{64}", h["X-Signature"])


def test_signed_scan_is_accepted(city, term, code):
    assert scan_ok(city, term, code)["result"] == "green"


@pytest.mark.parametrize("header", ["X-Terminal-Id", "X-Timestamp", "X-Nonce", "X-Signature"])
def test_missing_header(city, term, code, header):
    assert_error(scan(city, term, code, drop=(header,)), 401, "unauthenticated")
    # the same code with everything present still scans
    assert scan_ok(city, term, code)["result"] == "green"


def test_no_signature_headers_at_all(city, term, code):
    r = requests.post(city.url("/v1/scans"), data=scan_body(code), headers={"Content-Type": "application/json"},
                      timeout=HTTP_TIMEOUT)
    assert_error(r, 401, "unauthenticated")


@pytest.mark.parametrize("terminal_id", ["999999", "0", "-1", "abc", "", "1.5", "99999999999999999999999"])
def test_unknown_terminal(city, term, code, terminal_id):
    assert_error(scan(city, term, code, terminal_id=terminal_id), 401, "unauthenticated")


def test_other_terminals_id_with_this_secret(city, term, code):
    other = make_terminal(city, scene="venue")
    # signed with term's secret, presented as the other terminal
    assert_error(scan(city, term, code, terminal_id=other.terminal_id), 401, "unauthenticated")
    # and the other way round
    assert_error(scan(city, other, code, terminal_id=term.terminal_id), 401, "unauthenticated")


def test_signed_with_another_secret(city, term, code):
    assert_error(scan(city, term, code, secret=os.urandom(32).hex()), 401, "unauthenticated")


def test_signature_with_a_changed_character(city, term, code):
    good = sign_headers(term.secret, "POST", "/v1/scans", scan_body(code), terminal_id=term.terminal_id)
    sig = good["X-Signature"]
    forged = dict(good, **{"X-Signature": sig[:-1] + ("0" if sig[-1] != "0" else "1")})
    assert_error(scan(city, term, code, replace=forged), 401, "unauthenticated")


@pytest.mark.parametrize("signature", ["", "00", "z" * 64, "0" * 63, "0" * 65, "0" * 128])
def test_malformed_signature(city, term, code, signature):
    h = sign_headers(term.secret, "POST", "/v1/scans", scan_body(code), terminal_id=term.terminal_id)
    h["X-Signature"] = signature
    assert_error(scan(city, term, code, replace=h), 401, "unauthenticated")


def test_body_changed_after_signing(city, term, code):
    _, token = resident(city)
    other_code = get_code(city, token)["code"]
    r = scan(city, term, code, body=scan_body(other_code), signed_body=scan_body(code))
    assert_error(r, 401, "unauthenticated")
    # a byte of white space added is a change too
    r = scan(city, term, code, body=scan_body(code) + b" ", signed_body=scan_body(code))
    assert_error(r, 401, "unauthenticated")
    # and the empty body signed for a non-empty one
    assert_error(scan(city, term, code, signed_body=b""), 401, "unauthenticated")


def test_other_path_or_method_signed(city, term, code):
    assert_error(scan(city, term, code, signed_path="/v1/scan"), 401, "unauthenticated")
    assert_error(scan(city, term, code, signed_path="/v1/scans?x=1"), 401, "unauthenticated")
    assert_error(scan(city, term, code, signed_method="GET"), 401, "unauthenticated")
    assert_error(scan(city, term, code, signed_method="post"), 401, "unauthenticated")


@pytest.mark.parametrize("offset", [-SIGN_WINDOW - 1, SIGN_WINDOW + 1, -3600, 3600, -int(time.time())],
                         ids=["301_past", "301_future", "hour_past", "hour_future", "epoch"])
def test_timestamp_outside_window(city, term, code, offset):
    assert_error(scan_in_its_second(city, term, code, offset), 401, "unauthenticated")


@pytest.mark.parametrize("offset", [-SIGN_WINDOW, SIGN_WINDOW, -5, 5], ids=["300_past", "300_future", "5_past",
                                                                             "5_future"])
def test_timestamp_inside_window(city, term, code, offset):
    r = scan_in_its_second(city, term, code, offset)
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "green"


def scan_in_its_second(city, term, code, offset):
    """A scan signed with a timestamp `offset` s from now, answered in the second it was signed in: the server's
    Date header says so, and the server checked the window in between, so it saw exactly that offset. An answer dated
    later (a busy machine) proves nothing at the window's edge, and the scan is signed and sent again."""
    def once():
        early_in_second()
        now = int(time.time())
        r = scan(city, term, code, timestamp=now + offset)
        return [r] if parsedate_to_datetime(r.headers["Date"]).timestamp() == now else None  # a 4xx Response is false
    return poll(once, timeout=60, interval=0, what=f"a scan answered in the second it was signed in ({offset:+d} s)")[0]


@pytest.mark.parametrize("timestamp", ["", "abc", "1e9", "-1", "+1795680000", "17956800000000000000000"])
def test_malformed_timestamp(city, term, code, timestamp):
    assert_error(scan(city, term, code, timestamp=timestamp), 401, "unauthenticated")


def test_replayed_request(city, term, code):
    first = scan(city, term, code)
    assert first.status_code == 200, first.text
    # the very same request again: same headers, same body
    assert_error(scan(city, term, code, replace=first.sent_headers), 401, "unauthenticated")
    # the same nonce, freshly signed with a new timestamp
    nonce = first.sent_headers["X-Nonce"]
    ts = int(first.sent_headers["X-Timestamp"]) - 1
    assert_error(scan(city, term, code, nonce=nonce, timestamp=ts), 401, "unauthenticated")
    # a new nonce is fine
    assert scan_ok(city, term, code)["result"] == "green"


def test_replay_refused_even_for_garbage_code(city, term):
    first = scan(city, term, "GARBAGE")
    assert first.status_code == 200, first.text
    assert first.json()["result"] == "invalid"
    assert_error(scan(city, term, "GARBAGE", replace=first.sent_headers), 401, "unauthenticated")


@pytest.mark.parametrize("n", [16, 40, 64])
def test_nonce_length_accepted(city, term, code, n):
    nonce = (new_nonce() * 3)[:n]
    assert scan_ok(city, term, code, nonce=nonce)["result"] == "green"


@pytest.mark.parametrize("n", [0, 1, 15, 65, 200])
def test_nonce_length_refused(city, term, code, n):
    nonce = (new_nonce() * 8)[:n]
    assert_error(scan(city, term, code, nonce=nonce), 401, "unauthenticated")


def test_refused_scans_leave_no_history(city, term):
    p, token = resident(city)
    code = get_code(city, token)["code"]
    body = scan_body(code)
    refusals = [
        scan(city, term, code, drop=("X-Signature",)),
        scan(city, term, code, secret=os.urandom(32).hex()),
        scan(city, term, code, terminal_id="999999"),
        scan(city, term, code, timestamp=int(time.time()) - SIGN_WINDOW - 60),
        scan(city, term, code, nonce="short"),
        scan(city, term, code, body=body, signed_body=body + b" "),
    ]
    for r in refusals:
        assert_error(r, 401, "unauthenticated")
    assert my_scans(city, token) == []
    first = scan(city, term, code)
    assert first.status_code == 200, first.text
    assert_error(scan(city, term, code, replace=first.sent_headers), 401, "unauthenticated")
    scans = my_scans(city, token)
    assert len(scans) == 1, scans
    assert scans[0]["place"] == term.place and scans[0]["result"] == "green"


def test_terminal_secret_is_not_a_bearer_token(city, term, code):
    """A terminal authenticates by signature only: its secret as a bearer token, or a staff token, is refused."""
    r = requests.post(city.url("/v1/scans"), data=scan_body(code),
                      headers={"Content-Type": "application/json", "Authorization": f"Bearer {term.secret}",
                               "X-Terminal-Id": str(term.terminal_id)}, timeout=HTTP_TIMEOUT)
    assert_error(r, 401, "unauthenticated")
    r = city.post("/v1/scans", {"code": code}, token=city.staff["admin"]["token"])
    assert_error(r, 401, "unauthenticated")
