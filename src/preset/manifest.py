"""Load preset.yaml into frozen dataclasses and find presets by name."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from preset.errors import ManifestError, PresetNotFoundError

MANIFEST_FILE = "preset.yaml"
TYPES = ("str", "int", "bool", "path", "list", "dict")
PARAMETER_FIELDS = frozenset(
    {
        "type",
        "default",
        "required",
        "choices",
        "pattern",
        "min",
        "max",
        "elements",
        "options",
        "secret",
        "description",
    }
)
NAME_RE = re.compile(r"[a-z_][a-z0-9_]*")
# An Ansible collection name, NAMESPACE.NAME (ansible-galaxy's rules).
COLLECTION_RE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Parameter:
    """One typed parameter of a preset (or one option of a dict list element)."""

    name: str
    type: str
    description: str = ""
    default: Any = None
    has_default: bool = False
    required: bool = False
    choices: tuple[Any, ...] = ()
    pattern: str | None = None
    min: int | None = None
    max: int | None = None
    elements: str | None = None
    options: tuple[Parameter, ...] = ()
    secret: bool = False

    def option(self, name: str) -> Parameter | None:
        return next((o for o in self.options if o.name == name), None)


@dataclass(frozen=True)
class Manifest:
    """A preset: its metadata, its role and its parameters."""

    name: str
    version: str
    description: str
    path: Path
    role: Path
    variable_prefix: str
    parameters: tuple[Parameter, ...]
    short_description: str = ""
    collection: str = ""

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def role_name(self) -> str:
        """How a play names the role: its FQCN in a collection, else its directory."""
        return f"{self.collection}.{self.role.name}" if self.collection else str(self.role)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def variable(self, name: str) -> str:
        return f"{self.variable_prefix}{name}"


# libyaml's safe loader where PyYAML was built with it (its wheels are): the same
# documents, parsed about ten times faster than by the pure-Python one.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file with the safe loader; errors become ManifestError."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: invalid YAML: {exc}") from exc


def load_manifest(path: Path, data: Any = None) -> Manifest:
    """Load and check one preset.yaml (DATA: its content, when already read)."""
    path = path.resolve()
    if data is None:
        data = read_yaml(path)
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected a mapping at the top level")
    where = str(path)
    name = _str_field(data, "name", where, required=True)
    role = _str_field(data, "role", where, required=True)
    params = data.get("parameters") or {}
    if not isinstance(params, dict):
        raise ManifestError(f"{where}: parameters: expected a mapping")
    collection = _str_field(data, "collection", where)
    if collection and not COLLECTION_RE.fullmatch(collection):
        raise ManifestError(
            f"{where}: collection: expected NAMESPACE.NAME in lower case, got {collection!r}"
        )
    return Manifest(
        name=name,
        collection=collection,
        version=str(data.get("version", "")),
        description=_str_field(data, "description", where),
        short_description=_str_field(data, "short_description", where),
        path=path,
        role=(path.parent / role).resolve(),
        variable_prefix=_str_field(data, "variable_prefix", where) or f"{name}_",
        parameters=_parse_parameters(params, f"{where}: parameters"),
    )


def _str_field(data: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{where}: {key}: expected a non-empty string")
    return value.strip()


def _parse_parameters(params: Mapping[Any, Any], where: str) -> tuple[Parameter, ...]:
    return tuple(_parse_parameter(name, spec, f"{where}.{name}") for name, spec in params.items())


def _parse_parameter(name: Any, spec: Any, where: str) -> Parameter:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ManifestError(f"{where}: parameter names must match {NAME_RE.pattern}")
    if not isinstance(spec, dict):
        raise ManifestError(f"{where}: expected a mapping of parameter fields")
    unknown = sorted(set(spec) - PARAMETER_FIELDS)
    if unknown:
        raise ManifestError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    kind = spec.get("type")
    if kind not in TYPES:
        raise ManifestError(f"{where}: type: expected one of {', '.join(TYPES)}, got {kind!r}")
    elements = spec.get("elements")
    if elements is not None and (kind != "list" or elements not in TYPES):
        raise ManifestError(f"{where}: elements: only for type list, one of {', '.join(TYPES)}")
    options = spec.get("options") or {}
    if options and not (kind == "dict" or elements == "dict"):
        raise ManifestError(f"{where}: options: only for type dict or list of dict")
    if not isinstance(options, dict):
        raise ManifestError(f"{where}: options: expected a mapping")
    if "pattern" in spec and kind not in ("str", "path"):
        raise ManifestError(f"{where}: pattern: only for type str or path")
    if ("min" in spec or "max" in spec) and kind != "int":
        raise ManifestError(f"{where}: min/max: only for type int")
    required = _bool(spec, "required", where)
    if required and "default" in spec:
        raise ManifestError(f"{where}: a required parameter cannot have a default")
    if not required and "default" not in spec:
        raise ManifestError(f"{where}: give a default or mark the parameter required")
    return Parameter(
        name=name,
        type=kind,
        description=str(spec.get("description") or "").strip(),
        default=spec.get("default"),
        has_default="default" in spec,
        required=required,
        choices=_choices(spec, where),
        pattern=_pattern(spec, where),
        min=_int(spec, "min", where),
        max=_int(spec, "max", where),
        elements=elements,
        options=_parse_parameters(options, where),
        secret=_bool(spec, "secret", where),
    )


def _bool(spec: Mapping[str, Any], key: str, where: str) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):
        raise ManifestError(f"{where}: {key}: expected true or false")
    return value


def _int(spec: Mapping[str, Any], key: str, where: str) -> int | None:
    value = spec.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ManifestError(f"{where}: {key}: expected an integer")
    return value


def _choices(spec: Mapping[str, Any], where: str) -> tuple[Any, ...]:
    choices = spec.get("choices") or []
    if not isinstance(choices, list):
        raise ManifestError(f"{where}: choices: expected a list")
    return tuple(choices)


def _pattern(spec: Mapping[str, Any], where: str) -> str | None:
    pattern = spec.get("pattern")
    if pattern is None:
        return None
    try:
        re.compile(str(pattern))
    except re.error as exc:
        raise ManifestError(f"{where}: pattern: invalid regular expression: {exc}") from exc
    return str(pattern)


# --- finding presets --------------------------------------------------------------------


def find_project_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` that holds a preset.yaml."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / MANIFEST_FILE).is_file():
            return directory
    return None


def search_dirs(
    preset_paths: Sequence[Path],
    environ: Mapping[str, str],
    playbook_dir: Path | None,
    bundled: Path | None,
) -> list[Path]:
    """Where presets are looked for, first match wins: --preset-path dirs, PRESET_PATH,
    the playbook's dir and the nearest preset.yaml above it, and last the preset the
    tool carries (`bundled`)."""
    env_dirs = [Path(p) for p in environ.get("PRESET_PATH", "").split(os.pathsep) if p]
    missing = [
        f"{origin} {path} does not exist"
        for origin, paths in (("--preset-path", preset_paths), ("PRESET_PATH entry", env_dirs))
        for path in paths
        if not path.is_dir()
    ]
    if missing:
        raise PresetNotFoundError(*missing)
    roots = [find_project_root(playbook_dir)] if playbook_dir is not None else []
    candidates = [
        *preset_paths,
        *env_dirs,
        *([playbook_dir] if playbook_dir else []),
        *(root for root in roots if root is not None),
        *([bundled] if bundled is not None else []),
    ]
    return list(dict.fromkeys(p.resolve() for p in candidates))


def find_preset(name: str, dirs: Sequence[Path]) -> Manifest:
    """The first preset called `name`: DIR/preset.yaml or DIR/<name>/preset.yaml."""
    found: list[str] = []
    for directory in dirs:
        for candidate in (directory / MANIFEST_FILE, directory / name / MANIFEST_FILE):
            if not candidate.is_file():
                continue
            data = read_yaml(candidate)
            other = data.get("name") if isinstance(data, dict) else None
            if other == name:
                return load_manifest(candidate, data)
            found.append(f"{other} ({candidate})")
    searched = ", ".join(str(d) for d in dirs) or "(nowhere)"
    presets = ", ".join(dict.fromkeys(found)) or "none"
    raise PresetNotFoundError(
        f"unknown preset {name!r}; presets found: {presets}; searched: {searched} "
        "(add directories with --preset-path or PRESET_PATH)"
    )


def version_key(version: str) -> tuple[int, ...]:
    """1.10.0 > 1.9.2: the leading numeric parts of a version, for ordering."""
    parts = []
    for part in version.split("."):
        digits = re.match(r"[0-9]+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)
