#!/usr/bin/env python3
"""Print why a part of the test run failed, from its log, in a few dozen lines.

scripts/test runs its parts side by side and their lines interleave; a CI log is
often read from its tail only. When a part fails, the run ends with this excerpt
of that part's own log: each failure marker Ansible, molecule and pytest print
(a failed task, a failed idempotence check, a failed test and its assertion),
with the two lines before it and the rest of its block (to the next blank
line), colours and molecule's frame removed, and at most `--lines` lines in
all, the first failures first (later ones are often their consequence).

Usage: failure_excerpt.py LOG [--lines N]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# molecule draws a frame of "│" (and "└─") before the output of each command
FRAME = re.compile(r"^\s*[│└]\s?")
MARKERS = re.compile(
    r"fatal: \[|FAILED!|^failed: \[|CRITICAL|Idempotence test failed|^E\s|^FAILED |"
    r"^_{3,} .* _{3,}$|^ERROR |Traceback \(most recent call last\)|^\S*Error: "
)
BEFORE = 2  # lines kept before a marker (the task's name, the test's line)
AFTER = 40  # at most this many lines kept after it: the rest of its block, to a blank line
WIDTH = 400  # a line longer than this is cut (assertion messages can be pages)


def clean(line: str) -> str:
    """A log line without colours and without molecule's frame."""
    return FRAME.sub("", ANSI.sub("", line)).rstrip()


def excerpt(lines: list[str], limit: int) -> list[str]:
    """The marked lines with their context, in log order, at most `limit` lines.

    Windows that touch are joined; a gap between two windows is shown as "...".
    """
    text = [clean(line) for line in lines]
    keep: set[int] = set()
    for number, line in enumerate(text):
        if MARKERS.search(line):
            end = number + 1
            while end < min(len(text), number + AFTER + 1) and text[end].strip():
                end += 1
            keep.update(range(max(0, number - BEFORE), end))
    if not keep:  # nothing recognised: the end of the log says the most
        keep = set(range(max(0, len(text) - limit), len(text)))
    out: list[str] = []
    previous = -2
    for number in sorted(keep):
        if number != previous + 1 and out:
            out.append("...")
        line = text[number]
        out.append(line if len(line) <= WIDTH else line[:WIDTH] + " [cut]")
        previous = number
    if len(out) > limit:
        out = [*out[: limit - 1], f"... ({len(out) - limit + 1} more lines in the log)"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--lines", type=int, default=80)
    args = parser.parse_args(argv)
    try:
        lines = args.log.read_text(errors="replace").splitlines()
    except OSError as error:
        print(f"no log to excerpt: {error}")
        return 0
    print("\n".join(excerpt(lines, args.lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
