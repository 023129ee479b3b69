"""Tracing companions (时空伴随): POST /v1/staff/trace (docs/api.md, src/core/trace.h).

Covers, through the real server and signed terminal scans:
  - who is found: everyone scanned at a place where the case was scanned, within window_minutes of one of the case's
    scans there; nobody scanned only elsewhere; never the case itself; the answer's shape (case, places, count,
    truncated, companions closest first, gap_seconds), with names and ID numbers masked; a code presented by someone
    else counts its holder and the presenter (never the case);
  - the window's edge (scans written into the database 10 minutes from the case's scan) and the from/to span, which
    bounds the case's scans only;
  - emit: companions are red at once (the next scan, GET /v1/me/status with a close_contact reason that names no
    case and no source), the case keeps its colour, a second emit counts duplicates, a trace without emit writes no
    record;
  - privacy: no full ID number, name or phone number in the answer or in the server's log;
  - roles (epidemiologist only; 403 for the other roles, 401 for a resident or no token) and bad input (400 naming
    the field, 404 for an ID number not in the registry).

Scans happen "now"; to place someone minutes away from the case, a scan row is written into the SQLite database while
the server runs, with a scan_id far above the server's own (the scan writer numbers from the largest id it found at
start, in memory, so it does not reach these), copied from a real scan row (terminal, scene, result, key).
"""
import datetime as dt
import itertools
import json
import sqlite3

from conftest import (ROLES, assert_error, get_code, make_terminal, mask_id, mask_name, my_status, parse_time,
                      records_count, resident, scan_ok, scan_result)

EPI = "epidemiologist"
HOUR = 3600
_scan_ids = itertools.count(1)


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def rfc3339(t):
    """Unix seconds as an RFC 3339 UTC time."""
    return dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def trace(city, body, token=None, role=EPI):
    """POST /v1/staff/trace (an epidemiologist's token unless token is given); returns the response."""
    return city.post("/v1/staff/trace", body, token=token or city.staff[role]["token"])


def trace_ok(city, id_number, t_from, t_to, **more):
    """A trace that must answer 200; checks the answer's shape and returns the body."""
    body = {"id_number": id_number, "from": rfc3339(t_from), "to": rfc3339(t_to), **more}
    r = trace(city, body)
    assert r.status_code == 200, f"trace: {r.status_code} {r.text[:500]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers.get("Content-Type")
    b = r.json()
    keys = {"case", "from", "to", "window_minutes", "places", "count", "truncated", "companions"}
    if more.get("emit"):
        keys |= {"emitted", "duplicates"}
    assert set(b) == keys, b
    assert set(b["case"]) == {"name", "id_number", "scans"}, b
    assert b["from"] == rfc3339(t_from) and b["to"] == rfc3339(t_to), b
    assert b["window_minutes"] == more.get("window_minutes", 30), b
    assert isinstance(b["truncated"], bool) and isinstance(b["count"], int), b
    for p in b["places"]:
        assert set(p) == {"place", "case_scans", "first_at", "last_at", "companions"}, p
        assert parse_time(p["first_at"]) <= parse_time(p["last_at"]), p
    for c in b["companions"]:
        assert set(c) == {"name", "id_number", "division", "place", "closest_at", "gap_seconds", "first_at",
                          "scans"}, c
        parse_time(c["closest_at"])
        parse_time(c["first_at"])
        assert isinstance(c["gap_seconds"], int) and c["gap_seconds"] >= 0, c
        assert isinstance(c["scans"], int) and c["scans"] >= 1, c
    gaps = [c["gap_seconds"] for c in b["companions"]]
    assert gaps == sorted(gaps), f"companions not closest first: {gaps}"
    assert b["count"] >= len(b["companions"]), b
    r.body = b
    return b


def masked(p):
    """How a person appears in a trace answer: (name, id_number, division)."""
    return (mask_name(p.name), mask_id(p.id_number), p.division)


def listed(body):
    return sorted((c["name"], c["id_number"], c["division"]) for c in body["companions"])


def scanned(city, terminal, token):
    """Scans the holder of token at terminal (a fresh code); returns the scan answer."""
    return scan_ok(city, terminal, get_code(city, token)["code"])


def db(city):
    return sqlite3.connect(city.data / "suishen.db", timeout=10)


def scan_row(city, scan_id):
    conn = db(city)
    try:
        row = conn.execute("SELECT scan_id, terminal_id, place_id, scene, person_id, presenter_id, result, key_id, "
                           "scanned_at FROM scans WHERE scan_id = ?", (scan_id,)).fetchone()
    finally:
        conn.close()
    assert row is not None, f"scan {scan_id} not in the database"
    return dict(zip(("scan_id", "terminal_id", "place_id", "scene", "person_id", "presenter_id", "result", "key_id",
                     "scanned_at"), row))


def insert_scan(city, like, terminal, person_id, scanned_at_ms, presenter_id=None):
    """Writes a scan of person_id's code (presented by presenter_id, default the holder) at terminal's place, at
    scanned_at_ms, shaped like the real scan row `like`."""
    conn = db(city)
    try:
        with conn:
            place_id = conn.execute("SELECT place_id FROM terminals WHERE terminal_id = ?",
                                    (terminal.terminal_id,)).fetchone()[0]
            top = conn.execute("SELECT max(scan_id) FROM scans").fetchone()[0]
            scan_id = max(top + 1, 10 ** 9 + next(_scan_ids))  # far above the server's next id
            conn.execute("INSERT INTO scans (scan_id, terminal_id, place_id, scene, person_id, presenter_id, result, "
                         "key_id, scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (scan_id, terminal.terminal_id, place_id, like["scene"], person_id,
                          person_id if presenter_id is None else presenter_id,
                          like["result"], like["key_id"], int(scanned_at_ms)))
    finally:
        conn.close()
    return scan_id


def person_id_of(city, token, terminal=None):
    """The person id of a resident, read from a real scan of their code (at terminal, or a new one)."""
    terminal = terminal or make_terminal(city, scene="venue")
    row = scan_row(city, scanned(city, terminal, token)["scan_id"])
    return row["person_id"], row


def keys_of(v):
    """Every key of every object in a JSON value."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from keys_of(x)
    elif isinstance(v, list):
        for x in v:
            yield from keys_of(x)


def residents(city, n):
    """n new residents with pairwise different names: [(person, token)]."""
    out = []
    while len(out) < n:
        p, tok = resident(city)
        if all(p.name != q.name for q, _ in out):
            out.append((p, tok))
    return out


def now_span(t=None):
    t = t if t is not None else dt.datetime.now(dt.timezone.utc).timestamp()
    return t - HOUR, t + HOUR


# ---------------------------------------------------------------------------------------------------------------
# Who is found


def test_companions_found_masked_closest_first(city):
    (case, ctok), (a, atok), (b, btok), (c, ctok2), (d, dtok) = residents(city, 5)
    tp = make_terminal(city, scene="venue")
    tq = make_terminal(city, scene="venue")
    d_id, _ = person_id_of(city, dtok, tq)  # d: scanned at Q now, and (below) at P 5 minutes before the case

    scanned(city, tp, atok)
    case_scan = scan_row(city, scanned(city, tp, ctok)["scan_id"])
    scanned(city, tp, btok)
    scanned(city, tq, ctok2)  # c: only at Q
    insert_scan(city, case_scan, tp, d_id, case_scan["scanned_at"] - 5 * 60 * 1000)

    body = trace_ok(city, case.id_number, *now_span())
    assert body["case"] == {"name": mask_name(case.name), "id_number": mask_id(case.id_number), "scans": 1}, body
    assert body["count"] == 3 and body["truncated"] is False, body
    assert listed(body) == sorted([masked(a), masked(b), masked(d)]), body
    assert masked(c) not in listed(body) and masked(case) not in listed(body), body
    assert len(body["places"]) == 1, body
    p = body["places"][0]
    assert p["place"] == tp.place and p["case_scans"] == 1 and p["companions"] == 3, p
    assert p["first_at"] == p["last_at"] == rfc3339(case_scan["scanned_at"] // 1000), p
    for comp in body["companions"]:
        assert comp["place"] == tp.place, comp
        assert comp["scans"] == 1, comp
    near, far = body["companions"][:2], body["companions"][2]
    for comp in near:  # a and b: scanned seconds from the case
        assert 0 <= comp["gap_seconds"] <= 30, comp
    assert (far["name"], far["id_number"], far["division"]) == masked(d), body
    assert far["gap_seconds"] == 300, far
    assert far["closest_at"] == far["first_at"] == rfc3339(case_scan["scanned_at"] // 1000 - 300), far


def test_window_edge(city):
    (case, ctok), (e, etok), (f, ftok) = residents(city, 3)
    tp = make_terminal(city, scene="community")
    e_id, _ = person_id_of(city, etok)
    f_id, _ = person_id_of(city, ftok)
    case_scan = scan_row(city, scanned(city, tp, ctok)["scan_id"])
    t = case_scan["scanned_at"]
    insert_scan(city, case_scan, tp, e_id, t - 10 * 60 * 1000)  # 10 minutes before the case
    insert_scan(city, case_scan, tp, f_id, t + 10 * 60 * 1000)  # and after

    for window in (11, 10, 240):
        body = trace_ok(city, case.id_number, *now_span(), window_minutes=window)
        assert body["count"] == 2, (window, body)
        assert listed(body) == sorted([masked(e), masked(f)]), (window, body)
        assert [c["gap_seconds"] for c in body["companions"]] == [600, 600], body
        assert body["places"][0]["companions"] == 2, body
    for window in (9, 1):
        body = trace_ok(city, case.id_number, *now_span(), window_minutes=window)
        assert body["count"] == 0 and body["companions"] == [], (window, body)
        assert [(p["place"], p["case_scans"], p["companions"]) for p in body["places"]] == [(tp.place, 1, 0)], body
    body = trace_ok(city, case.id_number, *now_span())  # default window: 30 minutes
    assert body["window_minutes"] == 30 and body["count"] == 2, body


def test_from_to_bounds_the_case_scans(city):
    (case, ctok), (a, atok), (g, gtok) = residents(city, 3)
    tp = make_terminal(city, scene="venue")
    told = make_terminal(city, scene="venue")
    g_id, _ = person_id_of(city, gtok)
    scanned(city, tp, atok)
    case_scan = scan_row(city, scanned(city, tp, ctok)["scan_id"])
    now = case_scan["scanned_at"] // 1000
    two_days_ago = (now - 2 * 86400) * 1000
    insert_scan(city, case_scan, told, case_scan["person_id"], two_days_ago)  # the case, two days ago, elsewhere
    insert_scan(city, case_scan, told, g_id, two_days_ago + 60 * 1000)  # and g a minute later

    body = trace_ok(city, case.id_number, now - 3 * HOUR, now - HOUR)  # a span with no scan of the case
    assert body["case"]["scans"] == 0 and body["places"] == [] and body["count"] == 0, body
    assert body["companions"] == [], body

    body = trace_ok(city, case.id_number, now - HOUR, now + HOUR)
    assert body["case"]["scans"] == 1 and listed(body) == [masked(a)], body
    assert [p["place"] for p in body["places"]] == [tp.place], body

    body = trace_ok(city, case.id_number, now - 3 * 86400, now - 86400)
    assert body["case"]["scans"] == 1 and listed(body) == [masked(g)], body
    assert [p["place"] for p in body["places"]] == [told.place], body
    assert body["companions"][0]["gap_seconds"] == 60, body

    body = trace_ok(city, case.id_number, now - 3 * 86400, now + HOUR)
    assert body["case"]["scans"] == 2 and listed(body) == sorted([masked(a), masked(g)]), body
    assert sorted(p["place"] for p in body["places"]) == sorted([tp.place, told.place]), body


def test_dependent_code_counts_holder_and_presenter(city):
    (case, ctok), (h, htok), (r, rtok), (k, ktok) = residents(city, 4)
    tp = make_terminal(city, scene="transit")
    h_id, _ = person_id_of(city, htok)
    r_id, _ = person_id_of(city, rtok)
    k_id, _ = person_id_of(city, ktok)
    case_scan = scan_row(city, scanned(city, tp, ctok)["scan_id"])
    t = case_scan["scanned_at"]
    insert_scan(city, case_scan, tp, h_id, t + 20 * 1000, presenter_id=r_id)  # r shows h's code, 20 s later
    insert_scan(city, case_scan, tp, k_id, t - 40 * 1000, presenter_id=case_scan["person_id"])  # the case shows k's
    body = trace_ok(city, case.id_number, *now_span())
    assert listed(body) == sorted([masked(h), masked(r), masked(k)]), body
    assert body["count"] == 3 and body["case"]["scans"] == 1, body
    assert [c["gap_seconds"] for c in body["companions"]] == [20, 20, 40], body


# ---------------------------------------------------------------------------------------------------------------
# Emit


def test_emit_turns_companions_red_once(city):
    (case, ctok), (a, atok), (b, btok) = residents(city, 3)
    tp = make_terminal(city, scene="venue")
    gate = make_terminal(city, scene="checkpoint")
    scanned(city, tp, atok)
    scanned(city, tp, ctok)
    scanned(city, tp, btok)
    span = now_span()

    before = records_count(city)
    body = trace_ok(city, case.id_number, *span)
    assert body["count"] == 2 and "emitted" not in body, body
    assert records_count(city) == before, "a trace without emit wrote records"
    assert scan_result(city, gate, get_code(city, atok)["code"]) == "green"
    assert my_status(city, atok)["color"] == "green"

    body = trace_ok(city, case.id_number, *span, emit=True)
    assert body["count"] == 2 and body["emitted"] == 2 and body["duplicates"] == 0, body
    assert records_count(city) == before + 2
    for p, tok in ((a, atok), (b, btok)):
        assert scan_result(city, gate, get_code(city, tok)["code"]) == "red", p
        st = my_status(city, tok)
        assert st["color"] == "red", st
        recs = [r for reason in st["reasons"] for r in reason.get("records", [])]
        cc = [r for r in recs if r.get("kind") == "close_contact"]
        assert cc, f"no close_contact record among the reasons: {st}"
        for r in cc:
            assert set(r) == {"kind", "occurred_at"}, r
            assert abs(parse_time(r["occurred_at"]) - dt.datetime.now(dt.timezone.utc).timestamp()) < HOUR, r
        text = json.dumps(st, ensure_ascii=False)
        for secret in (case.name, case.id_number, case.id_number.lower(), mask_id(case.id_number), case.phone):
            assert secret not in text, f"the contact's status shows {secret!r}: {text}"
        assert "source" not in set(keys_of(st)) and "trace" not in text, text
    # the case keeps its colour
    assert my_status(city, ctok)["color"] == "green"
    assert scan_result(city, gate, get_code(city, ctok)["code"]) == "green"

    body = trace_ok(city, case.id_number, *span, emit=True)
    assert body["emitted"] == 0 and body["duplicates"] == 2, body
    assert records_count(city) == before + 2


# ---------------------------------------------------------------------------------------------------------------
# Privacy


def test_answer_and_log_carry_no_particulars(city):
    people = residents(city, 4)
    (case, ctok), companions = people[0], people[1:]
    tp = make_terminal(city, scene="hospital")
    scanned(city, tp, ctok)
    for _, tok in companions:
        scanned(city, tp, tok)
    r = trace(city, {"id_number": case.id_number, "from": rfc3339(now_span()[0]), "to": rfc3339(now_span()[1]),
                     "emit": True})
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 3, r.text
    text = r.content.decode("utf-8")
    for p, _ in people:
        for secret in (p.id_number, p.id_number.lower(), p.name, p.phone):
            assert secret not in text, f"the trace answer carries {secret!r}: {text}"
        city.remember_person(p)
    city.check_logs()


# ---------------------------------------------------------------------------------------------------------------
# Roles and bad input


def test_only_epidemiologists(city):
    (case, ctok), (a, atok) = residents(city, 2)
    tp = make_terminal(city, scene="venue")
    scanned(city, tp, atok)
    scanned(city, tp, ctok)
    lo, hi = now_span()
    body = {"id_number": case.id_number, "from": rfc3339(lo), "to": rfc3339(hi), "emit": True}
    before = records_count(city)
    for role in ROLES:
        if role != EPI:
            assert_error(trace(city, body, role=role), 403, "permission_denied")
    assert_error(trace(city, body, token=atok), 401, "unauthenticated")
    assert_error(city.post("/v1/staff/trace", body), 401, "unauthenticated")
    assert_error(trace(city, body, token="not-a-token"), 401, "unauthenticated")
    assert records_count(city) == before
    assert my_status(city, atok)["color"] == "green"
    assert trace_ok(city, case.id_number, lo, hi)["count"] == 1  # the epidemiologist's own trace does work


def test_bad_input(city):
    case, _ = resident(city)
    lo, hi = now_span()
    good = {"id_number": case.id_number, "from": rfc3339(lo), "to": rfc3339(hi)}

    def bad(field, status=400, code="invalid_argument", **change):
        body = {k: v for k, v in {**good, **change}.items() if v is not None}
        return assert_error(trace(city, body), status, code, field)

    bad("id_number", id_number=None)
    bad("id_number", id_number="")
    bad("id_number", id_number=case.id_number[:17])
    bad("id_number", id_number=case.id_number[:17] + ("0" if case.id_number[17] != "0" else "1"))
    bad("id_number", id_number=12345)
    bad("from", **{"from": None})
    bad("from", **{"from": "yesterday"})
    bad("from", **{"from": 1700000000})
    bad("to", to="2026-13-45T99:00:00Z")
    bad("from", **{"from": rfc3339(hi), "to": rfc3339(lo)})  # to before from
    bad("from", **{"from": rfc3339(lo), "to": rfc3339(lo)})  # an empty span
    bad("to", **{"from": rfc3339(hi - 31 * 86400), "to": rfc3339(hi)})
    for w in (0, 241, -5, "30", 1.5, True):
        bad("window_minutes", window_minutes=w)
    for e in ("yes", 1, "true"):
        bad("emit", emit=e)
    outsider = city.outsider()
    bad("id_number", 404, "not_found", id_number=outsider.id_number)
    for raw in (b"{", b"[]", b"not json", b'{"id_number":'):
        r = city.request("POST", "/v1/staff/trace", data=raw, token=city.staff[EPI]["token"])
        assert_error(r, 400, "invalid_argument")
    # the edges that are allowed
    assert trace_ok(city, case.id_number, hi - 30 * 86400, hi, window_minutes=240)["count"] == 0
    assert trace_ok(city, case.id_number, lo, hi, window_minutes=1, emit=False)["count"] == 0
