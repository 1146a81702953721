#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Write several small files into one directory in one module call.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: files
version_added: "0.2.0"
short_description: Write several small files into a directory in one call
description:
  - Writes each file of O(files) into O(dest) with the same owner, group and mode, but
    only those whose content or attributes differ; files not named are left alone.
  - Copying a directory with M(ansible.builtin.copy) costs a module call per file; this
    costs one call for all of them.
  - Writes atomically (a temporary file in O(dest), then a rename).
author: prefect preset maintainers (!UNKNOWN)
requirements: []
options:
  dest:
    description: The directory; it must exist.
    type: path
    required: true
  files:
    description: File name (no directories) to its content, as text.
    type: dict
    required: true
  owner:
    description: Owner of the files.
    type: str
    default: root
  group:
    description: Group of the files.
    type: str
    default: root
  mode:
    description: Mode of the files, as an octal string.
    type: str
    default: '0644'
notes:
  - Supports check mode and diff mode (the diff names the files that change).
'''

EXAMPLES = r'''
- name: Install the example flows
  prefect_preset.prefect.files:
    dest: /opt/prefect/flows
    files:
      hello.py: "{{ lookup('ansible.builtin.file', 'flows/hello.py', rstrip=false) }}"
'''

RETURN = r'''
written:
  description: Names of the files written (or that would be, in check mode).
  returned: always
  type: list
  elements: str
'''

import grp
import hashlib
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes


def current(path):
    try:
        st = os.stat(path)
        with open(path, 'rb') as handle:
            digest = hashlib.sha1(handle.read()).hexdigest()
    except OSError:
        return None
    return digest, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type='path', required=True),
            files=dict(type='dict', required=True),
            owner=dict(type='str', default='root'),
            group=dict(type='str', default='root'),
            mode=dict(type='str', default='0644'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    bad = [name for name in p['files'] if not name or '/' in name or name in ('.', '..')]
    if bad:
        module.fail_json(msg='; '.join(f'{name!r} is not a plain file name' for name in bad))
    if not os.path.isdir(p['dest']):
        if module.check_mode:  # its directory is only predicted too: every file is new
            names = sorted(p['files'])
            module.exit_json(changed=bool(names), written=names,
                             diff=dict(before='', after=''.join(f'{n}\n' for n in names)))
        module.fail_json(msg=f"{p['dest']} is not a directory")
    try:
        uid = pwd.getpwnam(p['owner']).pw_uid
        gid = grp.getgrnam(p['group']).gr_gid
        mode = int(p['mode'], 8)
    except (KeyError, ValueError) as error:
        module.fail_json(msg=f'bad owner, group or mode: {error}')
    written = []
    for name, content in sorted(p['files'].items()):
        data = to_bytes(content if content is not None else '')
        path = os.path.join(p['dest'], name)
        if current(path) == (hashlib.sha1(data).hexdigest(), uid, gid, mode):
            continue
        written.append(name)
        if module.check_mode:
            continue
        fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', dir=p['dest'])
        try:
            with os.fdopen(fd, 'wb') as handle:
                handle.write(data)
            os.chown(tmp, uid, gid)
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except OSError as error:
            if os.path.exists(tmp):
                os.unlink(tmp)
            module.fail_json(msg=f'cannot write {path}: {error}')
    module.exit_json(changed=bool(written), written=written,
                     diff=dict(before='', after=''.join(f'{n}\n' for n in written)))


if __name__ == '__main__':
    main()
