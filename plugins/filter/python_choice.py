"""python_choice: which Python builds the virtualenvs, or why none can.

    candidates | prefect_preset.prefect.python_choice(found, requires, system_python, host,
                                                      version, alternatives)

Decided in preflight, before any change, from what the host has and what its
package manager is known to offer (the platform's data):

1. ``system_python`` given: it, if it runs and fits the release's
   Requires-Python; otherwise a refusal naming what it is.
2. The first candidate the host already has whose version fits.
3. The first candidate the OS packages offer at a version that fits (its
   packages join the ones the install step adds), e.g. EL9's python3.12.
4. Otherwise a refusal naming the Pythons found, the one the release needs,
   the tested releases that would run on them, and how to provide one.

Candidates are dicts: path, version (what the OS packages install at that
path; empty when unknown), packages (that install it), origin (for messages).
``found`` maps each path the host was asked about to the MAJOR.MINOR it ran
as, or an empty string when it does not exist or does not run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.prefect_preset.prefect.plugins.filter.release import specifiers

try:
    from packaging.specifiers import InvalidSpecifier
except ImportError:  # ansible-test's import check runs without it
    InvalidSpecifier = ValueError

DOCUMENTATION = r"""
name: python_choice
short_description: Choose the Python that builds Prefect's virtualenvs, or say why none fits
description:
  - Returns the chosen interpreter (path, version, packages to install first, reason) or an
    error message naming what was found and what the release needs.
options:
  _input:
    description: Candidate interpreters in order of preference (path, version, packages, origin).
    type: list
    elements: dict
    required: true
  found:
    description: Path to the MAJOR.MINOR it runs as on the host (empty when absent).
    type: dict
    required: true
  requires:
    description: The release's Requires-Python specifier (e.g. C(>=3.11,<3.16)).
    type: str
    required: true
  system_python:
    description: The interpreter the user named, or null to choose.
    type: str
  host:
    description: Inventory name of the host, for messages.
    type: str
  version:
    description: The Prefect release, for messages.
    type: str
  alternatives:
    description: Tested releases to their Requires-Python, to suggest one that would run.
    type: dict
"""

EXAMPLES = r"""
- name: Choose the Python
  ansible.builtin.set_fact:
    choice: >-
      {{ candidates | prefect_preset.prefect.python_choice(host.pythons, '>=3.11',
         prefect_system_python, inventory_hostname, prefect_version, {}) }}
"""

RETURN = r"""
_value:
  description: ok, path, version, packages, reason (one sentence), error (empty when ok).
  type: dict
"""


def fits(version: str, requires: str) -> bool:
    """Whether Python MAJOR.MINOR satisfies a Requires-Python specifier."""
    if not version:
        return False
    try:
        return specifiers(requires or "").contains(version, prereleases=True)
    except InvalidSpecifier as error:
        raise ValueError(f"python_choice: invalid Requires-Python {requires!r}") from error


def _describe(found: Mapping[str, str]) -> str:
    present = [f"{path} ({version})" for path, version in found.items() if version]
    return ", ".join(present) if present else "no Python 3 at the paths it knows"


def _runnable(alternatives: Mapping[str, str], versions: Iterable[str]) -> list[str]:
    usable = [v for v in versions if v]
    return [
        release
        for release, requires in alternatives.items()
        if any(fits(v, requires) for v in usable)
    ]


def python_choice(
    candidates: Iterable[Mapping[str, Any]],
    found: Mapping[str, str],
    requires: str,
    system_python: str | None = None,
    host: str = "",
    version: str = "",
    alternatives: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    candidates = [dict(c) for c in candidates]
    found = {str(k): str(v or "") for k, v in (found or {}).items()}
    needs = f"Prefect {version} needs Python {requires}".strip()
    where = f" on {host}" if host else ""

    def chosen(path: str, python: str, packages: list[str], reason: str) -> dict[str, Any]:
        return {"ok": True, "path": path, "version": python, "packages": packages,
                "reason": reason, "error": ""}

    def refused(message: str) -> dict[str, Any]:
        return {"ok": False, "path": "", "version": "", "packages": [], "reason": "",
                "error": message + " Nothing was changed."}

    if system_python:
        have = found.get(system_python, "")
        if not have:
            return refused(
                f"system_python {system_python} does not exist or does not run{where}; "
                f"{needs}. Give the path of an installed Python that fits, or leave "
                "system_python unset to let the preset choose."
            )
        if not fits(have, requires):
            return refused(
                f"system_python {system_python}{where} is Python {have}; {needs}. Give the "
                "path of a Python that fits, or leave system_python unset to let the preset "
                "choose."
            )
        return chosen(system_python, have, [], f"system_python {system_python} (Python {have})")

    for candidate in candidates:
        have = found.get(candidate["path"], "")
        if fits(have, requires):
            origin = candidate.get("origin") or candidate["path"]
            return chosen(candidate["path"], have, list(candidate.get("packages") or []),
                          f"{origin} at {candidate['path']} (Python {have}), already on the host")
    for candidate in candidates:
        offered = str(candidate.get("version") or "")
        packages = list(candidate.get("packages") or [])
        if packages and not found.get(candidate["path"]) and fits(offered, requires):
            origin = candidate.get("origin") or candidate["path"]
            return chosen(candidate["path"], offered, packages,
                          f"{origin} at {candidate['path']} (Python {offered}), installed "
                          f"from the OS packages {', '.join(packages)}")

    runnable = _runnable(alternatives or {}, list(found.values()))
    offers = [f"{c['path']} ({c['version']})" for c in candidates
              if c.get("packages") and c.get("version") and not found.get(c["path"])]
    hint = (
        f" Tested releases that run on the Python it has: {', '.join(runnable)}."
        if runnable else ""
    )
    return refused(
        f"{needs}; the preset found {_describe(found)}{where}"
        + (f", and its OS packages offer only {', '.join(offers)}" if offers else
           ", and knows of no newer Python its OS packages offer")
        + ". Install a Python that fits (the distribution's backports, or python.org's "
        "sources) and set system_python to its path." + hint
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"python_choice": python_choice}
