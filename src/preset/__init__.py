"""preset: a typed front end that provisions presets (Prefect) with Ansible."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prefect-preset")
except PackageNotFoundError:  # run from a checkout without installing (PYTHONPATH=src)
    __version__ = "0+checkout"
