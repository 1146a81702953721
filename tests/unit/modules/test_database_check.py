"""Unit tests for plugins/modules/database_check.py.

asyncpg is not needed: main() runs against a fake asyncpg module whose connect()
raises what asyncpg raises, or returns a connection with canned answers.
"""

import asyncio
import json
import ssl
import types
from pathlib import Path
from unittest import mock

import pytest

from module_harness import load_plugin, patch_module_args

ROOT = Path(__file__).resolve().parents[3]


dc = load_plugin("plugins/modules/database_check.py", "prefect_database_check")
dbc = load_plugin("plugins/filter/database_connection.py", "prefect_filter_database_connection_for_check")

CA = "/etc/ssl/certs/ca-certificates.crt"
PASSWORD = "S3CRET@:/%pw"
URL = dbc.database_connection(dict(database="postgresql", host="db.example", port=6543,
                                   name="flows", user="bob", password=PASSWORD))["url"]
WHERE = "user 'bob' on database 'flows' at db.example:6543"
VERSION_15 = "15.14 (Debian 15.14-0+deb12u1)"


# --- fake asyncpg

class FakeConnection:
    def __init__(self, version, number, trgm):
        self.answers = {"SHOW server_version": version, "SHOW server_version_num": str(number),
                        "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'":
                            trgm,
                        "SELECT pg_database_size(current_database())": 123456789}
        self.closed = False

    async def fetchval(self, sql):
        return self.answers[sql]

    async def close(self):
        self.closed = True


def fake_asyncpg(result):
    """An asyncpg stand-in whose connect() raises result, or returns it."""
    module = types.ModuleType("asyncpg")

    class PostgresError(Exception):
        pass

    class InvalidPasswordError(PostgresError):
        pass

    class InvalidCatalogNameError(PostgresError):
        pass

    module.PostgresError = PostgresError
    module.InvalidPasswordError = InvalidPasswordError
    module.InvalidCatalogNameError = InvalidCatalogNameError
    module.calls = []

    async def connect(**kwargs):
        module.calls.append(kwargs)
        value = result(module) if callable(result) else result
        if isinstance(value, BaseException):
            raise value
        return value

    module.connect = connect
    return module


def run_main(capsys, result, **args):
    fake = fake_asyncpg(result)
    args = {"url": URL, **args}
    with (patch_module_args(args), mock.patch.object(dc, "asyncpg", fake),
          pytest.raises(SystemExit) as exc):
        dc.main()
    return exc.value.code, json.loads(capsys.readouterr().out), fake


def assert_safe(res):
    text = json.dumps(res)
    assert PASSWORD not in text and "S3CRET" not in text
    # the module never put the password in: nothing for no_log to mask
    assert "********" not in res.get("msg", "")


# --- connect_args / describe

def test_connect_args_from_the_filters_url():
    args = dc.connect_args(URL)
    assert args == {"host": "db.example", "port": 6543, "user": "bob", "password": PASSWORD,
                    "database": "flows"}


@pytest.mark.parametrize("password", ["p@ss", "p:ss", "p/ss", "p%ss", "p#ss", "p?ss",
                                      "p ss", "p+ss", "ünï€", "%40"])
def test_connect_args_round_trip_the_filters_quoting(password):
    url = dbc.database_connection(dict(database="postgresql", host="h", name="n", user="u@x",
                                       password=password, sslmode="require"))["url"]
    args = dc.connect_args(url)
    assert args == {"host": "h", "port": 5432, "user": "u@x", "password": password,
                    "database": "n", "ssl": "require"}


def test_connect_args_port_default_and_ssl_query():
    args = dc.connect_args("postgresql+asyncpg://u:p%20w@h/n?ssl=require&x=1")
    assert args == {"host": "h", "port": 5432, "user": "u", "password": "p w", "database": "n",
                    "ssl": "require"}
    assert "ssl" not in dc.connect_args("postgresql+asyncpg://u@h/n")
    assert dc.connect_args("postgresql+asyncpg://u@h/n")["password"] == ""


@pytest.mark.parametrize("check_hostname", [True, False])
def test_connect_args_ca_file_gives_an_ssl_context(check_hostname):
    args = dc.connect_args(URL + "?ssl=disable", ca_file=CA, check_hostname=check_hostname)
    context = args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname is check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509_ca"] > 0


def test_connect_args_bad_ca_file():
    with pytest.raises((OSError, ssl.SSLError)):
        dc.connect_args(URL, ca_file="/nonexistent/ca.pem")


def test_describe_never_includes_the_password():
    assert dc.describe(URL) == WHERE
    assert dc.describe("postgresql+asyncpg://u:pw@h/n") == "user 'u' on database 'n' at h:5432"
    for url in (URL, URL + "?ssl=require", "postgresql+asyncpg://u:pw@h/n"):
        text = dc.describe(url)
        assert PASSWORD not in text and ":pw" not in text


# --- main()

def test_asyncpg_missing(capsys):
    with (patch_module_args({"url": URL}), mock.patch.object(dc, "asyncpg", None),
          pytest.raises(SystemExit) as exc):
        dc.main()
    res = json.loads(capsys.readouterr().out)
    assert exc.value.code == 1
    assert res["msg"] == ("asyncpg is not importable: run this module with the Prefect "
                          "virtualenv's Python (ansible_python_interpreter)")
    assert_safe(res)


def test_success(capsys):
    connection = FakeConnection(VERSION_15, 150014, 1)
    rc, res, fake = run_main(capsys, connection, timeout=3)
    assert rc == 0, res
    assert res["changed"] is False
    assert res["server_version"] == VERSION_15 and res["server_version_num"] == 150014
    assert res["size"] == 123456789  # what an upgrade's backup must find room for
    assert connection.closed
    assert fake.calls == [{"timeout": 3, "host": "db.example", "port": 6543, "user": "bob",
                           "password": PASSWORD, "database": "flows"}]
    assert_safe(res)


def test_success_with_tls_settings(capsys):
    rc, res, fake = run_main(capsys, FakeConnection(VERSION_15, 150014, 1), ca_file=CA,
                             check_hostname=False)
    assert rc == 0, res
    context = fake.calls[0]["ssl"]
    assert isinstance(context, ssl.SSLContext) and context.check_hostname is False


def test_check_mode_connects_too(capsys):
    rc, res, fake = run_main(capsys, FakeConnection(VERSION_15, 150014, 1),
                             _ansible_check_mode=True)
    assert rc == 0 and res["changed"] is False and len(fake.calls) == 1


@pytest.mark.parametrize("error, message", [
    (lambda m: m.InvalidPasswordError('password authentication failed for user "bob"'),
     f"PostgreSQL refused the password of {WHERE}."),
    (lambda m: m.InvalidCatalogNameError('database "flows" does not exist'),
     f"PostgreSQL has no such database: {WHERE}."),
    (lambda m: ConnectionRefusedError(111, "Connect call failed ('10.0.0.5', 6543)"),
     f"PostgreSQL cannot be reached for {WHERE}: [Errno 111] Connect call failed "
     "('10.0.0.5', 6543)"),
    (lambda m: OSError(-2, "Name or service not known"),
     f"PostgreSQL cannot be reached for {WHERE}: [Errno -2] Name or service not known"),
    (lambda m: asyncio.TimeoutError(),
     f"PostgreSQL cannot be reached for {WHERE}: no answer within 10 s"),
    (lambda m: ssl.SSLCertVerificationError(1, "certificate verify failed"),
     f"PostgreSQL cannot be reached for {WHERE}: certificate verify failed"),
    (lambda m: m.PostgresError("no pg_hba.conf entry for host"),
     f"Connecting to PostgreSQL as {WHERE} failed: PostgresError: no pg_hba.conf entry for host"),
])
def test_failures_name_user_database_host_port_never_the_password(capsys, error, message):
    rc, res, _ = run_main(capsys, error)
    assert rc == 1 and res["failed"] is True
    assert res["msg"] == message
    for part in ("'bob'", "'flows'", "db.example:6543"):
        assert part in res["msg"]
    assert_safe(res)


def test_too_old_a_server(capsys):
    rc, res, _ = run_main(capsys, FakeConnection("13.0", 130000, 1))
    assert rc == 1
    assert res["msg"] == f"Prefect needs PostgreSQL 14.9 or newer; the server for {WHERE} is 13.0."
    assert res["server_version"] == "13.0" and res["server_version_num"] == 130000
    assert_safe(res)


def test_min_version_num_is_the_limit(capsys):
    rc, res, _ = run_main(capsys, FakeConnection("14.9", 140009, 1))
    assert rc == 0, res
    rc, res, _ = run_main(capsys, FakeConnection("14.8", 140008, 1))
    assert rc == 1
    rc, res, _ = run_main(capsys, FakeConnection("13.0", 130000, 1), min_version_num=130000)
    assert rc == 0, res


def test_too_old_message_follows_min_version_num(capsys):
    rc, res, _ = run_main(capsys, FakeConnection("14.10", 140010, 1), min_version_num=150000)
    assert rc == 1
    assert "14.9" not in res["msg"] and "15" in res["msg"]


def test_missing_pg_trgm(capsys):
    rc, res, _ = run_main(capsys, FakeConnection(VERSION_15, 150014, 0))
    assert rc == 1
    assert res["msg"] == (f"The PostgreSQL server for {WHERE} lacks the pg_trgm extension "
                          "(postgresql-contrib), which Prefect needs.")
    assert_safe(res)


def test_version_check_comes_before_pg_trgm(capsys):
    rc, res, _ = run_main(capsys, FakeConnection("13.0", 130000, 0))
    assert rc == 1 and "14.9" in res["msg"]


def test_url_without_a_password(capsys):
    url = "postgresql+asyncpg://bob@db.example:6543/flows"
    rc, res, _ = run_main(capsys, FakeConnection(VERSION_15, 150014, 1), url=url)
    assert rc == 0
    assert res["server_version"] == VERSION_15
    rc, res, _ = run_main(capsys, lambda m: m.InvalidPasswordError("x"), url=url)
    assert res["msg"] == f"PostgreSQL refused the password of {WHERE}."
