"""platform_dirs: where a platform puts Prefect's directories.

    {'install': prefect_install_dir, 'config': prefect_config_dir, 'data': prefect_data_dir,
     'worker_data': prefect_worker_data_dir}
    | prefect_preset.prefect.platform_dirs(options, platform_defaults, keep_given)

The directory parameters' documented defaults are Linux paths. On macOS (user
scope) and Windows a parameter left at its documented default means the
platform's own place for it; a value given is used as given (keep_given: always,
as macOS's system scope does). Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOCUMENTATION = r"""
name: platform_dirs
short_description: Prefect's directories on a platform, from the directory parameters
description:
  - For each directory (install, config, data, worker_data), the value of its parameter
    (C(prefect_KEY_dir)) when given, or when O(keep_given); else the platform's default.
options:
  _input:
    description: The directory parameters' values by key (install, config, data, worker_data).
    type: dict
    required: true
  options:
    description: The role's argument spec options (where each parameter's documented default is).
    type: dict
    required: true
  platform_defaults:
    description: The platform's directory for each key.
    type: dict
    required: true
  keep_given:
    description: Use the parameters' values even when they are the documented defaults.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The directories of a Windows host
  ansible.builtin.set_fact:
    dirs: >-
      {{ {'install': prefect_install_dir, 'config': prefect_config_dir}
         | prefect_preset.prefect.platform_dirs(spec.argument_specs.main.options,
             {'install': 'D:\prefect\app', 'config': 'D:\prefect\config'}) }}
"""

RETURN = r"""
_value:
  description: The directory of each key.
  type: dict
"""


def platform_dirs(
    given: Mapping[str, str],
    options: Mapping[str, Any],
    platform_defaults: Mapping[str, str],
    keep_given: bool = False,
) -> dict[str, str]:
    out = {}
    for key, value in given.items():
        documented = options[f"prefect_{key}_dir"].get("default")
        out[key] = value if keep_given or value != documented else platform_defaults[key]
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"platform_dirs": platform_dirs}
