"""plugins/filter/platform_dirs.py: Prefect's directories on macOS and Windows."""

from __future__ import annotations

from module_harness import load_plugin

dirs = load_plugin("plugins/filter/platform_dirs.py", "prefect_filter_platform_dirs").platform_dirs

OPTIONS = {
    "prefect_install_dir": {"type": "path", "default": "/opt/prefect"},
    "prefect_config_dir": {"type": "path", "default": "/etc/prefect"},
}
DOCUMENTED = {"install": "/opt/prefect", "config": "/etc/prefect"}
PLATFORM = {"install": "C:\\ProgramData\\prefect\\app", "config": "C:\\ProgramData\\prefect\\config"}


def test_a_parameter_left_at_its_documented_default_means_the_platforms_place() -> None:
    assert dirs(DOCUMENTED, OPTIONS, PLATFORM) == PLATFORM


def test_a_value_given_is_used_as_given() -> None:
    out = dirs({"install": "D:\\Prefect", "config": "/etc/prefect"}, OPTIONS, PLATFORM)
    assert out == {"install": "D:\\Prefect", "config": PLATFORM["config"]}


def test_keep_given_uses_even_the_documented_defaults() -> None:
    assert dirs(DOCUMENTED, OPTIONS, PLATFORM, keep_given=True) == DOCUMENTED
