"""Generate the role's defaults, argument spec and constraints from the manifest."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from preset.errors import ManifestError
from preset.manifest import Manifest, Parameter
from preset.yamlio import comment, dump, fragment

GALAXY = Path("galaxy.yml")
DEFAULTS = Path("defaults/main.yml")
ARGUMENT_SPECS = Path("meta/argument_specs.yml")
CONSTRAINTS = Path("vars/constraints.yml")
HEADER = (
    "Generated from preset.yaml by `preset generate`; do not edit by hand.\n"
    "Change preset.yaml and run `preset generate` (a unit test fails on drift)."
)


def generated_files(manifest: Manifest) -> dict[Path, str]:
    """Absolute path -> content of every generated file."""
    files = {
        manifest.role / DEFAULTS: render_defaults(manifest),
        manifest.role / ARGUMENT_SPECS: render_argument_specs(manifest),
        manifest.role / CONSTRAINTS: render_constraints(manifest),
    }
    galaxy = manifest.root / GALAXY
    if manifest.collection and galaxy.is_file():
        files[galaxy] = render_galaxy(manifest, galaxy.read_text(encoding="utf-8"))
    return files


def render_galaxy(manifest: Manifest, text: str) -> str:
    """galaxy.yml with namespace, name and version set from the manifest; the rest of
    the file (authors, tags, build_ignore) is written by hand."""
    namespace, name = manifest.collection.split(".")
    for key, value in (("namespace", namespace), ("name", name), ("version", manifest.version)):
        text, count = re.subn(rf"(?m)^{key}:.*$", f"{key}: {value}", text, count=1)
        if count == 0:
            raise ManifestError(f"{manifest.root / GALAXY}: no top-level '{key}:' line to set")
    return text


def drifted(files: Mapping[Path, str]) -> list[Path]:
    """Files that are missing or differ from what would be generated."""
    return [
        path
        for path, text in files.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def write(files: Mapping[Path, str]) -> list[Path]:
    """Write the drifted files; returns them."""
    changed = drifted(files)
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
    return changed


def render_defaults(manifest: Manifest) -> str:
    """Every top-level parameter as `<prefix><name>: <default>`, each under its description."""
    blocks = [
        comment(textwrap.fill(p.description, 96, break_on_hyphens=False))
        + fragment({manifest.variable(p.name): p.default})
        for p in manifest.parameters
        if p.has_default
    ]
    return f"---\n{comment(HEADER)}\n" + "\n".join(blocks)


def render_argument_specs(manifest: Manifest) -> str:
    """meta/argument_specs.yml with entry point `main`."""
    main = {
        "short_description": manifest.short_description
        or f"{manifest.name} preset {manifest.version}".strip(),
        "description": manifest.description,
        "options": {manifest.variable(p.name): _spec(p) for p in manifest.parameters},
    }
    return dump({"argument_specs": {"main": main}}, HEADER)


def _spec(param: Parameter) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": param.type, "required": param.required}
    if param.has_default:
        spec["default"] = param.default
    if param.choices:
        spec["choices"] = list(param.choices)
    if param.elements:
        spec["elements"] = param.elements
    if param.secret:
        spec["no_log"] = True
    spec["description"] = param.description
    if param.options:
        spec["options"] = {o.name: _spec(o) for o in param.options}
    return spec


def render_constraints(manifest: Manifest) -> str:
    """vars/constraints.yml: the pattern/min/max rules argument_specs cannot express."""
    constraints = [c for p in manifest.parameters for c in _constraints(manifest, p)]
    values = {c["param"]: f"{{{{ {c['param']} }}}}" for c in constraints}
    prefix = f"__{manifest.variable_prefix}"
    header = (
        f"{HEADER}\n\n"
        f"{prefix}constraints: pattern (full match), min and max rules, checked at run time by\n"
        f"  {prefix}constraints | {manifest.collection or 'ns.coll'}.constraint_errors("
        f"{prefix}constraint_values)\n"
        "(plugins/filter/constraint_errors.py); `path` is the parameter as users write it."
    )
    return dump({f"{prefix}constraints": constraints, f"{prefix}constraint_values": values}, header)


def _constraints(manifest: Manifest, param: Parameter) -> Iterator[dict[str, Any]]:
    variable = manifest.variable(param.name)
    rule = _rule(param)
    if rule:
        yield {"param": variable, "path": param.name, **rule}
    joiner = "[]." if param.type == "list" else "."
    for option in param.options:
        if any(_rule(o) for o in option.options):
            raise ManifestError(f"{param.name}.{option.name}: constraints nest only one level")
        rule = _rule(option, param.secret)
        if rule:
            yield {
                "param": variable,
                "path": f"{param.name}{joiner}{option.name}",
                "option": option.name,
                **rule,
            }


def _rule(param: Parameter, secret: bool = False) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    if param.pattern is not None:
        rule["pattern"] = param.pattern
    if param.min is not None:
        rule["min"] = param.min
    if param.max is not None:
        rule["max"] = param.max
    if rule and (secret or param.secret):
        rule["secret"] = True
    return rule
