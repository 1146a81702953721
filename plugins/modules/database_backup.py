#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Back up and restore the Prefect server's database (SQLite or PostgreSQL).
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: database_backup
version_added: "0.2.0"
short_description: Consistent backups of the Prefect server's database, and restores
description:
  - With O(state=present), takes a backup into O(dest_dir), named
    C(prefect-LABEL-YYYYmmddTHHMMSSZ.db) (SQLite) or C(.dump) (PostgreSQL), checks that
    it is readable, and deletes the oldest backups with the same label beyond O(keep).
  - SQLite backups use SQLite's online backup API, so the copy is consistent even while
    the server writes; the copy is then checked with C(PRAGMA quick_check).
  - PostgreSQL backups are C(pg_dump --format=custom), checked with C(pg_restore --list).
  - With O(state=restored), restores the newest backup with the label over the database;
    stop the Prefect server first.
author: prefect preset maintainers (!UNKNOWN)
requirements:
  - pg_dump and pg_restore (Debian package postgresql-client) for PostgreSQL.
options:
  database:
    description: Which database the server uses.
    type: str
    required: true
    choices: [sqlite, postgresql]
  sqlite_path:
    description: The SQLite database file (O(database=sqlite)).
    type: path
  host:
    description: PostgreSQL host (O(database=postgresql)).
    type: str
  port:
    description: PostgreSQL port.
    type: int
    default: 5432
  name:
    description: PostgreSQL database name.
    type: str
  user:
    description: PostgreSQL role.
    type: str
  password:
    description: Password of O(user); passed to pg_dump in its environment only.
    type: str
  sslmode:
    description: libpq sslmode for pg_dump and pg_restore.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_file:
    description: CA bundle for O(sslmode=verify-ca) and O(sslmode=verify-full).
    type: path
  dest_dir:
    description: Directory of the backups; created (mode 0700) when missing.
    type: path
    required: true
  label:
    description: Label in the file name, usually the Prefect version the database belongs to.
    type: str
    required: true
  keep:
    description: Backups with this label kept after a new one is taken; older ones are deleted.
    type: int
    default: 3
  owner:
    description: Owner of the backup files (the server's user).
    type: str
  group:
    description: Group of the backup files.
    type: str
  state:
    description: V(present) takes a backup; V(restored) restores the newest one with the label.
    type: str
    default: present
    choices: [present, restored]
notes:
  - Supports check mode; it then only says which file it would write or restore.
'''

EXAMPLES = r'''
- name: Back up the SQLite database before an upgrade from 3.7.8
  prefect_preset.prefect.database_backup:
    database: sqlite
    sqlite_path: /var/lib/prefect/prefect.db
    dest_dir: /var/lib/prefect/backups
    label: "3.7.8"
    owner: prefect
    group: prefect

- name: Restore the newest 3.7.8 backup of a PostgreSQL database
  prefect_preset.prefect.database_backup:
    database: postgresql
    host: 127.0.0.1
    name: prefect
    user: prefect
    password: "{{ vault_prefect_db_password }}"
    dest_dir: /var/lib/prefect/backups
    label: "3.7.8"
    state: restored
'''

RETURN = r'''
path:
  description: The backup written, or restored from.
  returned: always
  type: str
  sample: /var/lib/prefect/backups/prefect-3.7.8-20261121T101500Z.db
size:
  description: Size of the backup in bytes (0 in check mode).
  returned: always
  type: int
removed:
  description: Older backups deleted to keep O(keep).
  returned: always
  type: list
  elements: str
'''

import os
import re
import sqlite3
import time
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

EXTENSIONS = {'sqlite': 'db', 'postgresql': 'dump'}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


def backup_name(label, database, now=None):
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))
    return f'prefect-{label}-{stamp}.{EXTENSIONS[database]}'


def backups(dest_dir, label, database):
    """Backups with exactly this label, oldest first (the timestamp sorts)."""
    if not os.path.isdir(dest_dir):
        return []
    name = re.compile(rf'prefect-{re.escape(label)}-\d{{8}}T\d{{6}}Z\.{EXTENSIONS[database]}$')
    return sorted(os.path.join(dest_dir, n) for n in os.listdir(dest_dir) if name.match(n))


def sqlite_uri(path):
    """A read-only SQLite URI for any path (#, ? and % are escaped)."""
    return Path(path).absolute().as_uri() + '?mode=ro'


def remove_partial(path):
    if os.path.exists(path):
        os.unlink(path)


def sqlite_backup(source, dest):
    if not os.path.isfile(source):
        raise BackupError(f'no SQLite database at {source}')
    partial = dest + '.partial'
    try:
        src = sqlite3.connect(sqlite_uri(source), uri=True)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                check = dst.execute('PRAGMA quick_check').fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        if check != 'ok':
            raise BackupError(f'the copy of {source} failed its integrity check: {check}')
        os.replace(partial, dest)
    finally:
        remove_partial(partial)


def sqlite_restore(backup, target):
    src = sqlite3.connect(sqlite_uri(backup), uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


class PostgreSQL:
    def __init__(self, module):
        self.module = module
        p = module.params
        missing = [k for k in ('host', 'name', 'user') if not p.get(k)]
        if missing:
            raise BackupError('database=postgresql needs ' + ', '.join(missing))
        self.env = {
            'PGHOST': p['host'], 'PGPORT': str(p['port']), 'PGDATABASE': p['name'],
            'PGUSER': p['user'], 'PGSSLMODE': p['sslmode'], 'PGCONNECT_TIMEOUT': '10',
        }
        if p.get('password'):
            self.env['PGPASSWORD'] = p['password']
        if p.get('ca_file'):
            self.env['PGSSLROOTCERT'] = p['ca_file']
        self.where = f"{p['user']}@{p['host']}:{p['port']}/{p['name']}"

    def run(self, tool, *args):
        binary = self.module.get_bin_path(tool)
        if binary is None:
            raise BackupError(f'{tool} not found on this host: install postgresql-client')
        rc, out, err = self.module.run_command([binary, '--no-password', *args],
                                               environ_update=self.env)
        if rc != 0:
            why = err.strip() or out.strip()
            raise BackupError(f'{tool} for {self.where} failed (exit {rc}): {why}')
        return out

    def backup(self, dest):
        partial = dest + '.partial'
        try:
            self.run('pg_dump', '--format=custom', f'--file={partial}')
            self.run('pg_restore', '--list', partial)
            os.replace(partial, dest)
        finally:
            remove_partial(partial)

    def restore(self, backup):
        self.run('pg_restore', '--clean', '--if-exists', '--no-owner', '--single-transaction',
                 f"--dbname={self.env['PGDATABASE']}", backup)


def take(module):
    p = module.params
    dest_dir = p['dest_dir']
    if p['database'] == 'sqlite' and not p.get('sqlite_path'):
        raise BackupError('database=sqlite needs sqlite_path')
    if p['database'] == 'sqlite' and not os.path.isfile(p['sqlite_path']):
        raise BackupError(f"no SQLite database at {p['sqlite_path']}")
    dest = os.path.join(dest_dir, backup_name(p['label'], p['database']))
    # A backup of the same second is replaced, not counted twice.
    older = [b for b in backups(dest_dir, p['label'], p['database']) if b != dest]
    removable = older[:max(0, len(older) - (p['keep'] - 1))]
    if module.check_mode:
        return dict(changed=True, path=dest, size=0, removed=removable)
    if not os.path.isdir(dest_dir):
        os.makedirs(dest_dir, mode=0o700)
        module.set_owner_if_different(dest_dir, p['owner'], False)
        module.set_group_if_different(dest_dir, p['group'], False)
    if p['database'] == 'sqlite':
        if not p.get('sqlite_path'):
            raise BackupError('database=sqlite needs sqlite_path')
        sqlite_backup(p['sqlite_path'], dest)
    else:
        PostgreSQL(module).backup(dest)
    os.chmod(dest, 0o600)
    module.set_owner_if_different(dest, p['owner'], False)
    module.set_group_if_different(dest, p['group'], False)
    for old in removable:
        os.unlink(old)
    return dict(changed=True, path=dest, size=os.path.getsize(dest), removed=removable)


def restore(module):
    p = module.params
    found = backups(p['dest_dir'], p['label'], p['database'])
    if not found:
        raise BackupError(
            f"no backup labelled {p['label']} in {p['dest_dir']}: nothing to restore from")
    newest = found[-1]
    if module.check_mode:
        return dict(changed=True, path=newest, size=os.path.getsize(newest), removed=[])
    if p['database'] == 'sqlite':
        if not p.get('sqlite_path'):
            raise BackupError('database=sqlite needs sqlite_path')
        for suffix in ('-wal', '-shm'):
            if os.path.exists(p['sqlite_path'] + suffix):
                os.unlink(p['sqlite_path'] + suffix)
        sqlite_restore(newest, p['sqlite_path'])
        module.set_owner_if_different(p['sqlite_path'], p['owner'], False)
        module.set_group_if_different(p['sqlite_path'], p['group'], False)
    else:
        PostgreSQL(module).restore(newest)
    return dict(changed=True, path=newest, size=os.path.getsize(newest), removed=[])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            database=dict(type='str', required=True, choices=['sqlite', 'postgresql']),
            sqlite_path=dict(type='path'),
            host=dict(type='str'),
            port=dict(type='int', default=5432),
            name=dict(type='str'),
            user=dict(type='str'),
            password=dict(type='str', no_log=True),
            sslmode=dict(type='str', default='prefer',
                         choices=['disable', 'allow', 'prefer', 'require', 'verify-ca',
                                  'verify-full']),
            ca_file=dict(type='path'),
            dest_dir=dict(type='path', required=True),
            label=dict(type='str', required=True),
            keep=dict(type='int', default=3),
            owner=dict(type='str'),
            group=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'restored']),
        ),
        supports_check_mode=True,
    )
    if module.params['keep'] < 1:
        module.fail_json(msg=f"keep must be 1 or more, got {module.params['keep']}")
    try:
        result = take(module) if module.params['state'] == 'present' else restore(module)
    except (BackupError, sqlite3.Error, OSError) as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
