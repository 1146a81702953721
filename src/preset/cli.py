"""`preset run | show | generate`: the command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from preset import __version__, ansible_env, bundle, generate, report, runner, table
from preset.errors import ManifestError, PresetError
from preset.manifest import Manifest, find_preset, find_project_root, load_manifest, search_dirs
from preset.translate import translate
from preset.yamlio import dump, load_playbook

PACKAGE_FILE = Path(__file__)


class _Version(argparse.Action):
    """--version: the tool's version and the preset it carries (checked, so a damaged
    install says so here too)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        try:
            carried = bundle.locate()
            manifest = carried.manifest()
            preset = f"preset {manifest.name} {manifest.version} ({carried.origin}: {carried.root})"
        except PresetError as exc:
            preset = f"no usable preset: {exc}"
        sys.stdout.write(f"preset {__version__}\n{preset}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="preset", description="Validate preset playbooks and run them with ansible-playbook."
    )
    parser.add_argument(
        "--version", action=_Version, nargs=0, help="print the tool's and the preset's versions"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="validate, translate and run a playbook")
    run.add_argument("playbook", type=Path, metavar="PLAYBOOK")
    run.add_argument("-i", "--inventory", help="inventory (default: localhost, connection local)")
    run.add_argument("--check", action="store_true", help="ansible-playbook --check")
    run.add_argument("--diff", action="store_true", help="ansible-playbook --diff")
    run.add_argument("-l", "--limit", metavar="PATTERN", help="ansible-playbook --limit")
    run.add_argument("-t", "--tags", help="ansible-playbook --tags")
    run.add_argument("--skip-tags", help="ansible-playbook --skip-tags")
    run.add_argument(
        "-e",
        "--extra-vars",
        action="append",
        default=[],
        metavar="EXTRA",
        help="ansible-playbook -e (repeatable; not validated by preset)",
    )
    run.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more output; also prints the ansible-playbook command",
    )
    run.add_argument(
        "--print",
        action="store_true",
        dest="print_only",
        help="print the translated playbook and run nothing",
    )
    _preset_path_option(run)

    show = commands.add_parser("show", help="print a preset's parameter table")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--format", choices=("text", "markdown"), default="text")
    _preset_path_option(show)

    gen = commands.add_parser("generate", help="regenerate the role files from preset.yaml")
    gen.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a generated file is out of date",
    )
    gen.add_argument(
        "--manifest",
        type=Path,
        metavar="PRESET_YAML",
        help="preset.yaml to use (default: nearest one above the current directory)",
    )
    return parser


def _preset_path_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset-path",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="directory to search for presets first (repeatable)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args, sys.stdout, sys.stderr)
        if args.command == "show":
            return cmd_show(args, sys.stdout)
        return cmd_generate(args, sys.stdout, sys.stderr)
    except PresetError as exc:
        for message in exc.messages:
            print(f"preset: error: {message}", file=sys.stderr)
        return exc.exit_code


class _Finder:
    """Finds presets on the search path; the tool's own preset is never shadowed by an
    older copy of itself."""

    def __init__(self, args: argparse.Namespace, playbook_dir: Path | None) -> None:
        self.carried = bundle.locate()
        self.dirs = search_dirs(args.preset_path, os.environ, playbook_dir, self.carried.root)
        self._carried_manifest: Manifest | None = None

    def __call__(self, name: str) -> Manifest:
        found = find_preset(name, self.dirs)
        if self._carried_manifest is None:  # usually the same file: not read twice
            same = found.path == self.carried.manifest_path.resolve()
            self._carried_manifest = found if same else self.carried.manifest()
        bundle.check_not_older(found, self._carried_manifest)
        return found


def cmd_run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    playbook: Path = args.playbook
    resolve = _Finder(args, playbook.resolve().parent)
    translation = translate(load_playbook(playbook), str(playbook), resolve)
    text = dump(
        translation.plays, f"Translated by preset {__version__} from {playbook.name}; do not edit."
    )
    if args.print_only:
        stdout.write(text)
        return 0
    options = runner.RunOptions(
        inventory=args.inventory,
        check=args.check,
        diff=args.diff,
        limit=args.limit,
        tags=args.tags,
        skip_tags=args.skip_tags,
        extra_vars=tuple(args.extra_vars),
        verbosity=args.verbose,
    )
    print(report.announcement(translation.manifests, playbook, options), file=stderr, flush=True)
    with ansible_env.staged(translation.manifests, os.environ) as staged:
        code = runner.run_playbook(text, playbook.resolve(), options, stderr, env=staged.env)
        for line in report.host_lines(staged.summary_file):
            print(line, file=stderr)
    return code


def cmd_show(args: argparse.Namespace, stdout: TextIO) -> int:
    manifest = _Finder(args, Path.cwd())(args.name)
    render = table.render_markdown if args.format == "markdown" else table.render_text
    stdout.write(render(manifest))
    return 0


def cmd_generate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    manifest = load_manifest(args.manifest or _default_manifest())
    files = generate.generated_files(manifest)
    if args.check:
        stale = generate.drifted(files)
        for path in stale:
            print(
                f"preset: {_rel(path, manifest)} is out of date with {manifest.path.name}; "
                "run `preset generate`",
                file=stderr,
            )
        return 1 if stale else 0
    for path in generate.write(files):
        print(f"wrote {_rel(path, manifest)}", file=stdout)
    return 0


def _default_manifest() -> Path:
    root = find_project_root(Path.cwd()) or find_project_root(PACKAGE_FILE.parent)
    if root is None:
        raise ManifestError("no preset.yaml in or above the current directory; use --manifest")
    return root / "preset.yaml"


def _rel(path: Path, manifest: Manifest) -> str:
    try:
        return str(path.relative_to(manifest.root))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
