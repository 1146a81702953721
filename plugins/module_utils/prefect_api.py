# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
"""Talking to the Prefect REST API from Ansible modules, with the standard library
and Ansible's fetch_url only: credentials (basic auth or API key), Prefect's CSRF
tokens when the server enforces them, readable errors with credentials redacted."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.urls import fetch_url

# Options every module talking to the API accepts (merge into its argument_spec).
API_ARGUMENT_SPEC = dict(
    api_url=dict(type='str', required=True),
    api_auth_string=dict(type='str', no_log=True),
    api_key=dict(type='str', no_log=True),
    validate_certs=dict(type='bool', default=True),
    timeout=dict(type='int', default=30),
)
API_MUTUALLY_EXCLUSIVE = [('api_auth_string', 'api_key')]

# FastAPI's answer for a route that does not exist (as opposed to a missing object).
GENERIC_NOT_FOUND = 'Not Found'
MUTATING = ('POST', 'PATCH', 'PUT', 'DELETE')

# A busy or restarting server (SQLite under a burst of writes, an API server
# behind HAProxy being replaced) answers some requests with these before doing
# anything: any request is worth repeating after a pause. A read is also
# repeated when it got no answer at all (-1) or a gateway error, which after a
# write could mean the write happened: writes are not repeated then.
REFUSED_STATUS = (429, 503)
READ_RETRY_STATUS = (-1, 502, 504)
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)


class PrefectApiError(Exception):
    """A failed request to the Prefect API; msg is the user-facing message."""

    def __init__(self, msg, status=None, url=None, detail=None):
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.url = url
        self.detail = detail

    def failure(self, prefix=''):
        """What a module fails with: the message (after PREFIX), and the status and URL
        when known."""
        known = (('status', self.status), ('url', self.url))
        failure = dict(msg=prefix + self.msg)
        failure.update((key, value) for key, value in known if value is not None)
        return failure


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
    """HTTP layer: request(method, url, payload, headers) -> (status, body, msg).

    status is the HTTP status, or -1 when no HTTP response was received
    (connection refused, timeout, DNS or TLS failure); msg then says why.
    """

    def __init__(self, module, headers=None, timeout=30):
        self.module = module
        self.headers = dict(headers or {})
        self.timeout = timeout

    def __call__(self, method, url, payload=None, headers=None):
        for delay in (*RETRY_DELAYS, None):
            status, body, msg = self.once(method, url, payload, headers)
            transient = status in REFUSED_STATUS or (
                method == 'GET' and status in READ_RETRY_STATUS)
            if not transient or delay is None:
                return status, body, msg
            time.sleep(delay)

    def once(self, method, url, payload=None, headers=None):
        merged = dict(self.headers)
        merged.update(headers or {})
        merged['Accept'] = 'application/json'
        data = None
        if payload is not None:
            data = to_bytes(json.dumps(payload))
            merged['Content-Type'] = 'application/json'
        resp, info = fetch_url(
            self.module, url, data=data, headers=merged, method=method,
            timeout=self.timeout,
            # our own Authorization header must not be replaced by one from ~/.netrc
            use_netrc='Authorization' not in merged,
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


class PrefectClient:
    """Requests against one API root, with Prefect's CSRF token on mutating calls
    when the server enforces CSRF protection (it answers 422 for the token when not)."""

    def __init__(self, api_url, request):
        self.api_url = api_url.rstrip('/')
        self.request = request
        self._csrf = None  # None: not asked yet; {}: server does not enforce CSRF

    def url(self, *parts):
        return '/'.join([self.api_url, *(quote(p, safe='') for p in parts)])

    def _csrf_headers(self):
        if self._csrf is None:
            client = f'prefect-preset-{uuid.uuid4()}'
            url = f'{self.api_url}/csrf-token?client={quote(client)}'
            status, body, msg = self.request('GET', url, None, {})
            if status == 200:
                token = json.loads(to_text(body)).get('token')
                self._csrf = {'Prefect-Csrf-Token': token, 'Prefect-Csrf-Client': client}
            elif status in (404, 422):  # CSRF protection disabled (or an older server)
                self._csrf = {}
            else:
                self._check(status, body, msg, 'GET', url, ok=(200,))
        return self._csrf

    def call(self, method, url, payload=None, ok=(200,), allow=()):
        headers = self._csrf_headers() if method in MUTATING else {}
        status, body, msg = self.request(method, url, payload, headers)
        return self._check(status, body, msg, method, url, ok, allow)

    def _check(self, status, body, msg, method, url, ok=(200,), allow=()):
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
        elif status == 401:
            hint = ' (the server requires credentials: check api_auth_string, user:password)'
        return PrefectApiError(
            f'Prefect API request failed: HTTP {status} for {method} {safe_url}: {detail}{hint}',
            status=status, url=safe_url, detail=detail)

    def json(self, method, url, body):
        try:
            return json.loads(to_text(body, errors='surrogate_or_replace'))
        except ValueError:
            raise PrefectApiError(
                f'The Prefect API returned a response that is not JSON for {method} '
                f'{redact_url(url)}: {to_text(body)[:200]}',
                url=redact_url(url)) from None


def client_from_module(module):
    """A PrefectClient for the module's api_* options; api_url credentials are no_log."""
    params = module.params
    userinfo = urlsplit(params['api_url']).netloc.rpartition('@')[0]
    if userinfo:
        module.no_log_values.add(userinfo.partition(':')[2] or userinfo)
    transport = FetchUrlTransport(
        module,
        headers=auth_headers(params.get('api_auth_string'), params.get('api_key')),
        timeout=params['timeout'],
    )
    return PrefectClient(params['api_url'], transport)


def api_url_error(api_url):
    """A message when api_url is not an http(s) URL, else None."""
    if not re.match(r'^https?://', api_url or '', re.IGNORECASE):
        return f'api_url must be an http:// or https:// URL, got {redact_url(api_url or "")!r}'
    return None
