"""Status assignment from records (issue 4): `suishen rules load|show`, and a record that colours a resident.

Covers a rule file with errors (exit 1, every error named by its line number, the active set unchanged), a good file
(stored and active, its version printed), and the whole path of a record: a `close_contact` imported with
`suishen import records` while the server runs re-evaluates the resident in the importing process; the running
server follows the stored change on SIGHUP (or within its 10-s housekeeping), so the next scan answers red;
GET /v1/me/status shows the rule's reason (Chinese and English), the kind and date of the record but not its source,
and review_at (the contact's date plus 14 days); GET /v1/me/status/history lists the change.
"""
import datetime as dt
import json
import re
import signal
import time

import pytest

from conftest import BAD_RULES, REPO, get_code, make_terminal, my_status, parse_time, resident, scan_result

DEADLINE = 20.0  # seconds to wait for the server to follow a change (SIGHUP, else housekeeping every 10 s)


def rules_show(city):
    r = city.cli("rules", "show", "--data", city.data)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_bad_rule_file_changes_nothing(city):
    before = rules_show(city)
    bad = city.root / "bad.rules"
    bad.write_text(BAD_RULES, encoding="utf-8")
    r = city.cli("rules", "load", "--data", city.data, bad)
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = {int(m.group(1)) for m in re.finditer(r"^line (\d+): ", r.stdout, re.M)}
    assert 3 in lines and 9 in lines, r.stdout
    assert rules_show(city) == before


def test_good_rule_file_becomes_active(city):
    text = (REPO / "rules" / "default.rules").read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^version .*$", "version test-2026.9", text, count=1)
    assert n == 1
    good = city.root / "good.rules"
    good.write_text(text, encoding="utf-8")
    r = city.cli("rules", "load", "--data", city.data, good)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.strip() == "test-2026.9"
    assert rules_show(city) == text.strip()


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_close_contact_turns_red_with_reasons(city):
    term = make_terminal(city, scene="community", place="规则测试小区")
    person, token = resident(city)
    assert scan_result(city, term, get_code(city, token)["code"]) == "green"

    contact = int(time.time()) - 86400
    path = city.root / "cc.jsonl"
    path.write_text(json.dumps({"record_id": f"cc-{person.id_number[-6:]}", "kind": "close_contact",
                                "id_number": person.id_number, "occurred_at": iso(contact)}) + "\n",
                    encoding="utf-8")
    r = city.cli("import", "records", "--data", city.data, "--source", "cdc", path)
    assert r.returncode == 0, r.stderr
    assert "re-evaluated 1 people: 1 changed" in r.stderr, r.stderr

    city.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + DEADLINE
    while True:
        result = scan_result(city, term, get_code(city, token)["code"])
        if result == "red" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert result == "red"

    body = my_status(city, token)
    assert body["color"] == "red", body
    assert parse_time(body["review_at"]) == contact + 14 * 86400, body
    assert [x["rule"] for x in body["reasons"]] == ["red.close-contact"], body
    reason = body["reasons"][0]
    assert reason["text"] == "密切接触者，尚未解除隔离", body
    assert reason["text_en"].startswith("Close contact"), body
    assert reason["records"] == [{"kind": "close_contact", "occurred_at": iso(contact)}], body
    assert "cdc" not in json.dumps(body), body  # never who reported it

    r = city.get("/v1/me/status/history", token=token)
    assert r.status_code == 200, r.text
    changes = r.json()["changes"]
    assert len(changes) == 1, changes
    assert changes[0]["color"] == "red" and changes[0]["rule"] == "red.close-contact", changes
    assert changes[0]["reasons"][0]["rule"] == "red.close-contact", changes
    parse_time(changes[0]["since"])


def test_record_about_someone_not_registered_waits(city):
    outsider = city.outsider()
    path = city.root / "outsider.jsonl"
    path.write_text(json.dumps({"record_id": f"out-{outsider.id_number[-6:]}", "kind": "close_contact",
                                "id_number": outsider.id_number, "occurred_at": iso(int(time.time()) - 3600)})
                    + "\n", encoding="utf-8")
    r = city.cli("import", "records", "--data", city.data, "--source", "cdc", path)
    assert r.returncode == 0, r.stderr
    assert "re-evaluated 1 people: 0 changed" in r.stderr, r.stderr
    # once the registry has them, the import that adds them colours them from the record that waited
    r = city.import_people([outsider])
    assert "re-evaluated 1 new people with records: 1 changed" in r.stderr, r.stderr
    city.proc.send_signal(signal.SIGHUP)  # the running server follows the stored colour
    city.register_ok(outsider)
    token = city.login_ok(outsider)
    st = my_status(city, token)
    assert st["color"] == "red" and st["reasons"][0]["rule"] == "red.close-contact", st
    term = make_terminal(city, scene="venue", place="等待记录体育馆")
    end = time.time() + DEADLINE
    while scan_result(city, term, get_code(city, token)["code"]) != "red":
        assert time.time() < end, "the server did not follow the colour the population import gave"
        time.sleep(0.2)
    # importing people again (same or new) re-evaluates only the people it added
    again = city.new_person()
    r = city.import_people([again])
    assert "re-evaluated 0 new people with records: 0 changed" in r.stderr, r.stderr


def stricter_default(version):
    """The default rule set with a secondary contact made red instead of yellow."""
    text = (REPO / "rules" / "default.rules").read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^version .*$", f"version {version}", text, count=1)
    assert n == 1
    text, n = re.subn(r"(rule yellow\.secondary-contact\n\s+color) yellow", r"\1 red", text)
    assert n == 1
    return text


def test_diff_then_load_applies_what_it_said(fresh_city):
    """What-if (issue 4 item 6): the diff, by API and command line, counts the move that `rules load` then makes."""
    city = fresh_city
    term = make_terminal(city, scene="community", place="规则比较小区")
    contact, token = resident(city)
    calm, _ = resident(city)
    lines = [{"record_id": f"sc-{contact.id_number[-6:]}", "kind": "secondary_contact",
              "id_number": contact.id_number, "occurred_at": iso(int(time.time()) - 86400)},
             {"record_id": f"hd-{calm.id_number[-6:]}", "kind": "health_declaration",
              "id_number": calm.id_number, "occurred_at": iso(int(time.time()) - 3600),
              "attributes": {"temperature": 36.5, "symptoms": []}}]
    path = city.root / "diff.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    r = city.cli("import", "records", "--data", city.data, "--source", "cdc", path)
    assert r.returncode == 0, r.stderr
    assert "re-evaluated 2 people: 1 changed" in r.stderr, r.stderr
    city.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + DEADLINE
    while (result := scan_result(city, term, get_code(city, token)["code"])) != "yellow" \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert result == "yellow"

    text = stricter_default("strict-2026.10")
    r = city.post("/v1/staff/rules/diff", {"rules": text}, token=city.staff["admin"]["token"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == "strict-2026.10", body
    assert body["changes"] == [{"from": "yellow", "to": "red", "count": 1}], body
    assert [d["division"] for d in body["by_district"]] == [contact.division], body
    assert body["by_district"][0]["changes"] == [{"from": "yellow", "to": "red", "count": 1}], body
    assert body["by_district"][0].get("name"), body

    r = city.post("/v1/staff/rules/diff", {"rules": text}, token=city.staff["operator"]["token"])
    assert r.status_code == 403, r.text

    bad = "version broken-2\nrule red.x\n    color purple\n    when close_contact within 14d\n" \
          "    reason zh 测试\n    reason en test\n"
    r = city.post("/v1/staff/rules/diff", {"rules": bad}, token=city.staff["admin"]["token"])
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "errors"}, body
    assert body["error"]["code"] == "invalid_argument", body
    assert body["error"]["message"] == "the rule file has 1 error", body
    assert [e["line"] for e in body["errors"]] == [3], body
    assert "purple" in body["errors"][0]["message"], body

    # the command line says the same and changes nothing
    path = city.root / "strict.rules"
    path.write_text(text, encoding="utf-8")
    before = rules_show(city)
    r = city.cli("rules", "diff", "--data", city.data, path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "yellow->red: 1" in r.stdout, r.stdout
    assert "1 would change colour" in r.stdout, r.stdout
    assert contact.division in r.stdout, r.stdout
    assert rules_show(city) == before
    assert scan_result(city, term, get_code(city, token)["code"]) == "yellow"

    badpath = city.root / "broken.rules"
    badpath.write_text(bad, encoding="utf-8")
    r = city.cli("rules", "diff", "--data", city.data, badpath)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert re.search(r"(?m)^line 3: ", r.stdout), r.stdout

    # applying it is one command, and the running server follows
    r = city.cli("rules", "load", "--data", city.data, path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.strip() == "strict-2026.10"
    assert "re-evaluated 2 people: 1 changed" in r.stderr, r.stderr
    city.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + DEADLINE
    while (result := scan_result(city, term, get_code(city, token)["code"])) != "red" \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert result == "red"
    assert my_status(city, token)["reasons"][0]["rule"] == "yellow.secondary-contact"
