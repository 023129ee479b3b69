"""Appeals (申诉): POST /v1/me/appeals, GET /v1/me/appeals[/{id}], and the staff side under /v1/staff/appeals.

Covers the whole workflow (file -> claim -> data and grassroots checks -> upheld: the colour changes through a
manual_override record from the appeal, seen in GET /v1/me/status and on a scan; rejected: the reason the resident
reads; close), the hotline path (an operator files for a caller named by ID number and name; a mismatched name is
422, a missing one 400), the timeline (who and when), the handlers' queue (ordered by due time, keyset paging with a
cursor), refusals (another handler's appeal 403, deciding before the checks 409, claiming a claimed one 409, another
resident's appeal 404, roles 403, no token 401), bad bodies (400 naming the field), the counts in /metrics and
GET /v1/staff/appeals/stats, and that what a person wrote never reaches the server's log nor the database in clear.
"""
import sqlite3
import time

import pytest

from conftest import (
    ROLES, assert_error, get_code, make_terminal, metric_value, my_status, parse_time, resident, scan_result,
)

DAY = 86400


@pytest.fixture(scope="module")
def term(city):
    return make_terminal(city, scene="community", place="申诉测试小区")


@pytest.fixture(scope="module")
def handler2(city):
    s = city.create_staff("handler", "申诉处理员乙")
    return s["token"]


def tok(city, role):
    return city.staff[role]["token"]


def file_appeal(city, token, reason="健康码误判", details="我近14天未离开本市，请核实行程数据。"):
    city.remember(reason, details)
    r = city.post("/v1/me/appeals", {"reason": reason, "details": details}, token=token, channel="app")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"appeal_id", "state", "due_at"}, body
    assert body["state"] == "submitted"
    return body


def claim(city, appeal_id, token=None):
    return city.post(f"/v1/staff/appeals/{appeal_id}/claim", token=token or tok(city, "handler"))


def check(city, appeal_id, kind, result, token=None):
    city.remember(result)
    return city.post(f"/v1/staff/appeals/{appeal_id}/checks", {"kind": kind, "result": result},
                     token=token or tok(city, "handler"))


def decide(city, appeal_id, body, token=None):
    return city.post(f"/v1/staff/appeals/{appeal_id}/decision", body, token=token or tok(city, "handler"))


def checked(city, appeal_id, token=None):
    """Claims an appeal and records both checks (each must succeed)."""
    assert claim(city, appeal_id, token).status_code == 200
    assert check(city, appeal_id, "data", "大数据核查：无风险地区到访记录", token).status_code == 200
    r = check(city, appeal_id, "grassroots", "街道核查：本人居家，情况属实", token)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "checking"


def test_workflow_upheld_changes_colour(city, term):
    p, token = resident(city)
    code = get_code(city, token)["code"]
    assert city.post("/v1/staff/status", {"id_number": p.id_number, "color": "red", "reason": "时空伴随"},
                     token=tok(city, "admin")).status_code == 200
    assert scan_result(city, term, code) == "red"

    before = time.time()
    a = file_appeal(city, token)
    aid = a["appeal_id"]
    # a decision is due 24 h after filing
    assert abs(parse_time(a["due_at"]) - (before + DAY)) < 5, a

    r = claim(city, aid)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "assigned" and r.json()["handler_id"] == city.staff["handler"]["staff_id"]
    assert check(city, aid, "data", "大数据核查：无到访记录").json()["state"] == "checking"
    assert check(city, aid, "grassroots", "社区核查属实").json()["state"] == "checking"
    reason = "行程数据有误，已更正"
    city.remember(reason)
    r = decide(city, aid, {"decision": "upheld", "color": "green", "reason": reason})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "upheld" and r.json()["decision"]["color"] == "green", r.text

    # the colour changed through the rules: a manual_override naming the appeal, at once for the next scan
    st = my_status(city, token)
    assert st["color"] == "green", st
    hand = [x for x in st["reasons"] if x["rule"] == "manual_override"]
    assert len(hand) == 1 and f"申诉 #{aid}" in hand[0]["text"] and reason in hand[0]["text"], st
    assert scan_result(city, term, code) == "green"

    # the resident sees the decision and the timeline
    mine = city.get(f"/v1/me/appeals/{aid}", token=token).json()
    assert mine["state"] == "upheld" and mine["decision"]["decision"] == "upheld", mine
    assert mine["decision"]["reason"] == reason and mine["decision"]["color"] == "green", mine
    assert [e["action"] for e in mine["timeline"]] == ["filed", "claimed", "checked", "checked", "decided"], mine

    r = city.post(f"/v1/staff/appeals/{aid}/close", token=tok(city, "handler"))
    assert r.status_code == 200 and r.json()["state"] == "closed", r.text
    assert city.get(f"/v1/me/appeals/{aid}", token=token).json()["state"] == "closed"
    # closed is final
    assert_error(city.post(f"/v1/staff/appeals/{aid}/close", token=tok(city, "handler")), 409, "conflict")


def test_upheld_appeal_shows_only_the_reason_of_its_colour(city):
    """After an upheld appeal the colour is green and its one reason is the override, which says what it
    overrides (the rules' yellow and their reason); the yellow reason is no longer listed as a reason of green."""
    p, token = resident(city)
    r = city.post("/v1/me/declarations", {"kind": "health", "temperature": 38.6}, token=token, channel="app")
    assert r.status_code == 201, r.text
    st = my_status(city, token)
    assert st["color"] == "yellow" and [x["rule"] for x in st["reasons"]] == ["yellow.fever"], st
    fever = st["reasons"][0]

    aid = file_appeal(city, token)["appeal_id"]
    checked(city, aid)
    reason = "体温计故障，复测正常"
    city.remember(reason)
    r = decide(city, aid, {"decision": "upheld", "color": "green", "reason": reason})
    assert r.status_code == 200, r.text

    st = my_status(city, token)
    assert st["color"] == "green", st
    assert [x["rule"] for x in st["reasons"]] == ["manual_override"], st
    hand = st["reasons"][0]
    assert f"申诉 #{aid}" in hand["text"] and reason in hand["text"], hand
    assert hand["overrides"] == {"color": "yellow", "reasons": [fever]}, hand
    # the history keeps each change with the reasons of its own colour
    changes = city.get("/v1/me/status/history", token=token).json()["changes"]
    assert [(c["color"], [x["rule"] for x in c["reasons"]]) for c in changes[:2]] == [
        ("green", ["manual_override"]), ("yellow", ["yellow.fever"])], changes


def test_rejected_reason_visible(city, term):
    p, token = resident(city)
    assert city.post("/v1/staff/status", {"id_number": p.id_number, "color": "yellow", "reason": "中风险地区"},
                     token=tok(city, "admin")).status_code == 200
    aid = file_appeal(city, token)["appeal_id"]
    checked(city, aid)
    reason = "经核查确有到访中风险地区记录，维持黄码"
    city.remember(reason)
    r = decide(city, aid, {"decision": "rejected", "reason": reason})
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
    listed = city.get("/v1/me/appeals", token=token).json()["appeals"]
    assert [x["appeal_id"] for x in listed] == [aid], listed
    assert listed[0]["decision"]["decision"] == "rejected" and listed[0]["decision"]["reason"] == reason, listed
    assert "color" not in listed[0]["decision"]
    # nothing changed the colour
    assert my_status(city, token)["color"] == "yellow"
    assert scan_result(city, term, get_code(city, token)["code"]) == "yellow"


def test_timeline_who_and_when(city):
    p, token = resident(city)
    t0 = time.time()
    aid = file_appeal(city, token)["appeal_id"]
    checked(city, aid)
    t1 = time.time()
    tl = city.get(f"/v1/me/appeals/{aid}", token=token).json()["timeline"]
    assert [(e["action"], e["state"]) for e in tl] == [
        ("filed", "submitted"), ("claimed", "assigned"), ("checked", "checking"), ("checked", "checking")], tl
    assert tl[0]["actor"] == {"kind": "citizen", "id": p.citizen_id}, tl
    hid = city.staff["handler"]["staff_id"]
    assert all(e["actor"] == {"kind": "staff", "id": hid} for e in tl[1:]), tl
    assert [e.get("kind") for e in tl[2:]] == ["data", "grassroots"], tl
    for e in tl:
        assert t0 - 2 <= parse_time(e["at"]) <= t1 + 2, e
    # the handler's view has the same timeline, plus the checks' findings and the person
    full = city.get(f"/v1/staff/appeals/{aid}", token=tok(city, "handler")).json()
    assert full["timeline"] == tl
    assert full["checks"]["data"].startswith("大数据核查") and full["checks"]["grassroots"].startswith("街道核查")
    assert full["person"] == {"name": p.name, "id_number": p.id_number}, full
    assert full["handler_id"] == hid and full["filed_by"] == {"kind": "citizen", "id": p.citizen_id}


def test_hotline_files_for_caller(city):
    p, token = resident(city)
    details = "来电人称已完成三次核酸检测均为阴性"
    city.remember(details)
    body = {"id_number": p.id_number, "name": p.name, "reason": "核酸已阴性", "details": details}
    r = city.post("/v1/staff/appeals", body, token=tok(city, "operator"))
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["state"] == "submitted" and a["channel"] == "hotline", a
    # the caller sees it as their own
    mine = city.get(f"/v1/me/appeals/{a['appeal_id']}", token=token).json()
    assert mine["channel"] == "hotline" and mine["details"] == details, mine
    assert mine["timeline"][0]["actor"] == {"kind": "staff", "id": city.staff["operator"]["staff_id"]}, mine
    # the operator looks the state up for the caller (identified again by number and name)
    r = city.post("/v1/staff/appeals/lookup", {"id_number": p.id_number, "name": p.name}, token=tok(city, "operator"))
    assert r.status_code == 200, r.text
    got = r.json()["appeals"]
    assert [(x["appeal_id"], x["state"]) for x in got] == [(a["appeal_id"], "submitted")], got
    assert "details" not in got[0] and "reason" not in got[0]
    # a person in the registry who never registered can appeal by phone too
    q = city.new_person()
    r = city.post("/v1/staff/appeals", {"id_number": q.id_number, "name": q.name, "reason": "x", "details": "y"},
                  token=tok(city, "operator"))
    assert r.status_code == 201, r.text


def test_hotline_refusals(city):
    p = city.new_person()
    other = city.new_person()
    op = tok(city, "operator")
    base = {"id_number": p.id_number, "name": p.name, "reason": "误判", "details": "请核实"}
    # the name must match the registry for that number
    assert_error(city.post("/v1/staff/appeals", dict(base, name=other.name), token=op), 422, "real_name_mismatch")
    assert_error(city.post("/v1/staff/appeals", dict(base, id_number=city.outsider().id_number), token=op), 422,
                 "real_name_mismatch")
    assert_error(city.post("/v1/staff/appeals/lookup", {"id_number": p.id_number, "name": other.name}, token=op), 422,
                 "real_name_mismatch")
    for field in ("id_number", "name", "reason", "details"):
        b = dict(base)
        del b[field]
        assert_error(city.post("/v1/staff/appeals", b, token=op), 400, "invalid_argument", field=field)
    assert_error(city.post("/v1/staff/appeals", dict(base, id_number="123"), token=op), 400, "invalid_argument",
                 field="id_number")
    assert_error(city.post("/v1/staff/appeals/lookup", {"name": p.name}, token=op), 400, "invalid_argument",
                 field="id_number")


def test_refusals(city, handler2):
    _, token = resident(city)
    aid = file_appeal(city, token)["appeal_id"]
    # only an assigned handler may check or decide
    assert_error(check(city, aid, "data", "x", token=handler2), 403, "permission_denied")
    assert claim(city, aid).status_code == 200
    # claiming one already claimed by another: 409; by oneself again: no change
    assert_error(claim(city, aid, handler2), 409, "conflict")
    assert claim(city, aid).status_code == 200
    assert_error(check(city, aid, "data", "x", token=handler2), 403, "permission_denied")
    # deciding before both checks: 409
    assert_error(decide(city, aid, {"decision": "rejected", "reason": "r"}), 409, "conflict")
    assert check(city, aid, "data", "数据核查完成").status_code == 200
    assert_error(decide(city, aid, {"decision": "rejected", "reason": "r"}), 409, "conflict")
    assert check(city, aid, "grassroots", "基层核查完成").status_code == 200
    # claiming one's own again, once checked: no change, still checking
    r = claim(city, aid)
    assert r.status_code == 200 and r.json()["state"] == "checking", r.text
    # another handler deciding: 403
    assert_error(decide(city, aid, {"decision": "rejected", "reason": "r"}, token=handler2), 403, "permission_denied")
    assert_error(city.post(f"/v1/staff/appeals/{aid}/close", token=tok(city, "handler")), 409, "conflict")
    assert decide(city, aid, {"decision": "rejected", "reason": "维持"}).status_code == 200
    # decided: no second decision, no more checks
    assert_error(decide(city, aid, {"decision": "rejected", "reason": "r"}), 409, "conflict")
    assert_error(check(city, aid, "data", "x"), 409, "conflict")
    assert_error(city.post(f"/v1/staff/appeals/{aid}/close", token=handler2), 403, "permission_denied")
    # unknown appeals
    for bad in ("999999999", "abc", "0"):
        assert_error(claim(city, bad), 404, "not_found")
        assert_error(city.get(f"/v1/staff/appeals/{bad}", token=tok(city, "handler")), 404, "not_found")


def test_another_residents_appeal_is_not_found(city):
    _, ta = resident(city)
    _, tb = resident(city)
    aid = file_appeal(city, ta)["appeal_id"]
    r = city.get(f"/v1/me/appeals/{aid}", token=tb)
    assert_error(r, 404, "not_found")
    # the same answer as for one that does not exist
    r2 = city.get("/v1/me/appeals/999999999", token=tb)
    assert_error(r2, 404, "not_found")
    assert r.json() == r2.json()
    assert city.get("/v1/me/appeals", token=tb).json() == {"appeals": []}


@pytest.mark.parametrize("body, field", [
    ({"details": "d"}, "reason"),
    ({"reason": "r"}, "details"),
    ({"reason": "", "details": "d"}, "reason"),
    ({"reason": "r", "details": ""}, "details"),
    ({"reason": "x" * 201, "details": "d"}, "reason"),
    ({"reason": "r", "details": "x" * 4001}, "details"),
    ({"reason": 12, "details": "d"}, "reason"),
    ({"reason": "r", "details": ["d"]}, "details"),
    ({"reason": "a\u0001b", "details": "d"}, "reason"),
])
def test_bad_filing_bodies(city, body, field):
    _, token = resident(city)
    assert_error(city.post("/v1/me/appeals", body, token=token), 400, "invalid_argument", field=field)
    assert city.get("/v1/me/appeals", token=token).json() == {"appeals": []}


def test_bad_handler_bodies(city):
    _, token = resident(city)
    aid = file_appeal(city, token)["appeal_id"]
    assert claim(city, aid).status_code == 200
    h = tok(city, "handler")
    for body, field in (({"result": "x"}, "kind"), ({"kind": "phone", "result": "x"}, "kind"),
                        ({"kind": "data"}, "result"), ({"kind": "data", "result": ""}, "result")):
        assert_error(city.post(f"/v1/staff/appeals/{aid}/checks", body, token=h), 400, "invalid_argument",
                     field=field)
    checked(city, aid)
    for body, field in (({"reason": "r"}, "decision"), ({"decision": "maybe", "reason": "r"}, "decision"),
                        ({"decision": "upheld", "reason": "r"}, "color"),
                        ({"decision": "upheld", "color": "blue", "reason": "r"}, "color"),
                        ({"decision": "upheld", "color": "green", "until": "tomorrow", "reason": "r"}, "until"),
                        ({"decision": "upheld", "color": "green", "until": "2020-01-01T00:00:00Z", "reason": "r"},
                         "until"),
                        ({"decision": "rejected"}, "reason"), ({"decision": "rejected", "reason": ""}, "reason")):
        assert_error(decide(city, aid, body), 400, "invalid_argument", field=field)
    # nothing half-written: still checking, undecided
    full = city.get(f"/v1/staff/appeals/{aid}", token=h).json()
    assert full["state"] == "checking" and full["decision"] is None, full
    for q, field in (("state=open", "state"), ("limit=0", "limit"), ("limit=501", "limit"), ("after=xyz", "after")):
        assert_error(city.get(f"/v1/staff/appeals?{q}", token=h), 400, "invalid_argument", field=field)


ROUTES = [
    ("POST", "/v1/staff/appeals", {"id_number": "x", "name": "x", "reason": "x", "details": "x"}, {"operator"}),
    ("POST", "/v1/staff/appeals/lookup", {"id_number": "x", "name": "x"}, {"operator"}),
    ("GET", "/v1/staff/appeals", None, {"handler"}),
    ("GET", "/v1/staff/appeals/stats", None, {"handler"}),
    ("GET", "/v1/staff/appeals/1", None, {"handler"}),
    ("POST", "/v1/staff/appeals/1/claim", None, {"handler"}),
    ("POST", "/v1/staff/appeals/1/checks", {"kind": "data", "result": "x"}, {"handler"}),
    ("POST", "/v1/staff/appeals/1/decision", {"decision": "rejected", "reason": "x"}, {"handler"}),
    ("POST", "/v1/staff/appeals/1/close", None, {"handler"}),
]


@pytest.mark.parametrize("method, path, body, allowed", ROUTES)
def test_roles(city, method, path, body, allowed):
    kw = {} if body is None else {"json_body": body}
    for role in ROLES:
        r = city.request(method, path, token=tok(city, role), **kw)
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.text)
        else:
            assert_error(r, 403, "permission_denied")
    assert_error(city.request(method, path, **kw), 401, "unauthenticated")
    # a resident's token is not a staff token
    _, token = resident(city)
    assert_error(city.request(method, path, token=token, **kw), 401, "unauthenticated")


@pytest.mark.parametrize("method, path", [("POST", "/v1/me/appeals"), ("GET", "/v1/me/appeals"),
                                          ("GET", "/v1/me/appeals/1")])
def test_resident_routes_need_a_resident(city, method, path):
    kw = {"json_body": {"reason": "r", "details": "d"}} if method == "POST" else {}
    assert_error(city.request(method, path, **kw), 401, "unauthenticated")
    assert_error(city.request(method, path, token=tok(city, "admin"), **kw), 401, "unauthenticated")


def queue(city, **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    r = city.get(f"/v1/staff/appeals?{qs}", token=tok(city, "handler"))
    assert r.status_code == 200, r.text
    return r.json()


def test_queue_order_and_paging(fresh_city):
    city = fresh_city
    people = [resident(city) for _ in range(5)]
    ids = [file_appeal(city, t)["appeal_id"] for _, t in people]
    # one claimed: still in the whole queue, not among the submitted ones
    assert claim(city, ids[2]).status_code == 200
    whole = queue(city)
    assert [a["appeal_id"] for a in whole["appeals"]] == ids and whole["next"] is None, whole
    dues = [parse_time(a["due_at"]) for a in whole["appeals"]]
    assert dues == sorted(dues)
    assert all(set(a) == {"appeal_id", "state", "channel", "filed_at", "due_at", "handler_id", "overdue"}
               for a in whole["appeals"]), whole
    assert [a["state"] for a in whole["appeals"]] == ["submitted", "submitted", "assigned", "submitted", "submitted"]
    # pages of two, following the cursor, give each appeal once, in order
    seen, after, pages = [], None, 0
    while True:
        q = {"limit": 2}
        if after:
            q["after"] = after
        page = queue(city, **q)
        pages += 1
        seen += [a["appeal_id"] for a in page["appeals"]]
        after = page["next"]
        if after is None:
            break
        assert pages < 10
    assert seen == ids and pages == 3, (seen, pages)
    sub = queue(city, state="submitted", limit=3)
    assert [a["appeal_id"] for a in sub["appeals"]] == [ids[0], ids[1], ids[3]] and sub["next"], sub
    rest = queue(city, state="submitted", limit=3, after=sub["next"])
    assert [a["appeal_id"] for a in rest["appeals"]] == [ids[4]] and rest["next"] is None, rest
    assert [a["appeal_id"] for a in queue(city, state="assigned")["appeals"]] == [ids[2]]


def counts(city):
    r = city.get("/v1/staff/appeals/stats", token=tok(city, "handler"))
    assert r.status_code == 200, r.text
    m = city.get("/metrics").text
    return r.json(), m


def test_metrics_counts(fresh_city):
    city = fresh_city
    stats, m = counts(city)
    assert stats == {"open": 0, "overdue": 0, "decided": 0, "median_decision_seconds": None}, stats
    assert metric_value(m, "suishen_appeals_open", {}) == 0
    tokens = [resident(city)[1] for _ in range(3)]
    ids = [file_appeal(city, t)["appeal_id"] for t in tokens]
    stats, m = counts(city)
    assert stats["open"] == 3 and stats["overdue"] == 0 and stats["decided"] == 0, stats
    assert metric_value(m, "suishen_appeals_open", {}) == 3
    assert metric_value(m, "suishen_appeals_overdue", {}) == 0
    checked(city, ids[0])
    assert decide(city, ids[0], {"decision": "rejected", "reason": "维持原判"}).status_code == 200
    stats, m = counts(city)
    assert stats["open"] == 2 and stats["decided"] == 1, stats
    assert 0 <= stats["median_decision_seconds"] < 60, stats
    assert metric_value(m, "suishen_appeals_open", {}) == 2
    assert metric_value(m, "suishen_appeals_decided", {}) == 1
    med = metric_value(m, "suishen_appeal_decision_seconds_median", {})
    assert med is not None and 0 <= med < 60


def test_overdue(fresh_city):
    """An appeal past its due time counts as overdue (the due time is moved back in the database, server stopped)."""
    city = fresh_city
    _, t = resident(city)
    aid = file_appeal(city, t)["appeal_id"]
    city.stop()
    db = sqlite3.connect(city.data / "suishen.db")
    db.execute("UPDATE appeals SET due_at = due_at - 2 * 86400 WHERE appeal_id = ?", (aid,))
    db.commit()
    db.close()
    city.start()
    stats, m = counts(city)
    assert stats["open"] == 1 and stats["overdue"] == 1, stats
    assert metric_value(m, "suishen_appeals_overdue", {}) == 1
    assert queue(city)["appeals"][0]["overdue"] is True


def test_sealed_at_rest_and_not_logged(city):
    _, token = resident(city)
    details = "申诉详情：本人于某日在某医院就诊，密码不应出现在库中 ZQX-7781"
    reason = "就诊记录误判 ZQX"
    a = file_appeal(city, token, reason=reason, details=details)
    checked(city, a["appeal_id"])
    verdict = "核实就诊记录无误 ZQX-4410"
    city.remember(verdict)
    assert decide(city, a["appeal_id"], {"decision": "rejected", "reason": verdict}).status_code == 200
    assert city.get(f"/v1/me/appeals/{a['appeal_id']}", token=token).json()["details"] == details
    # the database files (with the WAL) hold none of it in clear
    data = b"".join(f.read_bytes() for f in city.data.glob("suishen.db*"))
    for text in (details, reason, verdict, "ZQX-7781", "ZQX-4410"):
        assert text.encode() not in data, text
    # the server log is checked at the end of the module (city.remember): here, at once
    city.check_logs()


def test_audited(city):
    p, token = resident(city)
    aid = file_appeal(city, token)["appeal_id"]
    checked(city, aid)
    r = city.get(f"/v1/staff/audit?action=appeal.checked&limit=50", token=tok(city, "security"))
    assert r.status_code == 200, r.text
    mine = [e for e in r.json()["entries"] if e["why"] == f"appeal:{aid}"]
    assert len(mine) == 2 and all(e["actor"]["kind"] == "staff" for e in mine), mine
    assert all(p.name not in str(e) and p.id_number not in str(e) for e in mine)
    r = city.get(f"/v1/staff/audit?action=appeal.filed&limit=50", token=tok(city, "security"))
    filed = [e for e in r.json()["entries"] if e["why"] == f"appeal:{aid}"]
    assert len(filed) == 1 and filed[0]["actor"] == {"kind": "citizen", "id": p.citizen_id}, filed
    assert filed[0]["subject"] is not None
