"""Turn a playbook with `preset:` steps into plain Ansible plays (include_role tasks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from preset.errors import PlaybookError, PresetError, ValidationError
from preset.manifest import Manifest
from preset.validate import type_name, validate_with

PLAY_KEYS = ("hosts", "import_playbook", "ansible.builtin.import_playbook")
TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers")
BLOCK_LISTS = ("block", "rescue", "always")
STEP_KEYS = ("preset", "with")
REJECTED_KEYS = {"vars": "not allowed on a preset step; give parameters under 'with:'"}

Resolver = Callable[[str], Manifest]
Form = Literal["steps", "plays"]


@dataclass
class _Context:
    """Where we are translating and what went wrong so far."""

    display: str
    resolve: Resolver
    errors: list[str] = field(default_factory=list)
    manifests: dict[str, Manifest] = field(default_factory=dict)

    def manifest(self, name: str) -> Manifest:
        if name not in self.manifests:
            self.manifests[name] = self.resolve(name)
        return self.manifests[name]


def playbook_form(data: Any, display: str) -> Form:
    """'steps' for a plain list of steps, 'plays' for an Ansible play list."""
    if not isinstance(data, list) or not data:
        raise PlaybookError(f"{display}: expected a non-empty list of steps or plays")
    for index, item in enumerate(data, 1):
        if not isinstance(item, dict):
            got = type_name(item)
            raise PlaybookError(f"{display}: item {index}: expected a mapping, got {got}")
    plays = [i for i, item in enumerate(data, 1) if any(k in item for k in PLAY_KEYS)]
    if not plays:
        return "steps"
    if len(plays) == len(data):
        return "plays"
    steps = [i for i in range(1, len(data) + 1) if i not in plays]
    raise PlaybookError(
        f"{display}: mixes plays (items {_numbers(plays)} have hosts or import_playbook) with "
        f"steps (items {_numbers(steps)}); write either a plain list of steps or a list of plays"
    )


def _numbers(items: list[int]) -> str:
    return ", ".join(map(str, items))


@dataclass(frozen=True)
class Translation:
    """The plain Ansible plays and the presets they use, in order of first use."""

    plays: list[dict[str, Any]]
    manifests: tuple[Manifest, ...]


def translate(data: Any, display: str, resolve: Resolver) -> Translation:
    """Plain Ansible plays for a playbook; raises with every problem found."""
    ctx = _Context(display, resolve)
    if playbook_form(data, display) == "steps":
        plays = [_steps_play(data, display, ctx)]
    else:
        plays = [_play(play, f"play {i}", ctx) for i, play in enumerate(data, 1)]
    if ctx.errors:
        raise ValidationError(ctx.errors)
    return Translation(plays, tuple(ctx.manifests.values()))


def _steps_play(steps: list[Any], display: str, ctx: _Context) -> dict[str, Any]:
    name = display.replace("\\", "/").rsplit("/", 1)[-1]
    play: dict[str, Any] = {
        "name": f"preset: {name}",
        "hosts": "all",
        "become": True,
        "gather_facts": True,
    }
    # Presets need only the minimal facts (OS, service manager, host name);
    # other tasks in the list may need the rest.
    if all(isinstance(step, dict) and "preset" in step for step in steps):
        play["gather_subset"] = ["min"]
    play["tasks"] = _tasks(steps, "step", ctx)
    return play


def _play(play: dict[str, Any], where: str, ctx: _Context) -> dict[str, Any]:
    return {
        key: _tasks(value, f"{where}, {key} step", ctx)
        if key in TASK_LISTS and isinstance(value, list)
        else value
        for key, value in play.items()
    }


def _tasks(items: list[Any], where: str, ctx: _Context) -> list[Any]:
    return [_task(item, f"{where} {i}", ctx) for i, item in enumerate(items, 1)]


def _task(item: Any, where: str, ctx: _Context) -> Any:
    if not isinstance(item, dict):
        return item
    if "preset" in item:
        return _preset_step(item, where, ctx)
    return {
        key: _tasks(value, f"{where}, {key} step", ctx)
        if key in BLOCK_LISTS and isinstance(value, list)
        else value
        for key, value in item.items()
    }


def _preset_step(step: dict[str, Any], where: str, ctx: _Context) -> dict[str, Any]:
    """An include_role task for one preset step; problems go to ctx.errors."""
    preset = step.get("preset")
    title = str(step.get("name") or f"preset {preset}")
    prefix = f"{ctx.display}: {where} ({title})"
    errors = [f"{prefix}: {key}: {why}" for key, why in REJECTED_KEYS.items() if key in step]
    given = step.get("with") or {}
    if not isinstance(given, dict):
        errors.append(f"{prefix}: with: expected a mapping of parameters, got {type_name(given)}")
        given = {}
    manifest = _resolve(preset, prefix, ctx, errors)
    if manifest is not None:
        errors += [f"{prefix}: {problem}" for problem in validate_with(manifest.parameters, given)]
    ctx.errors.extend(errors)
    if errors or manifest is None:
        return step
    return include_role_task(step, title, manifest, given)


def _resolve(preset: Any, prefix: str, ctx: _Context, errors: list[str]) -> Manifest | None:
    if not isinstance(preset, str) or not preset:
        errors.append(f"{prefix}: preset: expected a preset name, got {type_name(preset)}")
        return None
    try:
        manifest = ctx.manifest(preset)
    except PresetError as exc:
        errors.extend(f"{prefix}: {message}" for message in exc.messages)
        return None
    if not manifest.role.is_dir():
        errors.append(f"{prefix}: role directory {manifest.role} (from {manifest.path}) not found")
        return None
    return manifest


def include_role_task(
    step: dict[str, Any], title: str, manifest: Manifest, given: dict[str, Any]
) -> dict[str, Any]:
    """The include_role task; only given parameters are passed, role defaults do the rest."""
    include: dict[str, Any] = {"name": manifest.role_name}
    if "tags" in step:  # tags on an include only select the include; apply them inside too
        include["apply"] = {"tags": step["tags"]}
    task: dict[str, Any] = {"name": title, "ansible.builtin.include_role": include}
    if given:
        task["vars"] = {manifest.variable(key): value for key, value in given.items()}
    task.update({k: v for k, v in step.items() if k not in (*STEP_KEYS, "name")})
    return task
