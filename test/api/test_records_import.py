"""`suishen import records`: loading records from a data source (api.md, "Data sources").

Covers a good JSON Lines file and a good CSV file (exit 0, the counts printed), a file with bad lines 3, 7 and 9
(exit non-zero, each named by number with its field, nothing stored: the good lines imported afterwards are all new),
duplicates within a file and across imports from two sources (counted once), a --source that is not a source
(refused, nothing stored), the file format told by --format or by its first character, and what is stored: sealed,
with no record_id or ID number in the database in clear, and no personal data in the command's output.
"""
import json
import re
import sqlite3

import pytest

from conftest import make_person

OUTPUT = re.compile(r"imported (\d+) records \((\d+) duplicates ignored\) in \d+\.\d s")
CSV_HEADER = "record_id,kind,id_number,occurred_at,attributes"


def counts(r):
    """(inserted, duplicates) from a successful import's output."""
    assert r.returncode == 0, f"import failed ({r.returncode}): {r.stderr}"
    m = OUTPUT.fullmatch(r.stdout.strip())
    assert m, r.stdout
    return int(m.group(1)), int(m.group(2))


def stored(city):
    """Rows of the records table: (kind, source, occurred_at)."""
    db = sqlite3.connect(f"file:{city.data / 'suishen.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT kind, source, occurred_at FROM records ORDER BY record_seq").fetchall()
    finally:
        db.close()


def bad_lines(stderr):
    """{line number: (field or None, reason)} of the `line N: ...` lines of a refusal."""
    out = {}
    for ln in stderr.splitlines():
        m = re.fullmatch(r"line (\d+): (?:([A-Za-z_.]+): )?(.+)", ln)
        if m:
            out[int(m.group(1))] = (m.group(2), m.group(3))
    return out


def record(rid, kind, id_number, at="2026-03-01T08:00:00Z", attributes=None):
    r = {"record_id": rid, "kind": kind, "id_number": id_number, "occurred_at": at}
    if attributes is not None:
        r["attributes"] = attributes
    return r


def write_jsonl(city, name, records):
    path = city.root / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def csv_field(text):
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def write_csv(city, name, rows):
    lines = [CSV_HEADER]
    for r in rows:
        attrs = "" if r.get("attributes") is None else json.dumps(r["attributes"], ensure_ascii=False)
        lines.append(",".join(csv_field(v) for v in (r["record_id"], r["kind"], r["id_number"], r["occurred_at"],
                                                      attrs)))
    path = city.root / name
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def import_records(city, path, source="lab", *extra):
    return city.cli("import", "records", "--data", city.data, "--source", source, *extra, path)


def people(city, n):
    ps = [make_person() for _ in range(n)]
    for p in ps:
        city.remember_person(p)
    return ps


def one_of_each(ids):
    """One good record of every kind, about the people whose ID numbers are ids (cycled)."""
    kinds = [
        ("confirmed_case", None), ("suspected_case", {}), ("recovered", None), ("close_contact", None),
        ("secondary_contact", None), ("quarantine_start", None), ("quarantine_end", {}),
        ("risk_area_visit", {"area": "310101", "level": "high"}), ("test_result", {"result": "negative"}),
        ("vaccination", {"dose": 3}), ("inbound_travel", {"origin": "新加坡"}),
        ("health_declaration", {"temperature": 36.8, "symptoms": ["cough"]}),
        ("trip_declaration", {"places": ["310115", "320581"]}),
        ("manual_override", {"color": "yellow", "until": "2026-03-08T08:00:00Z"}),
    ]
    return [record(f"each-{i}-{ids[0][-6:]}", k, ids[i % len(ids)], attributes=a) for i, (k, a) in enumerate(kinds)]


def test_good_jsonl_file(bare_city):
    city = bare_city
    ids = [p.id_number for p in people(city, 3)]
    path = write_jsonl(city, "good.jsonl", one_of_each(ids))
    assert counts(import_records(city, path, "national")) == (14, 0)
    rows = stored(city)
    assert len(rows) == 14
    assert {k for k, _, _ in rows} == {r["kind"] for r in one_of_each(ids)}
    assert {s for _, s, _ in rows} == {"national"}


def test_good_csv_file(bare_city):
    city = bare_city
    ids = [p.id_number for p in people(city, 2)]
    path = write_csv(city, "good.csv", one_of_each(ids))
    assert counts(import_records(city, path, "province:32")) == (14, 0)
    assert {s for _, s, _ in stored(city)} == {"province:32"}
    # the occurred_at of every row is the time written, in unix seconds
    assert {t for _, _, t in stored(city)} == {1772352000}


def test_format_told_or_found(bare_city):
    city = bare_city
    ids = [p.id_number for p in people(city, 1)]
    recs = one_of_each(ids)[:2]
    # JSON Lines with a byte-order mark and blank lines before it: found by its first character
    path = city.root / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf\n\n" + "".join(json.dumps(r) + "\n" for r in recs).encode())
    assert counts(import_records(city, path)) == (2, 0)
    # told: a CSV file given as JSON Lines is refused at its first line
    csv_path = write_csv(city, "told.csv", [record("told-1", "recovered", ids[0])])
    r = import_records(city, csv_path, "lab", "--format", "jsonl")
    assert r.returncode != 0
    bad = bad_lines(r.stderr)
    assert set(bad) == {1, 2}, r.stderr
    assert bad[1][1].startswith("malformed JSON") and "line 1" not in bad[2][1]
    assert counts(import_records(city, csv_path, "lab", "--format", "csv")) == (1, 0)


def test_bad_lines_refused_and_nothing_stored(bare_city):
    city = bare_city
    ps = people(city, 10)
    good, lines = [], []
    for i, p in enumerate(ps, start=1):
        r = record(f"bad-test-{i}", "recovered", p.id_number)
        if i == 3:
            right = p.id_number[17]
            r["id_number"] = p.id_number[:17] + ("1" if right == "0" else "0")  # a wrong check digit
        elif i == 7:
            r["kind"] = "teleported"
        elif i == 9:
            r["occurred_at"] = "2099-01-01T00:00:00Z"  # in the future
        else:
            good.append(r)
        lines.append(r)
    path = write_jsonl(city, "bad.jsonl", lines)
    r = import_records(city, path)
    assert r.returncode != 0
    assert r.stdout.strip() == ""
    bad = bad_lines(r.stderr)
    assert set(bad) == {3, 7, 9}, r.stderr
    assert bad[3][0] == "id_number" and "check digit" in bad[3][1]
    assert bad[7][0] == "kind"
    assert bad[9][0] == "occurred_at" and "future" in bad[9][1]
    assert "3 bad lines: nothing was imported" in r.stderr
    # no ID number, right or wrong, is repeated in the output
    for p in ps:
        assert p.id_number[:17] not in r.stderr
    assert stored(city) == []
    # nothing was kept: the good lines alone are all new, not duplicates
    assert counts(import_records(city, write_jsonl(city, "good.jsonl", good))) == (7, 0)
    assert len(stored(city)) == 7


def test_bad_csv_lines_named_by_line_number(bare_city):
    city = bare_city
    ps = people(city, 4)
    rows = [record(f"csv-bad-{i}", "vaccination", p.id_number, attributes={"dose": 1}) for i, p in enumerate(ps)]
    rows[1]["attributes"] = {"dose": 11}
    rows[3]["attributes"] = {"dose": 1, "lot": "A7"}
    path = write_csv(city, "bad.csv", rows)
    r = import_records(city, path)
    assert r.returncode != 0
    bad = bad_lines(r.stderr)
    # the header is line 1
    assert set(bad) == {3, 5}, r.stderr
    assert bad[3][0] == "attributes.dose" and "between 1 and 10" in bad[3][1]
    assert bad[5][0] == "attributes.lot"
    assert stored(city) == []


def test_duplicates_count_once(bare_city):
    city = bare_city
    ids = [p.id_number for p in people(city, 3)]
    first = [record("dup-1", "close_contact", ids[0]), record("dup-2", "close_contact", ids[1]),
             record("dup-1", "close_contact", ids[0])]  # repeated within the file: not an error
    assert counts(import_records(city, write_jsonl(city, "a.jsonl", first), "cdc")) == (2, 1)
    # another source sends one of them again, with one new record
    second = [record("dup-2", "close_contact", ids[1]), record("dup-3", "test_result", ids[2],
                                                                attributes={"result": "positive"})]
    assert counts(import_records(city, write_csv(city, "b.csv", second), "trace")) == (1, 1)
    # the same file again changes nothing
    assert counts(import_records(city, write_csv(city, "b.csv", second), "trace")) == (0, 2)
    rows = stored(city)
    assert len(rows) == 3
    assert [s for _, s, _ in rows] == ["cdc", "cdc", "trace"]  # the first kept wins


@pytest.mark.parametrize("source", ["hospital", "LAB", "province:99", "province:3101", "province:", ""])
def test_unknown_source_refused(bare_city, source):
    city = bare_city
    ids = [p.id_number for p in people(city, 1)]
    path = write_jsonl(city, "s.jsonl", [record("src-1", "recovered", ids[0])])
    r = import_records(city, path, source)
    assert r.returncode != 0
    assert "source" in r.stderr
    assert stored(city) == []


def test_known_sources_accepted(bare_city):
    city = bare_city
    ids = [p.id_number for p in people(city, 1)]
    sources = ["national", "province:31", "province:320581", "cdc", "lab", "airline", "railway", "self", "staff",
               "appeal", "trace"]
    for i, s in enumerate(sources):
        path = write_jsonl(city, f"s{i}.jsonl", [record(f"ok-src-{i}", "recovered", ids[0])])
        assert counts(import_records(city, path, s)) == (1, 0), s
    assert [s for _, s, _ in stored(city)] == sources


def test_stored_sealed(bare_city):
    city = bare_city
    p = people(city, 1)[0]
    path = write_jsonl(city, "sealed.jsonl", [
        record("SEALED-RECORD-ID-7f3a", "inbound_travel", p.id_number, attributes={"origin": "Atlantis-City"})])
    assert counts(import_records(city, path)) == (1, 0)
    blob = b"".join(f.read_bytes() for f in city.data.iterdir() if f.name.startswith("suishen.db"))
    for secret in (p.id_number, "SEALED-RECORD-ID-7f3a", "Atlantis-City"):
        assert secret.encode() not in blob, secret


def test_usage(bare_city):
    city = bare_city
    ids = [p.id_number for p in people(city, 1)]
    path = write_jsonl(city, "u.jsonl", [record("use-1", "recovered", ids[0])])
    r = city.cli("import", "records", "--data", city.data, path)  # no --source
    assert r.returncode == 2
    r = city.cli("import", "records", "--data", city.data, "--source", "lab", "--format", "xml", path)
    assert r.returncode == 2
    r = city.cli("import", "population", "--data", city.data, "--source", "lab", path)
    assert r.returncode == 2
    assert stored(city) == []
