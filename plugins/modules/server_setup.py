#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Several work pools and automations over the Prefect REST API, in one call.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: server_setup
version_added: "0.3.0"
short_description: Manage several Prefect work pools and automations in one call
description:
  - Brings each work pool of O(work_pools) to its state as M(prefect_preset.prefect.work_pool)
    does, then each automation of O(automations) as M(prefect_preset.prefect.automation)
    does, in the order given, through one connection to the server's REST API.
  - One module call instead of one per object - a converge that changes nothing pays
    for starting Python and Ansible's module code once.
  - Stops at the first object the server refuses and fails naming it; the objects before
    it are as requested.
  - Needs only the Python standard library on the managed host.
author: prefect preset maintainers (!UNKNOWN)
requirements: []
extends_documentation_fragment:
  - prefect_preset.prefect.api
options:
  work_pools:
    description:
      - The work pools, each with the options of M(prefect_preset.prefect.work_pool) other than
        the API's.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the work pool.
        type: str
        required: true
      type:
        description: Worker type of the pool; the type of an existing pool cannot be changed.
        type: str
        default: process
      state:
        description: V(present) creates or updates the pool; V(absent) deletes it.
        type: str
        default: present
        choices: [present, absent]
      concurrency_limit:
        description:
          - Flow runs of the pool that may run at once; V(0) is unlimited.
          - When not set, the pool's limit is not managed.
        type: int
      paused:
        description: Whether the pool is paused; when not set, not managed.
        type: bool
      description:
        description: Description of the pool; when not set, not managed.
        type: str
      work_queues:
        description:
          - Work queues the pool must have (missing ones are created).
          - When not set, the pool's queues are not managed.
        type: list
        elements: str
      online_workers:
        description: Workers that must poll the pool before the module goes on.
        type: list
        elements: str
      online_timeout:
        description: Seconds to wait for O(work_pools[].online_workers).
        type: int
        default: 60
      base_job_template:
        description: The pool's base job template; when not set, not managed.
        type: dict
  automations:
    description:
      - The automations, each with the options of M(prefect_preset.prefect.automation) other
        than the API's.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the automation; several with this name are an error.
        type: str
        required: true
      description:
        description: Description of the automation.
        type: str
        default: ''
      enabled:
        description: Whether the automation is enabled.
        type: bool
        default: true
      trigger:
        description:
          - The trigger, as Prefect's API takes it.
          - Needed with O(automations[].state=present).
        type: dict
      actions:
        description:
          - The actions, as Prefect's API takes them.
          - Needed with O(automations[].state=present).
        type: list
        elements: dict
      state:
        description: V(present) creates or replaces the automation; V(absent) deletes it.
        type: str
        default: present
        choices: [present, absent]
notes:
  - Supports check mode (reads only) and diff mode (one diff per object that changes).
'''

EXAMPLES = r'''
- name: The work pools and the zombie-run automation
  prefect_preset.prefect.server_setup:
    api_url: http://127.0.0.1:4200/api
    work_pools:
      - name: default
      - name: etl
        concurrency_limit: 4
        work_queues: [high, low]
    automations:
      - name: Crash zombie flows
        trigger:
          type: event
          posture: Proactive
          match: {prefect.resource.id: ["prefect.flow-run.*"]}
          after: [prefect.flow-run.heartbeat]
          expect: [prefect.flow-run.heartbeat, prefect.flow-run.Completed]
          for_each: [prefect.resource.id]
          threshold: 1
          within: 90
        actions:
          - type: change-flow-run-state
            state: CRASHED
'''

RETURN = r'''
work_pools:
  description:
    - One entry per pool of O(work_pools), in order - its name, changed, the work_pool as the API
      returns it (predicted in check mode), created_queues when it has work_queues.
  returned: always
  type: list
  elements: dict
automations:
  description:
    - One entry per automation of O(automations), in order - its name, changed and the
      automation as the API returns it (predicted in check mode).
  returned: always
  type: list
  elements: dict
diff:
  description: The compared fields before and after, one entry per object that changes.
  returned: always
  type: list
  elements: dict
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
from ansible_collections.prefect_preset.prefect.plugins.module_utils.work_pools import (
    POOL_OPTIONS,
    PrefectApi,
    WorkPoolError,
    apply_pool,
    validate_params,
)

ARGUMENT_SPEC = dict(
    work_pools=dict(type='list', elements='dict', default=[], options=POOL_OPTIONS),
    automations=dict(type='list', elements='dict', default=[], options=AUTOMATION_OPTIONS),
    **API_ARGUMENT_SPEC,
)


class ObjectError(Exception):
    """A pool or automation the server or the module refused: what to fail with."""

    def __init__(self, where, error):
        prefix = f'{where}: '
        self.failure = (error.failure(prefix) if isinstance(error, PrefectApiError)
                        else dict(msg=prefix + to_text(error)))
        super().__init__(self.failure['msg'])


def apply(client, params, check_mode):
    """Each pool, then each automation; returns the result, raises naming the object."""
    pools = PrefectApi(client.api_url, client.request)
    automations = AutomationApi(client.api_url, client.request)
    result = dict(changed=False, work_pools=[], automations=[], diff=[])
    for pool in params['work_pools']:
        try:
            done = apply_pool(pools, pool, check_mode)
        except (PrefectApiError, WorkPoolError) as error:
            raise ObjectError(f"work pool {pool['name']!r}", error) from error
        result['work_pools'].append(
            dict(name=pool['name'], **{k: v for k, v in done.items() if k != 'diff'}))
        if done['changed']:
            result['diff'].append(done['diff'])
    for automation in params['automations']:
        try:
            done = ensure_automation(automations, automation, check_mode)
        except (PrefectApiError, AutomationError) as error:
            raise ObjectError(f"automation {automation['name']!r}", error) from error
        result['automations'].append(dict(name=automation['name'], changed=done['changed'],
                                          automation=done['automation']))
        if done['changed']:
            result['diff'].append(done['diff'])
    result['changed'] = bool(result['diff'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=API_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    client = client_from_module(module)  # also hides credentials embedded in api_url
    params = module.params
    error = api_url_error(params['api_url'])
    problems = [error] if error else [
        f"work pool {pool['name']!r}: {problem}" for pool in params['work_pools']
        for problem in [validate_params(dict(pool, api_url=params['api_url']))] if problem]
    if problems:
        module.fail_json(msg='; '.join(problems))
    try:
        result = apply(client, params, module.check_mode)
    except ObjectError as failed:
        module.fail_json(**failed.failure)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
