"""The layout reader on hostile input: every file reads or is refused with one line.

One regression test per defect found by fuzzing (corrupt records that crashed
gdstk, quadratic merges, huge arrays, deep hierarchies, bad names, special
files), and a slice of the fuzzer (benchmarks/fuzz_layouts.py) run in a child
process so that a crash fails the test and names the case.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import gdstk
import numpy as np
import pytest
import shapely

from litho import gds as gds_module
from litho.cli import main
from litho.errors import LithoInputError
from litho.gds import mask_info, read_mask
from litho.gds_scan import MAX_DEPTH, scan_gds
from litho.layout.geometry import merge

ROOT = Path(__file__).resolve().parents[1]
MASKS = ROOT / "masks"


def _records(data: bytes):
    off = 0
    while off + 4 <= len(data):
        length, rtype = struct.unpack_from(">HB", data, off)
        yield off, length, rtype
        off += length


def _offset_of(data: bytes, rtype: int, nth: int = 0) -> int:
    return [off for off, _, t in _records(data) if t == rtype][nth]


def _edited(tmp_path, mask: str, edit) -> Path:
    data = bytearray((MASKS / mask).read_bytes())
    edit(data)
    path = tmp_path / f"edited_{mask}"
    path.write_bytes(bytes(data))
    return path


def _refused(path, **kw) -> str:
    with pytest.raises(LithoInputError) as err:
        read_mask(path, **kw)
    text = str(err.value)
    assert "\n" not in text and str(path) in text
    return text


def _cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _aref_file(tmp_path, columns, rows, spacing, name="aref.gds", size=1.0):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    leaf = gdstk.Cell("BOX")
    leaf.add(gdstk.rectangle((0, 0), (size, size), layer=1))
    top = gdstk.Cell("TOP")
    top.add(gdstk.Reference(leaf, (0, 0), columns=columns, rows=rows, spacing=spacing))
    lib.add(leaf, top)
    path = tmp_path / name
    lib.write_gds(str(path))
    return path


# --------------------------------------------------------------- 1. corrupt records


def test_colrow_of_all_ones_is_refused_naming_the_record(tmp_path):
    """COLROW 0xffffffff read as 2^64 - 1 columns and crashed gdstk."""
    def edit(d):
        at = _offset_of(bytes(d), 0x13)
        d[at + 4:at + 8] = b"\xff\xff\xff\xff"

    data = (MASKS / "stripe_1000ppi_2x2.gds").read_bytes()
    text = _refused(_edited(tmp_path, "stripe_1000ppi_2x2.gds", edit))
    assert f"byte {_offset_of(data, 0x13)}" in text and "COLROW -1 x -1" in text and "1..32767" in text


def test_odd_record_length_is_refused(tmp_path):
    """Byte 661 of stripe_3000ppi.gds 0x04 -> 0x05 (ENDEL length 5) aborted gdstk."""
    def edit(d):
        assert d[661] == 0x04
        d[661] = 0x05

    text = _refused(_edited(tmp_path, "stripe_3000ppi.gds", edit))
    assert "byte 660" in text and "record length 5" in text


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.__setitem__(slice(114, 116), b"\x00\x01"), "record length 1"),          # BOUNDARY length 1
    (lambda d: d.__setitem__(slice(8740, 8742), b"\x7f\xfe"), "runs past the end"),      # XY length 32766
    (lambda d: d.__setitem__(120, 0x55), "not a GDSII record"),                          # LAYER -> 0x55
    (lambda d: d.__setitem__(121, 0x03), "data type 3"),                                 # LAYER as int32
    # ENDEL -> ENDSTR
    (lambda d: d.__setitem__(slice(174, 178), b"\x00\x04\x07\x00"), "ENDSTR record inside a BOUNDARY"),
    (lambda d: (d.__delitem__(slice(142, 174)), d.__setitem__(slice(130, 132), b"\x00\x0c")),
     "BOUNDARY in cell 'stripe_p8p467_g1_R' with 1 XY points"),
])
def test_corrupt_records_are_refused_with_the_offset(tmp_path, edit, words):
    text = _refused(_edited(tmp_path, "stripe_3000ppi.gds", edit))
    assert words in text and "byte " in text


def test_deleted_bytes_in_oasis_are_one_line_not_a_crash(tmp_path):
    """An OASIS file with one byte deleted segfaulted inside gdstk."""
    lib = gdstk.read_gds(str(MASKS / "stripe_1000ppi.gds"))
    good = tmp_path / "good.oas"
    lib.write_oas(str(good))
    data = good.read_bytes()
    messages = []
    for at in (388, 485, 582):
        path = tmp_path / f"cut{at}.oas"
        path.write_bytes(data[:at] + data[at + 1:])
        messages.append(_refused(path, layer="R"))
    assert any("the layout reader failed on this file (corrupt or unsupported)" in m for m in messages)
    assert read_mask(good, layer="R").area_um2 == pytest.approx(read_mask(MASKS / "stripe_1000ppi.gds").area_um2)


def test_reader_out_of_memory_is_not_reported_as_a_pixel_size_problem(tmp_path, capsys, monkeypatch):
    """gdstk's MemoryError was printed as 'use a coarser --pixel-um or tiling' by `litho mask info`."""
    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(gds_module.gdstk, "read_gds", no_memory)
    code, _, err = _cli(capsys, "mask", "info", str(MASKS / "stripe_1000ppi.gds"))
    assert code == 2 and err.count("\n") == 1
    assert "ran out of memory" in err and "pixel-um" not in err


def test_child_reader_memory_limit_becomes_one_line(tmp_path, monkeypatch):
    """A reader allocation beyond the child's address-space limit is a message, not a kill."""
    lib = gdstk.read_gds(str(MASKS / "stripe_1000ppi.gds"))
    path = tmp_path / "s.oas"
    lib.write_oas(str(path))
    monkeypatch.setattr(gds_module, "_CHILD_MEMORY_BYTES", 16 << 20)
    text = _refused(path)
    assert "the layout reader failed on this file (corrupt or unsupported)" in text


def test_unfamiliar_records_are_read_in_the_child(tmp_path):
    """A BOX element is well-formed GDSII the in-process reader is not vouched for."""
    box = (b"\x00\x04\x2d\x00" + b"\x00\x06\x0d\x02\x00\x01" + b"\x00\x06\x2e\x02\x00\x00"
           + b"\x00\x2c\x10\x03" + struct.pack(">10i", 0, 0, 10, 0, 10, 10, 0, 10, 0, 0) + b"\x00\x04\x11\x00")

    def edit(d):
        at = _offset_of(bytes(d), 0x07)          # before the first ENDSTR
        d[at:at] = box

    path = _edited(tmp_path, "stripe_1000ppi.gds", edit)
    assert not scan_gds(path).vouched
    assert read_mask(path, layer="R").area_um2 == pytest.approx(read_mask(MASKS / "stripe_1000ppi.gds").area_um2)


# --------------------------------------------------------------- 2. merge of overlapping shapes


def test_zero_pitch_aref_merges_fast(tmp_path, capsys):
    """A 262-byte 200 x 200 AREF of one 1 um box at zero spacing took 45 s and 4.3 GB."""
    path = _aref_file(tmp_path, 200, 200, (0, 0))
    start = time.perf_counter()
    code, out, err = _cli(capsys, "mask", "info", str(path))
    assert code == 0, err
    assert read_mask(path, layer=1).area_um2 == pytest.approx(1.0)
    assert time.perf_counter() - start < 5


def test_merge_of_heavily_overlapping_shapes_is_near_linear():
    """10 000 boxes of 1 um at 0.02 um pitch: each overlaps ~2500 others (the
    connected-components merge alone took 20 s for this)."""
    i, j = np.meshgrid(np.arange(100), np.arange(100))
    boxes = shapely.box(i.ravel() * 0.02, j.ravel() * 0.02, i.ravel() * 0.02 + 1, j.ravel() * 0.02 + 1)
    start = time.perf_counter()
    got = merge(boxes)
    assert time.perf_counter() - start < 10
    assert got.area == pytest.approx((99 * 0.02 + 1) ** 2)


def test_merge_keeps_disjoint_and_mixed_shapes_exact():
    rng = np.random.default_rng(3)
    pixels = shapely.box(*np.array([[x, y, x + 1, y + 1] for x in range(0, 60, 2) for y in range(0, 60, 2)]).T)
    pile = shapely.box(*np.column_stack([rng.uniform(100, 101, (500, 2)), rng.uniform(101, 102, (500, 2))]).T)
    got = merge(np.concatenate([pixels, pile]))
    expect = shapely.union_all(np.concatenate([pixels, pile]))
    assert got.symmetric_difference(expect).area < 1e-9
    assert len(shapely.get_parts(got)) == 900 + 1


# --------------------------------------------------------------- 3 and 12. cost before flattening


def test_huge_aref_without_window_is_refused_up_front(tmp_path):
    """A 32767 x 32767 AREF with no window got read_mask and simulate killed for memory."""
    path = _aref_file(tmp_path, 32767, 32767, (2, 2))
    start = time.perf_counter()
    text = _refused(path, layer=1)
    assert time.perf_counter() - start < 5
    assert "1,073,676,289 polygons" in text and "window" in text and "limit" in text
    # a window of it costs what the window holds
    mask = read_mask(path, layer=1, window=(10, 10, 30, 30))
    assert mask.area_um2 == pytest.approx(100.0)


def test_huge_window_of_huge_aref_is_refused_before_flattening(tmp_path):
    path = _aref_file(tmp_path, 32767, 32767, (2, 2))
    start = time.perf_counter()
    text = _refused(path, layer=1, window=(0, 0, 20000, 20000))
    assert time.perf_counter() - start < 5
    assert "inside window" in text and "polygons" in text


def test_expensive_layout_is_refused_before_flattening(tmp_path):
    """A 2000 x 2000 AREF (4 million boxes) spent 34 s and 1.7 GB before any refusal."""
    path = _aref_file(tmp_path, 2000, 2000, (2, 2))
    start = time.perf_counter()
    text = _refused(path, layer=1)
    assert time.perf_counter() - start < 3
    assert "4,000,000 polygons" in text


def test_huge_aref_refused_by_simulate(tmp_path, write_recipe, capsys):
    path = _aref_file(tmp_path, 32767, 32767, (2, 2))
    recipe = write_recipe(**{'layer = "R"': "layer = 1"})
    text = recipe.read_text().replace(str(MASKS / "stripe_1000ppi_2x2.gds").replace(os.sep, "/"), path.as_posix())
    recipe.write_text(text)
    start = time.perf_counter()
    code, _, err = _cli(capsys, "simulate", str(recipe), "-o", str(tmp_path / "out"), "-q")
    assert code == 2 and err.count("\n") == 1 and "window" in err
    assert time.perf_counter() - start < 10


# --------------------------------------------------------------- 4. depth, names, polygons, special files


def _chain(tmp_path, depth):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cells = [gdstk.Cell("C0")]
    cells[0].add(gdstk.rectangle((0, 0), (1, 1), layer=1))
    for k in range(1, depth):
        c = gdstk.Cell(f"C{k}")
        c.add(gdstk.Reference(cells[-1], (0.5, 0)))
        cells.append(c)
    lib.add(*cells)
    path = tmp_path / f"chain{depth}.gds"
    lib.write_gds(str(path))
    return path


def test_deep_hierarchy_reads(tmp_path):
    """600 levels raised RecursionError in gds.py."""
    path = _chain(tmp_path, 600)
    mask = read_mask(path, layer=1)
    assert mask.bounds_um == pytest.approx((599 * 0.5, 0, 599 * 0.5 + 1, 1))
    info = mask_info(path)
    assert info["layers"]["1/0"]["polygons"] == 1 and info["layers"]["1/0"]["drawn_area_um2"] == pytest.approx(1)
    assert read_mask(path, layer=1, window=(299, 0, 300, 0.5)).area_um2 == pytest.approx(0.25)


def test_too_deep_hierarchy_is_refused(tmp_path):
    path = _chain(tmp_path, MAX_DEPTH + 5)
    text = _refused(path, layer=1)
    assert f"{MAX_DEPTH + 5} levels deep" in text and f"limit {MAX_DEPTH}" in text


def test_non_utf8_cell_name_is_a_message(tmp_path):
    """A cell name that is not UTF-8 raised TypeError in _check_cycles."""
    def edit(d):
        at = _offset_of(bytes(d), 0x06)
        d[at + 4] = 0xFF

    text = _refused(_edited(tmp_path, "stripe_1000ppi.gds", edit))
    assert "cell name" in text and "not UTF-8" in text


def test_non_utf8_reference_name_is_a_message(tmp_path):
    def edit(d):
        at = _offset_of(bytes(d), 0x12)
        d[at + 5] = 0xC3

    text = _refused(_edited(tmp_path, "stripe_1000ppi.gds", edit))
    assert "referenced cell name" in text and "not UTF-8" in text


def test_cell_defined_twice_is_refused(tmp_path):
    def edit(d):
        first, second = _offset_of(bytes(d), 0x06, 0), _offset_of(bytes(d), 0x06, 1)
        length = struct.unpack_from(">H", d, first)[0]
        d[second:second + struct.unpack_from(">H", d, second)[0]] = d[first:first + length]

    text = _refused(_edited(tmp_path, "stripe_1000ppi.gds", edit))
    assert "defined twice" in text


def test_self_intersecting_polygon_of_8001_vertices_is_refused_quickly(tmp_path):
    """It took 7.8 GB in make_valid and aborted: its crossings grow as the square of its vertices."""
    rng = np.random.default_rng(0)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = gdstk.Cell("TOP")
    cell.add(gdstk.Polygon(rng.uniform(0, 100, (8001, 2)), layer=1))
    lib.add(cell)
    path = tmp_path / "knot.gds"
    lib.write_gds(str(path), max_points=8190)
    start = time.perf_counter()
    text = _refused(path, layer=1)
    assert time.perf_counter() - start < 10
    assert "8001 vertices" in text and "crosses itself" in text


def test_bow_tie_and_keyhole_still_read(tmp_path):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = gdstk.Cell("TOP")
    cell.add(gdstk.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)], layer=1))
    cell.add(gdstk.Polygon([(10, 0), (20, 0), (20, 10), (10, 10), (10, 5), (13, 5), (13, 7), (17, 7), (17, 3),
                            (13, 3), (13, 5), (10, 5)], layer=1))
    lib.add(cell)
    path = tmp_path / "bow.gds"
    lib.write_gds(str(path))
    assert read_mask(path, layer=1).area_um2 == pytest.approx(2.0 + 100 - 16)


@pytest.mark.parametrize("special", ["/proc/self/mem", "fifo", "dir"])
def test_special_files_as_mask_are_one_line(tmp_path, special, capsys):
    if special == "fifo":
        path = tmp_path / "pipe.gds"
        os.mkfifo(path)
    elif special == "dir":
        path = tmp_path / "folder.gds"
        path.mkdir()
    else:
        path = Path(special)
        if not path.exists():
            pytest.skip("no /proc")
    text = _refused(path)
    assert "cannot read" in text or "not a file" in text
    code, _, err = _cli(capsys, "mask", "info", str(path))
    assert code == 2 and err.count("\n") == 1


# --------------------------------------------------------------- fuzz slice


FUZZ_CASES = 120


def test_fuzzed_masks_read_or_are_refused_with_one_line():
    """120 mutated copies of the shipped masks through `litho mask info` and read_mask,
    in one child process: a crash of the child fails the test and names the case
    (the CI slice; ``benchmarks/fuzz_layouts.py`` runs thousands)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fuzz_layouts.py"), "--worker",
                           "--seed", "0", "--n", str(FUZZ_CASES), "--gds-only"],
                          capture_output=True, text=True, env=env, timeout=600)
    started, done = {}, {}
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if parts[0] == "start":
            started[int(parts[1])] = parts[2]
        elif parts[0] == "done":
            done[int(parts[1])] = parts[2:]
    unfinished = [f"case {i}: {what}" for i, what in started.items() if i not in done]
    assert proc.returncode == 0 and not unfinished, \
        f"fuzz worker died (exit {proc.returncode}) on {unfinished}: {proc.stderr[-2000:]}"
    assert len(done) == FUZZ_CASES
    bad = [f"case {i} ({started[i]}): {outcome} {detail}" for i, (outcome, _, detail, _) in done.items()
           if outcome not in ("ok", "refused")]
    assert not bad, bad[:5]
    # a case is slow by its CPU seconds: wall time on a shared machine also counts other jobs
    slow = [f"case {i} ({started[i]}): {cpu} s CPU" for i, (_, _, _, cpu) in done.items() if float(cpu) > 30]
    assert not slow, slow
    outcomes = [v[0] for v in done.values()]
    assert outcomes.count("refused") > 50 and outcomes.count("ok") > 20


# --------------------------------------------------------------- the estimates agree with the reader


@pytest.mark.parametrize("mask", sorted(p.name for p in MASKS.glob("*.gds")))
def test_scan_counts_match_the_flattened_layout(mask):
    scan = scan_gds(MASKS / mask)
    assert scan.vouched and scan.depth == 2
    (top,) = scan.top_cells()
    cost = scan.flat_cost(top)
    counts = gds_module.layers(MASKS / mask)
    assert {lay: n for lay, (n, _) in cost.items()} == counts


def test_window_cost_bounds_what_the_window_holds():
    lib, _ = gds_module.read_library(MASKS / "test_structures.gds")
    top = gds_module._top_cell(lib, MASKS / "test_structures.gds", None)
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = np.ravel(top.bounding_box())
    for lay in [(1, 0), (10, 0), (24, 0)]:
        walker = gds_module._Layer(lay)
        for _ in range(10):
            a, b = np.sort(rng.uniform(x0, x1, 2)), np.sort(rng.uniform(y0, y1, 2))
            win = (a[0], b[0], a[1], b[1])
            out = []
            walker.walk(top, np.eye(2), np.zeros(2), win, out)
            polygons, vertices = walker.cost_in(top, win)
            assert polygons >= sum(len(o) for o in out)
            assert vertices >= sum(o.shape[0] * o.shape[1] for o in out)


def test_oasis_that_loops_the_reader_is_refused_in_time(tmp_path, monkeypatch):
    """delta_1000ppi as OASIS with 8 bytes deleted at 772 sends gdstk into an endless loop
    (found by benchmarks/fuzz_layouts.py, seed 2, case 1859)."""
    lib = gdstk.read_gds(str(MASKS / "delta_1000ppi.gds"))
    good = tmp_path / "delta.oas"
    lib.write_oas(str(good))
    data = good.read_bytes()
    path = tmp_path / "loop.oas"
    path.write_bytes(data[:772] + data[780:])
    monkeypatch.setattr(gds_module, "_child_timeout_s", lambda size: 2.0)
    start = time.perf_counter()
    text = _refused(path)     # gdstk 1.0.2 refuses it; earlier releases looped until the timeout
    assert time.perf_counter() - start < 10
    assert "cannot read OASIS file" in text or "did not finish within 2 s" in text


def test_a_reader_that_hangs_is_stopped_at_its_timeout(tmp_path, monkeypatch):
    """Whatever input sends the reader into an endless loop, the child is killed at its budget."""
    path = tmp_path / "any.oas"
    gdstk.read_gds(str(MASKS / "delta_1000ppi.gds")).write_oas(str(path))
    monkeypatch.setattr(gds_module, "_child_timeout_s", lambda size: 2.0)
    monkeypatch.setattr(gds_module, "_CHILD_CODE", "while True: pass")
    start = time.perf_counter()
    text = _refused(path)
    assert time.perf_counter() - start < 10
    assert "did not finish within 2 s" in text and "OASIS" in text
