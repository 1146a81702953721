# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
"""Automations through Prefect's API: what the automation module does for one
and the server_setup module for several in one call."""

from ansible_collections.prefect_preset.prefect.plugins.module_utils.prefect_api import (
    PrefectClient,
    json_equal,
)

# The options of one automation (the module adds the API's).
AUTOMATION_OPTIONS = dict(
    name=dict(type='str', required=True),
    description=dict(type='str', default=''),
    enabled=dict(type='bool', default=True),
    trigger=dict(type='dict'),
    actions=dict(type='list', elements='dict'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
)


class AutomationError(Exception):
    """A request the module refuses to carry out."""


SCALARS = (str, int, float, bool, type(None))


def covers(current, wanted):
    """True when every key given in `wanted` has the same value in `current`
    (recursively for dicts, element-wise for lists); other keys are not compared.
    Lists of plain values are compared as sets: the server keeps a trigger's
    `expect` and `after` as sets and returns them in any order."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(
            k in current and covers(current[k], v) for k, v in wanted.items())
    if isinstance(wanted, list) and all(isinstance(w, SCALARS) for w in wanted):
        return (isinstance(current, list) and all(isinstance(c, SCALARS) for c in current)
                and sorted(map(repr, current)) == sorted(map(repr, wanted)))
    if isinstance(wanted, list):
        return (isinstance(current, list) and len(current) == len(wanted)
                and all(covers(c, w) for c, w in zip(current, wanted, strict=True)))
    return json_equal(current, wanted)


class AutomationApi(PrefectClient):

    def find(self, name):
        url = f'{self.api_url}/automations/filter'
        payload = {'automations': {'name': {'any_': [name]}}, 'limit': 10}
        # A read, but a POST: with CSRF protection on it needs the token too.
        _status, body = self.call('POST', url, payload)
        found = self.json('POST', url, body)
        if len(found) > 1:
            raise AutomationError(
                f'{len(found)} automations are named {name!r}; delete the extra ones first')
        return found[0] if found else None

    def create(self, body):
        url = f'{self.api_url}/automations/'
        _status, response = self.call('POST', url, body, ok=(200, 201))
        return self.json('POST', url, response)

    def replace(self, automation_id, body):
        self.call('PUT', self.url('automations', automation_id), body, ok=(200, 204))

    def delete(self, automation_id):
        self.call('DELETE', self.url('automations', automation_id), ok=(200, 204), allow=(404,))


def view(automation):
    if not automation:
        return {}
    return {k: automation.get(k) for k in ('name', 'description', 'enabled', 'trigger', 'actions')}


def ensure_automation(api, params, check_mode=False):
    name = params['name']
    current = api.find(name)
    if params['state'] == 'absent':
        if current is None:
            return dict(changed=False, automation={}, diff=dict(before={}, after={}))
        if not check_mode:
            api.delete(current['id'])
        return dict(changed=True, automation={}, diff=dict(before=view(current), after={}))

    if params.get('trigger') is None or params.get('actions') is None:
        raise AutomationError('state=present needs trigger and actions')
    wanted = dict(name=name, description=params['description'], enabled=params['enabled'],
                  trigger=params['trigger'], actions=params['actions'])
    if current is not None and covers(current, wanted):
        return dict(changed=False, automation=current,
                    diff=dict(before=view(current), after=view(current)))
    body = dict(wanted, actions_on_trigger=[], actions_on_resolve=[])
    after = dict(current or {}, **wanted)
    if not check_mode:
        if current is None:
            after = api.create(body)
        else:
            api.replace(current['id'], body)
    return dict(changed=True, automation=after, diff=dict(before=view(current), after=view(after)))
