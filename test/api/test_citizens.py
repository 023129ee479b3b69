"""POST /v1/citizens: real-name registration against the population registry.

Covers the success answer (citizen id, otpauth URI) on every channel, the GB 11643 checks of the ID number, the
registry check (422 real_name_mismatch), duplicates (409), the size and format of password, phone and name, missing
members and wrong types, the X-Channel header, and that every refused registration writes nothing (the same person
registers correctly afterwards, or the first registration still logs in).
"""
import base64
import datetime as dt
import re
import urllib.parse

import pytest

from conftest import CHANNELS, MISSING, assert_error, make_id_number, secret_of, totp, wrong_check_char

BASE32 = re.compile(r"^[A-Z2-7]+=*$")


def check_created(resp):
    assert resp.status_code == 201, f"{resp.status_code} {resp.text}"
    assert resp.headers.get("Content-Type", "").startswith("application/json")
    body = resp.json()
    assert isinstance(body["citizen_id"], int) and not isinstance(body["citizen_id"], bool)
    uri = body["totp_uri"]
    assert isinstance(uri, str) and uri.startswith("otpauth://totp/"), uri
    parts = urllib.parse.urlsplit(uri)
    q = urllib.parse.parse_qs(parts.query)
    assert set(q) >= {"secret", "algorithm", "digits", "period"}, uri
    assert q["algorithm"] == ["SHA1"] and q["digits"] == ["6"] and q["period"] == ["30"], uri
    secret = q["secret"][0]
    assert BASE32.match(secret), uri
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert len(key) >= 16, "RFC 4226: the shared secret is at least 128 bits"
    return body


# -- success ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_register_on_each_channel(city, channel):
    p = city.new_person()
    body = check_created(city.register(p, channel=channel))
    assert body["citizen_id"] > 0
    city.adopt(p, body)
    city.login_ok(p)


def test_register_without_channel_defaults_to_web(city):
    p = city.new_person()
    check_created(city.register(p, channel=None))


def test_citizen_ids_and_secrets_are_distinct(city):
    a, b = city.new_person(), city.new_person()
    ba, bb = check_created(city.register(a)), check_created(city.register(b))
    assert ba["citizen_id"] != bb["citizen_id"]
    assert secret_of(ba["totp_uri"]) != secret_of(bb["totp_uri"])


def test_totp_uri_drives_the_second_factor(city):
    p = city.new_person()
    city.register_ok(p)
    city.login_ok(p, otp=totp(p.secret))


def test_lowercase_x_check_char_is_read_as_X(city):
    p = city.new_person(want_x=True)
    assert p.id_number.endswith("X")
    check_created(city.register(p, id_number=p.id_number.lower()))
    # the same person, upper case: already registered
    assert_error(city.register(p), 409, "conflict")


def test_lowercase_x_registration_logs_in_with_uppercase(city):
    p = city.new_person(want_x=True)
    city.register_ok(p, id_number=p.id_number[:17] + "x")
    city.login_ok(p, id_number=p.id_number.upper())


@pytest.mark.parametrize("password", ["12345678", "p" * 128, "密码密码密码密码"], ids=["8_bytes", "128_bytes", "8_chars_24_bytes"])
def test_password_length_bounds_accepted(city, password):
    p = city.new_person()
    city.register_ok(p, password=password)
    city.login_ok(p)


@pytest.mark.parametrize("phone", ["1234567", "123456789012345", "+8613800138000"])
def test_phone_formats_accepted(city, phone):
    p = city.new_person()
    check_created(city.register(p, phone=phone))


# -- the ID number ---------------------------------------------------------------------------------------------------


BAD_ID_CASES = ("short", "long", "empty", "letters", "letter_in_check_position", "wrong_check_digit",
                "impossible_date", "month_13", "future_birth_date", "unknown_division", "spaces", "fullwidth_digits")


def bad_ids(p):
    year = dt.date.today().year
    return {
        "short": p.id_number[:17],
        "long": p.id_number + "1",
        "empty": "",
        "letters": p.id_number[:6] + "ABCD" + p.id_number[10:],
        "letter_in_check_position": p.id_number[:17] + "A",
        "wrong_check_digit": wrong_check_char(p.id_number),
        "impossible_date": make_id_number(p.division, "19990230", 123),
        "month_13": make_id_number(p.division, "19991301", 123),
        "future_birth_date": make_id_number(p.division, f"{year + 1}0101", 123),
        "unknown_division": make_id_number("990101", p.birth_date.replace("-", ""), 123),
        "spaces": " " + p.id_number[1:],
        "fullwidth_digits": "３" + p.id_number[1:],
    }


@pytest.mark.parametrize("case", BAD_ID_CASES)
def test_invalid_id_number(city, case):
    p = city.new_person()
    bad = bad_ids(p)[case]
    assert_error(city.register(p, id_number=bad), 400, "invalid_argument", field="id_number")
    # nothing was written: the person registers with the right number
    check_created(city.register(p))


# -- the registry ----------------------------------------------------------------------------------------------------


def test_name_not_matching_registry(city):
    p = city.new_person()
    other = "王" + p.name[1:] if not p.name.startswith("王") else "李" + p.name[1:]
    assert_error(city.register(p, name=other), 422, "real_name_mismatch")
    check_created(city.register(p))


def test_name_of_another_resident(city):
    p, q = city.new_person(name="张三"), city.new_person(name="李四")
    assert_error(city.register(p, name=q.name), 422, "real_name_mismatch")
    assert_error(city.register(q, name=p.name), 422, "real_name_mismatch")
    check_created(city.register(p))
    check_created(city.register(q))


def test_number_not_in_registry(city):
    p = city.outsider()
    assert_error(city.register(p), 422, "real_name_mismatch")


def test_registered_twice_is_conflict(city):
    p = city.new_person()
    city.register_ok(p)
    assert_error(city.register(p, password="another-password-9"), 409, "conflict")
    assert_error(city.register(p, channel="wechat", phone="13912345678"), 409, "conflict")
    # the first registration stands: its password logs in, the refused one does not
    assert city.login(p, password="another-password-9").status_code == 401
    city.login_ok(p)


# -- the other members -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["", "1234567", "p" * 129, "密" * 43],
                         ids=["empty", "7_bytes", "129_bytes", "43_chars_129_bytes"])
def test_password_length_refused(city, password):
    p = city.new_person()
    assert_error(city.register(p, password=password), 400, "invalid_argument", field="password")
    check_created(city.register(p))


@pytest.mark.parametrize("phone", ["", "123456", "1234567890123456", "1380013800a", "138-0013-8000",
                                   "++8613800138000", "8613800138000+", "+", " 13800138000", "１３８００１３８０００"])
def test_phone_format_refused(city, phone):
    p = city.new_person()
    assert_error(city.register(p, phone=phone), 400, "invalid_argument", field="phone")
    check_created(city.register(p))


@pytest.mark.parametrize("name", ["", "张" * 22, "a" * 65], ids=["empty", "66_bytes_utf8", "65_bytes_ascii"])
def test_name_size_refused(city, name):
    p = city.new_person()
    assert_error(city.register(p, name=name), 400, "invalid_argument", field="name")
    check_created(city.register(p))


@pytest.mark.parametrize("member", ["name", "id_number", "phone", "password"])
def test_missing_member(city, member):
    p = city.new_person()
    assert_error(city.register(p, **{member: MISSING}), 400, "invalid_argument", field=member)
    check_created(city.register(p))


@pytest.mark.parametrize("member", ["name", "id_number", "phone", "password"])
def test_wrong_type(city, member):
    p = city.new_person()
    good = p.body()[member]
    for bad in (12345678, None, [good], {"v": good}, True, 1.5):
        assert_error(city.register(p, **{member: bad}), 400, "invalid_argument", field=member)
    check_created(city.register(p))


def test_id_number_as_a_json_number(city):
    p = city.new_person()
    while p.id_number.endswith("X"):
        p = city.new_person()
    assert_error(city.register(p, id_number=int(p.id_number)), 400, "invalid_argument", field="id_number")
    check_created(city.register(p))


# -- the channel header ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["fax", "webapp", "app,web"])
def test_invalid_channel(city, channel):
    p = city.new_person()
    assert_error(city.register(p, channel=channel), 400, "invalid_argument", field="X-Channel")
    check_created(city.register(p, channel="app"))
