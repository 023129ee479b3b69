"""Colours by hand: POST /v1/staff/status, and GET /v1/me/status.

A colour set by hand is a manual_override record (source staff) with an end, which the rules put above themselves
until it ends. Covers the default (green, no reasons), setting each colour with a reason (admin; the next scan
answers it, even of a code issued before the change; the resident sees the colour, since when, the reason in the
staff member's words as rule "manual_override", and until when), that a change touches only its person, a colour set
before the person registered, an override that ends by itself (the rules take over again, with no request), an
override above a rule and a rule's record arriving during an override, bad bodies (400 naming color, id_number,
reason or until), an ID number not in the registry (404), roles (403 for every role but admin; 401 without a staff
token), and that a colour survives a restart.
"""
import time

import pytest

from conftest import (
    ROLES, assert_error, get_code, make_terminal, my_status, parse_time, resident, scan_ok, scan_result, set_status,
    wrong_check_char,
)


@pytest.fixture(scope="module")
def term(city):
    return make_terminal(city, scene="community", place="梅陇三村")


def check_status(body):
    # review_at: when the colour would change by itself (the end of an override; null for green by default)
    assert set(body) == {"color", "since", "reasons", "review_at"}, body
    assert body["color"] in ("green", "yellow", "red"), body
    parse_time(body["since"])
    assert isinstance(body["reasons"], list), body
    for reason in body["reasons"]:
        assert {"rule", "text"} <= set(reason), body
        assert isinstance(reason["rule"], str) and isinstance(reason["text"], str), body
    return body


def by_hand(st):
    """The override reason of a status, checked: the staff member's words, until when, the record's kind and date."""
    hand = [r for r in st["reasons"] if r["rule"] == "manual_override"]
    assert len(hand) == 1, st
    r = hand[0]
    assert set(r) == {"rule", "text", "text_en", "until", "records", "overrides"}, r
    assert [x["kind"] for x in r["records"]] == ["manual_override"], r
    # the one reason of its colour, saying what it sets aside: the rules' colour and their reasons of it
    assert st["reasons"] == [r], st
    aside = r["overrides"]
    assert set(aside) == {"color", "reasons"} and aside["color"] in ("green", "yellow", "red"), r
    assert aside["reasons"] or aside["color"] == "green", r
    # the colour changes by itself when the override ends, unless the rules give the same colour
    assert st["review_at"] == r["until"] or (st["review_at"] is None and st["color"] == "green"), st
    return r


def test_default_is_green_without_reasons(city, term):
    _, token = resident(city)
    r = city.get("/v1/me/status", token=token)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    body = check_status(r.json())
    assert body["color"] == "green" and body["reasons"] == [], body
    assert scan_result(city, term, get_code(city, token)["code"]) == "green"


@pytest.mark.parametrize("color", ["red", "yellow"])
def test_set_colour_by_hand(city, term, color):
    p, token = resident(city, name="欧阳小明")
    code = get_code(city, token)["code"]  # issued before the change: the scan answers the colour now
    reason = f"密接人员，居家健康监测（{color}）"
    city.remember(reason)  # a reason is personal (health) data: it must not reach the server's log
    before = time.time()
    r = set_status(city, p.id_number, color, reason)
    after = time.time()
    assert r.status_code == 200, r.text
    body = scan_ok(city, term, code)
    assert body["result"] == color
    assert body["person"] == {"name": "欧***"}, body  # a valid code: the person is shown whatever the colour
    assert scan_result(city, term, get_code(city, token)["code"]) == color
    st = check_status(my_status(city, token))
    assert st["color"] == color
    hand = by_hand(st)
    assert hand["text"] == reason and st["reasons"] == [hand], st
    assert r.json() == {"color": color, "until": hand["until"]}, r.text
    # by default an override holds for 14 days, then the rules take over again
    assert abs(parse_time(hand["until"]) - (before + 14 * 86400)) < after - before + 5, hand
    assert before - 2 <= parse_time(st["since"]) <= after + 2, st


def test_back_to_green(city, term):
    p, token = resident(city)
    code = get_code(city, token)["code"]
    assert set_status(city, p.id_number, "red", "核酸阳性").status_code == 200
    assert scan_result(city, term, code) == "red"
    assert set_status(city, p.id_number, "yellow", "解除隔离后健康监测").status_code == 200
    assert scan_result(city, term, code) == "yellow"
    assert set_status(city, p.id_number, "green", "监测期满").status_code == 200
    assert scan_result(city, term, code) == "green"
    st = check_status(my_status(city, token))
    assert st["color"] == "green"
    assert by_hand(st)["text"] == "监测期满", st
    assert all(r["text"] not in ("核酸阳性", "解除隔离后健康监测") for r in st["reasons"]), st


def test_change_touches_only_its_person(city, term):
    a, ta = resident(city)
    b, tb = resident(city)
    assert set_status(city, a.id_number, "red", "入境人员").status_code == 200
    assert scan_result(city, term, get_code(city, ta)["code"]) == "red"
    assert scan_result(city, term, get_code(city, tb)["code"]) == "green"
    assert my_status(city, tb)["color"] == "green"
    assert my_status(city, tb)["reasons"] == []


def test_lower_case_x_names_the_same_person(city, term):
    p = city.new_person(want_x=True)
    city.register_ok(p)
    token = city.login_ok(p)
    assert set_status(city, p.id_number.lower(), "yellow", "14天内到访中风险地区").status_code == 200
    assert scan_result(city, term, get_code(city, token)["code"]) == "yellow"


def test_colour_set_before_registration(city, term):
    p = city.new_person()  # in the registry, not yet registered
    r = set_status(city, p.id_number, "red", "集中隔离")
    assert r.status_code == 200, r.text
    city.register_ok(p)
    token = city.login_ok(p)
    assert scan_result(city, term, get_code(city, token)["code"]) == "red"
    st = my_status(city, token)
    assert st["color"] == "red" and by_hand(st)["text"] == "集中隔离", st


@pytest.mark.parametrize("color", ["blue", "", "black", "greenish", 1, None, ["red"]])
def test_bad_color(city, color):
    p, token = resident(city)
    r = city.post("/v1/staff/status", {"id_number": p.id_number, "color": color, "reason": "x"},
                  token=city.staff["admin"]["token"])
    assert_error(r, 400, "invalid_argument", field="color")
    assert my_status(city, token)["color"] == "green"


def test_bad_id_number(city):
    p = city.new_person()
    for idn in (wrong_check_char(p.id_number), "abc", "", p.id_number[:17], p.id_number + "1", 310101):
        r = set_status(city, idn, "red", "测试")
        assert_error(r, 400, "invalid_argument", field="id_number")


def test_id_number_not_in_registry(city):
    outsider = city.outsider()
    assert_error(set_status(city, outsider.id_number, "red", "测试"), 404, "not_found")


@pytest.mark.parametrize("body, field", [
    ({"color": "red", "reason": "x"}, "id_number"),
    ({"id_number": None, "color": "red", "reason": "x"}, "id_number"),
    ({"id_number": "ID", "reason": "x"}, "color"),
    ({"id_number": "ID", "color": "red"}, "reason"),
    ({"id_number": "ID", "color": "red", "reason": ""}, "reason"),
    ({"id_number": "ID", "color": "red", "reason": 5}, "reason"),
    ({"id_number": "ID", "color": "red", "reason": "很" * 20000}, "reason"),
    ({"id_number": "ID", "color": "red", "reason": "很" * 167}, "reason"),  # 501 bytes
    ({"id_number": "ID", "color": "red", "reason": "x", "until": "tomorrow"}, "until"),
    ({"id_number": "ID", "color": "red", "reason": "x", "until": "2020-01-01T00:00:00Z"}, "until"),
    ({"id_number": "ID", "color": "red", "reason": "x", "until": "2099-01-01T00:00:00Z"}, "until"),
    ({"id_number": "ID", "color": "red", "reason": "x", "until": 5}, "until"),
], ids=["no_id", "null_id", "no_color", "no_reason", "empty_reason", "number_reason", "long_reason",
        "reason_501_bytes", "until_not_a_time", "until_past", "until_beyond_90_days", "until_number"])
def test_bad_body(city, body, field):
    p, token = resident(city)
    body = {k: (p.id_number if v == "ID" else v) for k, v in body.items()}
    r = city.post("/v1/staff/status", body, token=city.staff["admin"]["token"])
    if field == "reason" and r.status_code == 413:
        assert_error(r, 413, "too_large")
    else:
        assert_error(r, 400, "invalid_argument", field=field)
    assert my_status(city, token)["color"] == "green", "a refused change changed the colour"


def test_malformed_body(city):
    r = city.post("/v1/staff/status", data=b'{"id_number":', token=city.staff["admin"]["token"])
    assert_error(r, 400, "invalid_argument")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_admin_sets_colours(city, term, role):
    p, token = resident(city)
    r = set_status(city, p.id_number, "red", "越权", token=city.staff[role]["token"])
    assert_error(r, 403, "permission_denied")
    assert scan_result(city, term, get_code(city, token)["code"]) == "green"


def test_set_status_needs_a_staff_token(city):
    p, token = resident(city)
    assert_error(set_status(city, p.id_number, "red", "x", token=None), 401, "unauthenticated")
    assert_error(set_status(city, p.id_number, "red", "x", token=token), 401, "unauthenticated")
    assert my_status(city, token)["color"] == "green"


def test_my_status_needs_a_citizen_token(city):
    assert_error(city.get("/v1/me/status"), 401, "unauthenticated")
    assert_error(city.get("/v1/me/status", token=city.staff["admin"]["token"]), 401, "unauthenticated")


def test_colour_survives_restart(fresh_city):
    city = fresh_city
    term = make_terminal(city, scene="venue")
    p, token = resident(city)
    assert set_status(city, p.id_number, "red", "重启前设置").status_code == 200
    city.restart()
    assert scan_result(city, term, get_code(city, token)["code"]) == "red"
    st = my_status(city, token)
    assert st["color"] == "red" and by_hand(st)["text"] == "重启前设置", st


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def wait_for_colour(city, token, colour, deadline=20.0):
    """Polls GET /v1/me/status until it answers colour (the scheduler looks at due colours every second)."""
    end = time.time() + deadline
    while True:
        st = my_status(city, token)
        if st["color"] == colour or time.time() > end:
            return st
        time.sleep(0.2)


def set_status_until(city, id_number, color, reason, until):
    return city.post("/v1/staff/status", {"id_number": id_number, "color": color, "reason": reason,
                                          "until": iso(until)}, token=city.staff["admin"]["token"])


def test_override_ends_by_itself(city, term):
    p, token = resident(city)
    code = get_code(city, token)["code"]
    until = int(time.time()) + 3
    r = set_status_until(city, p.id_number, "red", "流调核实中", until)
    assert r.status_code == 200 and r.json() == {"color": "red", "until": iso(until)}, r.text
    st = my_status(city, token)
    assert st["color"] == "red" and by_hand(st)["until"] == iso(until), st
    assert scan_result(city, term, code) == "red"
    # no request changes it: the override's end is its review time
    st = wait_for_colour(city, token, "green")
    assert st["color"] == "green" and st["reasons"] == [] and st["review_at"] is None, st
    assert scan_result(city, term, get_code(city, token)["code"]) == "green"
    history = city.get("/v1/me/status/history", token=token).json()["changes"]
    assert [h["color"] for h in history[:2]] == ["green", "red"], history


def test_override_above_the_rules(city, term):
    p, token = resident(city)
    fever = {"kind": "health", "temperature": 38.6, "symptoms": ["发热"]}
    assert city.post("/v1/me/declarations", fever, token=token).status_code == 201
    st = my_status(city, token)
    assert st["color"] == "yellow" and st["reasons"][0]["rule"] != "manual_override", st
    until = int(time.time()) + 4
    assert set_status_until(city, p.id_number, "green", "复核体温正常", until).status_code == 200
    st = my_status(city, token)
    assert st["color"] == "green" and by_hand(st)["text"] == "复核体温正常", st
    aside = by_hand(st)["overrides"]
    assert aside["color"] == "yellow" and [r["rule"] for r in aside["reasons"]] == ["yellow.fever"], st
    # evidence that arrives during the override is kept, and counts once the override ends
    assert city.post("/v1/me/declarations", fever, token=token).status_code == 201
    assert my_status(city, token)["color"] == "green"
    assert scan_result(city, term, get_code(city, token)["code"]) == "green"
    st = wait_for_colour(city, token, "yellow")
    assert st["color"] == "yellow" and all(r["rule"] != "manual_override" for r in st["reasons"]), st
    assert scan_result(city, term, get_code(city, token)["code"]) == "yellow"


def test_a_newer_override_replaces_the_older(city, term):
    p, token = resident(city)
    assert set_status(city, p.id_number, "red", "集中隔离").status_code == 200
    # in the same second: the one given later wins
    assert set_status(city, p.id_number, "green", "解除隔离").status_code == 200
    st = my_status(city, token)
    assert st["color"] == "green" and by_hand(st)["text"] == "解除隔离", st


def test_reason_sealed_at_rest(city):
    """The words of a colour set by hand are personal (health) data: shown to the resident, never kept in clear."""
    p, token = resident(city)
    reason = f"复核后改判{p.id_number[-4:]}号"
    city.remember(reason)
    assert set_status(city, p.id_number, "yellow", reason).status_code == 200
    assert by_hand(my_status(city, token))["text"] == reason
    history = city.get("/v1/me/status/history", token=token).json()["changes"]
    assert history[0]["reasons"][0]["text"] == reason, history
    needle = reason.encode("utf-8")
    for f in city.data.iterdir():
        if f.is_file():
            assert needle not in f.read_bytes(), f"the reason is in clear in {f.name}"
