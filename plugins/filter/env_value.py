"""env_value: a value for an environment file that systemd, sh and prefect-launch read back exactly.

    {{ name }}={{ value | prefect_preset.prefect.env_value(name) }}

The role's environment files (server.env, client.env, backup.env) are read by
systemd (EnvironmentFile=), by /bin/sh (`set -a; . FILE`: the `prefect`
wrapper, the smoke test) and, on macOS and Windows, by prefect-launch. All
three read a double-quoted value the same way when backslash, double quote,
dollar and backquote are escaped with a backslash (POSIX sh's double quotes;
systemd.exec(5), EnvironmentFile=). So a password may hold any printable
character - quotes, backslashes, $, %, #, spaces. Only what a one-line file
cannot hold is refused: line breaks and NUL; the error names the variable,
never the value (it may be a secret).

env_file() is what every platform's file list says of such a file (its
template, secret, its variables and who reads it). Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOCUMENTATION = r"""
name: env_value
short_description: Quote a value for an environment file read by systemd, sh and prefect-launch
description:
  - Returns the value double-quoted with backslash, double quote, dollar and backquote escaped.
  - Fails for a value with a line break (CR, LF) or NUL, naming the variable only.
options:
  _input:
    description: The value (numbers and booleans are written as text).
    type: raw
    required: true
  name:
    description: The variable's name, for the error message.
    type: str
    default: value
"""

EXAMPLES = r"""
- name: One line of an environment file
  ansible.builtin.debug:
    msg: "PREFECT_API_AUTH_STRING={{ auth | prefect_preset.prefect.env_value('auth') }}"
"""

RETURN = r"""
_value:
  description: The quoted value, e.g. C("a\"b\$c").
  type: str
"""

_ESCAPED = {"\\": "\\\\", '"': '\\"', "$": "\\$", "`": "\\`"}

try:  # under Ansible, a filter error is reported as the task's failure message
    from ansible.errors import AnsibleFilterError as _Base
except ImportError:  # pragma: no cover - outside Ansible
    _Base = ValueError  # type: ignore[assignment,misc]


class EnvValueError(_Base):  # type: ignore[misc,valid-type]
    """A value an environment file line cannot hold."""


# The template every environment file is rendered from (templates/prefect.env.j2).
ENV_TEMPLATE = "prefect.env.j2"


def env_file(variables: Mapping[str, Any], purpose: str) -> dict[str, Any]:
    """What the file lists of every platform say of an environment file: its template,
    that it holds secrets (never shown), its variables and the line saying who reads it."""
    return {
        "src": ENV_TEMPLATE,
        "secret": True,
        "template_vars": {"__prefect_env_vars": dict(variables), "__prefect_env_purpose": purpose},
    }


def env_value(value: Any, name: str = "value") -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if any(char in text for char in "\r\n\0"):
        raise EnvValueError(
            f"{name} holds a line break or NUL, which an environment file cannot hold; "
            "every other character is accepted"
        )
    return '"' + "".join(_ESCAPED.get(char, char) for char in text) + '"'


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"env_value": env_value}
