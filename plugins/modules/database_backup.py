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
short_description: Consistent, checked backups of the Prefect server's database, and restores
description:
  - With O(state=present), takes a backup into O(dest_dir), named
    C(prefect-LABEL-YYYYmmddTHHMMSSZ.db) (SQLite) or C(.dump) (PostgreSQL), checks it, writes
    its manifest beside it (C(.json) - this preset's, which database, Prefect version,
    Alembic revision, SHA-256), and deletes the oldest backups with the same label beyond
    O(keep).
  - SQLite backups use SQLite's online backup API, so the copy is consistent even while
    the server writes; the copy is then checked with C(PRAGMA quick_check).
  - PostgreSQL backups are C(pg_dump --format=custom), checked with C(pg_restore --list).
  - With O(state=restored), restores O(path) - refused unless its manifest says it is this
    preset's backup of this kind of database and its checksum matches - or, without O(path),
    the newest backup with the label (backups of release 0.2.0 have no manifest and are
    restored as they are). Stop the Prefect server first.
  - The same code (module_utils/backup.py) is the program the scheduled backup runs.
author: prefect preset maintainers (!UNKNOWN)
requirements:
  - pg_dump, pg_restore and psql (Debian package postgresql-client) for PostgreSQL.
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
    description: Label in the file name, the Prefect version the database belongs to.
    type: str
    required: true
  keep:
    description: Backups with this label kept after a new one is taken; older ones are deleted.
    type: int
    default: 3
  trigger:
    description: What took the backup, recorded in its manifest.
    type: str
    default: on-demand
    choices: [upgrade, on-demand, scheduled]
  path:
    description: With O(state=restored), the backup to restore (else the newest with the label).
    type: path
  owner:
    description: Owner of the backup files (the server's user).
    type: str
  group:
    description: Group of the backup files.
    type: str
  state:
    description: V(present) takes a backup; V(restored) restores one.
    type: str
    default: present
    choices: [present, restored]
notes:
  - Supports check mode; it then only says which file it would write or restore (a chosen
    backup is still checked against its manifest).
'''

EXAMPLES = r'''
- name: Back up the SQLite database before an upgrade from 3.8.8
  prefect_preset.prefect.database_backup:
    database: sqlite
    sqlite_path: /var/lib/prefect/prefect.db
    dest_dir: /var/lib/prefect/backups
    label: "3.8.8"
    trigger: upgrade
    owner: prefect
    group: prefect

- name: Restore a chosen backup of a PostgreSQL database
  prefect_preset.prefect.database_backup:
    database: postgresql
    host: 127.0.0.1
    name: prefect
    user: prefect
    password: "{{ vault_prefect_db_password }}"
    dest_dir: /var/lib/prefect/backups
    label: "3.9.1"
    path: /var/lib/prefect/backups/prefect-3.9.1-20261205T020000Z.dump
    state: restored
'''

RETURN = r'''
path:
  description: The backup written, or restored from.
  returned: always
  type: str
  sample: /var/lib/prefect/backups/prefect-3.9.1-20261121T101500Z.db
size:
  description: Size of the backup in bytes (0 in check mode for a new one).
  returned: always
  type: int
removed:
  description: Older backups deleted to keep O(keep).
  returned: always
  type: list
  elements: str
revision:
  description: The Alembic revision of the database in the backup (empty in check mode, or unknown).
  returned: always
  type: str
manifest:
  description: The restored backup's manifest (empty for a backup of release 0.2.0).
  returned: when O(state=restored)
  type: dict
'''

import os
import sqlite3

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.prefect_preset.prefect.plugins.module_utils.backup import (
    BackupError,
    PostgreSQL,
    backup_name,
    backups,
    manifest_path,
    read_manifest,
    restore,
    sqlite_restore,
    take,
)


def _postgresql(module):
    p = module.params
    return PostgreSQL(p['host'], p['port'], p['name'], p['user'], p.get('password') or '',
                      p['sslmode'], p.get('ca_file') or '',
                      runner=lambda argv, env: module.run_command(argv, environ_update=env),
                      which=module.get_bin_path)


def _own(module, path):
    module.set_owner_if_different(path, module.params['owner'], False)
    module.set_group_if_different(path, module.params['group'], False)


def _check_source(p):
    if p['database'] == 'sqlite':
        if not p.get('sqlite_path'):
            raise BackupError('database=sqlite needs sqlite_path')
        if p['state'] == 'present' and not os.path.isfile(p['sqlite_path']):
            raise BackupError(f"no SQLite database at {p['sqlite_path']}")


def take_backup(module):
    p = module.params
    _check_source(p)
    dest_dir = p['dest_dir']
    dest = os.path.join(dest_dir, backup_name(p['label'], p['database']))
    if module.check_mode:
        # A backup of the same second is replaced, not counted twice.
        older = [b for b in backups(dest_dir, p['label'], p['database']) if b != dest]
        removable = older[:max(0, len(older) - (p['keep'] - 1))]
        return dict(changed=True, path=dest, size=0, removed=removable, revision='')
    created = not os.path.isdir(dest_dir)
    postgresql = _postgresql(module) if p['database'] == 'postgresql' else None
    result = take(p['database'], dest_dir, p['label'], p['keep'], p['trigger'],
                  p.get('sqlite_path') or '', postgresql)
    if created:
        _own(module, dest_dir)
    for path in (result['path'], manifest_path(result['path'])):
        _own(module, path)
    return dict(changed=True, path=result['path'], size=result['size'],
                removed=result['removed'], revision=result['revision'])


def restore_backup(module):
    p = module.params
    _check_source(p)
    chosen = p.get('path')
    if chosen:
        manifest = read_manifest(chosen, p['database'])
    else:
        found = backups(p['dest_dir'], p['label'], p['database'])
        if not found:
            raise BackupError(
                f"no backup labelled {p['label']} in {p['dest_dir']}: nothing to restore from")
        chosen = found[-1]
        # Backups of release 0.2.0 have no manifest: restored as they are.
        manifest = (read_manifest(chosen, p['database'])
                    if os.path.exists(manifest_path(chosen)) else {})
    result = dict(changed=True, path=chosen, size=os.path.getsize(chosen), removed=[],
                  revision=manifest.get('alembic_revision', ''), manifest=manifest)
    if module.check_mode:
        return result
    postgresql = _postgresql(module) if p['database'] == 'postgresql' else None
    if manifest:
        restore(chosen, p['database'], p.get('sqlite_path') or '', postgresql)
    elif p['database'] == 'sqlite':
        sqlite_restore(chosen, p['sqlite_path'])
    else:
        postgresql.restore(chosen)
    if p['database'] == 'sqlite':
        _own(module, p['sqlite_path'])
    return result


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
            trigger=dict(type='str', default='on-demand',
                         choices=['upgrade', 'on-demand', 'scheduled']),
            path=dict(type='path'),
            owner=dict(type='str'),
            group=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'restored']),
        ),
        supports_check_mode=True,
    )
    if module.params['keep'] < 1:
        module.fail_json(msg=f"keep must be 1 or more, got {module.params['keep']}")
    try:
        result = (take_backup(module) if module.params['state'] == 'present'
                  else restore_backup(module))
    except (BackupError, sqlite3.Error, OSError) as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
