# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
"""flow_source on the controller, in Ansible's own process (documented in
plugins/modules/flow_source.py, whose read() does the work).

The source is read on the controller in any case. As a module it paid for a
Python process, Ansible's module imports and a round trip through the local
connection, on every converge (0.4 s of a no-op converge); here it costs what
reading the source costs."""

from __future__ import annotations

import os
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible_collections.prefect_preset.prefect.plugins.module_utils.flows import SourceError
from ansible_collections.prefect_preset.prefect.plugins.modules import flow_source


class Controller:
    """What flow_source.read() uses of AnsibleModule, run in this process."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)
        self.no_log_values: set[str] = set()

    def run_command(
        self,
        args: Sequence[str],
        environ_update: Mapping[str, str] | None = None,
        check_rc: bool = False,
    ) -> tuple[int, str, str]:
        """ARGS without a shell, with ENVIRON_UPDATE over this process's environment
        and git's messages in English (what the module's run_command does)."""
        env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **(environ_update or {})}
        try:
            done = subprocess.run(
                list(args),
                capture_output=True,
                text=True,
                env=env,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError as error:
            raise SourceError(f"{args[0]} is not installed on the controller ({error})") from error
        if check_rc and done.returncode != 0:
            why = (done.stderr or done.stdout).strip()
            raise SourceError(f"{' '.join(args[:2])} failed on the controller: {why}")
        return done.returncode, done.stdout, done.stderr


def read_on_controller(params: Mapping[str, Any]) -> dict[str, Any]:
    """flow_source.read() with PARAMS (validated), its errors as a failed result, and
    the credentials (and the header made of them) masked wherever they appear."""
    controller = Controller(params)
    try:
        result = flow_source.read(controller)
    except (SourceError, OSError, tarfile.TarError) as error:
        result = {"failed": True, "msg": str(error)}
    secrets = set(controller.no_log_values)
    if params.get("credentials"):
        secrets.add(params["credentials"])
    return remove_values(result, secrets)  # type: ignore[no-any-return]


class ActionModule(ActionBase):  # type: ignore[misc]
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        params = self.validate_argument_spec(argument_spec=flow_source.ARGUMENT_SPEC)[1]
        result.update(read_on_controller(params))
        return result
