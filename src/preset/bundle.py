"""The preset this tool carries: in a wheel under preset/_bundle, in a checkout the
repository itself. Both are the same collection tree (see pyproject.toml, galaxy.yml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from preset.errors import ManifestError
from preset.manifest import MANIFEST_FILE, Manifest, find_project_root, load_manifest, version_key

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLE_DIR = PACKAGE_DIR / "_bundle"
# What every bundled preset must hold, relative to its root; checked before use.
REQUIRED = (MANIFEST_FILE, "galaxy.yml", "meta/runtime.yml", "plugins/modules")


@dataclass(frozen=True)
class Bundle:
    """Where the tool's own preset lives and how it got there."""

    root: Path
    origin: str  # "wheel" or "checkout"

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_FILE

    def manifest(self) -> Manifest:
        return load_manifest(self.manifest_path)


def locate(package_dir: Path = PACKAGE_DIR) -> Bundle:
    """The bundled preset, checked; raises ManifestError naming what is missing and where."""
    bundle_dir = package_dir / "_bundle"
    if bundle_dir.exists():
        bundle = Bundle(bundle_dir, "wheel")
    else:
        root = find_project_root(package_dir.parent)
        if root is None:
            raise ManifestError(
                f"this installation of preset carries no preset: {bundle_dir} does not exist "
                "and the package is not inside a checkout; reinstall it "
                "(pipx install --force prefect-preset, or pip install of the wheel)"
            )
        bundle = Bundle(root, "checkout")
    check(bundle)
    return bundle


def check(bundle: Bundle) -> None:
    """Fail when the bundle lacks a file or its manifest's role directory."""
    missing = [rel for rel in REQUIRED if not (bundle.root / rel).exists()]
    if not missing:
        manifest = bundle.manifest()
        if not (manifest.role / "tasks" / "main.yml").is_file():
            missing.append(str(manifest.role.relative_to(bundle.root) / "tasks" / "main.yml"))
    if missing:
        raise ManifestError(
            f"the preset bundled with this {bundle.origin} at {bundle.root} is damaged: "
            f"missing {', '.join(missing)}; reinstall the tool "
            "(pipx install --force prefect-preset, or pip install --force-reinstall of the wheel)"
        )


def check_not_older(found: Manifest, bundled: Manifest) -> None:
    """A copy of the tool's own preset found first on the search path (PRESET_PATH, an old
    collection) must not be older than the one the tool carries."""
    if found.name != bundled.name or found.path == bundled.path:
        return
    if version_key(found.version) < version_key(bundled.version):
        raise ManifestError(
            f"preset {found.name!r} {found.version or '(no version)'} at {found.root} is older "
            f"than the {bundled.version} this tool carries ({bundled.root}); remove it from "
            "--preset-path/PRESET_PATH, or upgrade it "
            f"(ansible-galaxy collection install --force of {found.collection or found.name} "
            f"{bundled.version})"
        )
