"""Shared fixtures: the real manifest and a small fake preset with its own role.

Also makes this checkout importable as the collection it is
(ansible_collections.prefect_preset.prefect), so that the modules' imports of
their module_utils work in unit tests as they do under Ansible."""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from preset.manifest import Manifest, load_manifest

ROOT = Path(__file__).resolve().parents[2]
_COLLECTIONS = Path(tempfile.mkdtemp(prefix="collections-"))
(_COLLECTIONS / "ansible_collections" / "prefect_preset").mkdir(parents=True)
(_COLLECTIONS / "ansible_collections" / "prefect_preset" / "prefect").symlink_to(ROOT)
sys.path.insert(0, str(_COLLECTIONS))
atexit.register(shutil.rmtree, _COLLECTIONS, ignore_errors=True)

FAKE_MANIFEST = """\
name: demo
version: 1.0.0
description: A tiny preset for tests.
role: roles/demo
variable_prefix: demo_
parameters:
  state:
    type: str
    default: present
    choices: [present, absent]
    description: Present or absent.
  port:
    type: int
    default: 80
    min: 1
    max: 65535
    description: A port.
  enabled:
    type: bool
    default: true
    description: On or off.
  home:
    type: path
    default: /opt/demo
    description: Where it lives.
  label:
    type: str
    default: demo
    pattern: '[a-z]+'
    description: A lowercase label.
  token:
    type: str
    default: ""
    secret: true
    pattern: '[A-Z0-9]*'
    description: An API token.
  tags:
    type: list
    elements: str
    default: []
    description: Free-form tags.
  extra:
    type: dict
    default: {}
    description: Anything.
  pools:
    type: list
    elements: dict
    default: []
    options:
      name:
        type: str
        required: true
        pattern: '[a-z][a-z0-9-]*'
        description: Pool name.
      size:
        type: int
        default: 1
        min: 0
        description: Pool size.
    description: Pools.
"""


@pytest.fixture(scope="session")
def preset_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def prefect_manifest() -> Manifest:
    return load_manifest(ROOT / "preset.yaml")


def make_preset(base: Path, text: str = FAKE_MANIFEST, role: str = "roles/demo") -> Path:
    """A preset dir with preset.yaml and a role whose tasks just print the port."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "preset.yaml").write_text(text, encoding="utf-8")
    tasks = base / role / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    (tasks / "main.yml").write_text(
        textwrap.dedent("""\
        ---
        - name: Show the port
          ansible.builtin.debug:
            msg: "{{ demo_port | default(80) }}"
        """),
        encoding="utf-8",
    )
    return base


@pytest.fixture
def demo_preset_dir(tmp_path: Path) -> Path:
    return make_preset(tmp_path / "presets" / "demo")


@pytest.fixture
def demo_manifest(demo_preset_dir: Path) -> Manifest:
    return load_manifest(demo_preset_dir / "preset.yaml")


@pytest.fixture(autouse=True)
def _no_api_retry_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """The modules' transport pauses before repeating a request to a busy
    server; the fakes in these tests are never busy on purpose but answer
    "unreachable" often: no real pauses. Patched where the transport reads
    it, its function's globals: test_platforms hands the ansible_collections
    name to Ansible's loader, so sys.modules may hold another copy."""
    seen: set[int] = set()
    modules = list(sys.modules.values())
    # Plugins loaded from their files (module_harness.load_plugin) are not in
    # sys.modules; the test modules hold them.
    modules += [v for m in modules for v in list(vars(m).values()) if isinstance(v, ModuleType)]
    for module in modules:
        for attribute in ("FetchUrlTransport", "client_from_module"):
            found = getattr(module, attribute, None)
            function = found.__call__ if isinstance(found, type) else found
            names = getattr(function, "__globals__", None)
            if isinstance(names, dict) and "RETRY_DELAYS" in names and id(names) not in seen:
                seen.add(id(names))
                monkeypatch.setitem(names, "RETRY_DELAYS", (0.0,) * len(names["RETRY_DELAYS"]))
