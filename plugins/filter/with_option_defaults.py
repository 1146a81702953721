"""Fill in the defaults of list-of-dict sub-options.

Role argument validation checks `prefect_work_pools` against its sub-option
spec but does not write the sub-option defaults back into the variable, so a
user's ``[{name: etl}]`` arrives without ``type``.  This filter applies the
defaults that meta/argument_specs.yml (generated from preset.yaml) declares,
so the defaults keep a single home.
"""

from __future__ import annotations

from typing import Any


def with_option_defaults(
    items: list[dict[str, Any]], options: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return ``items`` with each missing (or null) sub-option set to its default."""
    defaults = {name: spec["default"] for name, spec in options.items() if "default" in spec}
    result = []
    for item in items:
        filled = dict(defaults)
        filled.update({key: value for key, value in item.items() if value is not None})
        result.append(filled)
    return result


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"with_option_defaults": with_option_defaults}
