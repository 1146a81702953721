# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
"""rendered_files: render the role's templates on the controller and say which
differ from what the host holds (documented in plugins/modules/rendered_files.py).

A converge renders every file it manages to compare it with the host. The
template lookup copies all the task's variables for each template it renders
(deep copies of the facts, the host's read, the role's variables): with a dozen
templates that was half a second of every no-op converge. This renders each
template as ansible.builtin.template does (a shallow copy of the variables) and
keeps the comparison, which is plain data, in stale_files below."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

import ansible.template
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.prefect_preset.prefect.plugins.modules.rendered_files import ARGUMENT_SPEC

# ansible-core 2.19 renders only templates trusted as such; 2.17 and 2.18 have no trust.
TRUSTED_TEMPLATES = hasattr(ansible.template, "trust_as_template")
REQUIRED_KEYS = ("src", "dest", "mode")


def stale_files(
    files: Sequence[Mapping[str, Any]],
    checksums: Mapping[str, str],
    host_files: Mapping[str, Mapping[str, Any]],
    owner: str = "root",
) -> list[str]:
    """The destinations of FILES the host lacks, or holds with another content
    (CHECKSUMS: what each should hold), mode, owner or group; in FILES' order."""
    stale = []
    for file in files:
        dest = file["dest"]
        have = host_files.get(dest) or {}
        if (
            have.get("checksum", "") != checksums[dest]
            or have.get("mode", "") != file["mode"]
            or have.get("owner", "") != owner
            or have.get("group", "") != file.get("group", "root")
        ):
            stale.append(dest)
    return stale


def missing_keys(files: Sequence[Any]) -> list[str]:
    """What is wrong with the entries of FILES, one message per bad entry."""
    problems = []
    for index, file in enumerate(files):
        if not isinstance(file, Mapping):
            problems.append(f"files[{index}] is a {type(file).__name__}, not a dict")
            continue
        absent = [key for key in REQUIRED_KEYS if not file.get(key)]
        if absent:
            problems.append(
                f"files[{index}] ({file.get('dest') or file.get('src') or '?'}) "
                f"lacks {', '.join(absent)}"
            )
    return problems


class ActionModule(ActionBase):  # type: ignore[misc]
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        files = args["files"]
        problems = missing_keys(files)
        if problems:
            raise AnsibleActionFail(
                "rendered_files: " + "; ".join(problems) + ". Each file needs src, dest and mode."
            )
        task_vars = task_vars or {}
        checksums = {}
        for file in files:
            content = self._render(
                file["src"], file["dest"], file.get("template_vars") or {}, task_vars
            )
            checksums[file["dest"]] = hashlib.sha1(content.encode("utf-8")).hexdigest()
        result.update(
            changed=False,
            checksums=checksums,
            stale=stale_files(files, checksums, args["host_files"], args["owner"]),
        )
        return result

    def _render(
        self, src: str, dest: str, own_vars: Mapping[str, Any], task_vars: Mapping[str, Any]
    ) -> str:
        """SRC as ansible.builtin.template renders it for DEST (same search path,
        same ansible_* template variables, same options), with OWN_VARS on top."""
        source = self._find_needle("templates", src)
        searchpath = []
        for path in [
            *task_vars.get("ansible_search_path", []),
            self._loader._basedir,
            os.path.dirname(source),
        ]:
            searchpath += [os.path.join(path, "templates"), path]
        generated = ansible.template.generate_ansible_template_vars(src, source, dest)
        if "ansible_managed" in task_vars:  # the template action keeps the user's own
            generated.pop("ansible_managed", None)
        variables = {**task_vars, **generated, **own_vars}
        templar = self._templar.copy_with_new_env(
            searchpath=searchpath, available_variables=variables
        )
        if TRUSTED_TEMPLATES:  # ansible-core 2.19
            data = ansible.template.trust_as_template(self._loader.get_text_file_contents(source))
            rendered = templar.template(data, escape_backslashes=False)
        else:  # 2.17, 2.18: the template action's own call
            data = self._read_text(source)
            rendered = templar.do_template(
                data, preserve_trailing_newlines=True, escape_backslashes=False
            )
        return "" if rendered is None else str(rendered)

    def _read_text(self, source: str) -> str:
        b_data = self._loader._get_file_contents(source)[0]
        return to_text(b_data, errors="surrogate_or_strict")
