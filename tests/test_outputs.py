import os
import subprocess
import sys

import pytest

from litho.errors import LithoInputError
from litho.outputs import (MARKER, atomic_dir, atomic_file, check_output_dir, check_output_file,
                           remove_stale)

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def test_atomic_file_appears_only_on_success(tmp_path):
    target = tmp_path / "a.txt"
    with pytest.raises(RuntimeError):
        with atomic_file(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []
    with atomic_file(target) as tmp:
        assert tmp.suffix == ".txt" and tmp.parent == tmp_path
        tmp.write_text("whole")
    assert target.read_text() == "whole"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_dir_leaves_nothing_when_the_body_fails(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "report.json").write_text("{}")
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_builds_beside_the_destination_under_a_recognisable_name(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".out.litho-tmp-") and f"-{os.getpid()}-" in tmp.name
        assert not out.exists()
        (tmp / "report.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "report.json"]


def test_a_new_run_replaces_the_previous_run_as_a_whole(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "report.json").write_text("old")
        (tmp / "R_aerial.png").write_text("old figure")
    with atomic_dir(out) as tmp:
        (tmp / "report.json").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "report.json"]
    assert (out / "report.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_run_keeps_the_previous_run(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "report.json").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(out) as tmp:
            (tmp / "report.json").write_text("half")
            raise KeyboardInterrupt
    assert (out / "report.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_directory_with_foreign_files_is_refused_not_replaced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(LithoInputError, match="litho did not write"):
        check_output_dir(out)
    assert (out / "thesis.tex").read_text() == "precious"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_output_dir(empty) == empty


def _bad_dirs(tmp_path):
    (tmp_path / "file").write_text("x")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    return {
        "": "give a path",
        str(tmp_path / "file"): "not a directory",
        str(tmp_path / "file" / "sub"): "is a file, not a folder",
        str(tmp_path / "dangling"): "dangling symbolic link",
        str(tmp_path / "no" / "such" / "dir"): "does not exist; create it first",
        "/sys/litho-x": "cannot write",
        ".": "current directory",
    }


def test_bad_output_dirs_are_one_line_refusals(tmp_path):
    for path, fragment in _bad_dirs(tmp_path).items():
        with pytest.raises(LithoInputError, match=fragment):
            check_output_dir(path)
    assert not (tmp_path / "no").exists()


def test_bad_output_files_are_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "d.gds").mkdir()
    for path, fragment in {"": "give a path", str(tmp_path / "file" / "x.gds"): "is a file, not a folder",
                           str(tmp_path / "nonexistent" / "dir" / "x.gds"): "does not exist",
                           str(tmp_path / "d.gds"): "is a directory",
                           str(tmp_path / "x.txt"): "must end in"}.items():
        with pytest.raises(LithoInputError, match=fragment):
            check_output_file(path, suffixes=(".gds", ".oas"))
    assert not (tmp_path / "nonexistent").exists()
    assert check_output_file(tmp_path / "x.gds", suffixes=(".gds",)) == tmp_path / "x.gds"


@pytest.mark.skipif(ROOT_USER, reason="root writes into read-only folders")
def test_read_only_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(LithoInputError, match="not writable"):
            check_output_dir(ro / "out")
    finally:
        ro.chmod(0o755)


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale_dir = tmp_path / f".out.litho-tmp-{dead}-0123abcd"
    stale_dir.mkdir()
    (stale_dir / "report.json").write_text("half")
    stale_file = tmp_path / f".x.gds.litho-tmp-{dead}-89abcdef.gds"
    stale_file.write_text("half")
    alive = tmp_path / f".out.litho-tmp-{os.getppid()}-0123abcd"
    alive.mkdir()
    check_output_dir(tmp_path / "out")
    assert not stale_dir.exists() and not stale_file.exists()
    assert alive.exists()  # its owner still runs
    assert remove_stale(tmp_path) == []


def test_symlink_to_a_directory_keeps_the_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    os.symlink(real, link)
    with atomic_dir(link) as tmp:
        (tmp / "report.json").write_text("{}")
    assert link.is_symlink() and (real / "report.json").exists()


def test_atomic_file_gets_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "r.json") as tmp:
            tmp.write_text("{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- kernel cache on disk


def _kernels(tmp_path):
    from litho.optics import ProjectionOptics, clear_caches, socs_kernels

    clear_caches()
    optics = ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.5, kernel_cache_dir=str(tmp_path))
    return optics, socs_kernels(optics, (24, 24), 0.05)


def _entry(tmp_path):
    (path,) = tmp_path.glob("socs-*.npz")
    return path


@pytest.mark.parametrize("damage", ["truncate", "garbage", "nan", "wrong shape", "other key"])
def test_a_damaged_kernel_entry_is_a_miss_that_rebuilds_and_replaces_it(tmp_path, damage):
    import numpy as np

    from litho.optics import clear_caches, socs_kernels
    from litho.optics.cache import load_entry, save_entry

    optics, first = _kernels(tmp_path)
    path = _entry(tmp_path)
    key = ("socs", optics.cache_token(), (24, 24), 0.05, 365.0, float(optics.kernel_tolerance))
    arrays = load_entry(path, key)
    assert arrays is not None
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"PK\x03\x04" + bytes(200))
    elif damage == "nan":  # a valid checksum over NaN kernels must not be trusted either
        arrays["kernels"] = arrays["kernels"] * np.nan
        save_entry(path, key, arrays)
    elif damage == "wrong shape":
        arrays["kernels"] = arrays["kernels"][:, :3, :3].copy()
        save_entry(path, key, arrays)
    else:
        save_entry(path, ("another",), arrays)
    assert load_entry(path, key) is None or damage == "wrong shape"
    clear_caches()
    again = socs_kernels(optics, (24, 24), 0.05)
    np.testing.assert_allclose(again.kernels, first.kernels)
    assert again.clear_field == pytest.approx(first.clear_field)
    assert load_entry(_entry(tmp_path), key)["kernels"].shape == first.kernels.shape  # replaced


def test_an_unusable_cache_folder_warns_once_and_images_anyway(tmp_path):
    import warnings

    from litho.optics import ProjectionOptics, clear_caches, socs_kernels
    from litho.optics.cache import LithoCacheWarning

    (tmp_path / "file").write_text("x")
    clear_caches()
    optics = ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.5,
                              kernel_cache_dir=str(tmp_path / "file" / "below"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        socs_kernels(optics, (24, 24), 0.05)
        socs_kernels(optics, (32, 32), 0.05)
    assert [w.category for w in caught] == [LithoCacheWarning]
