# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
"""Work pools through Prefect's API: what the work_pool module does for one pool
and the server_setup module for several in one call."""

import re
import time

from ansible_collections.prefect_preset.prefect.plugins.module_utils.prefect_api import (
    GENERIC_NOT_FOUND,
    PrefectClient,
    api_detail,
    api_url_error,
    json_equal,
)

# The options of one pool (the module adds the API's).
POOL_OPTIONS = dict(
    name=dict(type='str', required=True),
    work_queues=dict(type='list', elements='str'),
    online_workers=dict(type='list', elements='str'),
    online_timeout=dict(type='int', default=60),
    type=dict(type='str', default='process'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    concurrency_limit=dict(type='int'),
    paused=dict(type='bool'),
    description=dict(type='str'),
    base_job_template=dict(type='dict'),
)

# Every field this module can manage, in the order used for diffs.
FIELD_ORDER = ('name', 'type', 'description', 'is_paused', 'concurrency_limit',
               'base_job_template')

# Prefect's work pool name pattern is ^[^/%&><]+$.
INVALID_NAME_RE = re.compile(r'[/%&><]')


class WorkPoolError(Exception):
    """A request the module refuses to carry out (e.g. a type change)."""


class PrefectApi(PrefectClient):
    """The four work pool calls."""

    def pool_url(self, name):
        return self.url('work_pools', name)

    def get_pool(self, name):
        """The pool as a dict, or None when it does not exist."""
        url = self.pool_url(name)
        status, body = self.call('GET', url, allow=(404,))
        if status == 404:
            if api_detail(body) == GENERIC_NOT_FOUND:  # no such route: wrong api_url
                raise self.http_error('GET', url, status, body)
            return None
        return self.json('GET', url, body)

    def create_pool(self, payload):
        """POST the pool; returns the created pool, or None on 409 (it exists)."""
        url = f'{self.api_url}/work_pools/'
        status, body = self.call('POST', url, payload, ok=(200, 201), allow=(409,))
        if status == 409:
            return None
        return self.json('POST', url, body)

    def update_pool(self, name, changes):
        self.call('PATCH', self.pool_url(name), changes, ok=(200, 204))

    def queue_names(self, pool):
        url = f'{self.pool_url(pool)}/queues/filter'
        _status, body = self.call('POST', url, {})
        return [queue['name'] for queue in self.json('POST', url, body)]

    def create_queue(self, pool, name):
        url = f'{self.pool_url(pool)}/queues'
        self.call('POST', url, {'name': name}, ok=(200, 201), allow=(409,))

    def online_worker_names(self, pool):
        url = f'{self.pool_url(pool)}/workers/filter'
        _status, body = self.call('POST', url, {})
        return {w['name'] for w in self.json('POST', url, body) if w.get('status') == 'ONLINE'}

    def delete_pool(self, name):
        """DELETE the pool; False when it was already gone."""
        status, _body = self.call('DELETE', self.pool_url(name), ok=(200, 204), allow=(404,))
        return status != 404


def desired_fields(params):
    """The API fields the options ask for; unset options are not managed."""
    want = {}
    if params.get('description') is not None:
        want['description'] = params['description']
    if params.get('paused') is not None:
        want['is_paused'] = bool(params['paused'])
    if params.get('concurrency_limit') is not None:
        # 0 = unlimited = null
        want['concurrency_limit'] = params['concurrency_limit'] or None
    if params.get('base_job_template') is not None:
        want['base_job_template'] = params['base_job_template']
    return want


def view(pool, keys):
    if not pool:
        return {}
    return {k: pool.get(k) for k in FIELD_ORDER if k in keys}


def predict_status(pool, changes):
    if changes.get('is_paused') is True:
        return 'PAUSED'
    if changes.get('is_paused') is False and pool.get('status') == 'PAUSED':
        return 'NOT_READY'  # the server says READY only once a worker polls
    return pool.get('status')


def ensure_pool(api, params, check_mode=False):
    """Bring the pool to the requested state; returns the module result."""
    name = params['name']
    state = params.get('state') or 'present'
    pool_type = params.get('type') or 'process'

    current = api.get_pool(name)

    if state == 'absent':
        if current is None:
            return dict(changed=False, work_pool={}, diff=dict(before={}, after={}))
        changed = True
        if not check_mode:
            changed = api.delete_pool(name)
        return dict(changed=changed, work_pool={},
                    diff=dict(before=view(current, FIELD_ORDER), after={}))

    want = desired_fields(params)

    if current is None:
        if check_mode:
            created = dict(
                id=None, created=None, updated=None, name=name, description=None,
                type=pool_type, base_job_template={}, is_paused=False, concurrency_limit=None,
                default_queue_id=None,
            )
            created.update(want)
            created['status'] = 'PAUSED' if created['is_paused'] else 'NOT_READY'
            return dict(changed=True, work_pool=created,
                        diff=dict(before={}, after=view(created, FIELD_ORDER)))
        created = api.create_pool(dict(name=name, type=pool_type, **want))
        if created is not None:
            return dict(changed=True, work_pool=created,
                        diff=dict(before={}, after=view(created, FIELD_ORDER)))
        # 409: someone created it since our GET; manage it as an existing pool.
        current = api.get_pool(name)
        if current is None:
            raise WorkPoolError(f'Work pool {name!r} could not be created: the API reported a '
                                'conflict (HTTP 409) but the pool does not exist.')

    if current.get('type') != pool_type:
        raise WorkPoolError(
            f"Work pool {name!r} exists with type {current.get('type')!r}, but type "
            f"{pool_type!r} was requested. The type of a work pool cannot be changed; the pool "
            'must be deleted first (state=absent) and then created again.')

    changes = {k: v for k, v in want.items() if not json_equal(current.get(k), v)}
    keys = ('name', 'type', *want)
    before = view(current, keys)
    if not changes:
        return dict(changed=False, work_pool=current, diff=dict(before=before, after=before))

    predicted = dict(current)
    predicted.update(changes)
    predicted['status'] = predict_status(current, changes)
    if check_mode:
        return dict(changed=True, work_pool=predicted,
                    diff=dict(before=before, after=view(predicted, keys)))

    api.update_pool(name, changes)
    after = api.get_pool(name) or predicted
    return dict(changed=True, work_pool=after, diff=dict(before=before, after=view(after, keys)))


def ensure_queues(api, params, result, check_mode=False):
    """Create the missing work queues; adds them to the result's diff and changed."""
    wanted = params.get('work_queues')
    if wanted is None or params.get('state', 'present') != 'present':
        return result
    pool = params['name']
    have = [] if check_mode and not result['work_pool'].get('id') else api.queue_names(pool)
    missing = [q for q in wanted if q not in have]
    if missing and not check_mode:
        for queue in missing:
            api.create_queue(pool, queue)
    result['diff']['before']['work_queues'] = sorted(q for q in wanted if q in have)
    result['diff']['after']['work_queues'] = sorted(wanted)
    result['changed'] = result['changed'] or bool(missing)
    result['created_queues'] = missing
    return result


def wait_online(api, params, sleep=None, clock=None):
    """Wait until every name in online_workers polls the pool; raise naming the missing."""
    names = set(params.get('online_workers') or [])
    if not names:
        return
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + params.get('online_timeout', 60)
    while True:
        missing = names - api.online_worker_names(params['name'])
        if not missing:
            return
        if clock() >= deadline:
            raise WorkPoolError(
                f"workers not polling work pool {params['name']!r} after "
                f"{params.get('online_timeout', 60)} s: {', '.join(sorted(missing))}")
        sleep(2)


def apply_pool(api, params, check_mode=False):
    """The pool as PARAMS ask: the pool itself, its queues, then (for real) its workers
    polling; returns the module result for it."""
    result = ensure_queues(api, params, ensure_pool(api, params, check_mode), check_mode)
    if not check_mode:
        wait_online(api, params)
    return result


def validate_params(params):
    """Return an error message for option values the API would reject, or None."""
    name = params.get('name')
    if not name or not name.strip():
        return 'name must not be empty'
    if INVALID_NAME_RE.search(name):
        return f'name {name!r} is not a valid work pool name: it must not contain / % & > or <'
    if params.get('state', 'present') == 'present' and not (params.get('type') or '').strip():
        return 'type must not be empty'
    limit = params.get('concurrency_limit')
    if limit is not None and limit < 0:
        return f'concurrency_limit must be 0 (unlimited) or a positive number, got {limit}'
    if params.get('timeout') is not None and params['timeout'] <= 0:
        return 'timeout must be a positive number of seconds'
    return api_url_error(params.get('api_url'))
