"""The command line and the server's life cycle.

Covers `suishen init` (idempotent, keeps the data; master.key mode 0600), the master key (a different
SUISHEN_MASTER_KEY is refused at start with a message, and nothing is harmed), `suishen keys rotate` and `keys list`
(data sealed under old keys still reads), `suishen import population` (all or nothing, every bad line named by
number, a wrong header refused, a later file updates a person, a duplicated ID number names both lines), shutdown on
SIGTERM (exit 0 promptly; a request in flight at the signal completes), durability (a registration answered 201
survives `kill -9`), and what commands print: their results, with the log lines of routine events only for
`--verbose` or SUISHEN_LOG (errors always), and `rules show` the active rule set's text.
"""
import json
import os
import re
import signal
import socket
import sqlite3
import stat
import time

import sqlite3
import subprocess

from conftest import BIN, CSV_HEADER, REPO, assert_error, clean_env, make_id_number, make_person

# -- init and the master key -----------------------------------------------------------------------------------------


def test_init_is_idempotent_and_keeps_data(fresh_city):
    city = fresh_city
    p = city.register_new()
    city.stop()
    key_before = (city.data / "master.key").read_bytes()
    for _ in range(2):
        r = city.cli("init", "--data", city.data)
        assert r.returncode == 0, r.stderr
    assert (city.data / "master.key").read_bytes() == key_before
    city.start()
    city.login_ok(p)
    # registering again is still a conflict: the citizen was kept, not recreated
    assert_error(city.register(p), 409, "conflict")


def test_master_key_file_is_private(bare_city):
    key = bare_city.data / "master.key"
    assert key.is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = key.read_text().strip()
    assert re.fullmatch(r"[0-9a-fA-F]{64}", text), "master.key holds 64 hex characters"


def test_wrong_master_key_is_refused(fresh_city):
    city = fresh_city
    p = city.register_new()
    city.stop()
    key_file = city.data / "master.key"
    key_before = key_file.read_bytes()
    db_files = sorted(f.name for f in city.data.iterdir())
    other = os.urandom(32).hex()
    assert other != key_before.decode().strip().lower()
    log_start = len(city.log_bytes())
    proc = city.spawn(env=clean_env(SUISHEN_MASTER_KEY=other))
    try:
        rc = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc != 0, "serve started with a wrong master key"
    message = city.log_bytes()[log_start:].decode("utf-8", "replace")
    assert "master key" in message.lower(), f"stderr does not mention the master key: {message!r}"
    assert other not in message, "the offered key was echoed to the log"
    # nothing was overwritten: the right key still opens everything
    assert key_file.read_bytes() == key_before
    assert set(db_files) <= {f.name for f in city.data.iterdir()}
    city.start(env=clean_env(SUISHEN_MASTER_KEY=key_before.decode().strip()))
    city.login_ok(p)


# -- what commands print ----------------------------------------------------------------------------------------------


def run(*args, **env):
    """Runs `suishen ARGS...` with SUISHEN_LOG only as given; returns (returncode, stdout, stderr)."""
    e = clean_env()
    e.pop("SUISHEN_LOG", None)
    e.update(env)
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, env=e, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def test_commands_print_results_and_log_lines_only_when_asked(tmp_path):
    data = tmp_path / "data"
    # quiet by default: the result on standard output, nothing on standard error
    rc, out, err = run("init", "--data", data)
    assert rc == 0 and "is ready" in out and err == "", (out, err)
    rc, out, err = run("staff", "create", "--data", data, "--name", "王芳", "--role", "admin")
    assert rc == 0 and err == "", err
    line = json.loads(out)
    assert set(line) == {"staff_id", "token"}, out
    rc, out, err = run("keys", "rotate", "--data", data)
    assert rc == 0 and out.strip() and err == "", (out, err)

    # --verbose (before or after the command's options), or SUISHEN_LOG, asks for the routine lines
    rc, out, err = run("init", "--verbose", "--data", tmp_path / "v1")
    assert rc == 0 and "is ready" in out, (out, err)
    assert re.search(r"(?m)^ts=\S+ level=info event=migration_applied ", err), err
    rc, out, err = run("--verbose", "keys", "rotate", "--data", data)
    assert rc == 0 and "level=info event=key_created" in err, err
    rc, out, err = run("init", "--data", tmp_path / "v2", SUISHEN_LOG="info")
    assert rc == 0 and "level=info event=master_key_created" in err, err
    # the log lines stay on standard error: the result is what standard output holds
    rc, out, err = run("staff", "create", "--data", data, "--name", "李娜", "--role", "handler", "--verbose")
    assert rc == 0 and "level=info event=staff_created" in err and set(json.loads(out)) == {"staff_id", "token"}

    # errors are printed without asking: a stored rule set that no longer parses is logged and refused
    assert run("rules", "show", "--data", data)[0] == 0  # stores the default set, on first use
    with sqlite3.connect(data / "suishen.db") as con:
        assert con.execute("UPDATE rule_sets SET text = 'version broken' || char(10) || 'rule' "
                           "WHERE active = 1").rowcount == 1
    rc, out, err = run("rules", "show", "--data", data)
    assert rc != 0 and out == "", (rc, out)
    assert "level=error event=rules_corrupt" in err and "does not parse" in err, err


def test_rules_show_prints_the_active_rule_set(tmp_path):
    data = tmp_path / "data"
    assert run("init", "--data", data)[0] == 0
    rc, out, err = run("rules", "show", "--data", data)
    assert rc == 0, err
    assert out == (REPO / "rules" / "default.rules").read_text(encoding="utf-8"), out[:200]
    # what it prints is a file that `rules load` takes back: the same set, under its own version
    text = re.sub(r"(?m)^version .*$", "version shown-1", out, count=1).replace("14天内到访", "十四天内到访")
    path = tmp_path / "shown.rules"
    path.write_text(text, encoding="utf-8")
    rc, out, err = run("rules", "load", "--data", data, path)
    assert rc == 0 and out.strip() == "shown-1", (out, err)
    assert run("rules", "show", "--data", data)[1] == text


# -- keys ------------------------------------------------------------------------------------------------------------


def key_lines(city):
    """Runs `suishen keys list`; returns [(id, purpose, state)], allowing one header line."""
    r = city.cli("keys", "list", "--data", city.data)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    keys = []
    for i, ln in enumerate(lines):
        fields = ln.replace(",", " ").split()
        if not fields[0].isdigit():
            assert i == 0, f"not a key line: {ln!r}"
            continue
        assert len(fields) >= 3, f"a key line names id, purpose and state: {ln!r}"
        keys.append((int(fields[0]), fields[1], fields[2]))
    assert keys, r.stdout
    ids = [k[0] for k in keys]
    assert len(set(ids)) == len(ids), r.stdout
    for _, purpose, state in keys:
        assert purpose in ("code", "data", "index"), r.stdout
        assert state.isalpha(), r.stdout
    return keys


def test_keys_list(bare_city):
    keys = key_lines(bare_city)
    assert {k[1] for k in keys} >= {"code", "data"}


def test_keys_rotate_keeps_old_data_readable(fresh_city):
    city = fresh_city
    old = city.new_person(name="欧阳小明")
    city.register_ok(old, phone="13812345678")
    city.stop()
    before = key_lines(city)
    r = city.cli("keys", "rotate", "--data", city.data)
    assert r.returncode == 0, r.stderr
    after_default = key_lines(city)
    assert len(after_default) > len(before)
    r = city.cli("keys", "rotate", "--data", city.data, "--purpose", "data")
    assert r.returncode == 0, r.stderr
    after_data = key_lines(city)
    assert len(after_data) == len(after_default) + 1
    new = [k for k in after_data if k[0] not in {k0[0] for k0 in after_default}]
    assert len(new) == 1 and new[0][1] == "data", after_data
    city.start()
    # sealed under the old keys: still logs in, still decrypts
    r = city.get("/v1/me", token=city.login_ok(old))
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["citizen_id"] == old.citizen_id
    assert me["name"] == "欧***"
    assert me["id_number"] == old.id_number[:2] + "*" * 14 + old.id_number[-2:]
    assert me["phone"] == "138****5678"
    # sealed under the new keys
    fresh = city.new_person(name="张三")
    city.register_ok(fresh, phone="13900001111")
    me = city.get("/v1/me", token=city.login_ok(fresh)).json()
    assert (me["name"], me["phone"]) == ("张*", "139****1111")
    assert me["id_number"] == fresh.id_number[:2] + "*" * 14 + fresh.id_number[-2:]


# -- import population -----------------------------------------------------------------------------------------------


def test_import_good_file(bare_city):
    city = bare_city
    people = [make_person() for _ in range(3)]
    r = city.import_file(city.write_csv(people))
    assert r.returncode == 0, r.stderr
    city.start()
    for p in people:
        assert city.register(p).status_code == 201


def test_import_with_bad_lines_loads_nothing(bare_city):
    city = bare_city
    good = [make_person() for _ in range(4)]
    bad_check = make_person()
    bad_check.id_number = bad_check.id_number[:17] + ("0" if bad_check.id_number[17] != "0" else "1")
    bad_date = make_person()
    bad_date.id_number = make_id_number(bad_date.division, "19900230", 321)
    bad_date.birth_date = "1990-02-30"
    empty_name = make_person()
    empty_name.name = ""
    rows = [good[0], bad_check, good[1], bad_date, good[2], empty_name, good[3]]  # lines 2..8
    r = city.import_file(city.write_csv(rows))
    assert r.returncode != 0
    for n in (3, 5, 7):
        assert re.search(rf"\bline {n}:", r.stderr), f"line {n} not reported: {r.stderr!r}"
    for n in (1, 2, 4, 6, 8):
        assert not re.search(rf"\bline {n}:", r.stderr), f"good line {n} reported: {r.stderr!r}"
    city.start()
    for p in good:
        assert_error(city.register(p), 422, "real_name_mismatch")


def test_import_wrong_header(bare_city):
    city = bare_city
    p = make_person()
    for header in ("id,name,sex,birth_date,division,phone", "name,id_number,sex,birth_date,division,phone", ""):
        r = city.import_file(city.write_csv([p], header=header))
        assert r.returncode != 0, f"header {header!r} accepted"
        assert r.stderr.strip()
    city.start()
    assert_error(city.register(p), 422, "real_name_mismatch")


def test_import_missing_file(bare_city):
    r = bare_city.import_file(bare_city.root / "no-such-file.csv")
    assert r.returncode != 0
    assert r.stderr.strip()


def test_import_again_updates_a_person(bare_city):
    city = bare_city
    p, q = make_person(name="张伟"), make_person(name="李娜")
    assert city.import_file(city.write_csv([p, q])).returncode == 0
    p.name = "张伟伟"
    r = city.import_file(city.write_csv([p]))
    assert r.returncode == 0, r.stderr
    city.start()
    assert_error(city.register(p, name="张伟"), 422, "real_name_mismatch")
    assert city.register(p).status_code == 201
    # a person the second file did not mention is still there
    assert city.register(q).status_code == 201


def test_import_duplicate_id_names_both_lines(bare_city):
    city = bare_city
    a, b, c = make_person(), make_person(), make_person()
    twin = make_person()
    twin.id_number, twin.name = a.id_number, "王五"
    r = city.import_file(city.write_csv([a, b, twin, c]))  # lines 2, 3, 4, 5
    assert r.returncode != 0
    assert re.search(r"\b4\b", r.stderr) and re.search(r"\b2\b", r.stderr), r.stderr
    assert not re.search(r"\bline 3:", r.stderr) and not re.search(r"\bline 5:", r.stderr), r.stderr
    city.start()
    for p in (a, b, c):
        assert_error(city.register(p), 422, "real_name_mismatch")


def test_import_refuses_contradictions_and_names_every_error_of_every_line(bare_city):
    """GB 11643 encodes sex (the 17th digit: odd for men) and birth date: a row that contradicts its own number is
    refused; and a line with several mistakes has each of them named, so that one pass fixes the file."""
    city = bare_city
    good = make_person()
    wrong_sex = make_person()
    wrong_sex.sex = "F" if wrong_sex.sex == "M" else "M"
    wrong_birth = make_person()
    wrong_birth.birth_date = "1985-06-15" if wrong_birth.birth_date != "1985-06-15" else "1985-06-16"
    many = make_person()
    many.name, many.sex, many.phone = "", "F" if many.sex == "M" else "M", "12-34"
    many.division = "990101"
    rows = [good, wrong_sex, wrong_birth, many]  # lines 2..5
    r = city.import_file(city.write_csv(rows))
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("line ")]
    assert lines == [
        "line 3: sex: sex does not match the ID number (its 17th digit is odd for men, even for women)",
        "line 4: birth_date: birth_date does not match the birth date in the ID number",
        "line 5: name: name must not be empty",
        "line 5: sex: sex does not match the ID number (its 17th digit is odd for men, even for women)",
        "line 5: division: division is not a known GB/T 2260 code",
        "line 5: phone: phone must be 7-15 digits",
    ], r.stderr
    assert "3 bad lines" in r.stderr, r.stderr  # lines, not errors, are counted
    for p in rows:
        assert p.id_number not in r.stderr and (not p.name or p.name not in r.stderr)
    city.start()
    assert_error(city.register(good), 422, "real_name_mismatch")  # nothing was loaded


def test_import_guardians_column(bare_city):
    """The optional seventh column names a person's guardians by ID number (at most two, separated by ';'); bad
    ones are named like any other field, and the numbers are kept only as blind indexes."""
    city = bare_city
    mum, dad, child, orphan = make_person(), make_person(), make_person(), make_person()
    child.guardians = [mum.id_number, dad.id_number.lower()]
    bad_check = make_person()
    bad_check.guardians = [mum.id_number[:17] + ("0" if mum.id_number[17] != "0" else "1")]
    self_named = make_person()
    self_named.guardians = [self_named.id_number]
    three = make_person()
    three.guardians = [mum.id_number, dad.id_number, child.id_number]
    rows = [mum, dad, child, orphan, bad_check, self_named, three]  # lines 2..8
    r = city.import_file(city.write_csv(rows))
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("line ")]
    assert lines == ["line 6: guardians: guardian 1: wrong check digit",
                     "line 7: guardians: guardian 1 is the person themself",
                     "line 8: guardians: guardians may name at most 2 people, separated by ';'"], r.stderr
    assert mum.id_number not in r.stderr

    r = city.import_file(city.write_csv([mum, dad, child, orphan]))
    assert r.returncode == 0, r.stderr
    raw = b"".join(f.read_bytes() for f in city.data.glob("suishen.db*"))
    for p in (mum, dad):
        assert p.id_number.encode() not in raw and p.id_number.lower().encode() not in raw
    c = sqlite3.connect(f"file:{city.data / 'suishen.db'}?mode=ro", uri=True)
    try:
        kept = c.execute("SELECT length(guardian_idx) FROM registry_guardians").fetchall()
    finally:
        c.close()
    assert kept == [(32,), (32,)], kept
    # a file of the old shape still loads, exactly as before
    r = city.import_file(city.write_csv([orphan], header=CSV_HEADER))
    assert r.returncode == 0, r.stderr
    city.start()
    for p in (mum, dad, child, orphan):
        assert city.register(p).status_code == 201


# -- shutdown and durability -----------------------------------------------------------------------------------------


def read_head(sock):
    """Reads one response head (up to the blank line); returns (status, head bytes, what followed)."""
    data = b""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in data:
        assert time.monotonic() < deadline
        chunk = sock.recv(65536)
        assert chunk, f"connection closed: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, rest


def test_sigterm_exits_zero_promptly_with_idle_connection(fresh_city):
    city = fresh_city
    with socket.create_connection(("127.0.0.1", city.port), timeout=10) as s:
        s.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{city.port}\r\n\r\n".encode())
        status, _, _ = read_head(s)
        assert status == 200
        # the connection stays open (keep-alive) and idle
        t0 = time.monotonic()
        city.proc.send_signal(signal.SIGTERM)
        rc = city.proc.wait(timeout=5)
        assert rc == 0
        assert time.monotonic() - t0 < 5
        city.proc = None


def test_request_in_flight_at_sigterm_completes(fresh_city):
    city = fresh_city
    p = city.new_person()
    city.remember_person(p)
    body = json.dumps(p.body(), ensure_ascii=False).encode()
    head = (f"POST /v1/citizens HTTP/1.1\r\nHost: 127.0.0.1:{city.port}\r\nContent-Type: application/json\r\n"
            f"X-Channel: app\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", city.port), timeout=10) as s:
        s.sendall(head)
        # 100 Continue: the server has the request in hand and waits for its body
        status, _, _ = read_head(s)
        assert status == 100
        city.proc.send_signal(signal.SIGTERM)
        s.sendall(body)
        status, resp_head, rest = read_head(s)
        assert status == 201, resp_head + rest
    assert city.proc.wait(timeout=15) == 0
    city.proc = None
    city.start()
    assert_error(city.register(p), 409, "conflict")


def test_registration_survives_kill_9(fresh_city):
    city = fresh_city
    p = city.register_new()
    city.kill()
    city.start()
    city.login_ok(p)
    assert_error(city.register(p), 409, "conflict")
