"""Read playbooks (keeping Ansible tags such as !vault) and write deterministic YAML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from preset.errors import PlaybookError

_DIGIT_START = re.compile(r"[0-9]")


@dataclass(frozen=True)
class TaggedScalar:
    """A scalar with a local tag (!vault, !unsafe): kept verbatim, never checked statically."""

    tag: str
    value: str


class _Loader(yaml.SafeLoader):
    pass


def _construct_tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> TaggedScalar:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, f"tag !{suffix} is only supported on scalars", node.start_mark
        )
    return TaggedScalar(f"!{suffix}", str(loader.construct_scalar(node)))


_Loader.add_multi_constructor("!", _construct_tagged)


class _Dumper(yaml.SafeDumper):
    """2-space indent, indented sequences, no anchors: what yamllint/ansible-lint expect."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if _DIGIT_START.match(value):  # "3.8.8", "0640": quote so readers never guess the type
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


def _represent_tagged(dumper: yaml.SafeDumper, value: TaggedScalar) -> yaml.Node:
    style = "|" if "\n" in value.value else None
    return dumper.represent_scalar(value.tag, value.value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(TaggedScalar, _represent_tagged)


def load_playbook(path: Path) -> Any:
    """Parse a playbook file; unreadable files and YAML errors become PlaybookError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise PlaybookError(f"{path}: invalid YAML: {exc}") from exc


def dump(data: Any, header: str = "") -> str:
    """Deterministic YAML document starting with `---` and an optional comment header."""
    return f"---\n{comment(header)}{fragment(data)}"


def fragment(data: Any) -> str:
    """Block-style YAML for `data`, without a document start."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=120,
    )


def comment(text: str) -> str:
    """`text` as YAML comment lines."""
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines())


def inline(value: Any) -> str:
    """A one-line YAML flow rendering: present, 4200, [{name: default}], ''."""
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, width=10**6, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()
