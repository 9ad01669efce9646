"""The atomic file writer: whole new content or the old one, no temporary file left behind."""

from __future__ import annotations

import os

import pytest

from common.files import atomic_open, write_text_atomic


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "sub" / "state.json"
    assert write_text_atomic(target, "one\n") == target  # the missing folder is created
    assert target.read_text(encoding="utf-8") == "one\n"
    inode = target.stat().st_ino
    write_text_atomic(target, "two € \n")
    assert target.read_text(encoding="utf-8") == "two € \n"
    assert target.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert os.listdir(target.parent) == ["state.json"]


def test_an_error_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "catalog.jsonl"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half of the new\n")
        assert target.read_text(encoding="utf-8") == "old\n"  # nothing visible while writing
        raise RuntimeError("generator failed")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["catalog.jsonl"]


def test_the_file_gets_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
