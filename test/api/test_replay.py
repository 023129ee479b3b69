"""A signed request counts once, also across a restart (issue 11 item 5).

The nonce of a request whose effect is kept is kept with it in the same transaction (a scan's with its scan row, a
batch of records' with the records) and loaded back into the nonce cache at start, so a request replayed within the
300-s window after a clean restart or after `kill -9` is refused (401) and writes nothing: no second scan row (a
false sighting that tracing would use), no second batch.
"""
import sqlite3

from conftest import assert_error, get_code, make_terminal, records_count, resident, scan, scan_ok
from test_sources import ids, make_client, post_batch, rec


def scan_rows(city, terminal):
    """The scan rows of one terminal (read-only, beside the server or after it)."""
    db = sqlite3.connect(f"file:{city.data / 'suishen.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT scan_id FROM scans WHERE terminal_id = ? ORDER BY scan_id",
                          (terminal.terminal_id,)).fetchall()
    finally:
        db.close()


def replay(city, terminal, code, first):
    """The request `first` sent, byte for byte: the same body and the same signed headers."""
    return scan(city, terminal, code, replace=first.sent_headers)


def test_replayed_scan_refused_after_restart_and_kill_9(fresh_city):
    city = fresh_city
    term = make_terminal(city, scene="venue", place="重放测试体育馆")
    _, token = resident(city)
    code = get_code(city, token)["code"]

    first = scan(city, term, code)
    assert first.status_code == 200, first.text
    assert_error(replay(city, term, code, first), 401, "unauthenticated", "X-Nonce")  # the same run: memory
    rows = scan_rows(city, term)
    assert len(rows) == 1, rows

    city.restart()  # SIGTERM, exit 0, start again
    assert_error(replay(city, term, code, first), 401, "unauthenticated", "X-Nonce")
    assert scan_rows(city, term) == rows, "a replay after a restart wrote a scan row"

    second = scan(city, term, code)  # a new request is welcome
    assert second.status_code == 200, second.text
    rows = scan_rows(city, term)
    assert len(rows) == 2, rows
    city.kill()  # SIGKILL: nothing is flushed on the way out
    city.start()
    for sent in (first, second):
        assert_error(replay(city, term, code, sent), 401, "unauthenticated", "X-Nonce")
    assert scan_rows(city, term) == rows, "a replay after kill -9 wrote a scan row"
    assert scan_ok(city, term, code)["result"] == "green"  # and the terminal scans on
    assert len(scan_rows(city, term)) == 3


def test_replayed_batch_refused_after_restart(fresh_city):
    city = fresh_city
    client = make_client(city, "lab")
    who = ids(city, 2)
    records = [rec("replay-b1-0", "test_result", who[0], {"result": "negative"}),
               rec("replay-b1-1", "recovered", who[1])]
    first = post_batch(city, client, "lab", records)
    assert first.status_code == 200 and first.json() == {"accepted": 2, "duplicates": 0}, first.text
    kept = records_count(city)

    city.kill()
    city.start()
    again = post_batch(city, client, "lab", records, replace=first.sent_headers)
    assert_error(again, 401, "unauthenticated", "X-Nonce")
    assert records_count(city) == kept
    fresh = post_batch(city, client, "lab", records)  # the same records, newly signed: duplicates, not an error
    assert fresh.status_code == 200 and fresh.json() == {"accepted": 0, "duplicates": 2}, fresh.text
