"""preset: a typed front end that provisions presets (Prefect) with Ansible."""

__version__ = "0.1.0"
