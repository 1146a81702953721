#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Connect to the Prefect server's PostgreSQL as the server will, before the
# server is touched.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: database_check
version_added: "0.2.0"
short_description: Check that Prefect's PostgreSQL answers, takes the password and is new enough
description:
  - Connects with asyncpg, the driver Prefect uses, to the PostgreSQL database of
    O(url), with the same TLS settings, and fails with a message naming host, port,
    database and user (never the password) when the server cannot be reached, refuses
    the credentials, is older than O(min_version_num), or lacks the C(pg_trgm)
    extension Prefect's migrations create.
  - Run it with the Prefect virtualenv's Python as the interpreter
    (C(ansible_python_interpreter)), where asyncpg is installed.
author: prefect preset maintainers (!UNKNOWN)
requirements:
  - asyncpg (installed with Prefect)
options:
  url:
    description: The server's C(PREFECT_SERVER_DATABASE_CONNECTION_URL) (postgresql+asyncpg://...).
    type: str
    required: true
  ca_file:
    description: CA bundle the server's certificate must chain to (Prefect's TLS settings).
    type: path
  check_hostname:
    description: Whether the certificate must name the host (with O(ca_file)).
    type: bool
    default: true
  min_version_num:
    description: Oldest server version accepted, as server_version_num (140009 is 14.9).
    type: int
    default: 140009
  timeout:
    description: Seconds to wait for the connection.
    type: int
    default: 10
notes:
  - Supports check mode; it only reads.
'''

EXAMPLES = r'''
- name: Check the external database before the Prefect server is touched
  prefect_preset.prefect.database_check:
    url: "{{ database_url }}"
  vars:
    ansible_python_interpreter: /opt/prefect/venvs/3.8.8/bin/python
'''

RETURN = r'''
server_version:
  description: The server's version.
  returned: success
  type: str
server_version_num:
  description: The server's version as a number.
  returned: success
  type: int
size:
  description:
    - The database's size in bytes (pg_database_size), which an upgrade's backup needs room for.
  returned: success
  type: int
'''

import asyncio
from urllib.parse import parse_qsl, unquote, urlsplit

from ansible.module_utils.basic import AnsibleModule

try:
    import asyncpg
except ImportError:  # reported by main()
    asyncpg = None


def describe(url):
    parts = urlsplit(url)
    return (f"user {unquote(parts.username or '')!r} on database "
            f"{unquote(parts.path.lstrip('/'))!r} at {parts.hostname}:{parts.port or 5432}")


def connect_args(url, ca_file=None, check_hostname=True):
    """asyncpg.connect() arguments for a SQLAlchemy URL, as Prefect passes them."""
    import ssl

    parts = urlsplit(url)
    args = dict(host=parts.hostname, port=parts.port or 5432,
                user=unquote(parts.username or ''), password=unquote(parts.password or ''),
                database=unquote(parts.path.lstrip('/')))
    query = dict(parse_qsl(parts.query))
    if 'ssl' in query:
        args['ssl'] = query['ssl']
    if ca_file:
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = check_hostname
        args['ssl'] = context
    return args


async def probe(args, timeout):
    connection = await asyncpg.connect(timeout=timeout, **args)
    try:
        version = await connection.fetchval('SHOW server_version')
        number = int(await connection.fetchval('SHOW server_version_num'))
        trgm = await connection.fetchval(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")
        size = await connection.fetchval('SELECT pg_database_size(current_database())')
    finally:
        await connection.close()
    return version, number, trgm, size


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True, no_log=True),
            ca_file=dict(type='path'),
            check_hostname=dict(type='bool', default=True),
            min_version_num=dict(type='int', default=140009),
            timeout=dict(type='int', default=10),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if asyncpg is None:
        module.fail_json(msg='asyncpg is not importable: run this module with the Prefect '
                             "virtualenv's Python (ansible_python_interpreter)")
    where = describe(p['url'])
    args = connect_args(p['url'], p['ca_file'], p['check_hostname'])
    if args['password']:
        module.no_log_values.add(args['password'])
    try:
        version, number, trgm, size = asyncio.run(probe(args, p['timeout']))
    except asyncpg.InvalidPasswordError:
        module.fail_json(msg=f'PostgreSQL refused the password of {where}.')
    except asyncpg.InvalidCatalogNameError:
        module.fail_json(msg=f'PostgreSQL has no such database: {where}.')
    except (OSError, asyncio.TimeoutError) as error:
        why = str(error) or f"no answer within {p['timeout']} s"
        module.fail_json(msg=f'PostgreSQL cannot be reached for {where}: {why}')
    except Exception as error:  # asyncpg's other errors name their cause
        module.fail_json(msg=f'Connecting to PostgreSQL as {where} failed: '
                             f'{type(error).__name__}: {error}')
    if number < p['min_version_num']:
        major, minor = divmod(p['min_version_num'], 10000)
        module.fail_json(msg=f'Prefect needs PostgreSQL {major}.{minor} or newer; the server for '
                             f'{where} is {version}.', server_version=version,
                         server_version_num=number)
    if not trgm:
        module.fail_json(msg=f'The PostgreSQL server for {where} lacks the pg_trgm extension '
                             '(postgresql-contrib), which Prefect needs.')
    module.exit_json(changed=False, server_version=version, server_version_num=number, size=size)


if __name__ == '__main__':
    main()
