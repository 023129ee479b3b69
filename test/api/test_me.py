"""GET /v1/me: the resident's own profile, masked.

Covers the masking rules (name: first character kept, every other character `*`; ID number: first 2 and last 2
characters; phone: first 3 and last 4 digits), that a token shows its own citizen and never another, and that no
token, a malformed or unknown token, or a staff token is 401 unauthenticated.
"""
import pytest

from conftest import assert_error


def mask_name(name):
    return name[0] + "*" * (len(name) - 1)


def mask_id(idn):
    return idn[:2] + "*" * 14 + idn[-2:]


def mask_phone(phone):
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def me(city, token):
    r = city.get("/v1/me", token=token)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    return r.json()


@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("欧阳小明", "欧***"), ("李四", "李*")])
def test_name_masking(city, name, masked):
    p = city.new_person(name=name)
    city.register_ok(p)
    body = me(city, city.login_ok(p))
    assert body["name"] == masked
    assert mask_name(p.name) == masked


def test_profile_is_masked(city):
    p = city.new_person()
    city.register_ok(p)
    body = me(city, city.login_ok(p))
    assert body["citizen_id"] == p.citizen_id
    assert body["name"] == mask_name(p.name)
    assert body["id_number"] == mask_id(p.id_number)
    assert len(body["id_number"]) == 18
    assert body["phone"] == mask_phone(p.phone)
    assert p.phone not in str(body) and p.id_number not in str(body)


def test_id_number_ending_in_x_is_masked_upper_case(city):
    p = city.new_person(want_x=True)
    city.register_ok(p, id_number=p.id_number.lower())
    body = me(city, city.login_ok(p))
    assert body["id_number"] == mask_id(p.id_number)
    assert body["id_number"].endswith("X")


@pytest.mark.parametrize("phone, masked", [("13800138000", "138****8000"), ("62345678", "623*5678"),
                                           ("008613912345678", "008********5678")])
def test_phone_masking(city, phone, masked):
    p = city.new_person()
    city.register_ok(p, phone=phone)
    assert me(city, city.login_ok(p))["phone"] == masked


def test_token_shows_only_its_own_citizen(city):
    a, b = city.new_person(name="张三"), city.new_person(name="欧阳小明")
    city.register_ok(a)
    city.register_ok(b, phone="13711112222")
    ta, tb = city.login_ok(a), city.login_ok(b)
    ma, mb = me(city, ta), me(city, tb)
    assert ma["citizen_id"] == a.citizen_id and mb["citizen_id"] == b.citizen_id
    assert a.citizen_id != b.citizen_id
    assert ma["id_number"] == mask_id(a.id_number) and mb["id_number"] == mask_id(b.id_number)
    assert ma["name"] == "张*" and mb["name"] == "欧***"
    assert ma["phone"] == mask_phone(a.phone) and mb["phone"] == "137****2222"
    # asking again with the first token still gives the first citizen
    assert me(city, ta) == ma


def test_no_token(city):
    assert_error(city.get("/v1/me"), 401, "unauthenticated")


@pytest.mark.parametrize("authorization", [
    "Bearer 0000000000000000000000000000000000000000000000000000000000000000",
    "Bearer not-a-token",
    "Bearer ",
    "Bearer",
    "Basic dXNlcjpwYXNz",
    "bearer-ish",
    "Bearer " + "a" * 10000,
], ids=["zeros", "garbage", "bearer_space", "bearer_alone", "basic", "no_scheme", "10k"])
def test_bad_token(city, authorization):
    assert_error(city.get("/v1/me", headers={"Authorization": authorization}), 401, "unauthenticated")


def test_token_with_a_changed_character(city):
    p = city.register_new()
    token = city.login_ok(p)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert_error(city.get("/v1/me", token=forged), 401, "unauthenticated")
    assert me(city, token)["citizen_id"] == p.citizen_id


@pytest.mark.parametrize("role", ["admin", "security"])
def test_staff_token_is_not_a_citizen_token(city, role):
    assert_error(city.get("/v1/me", token=city.staff[role]["token"]), 401, "unauthenticated")
