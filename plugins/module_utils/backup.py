# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
"""Consistent backups of the Prefect server's database, checked, with a manifest; restores.

One implementation for every backup the preset takes: the database_backup
module (before an upgrade, on demand, a restore) imports it, and the role
installs this same file on the server host as the program that
prefect-backup.service runs on a schedule:

    python3 prefect-backup --database sqlite --sqlite-path /var/lib/prefect/prefect.db \
        --dest-dir /var/lib/prefect/backups --version 3.9.1 --keep 7 --trigger scheduled \
        [--copy-dir /mnt/backups] [--post-command 'rclone copy "$1" remote:'] \
        [--textfile-dir /var/lib/prometheus/node-exporter]

(PostgreSQL: --database postgresql; the connection comes from
PREFECT_SERVER_DATABASE_CONNECTION_URL, the server's own environment file.
The post command defaults to PREFECT_BACKUP_POST_COMMAND, which the role
writes into the unit's environment file backup.env.)

A backup is two files: prefect-VERSION-STAMP.db (SQLite's online backup API,
checked with PRAGMA quick_check) or .dump (pg_dump --format=custom, checked
with pg_restore --list), and its manifest VERSION-STAMP.db.json, which says
it is this preset's, of which database and Prefect version, at which Alembic
revision, with the SHA-256 of the backup. A restore refuses a file without a
manifest or whose checksum differs.

Standard library only: it runs with the host's Python, outside Ansible.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

PRESET = 'prefect_preset.prefect'
FORMAT = 1
EXTENSIONS = {'sqlite': 'db', 'postgresql': 'dump'}
URL_SETTING = 'PREFECT_SERVER_DATABASE_CONNECTION_URL'
POST_COMMAND_SETTING = 'PREFECT_BACKUP_POST_COMMAND'


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


def backup_name(version, database, now=None):
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))
    return f'prefect-{version}-{stamp}.{EXTENSIONS[database]}'


def backups(dest_dir, version, database):
    """Backups of exactly this version, oldest first (the timestamp sorts)."""
    if not os.path.isdir(dest_dir):
        return []
    name = re.compile(rf'prefect-{re.escape(version)}-\d{{8}}T\d{{6}}Z\.{EXTENSIONS[database]}$')
    return sorted(os.path.join(dest_dir, n) for n in os.listdir(dest_dir) if name.match(n))


def manifest_path(path):
    return path + '.json'


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def sqlite_uri(path):
    """A read-only SQLite URI for any path (#, ? and % are escaped)."""
    return Path(path).absolute().as_uri() + '?mode=ro'


def _remove(path):
    if os.path.exists(path):
        os.unlink(path)


def sqlite_revision(path):
    """The Alembic revision of a SQLite database ('' when it has none)."""
    db = sqlite3.connect(sqlite_uri(path), uri=True)
    try:
        row = db.execute('SELECT version_num FROM alembic_version').fetchone()
    except sqlite3.Error:
        return ''
    finally:
        db.close()
    return row[0] if row else ''


def sqlite_backup(source, dest):
    """A consistent, checked copy of a live SQLite database; returns its Alembic revision."""
    if not os.path.isfile(source):
        raise BackupError(f'no SQLite database at {source}')
    partial = dest + '.partial'
    try:
        src = sqlite3.connect(sqlite_uri(source), uri=True)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                # One self-contained file: the copy carries the source's WAL mode,
                # and every later read of a WAL database leaves -wal and -shm beside it.
                dst.execute('PRAGMA journal_mode=DELETE').fetchone()
                check = dst.execute('PRAGMA quick_check').fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        if check != 'ok':
            raise BackupError(f'the copy of {source} failed its integrity check: {check}')
        os.replace(partial, dest)
    except sqlite3.Error as error:  # OperationalError (disk full), DatabaseError (not a database)
        raise BackupError(f'backing up {source} to {dest} failed: {error}') from None
    finally:
        _remove(partial)
    return sqlite_revision(dest)


def sqlite_restore(backup, target):
    for suffix in ('-wal', '-shm'):
        _remove(target + suffix)
    src = sqlite3.connect(sqlite_uri(backup), uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def run_command(argv, env):
    """The default runner: (rc, stdout, stderr) of argv with env added to os.environ."""
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True,
                          check=False)
    return done.returncode, done.stdout, done.stderr


class PostgreSQL:
    """pg_dump, pg_restore and psql against one database; the password only in their environment."""

    def __init__(self, host, port, name, user, password='', sslmode='prefer', ca_file='',
                 runner=run_command, which=shutil.which):
        missing = [k for k, v in (('host', host), ('name', name), ('user', user)) if not v]
        if missing:
            raise BackupError('database=postgresql needs ' + ', '.join(missing))
        self.env = {'PGHOST': host, 'PGPORT': str(port), 'PGDATABASE': name, 'PGUSER': user,
                    'PGSSLMODE': sslmode, 'PGCONNECT_TIMEOUT': '10'}
        if password:
            self.env['PGPASSWORD'] = password
        if ca_file:
            self.env['PGSSLROOTCERT'] = ca_file
        self.where = f'{user}@{host}:{port}/{name}'
        self.runner = runner
        self.which = which

    @classmethod
    def from_url(cls, url, sslmode='', ca_file='', **kwargs):
        """From Prefect's connection URL (postgresql+asyncpg://user:pass@host:port/name?ssl=...)."""
        parts = urlsplit(url)
        if not parts.scheme.startswith('postgres'):
            raise BackupError(f'{URL_SETTING} is not a PostgreSQL URL')
        ssl = dict(parse_qsl(parts.query)).get('ssl', '')
        try:
            port = parts.port or 5432
        except ValueError:  # its message quotes the text, which may be part of the password
            raise BackupError(f'{URL_SETTING} has a port that is not a number') from None
        return cls(parts.hostname or '', port, unquote(parts.path.lstrip('/')),
                   unquote(parts.username or ''), unquote(parts.password or ''),
                   sslmode or ssl or 'prefer', ca_file, **kwargs)

    def run(self, tool, *args):
        binary = self.which(tool)
        if binary is None:
            raise BackupError(f'{tool} not found on this host: install postgresql-client')
        rc, out, err = self.runner([binary, '--no-password', *args], self.env)
        if rc != 0:
            why = err.strip() or out.strip()
            raise BackupError(f'{tool} for {self.where} failed (exit {rc}): {why}')
        return out

    def revision(self):
        # --no-psqlrc: a ~/.psqlrc (\timing, \pset ...) would change the output read here.
        out = self.run('psql', '--no-psqlrc', '--tuples-only', '--no-align', '--quiet',
                       '--command=SELECT version_num FROM alembic_version')
        return out.strip()

    def size(self):
        return int(self.run('psql', '--no-psqlrc', '--tuples-only', '--no-align', '--quiet',
                            '--command=SELECT pg_database_size(current_database())').strip())

    def backup(self, dest):
        partial = dest + '.partial'
        try:
            revision = self.revision()
            self.run('pg_dump', '--format=custom', f'--file={partial}')
            self.run('pg_restore', '--list', partial)
            os.replace(partial, dest)
        finally:
            _remove(partial)
        return revision

    def restore(self, backup):
        self.run('pg_restore', '--clean', '--if-exists', '--no-owner', '--single-transaction',
                 f"--dbname={self.env['PGDATABASE']}", backup)


def write_manifest(path, database, version, revision, trigger, source):
    manifest = {
        'preset': PRESET, 'format': FORMAT, 'database': database,
        'prefect_version': version, 'alembic_revision': revision,
        'created': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'trigger': trigger, 'source': source,
        'size': os.path.getsize(path), 'sha256': sha256(path),
    }
    partial = manifest_path(path) + '.partial'
    try:
        with open(partial, 'w', encoding='utf-8') as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
            handle.write('\n')
        os.chmod(partial, 0o600)
        os.replace(partial, manifest_path(path))
    finally:
        _remove(partial)
    return manifest


def read_manifest(path, database=None):
    """The manifest of a backup this preset took, checked against the file; BackupError if not."""
    if not os.path.isfile(path):
        raise BackupError(f'{path} does not exist')
    try:
        with open(manifest_path(path), encoding='utf-8') as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        raise BackupError(f'{path} is not a backup of this preset: it has no manifest '
                          f'({manifest_path(path)})') from None
    except ValueError as error:
        raise BackupError(f'the manifest of {path} is not JSON: {error}') from None
    if manifest.get('preset') != PRESET or manifest.get('format') != FORMAT:
        raise BackupError(f'{path} is not a backup of this preset (its manifest says '
                          f"preset={manifest.get('preset')!r}, format={manifest.get('format')!r})")
    if database and manifest.get('database') != database:
        raise BackupError(f"{path} is a backup of {manifest.get('database')}; the server uses "
                          f'{database}')
    size = os.path.getsize(path)
    if size != manifest.get('size') or sha256(path) != manifest.get('sha256'):
        raise BackupError(f'{path} does not match its manifest (size {size}, expected '
                          f"{manifest.get('size')}; SHA-256 differs): it changed since it was "
                          'taken, or is incomplete')
    return manifest


def prune(dest_dir, version, database, keep):
    """Delete the oldest backups of the version beyond keep (with their manifests)."""
    found = backups(dest_dir, version, database)
    removed = found[:max(0, len(found) - keep)]
    for old in removed:
        # (-wal and -shm: left beside backups of earlier releases, which kept WAL mode)
        for path in (old, manifest_path(old), old + '-wal', old + '-shm'):
            _remove(path)
    return removed


def copy_to(path, copy_dir):
    """Copy a backup and its manifest into copy_dir, whole or not at all."""
    target = os.path.join(copy_dir, os.path.basename(path))
    try:
        for source, dest in ((path, target), (manifest_path(path), manifest_path(target))):
            partial = dest + '.partial'
            try:
                shutil.copyfile(source, partial)
                os.chmod(partial, 0o600)
                os.replace(partial, dest)
            finally:
                _remove(partial)
    except OSError as error:
        _remove(target)
        raise BackupError(f'copying {path} to {copy_dir} failed: {error}') from None
    return target


def take(database, dest_dir, version, keep=3, trigger='on-demand', sqlite_path='',
         postgresql=None):
    """Take a checked backup with its manifest, then keep the newest keep of the version."""
    if database == 'sqlite' and not sqlite_path:
        raise BackupError('database=sqlite needs sqlite_path')
    if database == 'postgresql' and postgresql is None:
        raise BackupError('database=postgresql needs the connection')
    if keep < 1:  # else prune would delete the backup just taken
        raise BackupError(f'keep must be 1 or more, got {keep}')
    if not os.path.isdir(dest_dir):
        os.makedirs(dest_dir, mode=0o700)
    dest = os.path.join(dest_dir, backup_name(version, database))
    try:
        if database == 'sqlite':
            revision, source = sqlite_backup(sqlite_path, dest), sqlite_path
        else:
            revision, source = postgresql.backup(dest), postgresql.where
        os.chmod(dest, 0o600)
        manifest = write_manifest(dest, database, version, revision, trigger, source)
    except OSError as error:
        _remove(dest)
        raise BackupError(f'writing the backup into {dest_dir} failed: {error}') from None
    return {'path': dest, 'size': manifest['size'], 'sha256': manifest['sha256'],
            'revision': revision, 'removed': prune(dest_dir, version, database, keep)}


def restore(path, database, sqlite_path='', postgresql=None):
    """Restore a checked backup over the database; stop the Prefect server first."""
    manifest = read_manifest(path, database)
    if database == 'sqlite':
        if not sqlite_path:
            raise BackupError('database=sqlite needs sqlite_path')
        sqlite_restore(path, sqlite_path)
    else:
        postgresql.restore(path)
    return manifest


def write_textfile(textfile_dir, ok, result, started):
    """node_exporter textfile metrics of the last backup (written whole, atomically)."""
    lines = [
        '# HELP prefect_backup_last_run_success '
        'Whether the last backup of the Prefect database succeeded.',
        '# TYPE prefect_backup_last_run_success gauge',
        f'prefect_backup_last_run_success {1 if ok else 0}',
        '# HELP prefect_backup_last_run_timestamp_seconds When the last backup attempt ended.',
        '# TYPE prefect_backup_last_run_timestamp_seconds gauge',
        f'prefect_backup_last_run_timestamp_seconds {time.time():.0f}',
        '# HELP prefect_backup_last_run_duration_seconds How long the last backup attempt took.',
        '# TYPE prefect_backup_last_run_duration_seconds gauge',
        f'prefect_backup_last_run_duration_seconds {time.time() - started:.3f}',
    ]
    if ok:
        lines += [
            '# HELP prefect_backup_last_success_timestamp_seconds '
            'When the last good backup was taken.',
            '# TYPE prefect_backup_last_success_timestamp_seconds gauge',
            f'prefect_backup_last_success_timestamp_seconds {time.time():.0f}',
            '# HELP prefect_backup_last_size_bytes Size of the last good backup.',
            '# TYPE prefect_backup_last_size_bytes gauge',
            f"prefect_backup_last_size_bytes {result['size']}",
        ]
    target = os.path.join(textfile_dir, 'prefect_backup.prom')
    partial = target + '.partial'
    with open(partial, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines) + '\n')
    os.chmod(partial, 0o644)
    os.replace(partial, target)


def _arguments(argv):
    parser = argparse.ArgumentParser(prog='prefect-backup',
                                     description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--database', choices=sorted(EXTENSIONS), required=True)
    parser.add_argument('--sqlite-path', default='')
    parser.add_argument('--sslmode', default='')
    parser.add_argument('--ca-file', default='')
    parser.add_argument('--dest-dir', required=True)
    parser.add_argument('--version', required=True, help='the Prefect version the database is at')
    parser.add_argument('--keep', type=int, default=3)
    parser.add_argument('--trigger', default='scheduled')
    parser.add_argument('--copy-dir', default='')
    # prefect-backup.service gets the command from its environment file
    # (backup.env), not from its command line.
    parser.add_argument('--post-command', default=os.environ.get(POST_COMMAND_SETTING, ''),
                        help='run with /bin/sh after a good backup; $1 is the backup '
                             f'(default: ${POST_COMMAND_SETTING})')
    parser.add_argument('--textfile-dir', default='')
    return parser.parse_args(argv)


def _say(text, stream=None):
    """One line of the program's report (stdout, or stderr for the failure)."""
    (stream or sys.stdout).write(text + '\n')


def main(argv=None):
    """The scheduled backup: take, check, keep N, copy, run the post command, report."""
    args = _arguments(argv)
    started = time.time()
    result = {}
    try:
        postgresql = None
        if args.database == 'postgresql':
            url = os.environ.get(URL_SETTING, '')
            if not url:
                raise BackupError(f'{URL_SETTING} is not set (the server environment file)')
            postgresql = PostgreSQL.from_url(url, args.sslmode, args.ca_file)
        result = take(args.database, args.dest_dir, args.version, args.keep, args.trigger,
                      args.sqlite_path, postgresql)
        _say(f"backup: {result['path']} ({result['size']} bytes, revision "
             f"{result['revision'] or 'none'}, sha256 {result['sha256']})")
        for old in result['removed']:
            _say(f'backup: removed {old} (keep {args.keep})')
        if args.copy_dir:
            copied = copy_to(result['path'], args.copy_dir)
            _say(f'backup: copied to {copied}')
            for old in prune(args.copy_dir, args.version, args.database, args.keep):
                _say(f'backup: removed {old} (keep {args.keep})')
        if args.post_command:
            done = subprocess.run(['/bin/sh', '-c', args.post_command, 'prefect-backup',
                                   result['path']],
                                  env={**os.environ, 'PREFECT_BACKUP_PATH': result['path'],
                                       'PREFECT_BACKUP_MANIFEST': manifest_path(result['path'])},
                                  check=False)
            if done.returncode != 0:
                raise BackupError(f'the post command exited {done.returncode}: '
                                  f'{args.post_command}')
            _say('backup: post command done')
    except (BackupError, OSError, sqlite3.Error) as error:
        _say(f'backup failed: {error}', sys.stderr)
        if args.textfile_dir:
            write_textfile(args.textfile_dir, False, result, started)
        return 1
    if args.textfile_dir:
        write_textfile(args.textfile_dir, True, result, started)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
