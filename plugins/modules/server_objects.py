#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Make a Prefect server hold the declared deployments, variables, Secret blocks and
# concurrency limits, and remove the ones the preset made that are no longer declared.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: server_objects
version_added: "0.3.0"
short_description: >-
  Declare deployments, variables, Secret blocks and concurrency limits on a Prefect server
description:
  - Reads what the server holds, works out what to create, change and remove (with
    module_utils/objects.py), and applies it through the API. A second run with the same
    declaration changes nothing; check mode reports the plan and changes nothing; with
    C(--diff) the changed fields are shown (secret values never).
  - Deployments point at their code by a path (C(deployments[].path), the code's version
    in it) through a set_working_directory pull step; a changed one is written whole, its
    schedules replaced exactly (no duplicate after a change of cron).
  - What the preset creates is marked - deployments with the label C(prefect-preset.source),
    variables with the tag C(prefect-preset), Secret blocks and concurrency limits in the
    variable C(prefect-preset-objects) - and only what is marked is removed (O(prune)).
    Objects created by hand are never touched unless declared by the same name (then adopted).
author: prefect preset maintainers (!UNKNOWN)
requirements: []
extends_documentation_fragment:
  - prefect_preset.prefect.api
options:
  deployments:
    description:
      - Deployments as the flows_plan filter returns them - name, flow_name, entrypoint, path,
        version, source, work_pool, work_queue, schedules, parameters, parameter_openapi_schema,
        tags, description, concurrency_limit, job_variables, paused.
    type: list
    elements: dict
    default: []
  variables:
    description: Prefect variables, name to value.
    type: dict
    default: {}
  secrets:
    description: Secret blocks, name to value.
    type: dict
    default: {}
  concurrency_limits:
    description: Global concurrency limits - name, limit, active (default true).
    type: list
    elements: dict
    default: []
  prune:
    description: Remove what the preset made that is no longer declared.
    type: bool
    default: true
notes:
  - Supports check mode and diff mode.
'''

EXAMPLES = r'''
- name: Declare a deployment, a variable, a secret and a limit
  prefect_preset.prefect.server_objects:
    api_url: http://127.0.0.1:4200/api
    deployments:
      - name: daily-sync
        flow_name: daily-sync
        entrypoint: flows/sync.py:daily_sync
        path: /opt/prefect/code/pipelines/4b825dc642cb
        version: 4b825dc642cb
        source: pipelines
        work_pool: etl
        schedules: [{cron: "0 2 * * *", timezone: Europe/Berlin, active: true}]
        parameters: {source: warehouse}
        concurrency_limit: 1
        tags: [prod]
    variables: {environment: prod}
    secrets: {warehouse-password: "{{ vault_wh_password }}"}
    concurrency_limits: [{name: warehouse, limit: 4}]
'''

RETURN = r'''
actions:
  description: What was (or, in check mode, would be) done - kind, name, op, changes.
  type: list
  elements: dict
  returned: always
summary:
  description: How many objects were created, updated and deleted.
  type: dict
  returned: always
'''

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.prefect_preset.prefect.plugins.module_utils.objects import (
    LEDGER,
    TAG,
    deployment_wire,
    ledger_after,
    plan,
)
from ansible_collections.prefect_preset.prefect.plugins.module_utils.prefect_api import (
    API_ARGUMENT_SPEC,
    API_MUTUALLY_EXCLUSIVE,
    PrefectApiError,
    api_url_error,
    client_from_module,
)

PAGE = 200


class Server:
    """The reads and writes of the plan, through one PrefectClient."""

    def __init__(self, client):
        self.client = client
        self._secret_type = None

    def post(self, path, body, ok=(200, 201)):
        url = self.client.url(*path.split('/'))
        _status, answer = self.client.call('POST', url, body, ok=ok)
        return self.client.json('POST', url, answer) if answer else None

    def send(self, method, path, body=None, ok=(200, 204)):
        self.client.call(method, self.client.url(*path.split('/')), body, ok=ok)

    def get(self, path, allow_missing=False):
        url = self.client.url(*path.split('/'))
        status, body = self.client.call('GET', url, ok=(200,),
                                        allow=(404,) if allow_missing else ())
        return None if status == 404 else self.client.json('GET', url, body)

    def all(self, path, body=None):
        out, offset = [], 0
        while True:
            page = self.post(path, {**(body or {}), 'limit': PAGE, 'offset': offset}, ok=(200,))
            out += page
            if len(page) < PAGE:
                return out
            offset += PAGE

    def read(self):
        deployments = self.all('deployments/filter')
        flows = {}
        ids = sorted({d['flow_id'] for d in deployments})
        for start in range(0, len(ids), PAGE):
            chunk = {'flows': {'id': {'any_': ids[start:start + PAGE]}}, 'limit': PAGE}
            for flow in self.post('flows/filter', chunk, ok=(200,)):
                flows[flow['id']] = flow['name']
        for deployment in deployments:
            deployment['flow_name'] = flows.get(deployment['flow_id'], '')
        variables = self.all('variables/filter')
        ledger = next((v.get('value') for v in variables if v['name'] == LEDGER), None) or {}
        secrets = {}
        for block in self.all('block_documents/filter', {
                'block_types': {'slug': {'any_': ['secret']}},
                'block_documents': {'is_anonymous': {'eq_': False}},
                'include_secrets': True}):
            secrets[block['name']] = {'id': block['id'],
                                      'value': (block.get('data') or {}).get('value')}
        # Every deployment with a limit has one here too (deployment:ID): read all pages.
        limits = self.all('v2/concurrency_limits/filter')
        return {'deployments': deployments, 'variables': variables, 'secrets': secrets,
                'concurrency_limits': limits, 'ledger': ledger if isinstance(ledger, dict) else {}}

    def flow_id(self, name):
        return self.post('flows/', {'name': name})['id']

    def secret_type(self):
        if self._secret_type is None:
            block_type = self.get('block_types/slug/secret')
            schemas = self.post('block_schemas/filter', {
                'block_schemas': {'block_type_id': {'any_': [block_type['id']]}}}, ok=(200,))
            self._secret_type = (block_type['id'], schemas[0]['id'])
        return self._secret_type

    def apply(self, action):
        kind, op, body, oid = action['kind'], action['op'], action['body'], action['id']
        if kind == 'deployment':
            if op == 'delete':
                self.send('DELETE', f'deployments/{oid}')
            else:  # the API's create is an upsert by flow and name: schedules replaced
                wire = {k: v for k, v in body.items() if k != 'flow_name'}
                self.post('deployments/', {**wire, 'flow_id': self.flow_id(body['flow_name'])})
        elif kind == 'variable':
            if op == 'delete':
                self.send('DELETE', f'variables/{oid}')
            elif op == 'create':
                self.post('variables/', body)
            else:
                self.send('PATCH', f'variables/{oid}', body)
        elif kind == 'secret':
            if op == 'delete':
                self.send('DELETE', f'block_documents/{oid}')
            elif op == 'create':
                type_id, schema_id = self.secret_type()
                self.post('block_documents/', {'name': action['name'], 'data': body,
                                               'block_type_id': type_id,
                                               'block_schema_id': schema_id})
            else:
                self.send('PATCH', f'block_documents/{oid}', {'data': body,
                                                              'merge_existing_data': False})
        elif kind == 'concurrency_limit':
            if op == 'delete':
                self.send('DELETE', f'v2/concurrency_limits/{oid}')
            elif op == 'create':
                self.post('v2/concurrency_limits/', body)
            else:
                self.send('PATCH', f'v2/concurrency_limits/{oid}', body)

    def write_ledger(self, current, ledger):
        existing = next((v for v in current['variables'] if v['name'] == LEDGER), None)
        if existing is None:
            self.post('variables/', {'name': LEDGER, 'value': ledger, 'tags': [TAG]})
        else:
            self.send('PATCH', f"variables/{existing['id']}", {'value': ledger, 'tags': [TAG]})


def declared_of(params):
    deployments = []
    for item in params['deployments']:
        wire = deployment_wire(item, None)
        wire.pop('flow_id')
        wire['flow_name'] = item['flow_name']
        deployments.append(wire)
    return {'deployments': deployments, 'variables': params['variables'],
            'secrets': {k: str(v) for k, v in params['secrets'].items()},
            'concurrency_limits': params['concurrency_limits']}


def shown(action):
    """An action as the result and the diff show it (no secret value)."""
    body = action['body']
    if action['kind'] == 'secret' or body is None:
        body = None
    elif action['kind'] == 'deployment':
        body = {k: body[k] for k in (action['changes'] or body) if k in body}
    return {'kind': action['kind'], 'name': action['name'], 'op': action['op'],
            'changes': action['changes'], 'after': body}


def diff_of(results):
    """What --diff shows: a line per action (op, kind, name), then each changed field's
    new value as JSON (none for a secret)."""
    lines = []
    for result in results:
        lines.append(f"{result['op']} {result['kind']} {result['name']}")
        shown_fields = (result['after'] or {}) if result['op'] != 'delete' else {}
        for key, value in sorted(shown_fields.items()):
            lines.append(f'  {key}: {json.dumps(value, sort_keys=True, default=str)}')
    return {'before': '', 'after': ''.join(line + '\n' for line in lines),
            'after_header': 'the server, after this run'}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            API_ARGUMENT_SPEC,
            deployments=dict(type='list', elements='dict', default=[]),
            variables=dict(type='dict', default={}),
            secrets=dict(type='dict', default={}, no_log=True),
            concurrency_limits=dict(type='list', elements='dict', default=[]),
            prune=dict(type='bool', default=True),
        ),
        mutually_exclusive=API_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    error = api_url_error(module.params['api_url'])
    if error:
        module.fail_json(msg=error)
    for value in module.params['secrets'].values():
        module.no_log_values.add(str(value))
    server = Server(client_from_module(module))
    declared = declared_of(module.params)
    try:
        current = server.read()
        actions = plan(declared, current, module.params['prune'])
        ledger = ledger_after(declared, current, module.params['prune'])
        ledger_changed = ledger != {k: sorted(current['ledger'].get(k) or [])
                                    for k in ('secrets', 'concurrency_limits')}
        if not module.check_mode:
            for action in actions:
                server.apply(action)
            if ledger_changed:
                server.write_ledger(current, ledger)
    except PrefectApiError as failure:
        module.fail_json(msg=str(failure))
    results = [shown(a) for a in actions]
    summary = {op: [f"{a['kind']} {a['name']}" for a in actions if a['op'] == op]
               for op in ('create', 'update', 'delete')}
    module.exit_json(changed=bool(actions) or ledger_changed, actions=results, summary=summary,
                     diff=diff_of(results))


if __name__ == '__main__':
    main()
