"""The parameter table of `preset show`, as aligned plain text or Markdown."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from preset.manifest import Manifest, Parameter
from preset.yamlio import inline

HEADERS = ("PARAMETER", "TYPE", "DEFAULT", "CHOICES", "DESCRIPTION")


@dataclass(frozen=True)
class Row:
    """One line of the table; nested options are named `work_pools[].name`."""

    name: str
    flags: str
    type: str
    default: str
    choices: str
    description: str

    def cells(self) -> tuple[str, str, str, str, str]:
        return (self.label(), self.type, self.default, self.choices, self.description)

    def label(self, code: str = "") -> str:
        name = f"{code}{self.name}{code}"
        return f"{name} ({self.flags})" if self.flags else name


def rows(manifest: Manifest) -> list[Row]:
    return [row for param in manifest.parameters for row in _rows(param, param.name, False)]


def _rows(param: Parameter, name: str, secret: bool) -> Iterator[Row]:
    secret = secret or param.secret
    flags = [flag for flag, on in (("required", param.required), ("secret", secret)) if on]
    yield Row(
        name=name,
        flags=", ".join(flags),
        type=f"list[{param.elements}]" if param.elements else param.type,
        default=inline(param.default) if param.has_default else "-",
        choices=accepted(param),
        description=param.description,
    )
    joiner = "[]." if param.type == "list" else "."
    for option in param.options:
        yield from _rows(option, f"{name}{joiner}{option.name}", secret)


def accepted(param: Parameter) -> str:
    """Choices, an int range or a pattern; empty when anything of the type goes."""
    if param.choices:
        return ", ".join(inline(c) for c in param.choices)
    if param.min is not None or param.max is not None:
        low = "" if param.min is None else str(param.min)
        high = "" if param.max is None else str(param.max)
        return f"{low}..{high}"
    if param.pattern is not None:
        return f"pattern {param.pattern}"
    return ""


def render_text(manifest: Manifest) -> str:
    """Aligned columns separated by two spaces."""
    table = [HEADERS, *(row.cells() for row in rows(manifest))]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS) - 1)]
    return "".join(_text_line(line, widths) for line in table)


def _text_line(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths, strict=True)]
    return "  ".join([*padded, cells[-1]]).rstrip() + "\n"


def render_markdown(manifest: Manifest) -> str:
    """A GitHub-flavoured Markdown table (the README embeds it)."""
    lines = [
        "| Parameter | Type | Default | Choices | Description |",
        "|---|---|---|---|---|",
    ]
    for row in rows(manifest):
        code = [row.label("`"), row.type, _code(row.default), _code(row.choices)]
        lines.append("| " + " | ".join(_escape(c) for c in [*code, row.description]) + " |")
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    return f"`{text}`" if text and text != "-" else text


def _escape(text: str) -> str:
    return text.replace("|", "\\|")
