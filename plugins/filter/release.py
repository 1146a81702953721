"""release: whether the preset can run the Prefect version asked for, and what it knows of it.

    query('ansible.builtin.file', *lock_json_files) | map('from_json') | list
      | prefect_preset.prefect.release(prefect_version, oldest)

The tested releases are the lock files' metadata (files/locks/prefect-X.json,
written by scripts/lock: Requires-Python, Alembic heads, the process worker's
job template). The answer is plain data; preflight refuses on ``error``
before anything on a host changes, and says ``warning`` when there is one:

- MAJOR.MINOR.PATCH only (the preset installs one exact release);
- Prefect 3 only, from ``oldest`` (the oldest release that knows every
  setting the preset writes) on;
- a tested release installs from its lock; any other 3.x release at or
  above ``oldest`` installs unlocked, with a warning, once the package
  index has confirmed that it exists (``unlocked``: the role asks the index
  on the host before changing anything).

Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

try:
    from packaging.specifiers import SpecifierSet
except ImportError:  # ansible-test's import check runs without it
    SpecifierSet = None

DOCUMENTATION = r"""
name: release
short_description: Whether the preset can run a Prefect version, and its tested metadata
description:
  - Takes the metadata of the tested releases (the lock files' JSON) and returns whether
    O(version) is supported, locked (tested) or not, and an error or warning message.
options:
  _input:
    description: The tested releases' metadata (dicts with version, requires_python, alembic_heads).
    type: list
    elements: dict
    required: true
  version:
    description: The Prefect version asked for.
    type: str
    required: true
  oldest:
    description: The oldest Prefect release the preset supports.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Decide about the release
  ansible.builtin.set_fact:
    release: "{{ releases | prefect_preset.prefect.release('3.9.1', '3.7.4') }}"
"""

RETURN = r"""
_value:
  description:
    - version, locked (bool), tested (versions, oldest first), tested_requires (each tested
      release's Requires-Python), newest (the newest tested),
      oldest, requires_python (of a tested release; empty otherwise), alembic_heads,
      process_job_template (tested releases), python_minors (the Python MAJOR.MINOR versions
      that fit, newest first; an unlocked release is assumed to need what the newest tested
      one needs), python_min (the oldest of them), error and warning (empty when none).
  type: dict
"""

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# The Python minor versions the platforms' candidate lists are made of.
_PYTHONS = ["3.15", "3.14", "3.13", "3.12", "3.11", "3.10"]


def specifiers(requires: str) -> Any:
    """packaging's SpecifierSet (python_choice's too); ansible-core requires packaging."""
    if SpecifierSet is None:
        raise ImportError(
            "the Python package 'packaging' is missing from the controller's Python; "
            "ansible-core requires it: reinstall ansible-core")
    return SpecifierSet(requires)


def version_key(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a MAJOR.MINOR.PATCH string; ValueError otherwise."""
    match = _VERSION.match(str(version))
    if not match:
        raise ValueError(f"{version!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def _supported_text(tested: list[str], oldest: str) -> str:
    newest = tested[-1] if tested else oldest
    return (
        f"this preset runs Prefect 3 from {oldest} on: tested (from a dependency lock) "
        f"{', '.join(tested)}; other 3.x releases from {oldest} on (newer than {newest} "
        "included) install without a lock, with a warning"
    )


def release(
    releases: Iterable[Mapping[str, Any]], version: str, oldest: str
) -> dict[str, Any]:
    """What the preset knows of ``version`` and whether it can run it."""
    by_version = {str(item["version"]): dict(item) for item in releases}
    tested = sorted(by_version, key=version_key)
    version = str(version)
    known = by_version.get(version, {})
    result: dict[str, Any] = {
        "version": version,
        "locked": bool(known),
        "tested": tested,
        "tested_requires": {v: str(by_version[v].get("requires_python", "")) for v in tested},
        "newest": tested[-1] if tested else "",
        "oldest": oldest,
        "requires_python": str(known.get("requires_python", "")),
        "alembic_heads": dict(known.get("alembic_heads", {})),
        "process_job_template": known.get("process_job_template", {}),
        "error": "",
        "warning": "",
    }
    # The Pythons a platform may try (macOS, Windows list candidates by version):
    # the release's own range, or the newest tested release's for an unlocked one.
    requires = result["requires_python"] or (
        str(by_version[tested[-1]].get("requires_python", "")) if tested else ""
    )
    result["python_minors"] = [v for v in _PYTHONS if specifiers(requires).contains(v)]
    result["python_min"] = result["python_minors"][-1] if result["python_minors"] else ""
    supported = _supported_text(tested, oldest)
    try:
        key = version_key(version)
    except ValueError:
        result["error"] = (
            f"version {version!r} is not a Prefect release number: give MAJOR.MINOR.PATCH "
            f"(e.g. {result['newest'] or oldest}); {supported}."
        )
        return result
    if key[0] != 3:
        result["error"] = (
            f"Prefect {version} is not supported: {supported}. Prefect {key[0]} differs in "
            "its settings, services and database, so the preset refuses it before any change."
        )
    elif key < version_key(oldest):
        result["error"] = (
            f"Prefect {version} is older than the preset supports: {supported}. Choose "
            f"{result['newest'] or oldest} (or any tested release)."
        )
    elif not known:
        result["warning"] = (
            f"Prefect {version} is not a tested release of this preset (tested: "
            f"{', '.join(tested)}). It is installed without a dependency lock, so hosts "
            "converged on different days may get different dependencies."
        )
    return result


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"release": release}
