"""Every module's DOCUMENTATION, EXAMPLES and RETURN against what main() builds.

One table, one set of checks, for all of plugins/modules: what ansible-doc
shows is what AnsibleModule enforces (option by option), check mode is
supported, secrets are no_log, the examples call the module by its FQCN with
documented options and every required one, and RETURN names exactly the keys
the module returns. What is particular to one module (an example that must
round-trip, a key a sample must match) stays in that module's test file."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
import yaml

from module_harness import ROOT, assert_options_match_spec, load_plugin, module_kwargs

MODULE_DIR = ROOT / "plugins" / "modules"


@dataclass(frozen=True)
class Expected:
    returns: frozenset[str]
    secrets: frozenset[str] = field(default_factory=frozenset)


def _expected(returns: set[str], secrets: set[str] | None = None) -> Expected:
    return Expected(frozenset(returns), frozenset(secrets or ()))


API_SECRETS = {"api_key", "api_auth_string"}

EXPECTED: dict[str, Expected] = {
    "automation": _expected({"automation", "diff"}, API_SECRETS),
    "code_versions": _expected({"removed", "in_use"}),
    "database_backup": _expected({"path", "size", "removed", "revision", "manifest"}, {"password"}),
    "database_check": _expected({"server_version", "server_version_num", "size"}, {"url"}),
    "files": _expected({"written"}),
    "flow_source": _expected({"version", "commit", "export", "archive", "deployments",
                              "from_prefect_yaml", "notes", "problems"}, {"credentials"}),
    "package_index": _expected({"found", "requires_python", "index", "newest"}),
    "postgresql_db": _expected({"server_version", "server_version_num", "listen_addresses",
                                "actions"}, {"password"}),
    "rendered_files": _expected({"checksums", "stale"}),
    "server_setup": _expected({"work_pools", "automations", "diff"}, API_SECRETS),
    "server_objects": _expected({"actions", "summary"}, {"secrets"} | API_SECRETS),
    "work_pool": _expected({"changed", "work_pool", "diff"}, API_SECRETS),
}
# host_info returns what it read of the host: its RETURN is checked against a real
# run in test_host_info.py (test_return_documents_every_returned_key).
NOT_IN_TABLE = {"host_info"}

# Option names that say they hold a secret must be no_log, whatever the table says.
SECRET_WORDS = ("password", "credential", "secret", "api_key", "auth_string", "token")


def _names() -> list[str]:
    return sorted(path.stem for path in MODULE_DIR.glob("*.py") if path.stem != "__init__")


def _load(name: str) -> ModuleType:
    return load_plugin(f"plugins/modules/{name}.py", f"prefect_doc_{name}")


def _documentation(module: ModuleType) -> dict[str, Any]:
    """DOCUMENTATION with the options of its doc fragments merged in, as ansible-doc shows it."""
    doc = yaml.safe_load(module.DOCUMENTATION)
    for fragment in doc.get("extends_documentation_fragment") or []:
        namespace, collection, name = fragment.split(".")
        assert (namespace, collection) == ("prefect_preset", "prefect"), fragment
        text = load_plugin(f"plugins/doc_fragments/{name}.py", f"prefect_doc_fragment_{name}")
        options = yaml.safe_load(text.ModuleDocFragment.DOCUMENTATION)["options"]
        assert not set(options) & set(doc["options"]), fragment
        doc["options"] = {**doc["options"], **options}
    return doc


def _strings(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value))


def _walk(entries: dict[str, Any], where: str) -> None:
    for name, entry in entries.items():
        # e.g. "C(Authorization: Bearer x)" unquoted in a list item parses as a
        # dict and breaks ansible-doc
        assert _strings(entry["description"]), f"{where}.{name}"
        _walk(entry.get("suboptions") or entry.get("contains") or {}, f"{where}.{name}")


def test_every_module_is_in_the_table() -> None:
    assert set(_names()) == set(EXPECTED) | NOT_IN_TABLE


@pytest.mark.parametrize("name", _names())
def test_documentation_has_the_sections_ansible_doc_shows(name: str) -> None:
    module = _load(name)
    doc = _documentation(module)
    for key in ("module", "short_description", "description", "options", "author"):
        assert doc.get(key), key
    assert doc["module"] == name
    assert _strings(doc["description"]) and _strings(doc.get("notes", []))
    _walk(doc["options"], "options")


@pytest.mark.parametrize("name", _names())
def test_documentation_is_what_the_argument_spec_enforces(name: str) -> None:
    module = _load(name)
    doc = _documentation(module)
    kwargs = module_kwargs(module)
    assert kwargs["supports_check_mode"] is True
    spec = kwargs["argument_spec"]
    assert_options_match_spec(doc["options"], spec)
    secrets = {option for option in spec if any(word in option for word in SECRET_WORDS)}
    secrets |= EXPECTED[name].secrets if name in EXPECTED else set()
    for option in sorted(secrets):
        assert spec[option].get("no_log") is True, option


@pytest.mark.parametrize("name", _names())
def test_examples_call_the_module_with_documented_options(name: str) -> None:
    module = _load(name)
    doc = _documentation(module)
    required = {option for option, entry in doc["options"].items() if entry.get("required")}
    examples = yaml.safe_load(module.EXAMPLES)
    assert isinstance(examples, list) and examples
    for task in examples:
        assert task.get("name"), task
        args = task[f"prefect_preset.prefect.{name}"]
        assert required <= set(args) <= set(doc["options"]), task["name"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_return_names_what_the_module_returns(name: str) -> None:
    returned = yaml.safe_load(_load(name).RETURN)
    assert set(returned) == EXPECTED[name].returns
    for key, entry in returned.items():
        assert entry["description"] and entry["returned"] and entry["type"], key
    _walk(returned, "RETURN")
