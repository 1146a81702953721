# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
"""Flows as code on the server: what to create, change or remove, worked out from what the
server holds (read) and what is declared. Pure data in, actions out; the server_objects
module reads and applies them. Standard library only.

What the preset owns, so that it never touches what it did not create:
deployments carry the label LABEL (the code source's name); variables the
tag TAG; Secret blocks and concurrency limits are named in the ledger, a
variable of the preset's own (LEDGER) - all of it in the database, so a
backup and a restore keep ownership with the objects.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python < 3.9 hosts read naive dates as UTC
    ZoneInfo = None  # type: ignore[assignment,misc]

LABEL = 'prefect-preset.source'
TAG = 'prefect-preset'
LEDGER = 'prefect-preset-objects'


def _same(a, b):
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def schedule_wire(schedule):
    """A declared schedule as the API takes it: {schedule: {...}, active}."""
    body = {k: v for k, v in schedule.items() if k != 'active' and v is not None}
    return {'schedule': body, 'active': bool(schedule.get('active', True))}


def _instant(text, zone):
    """An ISO date and time as the UTC instant it names (a naive one read in zone)."""
    try:
        moment = datetime.fromisoformat(str(text).replace('Z', '+00:00'))
    except ValueError:
        return str(text)
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
        except Exception:  # no zoneinfo or no tz database on this host: UTC
            moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def _without_dtstart(rule):
    return '\n'.join(line for line in str(rule).splitlines()
                     if not line.upper().startswith('DTSTART'))


def _declares_anchor(entry):
    body = entry['schedule']
    return bool(body.get('anchor_date')) or 'DTSTART' in str(body.get('rrule') or '').upper()


def _schedule_key(entry, declared):
    """What of a schedule entry ({schedule, active}) is compared with the declared one:
    its kind and value, day_or, timezone (none is UTC, as the server runs it) and active;
    an interval's anchor_date and an rrule's DTSTART only when declared, since the server
    fills them in otherwise."""
    body = entry.get('schedule') or {}
    wanted = declared.get('schedule') or {}
    zone = body.get('timezone') or 'UTC'
    key = {'active': bool(entry.get('active', True)), 'timezone': zone}
    if body.get('cron') is not None:
        key.update(cron=body['cron'], day_or=bool(body.get('day_or', True)))
    elif body.get('interval') is not None:
        key['interval'] = float(body['interval'])
        if wanted.get('anchor_date'):
            key['anchor_date'] = _instant(body.get('anchor_date'), zone)
    elif body.get('rrule') is not None:
        exact = _declares_anchor(declared)
        key['rrule'] = str(body['rrule']) if exact else _without_dtstart(body['rrule'])
    return json.dumps(key, sort_keys=True, default=str)


def schedules_differ(current, wanted):
    """Whether the server's schedules differ from the wanted ones (as schedule_wire makes
    them), compared as a set (order aside) on what each wanted schedule declares; the
    server fills in others (an interval's anchor_date, an rrule's DTSTART, the timezone)."""
    if len(current) != len(wanted):
        return True
    left = list(current)
    # The wanted schedules that declare more (anchor_date, DTSTART) match fewer: first.
    for entry in sorted(wanted, key=lambda w: not _declares_anchor(w)):
        key = _schedule_key(entry, entry)
        match = next((i for i, have in enumerate(left) if _schedule_key(have, entry) == key),
                     None)
        if match is None:
            return True
        del left[match]
    return False


def deployment_wire(declared, flow_id):
    """A declared deployment as the API's DeploymentCreate takes it."""
    wire = {
        'name': declared['name'],
        'flow_id': flow_id,
        'entrypoint': declared['entrypoint'],
        'path': declared['path'],
        'pull_steps': [{'prefect.deployments.steps.set_working_directory':
                        {'directory': declared['path']}}],
        'work_pool_name': declared['work_pool'],
        'work_queue_name': declared.get('work_queue') or 'default',
        'parameters': declared.get('parameters') or {},
        'parameter_openapi_schema': declared.get('parameter_openapi_schema')
        or {'type': 'object', 'properties': {}},
        'enforce_parameter_schema': False,
        'tags': list(declared.get('tags') or []),
        'labels': {LABEL: declared['source']},
        'description': declared.get('description') or None,
        'version': declared['version'],
        'concurrency_limit': declared.get('concurrency_limit'),
        'job_variables': declared.get('job_variables') or {},
        'paused': bool(declared.get('paused', False)),
        'schedules': [schedule_wire(s) for s in declared.get('schedules') or []],
    }
    return wire


COMPARED = ('entrypoint', 'path', 'pull_steps', 'work_pool_name', 'work_queue_name', 'parameters',
            'parameter_openapi_schema', 'enforce_parameter_schema', 'tags', 'description',
            'version', 'job_variables', 'paused')


def deployment_changes(current, wire):
    """The fields of a deployment that differ from the declaration (schedules included)."""
    changed = [k for k in COMPARED if not _same(current.get(k), wire[k])]
    # The server keeps a deployment's limit as a global concurrency limit of its own.
    limit = (current.get('global_concurrency_limit') or {}).get('limit',
                                                                current.get('concurrency_limit'))
    if limit != wire['concurrency_limit']:
        changed.append('concurrency_limit')
    if (current.get('labels') or {}).get(LABEL) != wire['labels'][LABEL]:
        changed.append('labels')
    if schedules_differ(current.get('schedules') or [], wire['schedules']):
        changed.append('schedules')
    return changed


def plan(declared, current, prune=True):
    """Actions to make the server hold the declaration.

    declared: deployments (wire dicts without flow_id, with flow_name), variables (dict),
      secrets (dict), concurrency_limits (list of name, limit, active).
    current: deployments (server dicts with flow_name added), variables, secrets (name to
      {id, value}), concurrency_limits (server dicts), ledger (secrets, concurrency_limits).
    Each action: kind, name, op (create, update, delete), id, changes (fields), body.
    """
    actions = []
    # --- deployments, by flow name and name
    have = {(d['flow_name'], d['name']): d for d in current['deployments']}
    wanted = {(d['flow_name'], d['name']): d for d in declared['deployments']}
    for key, wire in wanted.items():
        name = f'{key[0]}/{key[1]}'
        existing = have.get(key)
        if existing is None:
            actions.append({'kind': 'deployment', 'name': name, 'op': 'create', 'id': None,
                            'changes': [], 'body': wire})
            continue
        changes = deployment_changes(existing, wire)
        if changes:
            actions.append({'kind': 'deployment', 'name': name, 'op': 'update',
                            'id': existing['id'], 'changes': changes, 'body': wire})
    if prune:
        for key, existing in have.items():
            if key not in wanted and LABEL in (existing.get('labels') or {}):
                actions.append({'kind': 'deployment', 'name': f'{key[0]}/{key[1]}', 'op': 'delete',
                                'id': existing['id'], 'changes': [], 'body': None})
    # --- variables, by name; owned by the tag
    variables = {v['name']: v for v in current['variables']}
    for name, value in declared['variables'].items():
        existing = variables.get(name)
        if existing is None:
            actions.append({'kind': 'variable', 'name': name, 'op': 'create', 'id': None,
                            'changes': [], 'body': {'name': name, 'value': value, 'tags': [TAG]}})
        elif not _same(existing.get('value'), value) or TAG not in (existing.get('tags') or []):
            tags = sorted({*(existing.get('tags') or []), TAG})
            actions.append({'kind': 'variable', 'name': name, 'op': 'update', 'id': existing['id'],
                            'changes': ['value'] if not _same(existing.get('value'), value)
                            else ['tags'], 'body': {'value': value, 'tags': tags}})
    if prune:
        for name, existing in variables.items():
            if name not in declared['variables'] and name != LEDGER and TAG in (existing.get('tags')
                                                                                or []):
                actions.append({'kind': 'variable', 'name': name, 'op': 'delete',
                                'id': existing['id'], 'changes': [], 'body': None})
    ledger = current.get('ledger') or {}
    # --- Secret blocks, by name; owned by the ledger
    secrets = current['secrets']
    for name, value in declared['secrets'].items():
        existing = secrets.get(name)
        if existing is None:
            actions.append({'kind': 'secret', 'name': name, 'op': 'create', 'id': None,
                            'changes': [], 'body': {'value': value}})
        elif existing.get('value') != value:
            actions.append({'kind': 'secret', 'name': name, 'op': 'update', 'id': existing['id'],
                            'changes': ['value'], 'body': {'value': value}})
    if prune:
        for name in ledger.get('secrets') or []:
            if name not in declared['secrets'] and name in secrets:
                actions.append({'kind': 'secret', 'name': name, 'op': 'delete',
                                'id': secrets[name]['id'], 'changes': [], 'body': None})
    # --- global concurrency limits, by name; owned by the ledger
    limits = {c['name']: c for c in current['concurrency_limits']}
    for limit in declared['concurrency_limits']:
        body = {'name': limit['name'], 'limit': int(limit['limit']),
                'active': bool(limit.get('active', True))}
        existing = limits.get(limit['name'])
        if existing is None:
            actions.append({'kind': 'concurrency_limit', 'name': limit['name'], 'op': 'create',
                            'id': None, 'changes': [], 'body': body})
        else:
            changes = [k for k in ('limit', 'active') if existing.get(k) != body[k]]
            if changes:
                actions.append({'kind': 'concurrency_limit', 'name': limit['name'],
                                'op': 'update', 'id': existing['id'], 'changes': changes,
                                'body': body})
    declared_limits = {c['name'] for c in declared['concurrency_limits']}
    if prune:
        for name in ledger.get('concurrency_limits') or []:
            if name not in declared_limits and name in limits:
                actions.append({'kind': 'concurrency_limit', 'name': name, 'op': 'delete',
                                'id': limits[name]['id'], 'changes': [], 'body': None})
    return actions


def ledger_after(declared, current, prune=True):
    """The ledger once the actions are applied: what the preset owns of the named kinds."""
    ledger = current.get('ledger') or {}
    out = {}
    declared_limits = [c['name'] for c in declared['concurrency_limits']]
    for kind, names in (('secrets', list(declared['secrets'])),
                        ('concurrency_limits', declared_limits)):
        kept = [] if prune else [n for n in ledger.get(kind) or [] if n not in names]
        out[kind] = sorted({*names, *kept})
    return out
