"""Errors the tool reports; every PresetError means "nothing was run" (exit 2)."""

from __future__ import annotations

from collections.abc import Sequence


class PresetError(Exception):
    """A usage, manifest, playbook or validation problem: exit 2, nothing runs."""

    exit_code = 2

    def __init__(self, *messages: str) -> None:
        super().__init__("\n".join(messages))
        self.messages: tuple[str, ...] = messages


class ManifestError(PresetError):
    """preset.yaml is missing, unreadable or malformed."""


class PresetNotFoundError(PresetError):
    """No preset with the requested name on the search path."""


class PlaybookError(PresetError):
    """The playbook cannot be read or has the wrong shape."""


class ValidationError(PresetError):
    """One or more preset steps have invalid parameters."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__(*messages)


class AnsibleNotFoundError(PresetError):
    """ansible-playbook is neither next to the interpreter nor on PATH."""

    exit_code = 127
