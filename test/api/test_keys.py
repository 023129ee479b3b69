"""The key ring's life while the server runs: `suishen keys reseal` and `suishen keys master` (operations.md "Keys").

Covers a data key rotated out, everything re-sealed under the new one and the old one retired: every sealed blob of
the store then names the new key (found by looking at every blob column of every table, not from a list), the old key
is retired, the running server drops it after re-sealing what it holds in memory, and everything still reads, before
and after a restart: log-in (the TOTP secret), the profile, hospital scans (the holder's particulars, also a relative's),
relatives, appeals with their checks and decision, the colour from a source's record, terminals' and source clients'
secrets, the audit key. A re-seal killed with SIGKILL half-way leaves every row readable and finishes when run again. A
re-seal beside a server under scans, log-ins, profile reads and registrations costs none of them an error. The master
key replaced (from DIR/master.key, and from SUISHEN_MASTER_KEY: printed, or taken from SUISHEN_NEW_MASTER_KEY): the
old key is refused, the new one opens everything, the running server goes on; a replacement that fails half-way (a
damaged key row) changes nothing.
"""
import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import threading
import time

import pytest
import requests

from conftest import (BIN, HTTP_TIMEOUT, clean_env, get_code, keys_list, make_id_number, make_person, make_terminal,
                      new_nonce, poll, resident, scan, scan_ok, sign_headers)

PERSONAL_SCENES = ("hospital",)


def db(city, write=False):
    mode = "rw" if write else "ro"
    return sqlite3.connect(f"file:{city.data / 'suishen.db'}?mode={mode}", uri=True, timeout=30)


def data_keys(city):
    return {k for k, purpose, _ in keys_list(city) if purpose == "data"}


def sealed_blobs(city):
    """Every blob of the store that is sealed under a data key, as {(table, column): {key_id: count}}: found by
    looking at every BLOB value of every table (version byte 1, key id in bytes 2-5 naming a data key, at least the
    37 bytes of a seal's overhead), so that a sealed column the code forgot is found too."""
    keys = data_keys(city)
    c = db(city)
    found = {}
    try:
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            for col in [r[1] for r in c.execute(f'PRAGMA table_info("{t}")')]:
                for (v,) in c.execute(f'SELECT "{col}" FROM "{t}" WHERE typeof("{col}") = \'blob\''):
                    if len(v) >= 37 and v[0] == 1 and int.from_bytes(v[1:5], "big") in keys:
                        k = int.from_bytes(v[1:5], "big")
                        found.setdefault((t, col), {}).setdefault(k, 0)
                        found[(t, col)][k] += 1
    finally:
        c.close()
    return found


def under(city, key):
    """How many sealed blobs name key."""
    return sum(n.get(key, 0) for n in sealed_blobs(city).values())


def current_data_key(city):
    return next(k for k, purpose, state in keys_list(city) if purpose == "data" and state == "current")


def rotate_data_key(city):
    r = city.cli("keys", "rotate", "--data", city.data, "--purpose", "data")
    assert r.returncode == 0, r.stderr
    key = int(re.search(r"key (\d+)", r.stdout).group(1))
    if city.running:  # the server loads it at once on SIGHUP (within 10 s without)
        mark = len(city.log_bytes())
        city.proc.send_signal(signal.SIGHUP)
        poll(lambda: f"event=key_loaded key_id={key} ".encode() in city.log_bytes()[mark:], 30,
             what=f"the server loading data key {key}")
    return key


def reseal(city, *extra, timeout=240):
    r = city.cli("keys", "reseal", "--data", city.data, *extra, timeout=timeout)
    assert r.returncode == 0, f"reseal failed ({r.returncode}): {r.stdout} {r.stderr}"
    return r


def sighup_until(city, event, mark=None):
    """SIGHUP the server and wait for a log line (a reload of the key ring that did something) written after mark
    (default: now). A running server also follows the store within a second of another process's write, so the line
    may come before the signal: pass the mark taken before that write."""
    mark = len(city.log_bytes()) if mark is None else mark
    city.proc.send_signal(signal.SIGHUP)
    poll(lambda: event.encode() in city.log_bytes()[mark:], 30, what=event)


def mask_name(name):
    return name[0] + "*" * (len(name) - 1)


def mask_id(idn):
    return idn[:2] + "*" * 14 + idn[-2:]


def child():
    """A registry person (not imported yet) who is about eight: linked at once to a guardian the registry names."""
    p = make_person()
    birth = time.strftime("%Y%m%d", time.gmtime(time.time() - 8 * 365 * 86400))
    p.id_number = make_id_number(p.division, birth, int(p.id_number[14:17]))
    p.birth_date = f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"
    p.sex = "M" if int(p.id_number[16]) % 2 else "F"
    return p


def post_records(city, client, source, records):
    path = f"/v1/sources/{source}/records"
    data = json.dumps({"records": records}, ensure_ascii=False).encode()
    h = sign_headers(client["secret"], "POST", path, data)
    h["X-Client-Id"] = str(client["client_id"])
    h["Content-Type"] = "application/json"
    return requests.post(city.url(path), data=data, headers=h, timeout=HTTP_TIMEOUT)


class Sample:
    """One of everything that is sealed, made through the API, and a way to read all of it back."""

    def __init__(self, city):
        self.city = city
        admin = city.staff["admin"]["token"]
        self.handler = city.staff["handler"]["token"]
        self.person, self.token = resident(city)
        self.kid = child()
        self.kid.guardians = [self.person.id_number]  # the registry names the resident: linked at once
        city.import_people([self.kid])
        r = city.post("/v1/me/dependents", {"name": self.kid.name, "id_number": self.kid.id_number,
                                            "relation": "child"}, token=self.token)
        assert r.status_code == 201, r.text
        self.dep = r.json()["dependent_id"]
        self.hospital = make_terminal(city, scene="hospital")
        r = city.post("/v1/staff/sources", {"source": "cdc"}, token=admin)
        assert r.status_code == 201, r.text
        self.client = r.json()
        city.remember(self.client["secret"])
        # a close contact (a record, sealed): red; an appeal upheld (sealed reason, details, checks, decision and
        # the manual_override record it makes): green again
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
        r = post_records(city, self.client, "cdc", [{"record_id": f"cc-{new_nonce()}", "kind": "close_contact",
                                                    "id_number": self.person.id_number, "occurred_at": at}])
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
        self.details = "我近14天未离开本市，请核实。"
        self.decision = "核查属实，已更正"
        city.remember(self.details, self.decision)
        r = city.post("/v1/me/appeals", {"reason": "健康码误判", "details": self.details}, token=self.token)
        assert r.status_code == 201, r.text
        self.appeal = r.json()["appeal_id"]
        base = f"/v1/staff/appeals/{self.appeal}"
        assert city.post(f"{base}/claim", token=self.handler).status_code == 200
        for kind, text in (("data", "大数据核查无记录"), ("grassroots", "社区核查属实")):
            city.remember(text)
            assert city.post(f"{base}/checks", {"kind": kind, "result": text}, token=self.handler).status_code == 200
        r = city.post(f"{base}/decision", {"decision": "upheld", "color": "green", "reason": self.decision},
                      token=self.handler)
        assert r.status_code == 200, r.text
        self.check(login=False)

    def check(self, login=False):
        """Reads back everything sealed (each must answer as it did when made)."""
        city, p = self.city, self.person
        if login:
            self.token = city.login_ok(p)
        me = city.get("/v1/me", token=self.token).json()
        assert me["name"] == mask_name(p.name) and me["id_number"] == mask_id(p.id_number), me
        # a hospital scan opens the holder's particulars, of a resident and of a relative
        body = scan_ok(city, self.hospital, get_code(city, self.token)["code"])
        assert body["result"] == "green" and body["person"] == {"name": p.name, "id_number": mask_id(p.id_number)}
        r = city.get(f"/v1/me/dependents/{self.dep}/code", token=self.token)
        assert r.status_code == 200, r.text
        body = scan_ok(city, self.hospital, r.json()["code"])
        assert body["person"] == {"name": self.kid.name, "id_number": mask_id(self.kid.id_number)}, body
        deps = city.get("/v1/me/dependents", token=self.token).json()["dependents"]
        assert [(d["dependent_id"], d["name"]) for d in deps] == [(self.dep, mask_name(self.kid.name))], deps
        # the colour comes from the records (the close contact, overridden by the upheld appeal)
        st = city.get("/v1/me/status", token=self.token).json()
        assert st["color"] == "green" and self.decision in st["reasons"][0]["text"], st
        mine = city.get(f"/v1/me/appeals/{self.appeal}", token=self.token).json()
        assert mine["details"] == self.details and mine["decision"]["reason"] == self.decision, mine
        staff = city.get(f"/v1/staff/appeals/{self.appeal}", token=self.handler).json()
        assert staff["checks"] == {"data": "大数据核查无记录", "grassroots": "社区核查属实"}, staff
        assert staff["person"]["id_number"] == p.id_number, staff
        # the source client's secret, and a record sealed now
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        r = post_records(city, self.client, "cdc", [{"record_id": f"t-{new_nonce()}", "kind": "test_result",
                                                    "id_number": p.id_number, "occurred_at": at,
                                                    "attributes": {"result": "negative"}}])
        assert r.status_code == 200, r.text


def test_reseal_retires_the_old_data_key_and_everything_reads(fresh_city):
    city = fresh_city
    old = current_data_key(city)
    sample = Sample(city)
    before = sealed_blobs(city)
    assert {("population", "sealed"), ("citizens", "sealed"), ("citizens", "totp_sealed"),
            ("terminals", "secret_sealed"), ("source_clients", "secret_sealed"), ("records", "sealed"),
            ("dependent_links", "sealed"), ("appeals", "sealed"), ("appeals", "data_check"),
            ("appeals", "grass_check"), ("appeals", "decision_sealed"), ("meta", "value")} <= set(before), before

    new = rotate_data_key(city)
    fresh = city.register_new()  # sealed under the new key by the server
    mark = len(city.log_bytes())
    r = reseal(city)
    assert f"data key {old} retired" in r.stdout, r.stdout
    assert (old, "data", "retired") in keys_list(city)
    blobs = sealed_blobs(city)
    assert under(city, old) == 0, blobs
    assert set(blobs) == set(before) and all(set(n) == {new} for n in blobs.values()), blobs

    # the running server drops the old key, re-sealing in memory what it holds; everything still reads
    sighup_until(city, f"event=key_dropped key_id={old} ", mark)
    sample.check(login=True)
    city.login_ok(fresh)
    # a server started after the retirement has no old key to read with
    city.restart()
    sample.check()
    assert city.cli("audit", "checkpoint", "--data", city.data).returncode == 0  # the audit key opens
    r = city.cli("audit", "verify", "--data", city.data)
    assert r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr
    # again: nothing to do
    r = reseal(city)
    assert "nothing to re-seal" in r.stdout, r.stdout
    # a data key cannot be retired by hand
    r = city.cli("keys", "retire", "--data", city.data, "--id", new)
    assert r.returncode != 0 and "reseal" in r.stderr, r.stderr


def population_under(city, key):
    c = db(city)
    try:
        return c.execute("SELECT count(*) FROM population WHERE substr(sealed, 2, 4) = ?",
                         (key.to_bytes(4, "big"),)).fetchone()[0]
    finally:
        c.close()


def test_reseal_killed_and_run_again(bare_city):
    city = bare_city
    people = [make_person() for _ in range(20000)]
    city.import_people(people)
    city.start()
    old = current_data_key(city)
    new = rotate_data_key(city)
    proc = subprocess.Popen([BIN, "keys", "reseal", "--data", str(city.data), "--batch", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=clean_env())
    try:
        poll(lambda: population_under(city, new) >= 200, 120, interval=0.02, what="the re-seal under way")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    done = population_under(city, new)
    assert 0 < done < len(people), done  # cut off half-way (a thousand transactions of 20 rows)
    assert (old, "data", "active") in keys_list(city)
    # rows under either key read: people from both sides of the cut register
    c = db(city)
    try:
        order = [r[0] for r in c.execute("SELECT substr(sealed, 2, 4) = ? FROM population ORDER BY person_id",
                                         (new.to_bytes(4, "big"),))]
    finally:
        c.close()
    first_old = order.index(0)
    for p in (people[0], people[first_old]):
        city.register_ok(p)
        city.login_ok(p)
    mark = len(city.log_bytes())
    r = reseal(city)
    assert f"data key {old} retired" in r.stdout, r.stdout
    assert under(city, old) == 0 and population_under(city, new) == len(people)
    sighup_until(city, f"event=key_dropped key_id={old} ", mark)
    for p in (people[0], people[first_old]):
        token = city.login_ok(p)
        assert city.get("/v1/me", token=token).json()["id_number"] == mask_id(p.id_number)


def test_reseal_beside_scans_and_log_ins(fresh_city):
    city = fresh_city
    city.add_pool(30)
    hospital = make_terminal(city, scene="hospital")
    residents = [resident(city) for _ in range(12)]
    old = current_data_key(city)
    stop = threading.Event()
    failures, counts = [], {"scan": 0, "me": 0, "login": 0, "register": 0}

    def load():
        i = 0
        next_login = 0.0
        while not stop.is_set():
            p, token = residents[i % len(residents)]
            i += 1
            try:
                r = scan(city, hospital, get_code(city, token)["code"])
                if r.status_code != 200 or r.json()["person"]["name"] != p.name:
                    failures.append(("scan", r.status_code, r.text[:200]))
                counts["scan"] += 1
                r = city.get("/v1/me", token=token)
                if r.status_code != 200:
                    failures.append(("me", r.status_code, r.text[:200]))
                counts["me"] += 1
                if time.monotonic() >= next_login:  # a log-in (argon2) and a registration every 2 s
                    next_login = time.monotonic() + 2.0
                    r = city.login(p)
                    if r.status_code != 200:
                        failures.append(("login", r.status_code, r.text[:200]))
                    counts["login"] += 1
                    if counts["register"] < 12:
                        q = city.new_person()
                        r = city.register(q)
                        if r.status_code != 201:
                            failures.append(("register", r.status_code, r.text[:200]))
                        counts["register"] += 1
            except Exception as e:  # noqa: BLE001 - any failure of the load is the test's failure
                failures.append(("exception", repr(e)))

    t = threading.Thread(target=load)
    t.start()
    try:
        rotate_data_key(city)
        mark = len(city.log_bytes())
        reseal(city)
        sighup_until(city, f"event=key_dropped key_id={old} ", mark)
        after = counts["login"]
        poll(lambda: counts["login"] >= after + 3, 60, what="log-ins after the retirement")
    finally:
        stop.set()
        t.join(timeout=60)
    assert not failures, failures[:5]
    assert counts["scan"] > 20 and counts["register"] > 3, counts
    assert under(city, old) == 0


# -- the master key ---------------------------------------------------------------------------------------------------


def master_file(city):
    return (city.data / "master.key").read_text().strip()


def audit_actions(city, action):
    c = db(city)
    try:
        return c.execute("SELECT count(*) FROM audit_log WHERE action = ?", (action,)).fetchone()[0]
    finally:
        c.close()


def test_master_key_replaced_in_the_file(fresh_city):
    city = fresh_city
    sample = Sample(city)
    old = master_file(city)
    mark = len(city.log_bytes())
    r = city.cli("keys", "master", "--data", city.data)
    assert r.returncode == 0, r.stderr
    new = master_file(city)
    assert re.fullmatch(r"[0-9a-f]{64}", new) and new != old
    assert stat.S_IMODE((city.data / "master.key").stat().st_mode) == 0o600
    assert not (city.data / "master.key.new").exists()
    assert new not in r.stdout + r.stderr and old not in r.stdout + r.stderr
    assert audit_actions(city, "key.master") == 1
    # the running server goes on with the keys it has, and says it must restart to load any other
    sample.check(login=True)
    sighup_until(city, "was replaced", mark)
    # the old key opens nothing; nothing is harmed by trying
    r = city.cli("keys", "list", "--data", city.data, env=clean_env(SUISHEN_MASTER_KEY=old))
    assert r.returncode != 0 and "wrong master key" in r.stderr, r.stderr
    port = city.port
    proc = city.spawn(env=clean_env(SUISHEN_MASTER_KEY=old))
    city.port = port  # the running server's
    assert proc.wait(timeout=30) != 0
    # the new one opens everything
    city.restart()
    sample.check()
    rotate_data_key(city)
    sample.check()
    r = city.cli("audit", "verify", "--data", city.data)
    assert r.returncode == 0, r.stdout + r.stderr


def test_master_key_replaced_in_the_environment(tmp_path):
    data = tmp_path / "data"
    k1 = os.urandom(32).hex()

    def run(*args, **env):
        p = subprocess.run([BIN, *map(str, args)], capture_output=True, env=clean_env(**env), timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    assert run("init", "--data", data, SUISHEN_MASTER_KEY=k1)[0] == 0
    assert not (data / "master.key").exists()
    # printed: the new key is the one line on standard output
    rc, out, err = run("keys", "master", "--data", data, SUISHEN_MASTER_KEY=k1)
    assert rc == 0, err
    k2 = out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", k2) and k2 != k1, out
    assert "SUISHEN_MASTER_KEY" in err, err
    rc, _, err = run("keys", "list", "--data", data, SUISHEN_MASTER_KEY=k1)
    assert rc != 0 and "wrong master key" in err, err
    assert run("keys", "list", "--data", data, SUISHEN_MASTER_KEY=k2)[0] == 0
    # given: SUISHEN_NEW_MASTER_KEY, put in the secret store first, is never printed
    k3 = os.urandom(32).hex()
    rc, out, err = run("keys", "master", "--data", data, SUISHEN_MASTER_KEY=k2, SUISHEN_NEW_MASTER_KEY=k3)
    assert rc == 0, err
    assert k3 not in out + err and k2 not in out + err
    assert run("keys", "list", "--data", data, SUISHEN_MASTER_KEY=k2)[0] != 0
    assert run("keys", "list", "--data", data, SUISHEN_MASTER_KEY=k3)[0] == 0
    assert not (data / "master.key").exists()
    # a new key that is not one is refused before anything changes
    rc, _, err = run("keys", "master", "--data", data, SUISHEN_MASTER_KEY=k3, SUISHEN_NEW_MASTER_KEY="abc")
    assert rc != 0 and "SUISHEN_NEW_MASTER_KEY" in err, err
    assert run("keys", "list", "--data", data, SUISHEN_MASTER_KEY=k3)[0] == 0


def test_master_key_replacement_that_fails_half_way_changes_nothing(fresh_city):
    city = fresh_city
    sample = Sample(city)
    # keys 4 and 5: code keys; 4 retired and then damaged, so the re-wrapping fails after keys 1 to 3
    for _ in range(2):
        assert city.cli("keys", "rotate", "--data", city.data).returncode == 0
    code_keys = sorted(k for k, purpose, _ in keys_list(city) if purpose == "code")
    damaged = code_keys[-2]
    assert city.cli("keys", "retire", "--data", city.data, "--id", damaged).returncode == 0
    assert damaged != max(k for k, _, _ in keys_list(city))
    c = db(city, write=True)
    try:
        c.execute("UPDATE keys SET wrapped = zeroblob(69) WHERE key_id = ?", (damaged,))
        c.commit()
        before = c.execute("SELECT key_id, wrapped FROM keys ORDER BY key_id").fetchall()
        check_before = c.execute("SELECT value FROM meta WHERE key = 'master_check'").fetchone()
    finally:
        c.close()
    key_before = master_file(city)

    r = city.cli("keys", "master", "--data", city.data)
    assert r.returncode != 0 and f"key {damaged} does not unwrap" in r.stderr, r.stderr
    c = db(city)
    try:
        assert c.execute("SELECT key_id, wrapped FROM keys ORDER BY key_id").fetchall() == before
        assert c.execute("SELECT value FROM meta WHERE key = 'master_check'").fetchone() == check_before
    finally:
        c.close()
    assert master_file(city) == key_before and not (city.data / "master.key.new").exists()
    assert audit_actions(city, "key.master") == 0
    city.restart()
    sample.check(login=True)
