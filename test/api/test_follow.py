"""A running server follows what other processes write to its data directory (issue 11 item 1).

A person coloured red by `suishen import records` while the server runs, who then registers, scans red from the
first scan (registration takes the stored colour; it used to make every new holder green until the server next
followed the store, up to 10 s later). And the server sees another process's writes without SIGHUP and without its
housekeeping: it asks the store (SQLite's data_version) several times a second whether another process wrote, and
follows colours, keys and the rule set when one did. The test runs the server with an hour between housekeepings,
so only that can bring the change, and polls for it with a generous deadline (it does not time the server).
"""
import json
import time

from conftest import get_code, make_terminal, my_status, poll, resident, scan_ok, scan_result, verify_cli

DEADLINE = 30.0  # seconds: generous for a loaded machine; the next housekeeping is an hour away


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def import_close_contact(city, person, tag):
    path = city.root / f"cc-{tag}.jsonl"
    path.write_text(json.dumps({"record_id": f"cc-{tag}-{person.id_number[-6:]}", "kind": "close_contact",
                                "id_number": person.id_number, "occurred_at": iso(time.time() - 3600)}) + "\n",
                    encoding="utf-8")
    r = city.cli("import", "records", "--data", city.data, "--source", "cdc", path)
    assert r.returncode == 0, r.stderr
    assert "re-evaluated 1 people: 1 changed" in r.stderr, r.stderr


def test_coloured_before_registering_scans_red_at_once(city):
    term = make_terminal(city, scene="checkpoint", place="先红后注册检查点")
    person = city.new_person()  # in the registry, not registered
    import_close_contact(city, person, "before")
    city.register_ok(person)
    token = city.login_ok(person)
    assert my_status(city, token)["color"] == "red"
    # the very first scan, with no wait: the code's holder is red in memory as in the store
    assert scan_result(city, term, get_code(city, token)["code"]) == "red"


def test_other_process_writes_reach_the_server_without_sighup(fresh_city):
    city = fresh_city
    city.stop()
    city.start(extra_args=("--housekeeping", "3600"))
    term = make_terminal(city, scene="venue", place="跟随测试体育馆")
    person, token = resident(city)
    assert scan_result(city, term, get_code(city, token)["code"]) == "green"

    # a colour set by another process
    import_close_contact(city, person, "after")
    poll(lambda: scan_result(city, term, get_code(city, token)["code"]) == "red", DEADLINE, interval=0.1,
         what="the server following a colour imported beside it")

    # keys rotated, then retired, by another process
    old = get_code(city, token)["code"]
    old_key = verify_cli(city, old)["key_id"]
    r = city.cli("keys", "rotate", "--data", city.data)
    assert r.returncode == 0, r.stderr
    poll(lambda: verify_cli(city, get_code(city, token)["code"])["key_id"] != old_key, DEADLINE, interval=0.1,
         what="codes under the key rotated beside the server")
    r = city.cli("keys", "retire", "--data", city.data, "--id", old_key)
    assert r.returncode == 0, r.stderr
    last = poll(lambda: (lambda b: b if b["result"] == "invalid" else None)(scan_ok(city, term, old)), DEADLINE,
                interval=0.1, what="the server refusing a code of the key retired beside it")
    assert "person" not in last, last
