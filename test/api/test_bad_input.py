"""Hostile and malformed requests: always a 4xx in the one error shape, never a 5xx, never a crash, nothing written.

Covers malformed JSON, empty bodies, bodies that are not objects, invalid UTF-8 and escapes, deep nesting, bodies over
64 KiB (with Content-Length and chunked) against the writing endpoints, embedded NUL characters, unknown paths and
methods, and that the server answers /healthz afterwards (its clean exit at teardown is checked by the fixture).
"""
import json
import socket
import time

import pytest
import requests

from conftest import HTTP_TIMEOUT, assert_error

MALFORMED = {
    "empty": b"",
    "open_brace": b"{",
    "missing_value": b'{"name": }',
    "trailing_comma": b'{"name": "x",}',
    "array": b"[]",
    "array_of_object": b'[{"name": "x"}]',
    "string": b'"text"',
    "number": b"42",
    "null": b"null",
    "true": b"true",
    "single_quotes": b"{'name': 'x'}",
    "garbage": b"\x00\x01\x02garbage",
    "trailing_garbage": b'{"name": "x"} xyz',
    "deep_nesting": b"[" * 3000,  # past the parser's depth (2,048), within the routes' limits
    "deep_object": b'{"a":' * 700,
    "invalid_utf8": b'{"name": "\xff\xfe", "id_number": "1", "phone": "1", "password": "1"}',
    "lone_surrogate": b'{"name": "\\ud800", "id_number": "1", "phone": "1", "password": "1"}',
}


def healthy(city):
    r = requests.get(city.url("/healthz"), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_registration(city, case):
    p = city.new_person()
    r = city.request("POST", "/v1/citizens", data=MALFORMED[case], channel="app")
    assert_error(r, 400, "invalid_argument")
    healthy(city)
    assert city.register(p).status_code == 201


@pytest.mark.parametrize("case", ["empty", "open_brace", "array", "null", "deep_nesting", "invalid_utf8"])
def test_malformed_login(city, case):
    p = city.register_new()
    r = city.request("POST", "/v1/sessions", data=MALFORMED[case], channel="app")
    assert_error(r, 400, "invalid_argument")
    city.login_ok(p)


@pytest.mark.parametrize("case", ["empty", "open_brace", "array", "string", "deep_nesting", "invalid_utf8"])
def test_malformed_staff_creation(city, case):
    r = city.request("POST", "/v1/staff/staff", data=MALFORMED[case], token=city.staff["admin"]["token"])
    assert_error(r, 400, "invalid_argument")
    healthy(city)


def padded(body, size):
    """A valid JSON text of at least `size` bytes: the object, then whitespace (which JSON allows)."""
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return raw + b" " * max(0, size - len(raw))


def test_body_over_64_kib_refused(city):
    p = city.new_person()
    r = city.request("POST", "/v1/citizens", data=padded(p.body(), 70 * 1024), channel="app")
    assert_error(r, 413, "too_large")
    healthy(city)
    assert city.register(p).status_code == 201


def test_chunked_body_over_64_kib_refused(city):
    p = city.new_person()
    data = padded(p.body(), 70 * 1024)

    def chunks():
        for i in range(0, len(data), 4096):
            yield data[i:i + 4096]

    r = requests.post(city.url("/v1/citizens"), data=chunks(), timeout=HTTP_TIMEOUT,
                      headers={"Content-Type": "application/json", "X-Channel": "app"})
    assert_error(r, 413, "too_large")
    healthy(city)
    assert city.register(p).status_code == 201


def read_response(sock):
    """Reads one HTTP/1.1 response with a Content-Length; returns (status, lower-cased headers, body)."""
    data = b""
    deadline = time.monotonic() + HTTP_TIMEOUT
    while True:
        if b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
            if status == 100:
                data = body
                return status, headers, b""
            length = int(headers.get("content-length", "0"))
            if len(body) >= length:
                return status, headers, body[:length]
        assert time.monotonic() < deadline, data[:500]
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a whole answer: {data[:500]!r}"
        data += chunk


def test_huge_body_refused(city):
    """4 MiB announced with Expect: 100-continue: refused before or after the body is sent, never read whole."""
    p = city.new_person()
    body = padded(p.body(), 4 * 1024 * 1024)
    head = (f"POST /v1/citizens HTTP/1.1\r\nHost: 127.0.0.1:{city.port}\r\nContent-Type: application/json\r\n"
            f"X-Channel: app\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", city.port), timeout=HTTP_TIMEOUT) as s:
        s.sendall(head)
        status, headers, answer = read_response(s)
        if status == 100:
            try:
                s.sendall(body)
            except OSError:
                pass
            status, headers, answer = read_response(s)
    assert status == 413, answer
    assert headers.get("content-type", "").startswith("application/json")
    err = json.loads(answer)["error"]
    assert err["code"] == "too_large" and err["message"]
    healthy(city)
    assert city.register(p).status_code == 201


def test_login_body_over_64_kib_refused(city):
    p = city.register_new()
    body = {"id_number": p.id_number, "password": p.password, "otp": "000000"}
    r = city.request("POST", "/v1/sessions", data=padded(body, 70 * 1024), channel="app")
    assert_error(r, 413, "too_large")
    city.login_ok(p)


def test_body_at_the_registration_limit_accepted_and_past_it_refused(city):
    """A registration's limit is 4 KiB (a few hundred bytes, every character possibly escaped): its own, not one
    size for every route."""
    p = city.new_person()
    assert_error(city.request("POST", "/v1/citizens", data=padded(p.body(), 4097), channel="app"), 413, "too_large")
    r = city.request("POST", "/v1/citizens", data=padded(p.body(), 4096), channel="app")
    assert r.status_code == 201, r.text


def test_escaped_unicode_is_the_same_text(city):
    p = city.new_person(name="欧阳小明")
    raw = json.dumps(p.body(), ensure_ascii=True).encode("ascii")
    assert b"\\u" in raw
    r = city.request("POST", "/v1/citizens", data=raw, channel="app")
    assert r.status_code == 201, r.text


def test_nul_in_id_number(city):
    """Refused (as malformed JSON, or as a bad ID number), never read as the digits before the NUL."""
    p = city.new_person()
    for bad in (p.id_number + "\u0000junk", p.id_number[:10] + "\u0000" + p.id_number[11:]):
        err = assert_error(city.register(p, id_number=bad), 400, "invalid_argument")
        assert err.get("field") in (None, "id_number"), err
    assert city.register(p).status_code == 201


def test_nul_in_name_is_not_truncated(city):
    p = city.new_person()
    r = city.register(p, name=p.name + "\u0000" + "伪")
    assert r.status_code in (400, 422), f"a name with NUL was accepted: {r.status_code} {r.text}"
    assert_error(r, r.status_code, "invalid_argument" if r.status_code == 400 else "real_name_mismatch")
    assert city.register(p).status_code == 201


def test_nul_in_password_is_not_truncated(city):
    p = city.new_person()
    r = city.register(p, password="abcdefgh\u0000ijklmnop")
    if r.status_code == 400:  # refused as malformed JSON or as a bad password: fine
        err = assert_error(r, 400, "invalid_argument")
        assert err.get("field") in (None, "password"), err
        assert city.register(p).status_code == 201
        return
    assert r.status_code == 201, r.text
    city.adopt(p, r.json(), password="abcdefgh\u0000ijklmnop")
    # the part before the NUL is not the password
    assert_error(city.login(p, password="abcdefgh"), 401, "unauthenticated")


def test_unknown_path(city):
    for path in ("/nope", "/v1/citizens/1", "/v1/", "/v2/citizens", "/healthz/x"):
        assert_error(city.get(path), 404, "not_found")


def test_wrong_method(city):
    for method, path in (("GET", "/v1/citizens"), ("DELETE", "/v1/me"), ("PUT", "/v1/sessions"),
                         ("POST", "/healthz")):
        r = city.request(method, path, data=b"{}")
        assert r.status_code in (404, 405), f"{method} {path}: {r.status_code}"
        body = r.json()
        assert set(body) == {"error"} and body["error"]["code"] in ("not_found", "method_not_allowed")
    healthy(city)


def test_query_string_is_ignored_for_routing(city):
    r = requests.get(city.url("/healthz?verbose=1"), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
