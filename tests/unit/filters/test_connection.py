"""Unit tests for the filters plugins/filter/database_connection.py and
plugins/filter/worker_instances.py."""

import importlib.util
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f"prefect_filter_{name}", str(ROOT / "plugins" / "filter" / f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dbc = _load("database_connection")
wi = _load("worker_instances")

TLS = "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_"
CA = "/etc/ssl/certs/ca-certificates.crt"


def conn(**kw):
    params = dict(database="postgresql", url="", host="db.example", port=5432, name="prefect",
                  user="prefect", password="pw", sslmode="prefer", ca_file="", installed=False)
    params.update(kw)
    return dbc.database_connection(params)


# --- database_connection: SQLite

@pytest.mark.parametrize("params", [{"database": "sqlite"}, {}, {"database": "sqlite",
                                                                "url": "postgresql://x@y/z"}])
def test_sqlite_gives_an_empty_url(params):
    assert dbc.database_connection(params) == {"url": "", "display": "SQLite", "settings": {}}


# --- PostgreSQL from parts

def test_parts_build_an_asyncpg_url():
    c = conn()
    assert c == {
        "url": "postgresql+asyncpg://prefect:pw@db.example:5432/prefect",
        "display": "prefect@db.example:5432/prefect",
        "host": "db.example", "port": 5432, "name": "prefect", "user": "prefect",
        "password": "pw", "settings": {},
    }


@pytest.mark.parametrize("password", ["p@ss", "p:ss", "p/ss", "p%ss", "p%40ss", "p#ss",
                                      "p?ss", "p ss", "p+ss", "p&ss=", "ünï€", "@:/%#?"])
def test_password_is_url_quoted(password):
    c = conn(password=password)
    parts = urlsplit(c["url"])
    assert parts.scheme == "postgresql+asyncpg"
    assert parts.hostname == "db.example" and parts.port == 5432
    assert unquote(parts.password) == password
    assert unquote(parts.username) == "prefect"
    assert parts.path == "/prefect" and parts.query == "" and parts.fragment == ""
    assert c["password"] == password
    assert password not in c["display"]


def test_exact_quoting():
    c = conn(password="a@b:c/d%e")
    assert c["url"] == "postgresql+asyncpg://prefect:a%40b%3Ac%2Fd%25e@db.example:5432/prefect"


def test_user_and_name_are_quoted_too():
    c = conn(user="me@corp", name="pre fect")
    parts = urlsplit(c["url"])
    assert unquote(parts.username) == "me@corp" and unquote(parts.path[1:]) == "pre fect"
    assert parts.hostname == "db.example"
    assert c["display"] == "me@corp@db.example:5432/pre fect"


def test_no_password_means_no_colon():
    c = conn(password="")
    assert c["url"] == "postgresql+asyncpg://prefect@db.example:5432/prefect"
    c = conn(password=None)
    assert c["url"] == "postgresql+asyncpg://prefect@db.example:5432/prefect"
    assert c["password"] == ""


def test_port_default_and_string_port():
    assert conn(port=None)["port"] == 5432
    c = conn(port="6432")
    assert c["port"] == 6432 and ":6432/" in c["url"]


def test_installed_uses_127_0_0_1():
    c = conn(installed=True, host="ignored.example")
    assert c["host"] == "127.0.0.1"
    assert c["url"] == "postgresql+asyncpg://prefect:pw@127.0.0.1:5432/prefect"
    assert conn(installed=True, host="")["host"] == "127.0.0.1"


def test_ipv6_host_is_bracketed():
    c = conn(host="::1")
    assert c["url"] == "postgresql+asyncpg://prefect:pw@[::1]:5432/prefect"
    assert urlsplit(c["url"]).hostname == "::1"
    assert c["host"] == "::1"


@pytest.mark.parametrize("missing, params", [
    ("host", dict(host="")),
    ("name", dict(name="")),
    ("user", dict(user=None)),
    ("host, name, user", dict(host="", name="", user="")),
])
def test_missing_parts_are_named(missing, params):
    with pytest.raises(dbc.DatabaseConnectionError) as exc:
        conn(**params)
    assert str(exc.value).endswith("; missing " + missing)
    assert "database_url" in str(exc.value) and "pw" not in str(exc.value)


def test_installed_needs_no_host():
    assert conn(installed=True, host=None)["host"] == "127.0.0.1"
    with pytest.raises(dbc.DatabaseConnectionError, match="missing name"):
        conn(installed=True, name="")


def test_error_is_an_ansible_filter_error():
    from ansible.errors import AnsibleFilterError

    assert issubclass(dbc.DatabaseConnectionError, AnsibleFilterError)


# --- PostgreSQL from a URL

@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+asyncpg"])
def test_url_is_normalised_to_asyncpg_and_keeps_its_query(scheme):
    c = conn(url=f"{scheme}://bob:s%40crt@pg.example:6543/flows?application_name=prefect&x=1",
             host="", name="", user="", password="")
    parts = urlsplit(c["url"])
    assert parts.scheme == "postgresql+asyncpg"
    assert (parts.hostname, parts.port, parts.path) == ("pg.example", 6543, "/flows")
    assert unquote(parts.username) == "bob" and unquote(parts.password) == "s@crt"
    assert parse_qs(parts.query) == {"application_name": ["prefect"], "x": ["1"]}
    assert c["display"] == "bob@pg.example:6543/flows"
    assert (c["host"], c["port"], c["name"], c["user"], c["password"]) == (
        "pg.example", 6543, "flows", "bob", "s@crt")


def test_url_takes_precedence_over_parts_and_installed():
    c = conn(url="postgresql://u:p@h/n", host="other", installed=True)
    assert c["url"] == "postgresql+asyncpg://u:p@h:5432/n"


def test_url_with_an_unquoted_at_in_the_password():
    c = conn(url="postgresql://u:p@ss@h:5432/n")
    assert c["password"] == "p@ss" and c["host"] == "h"
    assert c["url"] == "postgresql+asyncpg://u:p%40ss@h:5432/n"


@pytest.mark.parametrize("url", ["mysql://u:p@h/n", "h:5432/n", "postgresql+psycopg://u@h/n"])
def test_bad_scheme(url):
    with pytest.raises(dbc.DatabaseConnectionError, match="must start with postgresql://"):
        conn(url=url)


def test_url_missing_parts_are_named():
    with pytest.raises(dbc.DatabaseConnectionError, match="missing name, user"):
        conn(url="postgresql://db.example:5432")


def test_bad_port():
    with pytest.raises(dbc.DatabaseConnectionError, match="port that is not a number"):
        conn(url="postgresql://u:p@h:99999/n")


@pytest.mark.parametrize("url", ["postgresql://prefect:s3cr#et@db/prefect",
                                 "postgresql://prefect:s3cr?et@db/prefect",
                                 "postgresql://prefect:s3cr/et@db/prefect"])
def test_bad_url_error_does_not_leak_the_password(url):
    with pytest.raises(dbc.DatabaseConnectionError) as exc:
        conn(url=url)
    assert "s3cr" not in str(exc.value)


# --- sslmode

@pytest.mark.parametrize("mode", ["disable", "require"])
def test_disable_and_require_go_into_the_url(mode):
    c = conn(sslmode=mode)
    assert c["url"] == f"postgresql+asyncpg://prefect:pw@db.example:5432/prefect?ssl={mode}"
    assert c["settings"] == {}


def test_sslmode_overrides_the_urls_ssl_and_keeps_the_rest():
    c = conn(url="postgresql://u:p@h/n?ssl=disable&application_name=x", sslmode="require")
    assert parse_qs(urlsplit(c["url"]).query) == {"ssl": ["require"], "application_name": ["x"]}


@pytest.mark.parametrize("mode", ["prefer", "allow", None, ""])
def test_prefer_and_allow_leave_asyncpg_default(mode):
    c = conn(sslmode=mode)
    assert "?" not in c["url"] and c["settings"] == {}


@pytest.mark.parametrize("mode, check_hostname", [("verify-ca", False), ("verify-full", True)])
def test_verify_modes_give_tls_settings(mode, check_hostname):
    c = conn(sslmode=mode, ca_file=CA)
    assert c["settings"] == {f"{TLS}ENABLED": True, f"{TLS}CA_FILE": CA,
                             f"{TLS}CHECK_HOSTNAME": check_hostname}
    assert "?" not in c["url"]


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full"])
@pytest.mark.parametrize("ca_file", ["", None])
def test_verify_modes_need_a_ca_file(mode, ca_file):
    with pytest.raises(dbc.DatabaseConnectionError) as exc:
        conn(sslmode=mode, ca_file=ca_file)
    assert str(exc.value) == (f"database_sslmode {mode} checks the server's certificate: "
                              "set database_ca_file")


@pytest.mark.parametrize("kw", [
    {}, dict(password="@:/%"), dict(sslmode="require"), dict(installed=True),
    dict(sslmode="verify-full", ca_file=CA),
    dict(url="postgres://u:SECRETPW@h:1/n?ssl=require", password=""),
])
def test_display_never_contains_the_password(kw):
    kw = {"password": "SECRETPW", **kw} if "url" not in kw else kw
    c = conn(**kw)
    assert c["password"] not in c["display"]
    assert "SECRETPW" not in str(c["settings"])


def test_filter_plugin_entry_points():
    assert dbc.FilterModule().filters() == {"database_connection": dbc.database_connection}
    assert wi.FilterModule().filters() == {"worker_instances": wi.worker_instances}


@pytest.mark.parametrize("plugin", [dbc, wi])
def test_filter_documentation_parses(plugin):
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] and doc["short_description"] and doc["description"]
    assert "_input" in doc["options"]
    assert isinstance(yaml.safe_load(plugin.EXAMPLES), list)
    assert "_value" in yaml.safe_load(plugin.RETURN)


# --- worker_instances

VENV = "/opt/prefect/venv"
ENV_DIR = "/etc/prefect/workers"


def test_default_is_one_instance():
    (inst,) = wi.worker_instances([{"name": "default"}], VENV, ENV_DIR)
    instance = {"unit": "prefect-worker@default-1.service", "instance": "default-1",
                "pool": "default", "index": 1, "venv": VENV, "port": 8080,
                "options": "--type process --install-policy never --no-create-pool-if-not-found"}
    assert inst == {**instance, "dest": f"{ENV_DIR}/default-1.env",
                    "src": "prefect-worker.env.j2", "mode": "0644",
                    "template_vars": {"instance": instance}}


def test_instances_ports_and_names():
    pools = [{"name": "etl", "instances": 2}, {"name": "ml", "instances": "3"},
             {"name": "default", "instances": None}]
    out = wi.worker_instances(pools, VENV, ENV_DIR, port_base=9000)
    assert [i["instance"] for i in out] == ["etl-1", "etl-2", "ml-1", "ml-2", "ml-3",
                                            "default-1"]
    assert [i["port"] for i in out] == list(range(9000, 9006))
    assert [(i["pool"], i["index"]) for i in out] == [("etl", 1), ("etl", 2), ("ml", 1),
                                                      ("ml", 2), ("ml", 3), ("default", 1)]
    assert all(i["unit"] == f"prefect-worker@{i['instance']}.service" for i in out)
    assert all(i["dest"] == f"{ENV_DIR}/{i['instance']}.env" for i in out)


def test_names_never_collide():
    pools = [{"name": "a", "instances": 11}, {"name": "a-1", "instances": 2},
             {"name": "a-1-1"}]
    names = [i["instance"] for i in wi.worker_instances(pools, VENV, ENV_DIR)]
    assert len(names) == len(set(names)) == 14


def test_work_queues_and_healthcheck_options():
    pools = [{"name": "etl", "work_queues": ["high", "low"]}, {"name": "plain"},
             {"name": "empty", "work_queues": []}]
    out = wi.worker_instances(pools, VENV, ENV_DIR)
    flags = "--type process --install-policy never --no-create-pool-if-not-found"
    assert [i["options"] for i in out] == [f"{flags} --work-queue high --work-queue low", flags, flags]
    out = wi.worker_instances(pools, VENV, ENV_DIR, healthcheck=True)
    assert [i["options"] for i in out] == [
        f"{flags} --with-healthcheck --work-queue high --work-queue low", f"{flags} --with-healthcheck",
        f"{flags} --with-healthcheck"]
    assert out[0]["template_vars"]["instance"]["options"] == out[0]["options"]


def test_pool_venv_overrides_the_default():
    out = wi.worker_instances([{"name": "a", "venv": "/opt/other"}, {"name": "b", "venv": ""}],
                              VENV, ENV_DIR)
    assert [i["venv"] for i in out] == ["/opt/other", VENV]


def test_no_pools():
    assert wi.worker_instances([], VENV, ENV_DIR) == []


def test_zero_instances_is_not_one():
    try:
        out = wi.worker_instances([{"name": "idle", "instances": 0}], VENV, ENV_DIR)
    except (ValueError, TypeError):
        return
    assert out == []


# --- private_address: a bind address that keeps a service off public networks

pa = _load("private_address")


@pytest.mark.parametrize("address", ["10.0.0.5", "172.16.3.4", "192.168.1.10", "127.0.0.1",
                                     "::1", "fd12:3456::1", "[fe80::1]", "169.254.0.9"])
def test_private_addresses(address):
    assert pa.private_address(address) is True


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "8.8.8.8", "2001:4860::8888",
                                     "prefect.example.internal", ""])
def test_every_interface_public_addresses_and_names_are_not_private(address):
    assert pa.private_address(address) is False


# --- host_address: where other hosts reach an inventory host

ha = _load("host_address")


def test_host_address_prefers_the_advertised_address_then_facts_then_ansible_host():
    hostvars = {
        "a": {"prefect_advertise_address": "10.1.1.1", "ansible_facts": {"default_ipv4": {"address": "10.9.9.9"}}},
        "b": {"ansible_facts": {"default_ipv4": {"address": "10.2.2.2"}}, "ansible_host": "b.example"},
        "c": {"ansible_host": "c.example", "ansible_facts": {}},
        "d": {},
    }
    assert [ha.host_address(h, hostvars) for h in "abcd"] == ["10.1.1.1", "10.2.2.2", "c.example", "d"]


def test_host_address_of_nothing_or_an_unknown_host():
    assert ha.host_address("", {}) == ""
    assert ha.host_address("elsewhere", {}) == "elsewhere"
