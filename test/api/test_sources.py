"""Data sources over HTTP (api.md "Data sources"): source clients, signed batches of records, declarations.

Covers creating source clients (admin only; a source that is not one is refused), a signed batch accepted with its
counts, the same batch again (all duplicates), a batch with bad records at indexes 1 and 3 (400 listing both, nothing
stored: the good ones posted alone afterwards are all new), a client posting to another source (403), a bad
signature and a replayed nonce (401), a batch over 10,000 records or 16 MiB (refused), and residents' health and trip
declarations (201 with a record_id; bad temperature or place code: 400 naming the member; no token: 401).
"""
import json
import sqlite3

from conftest import (MISSING, HTTP_TIMEOUT, assert_error, make_person, new_nonce, records_count, resident,
                      sign_headers)

import requests


def create_client(city, source, name="测试数据源", token=MISSING):
    if token is MISSING:
        token = city.staff["admin"]["token"]
    body = {"source": source}
    if name is not None:
        body["name"] = name
    return city.post("/v1/staff/sources", body, token=token)


def make_client(city, source):
    r = create_client(city, source)
    assert r.status_code == 201, f"client creation failed: {r.status_code} {r.text}"
    b = r.json()
    assert isinstance(b["client_id"], int) and len(b["secret"]) == 64, b
    int(b["secret"], 16)
    city.remember(b["secret"])
    return b


def post_batch(city, client, source, records=None, *, body=None, secret=None, nonce=None, replace=None):
    path = f"/v1/sources/{source}/records"
    data = json.dumps({"records": records}, ensure_ascii=False).encode() if body is None else body
    h = sign_headers(secret or client["secret"], "POST", path, data, nonce=nonce)
    h["X-Client-Id"] = str(client["client_id"])
    if replace is not None:
        h = dict(replace)
    h["Content-Type"] = "application/json"
    r = requests.post(city.url(path), data=data, headers=h, timeout=HTTP_TIMEOUT)
    r.sent_headers = h
    return r


def ids(city, n):
    ps = [make_person() for _ in range(n)]
    for p in ps:
        city.remember_person(p)
    return [p.id_number for p in ps]


def rec(rid, kind, id_number, attributes=None, at="2026-03-01T08:00:00Z"):
    r = {"record_id": rid, "kind": kind, "id_number": id_number, "occurred_at": at}
    if attributes is not None:
        r["attributes"] = attributes
    return r


def test_create_client_admin_only_and_valid_source(city):
    make_client(city, "lab")
    make_client(city, "province:32")
    for role in ("operator", "epidemiologist"):
        assert_error(create_client(city, "lab", token=city.staff[role]["token"]), 403, "permission_denied")
    assert_error(create_client(city, "lab", token=None), 401, "unauthenticated")
    for bad in ("nowhere", "province:99", "LAB", ""):
        assert_error(create_client(city, bad), 400, "invalid_argument", "source")


def test_batch_accepted_then_all_duplicates(city):
    client = make_client(city, "cdc")
    who = ids(city, 3)
    records = [
        rec("cdc-b1-0", "close_contact", who[0]),
        rec("cdc-b1-1", "test_result", who[1], {"result": "negative"}),
        rec("cdc-b1-2", "risk_area_visit", who[2], {"area": "310101", "level": "high"}),
        rec("cdc-b1-0", "close_contact", who[0]),  # repeated within the batch: counts once
    ]
    before = records_count(city)
    r = post_batch(city, client, "cdc", records)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 3, "duplicates": 1}
    assert records_count(city) == before + 3
    r = post_batch(city, client, "cdc", records[:3])
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 0, "duplicates": 3}
    assert records_count(city) == before + 3
    # the same record_id from another source is the same record
    other = make_client(city, "national")
    r = post_batch(city, other, "national", [rec("cdc-b1-1", "recovered", who[1])])
    assert r.status_code == 200 and r.json() == {"accepted": 0, "duplicates": 1}, r.text


def test_bad_records_listed_and_nothing_stored(city):
    client = make_client(city, "airline")
    who = ids(city, 5)
    good = [rec(f"air-{i}", "inbound_travel", who[i], {"origin": "新加坡"}) for i in range(5)]
    batch = list(good)
    batch[1] = rec("air-1", "no_such_kind", who[1])
    batch[3] = rec("air-3", "inbound_travel", who[3][:17] + ("0" if who[3][17] != "0" else "1"),
                   {"origin": "新加坡"})
    before = records_count(city)
    r = post_batch(city, client, "airline", batch)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "errors"}, body
    assert body["error"]["code"] == "invalid_argument" and body["error"]["field"] == "records", body
    assert body["error"]["message"].startswith("2 bad records"), body
    errs = body["errors"]
    assert [e["index"] for e in errs] == [1, 3], errs
    assert errs[0]["field"] == "kind" and errs[1]["field"] == "id_number", errs
    assert all(isinstance(e["message"], str) and e["message"] for e in errs), errs
    assert records_count(city) == before
    # the good ones alone: all new, so none of the refused batch was kept
    r = post_batch(city, client, "airline", [good[0], good[2], good[4]])
    assert r.status_code == 200 and r.json() == {"accepted": 3, "duplicates": 0}, r.text


def test_client_only_its_own_source(city):
    client = make_client(city, "railway")
    who = ids(city, 1)
    r = post_batch(city, client, "lab", [rec("rail-x-1", "recovered", who[0])])
    assert_error(r, 403, "permission_denied")
    r = post_batch(city, client, "railway", [rec("rail-x-1", "recovered", who[0])])
    assert r.status_code == 200 and r.json() == {"accepted": 1, "duplicates": 0}, r.text


def test_bad_signature_and_replay(city):
    client = make_client(city, "lab")
    who = ids(city, 1)
    recs = [rec("lab-sig-1", "recovered", who[0])]
    r = post_batch(city, client, "lab", recs, secret="00" * 32)
    assert_error(r, 401, "unauthenticated")
    nonce = new_nonce()
    r = post_batch(city, client, "lab", recs, nonce=nonce)
    assert r.status_code == 200, r.text
    r2 = post_batch(city, client, "lab", recs, replace=r.sent_headers)
    assert_error(r2, 401, "unauthenticated")
    # no client id, or one that does not exist
    h = dict(r.sent_headers)
    h.pop("X-Client-Id")
    assert_error(post_batch(city, client, "lab", recs, replace=h), 401, "unauthenticated")
    ghost = dict(client, client_id=10 ** 9)
    assert_error(post_batch(city, ghost, "lab", recs), 401, "unauthenticated")
    # a terminal's headers do not make a client's request
    h = sign_headers(client["secret"], "POST", "/v1/sources/lab/records", b"{}", terminal_id=client["client_id"])
    h["Content-Type"] = "application/json"
    r = requests.post(city.url("/v1/sources/lab/records"), data=b"{}", headers=h, timeout=HTTP_TIMEOUT)
    assert_error(r, 401, "unauthenticated")


def test_batch_size_limits(city):
    client = make_client(city, "national")
    who = ids(city, 1)[0]
    recs = [rec(f"big-{i}", "recovered", who) for i in range(10001)]
    before = records_count(city)
    r = post_batch(city, client, "national", recs)
    assert r.status_code in (400, 413), r.text
    assert r.json()["error"]["code"] in ("invalid_argument", "too_large"), r.text
    assert_error(post_batch(city, client, "national", []), 400, "invalid_argument", "records")
    assert_error(post_batch(city, client, "national", body=b'{"records":{}}'), 400, "invalid_argument", "records")
    assert records_count(city) == before
    # a body over 16 MiB is refused before it is read through
    big = json.dumps({"records": recs[:1]}).encode() + b" " * (16 * 1024 * 1024 + 1)
    assert_error(post_batch(city, client, "national", body=big), 413, "too_large")
    assert records_count(city) == before
    # exactly 10,000 is accepted
    r = post_batch(city, client, "national", recs[:10000])
    assert r.status_code == 200 and r.json() == {"accepted": 10000, "duplicates": 0}, r.text[:500]
    assert records_count(city) == before + 10000


def test_declarations(city):
    _, token = resident(city)
    before = records_count(city)
    r = city.post("/v1/me/declarations", {"kind": "health", "temperature": 36.8, "symptoms": ["cough"]}, token=token)
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    assert set(r.json()) == {"record_id"} and rid.startswith("self:"), r.text
    r = city.post("/v1/me/declarations", {"kind": "health", "temperature": 37.9}, token=token)
    assert r.status_code == 201, r.text
    r = city.post("/v1/me/declarations", {"kind": "trip", "places": ["310101", "320581"]}, token=token)
    assert r.status_code == 201 and r.json()["record_id"] != rid, r.text
    assert records_count(city) == before + 3
    db = sqlite3.connect(f"file:{city.data / 'suishen.db'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT kind, source FROM records ORDER BY record_seq DESC LIMIT 3").fetchall()
    finally:
        db.close()
    assert sorted(rows) == [("health_declaration", "self")] * 2 + [("trip_declaration", "self")], rows

    def bad(body, field):
        assert_error(city.post("/v1/me/declarations", body, token=token), 400, "invalid_argument", field)

    bad({"kind": "health", "temperature": 50}, "temperature")
    bad({"kind": "health", "temperature": "hot"}, "temperature")
    bad({"kind": "health"}, "temperature")
    bad({"kind": "health", "temperature": 36.5, "symptoms": "cough"}, "symptoms")
    bad({"kind": "trip", "places": ["999999"]}, "places")
    bad({"kind": "trip", "places": []}, "places")
    bad({"kind": "trip"}, "places")
    bad({"kind": "mood"}, "kind")
    bad({}, "kind")
    assert records_count(city) == before + 3
    assert_error(city.post("/v1/me/declarations", {"kind": "health", "temperature": 36.8}), 401, "unauthenticated")


def test_new_evidence_colours_at_once(city):
    """A fever declared turns its resident yellow, and a close contact posted by a source turns the next scan red,
    with no restart or signal: the records re-evaluate their people when they are stored."""
    from datetime import datetime, timedelta, timezone

    from conftest import get_code, make_terminal, my_status, scan_result

    p, token = resident(city)
    terminal = make_terminal(city)
    assert my_status(city, token)["color"] == "green"
    r = city.post("/v1/me/declarations", {"kind": "health", "temperature": 38.6, "symptoms": ["fever"]}, token=token)
    assert r.status_code == 201, r.text
    status = my_status(city, token)
    assert status["color"] == "yellow", status
    assert status["review_at"] is not None and status["reasons"], status
    assert scan_result(city, terminal, get_code(city, token)["code"]) == "yellow"

    client = make_client(city, "cdc")
    at = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = post_batch(city, client, "cdc", [rec(f"cc-{new_nonce()}", "close_contact", p.id_number, {}, at=at)])
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    assert scan_result(city, terminal, get_code(city, token)["code"]) == "red"
    status = my_status(city, token)
    assert status["color"] == "red", status
    # the resident sees the kind and date of the evidence, never who reported it
    text = json.dumps(status, ensure_ascii=False)
    assert "cdc" not in text and "cc-" not in text, text
