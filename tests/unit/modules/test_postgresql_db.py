"""Unit tests for plugins/modules/postgresql_db.py.

No PostgreSQL here: FakeServer answers psql the way the module calls it (as
postgres through runuser, the script on stdin) and the login check (psql over
TCP with PGPASSWORD). It parses the script's \\set lines with psql's quoting
rules and records every command, its stdin and its environment.
"""

import json
import re
from pathlib import Path
from unittest import mock

import pytest

from module_harness import load_plugin, patch_module_args

ROOT = Path(__file__).resolve().parents[3]
pg = load_plugin("plugins/modules/postgresql_db.py", "prefect_postgresql_db")

RUNUSER = "/usr/sbin/runuser"
PSQL = "/usr/bin/psql"
PASSWORD = "s3cr3t'PW\\x"
VERSION = "15.14 (Debian 15.14-0+deb12u1)"


# --- psql's quoting, as the fake reads it

class UnterminatedError(ValueError):
    pass


def parse_set(line):
    """(name, value) of a psql `\\set name 'value'` line, by psql's rules for a
    single-quoted meta-command argument: '' is a quote, \\n \\t \\b \\r \\f,
    \\digits (octal) and \\xHH are escapes, a backslash quotes any other character;
    the argument ends at the end of the line."""
    assert line.startswith("\\set "), line
    name, _, arg = line[len("\\set "):].partition(" ")
    arg = arg.lstrip()
    assert arg.startswith("'"), line
    out, i = [], 1
    while True:
        if i >= len(arg):
            raise UnterminatedError("unterminated quoted string")
        c = arg[i]
        if c == "'":
            if arg[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
                continue
            i += 1
            break
        if c == "\\":
            if i + 1 >= len(arg):
                raise UnterminatedError("unterminated quoted string")
            nxt = arg[i + 1]
            simple = {"n": "\n", "t": "\t", "b": "\b", "r": "\r", "f": "\f"}
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
            elif nxt in "01234567":
                digits = re.match(r"[0-7]{1,3}", arg[i + 1:]).group()
                out.append(chr(int(digits, 8)))
                i += 1 + len(digits)
            elif nxt == "x" and re.match(r"[0-9A-Fa-f]", arg[i + 2:i + 3] or " "):
                digits = re.match(r"[0-9A-Fa-f]{1,2}", arg[i + 2:]).group()
                out.append(chr(int(digits, 16)))
                i += 2 + len(digits)
            else:
                out.append(nxt)
                i += 2
            continue
        out.append(c)
        i += 1
    assert arg[i:].strip() == "", f"trailing text after the argument: {line!r}"
    return name, "".join(out)


def parse_script(script):
    """({variables}, sql) of a script the module sends on stdin."""
    variables, sql = {}, []
    for line in script.split("\n"):
        if line.startswith("\\"):
            name, value = parse_set(line)
            variables[name] = value
        else:
            sql.append(line)
    return variables, "\n".join(sql).strip()


# --- the fake server

class FakeServer:
    def __init__(self, roles=None, databases=None, extensions=None, fail_on=None):
        self.roles = dict(roles or {})            # name -> password
        self.databases = dict(databases or {})    # name -> owner
        self.extensions = {db: set(e) for db, e in (extensions or {}).items()}
        self.fail_on = fail_on
        self.runs = []        # (argv, stdin, env)
        self.statements = []  # (database, sql, variables) of every psql script

    @property
    def changes(self):
        return [s for s in self.statements if re.match(r"(CREATE|ALTER|DROP)\b", s[1])]

    def run(self, argv, data=None, environ_update=None):
        self.runs.append((list(argv), data, dict(environ_update or {})))
        if argv[0] == RUNUSER:
            assert argv[:5] == [RUNUSER, "-u", "postgres", "--", PSQL], argv
            database = next(a for a in argv if a.startswith("--dbname=")).split("=", 1)[1]
            assert "--set=ON_ERROR_STOP=1" in argv and "--no-psqlrc" in argv
            try:
                variables, sql = parse_script(data)
            except UnterminatedError as error:
                # as real psql 15 answers: the rest of the value is then read as SQL
                lines = data.split("\n")
                bad = next(i for i, line in enumerate(lines) if line.count("'") % 2)
                rest = lines[bad + 1]
                return 3, "", (f"psql:<stdin>:{bad + 1}: error: {error}\n"
                               f'ERROR:  syntax error at or near "{rest}"')
            self.statements.append((database, sql, variables))
            return self.execute(database, sql, variables)
        if argv[0] == PSQL:  # the login check
            opts = dict(a[2:].split("=", 1) for a in argv[1:] if "=" in a)
            assert opts["host"] == "127.0.0.1" and opts["command"] == "SELECT 1"
            user, database = opts["username"], opts["dbname"]
            ok = (user in self.roles and self.roles[user] == environ_update.get("PGPASSWORD")
                  and (database in self.databases or database == "postgres"))
            return (0, "1", "") if ok else (
                2, "", f'psql: error: FATAL:  password authentication failed for user "{user}"')
        raise AssertionError(argv)

    def execute(self, database, sql, v):
        if self.fail_on and self.fail_on in sql:
            return 3, "", 'ERROR:  permission denied to create database'
        count = {
            "SELECT count(*) FROM pg_roles WHERE rolname = :'role';":
                lambda: v["role"] in self.roles,
            "SELECT count(*) FROM pg_database WHERE datname = :'db';":
                lambda: v["db"] in self.databases,
            "SELECT count(*) FROM pg_extension WHERE extname = :'ext';":
                lambda: v["ext"] in self.extensions.get(database, set()),
        }
        if sql == "SHOW server_version;":
            return 0, VERSION + "\n", ""
        if sql == "SHOW server_version_num;":
            return 0, "150014\n", ""
        if sql == "SHOW listen_addresses;":
            return 0, "localhost\n", ""
        if sql in count:
            return 0, f"{int(count[sql]())}\n", ""
        if sql == "CREATE ROLE :\"role\" LOGIN PASSWORD :'password';":
            assert database == "postgres" and v["role"] not in self.roles
            self.roles[v["role"]] = v["password"]
        elif sql == "ALTER ROLE :\"role\" LOGIN PASSWORD :'password';":
            self.roles[v["role"]] = v["password"]
        elif sql == 'CREATE DATABASE :"db" OWNER :"role";':
            assert v["role"] in self.roles and v["db"] not in self.databases
            self.databases[v["db"]] = v["role"]
        elif sql == 'CREATE EXTENSION IF NOT EXISTS :"ext";':
            assert database in self.databases
            self.extensions.setdefault(database, set()).add(v["ext"])
        elif sql == 'DROP DATABASE :"db";':
            del self.databases[v["db"]]
            self.extensions.pop(v["db"], None)
        elif sql == 'DROP ROLE :"role";':
            assert v["role"] not in self.databases.values(), "the role still owns a database"
            del self.roles[v["role"]]
        else:
            raise AssertionError(f"unexpected SQL {sql!r}")
        return 0, "", ""


def module_class(server):
    class Module(pg.AnsibleModule):
        def get_bin_path(self, arg, required=False, opt_dirs=None):
            return {"runuser": RUNUSER, "psql": PSQL}[arg]

        def run_command(self, args, data=None, binary_data=False, environ_update=None, **kw):
            return server.run(args, data, environ_update)

    return Module


OMIT = object()  # leave the option out


def run_main(server, capsys, check_mode=False, **args):
    args = {"name": "prefect", "owner": "prefect", "password": PASSWORD,
            "extensions": ["pg_trgm"], **args}
    args = {k: v for k, v in args.items() if v is not OMIT}
    if check_mode:
        args["_ansible_check_mode"] = True
    with (patch_module_args(args), mock.patch.object(pg, "AnsibleModule", module_class(server)),
          pytest.raises(SystemExit) as exc):
        pg.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def sql_of(server):
    return [s[1] for s in server.statements]


# --- present

def test_fresh_server_creates_role_database_extension_in_order(capsys):
    server = FakeServer()
    rc, res = run_main(server, capsys)
    assert rc == 0, res
    assert res["changed"] is True
    assert res["actions"] == ["create role prefect", "create database prefect",
                              "create extension pg_trgm in prefect"]
    assert res["server_version"] == VERSION and res["server_version_num"] == 150014
    assert res["listen_addresses"] == "localhost"
    assert [(db, sql) for db, sql, _ in server.changes] == [
        ("postgres", "CREATE ROLE :\"role\" LOGIN PASSWORD :'password';"),
        ("postgres", 'CREATE DATABASE :"db" OWNER :"role";'),
        ("prefect", 'CREATE EXTENSION IF NOT EXISTS :"ext";'),
    ]
    assert server.roles == {"prefect": PASSWORD}
    assert server.databases == {"prefect": "prefect"}
    assert server.extensions == {"prefect": {"pg_trgm"}}
    # a new role's password is not checked by logging in
    assert all(argv[0] == RUNUSER for argv, _, _ in server.runs)


def test_second_run_changes_nothing(capsys):
    server = FakeServer()
    run_main(server, capsys)
    server.statements.clear()
    rc, res = run_main(server, capsys)
    assert rc == 0 and res["changed"] is False and res["actions"] == []
    assert server.changes == []


def test_existing_role_with_working_password_is_left_alone(capsys):
    server = FakeServer(roles={"prefect": PASSWORD}, databases={"prefect": "prefect"},
                        extensions={"prefect": ["pg_trgm"]})
    rc, res = run_main(server, capsys)
    assert rc == 0 and res["changed"] is False, res
    assert server.changes == []
    logins = [(argv, env) for argv, _, env in server.runs if argv[0] == PSQL]
    assert len(logins) == 1
    argv, env = logins[0]
    assert "--username=prefect" in argv and "--dbname=prefect" in argv
    assert env["PGPASSWORD"] == PASSWORD


def test_can_log_in():
    server = FakeServer(roles={"prefect": PASSWORD})
    module = mock.Mock(params={"port": 5433})
    module.get_bin_path.side_effect = lambda tool, required=False: {"runuser": RUNUSER,
                                                                   "psql": PSQL}[tool]
    module.run_command.side_effect = lambda args, **kw: server.run(
        args, kw.get("data"), kw.get("environ_update"))
    psql = pg.Psql(module)
    assert psql.can_log_in("prefect", PASSWORD, "postgres") is True
    assert psql.can_log_in("prefect", "wrong", "postgres") is False
    assert psql.can_log_in("nobody", PASSWORD, "postgres") is False
    argv = server.runs[0][0]
    assert argv == [PSQL, "--no-psqlrc", "--host=127.0.0.1", "--port=5433",
                    "--username=prefect", "--dbname=postgres", "--command=SELECT 1"]
    assert server.runs[0][2] == {"PGPASSWORD": PASSWORD, "PGCONNECT_TIMEOUT": "5"}


def test_existing_role_with_wrong_password_is_altered(capsys):
    server = FakeServer(roles={"prefect": "old"}, databases={"prefect": "prefect"},
                        extensions={"prefect": ["pg_trgm"]})
    rc, res = run_main(server, capsys)
    assert rc == 0 and res["changed"] is True, res
    assert res["actions"] == ["set the password of prefect"]
    assert [(db, sql, v["password"]) for db, sql, v in server.changes] == [
        ("postgres", "ALTER ROLE :\"role\" LOGIN PASSWORD :'password';", PASSWORD)]
    assert server.roles["prefect"] == PASSWORD
    rc, res = run_main(server, capsys)
    assert res["changed"] is False


def test_existing_role_without_database_checks_login_on_postgres(capsys):
    server = FakeServer(roles={"prefect": PASSWORD})
    rc, res = run_main(server, capsys)
    assert rc == 0, res
    assert res["actions"] == ["create database prefect", "create extension pg_trgm in prefect"]
    login = next(argv for argv, _, _ in server.runs if argv[0] == PSQL)
    assert "--dbname=postgres" in login


def test_missing_extension_only(capsys):
    server = FakeServer(roles={"prefect": PASSWORD}, databases={"prefect": "prefect"},
                        extensions={"prefect": ["pg_trgm"]})
    _rc, res = run_main(server, capsys, extensions=["pg_trgm", "btree_gin"])
    assert res["actions"] == ["create extension btree_gin in prefect"]
    assert server.extensions["prefect"] == {"pg_trgm", "btree_gin"}


def test_password_never_in_argv(capsys):
    for server in (FakeServer(), FakeServer(roles={"prefect": "old"}),
                   FakeServer(roles={"prefect": PASSWORD}, databases={"prefect": "prefect"})):
        rc, res = run_main(server, capsys)
        assert rc == 0, res
        assert PASSWORD not in json.dumps(res)
        for argv, stdin, env in server.runs:
            assert not any(PASSWORD in a or "s3cr3t" in a for a in argv), argv
            if argv[0] == PSQL:  # the login check: the password in its environment only
                assert env["PGPASSWORD"] == PASSWORD and stdin is None
            else:
                assert "PGPASSWORD" not in env
                # in psql's stdin only as the \set line
                for line in (stdin or "").split("\n"):
                    if "s3cr3t" in line:
                        assert line.startswith("\\set password '"), line
                        assert parse_set(line) == ("password", PASSWORD)


def test_psql_arguments(capsys):
    server = FakeServer()
    run_main(server, capsys, port=5433)
    argv = server.runs[0][0]
    assert argv == [RUNUSER, "-u", "postgres", "--", PSQL, "--no-psqlrc", "--quiet",
                    "--tuples-only", "--no-align", "--set=ON_ERROR_STOP=1", "--port=5433",
                    "--dbname=postgres"]


def test_psql_failure_is_reported(capsys):
    server = FakeServer(fail_on="CREATE DATABASE")
    rc, res = run_main(server, capsys)
    assert rc == 1
    assert res["msg"] == "psql on database postgres failed: ERROR:  permission denied to create database"
    assert PASSWORD not in json.dumps(res)


def test_present_needs_a_password(capsys):
    server = FakeServer()
    rc, res = run_main(server, capsys, password=OMIT)
    assert rc == 1
    assert res["msg"] == "state is present but all of the following are missing: password"
    assert server.runs == []


def test_present_with_a_null_password_fails_cleanly(capsys):
    server = FakeServer()
    rc, res = run_main(server, capsys, password=None)
    assert rc == 1 and "password" in res["msg"]
    assert server.changes == []


# --- absent

def test_absent_drops_database_then_role(capsys):
    server = FakeServer(roles={"prefect": PASSWORD, "other": "x"},
                        databases={"prefect": "prefect"}, extensions={"prefect": ["pg_trgm"]})
    rc, res = run_main(server, capsys, state="absent", password=OMIT)
    assert rc == 0 and res["changed"] is True, res
    assert res["actions"] == ["drop database prefect", "drop role prefect"]
    assert [sql for _, sql, _ in server.changes] == ['DROP DATABASE :"db";', 'DROP ROLE :"role";']
    assert server.roles == {"other": "x"} and server.databases == {}
    rc, res = run_main(server, capsys, state="absent", password=OMIT)
    assert rc == 0 and res["changed"] is False and res["actions"] == []


# --- check mode

@pytest.mark.parametrize("server_kw, state, actions", [
    ({}, "present", ["create role prefect", "create database prefect",
                     "create extension pg_trgm in prefect"]),
    ({"roles": {"prefect": "old"}, "databases": {"prefect": "prefect"}}, "present",
     ["set the password of prefect", "create extension pg_trgm in prefect"]),
    ({"roles": {"prefect": "old"}, "databases": {"prefect": "prefect"}}, "absent",
     ["drop database prefect", "drop role prefect"]),
])
def test_check_mode_sends_no_create_alter_drop(capsys, server_kw, state, actions):
    server = FakeServer(**server_kw)
    before = (dict(server.roles), dict(server.databases), dict(server.extensions))
    rc, res = run_main(server, capsys, check_mode=True, state=state)
    assert rc == 0 and res["changed"] is True, res
    assert res["actions"] == actions
    assert server.changes == []
    assert all(re.match(r"(SHOW|SELECT)\b", sql) for sql in sql_of(server))
    assert (server.roles, server.databases, server.extensions) == before


# --- identifiers

@pytest.mark.parametrize("field, value", [
    ("name", "pre-fect"), ("name", 'x"; DROP DATABASE postgres; --'), ("name", "1db"),
    ("owner", "a b"), ("owner", "x" * 64), ("owner", ""), ("name", "caf\u00e9"),
])
def test_bad_identifiers_are_refused_before_any_psql_call(capsys, field, value):
    server = FakeServer()
    rc, res = run_main(server, capsys, **{field: value})
    assert rc == 1
    assert res["msg"] == f"{field} {value!r} is not a plain PostgreSQL identifier"
    assert server.runs == []


def test_plain_identifiers_are_accepted():
    for ok in ("prefect", "_p", "Prefect_2", "x" * 63):
        assert pg.IDENTIFIER.match(ok)


def test_bad_extension_is_refused_before_any_psql_call(capsys):
    server = FakeServer()
    rc, res = run_main(server, capsys, extensions=["pg_trgm", "bad-name"])
    assert rc == 1 and "bad-name" in res["msg"]
    assert server.runs == []


# --- \set quoting

PASSWORDS = ["plain", "it's", "back\\slash", "\\'", "''", "end\\", "\\\\'\\",
             "'; DROP ROLE postgres; --", ":'role' :\"db\"", "tab\there", "ünïcødé €",
             "\\n not a newline", "\\x41 \\101"]


@pytest.mark.parametrize("password", PASSWORDS)
def test_set_quoting_round_trips(password):
    seen = []
    module = mock.Mock(params={"port": 5432})
    module.get_bin_path.side_effect = lambda tool, required=False: f"/bin/{tool}"
    module.run_command.side_effect = lambda args, data=None, **kw: (seen.append(data), (0, "", ""))[1]
    pg.Psql(module).query("SELECT 1;", variables={"password": password, "role": "prefect"})
    (script,) = seen
    lines = script.split("\n")
    assert lines[-1] == "SELECT 1;"
    assert parse_set(lines[0]) == ("password", password)
    assert parse_set(lines[1]) == ("role", "prefect")
    assert parse_script(script) == ({"password": password, "role": "prefect"}, "SELECT 1;")


def test_set_quoting_escapes_backslash_and_quote():
    seen = []
    module = mock.Mock(params={"port": 5432})
    module.run_command.side_effect = lambda args, data=None, **kw: (seen.append(data), (0, "", ""))[1]
    pg.Psql(module).query("SELECT 1;", variables={"v": "a'b\\c"})
    assert seen[0] == "\\set v 'a\\'b\\\\c'\nSELECT 1;"


def test_a_password_with_a_line_break_is_refused_before_psql(capsys):
    password = "line1\nline2"
    server = FakeServer()
    rc, res = run_main(server, capsys, password=password)
    assert "line2" not in json.dumps(res)
    assert rc == 1 and res["msg"] == "the password may not contain a line break"
    assert server.roles == {}
