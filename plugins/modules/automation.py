#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Manage one Prefect automation over the Prefect REST API.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: automation
version_added: "0.2.0"
short_description: Manage a Prefect automation through the Prefect REST API
description:
  - Creates, updates or deletes one Prefect automation (a trigger and its actions), found
    by its name, through the Prefect server's REST API (C(/automations)).
  - Idempotent. An existing automation is replaced (C(PUT)) only when the description,
    the enabled flag, or a key given in O(trigger) or O(actions) differs from what the
    server holds; keys the server adds with their defaults are not compared.
  - Needs only the Python standard library on the managed host.
author: prefect preset maintainers (!UNKNOWN)
requirements: []
extends_documentation_fragment:
  - prefect_preset.prefect.api
options:
  name:
    description:
      - Name of the automation. Several automations with this name are an error.
    type: str
    required: true
  description:
    description:
      - Description of the automation.
    type: str
    default: ''
  enabled:
    description:
      - Whether the automation is enabled.
    type: bool
    default: true
  trigger:
    description:
      - The trigger, as Prefect's API takes it (for example C(type), C(match), C(after),
        C(expect), C(for_each), C(posture), C(threshold), C(within)).
      - Required with O(state=present).
    type: dict
  actions:
    description:
      - The actions run when the trigger fires, as Prefect's API takes them.
      - Required with O(state=present).
    type: list
    elements: dict
  state:
    description:
      - V(present) creates or replaces the automation; V(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Supports check mode (reads only) and diff mode (the compared fields before and after).
  - Proactive triggers, such as zombie-run detection, need the server's triggers service
    (C(PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED), on by default).
  - When the server enforces CSRF protection the module sends Prefect's CSRF token with
    every change.
'''

EXAMPLES = r'''
- name: Mark flow runs Crashed when their heartbeats stop (Prefect's zombie detection)
  prefect_preset.prefect.automation:
    api_url: http://127.0.0.1:4200/api
    name: Crash zombie flows
    trigger:
      type: event
      posture: Proactive
      match: {prefect.resource.id: ["prefect.flow-run.*"]}
      after: [prefect.flow-run.heartbeat]
      expect: [prefect.flow-run.heartbeat, prefect.flow-run.Completed, prefect.flow-run.Failed,
               prefect.flow-run.Cancelled, prefect.flow-run.Crashed]
      for_each: [prefect.resource.id]
      threshold: 1
      within: 90
    actions:
      - type: change-flow-run-state
        state: CRASHED
        message: Flow run marked as crashed due to missing heartbeats.

- name: Remove it
  prefect_preset.prefect.automation:
    api_url: http://127.0.0.1:4200/api
    name: Crash zombie flows
    state: absent
'''

RETURN = r'''
automation:
  description: The automation as the API returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
diff:
  description: The compared fields before and after.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.prefect_preset.prefect.plugins.module_utils.automations import (
    AUTOMATION_OPTIONS,
    AutomationApi,
    AutomationError,
    ensure_automation,
)
from ansible_collections.prefect_preset.prefect.plugins.module_utils.prefect_api import (
    API_ARGUMENT_SPEC,
    API_MUTUALLY_EXCLUSIVE,
    PrefectApiError,
    api_url_error,
    client_from_module,
)

ARGUMENT_SPEC = dict(**AUTOMATION_OPTIONS, **API_ARGUMENT_SPEC)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=API_MUTUALLY_EXCLUSIVE,
        required_if=[('state', 'present', ('trigger', 'actions'))],
        supports_check_mode=True,
    )
    client = client_from_module(module)
    error = api_url_error(module.params['api_url'])
    if error:
        module.fail_json(msg=error)
    api = AutomationApi(client.api_url, client.request)
    try:
        result = ensure_automation(api, module.params, check_mode=module.check_mode)
    except PrefectApiError as e:
        module.fail_json(msg=e.msg, status=e.status, url=e.url)
    except AutomationError as e:
        module.fail_json(msg=to_text(e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
