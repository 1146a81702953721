"""install_error: a readable message for a failed uv or pip command.

    ansible_failed_result
    | prefect_preset.prefect.install_error(what, index_url, ca_bundle, system_bundle)

uv and pip print a chain of causes ("error sending request", "client error
(Connect)", "invalid peer certificate: UnknownIssuer"); users behind a
TLS-inspecting proxy need the URL, the root cause and the parameters that fix
it, not the trace. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DOCUMENTATION = r"""
name: install_error
short_description: A readable message for a failed package installer command
description:
  - Turns the result of a failed uv or pip command into one message naming the step
    that failed, the URL, the root cause, and the parameters that fix
    it (ca_bundle, index_url).
positional: what, index_url, ca_bundle, system_bundle
options:
  _input:
    description: The registered result of the failed command (stdout, stderr, msg).
    type: dict
    required: true
  what:
    description: What was being installed, for the message.
    type: str
    required: true
  index_url:
    description: The index_url parameter (empty for the installer's default).
    type: str
    default: ""
  ca_bundle:
    description: The ca_bundle parameter (empty for the system store).
    type: str
    default: ""
  system_bundle:
    description: The system CA store the installers trust by default.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Fail with a readable message
  ansible.builtin.fail:
    msg: >-
      {{ ansible_failed_result | prefect_preset.prefect.install_error('Install Prefect',
         prefect_index_url, prefect_ca_bundle, '/etc/ssl/certs/ca-certificates.crt') }}
"""

RETURN = r"""
_value:
  description: The message.
  type: str
"""

_URL = re.compile(r"https?://[^\s'\")>]+")
# Root causes worth naming, most specific first: (pattern, kind).
_CAUSES = (
    (re.compile(r"invalid peer certificate[^\n]*|CERTIFICATE_VERIFY_FAILED[^\n]*", re.I), "tls"),
    (re.compile(r"certificate verify failed[^\n]*|self[- ]signed certificate[^\n]*", re.I), "tls"),
    (re.compile(r"Connection refused[^\n]*", re.I), "network"),
    (re.compile(r"tcp connect error[^\n]*", re.I), "network"),
    (re.compile(r"dns error[^\n]*|Name or service not known[^\n]*|"
                r"Temporary failure in name resolution[^\n]*|failed to lookup address[^\n]*", re.I),
     "network"),
    (re.compile(r"timed? ?out[^\n]*", re.I), "network"),
    (re.compile(r"No matching distribution found for[^\n]*|"
                r"Because [^\n]*(?:not found|unsatisfiable)[^\n]*|"
                r"No solution found[^\n]*", re.I), "missing"),
)


def _root_cause(text: str) -> tuple[str, str]:
    for pattern, kind in _CAUSES:
        match = pattern.search(text)
        if match:
            return match.group(0).strip().rstrip(",;"), kind
    causes = re.findall(r"^\s*(?:cause|error|ERROR):\s*(.+)$", text, re.M)
    last = causes[-1].strip() if causes else (text.strip().splitlines() or ["no output"])[-1]
    return last, "other"


def install_error(
    result: Mapping[str, Any],
    what: str,
    index_url: str = "",
    ca_bundle: str = "",
    system_bundle: str = "",
) -> str:
    """One message: what failed, where, why, and which parameters fix it."""
    text = "\n".join(str(result.get(key) or "") for key in ("stderr", "stdout", "msg"))
    urls = _URL.findall(text)
    url = urls[0] if urls else (index_url or "the package index")
    cause, kind = _root_cause(text)
    trust = f"ca_bundle ({ca_bundle})" if ca_bundle else (
        f"the system certificate store ({system_bundle})" if system_bundle
        else "the system certificate store")
    advice = {
        "tls": (
            f"The installer trusted {trust} and the server's certificate is not signed by it. "
            "If a TLS-inspecting proxy sits between this host and the index, set ca_bundle to "
            "the path of its CA bundle on the host (or add the CA to the system store); to use "
            "another index or mirror, set index_url."
        ),
        "network": (
            "The host cannot reach the package index. Check the network or proxy "
            "(HTTPS_PROXY in the host's environment), or set index_url to a mirror it can reach."
        ),
        "missing": (
            "The index does not offer a release the lock needs. Set index_url (and "
            "extra_index_urls) to an index that mirrors PyPI, or choose a tested version."
        ),
        "other": (
            "If the index is behind a TLS-inspecting proxy set ca_bundle; to use another "
            "index set index_url."
        ),
    }[kind]
    return f"{what} failed at {url}: {cause}. {advice}"


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"install_error": install_error}
