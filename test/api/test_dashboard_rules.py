"""The staff console's endpoints: GET /v1/staff/stats (src/api/dashboard.c), GET /v1/staff/rules and
POST /v1/staff/rules/apply (src/api/staff.c), and the terminal page's GET /v1/terminals/me (src/api/terminal.c).

Stats: the shape (24 hour buckets ending with the current hour, 14 day buckets from local midnights of tz_offset,
every scene, districts in code order, appeals), bad tz_offset values (400), roles (any staff; residents and no token
401); and, on a city of its own, exact counts: scans of each result (green, a yellow and a red set by hand, expired,
invalid garbage, unknown: a removed relative's code) by scene and in the hour and day buckets their times fall in,
registered residents by district (Shanghai) or province (others) and colour, appeals open then decided; no personal
data in the answer. Scans are counted at once (the server keeps counts per five-minute slot and adds the new scans at
each request); residents by district are counted again at most every 60 s (their colours at every request), so the
count test restarts the server once its residents are registered.

Rules: GET returns the active set (at first the default file), roles (admin only), a file that does not parse (400
field rules with errors by line; nothing changes), and apply: the diff first predicts the moves, apply makes exactly
those (version, people, changed), GET returns the new set, residents' status and scans show the new colours at once,
a colour set by hand holds, the call is audited, and the set survives a restart; applications sent at once are each
applied or refused with 409; and the version GET shows after a `suishen rules load` beside the running server (and
SIGHUP) is the set the server judges new records by.

Terminals/me: a signed GET answers which terminal it is; unsigned, badly signed, replayed -> 401.
"""
import collections
import contextlib
import datetime as dt
import json
import re
import signal
import sqlite3
import threading
import time

import pytest
import requests

from conftest import (
    BAD_RULES, CSV_HEADER, HTTP_TIMEOUT, REPO, ROLES, SCENES, _city, assert_error, get_code, make_id_number, make_person, make_terminal,
    my_status, parse_time, poll, resident, scan_ok, set_status, sign_headers,
)

HOUR = 3600
DAY = 86400
COLORS = ("green", "yellow", "red")
RESULTS = ("green", "yellow", "red", "expired", "invalid", "unknown")
LABELS = {"checkpoint": "卡口", "community": "小区", "venue": "场所", "hospital": "医院", "transit": "公交地铁轮渡",
          "pool": "游泳场馆"}
DISTRICT_NAMES = {"310101": "黄浦区", "310104": "徐汇区", "310115": "浦东新区", "320000": "江苏省",
                  "330000": "浙江省"}
GARBAGE = "1" + "A" * 55  # the shape of a code, but not authentic


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- stats helpers ---------------------------------------------------------------------------------------------------

_asked = collections.defaultdict(set)  # (id(city), server run) -> the offsets its server was asked with


def fresh_offset(city):
    """A whole-hour tz_offset this city's server has not been asked with (so its answer is not a cached one)."""
    asked = _asked[(id(city), city.server_runs)]
    return next(o for o in range(-720, 841, 60) if o not in asked)


def stats(city, tz_offset, role="operator"):
    _asked[(id(city), city.server_runs)].add(tz_offset)
    r = city.get(f"/v1/staff/stats?tz_offset={tz_offset}", token=city.staff[role]["token"])
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.headers.get("Cache-Control") == "no-store", r.headers.get("Cache-Control")
    body = r.json()
    check_stats_shape(body, tz_offset)
    return body


def is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def check_buckets(buckets, n, width, off, now, what):
    """n buckets of width seconds, each {"at","scans"}, oldest first, starting on the console's whole hours or days
    (off: its seconds east of UTC), the last one holding now; returns them and their start times."""
    assert len(buckets) == n, buckets
    ats = [parse_time(x["at"]) for x in buckets]
    assert all(set(x) == {"at", "scans"} and is_count(x["scans"]) for x in buckets), buckets
    assert all(b2 - a == width for a, b2 in zip(ats, ats[1:])), f"{what} buckets one {what} apart, oldest first"
    assert all((a + off) % width == 0 for a in ats), f"{what} buckets start on the console's whole {what}s"
    assert ats[-1] <= now < ats[-1] + width, f"the last {what} bucket holds now"
    return buckets, ats


def check_stats_shape(b, tz_offset):
    assert set(b) == {"generated_at", "tz_offset", "uses_by_hour", "uses_by_day", "scans_by_scene",
                      "residents_at", "colors_by_district", "appeals"}, b.keys()
    now = parse_time(b["generated_at"])
    assert abs(now - time.time()) < 60, b["generated_at"]
    assert b["tz_offset"] == tz_offset
    off = tz_offset * 60

    hours, ats = check_buckets(b["uses_by_hour"], 24, HOUR, off, now, "hour")
    days, dats = check_buckets(b["uses_by_day"], 14, DAY, off, now, "day")
    # the hour buckets of today add up to no more than today's
    assert sum(h["scans"] for h, a in zip(hours, ats) if a >= dats[-1]) <= days[-1]["scans"]

    scenes = b["scans_by_scene"]
    assert sorted(s["scene"] for s in scenes) == sorted(SCENES), scenes
    for s in scenes:
        assert set(s) == {"scene", "label"} | set(RESULTS), s
        assert s["label"] == LABELS[s["scene"]], s
        assert all(is_count(s[k]) for k in RESULTS), s

    dists = b["colors_by_district"]
    assert [d["division"] for d in dists] == sorted(d["division"] for d in dists), "in code order"
    assert len({d["division"] for d in dists}) == len(dists)
    for d in dists:
        assert set(d) == {"division", "name"} | set(COLORS), d
        assert re.fullmatch(r"31\d{4}|\d{2}0000", d["division"]) or d["division"] == "other", d
        assert isinstance(d["name"], str) and d["name"], d
        assert all(is_count(d[c]) for c in COLORS), d
        if d["division"] in DISTRICT_NAMES:
            assert d["name"] == DISTRICT_NAMES[d["division"]], d

    assert set(b["appeals"]) == {"open", "overdue", "decided"}, b["appeals"]
    assert all(is_count(v) for v in b["appeals"].values()), b["appeals"]
    assert b["appeals"]["overdue"] <= b["appeals"]["open"]


def by_scene(b):
    return {s["scene"]: {k: s[k] for k in RESULTS} for s in b["scans_by_scene"]}


def expected_buckets(buckets, width, times):
    """For each bucket of an answer, how many of `times` (unix seconds) fall in it."""
    return [sum(1 for t in times if parse_time(x["at"]) <= t < parse_time(x["at"]) + width) for x in buckets]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    c = _city(tmp_path_factory.mktemp("dash"), pool=30)
    yield c
    c.close()


# -- stats: shape, parameters, roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tz_offset", [0, 480, -300, 330, 345, -720, 840, -570])
def test_stats_shape(city, tz_offset):
    stats(city, tz_offset)


def test_stats_default_offset_is_utc(city):
    r = city.get("/v1/staff/stats", token=city.staff["admin"]["token"])
    assert r.status_code == 200, r.text
    check_stats_shape(r.json(), 0)


@pytest.mark.parametrize("value", ["841", "-721", "7", "-5", "20", "abc", "", "1.5", "60x", "0x10", "%2060", "1e2",
                                   "99999999999999999999",
                                   "-", "--60", "6 0"])
def test_stats_bad_tz_offset(city, value):
    r = city.get(f"/v1/staff/stats?tz_offset={value}", token=city.staff["admin"]["token"])
    assert_error(r, 400, "invalid_argument", field="tz_offset")


@pytest.mark.parametrize("role", ROLES)
def test_stats_any_staff_role(city, role):
    stats(city, 0, role=role)


def test_stats_not_for_residents(city):
    _, token = resident(city)
    assert_error(city.get("/v1/staff/stats", token=token), 401, "unauthenticated")
    assert_error(city.get("/v1/staff/stats"), 401, "unauthenticated")
    assert_error(city.get("/v1/staff/stats", token="0" * 64), 401, "unauthenticated")
    assert_error(city.post("/v1/staff/stats", {}, token=city.staff["admin"]["token"]), 405, "method_not_allowed")


def test_stats_count_new_scans_at_once(city):
    """A scan made between two questions with the same tz_offset is in the second answer."""
    off = fresh_offset(city)
    first = stats(city, off)
    term = make_terminal(city, scene="pool")
    _, token = resident(city)
    assert scan_ok(city, term, get_code(city, token)["code"])["result"] == "green"
    again = stats(city, off)
    assert by_scene(again)["pool"]["green"] == by_scene(first)["pool"]["green"] + 1
    assert again["uses_by_hour"][-1]["scans"] == first["uses_by_hour"][-1]["scans"] + 1


# -- stats: exact counts, on a city of its own -----------------------------------------------------------------------

CODE_TTL = 4


def minor(division="310104"):
    """A registry person (not yet imported) aged about 9."""
    p = make_person(division=division)
    birth = dt.date.today().replace(day=1) - dt.timedelta(days=9 * 366)
    idn = make_id_number(division, birth.strftime("%Y%m%d"), int(p.id_number[14:17]))
    p.id_number, p.birth_date = idn, birth.isoformat()
    p.sex = "M" if int(idn[16]) % 2 else "F"
    return p


@pytest.fixture
def counted(tmp_path):
    c = _city(tmp_path, pool=0, start=False)
    c.start(extra_args=["--code-ttl", str(CODE_TTL)])
    yield c
    c.close()


def test_stats_count_scans_residents_and_appeals(counted):
    city = counted
    base = stats(city, 0)
    assert all(v == 0 for s in by_scene(base).values() for v in s.values()), base["scans_by_scene"]
    assert all(h["scans"] == 0 for h in base["uses_by_hour"] + base["uses_by_day"])
    assert base["colors_by_district"] == [] and base["appeals"] == {"open": 0, "overdue": 0, "decided": 0}, base

    people = {"g1": make_person(division="310101"), "y": make_person(division="310101"),
              "r": make_person(division="310115"), "guardian": make_person(division="310115"),
              "js": make_person(division="320581"), "zj": make_person(division="330106"),
              "registry_only": make_person(division="310104")}
    kid = minor()
    kid.guardians = [people["guardian"].id_number]  # so that the guardian's link is active at once
    city.import_people(list(people.values()) + [kid])
    tokens = {}
    for k in ("g1", "y", "r", "guardian", "js", "zj"):
        city.register_ok(people[k])
        tokens[k] = city.login_ok(people[k])

    # an early code, to be scanned once it has expired
    early = get_code(city, tokens["g1"])
    assert set_status(city, people["y"].id_number, "yellow", "统计测试：黄码").status_code == 200
    assert set_status(city, people["r"].id_number, "red", "统计测试：红码").status_code == 200

    def kid_code():
        # a relative's code whose link is removed: unknown
        r = city.post("/v1/me/dependents", {"name": kid.name, "id_number": kid.id_number, "relation": "child"},
                      token=tokens["guardian"])
        assert r.status_code == 201, r.text
        dep = r.json()["dependent_id"]
        r = city.get(f"/v1/me/dependents/{dep}/code", token=tokens["guardian"])
        assert r.status_code == 200, r.text
        assert city.request("DELETE", f"/v1/me/dependents/{dep}", token=tokens["guardian"]).status_code == 200
        return r.json()["code"]

    terms = {s: make_terminal(city, scene=s) for s in ("checkpoint", "hospital", "transit", "venue")}
    made = []  # (scene, result, scanned_at)

    def do(scene, code, want):
        """Scans code (a string, or a function that makes a new code) at scene; the answer must be want. A new
        code lives CODE_TTL s: a machine slower than that between issuing and scanning sees it expired (counted
        like any scan), and then another new code is scanned."""
        def once():
            b = scan_ok(city, terms[scene], code() if callable(code) else code)
            made.append((scene, b["result"], parse_time(b["scanned_at"])))
            return b if b["result"] != "expired" or not callable(code) else None
        b = poll(once, timeout=60, interval=0, what=f"a scan at {scene} of a code that had not expired")
        assert b["result"] == want, (scene, want, b)

    def new_code(who):
        return lambda: get_code(city, tokens[who])["code"]

    do("checkpoint", new_code("g1"), "green")
    do("checkpoint", new_code("y"), "yellow")
    do("checkpoint", new_code("r"), "red")
    do("checkpoint", GARBAGE, "invalid")
    do("hospital", new_code("js"), "green")
    do("hospital", new_code("r"), "red")
    do("hospital", new_code("zj"), "green")
    do("hospital", "not a code at all", "invalid")
    do("hospital", GARBAGE[:-1] + "B", "invalid")
    do("transit", kid_code, "unknown")
    poll(lambda: time.time() > parse_time(early["expires_at"]) + 1.2, timeout=CODE_TTL + 5, interval=0.05,
         what="the early code's expiry")
    do("venue", early["code"], "expired")

    r = city.post("/v1/me/appeals", {"reason": "统计测试申诉", "details": "请核实"}, token=tokens["y"], channel="app")
    assert r.status_code == 201, r.text
    appeal_id = r.json()["appeal_id"]

    # residents by district were counted (none) at the first question and are counted again after 60 s: a new
    # server counts them now; the scans are counted from the store, whatever the server
    city.restart()
    after = stats(city, 60)
    want = {s: {k: 0 for k in RESULTS} for s in SCENES}
    for scene, result, _ in made:
        want[scene][result] += 1
    assert by_scene(after) == want, after["scans_by_scene"]
    times = [t for _, _, t in made]
    assert [h["scans"] for h in after["uses_by_hour"]] == expected_buckets(after["uses_by_hour"], HOUR, times)
    assert [d["scans"] for d in after["uses_by_day"]] == expected_buckets(after["uses_by_day"], DAY, times)
    assert sum(h["scans"] for h in after["uses_by_hour"]) == len(made)
    assert after["uses_by_hour"][-1]["scans"] >= 1 and after["uses_by_day"][-1]["scans"] >= 1

    assert after["colors_by_district"] == [
        {"division": "310101", "name": "黄浦区", "green": 1, "yellow": 1, "red": 0},
        {"division": "310115", "name": "浦东新区", "green": 1, "yellow": 0, "red": 1},
        {"division": "320000", "name": "江苏省", "green": 1, "yellow": 0, "red": 0},
        {"division": "330000", "name": "浙江省", "green": 1, "yellow": 0, "red": 0},
    ], after["colors_by_district"]
    assert after["appeals"] == {"open": 1, "overdue": 0, "decided": 0}, after["appeals"]

    # the hour buckets of another whole-hour offset count the same scans
    other = stats(city, -120)
    assert by_scene(other) == want
    assert [h["scans"] for h in other["uses_by_hour"]] == expected_buckets(other["uses_by_hour"], HOUR, times)
    assert [d["scans"] for d in other["uses_by_day"]] == expected_buckets(other["uses_by_day"], DAY, times)

    # counts only: no one named
    text = json.dumps(after, ensure_ascii=False) + json.dumps(other, ensure_ascii=False)
    for p in list(people.values()) + [kid]:
        for secret in (p.name, p.id_number, p.phone, p.id_number[-6:]):
            assert secret not in text, secret
    assert "person" not in text and "citizen" not in text

    # a colour moves one resident between columns; the appeal decided is no longer open
    assert set_status(city, people["g1"].id_number, "red", "统计测试：改红").status_code == 200
    handler = city.staff["handler"]["token"]
    assert city.post(f"/v1/staff/appeals/{appeal_id}/claim", token=handler).status_code == 200
    for kind in ("data", "grassroots"):
        r = city.post(f"/v1/staff/appeals/{appeal_id}/checks", {"kind": kind, "result": "核查无误"}, token=handler)
        assert r.status_code == 200, r.text
    r = city.post(f"/v1/staff/appeals/{appeal_id}/decision", {"decision": "rejected", "reason": "维持"},
                  token=handler)
    assert r.status_code == 200, r.text
    later = stats(city, 540)
    assert later["colors_by_district"][0] == {"division": "310101", "name": "黄浦区", "green": 0, "yellow": 1,
                                              "red": 1}, later["colors_by_district"]
    assert later["colors_by_district"][1:] == after["colors_by_district"][1:]
    assert later["appeals"] == {"open": 0, "overdue": 0, "decided": 1}, later["appeals"]
    assert by_scene(later) == want


# -- rules: read and apply -------------------------------------------------------------------------------------------

DEFAULT = (REPO / "rules" / "default.rules").read_text(encoding="utf-8")

def version_of(text):
    return re.search(r"(?m)^version (\S+)", text).group(1)


def hotter(version):
    """The default set with a fever red, from 36.0 degrees."""
    text, n = re.subn(r"(?m)^version .*$", f"version {version}", DEFAULT, count=1)
    assert n == 1
    text, n = re.subn(r"(rule yellow\.fever\n\s+color) yellow(\n\s+when health_declaration where temperature) >= 37\.3",
                      r"\1 red\2 >= 36.0", text)
    assert n == 1, "the default set's fever rule is not as this test expects"
    return text


def get_rules(city, role="admin"):
    return city.get("/v1/staff/rules", token=city.staff[role]["token"])


def apply_rules(city, text, role="admin"):
    return city.post("/v1/staff/rules/apply", {"rules": text}, token=city.staff[role]["token"])


JOB_KEYS = {"job_id", "state", "version", "started_by", "started_at", "finished_at", "people_total", "people_done",
            "changed", "changes", "by_district"}
JOB_DEADLINE = 120.0  # seconds for a job over a few thousand people on a loaded machine


def get_job(city, which):
    r = city.get(f"/v1/staff/rules/jobs/{which}", token=city.staff["admin"]["token"])
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    job = r.json()
    assert set(job) == JOB_KEYS | ({"error"} if job["state"] == "failed" else set()), job
    return job


def wait_job(city, job_id, timeout=JOB_DEADLINE, seen=None):
    """Polls the job until it is no longer running; returns it. seen (a list) gets every answer on the way."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(city, job_id)
        if seen is not None:
            seen.append(job)
        if job["state"] != "running":
            return job
        assert time.monotonic() < deadline, f"job {job_id} still running after {timeout} s: {job}"
        time.sleep(0.05)


def apply_and_wait(city, text):
    """Applies text (202 and a job at once) and waits for the job to end; returns the job as it ended."""
    r = apply_rules(city, text)
    assert r.status_code == 202, r.text
    job = r.json()
    assert set(job) == JOB_KEYS, job
    assert r.headers.get("Location") == f"/v1/staff/rules/jobs/{job['job_id']}", r.headers
    assert job["version"] == version_of(text) and job["started_by"] == city.staff["admin"]["staff_id"], job
    return wait_job(city, job["job_id"])


def assert_outcome(job, diff):
    """The job ended done, having moved exactly the people the diff (taken before it) said it would."""
    assert job["state"] == "done" and job["finished_at"], job
    assert job["version"] == diff["version"], (job, diff)
    assert job["people_total"] == job["people_done"] == diff["people"], (job, diff)
    assert job["changed"] == sum(c["count"] for c in diff["changes"]), (job, diff)
    assert job["changes"] == diff["changes"] and job["by_district"] == diff["by_district"], (job, diff)


def active(city):
    r = get_rules(city)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"version", "rules"}, body
    return body


def declare(city, token, temperature):
    r = city.post("/v1/me/declarations", {"kind": "health", "temperature": temperature, "symptoms": []}, token=token)
    assert r.status_code == 201, r.text


def test_rules_start_as_the_default(fresh_city):
    body = active(fresh_city)
    assert body["version"] == version_of(DEFAULT), body["version"]
    assert body["rules"] == DEFAULT
    assert get_rules(fresh_city).headers.get("Cache-Control") == "no-store"


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_rules_admin_only(city, role):
    assert_error(get_rules(city, role), 403, "permission_denied")
    assert_error(apply_rules(city, hotter("never-1"), role), 403, "permission_denied")
    assert active(city)["version"] != "never-1"


def test_rules_need_a_staff_token(city):
    _, token = resident(city)
    for tok in (token, None, "f" * 64):
        assert_error(city.get("/v1/staff/rules", token=tok), 401, "unauthenticated")
        assert_error(city.post("/v1/staff/rules/apply", {"rules": DEFAULT}, token=tok), 401, "unauthenticated")


@pytest.mark.parametrize("body", [{}, {"rules": 5}, {"rules": None}, {"rules": ["version x"]}, {"rules": ""}])
def test_apply_bad_body(city, body):
    before = active(city)
    r = city.post("/v1/staff/rules/apply", body, token=city.staff["admin"]["token"])
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == "rules", r.text
    assert active(city) == before


def test_apply_a_file_with_errors_changes_nothing(fresh_city):
    city = fresh_city
    p, token = resident(city)
    declare(city, token, 38.5)
    assert my_status(city, token)["color"] == "yellow"
    before = active(city)
    r = apply_rules(city, BAD_RULES)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "errors"}, body
    assert body["error"]["code"] == "invalid_argument" and body["error"]["field"] == "rules", body
    assert body["error"]["message"] == "the rule file has 2 errors", body
    assert [e["line"] for e in body["errors"]] == [3, 9], body
    assert all(set(e) == {"line", "message"} and e["message"] for e in body["errors"]), body
    assert "purple" in body["errors"][0]["message"] and "no_such_kind" in body["errors"][1]["message"], body
    assert active(city) == before
    assert my_status(city, token)["color"] == "yellow"
    # the refusal is audited too
    r = city.get("/v1/staff/audit?action=POST%20/v1/staff/rules/apply&limit=5",
                 token=city.staff["security"]["token"])
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    assert entries and entries[0]["detail"]["status"] == 400, entries
    assert not [e for e in city.get("/v1/staff/audit?action=rules.apply&limit=5",
                                    token=city.staff["security"]["token"]).json()["entries"]]


def test_apply_moves_what_the_diff_said_and_holds_after_restart(fresh_city):
    city = fresh_city
    term = make_terminal(city, scene="venue", place="规则应用体育馆")
    fever, t_fever = resident(city)  # 38.2: yellow now, red under the new set
    mild, t_mild = resident(city)  # 36.5: green now, red under the new set
    cold, t_cold = resident(city)  # 35.5: green under both
    held, t_held = resident(city)  # a colour set by hand (yellow): holds under both
    plain, t_plain = resident(city)  # no records: not evaluated, green
    declare(city, t_fever, 38.2)
    declare(city, t_mild, 36.5)
    declare(city, t_cold, 35.5)
    declare(city, t_held, 38.9)  # red under the new set, but the override wins
    assert set_status(city, held.id_number, "yellow", "人工黄码").status_code == 200
    assert [my_status(city, t)["color"] for t in (t_fever, t_mild, t_cold, t_held, t_plain)] == \
        ["yellow", "green", "green", "yellow", "green"]

    text = hotter("hot-2026.11")
    admin = city.staff["admin"]["token"]
    r = city.post("/v1/staff/rules/diff", {"rules": text}, token=admin)
    assert r.status_code == 200, r.text
    diff = r.json()
    assert diff["version"] == "hot-2026.11"
    assert diff["people"] == 4, diff  # everyone with a record: the four who declared
    moves = sorted((c["from"], c["to"], c["count"]) for c in diff["changes"])
    assert moves == [("green", "red", 1), ("yellow", "red", 1)], diff
    assert active(city)["version"] == version_of(DEFAULT)  # the diff changes nothing

    applied = apply_and_wait(city, text)
    assert_outcome(applied, diff)
    assert applied["people_done"] == 4 and applied["changed"] == 2, applied
    assert get_job(city, "latest") == applied
    assert active(city) == {"version": "hot-2026.11", "rules": text}

    def colours():
        return [my_status(city, t)["color"] for t in (t_fever, t_mild, t_cold, t_held, t_plain)]

    want = ["red", "red", "green", "yellow", "green"]
    assert colours() == want
    st = my_status(city, t_mild)
    assert [x["rule"] for x in st["reasons"]] == ["yellow.fever"], st
    assert my_status(city, t_held)["reasons"][0]["rule"] == "manual_override"
    assert [scan_ok(city, term, get_code(city, t)["code"])["result"]
            for t in (t_fever, t_mild, t_cold, t_held, t_plain)] == want
    # nothing more would move under the same set
    r = city.post("/v1/staff/rules/diff", {"rules": text}, token=admin)
    assert r.status_code == 200 and r.json()["changes"] == [], r.text

    # audited: the staff call and the rules.apply entry with the version and counts
    sec = city.staff["security"]["token"]
    r = city.get("/v1/staff/audit?action=POST%20/v1/staff/rules/apply&limit=5", token=sec)
    assert r.status_code == 200, r.text
    call = r.json()["entries"]
    assert call and call[0]["action"] == "POST /v1/staff/rules/apply", call
    assert call[0]["actor"]["kind"] == "staff" and call[0]["actor"]["id"] == city.staff["admin"]["staff_id"], call
    assert call[0]["detail"]["status"] == 202, call
    assert call[0]["detail"]["call"] == {"job_id": applied["job_id"], "version": "hot-2026.11"}, call
    r = city.get("/v1/staff/audit?action=rules.apply&limit=5", token=sec)
    assert r.status_code == 200, r.text
    entry = r.json()["entries"]
    assert entry and entry[0]["detail"] == {"job_id": applied["job_id"], "version": "hot-2026.11", "state": "done",
                                            "people": 4, "changed": 2}, entry
    assert entry[0]["actor"]["kind"] == "staff" and entry[0]["actor"]["id"] == city.staff["admin"]["staff_id"], entry
    assert text not in json.dumps(r.json(), ensure_ascii=False)

    # the set and the colours hold after a restart
    city.restart()
    assert active(city) == {"version": "hot-2026.11", "rules": text}
    assert colours() == want
    assert scan_ok(city, term, get_code(city, t_mild)["code"])["result"] == "red"
    # a new declaration is judged by the applied set
    late, t_late = resident(city)
    declare(city, t_late, 36.4)
    assert my_status(city, t_late)["color"] == "red"

    # back to the default: everyone the hot set moved moves back
    back = apply_and_wait(city, DEFAULT)
    assert back["state"] == "done" and (back["people_done"], back["changed"]) == (5, 3), back
    assert back["job_id"] == applied["job_id"] + 1
    assert get_job(city, applied["job_id"]) == applied  # an ended job stays as it ended
    assert colours() == ["yellow", "green", "green", "yellow", "green"]
    assert my_status(city, t_late)["color"] == "green"
    assert active(city) == {"version": version_of(DEFAULT), "rules": DEFAULT}


def test_one_application_at_a_time(tmp_path):
    """Applications sent at once over a city of 3,000 people with records: each starts a job (202) or is refused
    with 409 conflict, naming the job that runs; every job started ends done, and the active set is the last one's."""
    city = _city(tmp_path, pool=0)
    try:
        people = [make_person() for _ in range(3000)]
        city.import_people(people)
        when = iso(int(time.time()) - 86400)
        path = city.root / "sc.jsonl"
        path.write_text("".join(json.dumps({"record_id": f"sc-{i}", "kind": "secondary_contact", "id_number":
                                            p.id_number, "occurred_at": when}) + "\n" for i, p in enumerate(people)),
                        encoding="utf-8")
        r = city.cli("import", "records", "--data", city.data, "--source", "cdc", path)
        assert r.returncode == 0, r.stderr
        texts = {f"race-{i}": re.sub(r"(?m)^version .*$", f"version race-{i}", DEFAULT, count=1) for i in range(4)}
        answers = {}
        barrier = threading.Barrier(len(texts))

        def go(version):
            barrier.wait(timeout=HTTP_TIMEOUT)
            answers[version] = apply_rules(city, texts[version])

        threads = [threading.Thread(target=go, args=(v,)) for v in texts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(answers) == len(texts)
        started = {}
        for version, r in answers.items():
            if r.status_code == 409:
                assert_error(r, 409, "conflict")
                assert re.search(r"^rule set race-\d is being applied \(job \d+\)", r.json()["error"]["message"]), \
                    r.text
            else:
                assert r.status_code == 202, r.text
                started[r.json()["job_id"]] = version
        assert started, "no application went through"
        for job_id, version in started.items():
            job = wait_job(city, job_id)
            assert (job["state"], job["version"], job["people_done"], job["changed"]) == \
                ("done", version, 3000, 0), job
        assert active(city)["version"] == started[max(started)]
    finally:
        city.close()


# -- rule jobs over a city large enough to watch ----------------------------------------------------------------------

JOB_PEOPLE = 8000  # with a change every MOVED_EVERY people, a walk of a few seconds: each change is a commit
MOVED_EVERY = 10
LEASE = 15.0  # SS_RULEJOB_LEASE_MS: a killed server's job is taken over once its owner has been silent this long


def big_city(root):
    """A city of JOB_PEOPLE people with one health declaration each: one in MOVED_EVERY of 36.5 degrees (green by
    the default set, red by hotter()), the others of 35.5 (green by both). Few move, as in a city: each change of
    colour is a transaction on disk of its own."""
    city = _city(root, pool=0)
    people = [make_person() for _ in range(JOB_PEOPLE)]
    for p in people[:20]:  # a sample for the log check: all of them would make it slow, not stronger
        city.remember_person(p)
    registry = city.root / "big.csv"
    registry.write_text("\n".join([CSV_HEADER] + [p.csv_line() for p in people]) + "\n", encoding="utf-8")
    r = city.cli("import", "population", "--data", city.data, registry, timeout=300)
    assert r.returncode == 0, r.stderr
    when = iso(int(time.time()) - 3600)
    records = city.root / "big.jsonl"
    records.write_text("".join(json.dumps({"record_id": f"hd-{i}", "kind": "health_declaration", "id_number":
                                           p.id_number, "occurred_at": when,
                                           "attributes": {"temperature": 35.5 if i % MOVED_EVERY else 36.5,
                                                          "symptoms": []}})
                               + "\n" for i, p in enumerate(people)), encoding="utf-8")
    r = city.cli("import", "records", "--data", city.data, "--source", "cdc", records, timeout=300)
    assert r.returncode == 0, r.stderr
    return city


def diff_of(city, text):
    r = city.post("/v1/staff/rules/diff", {"rules": text}, token=city.staff["admin"]["token"])
    assert r.status_code == 200, r.text
    return r.json()


def start_job(city, text):
    r = apply_rules(city, text)
    assert r.status_code == 202, r.text
    return r.json()


def midway(city, job_id):
    """Polls the job until it is part-way (0 < done < total); returns it."""
    return poll(lambda: (lambda j: j if j["state"] == "running" and j["people_total"] and
                         0 < j["people_done"] < j["people_total"] else None)(get_job(city, job_id)),
                JOB_DEADLINE, interval=0.01, what=f"job {job_id} part-way")


def stored_job(city, job_id):
    """The job as the stopped server left it in its database: (state, people_total, people_done, heartbeat_ms)."""
    with contextlib.closing(sqlite3.connect(city.data / "suishen.db")) as db:
        return db.execute("SELECT state, people_total, people_done, heartbeat_ms FROM rule_jobs WHERE job_id = ?",
                          (job_id,)).fetchone()


def test_apply_is_a_job_whose_progress_shows(tmp_path):
    """POST answers 202 with the job at once (running, nobody done yet); while it runs a second application is
    refused 409 naming it and GET .../jobs/latest is it; its count of people done rises part-way to the total; it
    ends with exactly the moves the diff predicted, by district too. Unknown jobs are 404, other roles 403."""
    city = big_city(tmp_path)
    try:
        assert_error(city.get("/v1/staff/rules/jobs/latest", token=city.staff["admin"]["token"]), 404, "not_found")
        text = hotter("hot-job-1")
        diff = diff_of(city, text)
        assert diff["people"] == JOB_PEOPLE and diff["changes"] == [
            {"from": "green", "to": "red", "count": JOB_PEOPLE // MOVED_EVERY}], diff
        job = start_job(city, text)
        assert job["state"] == "running" and job["people_done"] < JOB_PEOPLE and job["finished_at"] is None, job
        refused = apply_rules(city, DEFAULT)
        assert_error(refused, 409, "conflict")
        assert f"rule set hot-job-1 is being applied (job {job['job_id']})" in refused.json()["error"]["message"]
        assert get_job(city, "latest")["job_id"] == job["job_id"]
        seen = []
        done = wait_job(city, job["job_id"], seen=seen)
        counts = [j["people_done"] for j in seen]
        assert counts == sorted(counts), counts
        assert any(0 < n < JOB_PEOPLE for n in counts), f"no answer part-way: {counts}"
        assert all(j["changed"] <= n for j, n in zip(seen, counts)), seen
        assert_outcome(done, diff)
        assert get_job(city, "latest") == done
        assert active(city)["version"] == "hot-job-1"
        for bad in ("0", "+1", "-1", "1x", "abc", str(done["job_id"] + 1), "9" * 30):
            assert_error(city.get(f"/v1/staff/rules/jobs/{bad}", token=city.staff["admin"]["token"]), 404,
                         "not_found")
        for role in ROLES:
            if role != "admin":
                assert_error(city.get("/v1/staff/rules/jobs/latest", token=city.staff[role]["token"]), 403,
                             "permission_denied")
    finally:
        city.close()


def test_apply_job_survives_a_stop_and_a_kill(tmp_path):
    """A job part-way when the server is stopped (SIGTERM) is let go, running, in the store, and the restarted server
    finishes it; one part-way when the server is killed (-9) is still running in the store, and the restarted
    server takes it over once the lease has run out. Both end with exactly what the diff predicted: nobody counted
    twice or missed, although people re-evaluated after the last write of where the job was are re-evaluated
    again; each job has one rules.apply audit entry."""
    city = big_city(tmp_path)
    try:
        hot = hotter("hot-job-2")
        diff = diff_of(city, hot)
        job = start_job(city, hot)
        midway(city, job["job_id"])
        city.stop()
        state, total, done, beat = stored_job(city, job["job_id"])
        assert (state, total, beat) == ("running", JOB_PEOPLE, 0) and 0 < done < JOB_PEOPLE, (state, total, done, beat)
        city.start()
        assert_outcome(wait_job(city, job["job_id"]), diff)

        back = diff_of(city, DEFAULT)
        assert sum(c["count"] for c in back["changes"]) == sum(c["count"] for c in diff["changes"])
        job2 = start_job(city, DEFAULT)
        midway(city, job2["job_id"])
        city.kill()
        state, total, done, beat = stored_job(city, job2["job_id"])
        assert (state, total) == ("running", JOB_PEOPLE) and 0 < done < JOB_PEOPLE and beat > 0, \
            (state, total, done, beat)
        city.start()
        after = get_job(city, "latest")
        assert after["job_id"] == job2["job_id"] and after["state"] in ("running", "done"), after
        assert_outcome(wait_job(city, job2["job_id"], timeout=LEASE + JOB_DEADLINE), back)
        assert diff_of(city, DEFAULT)["changes"] == []
        assert active(city)["version"] == version_of(DEFAULT)

        r = city.get("/v1/staff/audit?action=rules.apply&limit=10", token=city.staff["security"]["token"])
        assert r.status_code == 200, r.text
        ended = sorted(e["detail"]["job_id"] for e in r.json()["entries"])
        assert ended == [job["job_id"], job2["job_id"]], r.json()
    finally:
        city.close()


FOLLOW_DEADLINE = 15.0  # seconds: SIGHUP, else the server's 10-s housekeeping


def test_rules_shown_are_the_rules_the_server_judges_by(fresh_city):
    """A set loaded with `suishen rules load` beside the running server, which follows it at its next housekeeping
    (within 10 s; no SIGHUP, so that the wait is long enough to see): until then and after, whatever version GET
    /v1/staff/rules shows is the one the server judges new records by (it showed the stored one at once)."""
    city = fresh_city
    path = city.root / "hot.rules"
    path.write_text(hotter("cli-hot-1"), encoding="utf-8")
    r = city.cli("rules", "load", "--data", city.data, path)
    assert r.returncode == 0, r.stderr
    _, token = resident(city)
    deadline = time.monotonic() + FOLLOW_DEADLINE
    judged = {version_of(DEFAULT): "green", "cli-hot-1": "red"}  # a fresh 36.5-degree declaration under each set
    while True:
        before = active(city)["version"]
        declare(city, token, 36.5)
        colour = my_status(city, token)["color"]
        after = active(city)["version"]
        # at every try, not only the last: the set shown before and after the declaration judged it
        if before == after:
            assert judged[before] == colour, \
                f"GET /v1/staff/rules shows {before}, but a fresh 36.5-degree declaration is judged {colour}"
        if after == "cli-hot-1" and colour == "red":
            break
        assert time.monotonic() < deadline, f"the server did not follow the set loaded beside it: shows {after}"
        time.sleep(0.5)


# -- GET /v1/terminals/me ----------------------------------------------------------------------------------------------


def terminal_me(city, term, **kw):
    secret = kw.pop("secret", term.secret)
    path = kw.pop("signed_path", "/v1/terminals/me")
    method = kw.pop("signed_method", "GET")
    h = sign_headers(secret, method, path, kw.pop("signed_body", b""), terminal_id=kw.pop("terminal_id",
                                                                                         term.terminal_id), **kw)
    return requests.get(city.url("/v1/terminals/me"), headers=h, timeout=HTTP_TIMEOUT), h


@pytest.mark.parametrize("scene", SCENES)
def test_terminal_me(city, scene):
    term = make_terminal(city, scene=scene)
    r, _ = terminal_me(city, term)
    assert r.status_code == 200, r.text
    assert r.json() == {"terminal_id": term.terminal_id, "org": term.org, "place": term.place, "scene": scene,
                        "scene_label": LABELS[scene]}
    assert r.headers.get("Cache-Control") == "no-store"


def test_terminal_me_refusals(city):
    term = make_terminal(city, scene="checkpoint")
    other = make_terminal(city, scene="hospital")
    url = city.url("/v1/terminals/me")
    assert_error(requests.get(url, timeout=HTTP_TIMEOUT), 401, "unauthenticated")
    assert_error(requests.get(url, headers={"X-Terminal-Id": str(term.terminal_id)}, timeout=HTTP_TIMEOUT), 401,
                 "unauthenticated")
    assert_error(terminal_me(city, term, secret=other.secret)[0], 401, "unauthenticated")
    assert_error(terminal_me(city, term, terminal_id=other.terminal_id)[0], 401, "unauthenticated")
    assert_error(terminal_me(city, term, terminal_id=999999)[0], 401, "unauthenticated")
    assert_error(terminal_me(city, term, signed_path="/v1/scans")[0], 401, "unauthenticated")
    assert_error(terminal_me(city, term, signed_method="POST")[0], 401, "unauthenticated")
    assert_error(terminal_me(city, term, signed_body=b"{}")[0], 401, "unauthenticated")
    assert_error(terminal_me(city, term, timestamp=int(time.time()) - 400)[0], 401, "unauthenticated")
    ok, headers = terminal_me(city, term)
    assert ok.status_code == 200 and ok.json()["terminal_id"] == term.terminal_id
    replay = requests.get(url, headers=headers, timeout=HTTP_TIMEOUT)
    assert_error(replay, 401, "unauthenticated")
    # a staff or resident token is not a terminal
    assert_error(city.get("/v1/terminals/me", token=city.staff["admin"]["token"]), 401, "unauthenticated")
    # the other terminal is itself
    r, _ = terminal_me(city, other)
    assert r.status_code == 200 and r.json()["scene"] == "hospital" and r.json()["terminal_id"] == other.terminal_id
