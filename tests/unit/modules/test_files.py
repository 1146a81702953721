"""Unit tests for plugins/modules/files.py: main() through AnsibleModule on a real
directory in tmp_path, owned by the user running the tests."""

import grp
import json
import os
import pwd
import stat
from pathlib import Path

import pytest

from module_harness import load_plugin, patch_module_args

ROOT = Path(__file__).resolve().parents[3]
files_mod = load_plugin("plugins/modules/files.py", "prefect_files")

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name

FILES = {"hello.py": "print('hello')\n", "b.txt": "bee\n", "empty": ""}


def run_main(capsys, dest, files, check_mode=False, **kw):
    args = dict(dest=str(dest), files=files, owner=USER, group=GROUP, **kw)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        files_mod.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def snapshot(directory):
    """name -> (content, mode, mtime_ns) of every entry."""
    out = {}
    for path in sorted(Path(directory).iterdir()):
        st = path.stat()
        out[path.name] = (path.read_bytes(), stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_ino)
    return out


def test_writes_all_files_with_owner_group_mode(tmp_path, capsys):
    rc, res = run_main(capsys, tmp_path, FILES, mode="0640")
    assert rc == 0 and res["changed"] is True, res
    assert res["written"] == sorted(FILES)
    assert res["diff"] == {"before": "", "after": "b.txt\nempty\nhello.py\n"}
    for name, content in FILES.items():
        path = tmp_path / name
        assert path.read_text() == content
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o640
        assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)  # no temp files left


def test_second_run_changes_nothing(tmp_path, capsys):
    run_main(capsys, tmp_path, FILES)
    before = snapshot(tmp_path)
    rc, res = run_main(capsys, tmp_path, FILES)
    assert rc == 0 and res["changed"] is False and res["written"] == []
    assert snapshot(tmp_path) == before  # not even rewritten


def test_only_files_whose_content_or_mode_differ_are_written(tmp_path, capsys):
    run_main(capsys, tmp_path, FILES)
    (tmp_path / "b.txt").write_text("changed by hand\n")
    (tmp_path / "empty").chmod(0o600)
    (tmp_path / "unmanaged").write_text("left alone")
    before = snapshot(tmp_path)
    rc, res = run_main(capsys, tmp_path, FILES)
    assert rc == 0 and res["changed"] is True and res["written"] == ["b.txt", "empty"]
    after = snapshot(tmp_path)
    assert after["hello.py"] == before["hello.py"]
    assert after["unmanaged"] == before["unmanaged"]
    assert (tmp_path / "b.txt").read_text() == "bee\n"
    assert stat.S_IMODE((tmp_path / "empty").stat().st_mode) == 0o644


def test_a_new_mode_rewrites_every_file(tmp_path, capsys):
    run_main(capsys, tmp_path, FILES)
    rc, res = run_main(capsys, tmp_path, FILES, mode="0600")
    assert rc == 0 and res["written"] == sorted(FILES)
    assert {stat.S_IMODE((tmp_path / n).stat().st_mode) for n in FILES} == {0o600}


def test_content_is_written_as_utf8_and_null_as_empty(tmp_path, capsys):
    rc, res = run_main(capsys, tmp_path, {"u.txt": "caf\u00e9 \u20ac\n", "none": None})
    assert rc == 0, res
    assert (tmp_path / "u.txt").read_bytes() == "caf\u00e9 \u20ac\n".encode()
    assert (tmp_path / "none").read_bytes() == b""


def test_check_mode_writes_nothing_and_lists_what_would_change(tmp_path, capsys):
    run_main(capsys, tmp_path, {"hello.py": FILES["hello.py"]})
    before = snapshot(tmp_path)
    rc, res = run_main(capsys, tmp_path, FILES, check_mode=True)
    assert rc == 0 and res["changed"] is True
    assert res["written"] == ["b.txt", "empty"]
    assert res["diff"]["after"] == "b.txt\nempty\n"
    assert snapshot(tmp_path) == before


def test_check_mode_with_nothing_to_do(tmp_path, capsys):
    run_main(capsys, tmp_path, FILES)
    rc, res = run_main(capsys, tmp_path, FILES, check_mode=True)
    assert rc == 0 and res["changed"] is False and res["written"] == []


def test_missing_dest_fails_outside_check_mode(tmp_path, capsys):
    dest = tmp_path / "missing"
    rc, res = run_main(capsys, dest, FILES)
    assert rc == 1 and res["msg"] == f"{dest} is not a directory"
    assert not dest.exists()


def test_missing_dest_in_check_mode_reports_every_file(tmp_path, capsys):
    dest = tmp_path / "missing"
    rc, res = run_main(capsys, dest, FILES, check_mode=True)
    assert rc == 0 and res["changed"] is True
    assert res["written"] == sorted(FILES)
    assert res["diff"]["after"] == "".join(f"{n}\n" for n in sorted(FILES))
    assert not dest.exists()


def test_dest_that_is_a_file_fails(tmp_path, capsys):
    dest = tmp_path / "file"
    dest.write_text("x")
    rc, res = run_main(capsys, dest, FILES)
    assert rc == 1 and "is not a directory" in res["msg"]


@pytest.mark.parametrize("name", ["a/b", "../escape", "/etc/passwd", ".", "..", ""])
def test_names_that_are_not_plain_file_names_are_refused(tmp_path, capsys, name):
    (tmp_path / "d").mkdir()
    rc, res = run_main(capsys, tmp_path / "d", {name: "x"})
    assert rc == 1 and res["msg"] == f"{name!r} is not a plain file name"
    assert list((tmp_path / "d").iterdir()) == []
    assert not (tmp_path / "escape").exists()


def test_a_bad_name_is_refused_before_anything_is_written(tmp_path, capsys):
    rc, res = run_main(capsys, tmp_path, {"a.txt": "x", "b/c": "y"})
    assert rc == 1 and "'b/c' is not a plain file name" in res["msg"]
    assert list(tmp_path.iterdir()) == []


def test_check_mode_with_missing_dest_refuses_bad_names(tmp_path, capsys):
    rc, res = run_main(capsys, tmp_path / "missing", {"a/b": "x"}, check_mode=True)
    assert rc == 1 and "not a plain file name" in res["msg"]


@pytest.mark.parametrize("kw, fragment", [
    (dict(owner="no-such-user-xyz"), "bad owner, group or mode"),
    (dict(group="no-such-group-xyz"), "bad owner, group or mode"),
    (dict(mode="u+rw"), "bad owner, group or mode"),
])
def test_bad_owner_group_mode(tmp_path, capsys, kw, fragment):
    args = dict(dest=str(tmp_path), files=FILES, owner=USER, group=GROUP)
    args.update(kw)
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        files_mod.main()
    res = json.loads(capsys.readouterr().out)
    assert exc.value.code == 1 and fragment in res["msg"]
    assert list(tmp_path.iterdir()) == []


def test_write_error_leaves_no_temp_file(tmp_path, capsys):
    (tmp_path / "adir").mkdir()  # a directory where a file should go: rename fails
    rc, res = run_main(capsys, tmp_path, {"adir": "x"})
    assert rc == 1 and res["msg"].startswith(f"cannot write {tmp_path / 'adir'}: ")
    assert [p.name for p in tmp_path.iterdir()] == ["adir"]


def test_current():
    assert files_mod.current("/nonexistent/file") is None
