"""The environment ansible-playbook runs in: the presets' collections first on the
collections path, and the summary callback that reports each host's outcome."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from preset.manifest import Manifest

CALLBACK_DIR = Path(__file__).resolve().parent / "ansible_plugins" / "callback"
SUMMARY_ENV = "PRESET_SUMMARY_FILE"
# Ansible's own defaults, used when neither the environment nor ansible.cfg sets a path.
DEFAULT_COLLECTIONS_PATHS = ("~/.ansible/collections", "/usr/share/ansible/collections")
DEFAULT_CALLBACK_PATHS = ("~/.ansible/plugins/callback", "/usr/share/ansible/plugins/callback")
# The last place Ansible looks for its configuration.
SYSTEM_ANSIBLE_CFG = Path("/etc/ansible/ansible.cfg")


@dataclass(frozen=True)
class Staged:
    """What a run needs: the environment to add and where the summary will be written."""

    env: dict[str, str]
    summary_file: Path


def ansible_cfg(environ: Mapping[str, str], cwd: Path | None = None) -> Path | None:
    """The ansible.cfg ansible-playbook will read, searched as Ansible does: $ANSIBLE_CONFIG,
    ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg; None when there is none."""
    candidates = [
        *([Path(environ["ANSIBLE_CONFIG"]).expanduser()] if environ.get("ANSIBLE_CONFIG") else []),
        (cwd or Path.cwd()) / "ansible.cfg",
        Path("~/.ansible.cfg").expanduser(),
        SYSTEM_ANSIBLE_CFG,
    ]
    return next((path for path in candidates if path.is_file()), None)


def configured_paths(
    setting: str, env_name: str, environ: Mapping[str, str], default: Sequence[str]
) -> list[str]:
    """A path list as ansible-playbook will resolve it (environment, ansible.cfg, default)."""
    from_env = [p for p in environ.get(env_name, "").split(os.pathsep) if p]
    if from_env:  # the environment wins over ansible.cfg
        return from_env
    if ansible_cfg(environ) is None and not environ.get("ANSIBLE_HOME"):
        return list(default)  # Ansible's own default; no need to ask it (0.25 s of imports)
    try:  # ansible-core is a dependency of this tool; its constants read both, templated.
        import ansible.constants  # type: ignore[import-untyped]

        configured = getattr(ansible.constants, setting)
    except Exception:  # unreadable ansible.cfg: ansible-playbook itself will say why
        configured = list(default)
    if isinstance(configured, str):
        configured = configured.split(os.pathsep)
    return [str(p) for p in configured or default]


def link_collections(manifests: Sequence[Manifest], base: Path) -> Path:
    """BASE/ansible_collections/NS/NAME -> each preset's root (a collection tree)."""
    for manifest in manifests:
        if not manifest.collection:
            continue
        namespace, name = manifest.collection.split(".")
        link = base / "ansible_collections" / namespace / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(manifest.root, target_is_directory=True)
    return base


@contextmanager
def staged(manifests: Sequence[Manifest], environ: Mapping[str, str]) -> Iterator[Staged]:
    """A temporary collections dir whose collections come first, so that an older copy
    elsewhere (~/.ansible/collections) cannot shadow the presets' own; removed after."""
    with tempfile.TemporaryDirectory(prefix="preset-") as tmp:
        base = link_collections(manifests, Path(tmp) / "collections")
        collections = [
            str(base),
            *configured_paths(
                "COLLECTIONS_PATHS",
                "ANSIBLE_COLLECTIONS_PATH",
                environ,
                DEFAULT_COLLECTIONS_PATHS,
            ),
        ]
        callbacks = [
            str(CALLBACK_DIR),
            *configured_paths(
                "DEFAULT_CALLBACK_PLUGIN_PATH",
                "ANSIBLE_CALLBACK_PLUGINS",
                environ,
                DEFAULT_CALLBACK_PATHS,
            ),
        ]
        summary = Path(tmp) / "summary.json"
        yield Staged(
            env={
                "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(dict.fromkeys(collections)),
                "ANSIBLE_CALLBACK_PLUGINS": os.pathsep.join(dict.fromkeys(callbacks)),
                SUMMARY_ENV: str(summary),
            },
            summary_file=summary,
        )
