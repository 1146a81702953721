#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Everything the prefect role needs to know about a host, read in one call.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: host_info
version_added: "0.2.0"
short_description: Read the state of a Prefect installation in one call
description:
  - Reads, without changing anything, what the prefect role compares against before it
    changes a host - the system Python, whether systemd runs, the installed Prefect
    version and virtualenvs, the owner, mode and checksum of the files the role manages,
    the state of the Prefect units, the enabled worker instances, small stamp files,
    OS packages and service users.
  - One module call instead of one per fact keeps a no-op converge fast.
author: prefect preset maintainers (!UNKNOWN)
requirements: []
options:
  install_dir:
    description:
      - The role's install_dir (virtualenvs under C(venvs/), the active one at C(venv)).
    type: path
    required: true
  files:
    description: Files and directories to describe (exists, type, owner, group, mode, sha1).
    type: list
    elements: path
    default: []
  stat_only:
    description:
      - Files described like O(files) but never read, so without a checksum - files whose
        content the role does not compare and which may be large (the SQLite database, which
        can hold gigabytes, and the installer's binary).
      - Returned in RV(files) with the others; a path given in both is described with its checksum.
    type: list
    elements: path
    default: []
  stamps:
    description: Small text files whose content to return (at most 64 KiB each).
    type: list
    elements: path
    default: []
  listings:
    description: Directories whose entries (names) to return.
    type: list
    elements: path
    default: []
  unit_patterns:
    description: systemd unit name patterns whose state to return.
    type: list
    elements: str
    default: []
  packages:
    description: OS packages whose installed state to return (dpkg on Debian, rpm on RedHat).
    type: list
    elements: str
    default: []
  users:
    description: Users whose passwd entry to return.
    type: list
    elements: str
    default: []
  python:
    description: The system Python whose version to return as RV(python_version).
    type: path
    default: /usr/bin/python3
  pythons:
    description:
      - Python interpreters whose MAJOR.MINOR to return in RV(pythons) (those that do not
        exist or do not run are returned with an empty version), for choosing the one that
        builds the virtualenvs.
    type: list
    elements: path
    default: []
  space:
    description:
      - Paths whose file system to describe in RV(space) (free bytes for an unprivileged
        user, the device); a path that does not exist yet is described by its nearest
        existing parent.
    type: list
    elements: path
    default: []
notes:
  - Supports check mode (it never changes anything).
'''

EXAMPLES = r'''
- name: Read the host
  prefect_preset.prefect.host_info:
    install_dir: /opt/prefect
    files: [/etc/prefect/config.toml]
    unit_patterns: [prefect-server.service, "prefect-worker@*.service"]
    packages: [python3, python3-venv]
  register: host
'''

RETURN = r'''
python_version:
  description: MAJOR.MINOR of O(python), empty when it does not run.
  type: str
  returned: always
systemd:
  description: Whether systemd runs as the service manager (C(/run/systemd/system) exists).
  type: bool
  returned: always
installed_version:
  description: The Prefect version of the active virtualenv, empty when none.
  type: str
  returned: always
legacy_venv:
  description:
    - The active virtualenv is a directory of an earlier layout, not a link to C(venvs/VERSION).
  type: bool
  returned: always
venvs:
  description: Prefect versions with a virtualenv under C(venvs/).
  type: list
  elements: str
  returned: always
pythons:
  description: Path to MAJOR.MINOR, or empty when it does not exist or does not run.
  type: dict
  returned: always
space:
  description:
    - Path to free (bytes available), device (id of its file system) and measured (the
      existing path described).
  type: dict
  returned: always
files:
  description:
    - Path to exists, type (file, directory, link), owner, group, mode (octal string),
      size (of files, in bytes), checksum (sha1 of files, not of O(stat_only) ones),
      target (of links).
  type: dict
  returned: always
stamps:
  description: Path to content (empty when the file does not exist).
  type: dict
  returned: always
listings:
  description: Directory to the sorted names in it (empty when it does not exist).
  type: dict
  returned: always
units:
  description: >-
    Unit name to load, active, sub, enabled (the unit file state) and
    active_since_monotonic_us (when it last became active, microseconds since boot).
  type: dict
  returned: always
enabled_worker_instances:
  description: Instances (POOL-N) of prefect-worker@.service enabled on the host.
  type: list
  elements: str
  returned: always
packages:
  description: Package name to whether it is installed.
  type: dict
  returned: always
users:
  description: User name to uid, group, home and shell (absent users are missing).
  type: dict
  returned: always
'''

import glob
import grp
import hashlib
import os
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule

UNIT_PROPERTIES = ('Id', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState',
                   'ActiveEnterTimestampMonotonic')


def sha1(path):
    digest = hashlib.sha1()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 16), b''):
            digest.update(block)
    return digest.hexdigest()


def describe(path, checksum=True):
    try:
        st = os.lstat(path)
    except OSError:
        return {'exists': False}
    kind = ('link' if stat.S_ISLNK(st.st_mode) else 'directory' if stat.S_ISDIR(st.st_mode)
            else 'file')
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    info = {'exists': True, 'type': kind, 'owner': owner, 'group': group,
            'mode': f'{stat.S_IMODE(st.st_mode):04o}'}
    if kind == 'file':
        info['size'] = st.st_size
    if kind == 'file' and checksum:
        info['checksum'] = sha1(path)
    elif kind == 'link':
        info['target'] = os.readlink(path)
    return info


def prefect_version(venv):
    """The version in the venv's prefect-*.dist-info (no import: fast, and works for any Python)."""
    found = glob.glob(os.path.join(venv, 'lib', 'python3*', 'site-packages', 'prefect-*.dist-info'))
    for dist in sorted(found):
        match = re.match(r'prefect-([0-9][^-]*)\.dist-info$', os.path.basename(dist))
        if match:
            return match.group(1)
    return ''


def read_stamp(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read(65536).decode('utf-8', 'replace')
    except OSError:
        return ''


def unit_states(module, patterns):
    systemctl = module.get_bin_path('systemctl')
    if not patterns or systemctl is None or not os.path.isdir('/run/systemd/system'):
        return {}
    rc, out, _err = module.run_command(
        [systemctl, 'show', '--all', '--property', ','.join(UNIT_PROPERTIES), '--', *patterns])
    units = {}
    if rc != 0:
        return units
    for block in out.strip().split('\n\n'):
        props = dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
        name = props.get('Id')
        if not name or props.get('LoadState') == 'not-found':
            continue
        since = props.get('ActiveEnterTimestampMonotonic') or '0'
        units[name] = {
            'load': props.get('LoadState', ''),
            'active': props.get('ActiveState', ''),
            'sub': props.get('SubState', ''),
            'enabled': props.get('UnitFileState', ''),
            'active_since_monotonic_us': int(since) if since.isdigit() else 0,
        }
    return units


def package_status(module, packages):
    """Installed or not, per package: dpkg where there is dpkg, else rpm."""
    if not packages:
        return {}
    dpkg_query = module.get_bin_path('dpkg-query')
    if dpkg_query is not None:
        _rc, out, _err = module.run_command(
            [dpkg_query, '--show', '--showformat', '${Package} ${db:Status-Status}\n', *packages])
        installed = {line.split()[0] for line in out.splitlines() if line.endswith(' installed')}
        return {name: name in installed for name in packages}
    rpm = module.get_bin_path('rpm')
    if rpm is not None:
        # One line per package: its name when installed, "package X is not installed" else.
        _rc, out, _err = module.run_command([rpm, '-q', '--queryformat', '%{NAME}\n', *packages])
        installed = {line.strip() for line in out.splitlines() if ' ' not in line.strip()}
        return {name: name in installed for name in packages}
    return {}


def users(names):
    found = {}
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        try:
            group = grp.getgrgid(entry.pw_gid).gr_name
        except KeyError:
            group = str(entry.pw_gid)
        found[name] = {'uid': entry.pw_uid, 'group': group, 'home': entry.pw_dir,
                       'shell': entry.pw_shell}
    return found


def python_version(module, python):
    if not os.access(python, os.X_OK):
        return ''
    rc, out, _err = module.run_command(
        [python, '-c', "import sys; print('%d.%d' % sys.version_info[:2])"])
    return out.strip() if rc == 0 else ''


def space(path):
    """Free bytes and device of the file system that holds (or would hold) path."""
    measured = os.path.abspath(path)
    while not os.path.exists(measured) and measured != os.path.dirname(measured):
        measured = os.path.dirname(measured)
    fs = os.statvfs(measured)
    return {'free': fs.f_bavail * fs.f_frsize, 'device': os.stat(measured).st_dev,
            'measured': measured}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            install_dir=dict(type='path', required=True),
            files=dict(type='list', elements='path', default=[]),
            stat_only=dict(type='list', elements='path', default=[]),
            stamps=dict(type='list', elements='path', default=[]),
            listings=dict(type='list', elements='path', default=[]),
            unit_patterns=dict(type='list', elements='str', default=[]),
            packages=dict(type='list', elements='str', default=[]),
            users=dict(type='list', elements='str', default=[]),
            python=dict(type='path', default='/usr/bin/python3'),
            pythons=dict(type='list', elements='path', default=[]),
            space=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    venv = os.path.join(p['install_dir'], 'venv')
    venvs_dir = os.path.join(p['install_dir'], 'venvs')
    venvs = sorted(name for name in (os.listdir(venvs_dir) if os.path.isdir(venvs_dir) else [])
                   if os.path.isdir(os.path.join(venvs_dir, name)))
    wanted_links = glob.glob('/etc/systemd/system/*.wants/prefect-worker@?*.service')
    module.exit_json(
        changed=False,
        python_version=python_version(module, p['python']),
        pythons={path: python_version(module, path) for path in p['pythons']},
        space={path: space(path) for path in p['space']},
        systemd=os.path.isdir('/run/systemd/system'),
        installed_version=prefect_version(venv) if os.path.isdir(venv) else '',
        legacy_venv=os.path.isdir(venv) and not os.path.islink(venv),
        venvs=venvs,
        files={**{path: describe(path, checksum=False) for path in p['stat_only']},
               **{path: describe(path) for path in p['files']}},
        stamps={path: read_stamp(path) for path in p['stamps']},
        listings={path: sorted(os.listdir(path)) if os.path.isdir(path) else []
                  for path in p['listings']},
        units=unit_states(module, p['unit_patterns']),
        enabled_worker_instances=sorted({
            os.path.basename(link)[len('prefect-worker@'):-len('.service')]
            for link in wanted_links}),
        packages=package_status(module, p['packages']),
        users=users(p['users']),
    )


if __name__ == '__main__':
    main()
