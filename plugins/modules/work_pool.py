#!/usr/bin/python
#
# Manage one Prefect work pool over the Prefect REST API.
# Runs on the managed host with the system Python 3 and its standard library only.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: work_pool
version_added: "0.1.0"
short_description: Manage a Prefect work pool through the Prefect REST API
description:
  - Creates, updates or deletes one Prefect work pool by talking to the Prefect server's
    REST API (C(GET), C(POST), C(PATCH) and C(DELETE) on C(/work_pools)).
  - The module is idempotent. An existing pool is only updated when one of the managed
    fields differs, and only the differing fields are sent.
  - Options left unset (V(null)) are not managed, so values changed by hand in the Prefect
    UI are kept.
  - Needs only the Python standard library on the managed host; the Prefect client is not
    required.
author: prefect preset maintainers (!UNKNOWN)
requirements: []
extends_documentation_fragment:
  - prefect_preset.prefect.api
options:
  name:
    description:
      - Name of the work pool.
      - Prefect rejects names that contain V(/), V(%), V(&), V(>) or V(<).
    type: str
    required: true
  type:
    description:
      - Worker type of the pool, for example V(process), V(docker) or V(kubernetes).
      - The type of an existing pool cannot be changed. If the pool exists with another
        type the module fails; delete the pool first (O(state=absent)) and create it again.
    type: str
    required: false
    default: process
  state:
    description:
      - V(present) creates the pool or updates its managed fields.
      - V(absent) deletes the pool if it exists. Deleting a pool also deletes its work
        queues.
    type: str
    required: false
    default: present
    choices: [present, absent]
  concurrency_limit:
    description:
      - Maximum number of flow runs in the pool that may run at the same time.
      - V(0) means unlimited and is sent to the API as V(null).
      - When not set, the pool's concurrency limit is not managed.
    type: int
    required: false
  paused:
    description:
      - Whether the pool is paused. Workers of a paused pool poll but pick up no flow runs.
      - When not set, the paused state is not managed.
    type: bool
    required: false
  description:
    description:
      - Description of the pool.
      - When not set, the description is not managed.
    type: str
    required: false
  work_queues:
    description:
      - Work queues the pool must have; missing ones are created (at the lowest priority), queues
        not listed are left alone.
      - When not set, the pool's queues are not managed.
    type: list
    elements: str
    required: false
  online_workers:
    description:
      - Names of workers that must be polling the pool (status ONLINE on the server) before the
        module returns; it waits up to O(online_timeout) seconds and fails naming the ones that
        are not.
      - Used after starting workers, to prove they reach the server.
    type: list
    elements: str
    required: false
  online_timeout:
    description: Seconds to wait for O(online_workers).
    type: int
    required: false
    default: 60
  base_job_template:
    description:
      - The pool's base job template, a dictionary with the keys C(job_configuration) and
        C(variables).
      - Sent when the pool is created. On an existing pool it is updated only when it
        differs from the stored template, compared as JSON values.
      - When not set, a new pool gets the API's default (an empty template) and the
        template of an existing pool is not managed.
    type: dict
    required: false
notes:
  - Supports check mode. In check mode the module reads the pool but sends no C(POST),
    C(PATCH) or C(DELETE) request; RV(changed), RV(diff) and RV(work_pool) describe the
    predicted result.
  - Supports diff mode; the diff shows the managed fields of the pool before and after.
  - The raw API stores an empty O(base_job_template) (V({})) unless one is given. Workers
    and the Prefect UI expect the worker type's default template, so pass it explicitly
    (for the process worker, C(prefect work-pool get-default-base-job-template --type process)
    prints it).
  - A base job template contains Jinja-like placeholders such as C({{ command }}) that are
    meant for Prefect, not Ansible. Load it from a file (C(lookup('file', ...) | from_json))
    or mark it C(!unsafe) so that Ansible does not template it.
  - The base job template of an existing pool is compared as a JSON value; a template with
    the same content but a different key order is not a change. Setting
    O(base_job_template) replaces the whole template.
  - Error messages contain the HTTP status, the request URL without credentials and the
    API's C(detail).
  - When the server enforces CSRF protection (C(PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED)),
    the module fetches a CSRF token once and sends it with every change, as Prefect's own
    client does.
'''

EXAMPLES = r'''
- name: Create the default process work pool with the worker's default base job template
  prefect_preset.prefect.work_pool:
    api_url: http://127.0.0.1:4200/api
    name: default
    type: process
    concurrency_limit: 0
    paused: false
    base_job_template: "{{ lookup('file', 'process-base-job-template.json') | from_json }}"

- name: Limit a pool to three concurrent flow runs and pause it
  prefect_preset.prefect.work_pool:
    api_url: http://127.0.0.1:4200/api
    name: batch
    concurrency_limit: 3
    paused: true
    description: Nightly batch jobs

- name: Talk to a server protected with PREFECT_SERVER_API_AUTH_STRING
  prefect_preset.prefect.work_pool:
    api_url: https://prefect.example.com/api
    api_auth_string: "{{ vault_prefect_auth_string }}"
    name: default

- name: Remove a work pool
  prefect_preset.prefect.work_pool:
    api_url: http://127.0.0.1:4200/api
    name: old-pool
    state: absent
'''

RETURN = r'''
changed:
  description: Whether the pool was (or, in check mode, would be) created, updated or deleted.
  returned: always
  type: bool
  sample: true
work_pool:
  description:
    - The work pool as the API returns it after the change.
    - In check mode, the predicted state; fields only the server can fill in (C(id),
      C(default_queue_id), C(created)) are V(null) for a pool that would be created.
    - An empty dictionary when O(state=absent).
  returned: always
  type: dict
  sample:
    id: 31b12950-0bf6-4ddc-aaa6-5d2e05554a66
    name: default
    description: null
    type: process
    base_job_template: {}
    is_paused: false
    concurrency_limit: 3
    status: NOT_READY
    default_queue_id: fa9b1951-3980-42d1-8f68-ad319badce00
diff:
  description:
    - The managed fields of the pool before and after (V(name), V(type) and every field set
      by an option).
    - An empty dictionary stands for a pool that does not exist.
  returned: always
  type: dict
  contains:
    before:
      description: Managed fields before the change.
      type: dict
      returned: always
    after:
      description: Managed fields after the change.
      type: dict
      returned: always
  sample:
    before: {name: default, type: process, concurrency_limit: null}
    after: {name: default, type: process, concurrency_limit: 3}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.prefect_preset.prefect.plugins.module_utils.prefect_api import (
    API_ARGUMENT_SPEC,
    API_MUTUALLY_EXCLUSIVE,
    PrefectApiError,
    client_from_module,
)
from ansible_collections.prefect_preset.prefect.plugins.module_utils.work_pools import (
    POOL_OPTIONS,
    PrefectApi,
    WorkPoolError,
    apply_pool,
    validate_params,
)

ARGUMENT_SPEC = dict(**POOL_OPTIONS, **API_ARGUMENT_SPEC)

# Both become the Authorization header.
MUTUALLY_EXCLUSIVE = API_MUTUALLY_EXCLUSIVE


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    params = module.params
    client = client_from_module(module)  # also hides credentials embedded in api_url
    error = validate_params(params)
    if error:
        module.fail_json(msg=error)
    api = PrefectApi(client.api_url, client.request)

    try:
        result = apply_pool(api, params, check_mode=module.check_mode)
    except PrefectApiError as e:
        module.fail_json(**e.failure())
    except WorkPoolError as e:
        module.fail_json(msg=to_text(e))

    module.exit_json(**result)


if __name__ == '__main__':
    main()
