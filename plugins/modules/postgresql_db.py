#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# A role, a database and extensions on the local PostgreSQL, through psql.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: postgresql_db
version_added: "0.2.0"
short_description: A login role, a database and extensions on the local PostgreSQL server
description:
  - Ensures, on the PostgreSQL server of the managed host, a login role with a password,
    a database owned by it and the given extensions in that database (Prefect needs
    C(pg_trgm)), or removes the database and the role with O(state=absent).
  - Talks to the server with C(psql) as the C(postgres) operating system user over the
    local socket (peer authentication), so it needs no Python driver.
  - The password is checked by logging in with it over TCP to 127.0.0.1; it is changed
    only when that fails, so a second run reports no change.
  - Returns the server's version.
author: prefect preset maintainers (!UNKNOWN)
requirements:
  - psql (Debian package postgresql-client, installed with postgresql)
options:
  name:
    description: Name of the database.
    type: str
    required: true
  owner:
    description: Name of the login role that owns the database.
    type: str
    required: true
  password:
    description: Password of O(owner).
    type: str
  extensions:
    description: Extensions created in the database.
    type: list
    elements: str
    default: []
  port:
    description: Port of the local server.
    type: int
    default: 5432
  state:
    description: V(present) creates what is missing; V(absent) drops the database and the role.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Supports check mode (queries only).
'''

EXAMPLES = r'''
- name: A database for Prefect
  prefect_preset.prefect.postgresql_db:
    name: prefect
    owner: prefect
    password: "{{ generated_password }}"
    extensions: [pg_trgm]
'''

RETURN = r'''
server_version:
  description: The server's version (SHOW server_version).
  returned: always
  type: str
  sample: "15.14 (Debian 15.14-0+deb12u1)"
server_version_num:
  description: The server's version as a number (150014 for 15.14).
  returned: always
  type: int
listen_addresses:
  description: >-
    The addresses the running server listens on (SHOW listen_addresses): a
    changed setting takes effect only when the server restarts.
  returned: always
  type: str
  sample: localhost
actions:
  description: What was (or, in check mode, would be) done.
  returned: always
  type: list
  elements: str
'''

import re

from ansible.module_utils.basic import AnsibleModule

IDENTIFIER = re.compile(r'^[A-Za-z_][A-Za-z0-9_]{0,62}$')


class Psql:
    def __init__(self, module):
        self.module = module
        self.runuser = module.get_bin_path('runuser', required=True)
        self.psql = module.get_bin_path('psql', required=True)
        self.port = str(module.params['port'])

    def query(self, sql, database='postgres', variables=None):
        """Run SQL as the postgres user; variables are \\set first, for :'name' quoting."""
        script = ''.join(
            "\\set {} '{}'\n".format(key, value.replace('\\', '\\\\').replace("'", "\\'"))
            for key, value in (variables or {}).items()) + sql
        rc, out, err = self.module.run_command(
            [self.runuser, '-u', 'postgres', '--', self.psql, '--no-psqlrc', '--quiet',
             '--tuples-only', '--no-align', '--set=ON_ERROR_STOP=1', f'--port={self.port}',
             f'--dbname={database}'],
            data=script, binary_data=True)
        if rc != 0:
            self.module.fail_json(msg=f'psql on database {database} failed: {err.strip()}')
        return out.strip()

    def can_log_in(self, user, password, database):
        rc, _out, _err = self.module.run_command(
            [self.psql, '--no-psqlrc', '--host=127.0.0.1', f'--port={self.port}',
             f'--username={user}', f'--dbname={database}', '--command=SELECT 1'],
            environ_update={'PGPASSWORD': password, 'PGCONNECT_TIMEOUT': '5'})
        return rc == 0


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            owner=dict(type='str', required=True),
            password=dict(type='str', no_log=True),
            extensions=dict(type='list', elements='str', default=[]),
            port=dict(type='int', default=5432),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        required_if=[('state', 'present', ('password',))],
        supports_check_mode=True,
    )
    p = module.params
    for key in ('name', 'owner'):
        if not IDENTIFIER.match(p[key]):
            module.fail_json(msg=f'{key} {p[key]!r} is not a plain PostgreSQL identifier')
    for extension in p['extensions']:
        if not IDENTIFIER.match(extension):
            module.fail_json(msg=f'extension {extension!r} is not a plain identifier')
    if p['state'] == 'present':
        if not p['password']:
            module.fail_json(msg='state=present needs a password for the role')
        if '\n' in p['password'] or '\r' in p['password']:
            module.fail_json(msg='the password may not contain a line break')
    psql = Psql(module)
    version = psql.query('SHOW server_version;')
    version_num = int(psql.query('SHOW server_version_num;'))
    listen = psql.query('SHOW listen_addresses;')
    names = {'db': p['name'], 'role': p['owner']}
    role_exists = psql.query("SELECT count(*) FROM pg_roles WHERE rolname = :'role';",
                             variables=names) == '1'
    db_exists = psql.query("SELECT count(*) FROM pg_database WHERE datname = :'db';",
                           variables=names) == '1'
    actions = []

    def do(action, sql, database='postgres', variables=None):
        actions.append(action)
        if not module.check_mode:
            psql.query(sql, database, {**names, **(variables or {})})

    if p['state'] == 'absent':
        if db_exists:
            do(f"drop database {p['name']}", 'DROP DATABASE :"db";')
        if role_exists:
            do(f"drop role {p['owner']}", 'DROP ROLE :"role";')
    else:
        secret = {'password': p['password']}
        if not role_exists:
            do(f"create role {p['owner']}",
               "CREATE ROLE :\"role\" LOGIN PASSWORD :'password';", variables=secret)
        if not db_exists:
            do(f"create database {p['name']}", 'CREATE DATABASE :"db" OWNER :"role";')
        if role_exists and not psql.can_log_in(p['owner'], p['password'],
                                               p['name'] if db_exists else 'postgres'):
            do(f"set the password of {p['owner']}",
               "ALTER ROLE :\"role\" LOGIN PASSWORD :'password';", variables=secret)
        for extension in p['extensions']:
            present = db_exists and psql.query(
                "SELECT count(*) FROM pg_extension WHERE extname = :'ext';", p['name'],
                {'ext': extension}) == '1'
            if not present:
                do(f'create extension {extension} in {p["name"]}',
                   'CREATE EXTENSION IF NOT EXISTS :"ext";', p['name'], {'ext': extension})
    module.exit_json(changed=bool(actions), actions=actions, server_version=version,
                     server_version_num=version_num, listen_addresses=listen)


if __name__ == '__main__':
    main()
