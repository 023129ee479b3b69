"""Scanning: POST /v1/scans, what each scene sees, tampered and foreign codes, and the resident's scan history.

Covers the answer's shape (an integer scan_id, increasing; scanned_at now; one of the six results; `person` only
for a valid code), the scene masks (checkpoint, community, venue, pool, transit see the name masked, 张* / 欧***;
hospital sees the full name and the ID number masked to its first 2 and last 2 characters), tampered codes (every
character changed in turn, the version character too: invalid), garbage, empty, lower-case, truncated, extended and
over-long codes, a code from another city's key ring, bad bodies (400 field code), GET /v1/me/scans (newest first,
place and scene of the terminal, never another resident's scans, invalid scans attributed to no one), and the
request counter in /metrics.
"""
import time

import pytest

from conftest import (
    B32, MASKED_NAME_SCENES, SCENES, assert_error, check_scan_answer, get_code, make_terminal, metric_value, my_scans,
    parse_time, resident, scan, scan_ok, scan_result,
)


def mask_name(name):
    return name[0] + "*" * (len(name) - 1)


def mask_id(idn):
    return idn[:2] + "*" * 14 + idn[-2:]


@pytest.fixture(scope="module")
def terminals(city):
    """One terminal per scene, each at its own place."""
    places = {"checkpoint": "沪昆高速卡口", "community": "康乐小区东门", "venue": "上海图书馆", "hospital": "瑞金医院门诊",
              "transit": "地铁2号线人民广场站", "pool": "徐汇游泳馆"}
    return {s: make_terminal(city, scene=s, place=places[s], org=f"{places[s]}管理处") for s in SCENES}


# -- the answer ------------------------------------------------------------------------------------------------------


def test_answer_shape_and_time(city, terminals):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    before = time.time()
    body = scan_ok(city, terminals["checkpoint"], code)
    after = time.time()
    assert body["result"] == "green"
    assert before - 2 <= parse_time(body["scanned_at"]) <= after + 2, body


def test_scan_ids_increase(city, terminals):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    ids = [scan_ok(city, terminals[s], code)["scan_id"] for s in SCENES for _ in range(2)]
    ids.append(scan_ok(city, terminals["venue"], "GARBAGE")["scan_id"])
    assert ids == sorted(ids) and len(set(ids)) == len(ids), ids


def test_a_code_scans_at_every_scene_and_again(city, terminals):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    for s in SCENES:
        assert scan_result(city, terminals[s], code) == "green"
    assert scan_result(city, terminals["checkpoint"], code) == "green"


# -- what each scene sees --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scene", MASKED_NAME_SCENES)
@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("欧阳小明", "欧***"), ("李四", "李*")])
def test_masked_name_scenes(city, terminals, scene, name, masked):
    p, token = resident(city, name=name)
    body = scan_ok(city, terminals[scene], get_code(city, token)["code"])
    assert body["result"] == "green"
    assert body["person"] == {"name": masked}, body
    assert p.id_number not in str(body)


def test_masked_name_of_a_generated_name(city, terminals):
    p, token = resident(city)
    body = scan_ok(city, terminals["transit"], get_code(city, token)["code"])
    assert body["person"] == {"name": mask_name(p.name)}, body


@pytest.mark.parametrize("name", ["张三", "欧阳小明", None])
def test_hospital_sees_full_name_and_masked_id(city, terminals, name):
    p, token = resident(city, name=name)
    body = scan_ok(city, terminals["hospital"], get_code(city, token)["code"])
    assert body["result"] == "green"
    assert body["person"] == {"name": p.name, "id_number": mask_id(p.id_number)}, body
    assert len(body["person"]["id_number"]) == 18
    assert p.id_number not in str(body)


def test_hospital_id_ending_in_x(city, terminals):
    p = city.new_person(want_x=True)
    city.register_ok(p)
    token = city.login_ok(p)
    body = scan_ok(city, terminals["hospital"], get_code(city, token)["code"])
    assert body["person"]["id_number"] == mask_id(p.id_number)
    assert body["person"]["id_number"].endswith("X")


def test_each_code_shows_its_own_holder(city, terminals):
    a, ta = resident(city, name="张三")
    b, tb = resident(city, name="欧阳小明")
    ca, cb = get_code(city, ta)["code"], get_code(city, tb)["code"]
    h = terminals["hospital"]
    assert scan_ok(city, h, cb)["person"] == {"name": b.name, "id_number": mask_id(b.id_number)}
    assert scan_ok(city, h, ca)["person"] == {"name": a.name, "id_number": mask_id(a.id_number)}


# -- codes that are not valid ----------------------------------------------------------------------------------------


def variants(code):
    """The code with each character changed in turn: the version character to another digit, every other one to
    another base32 character, twice (its lowest bit flipped, which for the last character touches only the unused
    padding bits, and its highest bit flipped)."""
    out = []
    for i, c in enumerate(code):
        if i == 0:
            repl = ["2" if c != "2" else "3", "9" if c != "9" else "0"]
        elif c in B32:
            v = B32.index(c)
            repl = [B32[v ^ 1], B32[v ^ 16]]
        else:
            repl = ["A" if c != "A" else "B"]
        for r in repl:
            assert r != c
            out.append(code[:i] + r + code[i + 1:])
    return out


def test_every_character_tampered_is_invalid(city, terminals):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    t = terminals["checkpoint"]
    bad = {}
    for v in variants(code):
        body = scan_ok(city, t, v)
        if body["result"] != "invalid":
            bad[v] = body
    assert not bad, f"tampered codes accepted (original {code}): {bad}"
    # the original still scans, and the tampered scans were attributed to no one
    assert scan_result(city, t, code) == "green"
    scans = my_scans(city, token)
    assert [s["result"] for s in scans] == ["green"], scans


@pytest.mark.parametrize("garbage", ["GARBAGE", "1", "0" * 56, "1" + "A" * 55, "1" + "A" * 63, "HELLO WORLD",
                                     "https://example.com/", "随申码", "{}", "%00%00"],
                         ids=["word", "one", "zeros56", "version_A55", "version_A63", "space", "url", "chinese",
                              "braces", "percent"])
def test_garbage_is_invalid(city, terminals, garbage):
    body = scan_ok(city, terminals["hospital"], garbage)
    assert body["result"] == "invalid"
    assert "person" not in body


def test_empty_code(city, terminals):
    invalid_or_400(scan(city, terminals["venue"], ""))


def test_lower_case_code_is_invalid(city, terminals):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    assert code.lower() != code
    body = scan_ok(city, terminals["hospital"], code.lower())
    assert body["result"] == "invalid" and "person" not in body
    assert scan_result(city, terminals["hospital"], code) == "green"


def test_truncated_and_extended_codes_are_invalid(city, terminals):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    t = terminals["community"]
    for v in (code[:-1], code[1:], code[:len(code) // 2], code + "A", code + code, "1" + code, " " + code,
              code + " "):
        body = scan_ok(city, t, v)
        assert body["result"] == "invalid", (v, body)
    # control characters: refused as a bad field, or scanned as invalid
    for v in (code + "\n", "\t" + code, code[:20] + "\r" + code[20:]):
        invalid_or_400(scan(city, t, v))
    assert scan_result(city, t, code) == "green"


def invalid_or_400(r, field="code"):
    """A code that is no code: 200 with result invalid, or 400 invalid_argument naming the field."""
    if r.status_code == 400:
        assert_error(r, 400, "invalid_argument", field=field)
    else:
        assert r.status_code == 200, r.text
        body = check_scan_answer(r.json())
        assert body["result"] == "invalid" and "person" not in body, body


def test_two_codes_spliced_are_invalid(city, terminals):
    _, ta = resident(city)
    _, tb = resident(city)
    ca, cb = get_code(city, ta)["code"], get_code(city, tb)["code"]
    half = len(ca) // 2
    assert scan_result(city, terminals["venue"], ca[:half] + cb[half:]) == "invalid"
    assert scan_result(city, terminals["venue"], cb[:half] + ca[half:]) == "invalid"


def test_over_long_code(city, terminals):
    invalid_or_400(scan(city, terminals["venue"], "A" * 300))
    invalid_or_400(scan(city, terminals["venue"], "1" + "A" * 299))


def test_code_from_another_city_is_invalid(city, terminals, fresh_city):
    _, token = resident(fresh_city)
    foreign = get_code(fresh_city, token)["code"]
    other_term = make_terminal(fresh_city, scene="hospital")
    assert scan_result(fresh_city, other_term, foreign) == "green"
    body = scan_ok(city, terminals["hospital"], foreign)
    assert body["result"] == "invalid" and "person" not in body


# -- bad bodies ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    (b"{}", "code"),
    (b'{"code": 12345}', "code"),
    (b'{"code": null}', "code"),
    (b'{"code": ["A"]}', "code"),
    (b'{"code": {"a": 1}}', "code"),
    (b'{"code": true}', "code"),
], ids=["missing", "number", "null", "array", "object", "bool"])
def test_bad_code_member(city, terminals, body, field):
    assert_error(scan(city, terminals["venue"], None, body=body), 400, "invalid_argument", field=field)


@pytest.mark.parametrize("body", [b"", b"{", b'{"code": "A"', b"[]", b'"code"', b"\xff\xfe", b"null"],
                         ids=["empty", "open", "unclosed", "array", "string", "not_utf8", "null"])
def test_malformed_body(city, terminals, body):
    r = scan(city, terminals["venue"], None, body=body)
    assert_error(r, 400, "invalid_argument")


def test_nul_in_code(city, terminals):
    """A NUL inside the code: refused (400, malformed or a bad field) or invalid; never a truncated code that scans."""
    _, token = resident(city)
    code = get_code(city, token)["code"]
    body = ('{"code": "%s\\u0000%s"}' % (code, "XYZ")).encode()
    r = scan(city, terminals["venue"], None, body=body)
    if r.status_code == 400:
        assert_error(r, 400, "invalid_argument")
    else:
        assert r.status_code == 200, r.text
        assert check_scan_answer(r.json())["result"] == "invalid"


def test_scan_is_post_only(city, terminals):
    r = city.get("/v1/scans")
    assert r.status_code in (401, 405), r.text
    assert r.status_code != 200


# -- the resident's scan history -------------------------------------------------------------------------------------


def test_history_is_empty_for_a_new_resident(city):
    _, token = resident(city)
    assert my_scans(city, token) == []


def test_history_newest_first_with_place_and_scene(city, terminals):
    _, token = resident(city)
    order = ["checkpoint", "hospital", "transit", "pool"]
    answers = []
    for s in order:
        answers.append(scan_ok(city, terminals[s], get_code(city, token)["code"]))
    scans = my_scans(city, token)
    assert len(scans) == len(order), scans
    want = [{"scanned_at": a["scanned_at"], "place": terminals[s].place, "scene": s, "result": "green"}
            for s, a in zip(order, answers)]
    assert scans == list(reversed(want))


def test_history_shows_only_my_scans(city, terminals):
    a, ta = resident(city)
    b, tb = resident(city)
    scan_ok(city, terminals["venue"], get_code(city, ta)["code"])
    scan_ok(city, terminals["pool"], get_code(city, tb)["code"])
    scan_ok(city, terminals["pool"], get_code(city, tb)["code"])
    sa, sb = my_scans(city, ta), my_scans(city, tb)
    assert [(s["place"], s["scene"]) for s in sa] == [(terminals["venue"].place, "venue")]
    assert [(s["place"], s["scene"]) for s in sb] == [(terminals["pool"].place, "pool")] * 2


def test_invalid_scans_are_attributed_to_no_one(city, terminals):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    t = terminals["checkpoint"]
    for v in (code.lower(), code[:-1], code[:10] + ("A" if code[10] != "A" else "B") + code[11:]):
        assert scan_result(city, t, v) == "invalid"
    assert my_scans(city, token) == []


def test_history_needs_a_citizen_token(city):
    assert_error(city.get("/v1/me/scans"), 401, "unauthenticated")
    assert_error(city.get("/v1/me/scans", token=city.staff["admin"]["token"]), 401, "unauthenticated")


def test_history_place_is_the_terminals_place(city):
    t = make_terminal(city, scene="community", place="静安区 曹家渡街道·长寿小区 (3号门)", org="长寿小区物业")
    _, token = resident(city)
    scan_ok(city, t, get_code(city, token)["code"])
    scans = my_scans(city, token)
    assert [(s["place"], s["scene"], s["result"]) for s in scans] == [(t.place, "community", "green")]


# -- metrics ---------------------------------------------------------------------------------------------------------


def scan_counter(city, status):
    r = city.get("/metrics")
    assert r.status_code == 200, r.text
    return metric_value(r.text, "suishen_http_requests_total", {"route": "POST /v1/scans", "status": status}) or 0


def test_metrics_count_scans(city, terminals):
    _, token = resident(city)
    code = get_code(city, token)["code"]
    ok_before, refused_before = scan_counter(city, "200"), scan_counter(city, "401")
    for _ in range(3):
        scan_ok(city, terminals["venue"], code)
    assert_error(scan(city, terminals["venue"], code, drop=("X-Signature",)), 401, "unauthenticated")
    assert scan_counter(city, "200") >= ok_before + 3
    assert scan_counter(city, "401") >= refused_before + 1
