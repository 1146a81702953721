#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# The documentation and argument spec of the rendered_files action: it runs on
# the controller (plugins/action/rendered_files.py), never on the host.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: rendered_files
version_added: "0.3.0"
short_description: Render templates on the controller and say which differ from the host
description:
  - Renders each template of O(files) as M(ansible.builtin.template) would write it (the
    task's variables, C(ansible_managed), and the file's own C(template_vars)) and
    returns the SHA-1 of each content.
  - Compares each with what the host holds (O(host_files), as
    M(prefect_preset.prefect.host_info) read it) and returns the destinations whose content,
    mode, owner or group differ, in the order of O(files).
  - Runs on the controller only and changes nothing. The variables are not copied per
    template (the template lookup copies all of them for each one), so many templates
    cost little.
author: prefect preset maintainers (!UNKNOWN)
requirements: []
options:
  files:
    description:
      - The files, in the order they are written. Each has C(src) (the template, found as
        M(ansible.builtin.template) finds its source), C(dest) (where it goes on the host) and
        C(mode) (an octal string); optionally C(group) (default C(root)) and C(template_vars)
        (variables only this template sees, over the task's).
      - Other keys (for example C(validate), C(secret)) are ignored.
    type: list
    elements: dict
    required: true
  host_files:
    description:
      - Destination to what the host holds there (C(checksum), C(mode), C(owner), C(group));
        a destination missing here, or with no C(checksum), is a file the host lacks.
    type: dict
    default: {}
  owner:
    description: The owner every file must have.
    type: str
    default: root
notes:
  - Supports check mode (it changes nothing in any mode).
'''

EXAMPLES = r'''
- name: Render the files and compare them with the host
  prefect_preset.prefect.rendered_files:
    files:
      - src: config.toml.j2
        dest: /etc/prefect/config.toml
        mode: "0644"
    host_files: "{{ host_read.files }}"
  register: rendered
  no_log: true  # templates that hold secrets
'''

RETURN = r'''
checksums:
  description: Destination to the SHA-1 of the content rendered for it.
  returned: always
  type: dict
  sample: {"/etc/prefect/config.toml": "3f786850e387550fdab836ed7e6dc881de23001b"}
stale:
  description: Destinations the host lacks or holds with other content, mode, owner or group.
  returned: always
  type: list
  elements: str
  sample: ["/etc/prefect/config.toml"]
'''

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(
    files=dict(type='list', elements='dict', required=True),
    host_files=dict(type='dict', default={}),
    owner=dict(type='str', default='root'),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg='rendered_files runs on the controller (its action plugin); '
                         'it cannot run as a module on the host.')


if __name__ == '__main__':
    main()
