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
options:
  api_url:
    description:
      - Base URL of the Prefect API, including the C(/api) suffix, for example
        V(http://127.0.0.1:4200/api).
      - The same value as Prefect's C(PREFECT_API_URL) setting.
    type: str
    required: true
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
  api_auth_string:
    description:
      - Credentials for a self-hosted Prefect server protected with basic authentication,
        as V(user:password) (Prefect's C(PREFECT_API_AUTH_STRING)).
      - Sent as an HTTP basic C(Authorization) header.
      - Mutually exclusive with O(api_key).
    type: str
    required: false
  api_key:
    description:
      - API key (Prefect's C(PREFECT_API_KEY)), sent as a bearer token in the
        C(Authorization) header.
      - Mutually exclusive with O(api_auth_string).
    type: str
    required: false
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API when O(api_url) uses HTTPS.
    type: bool
    required: false
    default: true
  timeout:
    description:
      - Timeout in seconds of each HTTP request to the API.
    type: int
    required: false
    default: 30
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

import base64
import json
import re
from urllib.parse import quote, urlsplit, urlunsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.urls import fetch_url

ARGUMENT_SPEC = dict(
    api_url=dict(type='str', required=True),
    name=dict(type='str', required=True),
    type=dict(type='str', default='process'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    concurrency_limit=dict(type='int'),
    paused=dict(type='bool'),
    description=dict(type='str'),
    base_job_template=dict(type='dict'),
    api_auth_string=dict(type='str', no_log=True),
    api_key=dict(type='str', no_log=True),
    validate_certs=dict(type='bool', default=True),
    timeout=dict(type='int', default=30),
)

# Both become the Authorization header.
MUTUALLY_EXCLUSIVE = [('api_auth_string', 'api_key')]

# Every field this module can manage, in the order used for diffs.
FIELD_ORDER = ('name', 'type', 'description', 'is_paused', 'concurrency_limit',
               'base_job_template')

# Prefect's work pool name pattern is ^[^/%&><]+$.
INVALID_NAME_RE = re.compile(r'[/%&><]')

# FastAPI's answer for a route that does not exist (as opposed to a missing pool).
GENERIC_NOT_FOUND = 'Not Found'


class PrefectApiError(Exception):
    """A failed request to the Prefect API; msg is the user-facing message."""

    def __init__(self, msg, status=None, url=None, detail=None):
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.url = url
        self.detail = detail


class WorkPoolError(Exception):
    """A request the module refuses to carry out (e.g. a type change)."""


def redact_url(url):
    """Return url without user info (user:password@), safe for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if '@' not in parts.netloc:
        return url
    netloc = parts.netloc.rsplit('@', 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _validation_errors(items):
    out = []
    for item in items:
        if isinstance(item, dict):
            loc = '.'.join(to_text(x) for x in item.get('loc') or [] if x != 'body')
            msg = to_text(item.get('msg', item))
            out.append(f'{loc}: {msg}' if loc else msg)
        else:
            out.append(to_text(item))
    return out


def api_detail(body, fallback=None):
    """Extract a readable error text from a Prefect/FastAPI error body."""
    text = to_text(body or b'', errors='surrogate_or_replace').strip()
    if not text:
        return fallback or 'no response body'
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    if not isinstance(data, dict):
        return text[:500]
    parts = []
    detail = data.get('detail')
    if isinstance(detail, str):
        parts.append(detail)
    elif isinstance(detail, list):
        parts.extend(_validation_errors(detail))
    elif detail is not None:
        parts.append(json.dumps(detail, sort_keys=True))
    # Prefect's own format for request validation errors (HTTP 422)
    if data.get('exception_message'):
        parts.append(to_text(data['exception_message']))
    if isinstance(data.get('exception_detail'), list):
        parts.extend(_validation_errors(data['exception_detail']))
    return '; '.join(parts) if parts else text[:500]


def json_equal(a, b):
    """Compare two JSON values strictly: true != 1, 1 == 1.0, key order ignored."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(a[i], b[i]) for i in range(len(a)))
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (str, bytes)) and isinstance(b, (str, bytes)):
        return to_text(a) == to_text(b)
    return type(a) is type(b) and a == b


def auth_headers(api_auth_string=None, api_key=None):
    if api_auth_string:
        token = base64.b64encode(to_bytes(api_auth_string)).decode('ascii')
        return {'Authorization': f'Basic {token}'}
    if api_key:
        return {'Authorization': f'Bearer {api_key}'}
    return {}


class FetchUrlTransport:
    """HTTP layer: request(method, url, payload) -> (status, body, msg).

    status is the HTTP status, or -1 when no HTTP response was received
    (connection refused, timeout, DNS or TLS failure); msg then says why.
    """

    def __init__(self, module, headers=None, timeout=30):
        self.module = module
        self.headers = dict(headers or {})
        self.timeout = timeout

    def __call__(self, method, url, payload=None):
        headers = dict(self.headers)
        headers['Accept'] = 'application/json'
        data = None
        if payload is not None:
            data = to_bytes(json.dumps(payload))
            headers['Content-Type'] = 'application/json'
        resp, info = fetch_url(
            self.module, url, data=data, headers=headers, method=method,
            timeout=self.timeout,
            # our own Authorization header must not be replaced by one from ~/.netrc
            use_netrc='Authorization' not in headers,
        )
        status = info.get('status')
        if status is None:
            status = -1
        body = b''
        if resp is not None and 200 <= status < 300:
            try:
                body = resp.read()
            finally:
                resp.close()
        elif status >= 400:
            body = info.get('body') or b''
        return status, body, info.get('msg', '')


class PrefectApi:
    """The four work pool calls, on top of a replaceable request callable."""

    def __init__(self, api_url, request):
        self.api_url = api_url.rstrip('/')
        self.request = request

    def pool_url(self, name):
        return f"{self.api_url}/work_pools/{quote(name, safe='')}"

    def _call(self, method, url, payload=None, ok=(200,), allow=()):
        status, body, msg = self.request(method, url, payload)
        if status is None or status < 100:
            raise self.unreachable(method, url, msg)
        if status in ok or status in allow:
            return status, body
        raise self.http_error(method, url, status, body, msg)

    def unreachable(self, method, url, msg):
        reason = to_text(msg or 'no response')
        for prefix in ('Request failed: ', 'Connection failure: '):
            if reason.startswith(prefix):
                reason = reason[len(prefix):]
        # urllib wraps the cause in angle brackets ("<... error CAUSE>")
        match = re.match(r'^<[a-z]+ error (.*)>$', reason, re.DOTALL)
        if match:
            reason = match.group(1)
        return PrefectApiError(
            f'The Prefect API is not reachable at {redact_url(self.api_url)}: '
            f'{method} failed: {reason}',
            url=redact_url(url))

    def http_error(self, method, url, status, body, msg=None):
        safe_url = redact_url(url)
        detail = api_detail(body, fallback=msg)
        hint = ''
        if status == 404 and detail == GENERIC_NOT_FOUND:
            hint = (' (no such API endpoint: api_url must point at the API root,'
                    ' which usually ends in /api)')
        return PrefectApiError(
            f'Prefect API request failed: HTTP {status} for {method} {safe_url}: {detail}{hint}',
            status=status, url=safe_url, detail=detail)

    def _json(self, method, url, body):
        try:
            return json.loads(to_text(body, errors='surrogate_or_replace'))
        except ValueError:
            raise PrefectApiError(
                f'The Prefect API returned a response that is not JSON for {method} '
                f'{redact_url(url)}: {to_text(body)[:200]}',
                url=redact_url(url)) from None

    def get_pool(self, name):
        """The pool as a dict, or None when it does not exist."""
        url = self.pool_url(name)
        status, body = self._call('GET', url, allow=(404,))
        if status == 404:
            if api_detail(body) == GENERIC_NOT_FOUND:  # no such route: wrong api_url
                raise self.http_error('GET', url, status, body)
            return None
        return self._json('GET', url, body)

    def create_pool(self, payload):
        """POST the pool; returns the created pool, or None on 409 (it exists)."""
        url = f'{self.api_url}/work_pools/'
        status, body = self._call('POST', url, payload, ok=(200, 201), allow=(409,))
        if status == 409:
            return None
        return self._json('POST', url, body)

    def update_pool(self, name, changes):
        self._call('PATCH', self.pool_url(name), changes, ok=(200, 204))

    def delete_pool(self, name):
        """DELETE the pool; False when it was already gone."""
        status, _body = self._call('DELETE', self.pool_url(name), ok=(200, 204), allow=(404,))
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
    api_url = params.get('api_url') or ''
    if not re.match(r'^https?://', api_url, re.IGNORECASE):
        return f'api_url must be an http:// or https:// URL, got {redact_url(api_url)!r}'
    return None


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    params = module.params
    # credentials embedded in api_url (https://user:password@host/api) are secrets too
    userinfo = urlsplit(params['api_url']).netloc.rpartition('@')[0]
    if userinfo:
        module.no_log_values.add(userinfo.partition(':')[2] or userinfo)

    error = validate_params(params)
    if error:
        module.fail_json(msg=error)

    transport = FetchUrlTransport(
        module,
        headers=auth_headers(params.get('api_auth_string'), params.get('api_key')),
        timeout=params['timeout'],
    )
    api = PrefectApi(params['api_url'], transport)

    try:
        result = ensure_pool(api, params, check_mode=module.check_mode)
    except PrefectApiError as e:
        fail = dict(msg=e.msg)
        if e.status is not None:
            fail['status'] = e.status
        if e.url is not None:
            fail['url'] = e.url
        module.fail_json(**fail)
    except WorkPoolError as e:
        module.fail_json(msg=to_text(e))

    module.exit_json(**result)


if __name__ == '__main__':
    main()
