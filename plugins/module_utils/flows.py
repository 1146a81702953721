# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
"""Flows as code: what a code source declares, read without running it.

The flow_source module (on the controller) uses this to read a source's
prefect.yaml, find each deployment's flow function by parsing (never
importing) its file, and check schedules; the flows_plan filter then checks
the whole declaration before any host changes. Standard library only.

A deployment, normalized (what the server_objects module applies):
    name, entrypoint (PATH:FUNCTION), flow_name, work_pool, work_queue,
    schedules [{cron|interval|rrule, timezone, active}], parameters (dict),
    tags (list), description, concurrency_limit (int or None), job_variables,
    paused (bool)
"""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones
except ImportError:  # pragma: no cover - Python < 3.9 controllers
    ZoneInfo = None  # type: ignore[assignment,misc]
    ZoneInfoNotFoundError = Exception  # type: ignore[assignment,misc]
    available_timezones = None  # type: ignore[assignment]

# prefect.yaml sections the preset reads; the others it says it ignores.
READ_SECTIONS = ('deployments', 'definitions', 'name', 'prefect-version')
IGNORED_SECTIONS = ('build', 'push', 'pull')
DEPLOYMENT_KEYS = {'name', 'entrypoint', 'work_pool', 'schedules', 'schedule', 'parameters', 'tags',
                   'description', 'concurrency_limit', 'paused', 'version', 'job_variables',
                   'work_queue'}
# Keys of a prefect.yaml deployment that need what the preset does itself (the
# code is on the hosts already) or does not do; they are said, not applied.
DEPLOYMENT_IGNORED = {'build', 'push', 'pull', 'enforce_parameter_schema', 'triggers', 'version',
                      'concurrency_options'}

CRON_ALIASES = {'@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'}
CRON_FIELDS = (
    ('minute', 0, 59, {}),
    ('hour', 0, 23, {}),
    ('day of month', 1, 31, {}),
    ('month', 1, 12, {m: i for i, m in enumerate(
        ('jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'), 1)}),
    ('day of week', 0, 7, {d: i for i, d in enumerate(
        ('sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'))}),
)
TEMPLATED = re.compile(r'\{\{.*?\}\}')
_ZONES = []  # the IANA zone names, read once


class SourceError(Exception):
    """A source that cannot be read; the message names it."""


def _cron_value(text, low, high, names):
    value = names.get(text.lower()) if not text.isdigit() else int(text)
    if value is None or not low <= value <= high:
        raise ValueError(text)
    return value


def cron_error(expression):
    """Why a cron expression is not valid (five fields as Prefect's croniter reads them), or ''."""
    text = str(expression or '').strip()
    if text.lower() in CRON_ALIASES:
        return ''
    fields = text.split()
    if len(fields) != 5:
        return (f'cron {expression!r} has {len(fields)} fields; give five (minute hour '
                'day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly')
    for field, (what, low, high, names) in zip(fields, CRON_FIELDS):  # noqa: B905 (Python 3.9)
        for part in field.split(','):
            base, step = part.partition('/')[::2]
            try:
                if step and (not step.isdigit() or int(step) < 1):
                    raise ValueError(step)
                if base == '*':
                    continue
                start, dash, end = base.partition('-')
                first = _cron_value(start, low, high, names)
                if dash and _cron_value(end, low, high, names) < first:
                    raise ValueError(base)
            except ValueError:
                return (f'cron {expression!r}: {part!r} is not a valid {what} '
                        f'({low}-{high}{", or names" if names else ""}, *, lists, ranges, /steps)')
    return ''


def _known_timezones():
    if not _ZONES:
        _ZONES.append(frozenset(available_timezones()))  # a walk of the tz database
    return _ZONES[0]


def timezone_error(name):
    """Why a timezone name is not an IANA zone the controller knows, or ''."""
    if ZoneInfo is None or not name:
        return ''
    # The server checks against the same list (Prefect's get_timezones); ZoneInfo alone
    # also opens files such as posixrules or right/UTC, which the server refuses.
    known = _known_timezones()
    try:
        ZoneInfo(str(name))
        if known and str(name) not in known:
            raise ValueError(name)
    except (ZoneInfoNotFoundError, ValueError, KeyError):
        return f'timezone {name!r} is not an IANA time zone (e.g. Europe/Berlin, UTC)'
    return ''


def schedule_of(raw):
    """A schedule as the preset applies it, and the problems with it (list of strings)."""
    if not isinstance(raw, dict):
        return None, [f'a schedule must be a mapping with cron, interval or rrule, got {raw!r}']
    kinds = [k for k in ('cron', 'interval', 'rrule') if raw.get(k) not in (None, '')]
    problems = []
    if len(kinds) != 1:
        return None, [f'a schedule takes exactly one of cron, interval, rrule; got {sorted(raw)}']
    unknown = sorted(set(raw) - {'cron', 'interval', 'rrule', 'timezone', 'active', 'day_or',
                                 'anchor_date'})
    if unknown:
        problems.append(f'a schedule does not take {", ".join(unknown)}')
    schedule = {kinds[0]: raw[kinds[0]], 'active': bool(raw.get('active', True))}
    if raw.get('timezone'):
        schedule['timezone'] = str(raw['timezone'])
    if kinds[0] == 'cron':
        problems += [p for p in [cron_error(raw['cron'])] if p]
        schedule['day_or'] = bool(raw.get('day_or', True))
    elif kinds[0] == 'interval':
        try:
            schedule['interval'] = float(raw['interval'])
            if schedule['interval'] <= 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"interval {raw['interval']!r} is not a positive number of seconds")
        if raw.get('anchor_date'):
            try:
                datetime.fromisoformat(str(raw['anchor_date']).replace('Z', '+00:00'))
                schedule['anchor_date'] = str(raw['anchor_date'])
            except ValueError:
                problems.append(f"anchor_date {raw['anchor_date']!r} is not an ISO date and time")
    problems += [p for p in [timezone_error(schedule.get('timezone'))] if p]
    return schedule, problems


def _decorator_name(node):
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ''


def inspect_entrypoint(root, entrypoint):
    """The flow an entrypoint names, from its file's syntax tree (the code is never run):
    problems (list), flow_name, accepts (its parameter names), required, var_kwargs."""
    path_text, function = str(entrypoint).rpartition(':')[::2]
    result = {'problems': [], 'flow_name': '', 'accepts': [], 'required': [],
              'var_kwargs': False}
    if not path_text or not function:
        result['problems'].append(f'entrypoint {entrypoint!r} is not PATH:FUNCTION')
        return result
    base = Path(root).resolve()
    path = (base / path_text).resolve()
    if base not in path.parents or not path.is_file():
        result['problems'].append(
            f'entrypoint {entrypoint!r}: {path_text} is not a file of the source')
        return result
    try:
        tree = ast.parse(path.read_text(encoding='utf-8'), str(path))
    except (SyntaxError, UnicodeDecodeError) as error:
        result['problems'].append(f'entrypoint {entrypoint!r}: {path_text} does not parse: {error}')
        return result
    found = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
             and n.name == function]
    if not found:
        result['problems'].append(f'entrypoint {entrypoint!r}: {path_text} defines no function '
                                  f'{function}')
        return result
    node = found[-1]
    flows = [d for d in node.decorator_list if _decorator_name(d) == 'flow']
    if not flows:
        result['problems'].append(
            f'entrypoint {entrypoint!r}: {function} is not decorated with @flow')
        return result
    name = function.replace('_', '-')
    decorator = flows[0]
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == 'name' and isinstance(keyword.value, ast.Constant):
                name = str(keyword.value.value)
    args = node.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults):  # noqa: B905 (Python 3.9)
        result['accepts'].append(arg.arg)
        if default is None:
            result['required'].append(arg.arg)
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):  # noqa: B905
        result['accepts'].append(arg.arg)
        if default is None:
            result['required'].append(arg.arg)
    result['var_kwargs'] = args.kwarg is not None
    result['flow_name'] = name
    return result


def _templated(value):
    if isinstance(value, str):
        return bool(TEMPLATED.search(value))
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return False


def deployment_of(raw, where):
    """A declared or prefect.yaml deployment, normalized, and its problems."""
    problems = []
    if not isinstance(raw, dict) or not raw.get('name') or not raw.get('entrypoint'):
        return None, [f'{where}: a deployment needs name and entrypoint']
    where = f"{where} deployment {raw['name']}"
    if _templated({k: v for k, v in raw.items() if k not in DEPLOYMENT_IGNORED}):
        problems.append(f'{where}: uses {{{{ }}}} templating (prefect.yaml variables, '
                        'environment), which the preset does not evaluate; write the values out')
    pool = raw.get('work_pool')
    if isinstance(pool, dict):
        pool_name, queue = pool.get('name'), pool.get('work_queue_name')
        job_variables = pool.get('job_variables') or {}
    else:
        pool_name, queue = pool, raw.get('work_queue')
        job_variables = raw.get('job_variables') or {}
    limit = raw.get('concurrency_limit')
    if isinstance(limit, dict):
        limit = limit.get('limit')
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        problems.append(f'{where}: concurrency_limit {limit!r} is not a positive whole number')
    raw_schedules = raw.get('schedules')
    if raw_schedules is None and raw.get('schedule'):
        raw_schedules = [raw['schedule']]
    schedules = []
    for index, item in enumerate(raw_schedules or []):
        schedule, trouble = schedule_of(item)
        problems += [f'{where} schedules[{index}]: {p}' for p in trouble]
        if schedule is not None:
            schedules.append(schedule)
    tags = raw.get('tags') or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append(f'{where}: tags must be a list of strings')
        tags = []
    parameters = raw.get('parameters') or {}
    if not isinstance(parameters, dict):
        problems.append(f'{where}: parameters must be a mapping')
        parameters = {}
    return {
        'name': str(raw['name']),
        'entrypoint': str(raw['entrypoint']),
        'work_pool': str(pool_name or ''),
        'work_queue': str(queue or ''),
        'schedules': schedules,
        'parameters': parameters,
        'tags': tags,
        'description': str(raw.get('description') or ''),
        'concurrency_limit': limit,
        'job_variables': job_variables,
        'paused': bool(raw.get('paused', False)),
    }, problems


def read_prefect_yaml(root, load_yaml):
    """The deployments of a source's prefect.yaml: (raw deployments, notes, problems).
    load_yaml parses text (the caller's YAML parser: PyYAML under Ansible)."""
    path = Path(root) / 'prefect.yaml'
    if not path.is_file():
        return None, [], []
    try:
        data = load_yaml(path.read_text(encoding='utf-8')) or {}
    except Exception as error:  # the parser's own message says where
        return [], [], [f'prefect.yaml does not parse: {error}']
    if not isinstance(data, dict):
        return [], [], ['prefect.yaml is not a mapping']
    notes = [f'prefect.yaml: {section} is not run (the preset ships the code to the hosts itself)'
             for section in IGNORED_SECTIONS if data.get(section)]
    deployments = data.get('deployments') or []
    if not isinstance(deployments, list):
        return [], notes, ['prefect.yaml: deployments is not a list']
    for item in deployments:
        if isinstance(item, dict):
            skipped = sorted((set(item) & DEPLOYMENT_IGNORED) - {'version'})
            if skipped:
                notes.append(f"prefect.yaml deployment {item.get('name')}: {', '.join(skipped)} "
                             'not applied by the preset')
    return deployments, notes, []
