"""Staff: `suishen staff create`, GET /v1/staff/me and POST /v1/staff/staff.

Covers the command line for every role (one JSON line with an integer staff id and a token; an unknown role exits
non-zero and hands out nothing), the staff profile with a staff token (and 401 with a citizen token, a bad token or
none), and creating staff over HTTP: admin only (403 permission_denied for every other role, 401 without a token),
a bad role or name is 400, and a new member's token works at once.
"""
import json

import pytest

from conftest import ROLES, assert_error


def staff_me(city, token):
    r = city.get("/v1/staff/me", token=token)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    return r.json()


def check_new_staff(body):
    assert isinstance(body["staff_id"], int) and not isinstance(body["staff_id"], bool)
    assert isinstance(body["token"], str) and len(body["token"]) >= 16


# -- the command line ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_cli_creates_each_role(city, role):
    made = city.staff[role]  # created by the fixture with `suishen staff create`
    check_new_staff(made)
    assert set(made) >= {"staff_id", "token"}


def test_cli_staff_ids_and_tokens_are_distinct(city):
    ids = [city.staff[r]["staff_id"] for r in ROLES]
    tokens = [city.staff[r]["token"] for r in ROLES]
    assert len(set(ids)) == len(ids) and len(set(tokens)) == len(tokens)


def test_cli_output_is_one_json_line(city):
    r = city.cli("staff", "create", "--data", city.data, "--name", "周敏", "--role", "operator")
    city.remember("周敏")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    body = json.loads(lines[0])
    assert set(body) == {"staff_id", "token"}
    check_new_staff(body)
    city.remember(body["token"])
    # made while the server runs: usable at once
    assert staff_me(city, body["token"]) == {"staff_id": body["staff_id"], "name": "周敏", "role": "operator"}


@pytest.mark.parametrize("role", ["boss", "ADMIN", "", "admin,security"])
def test_cli_unknown_role(city, role):
    r = city.cli("staff", "create", "--data", city.data, "--name", "吴刚", "--role", role)
    assert r.returncode != 0
    assert r.stderr.strip(), "no message on stderr"
    assert "token" not in r.stdout and r.stdout.strip() == "", "a token was handed out"


# -- GET /v1/staff/me ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_staff_me(city, role):
    made = city.staff[role]
    assert staff_me(city, made["token"]) == {"staff_id": made["staff_id"], "name": made["name"], "role": role}


def test_staff_me_with_citizen_token(city):
    p = city.register_new()
    assert_error(city.get("/v1/staff/me", token=city.login_ok(p)), 401, "unauthenticated")


@pytest.mark.parametrize("token", [None, "0" * 64, "garbage"])
def test_staff_me_without_valid_token(city, token):
    assert_error(city.get("/v1/staff/me", token=token), 401, "unauthenticated")


# -- POST /v1/staff/staff --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_admin_creates_staff(city, role):
    name = {"admin": "孙丽", "operator": "马超", "handler": "朱琳", "epidemiologist": "胡明", "security": "郭静"}[role]
    city.remember(name)
    r = city.post("/v1/staff/staff", {"name": name, "role": role}, token=city.staff["admin"]["token"])
    assert r.status_code == 201, r.text
    body = r.json()
    check_new_staff(body)
    city.remember(body["token"])
    assert staff_me(city, body["token"]) == {"staff_id": body["staff_id"], "name": name, "role": role}
    assert body["staff_id"] not in [city.staff[r]["staff_id"] for r in ROLES]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_admin_creates_staff(city, role):
    r = city.post("/v1/staff/staff", {"name": "冒名者", "role": "admin"}, token=city.staff[role]["token"])
    assert_error(r, 403, "permission_denied")


def test_create_staff_without_token(city):
    assert_error(city.post("/v1/staff/staff", {"name": "冒名者", "role": "admin"}), 401, "unauthenticated")


def test_create_staff_with_bad_token(city):
    assert_error(city.post("/v1/staff/staff", {"name": "冒名者", "role": "admin"}, token="0" * 64),
                 401, "unauthenticated")


def test_create_staff_with_citizen_token(city):
    p = city.register_new()
    r = city.post("/v1/staff/staff", {"name": "冒名者", "role": "admin"}, token=city.login_ok(p))
    assert_error(r, 401, "unauthenticated")


@pytest.mark.parametrize("role", ["boss", "", "Admin", 1, None, ["admin"]])
def test_create_staff_bad_role(city, role):
    r = city.post("/v1/staff/staff", {"name": "新人", "role": role}, token=city.staff["admin"]["token"])
    assert_error(r, 400, "invalid_argument", field="role")


def test_create_staff_missing_role(city):
    r = city.post("/v1/staff/staff", {"name": "新人"}, token=city.staff["admin"]["token"])
    assert_error(r, 400, "invalid_argument", field="role")


@pytest.mark.parametrize("name", [None, 7, "", "名" * 100], ids=["missing", "number", "empty", "300_bytes"])
def test_create_staff_bad_name(city, name):
    body = {"role": "operator"} if name is None else {"name": name, "role": "operator"}
    r = city.post("/v1/staff/staff", body, token=city.staff["admin"]["token"])
    assert_error(r, 400, "invalid_argument", field="name")
