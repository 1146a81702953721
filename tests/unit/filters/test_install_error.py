"""The install_error filter turns installer traces into a message a user can act on.
The outputs below are what uv 0.13 and pip 23 really print on these failures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parents[3] / "plugins" / "filter" / "install_error.py"
SYSTEM = "/etc/ssl/certs/ca-certificates.crt"

UV_TLS = """\
error: Failed to fetch: https://pypi.org/simple/six/
  cause: error sending request for url (https://pypi.org/simple/six/)
  cause: client error (Connect)
  cause: invalid peer certificate: UnknownIssuer

hint: Consider enabling use of system TLS certificates with the `--system-certs` command-line flag
"""
UV_REFUSED = """\
error: Request failed after 3 retries in 8.5s
  cause: Failed to fetch: https://127.0.0.1:9/simple/six/
  cause: error sending request for url (https://127.0.0.1:9/simple/six/)
  cause: client error (Connect)
  cause: tcp connect error
  cause: Connection refused (os error 111)
"""
PIP_TLS = """\
WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after \
connection broken by 'SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] \
certificate verify failed: unable to get local issuer certificate (_ssl.c:992)'))': /simple/uv/
Could not fetch URL https://pypi.org/simple/uv/: There was a problem confirming the ssl \
certificate
ERROR: No matching distribution found for uv==0.13.9
"""


@pytest.fixture(scope="module")
def plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("install_error", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_uv_certificate_error_names_url_cause_and_fixes(plugin: ModuleType) -> None:
    message = plugin.install_error({"stderr": UV_TLS, "rc": 2}, "Install Prefect", "", "", SYSTEM)
    assert message.startswith(
        "Install Prefect failed at https://pypi.org/simple/six/: "
        "invalid peer certificate: UnknownIssuer."
    )
    assert f"trusted the system certificate store ({SYSTEM})" in message
    assert "set ca_bundle" in message and "set index_url" in message
    assert "cause:" not in message


def test_pip_certificate_error(plugin: ModuleType) -> None:
    message = plugin.install_error({"stdout": PIP_TLS}, "uv", "", "/etc/corp.pem", SYSTEM)
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert "trusted ca_bundle (/etc/corp.pem)" in message


def test_unreachable_index(plugin: ModuleType) -> None:
    message = plugin.install_error(
        {"stderr": UV_REFUSED}, "Install Prefect", "https://127.0.0.1:9/simple", "", SYSTEM
    )
    assert "at https://127.0.0.1:9/simple/six/: Connection refused (os error 111)" in message
    assert "cannot reach the package index" in message and "index_url" in message


def test_unknown_failure_keeps_the_last_cause(plugin: ModuleType) -> None:
    message = plugin.install_error({"stderr": "error: disk full\n"}, "Install Prefect", "", "", "")
    assert message.startswith("Install Prefect failed at the package index: disk full.")


def test_registered_under_its_name(plugin: ModuleType) -> None:
    assert plugin.FilterModule().filters() == {"install_error": plugin.install_error}
