"""Stand-in for ansible-test's pip bootstrap script.

ansible-test downloads https://ci-files.testing.ansible.com/ansible-test/get-pip-VERSION.py
into ~/.ansible/test/cache/ before it builds its sanity virtualenvs; this network reaches
PyPI only. scripts/test copies this file there instead. It does what get-pip does with
its arguments: bootstrap pip (here with the interpreter's own ensurepip, not an embedded
copy), then `pip install` the packages ansible-test asks for, from PyPI. The virtualenv's
pip is told to trust the system certificate store (a TLS-inspecting proxy's CA lives
there), as the preset's own installers are.
"""

import os
import subprocess
import sys
from pathlib import Path

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# --no-setuptools/--no-wheel are get-pip's own options, not pip's.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

if Path(SYSTEM_BUNDLE).is_file():
    Path(sys.prefix, "pip.conf").write_text(f"[global]\ncert = {SYSTEM_BUNDLE}\n")
    os.environ.setdefault("PIP_CERT", SYSTEM_BUNDLE)
# In a child process: ensurepip.bootstrap() deletes every PIP_* variable from os.environ.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
arguments = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *arguments]))
