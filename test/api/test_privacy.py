"""Personal data at rest and in logs.

After residents register, log in and read their profile, no file in the data directory (the database, its WAL and
shared-memory files, whatever else is there) holds any resident's ID number, name (UTF-8) or phone number in clear,
nor a password: checked while the server runs (the WAL not yet checkpointed) and again after it stopped. The same
holds for people who are only in the population registry. The server's log is checked for the same data (and for
tokens and TOTP secrets) at the teardown of every city (see conftest.py).
"""
import pytest

from conftest import _city


def data_files(city):
    files = {}
    for path in sorted(city.data.rglob("*")):
        if path.is_file():
            files[str(path.relative_to(city.data))] = path.read_bytes()
    assert files, "the data directory is empty"
    return files


def needles(people, with_password=True):
    out = []
    for p in people:
        out += [p.id_number.encode(), p.id_number.lower().encode(), p.name.encode("utf-8"), p.phone.encode()]
        # the digits of the ID number without its check character, and the birth date part as written in the number
        out.append(p.id_number[:17].encode())
        if with_password:
            out.append(p.password.encode())
    return out


def assert_not_in_files(city, people, with_password=True):
    files = data_files(city)
    found = [(name, n.decode("utf-8")) for name, data in files.items() for n in needles(people, with_password)
             if n in data]
    assert not found, f"personal data in clear in the data directory: {found}"


@pytest.fixture(scope="module")
def residents(tmp_path_factory):
    c = _city(tmp_path_factory.mktemp("privacy"), pool=12)
    people = []
    for name, phone in (("欧阳小明", "13812345678"), ("李四", "13698765432")):
        p = c.new_person(name=name)
        c.register_ok(p, phone=phone)
        token = c.login_ok(p)
        assert c.get("/v1/me", token=token).status_code == 200
        people.append(p)
    yield c, people
    c.close()


def test_no_personal_data_in_files_while_running(residents):
    city, people = residents
    assert city.running
    assert_not_in_files(city, people)


def test_no_personal_data_in_registry_files(residents):
    city, _ = residents
    unregistered = [p for p in city.pool if not p.used]
    assert unregistered
    assert_not_in_files(city, unregistered, with_password=False)


def test_no_personal_data_in_files_after_stop(residents):
    city, people = residents
    city.stop()
    assert_not_in_files(city, people)
    assert_not_in_files(city, [p for p in city.pool if not p.used], with_password=False)
