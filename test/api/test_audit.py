"""The tamper-evident audit log, the resident's access log and security alerts (issue 5 items 4, 5, 6).

Covers: `suishen audit verify` on an intact log, then on a log with one row changed (it names that entry), with its
last entries removed, and with a row changed and every later hash recomputed (the signed checkpoint no longer fits);
what is audited (a staff call with its status, refused ones too; a colour change and its cause; log-ins, failed and
successful, without the password or ID number; a hospital scan's unmasked read, and not a checkpoint's masked one);
GET /v1/staff/audit and POST /v1/staff/audit/search (filters, paging, bad parameters, roles); GET /v1/me/access-log
(the organisation and place that read me, never the staff member's name); GET /v1/staff/alerts for each kind of alert
with thresholds from the data directory's settings file, acknowledging one, a bad settings file refused at start;
(issue 11 item 8) two codes of one resident issued in the same second and scanned at two places are no shared code,
one code at two places is, and the answer names the places and organisations and shows the people masked, a read
audited with the people it showed.
"""
import hashlib
import json
import sqlite3
import struct
import subprocess
import time

import pytest

from conftest import (
    ROLES, assert_error, get_code, make_terminal, mask_id, mask_name, my_status, resident, scan, scan_ok, set_status,
)

SECURITY = "security"


def db(city):
    return sqlite3.connect(str(city.data / "suishen.db"))


def verify(city):
    r = city.cli("audit", "verify", "--data", city.data)
    return r.returncode, r.stdout + r.stderr


def audit(city, token=None, **params):
    token = token or city.staff[SECURITY]["token"]
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return city.get("/v1/staff/audit" + (f"?{query}" if query else ""), token=token)


def entries(city, **params):
    r = audit(city, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"entries", "next_before"}, body
    return body["entries"]


def person_id_of(city, person):
    """The person id of a registered resident (from the citizens table; the API never shows it to residents)."""
    with db(city) as con:
        rows = con.execute("SELECT person_id, citizen_id FROM citizens").fetchall()
    token = city.login_ok(person)
    me = city.get("/v1/me", token=token).json()
    return dict((c, p) for p, c in rows)[int(me["citizen_id"])]


# ---- the chain -------------------------------------------------------------------------------------------------

def chain_hash(prev, seq, at, actor, actor_id, action, subject, why, unmasked, detail):
    """core/audit.c's chain, for a test that plays an attacker who recomputes it."""
    def text(s):
        b = s.encode("utf-8")
        return struct.pack(">Q", len(b)) + b
    data = (b"suishen-audit-1\0" + prev + struct.pack(">QQ", seq, at) + text(actor) + struct.pack(">Q", actor_id)
            + text(action) + struct.pack(">Q", subject) + text(why) + bytes([1 if unmasked else 0]) + text(detail))
    return hashlib.new("sm3", data).digest()


def busy_log(city):
    """A few audited things: a colour set by hand, a log-in, a hospital scan."""
    p, token = resident(city)
    assert set_status(city, p.id_number, "yellow", "审计测试").status_code == 200
    hospital = make_terminal(city, scene="hospital", place="审计医院")
    scan_ok(city, hospital, get_code(city, token)["code"])
    return p


def test_verify_finds_a_changed_row(fresh_city):
    city = fresh_city
    busy_log(city)
    city.stop()  # the server signs what it wrote as it stops
    rc, out = verify(city)
    assert rc == 0 and "audit log intact" in out, out
    with db(city) as con:
        n = con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        assert n >= 5, n
        target = n // 2
        con.execute("UPDATE audit_log SET detail = '{\"status\":200}' WHERE seq = ?", (target,))
    rc, out = verify(city)
    assert rc == 1 and f"broken at entry {target}:" in out and "changed" in out, out


def test_verify_finds_removed_entries(fresh_city):
    city = fresh_city
    busy_log(city)
    city.stop()
    with db(city) as con:
        n = con.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
        con.execute("DELETE FROM audit_log WHERE seq >= ?", (n - 1,))
    rc, out = verify(city)
    assert rc == 1 and f"entries from {n - 1} on have been removed" in out, out


def test_verify_finds_a_recomputed_chain(fresh_city):
    """An attacker who changes a row and recomputes every later hash still cannot forge the signed checkpoint."""
    city = fresh_city
    busy_log(city)
    city.stop()
    with db(city) as con:
        rows = con.execute("SELECT seq, at, actor, actor_id, action, subject, why, unmasked, detail, prev, hash "
                           "FROM audit_log ORDER BY seq").fetchall()
        target = rows[len(rows) // 2][0]
        prev = None
        for seq, at, actor, actor_id, action, subject, why, unmasked, detail, old_prev, old_hash in rows:
            if seq < target:
                continue
            if seq == target:
                detail = '{"status":200}'
                prev = old_prev
            # the attacker's recomputation must agree with the server's own for untouched rows
            if seq != target:
                assert chain_hash(old_prev, seq, at, actor, actor_id, action, subject, why, unmasked,
                                  detail) == old_hash, "the test's chain differs from core/audit.c's"
            h = chain_hash(prev, seq, at, actor, actor_id, action, subject, why, unmasked, detail)
            con.execute("UPDATE audit_log SET detail = ?, prev = ?, hash = ? WHERE seq = ?", (detail, prev, h, seq))
            prev = h
    rc, out = verify(city)
    assert rc == 1 and "differs from its signed checkpoint" in out, out


# ---- what is audited -------------------------------------------------------------------------------------------

def test_staff_calls_are_audited_refused_ones_too(city):
    p, token = resident(city)
    admin = city.staff["admin"]
    assert set_status(city, p.id_number, "red", "审计：人工").status_code == 200
    assert set_status(city, p.id_number, "red", "越权", token=city.staff["operator"]["token"]).status_code == 403
    mine = entries(city, actor=f"staff:{admin['staff_id']}", action="POST%20/v1/staff/status", limit=5)
    assert mine and mine[0]["action"] == "POST /v1/staff/status", mine
    e = mine[0]
    assert e["actor"]["kind"] == "staff" and e["actor"]["id"] == admin["staff_id"] and e["actor"]["role"] == "admin"
    assert e["detail"]["status"] == 200 and e["detail"]["call"]["color"] == "red", e
    assert isinstance(e["subject"], int) and e["subject"] > 0
    assert p.id_number not in str(e) and p.name not in str(e)
    refused = entries(city, actor=f"staff:{city.staff['operator']['staff_id']}", limit=5)
    assert refused and refused[0]["detail"]["status"] == 403 and refused[0]["action"] == "POST /v1/staff/status"
    # the colour change it caused, with its cause
    changes = entries(city, action="status.change", subject=e["subject"], limit=5)
    assert changes and changes[0]["actor"]["kind"] == "system", changes
    assert changes[0]["detail"]["to"] == "red" and changes[0]["detail"]["rule"] == "manual_override", changes


def test_logins_are_audited(city):
    p = city.new_person()
    city.register_ok(p)
    bad = city.login(p, password="not-the-password-1")
    assert bad.status_code == 401
    city.login_ok(p)
    pid = person_id_of(city, p)
    got = entries(city, subject=pid, limit=20)
    actions = [e["action"] for e in got]
    assert "login.failed" in actions and "login" in actions, actions
    for e in got:
        if e["action"].startswith("login"):
            assert e["actor"]["kind"] == "citizen" and e["detail"]["channel"] == "app", e
            assert len(e["detail"]["source"]) == 16, e  # a keyed hash of the address, not the address
            assert "127.0.0.1" not in str(e) and p.password not in str(e) and p.id_number not in str(e)


def test_hospital_read_in_the_access_log(city):
    p, token = resident(city)
    hospital = make_terminal(city, scene="hospital", place="访问记录医院", org="第九人民医院")
    checkpoint = make_terminal(city, scene="checkpoint", place="访问记录卡口")
    scan_ok(city, checkpoint, get_code(city, token)["code"])
    assert city.get("/v1/me/access-log", token=token).json() == {"reads": []}
    scan_ok(city, hospital, get_code(city, token)["code"])
    r = city.get("/v1/me/access-log", token=token)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", r.text
    reads = r.json()["reads"]
    assert len(reads) == 1, reads
    assert reads[0]["by"] == {"kind": "terminal", "org": "第九人民医院", "place": "访问记录医院", "scene": "hospital"}
    assert reads[0]["why"] == "hospital" and reads[0]["action"] == "scan.unmasked"
    # the staff view of the same read
    pid = person_id_of(city, p)
    got = entries(city, subject=pid, unmasked="true")
    assert [e["action"] for e in got] == ["scan.unmasked"], got
    assert got[0]["actor"]["kind"] == "terminal" and got[0]["unmasked"] is True


def test_access_log_shows_a_staff_role_not_a_name(city):
    """A masked staff read (a trace naming the resident) is not in the resident's access log; an unmasked one (the
    appeal handler opening their appeal, which shows their name and ID number) is, by role, never by name."""
    p, token = resident(city)
    epi = city.staff["epidemiologist"]
    now = int(time.time())
    body = {"id_number": p.id_number, "from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600)),
            "to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
    assert city.post("/v1/staff/trace", body, token=epi["token"]).status_code == 200
    staff = entries(city, actor=f"staff:{epi['staff_id']}", limit=1)
    assert staff[0]["why"] == "trace" and staff[0]["unmasked"] is False
    assert city.get("/v1/me/access-log", token=token).json()["reads"] == []

    r = city.post("/v1/me/appeals", {"reason": "访问记录测试", "details": "请核实"}, token=token, channel="app")
    assert r.status_code == 201, r.text
    appeal_id = r.json()["appeal_id"]
    handler = city.staff["handler"]
    r = city.get(f"/v1/staff/appeals/{appeal_id}", token=handler["token"])
    assert r.status_code == 200 and r.json()["person"]["id_number"] == p.id_number, r.text
    reads = city.get("/v1/me/access-log", token=token).json()["reads"]
    assert len(reads) == 1, reads
    assert reads[0]["by"] == {"kind": "staff", "role": "handler"}, reads
    assert reads[0]["why"] == f"appeal:{appeal_id}", reads
    text = json.dumps(reads, ensure_ascii=False)
    assert handler["name"] not in text and str(handler["staff_id"]) not in json.dumps(reads[0]["by"]), text


def test_access_log_needs_a_resident(city):
    assert_error(city.get("/v1/me/access-log"), 401, "unauthenticated")
    assert_error(city.get("/v1/me/access-log", token=city.staff["admin"]["token"]), 401, "unauthenticated")


# ---- the audit API ---------------------------------------------------------------------------------------------

def test_audit_paging_and_search_by_id_number(city):
    p, _ = resident(city)
    for colour in ("yellow", "red", "green"):
        assert set_status(city, p.id_number, colour, f"分页{colour}").status_code == 200
    first = audit(city, action="POST%20/v1/staff/status", limit=2).json()
    assert len(first["entries"]) == 2 and first["next_before"] == first["entries"][-1]["seq"], first
    second = audit(city, action="POST%20/v1/staff/status", limit=2, before=first["next_before"]).json()
    assert second["entries"] and all(e["seq"] < first["next_before"] for e in second["entries"]), second
    seqs = [e["seq"] for e in first["entries"] + second["entries"]]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    # the subject by ID number, in a body (never in a URL)
    r = city.post("/v1/staff/audit/search", {"id_number": p.id_number, "action": "status.change"},
                  token=city.staff[SECURITY]["token"])
    assert r.status_code == 200, r.text
    found = r.json()["entries"]
    assert [e["detail"]["to"] for e in found[:3]] == ["green", "red", "yellow"], found
    r = city.post("/v1/staff/audit/search", {"id_number": city.outsider().id_number},
                  token=city.staff[SECURITY]["token"])
    assert_error(r, 404, "not_found", field="id_number")


@pytest.mark.parametrize("params, field", [
    ({"actor": "robot"}, "actor"), ({"actor": "staff:x"}, "actor"), ({"from": "yesterday"}, "from"),
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"before": "abc"}, "before"),
    ({"subject": "-3"}, "subject"), ({"unmasked": "yes"}, "unmasked"),
    ({"from": "2026-11-27T00:00:00Z", "to": "2026-11-26T00:00:00Z"}, "from"),
])
def test_audit_bad_parameters(city, params, field):
    assert_error(audit(city, **params), 400, "invalid_argument", field=field)


@pytest.mark.parametrize("role", [r for r in ROLES if r != SECURITY])
def test_only_security_reads_the_audit_log(city, role):
    assert_error(audit(city, token=city.staff[role]["token"]), 403, "permission_denied")
    assert_error(city.get("/v1/staff/alerts", token=city.staff[role]["token"]), 403, "permission_denied")


def test_audit_needs_a_staff_token(city):
    _, token = resident(city)
    assert_error(city.get("/v1/staff/audit", token=token), 401, "unauthenticated")
    assert_error(city.get("/v1/staff/audit"), 401, "unauthenticated")


# ---- alerts ----------------------------------------------------------------------------------------------------

SETTINGS = """# low thresholds, so that a test can reach them
alerts.probe.min_invalid = 4
alerts.probe.rate = 0.5
alerts.login.failures = 3
alerts.reads.min = 4
alerts.reads.factor = 2
"""


@pytest.fixture
def watched(fresh_city):
    city = fresh_city
    (city.data / "suishen.conf").write_text(SETTINGS, encoding="utf-8")
    city.restart()
    return city


def alerts(city, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    r = city.get("/v1/staff/alerts" + (f"?{query}" if query else ""), token=city.staff[SECURITY]["token"])
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def test_probing_terminal(watched):
    city = watched
    term = make_terminal(city, scene="checkpoint", place="被探测的卡口")
    calm = make_terminal(city, scene="checkpoint", place="平静的卡口")
    _, token = resident(city)
    scan_ok(city, calm, get_code(city, token)["code"])
    scan_ok(city, calm, "1" + "A" * 55)  # one invalid code among few: not an alert
    for i in range(5):
        assert scan_ok(city, term, f"1FORGED{i:02d}" + "Q" * 47)["result"] == "invalid"
    got = alerts(city, kind="probing")
    assert [a["subject"] for a in got] == [f"terminal:{term.terminal_id}"], got
    assert [(p["org"], p["place"]) for p in got[0]["places"]] == [(term.org, term.place)], got
    d = got[0]["detail"]
    assert d["invalid"] >= 4 and d["share"] >= 0.5 and d["terminal_id"] == term.terminal_id, d
    # one alert per window, however long the probing goes on
    scan_ok(city, term, "1" + "Z" * 55)
    assert len(alerts(city, kind="probing")) == 1


def test_shared_code(watched):
    city = watched
    a = make_terminal(city, scene="venue", place="截图甲馆")
    b = make_terminal(city, scene="venue", place="截图乙馆")
    _, token = resident(city)
    code = get_code(city, token)["code"]
    scan_ok(city, a, code)
    scan_ok(city, a, code)  # the same place again is not sharing
    assert alerts(city, kind="shared_code") == []
    scan_ok(city, b, code)
    got = alerts(city, kind="shared_code")
    assert len(got) == 1 and got[0]["subject"].startswith("person:"), got
    assert got[0]["detail"]["seconds_apart"] < 60, got


def two_codes_of_one_second(city, token):
    """Two codes of one resident issued within the same second: fetched in pairs until a pair shares its second."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        first, second = get_code(city, token), get_code(city, token)
        if first["issued_at"] == second["issued_at"]:
            assert first["code"] != second["code"]
            return first["code"], second["code"]
    raise AssertionError("no two codes were issued in one second within 60 s")


def test_two_codes_of_one_second_are_not_a_shared_code(watched):
    """Issue 11 item 8: the watcher keyed a code by its holder and issue second, so a resident's two codes of one
    second, scanned at two places, raised a false shared_code alert. Only one code seen at two places is shared; the
    alert then names both places with their organisations, the times, and the holder masked."""
    city = watched
    a = make_terminal(city, scene="venue", place="同秒甲馆", org="静安区体育局")
    b = make_terminal(city, scene="checkpoint", place="同秒乙站", org="徐汇公安分局")
    p, token = resident(city)
    first, second = two_codes_of_one_second(city, token)
    scan_ok(city, a, first)
    scan_ok(city, b, second)
    assert alerts(city, kind="shared_code") == []
    scan_ok(city, b, first)  # the first code again, at another place: shared
    got = alerts(city, kind="shared_code")
    assert len(got) == 1, got
    alert = got[0]
    assert alert["subject"] == f"person:{person_id_of(city, p)}", alert
    assert alert["person"] == {"name": mask_name(p.name), "id_number": mask_id(p.id_number)}, alert
    assert [(x["org"], x["place"]) for x in alert["places"]] == [(a.org, a.place), (b.org, b.place)], alert
    d = alert["detail"]
    assert d["terminals"] == [a.terminal_id, b.terminal_id] and len(d["scanned_at"]) == 2, d
    assert d["scanned_at"][0] <= d["scanned_at"][1] and "presenter_id" not in d and "presenter" not in alert, alert
    text = json.dumps(got, ensure_ascii=False)
    assert p.name not in text and p.id_number not in text and p.phone not in text, text


def test_reading_alerts_is_audited_with_the_people_shown(watched):
    """A read of alerts shows people masked: its audit entry says so (not unmasked) and names them by person id."""
    city = watched
    a = make_terminal(city, scene="venue")
    b = make_terminal(city, scene="venue")
    p, token = resident(city)
    code = get_code(city, token)["code"]
    scan_ok(city, a, code)
    scan_ok(city, b, code)
    got = alerts(city, kind="shared_code")
    assert len(got) == 1, got
    read = entries(city, action="GET%20/v1/staff/alerts")[0]
    assert read["actor"]["id"] == city.staff[SECURITY]["staff_id"] and read["unmasked"] is False, read
    assert read["why"] == "alerts" and read["subject"] is None, read
    call = read["detail"]["call"]
    assert call["people"] == [person_id_of(city, p)], read
    assert call["alerts"] == 1 and call["alert_ids"] == [got[0]["alert_id"]] * 2, read


def test_login_failures_from_one_source(watched):
    city = watched
    people = [city.new_person() for _ in range(3)]
    for p in people:
        city.register_ok(p)
        assert city.login(p, password="wrong-password-9").status_code == 401
    got = alerts(city, kind="login_failures")
    assert len(got) == 1 and got[0]["detail"]["failures"] >= 3, got
    assert got[0]["subject"].startswith("source:") and "127.0.0.1" not in str(got)


def test_staff_reading_far_more_than_peers(watched):
    city = watched
    busy = city.create_staff("admin", "甲管理员")
    quiet = city.create_staff("admin", "乙管理员")
    people = [city.new_person() for _ in range(5)]
    assert set_status(city, people[0].id_number, "yellow", "对照", token=quiet["token"]).status_code == 200
    assert alerts(city, kind="staff_reads") == []
    for p in people:
        assert set_status(city, p.id_number, "yellow", "大量查阅", token=busy["token"]).status_code == 200
    got = alerts(city, kind="staff_reads")
    assert [a["subject"] for a in got] == [f"staff:{busy['staff_id']}"], got
    assert got[0]["staff"] == {"staff_id": busy["staff_id"], "name": "甲管理员", "role": "admin"}, got
    assert got[0]["detail"]["reads"] >= 5 and got[0]["detail"]["peers_median"] <= 2, got


def test_acknowledge(watched):
    city = watched
    for _ in range(3):
        assert city.login(city.new_person(), password="wrong-password-8", otp="000000").status_code == 401
    got = alerts(city)
    assert got and got[0]["acknowledged"] is None, got
    sec = city.staff[SECURITY]
    r = city.post(f"/v1/staff/alerts/{got[0]['alert_id']}/ack", token=sec["token"])
    assert r.status_code == 200, r.text
    again = [a for a in alerts(city) if a["alert_id"] == got[0]["alert_id"]][0]
    assert again["acknowledged"]["by"] == sec["staff_id"], again
    assert again["acknowledged"]["name"] == sec["name"], again
    # the first acknowledgement stands
    other = city.create_staff(SECURITY, "另一位安全员")
    assert_error(city.post(f"/v1/staff/alerts/{got[0]['alert_id']}/ack", token=other["token"]), 409, "conflict")
    again = [a for a in alerts(city) if a["alert_id"] == got[0]["alert_id"]][0]
    assert again["acknowledged"]["by"] == sec["staff_id"], again
    assert_error(city.post("/v1/staff/alerts/999999/ack", token=sec["token"]), 404, "not_found")
    assert_error(city.post(f"/v1/staff/alerts/{got[0]['alert_id']}/ack", token=city.staff["admin"]["token"]), 403,
                 "permission_denied")


def test_bad_settings_file_is_refused(bare_city):
    city = bare_city
    city.cli("init", "--data", city.data)
    (city.data / "suishen.conf").write_text("alerts.probe.rate = 2\n", encoding="utf-8")
    proc = city.spawn()
    try:
        rc = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("suishen serve started with a bad settings file")
    assert rc != 0
    assert "alerts.probe.rate" in city.log_tail(), city.log_tail()


def test_a_misspelled_setting_is_refused(bare_city):
    """A key no one reads (a typo in a threshold would leave the default in force unnoticed) stops the server at
    start, named; the same file with the key spelled right starts."""
    city = bare_city
    city.cli("init", "--data", city.data)
    (city.data / "suishen.conf").write_text("alerts.login.failures = 5\nalerts.probe.rates = 0.2\n", encoding="utf-8")
    proc = city.spawn()
    try:
        rc = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("suishen serve started with an unknown setting")
    assert rc != 0
    assert "unknown setting 'alerts.probe.rates'" in city.log_tail(), city.log_tail()
    (city.data / "suishen.conf").write_text("alerts.login.failures = 5\nalerts.probe.rate = 0.2\n", encoding="utf-8")
    city.start()
