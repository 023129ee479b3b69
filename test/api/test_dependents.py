"""Relatives' codes (亲属码): a resident's dependents, their codes, and the consent an adult dependent gives.

Covers adding a minor (active at once when the registry names the resident among the child's guardians, else
pending until an operator has seen the birth certificate or household register), re-imports that change a child's
guardians, and scanning their code at a checkpoint and at a hospital (the dependent's
colour and name as for any holder, plus who presents it: the guardian's masked name and the relation); the scans in
the dependent's history, read by the guardian, and not in the guardian's own; the limits (a sixth dependent, a third
account for a minor: 409 with nothing written) and duplicates; an adult who must consent (pending, no code) in the
app or, not registered, through a hotline operator; decline; removal (an earlier code then scans `unknown`); the
age of 18 (the boundary by birth date, and a link that ends by itself); an adult dependent withdrawing the consent they
gave (the guardian's code stops scanning at once); the real-name check (422), bad input (400), another resident's
dependent (404, as one that does not exist), the roles of the operator's endpoints, a change of the dependent's colour
on the next scan, the audit entries, and that links survive a restart.
"""
import copy
import datetime as dt
import json
import sqlite3
import time

import pytest

from conftest import (
    MISSING, ROLES, assert_error, make_id_number, make_person, make_terminal, my_scans, parse_time, resident,
    scan, set_status, wrong_check_char,
)

CST = dt.timezone(dt.timedelta(hours=8))
SCAN_KEYS = {"scan_id", "scanned_at", "result", "person", "presented_by"}


def mask_name(name):
    return name[0] + "*" * (len(name) - 1)


def mask_id(idn):
    return idn[:2] + "*" * (len(idn) - 4) + idn[-2:]


def today_cst():
    return dt.datetime.now(CST).date()


def years_before(d, years):
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def person_born(birth, name=None):
    """A new registry person (not yet imported) born on `birth`, with a valid ID number."""
    p = make_person(name=name)
    idn = make_id_number(p.division, birth.strftime("%Y%m%d"), int(p.id_number[14:17]))
    p.id_number = idn
    p.birth_date = birth.isoformat()
    p.sex = "M" if int(idn[16]) % 2 else "F"
    return p


def kids(city, n=1, age=8, guardians=()):
    """n minors of the registry (imported), about `age` years old, whose guardians the registry says are
    `guardians` (people)."""
    people = [person_born(years_before(today_cst(), age) - dt.timedelta(days=10 + i)) for i in range(n)]
    for p in people:
        p.guardians = [g.id_number for g in guardians]
    city.import_people(people)
    return people


def add(city, token, person, relation="child", **over):
    body = {"name": person.name, "id_number": person.id_number, "relation": relation}
    body.update(over)
    return city.post("/v1/me/dependents", body, token=token)


def add_ok(city, token, person, relation="child", state="active"):
    r = add(city, token, person, relation)
    assert r.status_code == 201, f"adding a dependent: {r.status_code} {r.text}"
    body = r.json()
    assert body["state"] == state, body
    assert body["name"] == mask_name(person.name) and body["id_number"] == mask_id(person.id_number), body
    assert body["relation"] == relation, body
    assert isinstance(body["dependent_id"], int), body
    return body["dependent_id"]


def dep_code(city, token, dep_id):
    r = city.get(f"/v1/me/dependents/{dep_id}/code", token=token)
    assert r.status_code == 200, f"dependent's code: {r.status_code} {r.text}"
    body = r.json()
    assert set(body) == {"code", "issued_at", "expires_at"}, body
    return body["code"]


def scan_rel(city, term, code):
    """A signed scan (must answer 200); returns the body, its shape checked."""
    r = scan(city, term, code)
    assert r.status_code == 200, f"scan refused: {r.status_code} {r.text[:300]}"
    body = r.json()
    assert {"scan_id", "scanned_at", "result"} <= set(body) <= SCAN_KEYS, body
    if body["result"] not in ("green", "yellow", "red"):
        assert "person" not in body and "presented_by" not in body, body
    return body


def listed(city, token, path, member, key):
    """The list of GET path (the answer's one member) by each item's key."""
    r = city.get(path, token=token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {member}, body
    return {d[key]: d for d in body[member]}


def listing(city, token):
    return listed(city, token, "/v1/me/dependents", "dependents", "dependent_id")


def db(city):
    return sqlite3.connect(f"file:{city.data / 'suishen.db'}?mode=ro", uri=True)


def audit_rows(city, action, link_id):
    """(actor, actor_id, subject, detail as a dict) of the audit entries of action about link link_id."""
    c = db(city)
    try:
        rows = c.execute("SELECT actor, actor_id, subject, detail FROM audit_log WHERE action = ? AND detail LIKE ? "
                         "ORDER BY seq", (action, f'%"link_id":{link_id},%')).fetchall()
    finally:
        c.close()
    return [(a, i, subj, json.loads(d)) for a, i, subj, d in rows]


def operator(city):
    return city.staff["operator"]["token"]


def document(city, link_id, doc="birth_certificate", token=MISSING):
    return city.post(f"/v1/staff/dependents/{link_id}/document", {"document": doc},
                     token=operator(city) if token is MISSING else token)


def links_of(city, citizen_id):
    c = db(city)
    try:
        return c.execute("SELECT count(*) FROM dependent_links WHERE guardian_id = ?", (citizen_id,)).fetchone()[0]
    finally:
        c.close()


@pytest.fixture(scope="module")
def terms(city):
    return {s: make_terminal(city, scene=s, place=f"亲属码{s}") for s in ("checkpoint", "hospital")}


# -- a minor ----------------------------------------------------------------------------------------------------------


def test_minor_is_active_at_once_and_scans_with_presenter(city, terms):
    g, token = resident(city, name="欧阳小明")
    kid, = kids(city, guardians=[g])
    dep = add_ok(city, token, kid, "child", state="active")
    listed = listing(city, token)
    assert listed[dep]["state"] == "active" and listed[dep]["minor"] is True, listed
    assert listed[dep]["basis"] == "registry", listed
    assert kid.id_number not in str(listed) and kid.name not in str(listed)

    code = dep_code(city, token, dep)
    body = scan_rel(city, terms["checkpoint"], code)
    assert body["result"] == "green", body
    assert body["person"] == {"name": mask_name(kid.name)}, body
    assert body["presented_by"] == {"name": "欧***", "relation": "child"}, body

    body = scan_rel(city, terms["hospital"], dep_code(city, token, dep))
    assert body["result"] == "green", body
    assert body["person"] == {"name": kid.name, "id_number": mask_id(kid.id_number)}, body
    assert body["presented_by"] == {"name": "欧***", "relation": "child"}, body  # masked even at a hospital

    # the scans are the dependent's: in their history, read by the guardian, not in the guardian's own
    r = city.get(f"/v1/me/dependents/{dep}/scans", token=token)
    assert r.status_code == 200, r.text
    scans = r.json()["scans"]
    assert [s["scene"] for s in scans] == ["hospital", "checkpoint"], scans
    assert all(set(s) == {"scanned_at", "place", "scene", "result"} and s["result"] == "green" for s in scans)
    assert scans[1]["place"] == terms["checkpoint"].place
    assert my_scans(city, token) == []

    # recorded with person = the dependent and presenter = the guardian
    c = db(city)
    try:
        rows = c.execute("SELECT person_id, presenter_id FROM scans WHERE scan_id = ?", (body["scan_id"],)).fetchall()
    finally:
        c.close()
    assert len(rows) == 1 and rows[0][0] and rows[0][1] and rows[0][0] != rows[0][1], rows

    r = city.get(f"/v1/me/dependents/{dep}/status", token=token)
    assert r.status_code == 200, r.text
    st = r.json()
    assert set(st) == {"color", "since", "reasons", "review_at"} and st["color"] == "green", st


def test_dependent_code_images(city, terms):
    g, token = resident(city)
    kid, = kids(city, guardians=[g])
    dep = add_ok(city, token, kid)
    for ext, ctype in (("svg", "image/svg+xml"), ("png", "image/png")):
        r = city.get(f"/v1/me/dependents/{dep}/code.{ext}", token=token)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith(ctype), r.headers
        assert r.headers.get("Cache-Control") == "no-store"
        assert r.headers.get("X-Code-Expires-At")
    assert city.get(f"/v1/me/dependents/{dep}/code.png").status_code == 401


def test_colour_change_shows_on_next_scan(city, terms):
    g, token = resident(city)
    kid, = kids(city, guardians=[g])
    dep = add_ok(city, token, kid, "grandchild")
    code = dep_code(city, token, dep)
    assert scan_rel(city, terms["checkpoint"], code)["result"] == "green"
    reason = "密接人员，居家健康监测"
    city.remember(reason)
    r = set_status(city, kid.id_number, "red", reason)
    assert r.status_code == 200, r.text
    body = scan_rel(city, terms["checkpoint"], code)
    assert body["result"] == "red", body
    assert body["presented_by"] == {"name": mask_name(g.name), "relation": "grandchild"}, body
    st = city.get(f"/v1/me/dependents/{dep}/status", token=token).json()
    assert st["color"] == "red" and any(x["text"] == reason for x in st["reasons"]), st
    # the guardian's own colour is not the dependent's
    assert city.get("/v1/me/status", token=token).json()["color"] == "green"


# -- limits and duplicates --------------------------------------------------------------------------------------------


def test_sixth_dependent_refused_with_nothing_written(city):
    g, token = resident(city)
    other_g, other = resident(city)
    six = kids(city, 6, guardians=[g, other_g])
    for k in six[:5]:
        add_ok(city, token, k)
    r = add(city, token, six[5])
    err = assert_error(r, 409, "conflict")
    assert "5" in err["message"], err
    assert len(listing(city, token)) == 5
    assert links_of(city, g.citizen_id) == 5
    # another account may still add the sixth child: nothing of theirs was written
    add_ok(city, other, six[5])


def test_duplicate_refused(city):
    g, token = resident(city)
    kid, = kids(city, guardians=[g])
    add_ok(city, token, kid)
    assert_error(add(city, token, kid, "other"), 409, "conflict")


def test_third_account_for_a_minor_refused(city):
    (g1, t1), (g2, t2), (g3, t3) = resident(city), resident(city), resident(city)
    kid, = kids(city, guardians=[g1, g2])
    d1 = add_ok(city, t1, kid)
    add_ok(city, t2, kid)
    # a third account is not one the registry names: its request waits, and no document can make it a third
    d3 = add_ok(city, t3, kid, state="pending")
    assert_error(document(city, d3), 409, "conflict")
    assert listing(city, t3)[d3]["state"] == "pending"
    # once one of the two lets go, the third may be confirmed
    assert city.request("DELETE", f"/v1/me/dependents/{d1}", token=t1).status_code == 200
    r = document(city, d3)
    assert r.status_code == 200 and r.json()["state"] == "active", r.text


def test_cannot_add_oneself(city):
    g, token = resident(city)
    assert_error(add(city, token, g, "other"), 400, "invalid_argument", field="id_number")


# -- adults: consent ----------------------------------------------------------------------------------------------


def test_adult_pending_until_accepted_in_app(city, terms):
    g, token = resident(city)
    elder, etoken = resident(city)
    dep = add_ok(city, token, elder, "parent", state="pending")
    assert listing(city, token)[dep]["minor"] is False
    assert_error(city.get(f"/v1/me/dependents/{dep}/code", token=token), 409, "conflict")
    assert_error(city.get(f"/v1/me/dependents/{dep}/code.svg", token=token), 409, "conflict")

    r = city.get("/v1/me/guardian-requests", token=etoken)
    assert r.status_code == 200, r.text
    reqs = r.json()["requests"]
    assert len(reqs) == 1, reqs
    assert reqs[0]["link_id"] == dep and reqs[0]["relation"] == "parent" and reqs[0]["state"] == "pending"
    assert reqs[0]["guardian"] == {"name": mask_name(g.name), "id_number": mask_id(g.id_number)}, reqs
    # the guardian cannot answer for the dependent; an operator may not confirm for a registered resident
    assert_error(city.post(f"/v1/me/guardian-requests/{dep}/accept", token=token), 404, "not_found")
    assert_error(city.post(f"/v1/staff/dependents/{dep}/confirm", token=city.staff["operator"]["token"]),
                 409, "conflict")

    r = city.post(f"/v1/me/guardian-requests/{dep}/accept", token=etoken)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "active"
    assert listing(city, token)[dep]["state"] == "active"
    assert city.get("/v1/me/guardian-requests", token=etoken).json()["requests"] == []
    assert_error(city.post(f"/v1/me/guardian-requests/{dep}/accept", token=etoken), 409, "conflict")

    body = scan_rel(city, terms["checkpoint"], dep_code(city, token, dep))
    assert body["result"] == "green", body
    assert body["person"] == {"name": mask_name(elder.name)}
    assert body["presented_by"] == {"name": mask_name(g.name), "relation": "parent"}
    # the elder's own code is theirs, with no presenter
    own = city.get("/v1/me/code", token=etoken).json()["code"]
    assert "presented_by" not in scan_rel(city, terms["checkpoint"], own)


def test_adult_not_registered_confirmed_by_operator(city, terms):
    g, token = resident(city)
    elder = city.new_person()  # in the registry, not registered
    dep = add_ok(city, token, elder, "grandparent", state="pending")
    assert_error(city.get(f"/v1/me/dependents/{dep}/code", token=token), 409, "conflict")
    op = city.staff["operator"]["token"]
    r = city.get(f"/v1/staff/dependents/{dep}", token=op)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == mask_name(elder.name) and r.json()["state"] == "pending", r.text
    r = city.post(f"/v1/staff/dependents/{dep}/confirm", token=op)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "active" and elder.id_number not in r.text and elder.name not in r.text
    assert_error(city.post(f"/v1/staff/dependents/{dep}/confirm", token=op), 409, "conflict")
    body = scan_rel(city, terms["hospital"], dep_code(city, token, dep))
    assert body["result"] == "green", body
    assert body["person"] == {"name": elder.name, "id_number": mask_id(elder.id_number)}, body
    assert body["presented_by"] == {"name": mask_name(g.name), "relation": "grandparent"}, body


def test_decline(city):
    g, token = resident(city)
    elder, etoken = resident(city)
    dep = add_ok(city, token, elder, "parent", state="pending")
    r = city.post(f"/v1/me/guardian-requests/{dep}/decline", token=etoken)
    assert r.status_code == 200 and r.json()["state"] == "declined", r.text
    assert listing(city, token)[dep]["state"] == "declined"
    assert_error(city.get(f"/v1/me/dependents/{dep}/code", token=token), 409, "conflict")
    assert_error(city.post(f"/v1/me/guardian-requests/{dep}/accept", token=etoken), 409, "conflict")
    # a declined link counts for nothing: the guardian may ask again
    add_ok(city, token, elder, "parent", state="pending")


def test_confirm_roles(city):
    g, token = resident(city)
    dep = add_ok(city, token, city.new_person(), "other", state="pending")
    path = f"/v1/staff/dependents/{dep}/confirm"
    for role in ROLES:
        if role != "operator":
            assert_error(city.post(path, token=city.staff[role]["token"]), 403, "permission_denied")
    assert_error(city.post(path), 401, "unauthenticated")
    assert_error(city.post(path, token=token), 401, "unauthenticated")  # a resident's token is not staff's
    assert listing(city, token)[dep]["state"] == "pending"
    assert_error(city.post("/v1/staff/dependents/99999999/confirm", token=city.staff["operator"]["token"]),
                 404, "not_found")


# -- removal, age, refusals ---------------------------------------------------------------------------------------


def test_delete_ends_link_and_earlier_code_scans_unknown(city, terms):
    g, token = resident(city)
    kid, = kids(city, guardians=[g])
    dep = add_ok(city, token, kid)
    code = dep_code(city, token, dep)
    assert scan_rel(city, terms["checkpoint"], code)["result"] == "green"
    r = city.request("DELETE", f"/v1/me/dependents/{dep}", token=token)
    assert r.status_code == 200, r.text
    body = scan_rel(city, terms["checkpoint"], code)
    assert body["result"] == "unknown", body
    assert dep not in listing(city, token)
    assert_error(city.get(f"/v1/me/dependents/{dep}/code", token=token), 404, "not_found")
    assert_error(city.request("DELETE", f"/v1/me/dependents/{dep}", token=token), 404, "not_found")


def test_age_boundary(city):
    g, token = resident(city)
    today = today_cst()
    turned_18_today = person_born(years_before(today, 18))
    turns_18_tomorrow = person_born(years_before(today, 18) + dt.timedelta(days=1))
    turned_18_today.guardians = turns_18_tomorrow.guardians = [g.id_number]
    city.import_people([turned_18_today, turns_18_tomorrow])
    add_ok(city, token, turned_18_today, "child", state="pending")
    dep = add_ok(city, token, turns_18_tomorrow, "child", state="active")
    ends = listing(city, token)[dep]["ends_at"]
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 0), CST)
    assert parse_time(ends) == tomorrow.timestamp(), ends


def test_real_name_and_input_checks(city):
    _, token = resident(city)
    kid, = kids(city)
    other = "李" if not kid.name.startswith("李") else "王"
    assert_error(add(city, token, kid, name=other + "某某"), 422, "real_name_mismatch")
    outsider = person_born(years_before(today_cst(), 5))  # a valid number the registry does not hold
    city.remember_person(outsider)
    assert_error(add(city, token, outsider), 422, "real_name_mismatch")
    assert_error(add(city, token, kid, id_number=wrong_check_char(kid.id_number)), 400, "invalid_argument",
                 field="id_number")
    assert_error(add(city, token, kid, relation="neighbour"), 400, "invalid_argument", field="relation")
    assert_error(city.post("/v1/me/dependents", {"name": kid.name, "id_number": kid.id_number}, token=token),
                 400, "invalid_argument")
    assert_error(add(city, token, kid, relation=5), 400, "invalid_argument")
    assert_error(city.post("/v1/me/dependents", {"name": kid.name}), 401, "unauthenticated")
    assert listing(city, token) == {}


def test_another_residents_dependent_is_not_found(city):
    g1, t1 = resident(city)
    _, t2 = resident(city)
    kid, = kids(city, guardians=[g1])
    dep = add_ok(city, t1, kid)
    for path in (f"/v1/me/dependents/{dep}/code", f"/v1/me/dependents/{dep}/status",
                 f"/v1/me/dependents/{dep}/scans", f"/v1/me/dependents/{dep}/code.svg"):
        theirs = city.get(path, token=t2)
        missing = city.get(path.replace(f"/{dep}/", "/99999999/"), token=t2)
        assert_error(theirs, 404, "not_found")
        assert theirs.json() == missing.json()  # the same answer as for a link that does not exist
    assert_error(city.request("DELETE", f"/v1/me/dependents/{dep}", token=t2), 404, "not_found")
    assert_error(city.post(f"/v1/me/guardian-requests/{dep}/accept", token=t2), 404, "not_found")
    assert_error(city.get("/v1/me/dependents/abc/code", token=t2), 404, "not_found")
    assert listing(city, t1)[dep]["state"] == "active"


def test_changes_are_audited_without_personal_data(city):
    g, token = resident(city)
    kid, = kids(city, guardians=[g])
    dep = add_ok(city, token, kid)
    assert city.request("DELETE", f"/v1/me/dependents/{dep}", token=token).status_code == 200
    c = db(city)
    try:
        rows = c.execute("SELECT actor, actor_id, action, subject, detail FROM audit_log WHERE action LIKE "
                         "'dependent.%' AND detail LIKE ?", (f'%"link_id":{dep},%',)).fetchall()
    finally:
        c.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [("citizen", g.citizen_id, "dependent.add"),
                                                  ("citizen", g.citizen_id, "dependent.remove")], rows
    assert rows[0][3] > 0 and rows[0][3] == rows[1][3]
    for r in rows:
        assert kid.name not in r[4] and kid.id_number not in r[4], r


# -- a link that ends by itself, and restarts ------------------------------------------------------------------------


def test_minor_turning_18_ends_the_link(fresh_city):
    city = fresh_city
    term = make_terminal(city, scene="checkpoint")
    g, token = resident(city)
    kid = person_born(years_before(today_cst(), 18) + dt.timedelta(days=1))  # 18 tomorrow
    kid.guardians = [g.id_number]
    city.import_people([kid])
    dep = add_ok(city, token, kid)
    code = dep_code(city, token, dep)
    assert scan_rel(city, term, code)["result"] == "green"
    # "tomorrow" comes: the moment the link ends (kept from the birth date) is moved to the past
    city.stop()
    c = sqlite3.connect(str(city.data / "suishen.db"))
    try:
        with c:
            c.execute("UPDATE dependent_links SET adult_at = ? WHERE link_id = ?", (int(time.time()) - 1, dep))
    finally:
        c.close()
    city.start()
    assert scan_rel(city, term, code)["result"] == "unknown"  # its codes stop scanning, no row read
    assert listing(city, token)[dep]["state"] == "ended"
    assert_error(city.get(f"/v1/me/dependents/{dep}/code", token=token), 409, "conflict")
    c = db(city)
    try:
        n = c.execute("SELECT count(*) FROM audit_log WHERE action = 'dependent.ended' AND actor = 'system'")
        assert n.fetchone()[0] == 1
    finally:
        c.close()


def test_links_survive_restart(fresh_city):
    city = fresh_city
    term = make_terminal(city, scene="checkpoint")
    g, token = resident(city)
    kid = person_born(years_before(today_cst(), 6))
    kid.guardians = [g.id_number]
    city.import_people([kid])
    elder = city.new_person()
    d_kid = add_ok(city, token, kid)
    d_elder = add_ok(city, token, elder, "parent", state="pending")
    assert city.post(f"/v1/staff/dependents/{d_elder}/confirm", token=city.staff["operator"]["token"]).ok
    codes = {d: dep_code(city, token, d) for d in (d_kid, d_elder)}
    city.restart()
    for d, code in codes.items():
        body = scan_rel(city, term, code)
        assert body["result"] == "green", body
        assert body["presented_by"]["name"] == mask_name(g.name), body
    assert {d: x["state"] for d, x in listing(city, token).items()} == {d_kid: "active", d_elder: "active"}
    assert city.request("DELETE", f"/v1/me/dependents/{d_elder}", token=token).status_code == 200
    assert scan_rel(city, term, codes[d_elder])["result"] == "unknown"
    assert scan_rel(city, term, codes[d_kid])["result"] == "green"


# -- a minor's link needs authority: the registry, or a document an operator has seen --------------------------------


def test_knowing_a_childs_name_and_number_is_not_enough(city, terms):
    """The flaw this closes: anyone who knew a child's name and ID number got the child's code, colour and scans."""
    _, stranger = resident(city)
    kid, = kids(city)  # a registry file of the old shape: no guardians column, so nobody is named
    dep = add_ok(city, stranger, kid, "child", state="pending")
    for path in ("code", "code.png", "status", "scans"):
        assert_error(city.get(f"/v1/me/dependents/{dep}/{path}", token=stranger), 409, "conflict")


def test_minor_not_named_by_the_registry_waits_for_a_document(city, terms):
    g, token = resident(city)
    somebody, _ = resident(city)
    kid, = kids(city, guardians=[somebody])  # the registry names someone else
    dep = add_ok(city, token, kid, "child", state="pending")
    listed = listing(city, token)[dep]
    assert listed["minor"] is True and listed["basis"] is None, listed
    err = assert_error(city.get(f"/v1/me/dependents/{dep}/code", token=token), 409, "conflict")
    assert "birth certificate" in err["message"], err
    assert_error(city.get(f"/v1/me/dependents/{dep}/status", token=token), 409, "conflict")
    assert_error(city.get(f"/v1/me/dependents/{dep}/scans", token=token), 409, "conflict")

    # what the operator sees: a minor's pending link, masked
    r = city.get(f"/v1/staff/dependents/{dep}", token=operator(city))
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["minor"] is True and view["state"] == "pending" and view["basis"] is None, view
    assert view["name"] == mask_name(kid.name) and kid.id_number not in r.text
    # a child's link is not confirmed by a caller's consent, nor by a document the rule does not know
    assert_error(city.post(f"/v1/staff/dependents/{dep}/confirm", token=operator(city)), 409, "conflict")
    for bad in ("passport", "", 7, None):
        assert_error(document(city, dep, bad), 400, "invalid_argument", field="document")
    assert_error(city.post(f"/v1/staff/dependents/{dep}/document", {}, token=operator(city)), 400,
                 "invalid_argument", field="document")
    for role in ROLES:
        if role != "operator":
            assert_error(document(city, dep, token=city.staff[role]["token"]), 403, "permission_denied")
    assert_error(document(city, dep, token=None), 401, "unauthenticated")
    assert_error(document(city, dep, token=token), 401, "unauthenticated")
    assert_error(document(city, 99999999), 404, "not_found")
    assert listing(city, token)[dep]["state"] == "pending"  # none of that changed anything

    r = document(city, dep, "household_register")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "active" and body["basis"] == "household_register" and body["minor"] is True, body
    assert kid.name not in r.text and kid.id_number not in r.text
    assert_error(document(city, dep), 409, "conflict")  # confirmed once
    assert listing(city, token)[dep]["basis"] == "household_register"
    scanned = scan_rel(city, terms["checkpoint"], dep_code(city, token, dep))
    assert scanned["result"] == "green" and scanned["presented_by"]["name"] == mask_name(g.name), scanned

    # audited: which operator, which document, about the child
    entries = audit_rows(city, "dependent.document", dep)
    assert len(entries) == 1, entries
    actor, actor_id, subject, detail = entries[0]
    assert (actor, actor_id) == ("staff", city.staff["operator"]["staff_id"]), entries
    assert detail["basis"] == "household_register" and detail["state"] == "active", detail
    assert subject == audit_rows(city, "dependent.add", dep)[0][2] and subject > 0


def test_an_adults_link_takes_no_document(city):
    _, token = resident(city)
    dep = add_ok(city, token, city.new_person(), "parent", state="pending")
    assert city.get(f"/v1/staff/dependents/{dep}", token=operator(city)).json()["minor"] is False
    assert_error(document(city, dep), 409, "conflict")
    assert listing(city, token)[dep]["state"] == "pending"
    r = city.post(f"/v1/staff/dependents/{dep}/confirm", token=operator(city))
    assert r.status_code == 200 and r.json()["basis"] == "hotline", r.text


def test_child_with_two_guardians_both_linked_at_once(city, terms):
    (mum, tm), (dad, td) = resident(city), resident(city)
    kid, = kids(city, guardians=[mum, dad])
    dm, dd = add_ok(city, tm, kid), add_ok(city, td, kid)
    for token, dep, g in ((tm, dm, mum), (td, dd, dad)):
        assert listing(city, token)[dep]["basis"] == "registry"
        body = scan_rel(city, terms["checkpoint"], dep_code(city, token, dep))
        assert body["presented_by"]["name"] == mask_name(g.name), body


def test_requests_that_wait_do_not_crowd_out_the_named_guardians(city):
    (mum, tm), (dad, td) = resident(city), resident(city)
    strangers = [resident(city) for _ in range(2)]
    kid, = kids(city, guardians=[mum, dad])
    for _, ts in strangers:  # anyone who knows the child's name and number may ask ...
        add_ok(city, ts, kid, state="pending")
    add_ok(city, tm, kid)  # ... but only the guardians get a code, and their asking does not use up the two places
    add_ok(city, td, kid)


def test_reimport_changing_guardians(city, terms):
    (mum, tm), (dad, td), (gran, tg) = resident(city), resident(city), resident(city)
    kid, = kids(city, guardians=[mum, dad])
    dm, dd = add_ok(city, tm, kid), add_ok(city, td, kid)
    assert scan_rel(city, terms["checkpoint"], dep_code(city, tm, dm))["result"] == "green"

    # a file without the guardians column changes nobody's guardians
    plain = copy.copy(kid)
    plain.guardians = []
    city.import_people([plain])
    assert {listing(city, t)[d]["state"] for t, d in ((tm, dm), (td, dd))} == {"active"}

    # custody changes: the registry now names dad and gran. Mum's link, made on the registry's word, has ended; she
    # gets no more codes, and gran can be linked at once in the place mum's link left
    kid.guardians = [dad.id_number, gran.id_number]
    city.import_people([kid])
    assert listing(city, tm)[dm]["state"] == "ended"
    err = assert_error(city.get(f"/v1/me/dependents/{dm}/code", token=tm), 409, "conflict")
    assert "ended" in err["message"], err
    assert listing(city, td)[dd]["state"] == "active"
    add_ok(city, tg, kid)
    # ended by the system, saying why
    entries = audit_rows(city, "dependent.ended", dm)
    assert [(a, d["cause"]) for a, _, _, d in entries] == [("system", "registry")], entries
    # asking again waits for an operator, as for anyone the registry does not name
    add_ok(city, tm, kid, state="pending")

    # an empty guardians field: the registry names nobody any more
    kid.guardians = []
    path = city.write_csv([kid], header="id_number,name,sex,birth_date,division,phone,guardians")
    assert city.import_file(path).returncode == 0
    assert listing(city, td)[dd]["state"] == "ended"


def test_registered_minor_cannot_answer_or_withdraw_their_guardians_link(city):
    mum, tm = resident(city)
    teen = person_born(years_before(today_cst(), 16))
    city.import_people([teen])  # no guardians named
    city.register_ok(teen)
    teen_token = city.login_ok(teen)
    dep = add_ok(city, tm, teen, state="pending")
    # a minor's link is not the minor's to accept (a stranger could ask them), nor to withdraw
    assert city.get("/v1/me/guardian-requests", token=teen_token).json()["requests"] == []
    assert_error(city.post(f"/v1/me/guardian-requests/{dep}/accept", token=teen_token), 409, "conflict")
    assert document(city, dep).status_code == 200
    assert city.get("/v1/me/guardians", token=teen_token).json()["guardians"] == []
    assert_error(city.request("DELETE", f"/v1/me/guardians/{dep}", token=teen_token), 409, "conflict")
    assert listing(city, tm)[dep]["state"] == "active"


# -- an adult withdraws the consent they gave ----------------------------------------------------------------------


def guardians_of(city, token):
    return listed(city, token, "/v1/me/guardians", "guardians", "link_id")


def test_adult_withdraws_consent_and_the_code_stops_at_once(city, terms):
    g, token = resident(city)
    elder, etoken = resident(city)
    dep = add_ok(city, token, elder, "parent", state="pending")
    assert guardians_of(city, etoken) == {}  # a request, not yet consent
    assert city.post(f"/v1/me/guardian-requests/{dep}/accept", token=etoken).status_code == 200
    code = dep_code(city, token, dep)
    assert scan_rel(city, terms["checkpoint"], code)["result"] == "green"

    listed = guardians_of(city, etoken)
    assert set(listed) == {dep}, listed
    x = listed[dep]
    assert x["guardian"] == {"name": mask_name(g.name), "id_number": mask_id(g.id_number)}, x
    assert x["relation"] == "parent" and x["state"] == "active" and x["basis"] == "app", x
    assert parse_time(x["since"]) >= parse_time(x["created_at"]), x
    assert g.id_number not in str(listed) and g.name not in str(listed)

    # the guardian cannot withdraw for the dependent, nor another resident
    _, other = resident(city)
    for t in (token, other):
        assert_error(city.request("DELETE", f"/v1/me/guardians/{dep}", token=t), 404, "not_found")
    assert_error(city.request("DELETE", f"/v1/me/guardians/{dep}"), 401, "unauthenticated")

    r = city.request("DELETE", f"/v1/me/guardians/{dep}", token=etoken)
    assert r.status_code == 200, r.text
    assert r.json() == {"link_id": dep, "relation": "parent", "state": "withdrawn"}, r.text
    # the code the guardian holds answers as a removed link's does: nothing about the elder
    assert scan_rel(city, terms["checkpoint"], code)["result"] == "unknown"
    assert listing(city, token)[dep]["state"] == "withdrawn"
    err = assert_error(city.get(f"/v1/me/dependents/{dep}/code", token=token), 409, "conflict")
    assert "withdrawn" in err["message"], err
    assert guardians_of(city, etoken) == {}
    assert_error(city.request("DELETE", f"/v1/me/guardians/{dep}", token=etoken), 409, "conflict")
    assert_error(city.request("DELETE", "/v1/me/guardians/99999999", token=etoken), 404, "not_found")

    entries = audit_rows(city, "dependent.withdraw", dep)
    assert [(a, i, d["state"]) for a, i, _, d in entries] == [("citizen", elder.citizen_id, "withdrawn")], entries
    assert elder.name not in json.dumps(entries, ensure_ascii=False)
    # the guardian may ask again: a new request, for the elder to answer
    again = add_ok(city, token, elder, "parent", state="pending")
    assert set(r["link_id"] for r in city.get("/v1/me/guardian-requests", token=etoken).json()["requests"]) == {again}


def test_consent_given_on_a_call_can_be_withdrawn_in_the_app_later(city, terms):
    g, token = resident(city)
    elder = city.new_person()
    dep = add_ok(city, token, elder, "grandparent", state="pending")
    assert city.post(f"/v1/staff/dependents/{dep}/confirm", token=operator(city)).status_code == 200
    code = dep_code(city, token, dep)
    city.register_ok(elder)  # the elder gets a phone after all
    etoken = city.login_ok(elder)
    assert guardians_of(city, etoken)[dep]["basis"] == "hotline"
    assert city.request("DELETE", f"/v1/me/guardians/{dep}", token=etoken).status_code == 200
    assert scan_rel(city, terms["hospital"], code)["result"] == "unknown"


def test_withdrawal_holds_across_a_restart(fresh_city):
    city = fresh_city
    term = make_terminal(city, scene="checkpoint")
    _, token = resident(city)
    elder, etoken = resident(city)
    dep = add_ok(city, token, elder, "spouse", state="pending")
    assert city.post(f"/v1/me/guardian-requests/{dep}/accept", token=etoken).status_code == 200
    code = dep_code(city, token, dep)
    assert city.request("DELETE", f"/v1/me/guardians/{dep}", token=etoken).status_code == 200
    city.restart()
    assert scan_rel(city, term, code)["result"] == "unknown"
    assert listing(city, token)[dep]["state"] == "withdrawn"
