import pytest

from litho.outputs import atomic_dir, atomic_file


def test_atomic_file_appears_only_on_success(tmp_path):
    target = tmp_path / "a.txt"
    with pytest.raises(RuntimeError):
        with atomic_file(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []
    with atomic_file(target) as tmp:
        assert tmp.suffix == ".txt"
        tmp.write_text("whole")
    assert target.read_text() == "whole"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_dir_leaves_nothing_when_the_body_fails(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "report.json").write_text("{}")
            raise RuntimeError
    assert not out.exists()


def test_atomic_dir_keeps_other_files_of_an_existing_dir(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("k")
    with atomic_dir(out) as tmp:
        (tmp / "report.json").write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "report.json"]


def test_atomic_file_gets_ordinary_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "r.json") as tmp:
            tmp.write_text("{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o644
