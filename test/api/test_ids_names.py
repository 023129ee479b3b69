"""Ids in paths and queries, and the names people read (issue 11, item 11).

An id in a path is decimal digits only: `/v1/me/appeals/+1`, `01`, `%2B1` or `1%20` name no appeal (404) even when
appeal 1 is the caller's, and the same holds for a relative's link id, the handlers' and operators' routes; an id in a
query (`subject`, `before`, `actor=staff:ID`) that is not digits is 400 naming it. Names of staff, organisations,
places and source clients pass the one check residents' names pass (ss_str_check_name): only white space (also
U+3000), or a bidirectional control (U+202E and the others) or another invisible character anywhere, is 400 naming
the field, and nothing is made; white space at the ends is trimmed.
"""
import pytest

from conftest import assert_error, resident, sign_headers

BIDI = "\u202e"


def not_found(r):
    assert_error(r, 404, "not_found")


def spellings(n):
    """Other spellings of the id n that must name nothing."""
    return [f"+{n}", f"0{n}", f"%2B{n}", f"{n}%20", f"%20{n}", f"-{n}", f"{n}.0", f"0x{n:x}", f"{n}%00"]


def test_appeal_ids_are_digits_only(city):
    _, token = resident(city)
    r = city.post("/v1/me/appeals", {"reason": "健康码误判", "details": "请核实"}, token=token, channel="app")
    assert r.status_code == 201, r.text
    aid = r.json()["appeal_id"]
    assert city.get(f"/v1/me/appeals/{aid}", token=token).status_code == 200
    handler = city.staff["handler"]["token"]
    assert city.get(f"/v1/staff/appeals/{aid}", token=handler).status_code == 200
    for s in spellings(aid):
        not_found(city.get(f"/v1/me/appeals/{s}", token=token))
        not_found(city.get(f"/v1/staff/appeals/{s}", token=handler))
        not_found(city.post(f"/v1/staff/appeals/{s}/claim", token=handler))
    # nothing was claimed by any of them
    assert city.get(f"/v1/me/appeals/{aid}", token=token).json()["state"] == "submitted"


def test_dependent_link_ids_are_digits_only(city):
    _, token = resident(city)
    elder = city.new_person()
    r = city.post("/v1/me/dependents", {"name": elder.name, "id_number": elder.id_number, "relation": "parent"},
                  token=token)
    assert r.status_code == 201 and r.json()["state"] == "pending", r.text
    link = r.json()["dependent_id"]
    # the link exists: its code is refused as pending (409), which a wrong spelling never reaches
    assert_error(city.get(f"/v1/me/dependents/{link}/code", token=token), 409, "conflict")
    operator = city.staff["operator"]["token"]
    assert city.get(f"/v1/staff/dependents/{link}", token=operator).status_code == 200
    for s in spellings(link):
        not_found(city.get(f"/v1/me/dependents/{s}/code", token=token))
        not_found(city.get(f"/v1/me/dependents/{s}/status", token=token))
        not_found(city.request("DELETE", f"/v1/me/dependents/{s}", token=token))
        not_found(city.get(f"/v1/staff/dependents/{s}", token=operator))
        not_found(city.post(f"/v1/staff/dependents/{s}/confirm", token=operator))
    assert city.get("/v1/me/dependents", token=token).json()["dependents"][0]["state"] == "pending"


@pytest.mark.parametrize("query, field", [("subject=%2B1", "subject"), ("subject=01", "subject"),
                                          ("before=%2B5", "before"), ("actor=staff:%2B1", "actor"),
                                          ("actor=staff:01", "actor")])
def test_ids_in_queries_are_digits_only(city, query, field):
    security = city.staff["security"]["token"]
    assert city.get("/v1/staff/audit?subject=1", token=security).status_code == 200
    assert_error(city.get(f"/v1/staff/audit?{query}", token=security), 400, "invalid_argument", field)
    assert_error(city.get("/v1/staff/alerts?before=%2B1", token=security), 400, "invalid_argument", "before")


BAD_NAMES = {
    "spaces": "   ",
    "ideographic_spaces": "\u3000\u3000",
    "no_break_spaces": "\u00a0 \u2003",
    "rlo": f"瑞金{BIDI}院医",
    "rlo_alone": BIDI,
    "lri": "\u2067医院\u2069",
    "rlm": "医院\u200f",
    "zero_width_space": "医\u200b院",
    "zero_width_joiner": "医\u200d院",
    "bom": "\ufeff医院",
    "soft_hyphen": "医\u00ad院",
    "hangul_filler": "\u3164",
    "tag": "医院\U000e0041",
}


@pytest.mark.parametrize("case", sorted(BAD_NAMES))
def test_bad_names_refused_naming_the_field(city, case):
    bad = BAD_NAMES[case]
    admin = city.staff["admin"]["token"]
    assert_error(city.post("/v1/staff/staff", {"name": bad, "role": "operator"}, token=admin), 400,
                 "invalid_argument", "name")
    assert_error(city.post("/v1/staff/terminals", {"org": bad, "place": "门诊大厅", "scene": "hospital"},
                           token=admin), 400, "invalid_argument", "org")
    assert_error(city.post("/v1/staff/terminals", {"org": "瑞金医院", "place": bad, "scene": "hospital"},
                           token=admin), 400, "invalid_argument", "place")
    assert_error(city.post("/v1/staff/sources", {"source": "lab", "name": bad}, token=admin), 400,
                 "invalid_argument", "name")
    # a resident's name is held to the same rule (the registry's name can never be such a one)
    p = city.new_person()
    assert_error(city.register(p, name=bad), 400, "invalid_argument", "name")


def test_names_are_trimmed_and_may_hold_inner_spaces(city):
    admin = city.staff["admin"]["token"]
    r = city.post("/v1/staff/staff", {"name": "\u3000 王芳 \u3000", "role": "operator"}, token=admin)
    assert r.status_code == 201, r.text
    me = city.get("/v1/staff/me", token=r.json()["token"]).json()
    assert me["name"] == "王芳", me
    r = city.post("/v1/staff/terminals", {"org": " 上海市公安局 ", "place": "G60 沪昆高速入城卡口\u3000",
                                          "scene": "checkpoint"}, token=admin)
    assert r.status_code == 201, r.text
    t = r.json()
    h = sign_headers(t["secret"], "GET", "/v1/terminals/me", b"", terminal_id=t["terminal_id"])
    me = city.get("/v1/terminals/me", headers=h)
    assert me.status_code == 200, me.text
    assert (me.json()["org"], me.json()["place"]) == ("上海市公安局", "G60 沪昆高速入城卡口"), me.json()


def test_staff_create_on_the_command_line_refuses_a_bidi_name(city):
    r = city.cli("staff", "create", "--data", city.data, "--name", f"管理员{BIDI}", "--role", "admin")
    assert r.returncode != 0 and r.stdout == "", (r.returncode, r.stdout)
    assert "name" in r.stderr and "bidirectional" in r.stderr, r.stderr
