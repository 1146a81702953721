#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Remove the versions of a flows code source that nothing runs any more.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: code_versions
version_added: "0.3.0"
short_description: Remove the old versions of a flows code source once nothing runs them
description:
  - In O(root), one directory per version of a code source, removes each version that is
    not in O(keep) and that no process on the host runs in - a flow run works in its
    version's directory (the deployment's set_working_directory step), so a run that
    started on an older version finishes on it, and the version goes at a later converge.
  - Leftovers of an interrupted copy (C(VERSION.partial)) are removed too, and O(root)
    itself once it is empty and O(keep) is (a source no longer declared).
author: prefect preset maintainers (!UNKNOWN)
requirements: []
options:
  root:
    description: The source's directory (install_dir/code/NAME).
    type: path
    required: true
  keep:
    description: Versions to keep whatever runs (the current one).
    type: list
    elements: str
    default: []
notes:
  - Supports check mode.
  - "Reads every process's working directory (/proc/PID/cwd), so run it as root."
'''

EXAMPLES = r'''
- name: Remove the versions of pipelines nothing runs
  prefect_preset.prefect.code_versions:
    root: /opt/prefect/code/pipelines
    keep: [f7cc51fd15e655c433e3641f63f9f0cd98af5a04]
'''

RETURN = r'''
removed:
  description: The versions removed (or that would be, in check mode).
  type: list
  elements: str
  returned: always
in_use:
  description: Old versions kept because a process runs in them.
  type: list
  elements: str
  returned: always
'''

import os
import shutil

from ansible.module_utils.basic import AnsibleModule


def working_directories(proc='/proc'):
    """Every process's working directory that can be read."""
    found = set()
    for pid in os.listdir(proc):
        if pid.isdigit():
            try:
                found.add(os.readlink(os.path.join(proc, pid, 'cwd')))
            except OSError:
                continue
    return found


def in_use(directory, cwds):
    prefix = directory.rstrip('/') + '/'
    return any(cwd == directory or cwd.startswith(prefix) for cwd in cwds)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path', required=True),
            keep=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    root, keep = module.params['root'], set(module.params['keep'])
    removed, busy = [], []
    if os.path.isdir(root):
        cwds = working_directories()
        for name in sorted(os.listdir(root)):
            path = os.path.join(root, name)
            if name in keep or not os.path.isdir(path):
                continue
            # /proc/PID/cwd is the real path: root may be reached through a symlink.
            if not name.endswith('.partial') and in_use(os.path.realpath(path), cwds):
                busy.append(name)
                continue
            removed.append(name)
            if not module.check_mode:
                shutil.rmtree(path)
        if not keep and not busy and not module.check_mode and not os.listdir(root):
            os.rmdir(root)
            removed.append('.')
    module.exit_json(changed=bool(removed), removed=removed, in_use=busy)


if __name__ == '__main__':
    main()
