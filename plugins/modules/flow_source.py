#!/usr/bin/python
# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
#
# Read a code source on the controller: a git repository at a ref, or a directory.
#
# ruff: noqa: E402  (Ansible modules import after DOCUMENTATION/EXAMPLES/RETURN)

DOCUMENTATION = r'''
---
module: flow_source
version_added: "0.3.0"
short_description: Read a flows code source (git at a ref, or a directory) on the controller
description:
  - Resolves O(git) at O(ref) to a commit (or hashes the files of O(path)), exports that exact
    tree into O(cache_dir) and packs it as a C(.tar.gz) for the hosts, named by the version.
  - Reads the deployments - O(deployments), or the source's C(prefect.yaml) when none are given
    (build, push and pull steps are not run, the preset ships the code itself) - and finds each
    entrypoint's flow function by parsing its file, never running it, to know the flow's name
    and parameters.
  - Runs on the controller, in Ansible's own process (its action plugin), whatever the host;
    use C(run_once) to read a source once per play, as the prefect role does.
  - Git credentials are sent as an HTTP header through git's environment, never in a command
    line, a URL or the result.
  - The controller's cache is not a managed host, so the module reports no change.
author: prefect preset maintainers (!UNKNOWN)
requirements:
  - git on the controller (for O(git)).
options:
  name:
    description: The source's name (a directory name on the hosts).
    type: str
    required: true
  git:
    description: URL of a git repository (https://, http://, ssh://, git://, or a local path).
    type: str
    default: ''
  ref:
    description: Tag, branch or commit of O(git); what runs is exactly the commit it names now.
    type: str
    default: ''
  credentials:
    description: Token (or user:token) for an HTTP(S) O(git), sent as basic authentication.
    type: str
    default: ''
  path:
    description: A directory on the controller to ship instead of O(git).
    type: path
    default: ''
  deployments:
    description:
      - Declared deployments (name, entrypoint, work_pool, schedules, ...); empty reads
        the source's C(prefect.yaml).
    type: list
    elements: dict
    default: []
  cache_dir:
    description: Directory on the controller for mirrors, exports and archives.
    type: path
    required: true
notes:
  - Supports check mode (the controller's cache is filled all the same).
'''

EXAMPLES = r'''
- name: Read the pipelines at v1.4.2
  prefect_preset.prefect.flow_source:
    name: pipelines
    git: https://git.example.internal/data/pipelines.git
    ref: v1.4.2
    credentials: "{{ vault_git_token }}"
    cache_dir: ~/.cache/prefect-preset
  run_once: true
  register: source
'''

RETURN = r'''
version:
  description: The commit (git) or the files' SHA-256 (path), shortened to 12 characters for a path.
  type: str
  returned: always
commit:
  description: The full commit of O(ref) (git sources).
  type: str
  returned: always
export:
  description: Where the exported tree is on the controller.
  type: str
  returned: always
archive:
  description: The tree as a .tar.gz on the controller, for the hosts.
  type: str
  returned: always
deployments:
  description:
    - The deployments, normalized, each with flow_name, accepts (the flow's parameter names),
      required, var_kwargs and problems (what is wrong with it).
  type: list
  elements: dict
  returned: always
from_prefect_yaml:
  description: Whether the deployments came from the source's prefect.yaml.
  type: bool
  returned: always
notes:
  description: What was read but not applied (prefect.yaml build, push and pull steps).
  type: list
  elements: str
  returned: always
problems:
  description: What is wrong with the source as a whole.
  type: list
  elements: str
  returned: always
'''

import base64
import hashlib
import os
import re
import shutil
import tarfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.prefect_preset.prefect.plugins.module_utils.flows import (
    SourceError,
    deployment_of,
    inspect_entrypoint,
    read_prefect_yaml,
)

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None

SKIPPED = {'.git', '__pycache__', '.venv', '.mypy_cache', '.pytest_cache'}


class Git:
    """git against one remote, with the credentials in git's environment only."""

    def __init__(self, module, url, credentials, mirror):
        self.module = module
        self.url = url
        self.mirror = mirror
        self.env = {'GIT_TERMINAL_PROMPT': '0', 'GIT_ASKPASS': '/bin/true'}
        self.secret = credentials
        if credentials:
            user, token = credentials.rpartition(':')[::2]
            basic = base64.b64encode(f"{user or 'git'}:{token}".encode()).decode()
            self.env.update({'GIT_CONFIG_COUNT': '1', 'GIT_CONFIG_KEY_0': 'http.extraHeader',
                             'GIT_CONFIG_VALUE_0': f'Authorization: Basic {basic}'})
            module.no_log_values.add(basic)

    def run(self, *args, check=True):
        rc, out, err = self.module.run_command(['git', '--git-dir', self.mirror, *args],
                                               environ_update=self.env)
        if check and rc != 0:
            why = (err or out).strip()
            if self.secret:
                why = why.replace(self.secret, '********')
            raise SourceError(f'git {args[0]} for {self.url} failed: {why}')
        return rc, out

    def resolve(self, ref):
        """The commit ref names now, fetched into the mirror."""
        if not os.path.isdir(self.mirror):
            os.makedirs(os.path.dirname(self.mirror), exist_ok=True)
            self.module.run_command(['git', 'init', '--quiet', '--bare', self.mirror],
                                    check_rc=True)
        if re.fullmatch(r'[0-9a-f]{40}', ref):
            rc = self.run('cat-file', '-e', f'{ref}^{{commit}}', check=False)[0]
            if rc == 0:
                return ref
        listing = self.run('ls-remote', self.url)[1]
        refs = dict(reversed(line.split('\t', 1)) for line in listing.splitlines() if '\t' in line)
        for candidate in (f'refs/tags/{ref}^{{}}', f'refs/tags/{ref}', f'refs/heads/{ref}', ref):
            if candidate in refs:
                full = candidate.removesuffix('^{}')
                self.run('fetch', '--quiet', '--no-tags', self.url, f'+{full}:refs/preset/{full}')
                return refs[candidate]
        if re.fullmatch(r'[0-9a-f]{7,40}', ref):
            self.run('fetch', '--quiet', '--tags', self.url, '+refs/heads/*:refs/preset/heads/*')
            rc, out = self.run('rev-parse', '--verify', '--quiet', f'{ref}^{{commit}}',
                               check=False)
            if rc == 0:
                return out.strip()
        raise SourceError(f'{self.url} has no tag, branch or commit {ref!r}')

    def export(self, commit, export, archive):
        if not os.path.isdir(export):
            partial = export + '.partial'
            shutil.rmtree(partial, ignore_errors=True)
            os.makedirs(partial)
            tar = archive + '.tar'
            self.run('archive', '--format=tar', f'--output={tar}', commit)
            with tarfile.open(tar) as handle:
                handle.extractall(partial)  # git's own archive of the commit
            os.unlink(tar)
            os.replace(partial, export)
        if not os.path.isfile(archive):
            self.run('archive', '--format=tar.gz', f'--output={archive}.partial', commit)
            os.replace(archive + '.partial', archive)


def _files(root):
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        for name in sorted(names):
            if not name.endswith('.pyc'):
                yield os.path.join(directory, name)


def directory_version(root):
    """SHA-256 of the directory's files (paths, contents, executable bits)."""
    digest = hashlib.sha256()
    for path in _files(root):
        relative = os.path.relpath(path, root)
        digest.update(relative.encode() + b'\0')
        digest.update(b'x' if os.access(path, os.X_OK) else b'-')
        with open(path, 'rb') as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()[:12]


def export_directory(root, export, archive):
    if not os.path.isdir(export):
        partial = export + '.partial'
        shutil.rmtree(partial, ignore_errors=True)
        for path in _files(root):
            target = os.path.join(partial, os.path.relpath(path, root))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(path, target)
        os.makedirs(partial, exist_ok=True)
        os.replace(partial, export)
    if not os.path.isfile(archive):
        with tarfile.open(archive + '.partial', 'w:gz') as handle:
            handle.add(export, arcname='.')
        os.replace(archive + '.partial', archive)


def read(module):
    p = module.params
    if bool(p['git']) == bool(p['path']):
        raise SourceError(f"flows {p['name']}: give either git (with ref) or path")
    base = os.path.join(p['cache_dir'], 'code', p['name'])
    os.makedirs(base, exist_ok=True)
    commit = ''
    if p['git']:
        if not p['ref']:
            raise SourceError(f"flows {p['name']}: git needs ref (a tag, branch or commit)")
        mirror = os.path.join(p['cache_dir'], 'git',
                              f"{p['name']}-{hashlib.sha1(p['git'].encode()).hexdigest()[:12]}.git")
        git = Git(module, p['git'], p['credentials'], mirror)
        commit = git.resolve(p['ref'])
        version = commit
        export, archive = os.path.join(base, version), os.path.join(base, f'{version}.tar.gz')
        git.export(commit, export, archive)
    else:
        if not os.path.isdir(p['path']):
            raise SourceError(
                f"flows {p['name']}: path {p['path']} is not a directory on the controller")
        version = directory_version(p['path'])
        export, archive = os.path.join(base, version), os.path.join(base, f'{version}.tar.gz')
        export_directory(p['path'], export, archive)

    problems, notes = [], []
    declared = p['deployments']
    from_yaml = False
    if not declared:
        raw, notes, trouble = read_prefect_yaml(export, yaml.safe_load)
        problems += [f"flows {p['name']}: {t}" for t in trouble]
        if raw is None:
            problems.append(f"flows {p['name']}: declares no deployments and has no prefect.yaml")
            raw = []
        declared, from_yaml = raw, True
    deployments = []
    for index, item in enumerate(declared):
        deployment, trouble = deployment_of(item, f"flows {p['name']}")
        if deployment is None:
            problems += trouble
            continue
        inspected = inspect_entrypoint(export, deployment['entrypoint'])
        fields = ('flow_name', 'accepts', 'required', 'var_kwargs')
        deployment.update({k: inspected[k] for k in fields})
        where = f"flows {p['name']} deployment {deployment['name']}"
        deployment['problems'] = trouble + [f'{where}: {q}' for q in inspected['problems']]
        deployment['index'] = index
        deployments.append(deployment)
    return dict(changed=False, version=version, commit=commit, export=export, archive=archive,
                deployments=deployments, from_prefect_yaml=from_yaml, notes=notes,
                problems=problems)


ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    git=dict(type='str', default=''),
    ref=dict(type='str', default=''),
    credentials=dict(type='str', default='', no_log=True),
    path=dict(type='path', default=''),
    deployments=dict(type='list', elements='dict', default=[]),
    cache_dir=dict(type='path', required=True),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        module.exit_json(**read(module))
    except (SourceError, OSError, tarfile.TarError) as error:
        module.fail_json(msg=str(error))


if __name__ == '__main__':
    main()
