#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Ask a Python package index, from the managed host, whether a release exists.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: package_index
version_added: "0.3.0"
short_description: Ask a Python package index whether a release of a package exists
description:
  - Reads the project page of O(name) on the package index (the simple repository API,
    PEP 691 JSON or PEP 503 HTML) from the managed host, through the host's network,
    proxies and trusted certificates, and says whether release O(version) is there and
    which Python it requires.
  - The prefect role asks before it changes anything, so that a version that does not
    exist (a typo) is refused on a host that stays as it was.
  - Never changes anything.
author: prefect preset maintainers (!UNKNOWN)
requirements: []
options:
  name:
    description: Package name.
    type: str
    required: true
  version:
    description: The release asked about.
    type: str
    required: true
  index_url:
    description:
      - Base URL of the simple repository (e.g. C(https://pypi.org/simple)); empty means PyPI.
      - Credentials in the URL (C(https://user:token@host/simple)) are sent as basic
        authentication and never returned.
    type: str
    default: ''
  extra_index_urls:
    description: Further indexes asked when O(index_url) does not have the release.
    type: list
    elements: str
    default: []
  ca_bundle:
    description: CA bundle to trust instead of the host's default store.
    type: path
    default: ''
  timeout:
    description: Seconds to wait for each index.
    type: int
    default: 20
notes:
  - Supports check mode (it never changes anything).
'''

EXAMPLES = r'''
- name: Is Prefect 3.9.1 on the index?
  prefect_preset.prefect.package_index:
    name: prefect
    version: "3.9.1"
  register: release
'''

RETURN = r'''
found:
  description: Whether some index has a file of the release.
  type: bool
  returned: always
requires_python:
  description: The release's Requires-Python (of its wheel, else of any file); empty when unknown.
  type: str
  returned: always
index:
  description: The index (without credentials) that has the release, else the first one asked.
  type: str
  returned: always
newest:
  description:
    - The newest final releases on the indexes with the same major version, newest first
      (at most 5).
  type: list
  elements: str
  returned: always
'''

import base64
import html
import json
import re
import ssl
import urllib.error
import urllib.parse

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

PYPI = 'https://pypi.org/simple'
ACCEPT = 'application/vnd.pypi.simple.v1+json, text/html;q=0.1'
ANCHOR = re.compile(r'<a\s([^>]*)>([^<]+)</a>', re.IGNORECASE)
REQUIRES = re.compile(r'data-requires-python\s*=\s*"([^"]*)"', re.IGNORECASE)


class IndexUnreadableError(Exception):
    """An index that could not be read; the message says which and why."""


def normalize(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def split_credentials(url):
    """(url without userinfo, Authorization header value or None)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.username:
        return url, None
    netloc = parts.hostname + (f':{parts.port}' if parts.port else '')
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or '')
    token = base64.b64encode(f'{user}:{password}'.encode()).decode()
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)), f'Basic {token}'


def file_version(project, filename):
    """The version in a wheel's or sdist's file name, or None (another project's file)."""
    if filename.endswith('.whl'):
        parts = filename[:-len('.whl')].split('-')
        if len(parts) < 5:
            return None
        dist, version = parts[0], parts[1]
    else:
        stem = next((filename[:-len(ext)] for ext in ('.tar.gz', '.zip')
                     if filename.endswith(ext)), None)
        if stem is None:
            return None
        dist, version = stem.rpartition('-')[::2]
    return version if normalize(dist) == normalize(project) else None


def parse(body, content_type):
    """[(filename, requires_python)] from a PEP 691 JSON or PEP 503 HTML page."""
    if 'json' in content_type:
        data = json.loads(body)
        return [(f['filename'], f.get('requires-python') or '') for f in data.get('files', [])]
    files = []
    for attributes, text in ANCHOR.findall(body):
        requires = REQUIRES.search(attributes)
        files.append((html.unescape(text.strip()),
                      html.unescape(requires.group(1)) if requires else ''))
    return files


def read_index(url, name, ca_bundle, timeout):
    plain, authorization = split_credentials(url.rstrip('/'))
    page = f'{plain}/{normalize(name)}/'
    headers = {'Accept': ACCEPT, 'User-Agent': 'prefect-preset'}
    if authorization:
        headers['Authorization'] = authorization
    try:
        with open_url(page, headers=headers, timeout=timeout, ca_path=ca_bundle or None,
                      http_agent='prefect-preset', force_basic_auth=False) as answer:
            body = answer.read().decode('utf-8', 'replace')
            content_type = answer.headers.get('Content-Type', '')
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return plain, []
        raise IndexUnreadableError(f'{page} answered HTTP {error.code} {error.reason}') from None
    except (urllib.error.URLError, OSError, ssl.SSLError) as error:
        reason = getattr(error, 'reason', error)
        raise IndexUnreadableError(f'{page} could not be read: {reason}') from None
    return plain, parse(body, content_type)


def release_key(version):
    return tuple(int(part) for part in version.split('.'))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            version=dict(type='str', required=True),
            index_url=dict(type='str', default=''),
            extra_index_urls=dict(type='list', elements='str', default=[]),
            ca_bundle=dict(type='path', default=''),
            timeout=dict(type='int', default=20),
        ),
        supports_check_mode=True,
    )
    p = module.params
    indexes = [p['index_url'] or PYPI, *p['extra_index_urls']]
    major = p['version'].split('.')[0]
    first, versions, requires = None, set(), None
    for url in indexes:
        try:
            where, files = read_index(url, p['name'], p['ca_bundle'], p['timeout'])
        except IndexUnreadableError as error:
            module.fail_json(msg=f"Cannot ask the package index whether {p['name']} "
                                 f"{p['version']} exists: {error}. Check index_url, "
                                 "extra_index_urls, ca_bundle and the host's network.")
        first = first or where
        for filename, requires_python in files:
            version = file_version(p['name'], filename)
            if version is None:
                continue
            if re.fullmatch(r'\d+\.\d+\.\d+', version) and version.split('.')[0] == major:
                versions.add(version)
            if version == p['version'] and (requires is None or filename.endswith('.whl')):
                requires = (requires_python, where)
    newest = sorted(versions, key=release_key, reverse=True)[:5]
    module.exit_json(changed=False, found=requires is not None,
                     requires_python=requires[0] if requires else '',
                     index=requires[1] if requires else first, newest=newest)


if __name__ == '__main__':
    main()
