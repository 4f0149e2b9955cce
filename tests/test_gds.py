"""litho.gds against an independent writer (KLayout): areas and bounding boxes per layer.

KLayout writes the layouts (AREFs, skewed and rotated arrays, magnified and
reflected references, paths, boxes, polygons with holes, several hierarchy
levels) and computes the merged area with ``Region.area()``; litho reads the
same file through gdstk and must agree to the database unit.
"""

from __future__ import annotations

from pathlib import Path

import math

import gdstk
import numpy as np
import pytest
import shapely

kdb = pytest.importorskip("klayout.db")

from litho.errors import LithoInputError  # noqa: E402
from litho.gds import layers, mask_info, read_mask, write_gds, write_polygons  # noqa: E402

DBU = 0.001

MASKS = Path(__file__).resolve().parents[1] / "masks"


def _layout(dbu=DBU):
    ly = kdb.Layout()
    ly.dbu = dbu
    return ly


def _leaf(ly, name="LEAF"):
    """A cell with a box, a triangle and a polygon with a hole on 1/0, and a box on 2/0."""
    leaf = ly.create_cell(name)
    l1, l2 = ly.layer(1, 0), ly.layer(2, 0)
    leaf.shapes(l1).insert(kdb.Box(0, 0, 2000, 3000))
    leaf.shapes(l1).insert(kdb.Polygon([kdb.Point(3000, 0), kdb.Point(5000, 0), kdb.Point(3000, 4000)]))
    ring = kdb.Polygon(kdb.Box(6000, 0, 9000, 3000))
    ring.insert_hole(kdb.Box(7000, 1000, 8000, 2000))
    leaf.shapes(l1).insert(ring)
    leaf.shapes(l2).insert(kdb.Box(-1000, -1000, 500, 500))
    return leaf


def _case_aref(ly, top):
    leaf = _leaf(ly)
    top.insert(kdb.CellInstArray(leaf.cell_index(), kdb.Trans(kdb.Point(1000, 2000)),
                                 kdb.Vector(12000, 0), kdb.Vector(0, 9000), 7, 5))


def _case_skewed(ly, top):
    leaf = _leaf(ly)
    top.insert(kdb.CellInstArray(leaf.cell_index(), kdb.Trans(kdb.Point(100000, 0)),
                                 kdb.Vector(10000, 2000), kdb.Vector(-3000, 12000), 5, 4))


def _case_negative_vectors(ly, top):
    leaf = _leaf(ly)
    top.insert(kdb.CellInstArray(leaf.cell_index(), kdb.Trans(kdb.Point(0, 0)),
                                 kdb.Vector(-11000, 0), kdb.Vector(0, -10000), 4, 3))


def _case_rotated_array(ly, top):
    leaf = _leaf(ly)
    for rot, x in ((1, 0), (2, 100000), (3, 200000)):
        top.insert(kdb.CellInstArray(leaf.cell_index(), kdb.Trans(rot, False, kdb.Point(x, 50000)),
                                     kdb.Vector(-8000, 1000), kdb.Vector(2000, -11000), 3, 2))


def _case_magnified_reflected(ly, top):
    leaf = _leaf(ly)
    top.insert(kdb.CellInstArray(leaf.cell_index(), kdb.ICplxTrans(2.5, 90, True, kdb.Vector(-50000, -50000))))
    top.insert(kdb.CellInstArray(leaf.cell_index(), kdb.ICplxTrans(2.0, 0, True, kdb.Vector(50000, -50000))))
    top.insert(kdb.CellInstArray(leaf.cell_index(), kdb.ICplxTrans(0.5, 180, False, kdb.Vector(0, 50000))))


def _case_nested(ly, top):
    leaf = _leaf(ly)
    mid = ly.create_cell("MID")
    mid.insert(kdb.CellInstArray(leaf.cell_index(), kdb.Trans(kdb.Point(0, 0)),
                                 kdb.Vector(15000, 0), kdb.Vector(0, 8000), 2, 3))
    upper = ly.create_cell("UPPER")
    upper.insert(kdb.CellInstArray(mid.cell_index(), kdb.Trans(1, True, kdb.Point(5000, 5000))))
    top.insert(kdb.CellInstArray(upper.cell_index(), kdb.Trans(kdb.Point(0, 0)),
                                 kdb.Vector(80000, 0), kdb.Vector(0, 80000), 2, 2))
    top.insert(kdb.CellInstArray(mid.cell_index(), kdb.Trans(3, False, kdb.Point(-70000, 0))))


def _case_paths_boxes(ly, top):
    l1, l2 = ly.layer(1, 0), ly.layer(2, 0)
    top.shapes(l1).insert(kdb.Box(-5000, -5000, 5000, 5000))
    top.shapes(l1).insert(kdb.Box(4000, 4000, 9000, 9000))          # overlaps: merged
    top.shapes(l1).insert(kdb.Path([kdb.Point(0, -20000), kdb.Point(20000, -20000), kdb.Point(20000, -1000)], 1000))
    top.shapes(l1).insert(kdb.Path([kdb.Point(0, -30000), kdb.Point(20000, -30000)], 1000, 500, 500))
    top.shapes(l1).insert(kdb.Path([kdb.Point(0, -40000), kdb.Point(0, -60000), kdb.Point(-15000, -60000)],
                                   2000, 1000, 3000))
    top.shapes(l2).insert(kdb.Path([kdb.Point(0, 0), kdb.Point(30000, 0), kdb.Point(30000, 30000)], 2000))


CASES = {
    "aref": _case_aref,
    "skewed": _case_skewed,
    "negative_vectors": _case_negative_vectors,
    "rotated_array": _case_rotated_array,
    "magnified_reflected": _case_magnified_reflected,
    "nested": _case_nested,
    "paths_boxes": _case_paths_boxes,
}


def _write_case(tmp_path, name, ext):
    ly = _layout()
    top = ly.create_cell("TOP")
    CASES[name](ly, top)
    path = tmp_path / f"{name}.{ext}"
    ly.write(str(path))
    return ly, top, path


def _kl_region(ly, top, layer):
    region = kdb.Region(top.begin_shapes_rec(ly.layer(*layer)))
    region.merge()
    return region


@pytest.mark.parametrize("ext", ["gds", "oas"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_area_and_bbox_match_klayout(tmp_path, name, ext):
    ly, top, path = _write_case(tmp_path, name, ext)
    for layer in ((1, 0), (2, 0)):
        region = _kl_region(ly, top, layer)
        if region.is_empty():
            continue
        mask = read_mask(path, layer=layer)
        # every vertex is on the 1 nm grid, so the areas agree to float rounding
        assert mask.geometry.area == pytest.approx(region.area() * DBU**2, abs=1e-6)
        bb = region.bbox()
        assert mask.bounds_um == pytest.approx((bb.left * DBU, bb.bottom * DBU, bb.right * DBU, bb.top * DBU),
                                               abs=1e-9)
        assert len(mask.polygons) == region.count()


@pytest.mark.parametrize("ext", ["gds", "oas"])
def test_arbitrary_angle_within_one_dbu_of_klayout(tmp_path, ext):
    """A 30° reference puts vertices off the grid; KLayout snaps them to the
    database unit when it flattens, litho keeps them exact, so the areas agree
    to the snapping error (half a dbu times the perimeter)."""
    ly = _layout()
    top = ly.create_cell("TOP")
    leaf = _leaf(ly)
    top.insert(kdb.CellInstArray(leaf.cell_index(), kdb.ICplxTrans(1.0, 30, False, kdb.Vector(0, -100000))))
    top.insert(kdb.CellInstArray(leaf.cell_index(), kdb.ICplxTrans(1.5, 45, True, kdb.Vector(20000, 0))))
    # a diagonal path: its outline is off the grid too
    top.shapes(ly.layer(1, 0)).insert(kdb.Path([kdb.Point(0, 50000), kdb.Point(30000, 80000)], 2000))
    path = tmp_path / f"angle.{ext}"
    ly.write(str(path))
    region = _kl_region(ly, top, (1, 0))
    mask = read_mask(path, layer=(1, 0))
    perimeter = mask.geometry.length
    assert abs(mask.geometry.area - region.area() * DBU**2) <= 0.5 * DBU * perimeter


def test_round_path_ends_close_to_klayout(tmp_path):
    """Round path ends are circles approximated by polygons; gdstk and KLayout
    choose different vertex counts, so only the approximation error differs."""
    ly = _layout()
    top = ly.create_cell("TOP")
    top.shapes(ly.layer(1, 0)).insert(kdb.Path([kdb.Point(0, 0), kdb.Point(20000, 0)], 2000, 1000, 1000, True))
    path = tmp_path / "round.gds"
    ly.write(str(path))
    mask = read_mask(path, layer=(1, 0))
    exact = 20 * 2 + math.pi * 1.0**2
    assert mask.geometry.area == pytest.approx(exact, rel=2e-3)


@pytest.mark.parametrize("ext", ["gds", "oas"])
@pytest.mark.parametrize("name", ["aref", "skewed", "rotated_array", "nested"])
def test_window_matches_klayout_clip(tmp_path, name, ext):
    ly, top, path = _write_case(tmp_path, name, ext)
    region = _kl_region(ly, top, (1, 0))
    bb = region.bbox()
    # a window over the middle of the layout, cutting through shapes
    x0 = bb.left + (bb.right - bb.left) // 3 + 137
    y0 = bb.bottom + (bb.top - bb.bottom) // 4 + 59
    x1 = bb.right - (bb.right - bb.left) // 5
    y1 = bb.top - (bb.top - bb.bottom) // 6
    clipped = region & kdb.Region(kdb.Box(x0, y0, x1, y1))
    window = (x0 * DBU, y0 * DBU, x1 * DBU, y1 * DBU)
    mask = read_mask(path, layer=(1, 0), window=window)
    # exact: the window read equals the full read clipped to the window ...
    full = read_mask(path, layer=(1, 0)).geometry
    assert mask.geometry.area == pytest.approx(full.intersection(shapely.box(*window)).area, abs=1e-9)
    # ... and KLayout agrees up to its snapping of the cut points to the grid
    assert mask.geometry.area == pytest.approx(clipped.area() * DBU**2, abs=DBU * shapely.box(*window).length)
    assert mask.window_um == window


def test_units_respected(tmp_path):
    """A GDS in nm user units with a 0.25 nm database unit reads back in µm."""
    lib = gdstk.Library(unit=1e-9, precision=0.25e-9)
    cell = gdstk.Cell("NM")
    cell.add(gdstk.rectangle((0, 0), (1500, 2500), layer=1))   # 1.5 x 2.5 µm in nm
    lib.add(cell)
    path = tmp_path / "nm.gds"
    lib.write_gds(str(path))
    mask = read_mask(path, layer=1)
    assert mask.bounds_um == pytest.approx((0, 0, 1.5, 2.5))
    info = mask_info(path)
    assert info["user_unit_um"] == pytest.approx(1e-3)
    assert info["db_unit_um"] == pytest.approx(0.25e-3)
    ly = _layout(0.005)
    top = ly.create_cell("TOP")
    top.shapes(ly.layer(1, 0)).insert(kdb.Box(0, 0, 200, 300))      # 1 x 1.5 µm at 5 nm dbu
    ly.write(str(tmp_path / "dbu5.oas"))
    assert read_mask(tmp_path / "dbu5.oas", layer=1).geometry.area == pytest.approx(1.5)


def test_context_info_cell_is_skipped(tmp_path):
    ly = _layout()
    top = ly.create_cell("TOP")
    top.shapes(ly.layer(1, 0)).insert(kdb.Box(0, 0, 1000, 1000))
    meta = ly.create_cell("$$$CONTEXT_INFO$$$")
    meta.shapes(ly.layer(1, 0)).insert(kdb.Box(0, 0, 5000, 5000))
    path = tmp_path / "ctx.gds"
    ly.write(str(path))
    mask = read_mask(path, layer=1)
    assert mask.cell == "TOP"
    assert mask.geometry.area == pytest.approx(1.0)


def test_several_top_cells_listed_unless_chosen(tmp_path):
    ly = _layout()
    for name, size in (("A", 1000), ("B", 2000)):
        ly.create_cell(name).shapes(ly.layer(1, 0)).insert(kdb.Box(0, 0, size, size))
    path = tmp_path / "two.gds"
    ly.write(str(path))
    with pytest.raises(LithoInputError, match=r"several top cells \(A, B\)"):
        read_mask(path, layer=1)
    assert read_mask(path, layer=1, cell="B").geometry.area == pytest.approx(4.0)
    with pytest.raises(LithoInputError, match="cell 'C' not found; cells: A, B"):
        read_mask(path, layer=1, cell="C")


def test_polygons_sorted_by_centroid_y_then_x(tmp_path):
    ly = _layout()
    top = ly.create_cell("TOP")
    for x, y in ((5000, 0), (0, 5000), (0, 0), (5000, 5000)):
        top.shapes(ly.layer(1, 0)).insert(kdb.Box(x, y, x + 1000, y + 1000))
    path = tmp_path / "four.gds"
    ly.write(str(path))
    centres = [(round(p.centroid.x, 3), round(p.centroid.y, 3)) for p in read_mask(path, layer=1).polygons]
    assert centres == [(0.5, 0.5), (5.5, 0.5), (0.5, 5.5), (5.5, 5.5)]


def test_layers_counts_flattened(tmp_path):
    _, _, path = _write_case(tmp_path, "aref", "gds")
    assert layers(path) == {(1, 0): 3 * 35, (2, 0): 35}


def test_mask_info(tmp_path):
    ly, top, path = _write_case(tmp_path, "nested", "oas")
    info = mask_info(path)
    assert info["format"] == "OASIS"
    assert info["top_cell"] == "TOP"
    assert set(info["cells"]) == {"TOP", "UPPER", "MID", "LEAF"}
    region = _kl_region(ly, top, (1, 0))
    assert info["layers"]["1/0"]["area_um2"] == pytest.approx(region.area() * DBU**2, abs=1e-6)
    assert info["layers"]["1/0"]["name"] == "R"
    bb = top.dbbox()
    assert info["bbox_um"] == pytest.approx([bb.left, bb.bottom, bb.right, bb.top])


# ---------------------------------------------------------------- errors


def _one_line(err):
    text = str(err.value)
    assert "\n" not in text
    return text


def test_missing_file(tmp_path):
    with pytest.raises(LithoInputError) as err:
        read_mask(tmp_path / "nope.gds")
    assert "nope.gds: no such file" in _one_line(err)


def test_not_a_layout(tmp_path):
    path = tmp_path / "notes.gds"
    path.write_text("hello, I am not a layout\n")
    with pytest.raises(LithoInputError) as err:
        read_mask(path)
    assert "not a GDSII or OASIS file" in _one_line(err)


@pytest.mark.parametrize("ext", ["gds", "oas"])
def test_truncated_file(tmp_path, ext):
    _, _, path = _write_case(tmp_path, "nested", ext)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(LithoInputError) as err:
        read_mask(path)
    assert "truncated" in _one_line(err)


def test_reference_cycle(tmp_path):
    lib = gdstk.Library()
    a, b = gdstk.Cell("A"), gdstk.Cell("B")
    a.add(gdstk.rectangle((0, 0), (1, 1)), gdstk.Reference(b))
    b.add(gdstk.Reference(a, (5, 0)))
    lib.add(a, b)
    path = tmp_path / "cycle.gds"
    lib.write_gds(str(path))
    with pytest.raises(LithoInputError) as err:
        read_mask(path, layer=0)
    assert "reference cycle A -> B -> A" in _one_line(err) or "reference cycle B -> A -> B" in _one_line(err)


def test_missing_cell_reference_named(tmp_path, capfd):
    lib = gdstk.Library()
    top = gdstk.Cell("TOP")
    top.add(gdstk.rectangle((0, 0), (1, 1), layer=1), gdstk.Reference("GHOST"))
    lib.add(top)
    path = tmp_path / "ghost.gds"
    lib.write_gds(str(path))
    capfd.readouterr()
    with pytest.raises(LithoInputError) as err:
        read_mask(path, layer=1)
    assert "missing cells: GHOST" in _one_line(err)
    # gdstk's own complaint on stderr is swallowed: the user sees one line
    assert capfd.readouterr().err == ""


def test_absent_layer_lists_present_layers(tmp_path):
    _, _, path = _write_case(tmp_path, "aref", "gds")
    with pytest.raises(LithoInputError) as err:
        read_mask(path, layer="B")
    assert "layer 3/0 (B) not in cell TOP; layers present: 1/0 (R), 2/0 (G)" in _one_line(err)


def test_empty_layer(tmp_path):
    lib = gdstk.Library()
    top = gdstk.Cell("TOP")
    top.add(gdstk.rectangle((0, 0), (1, 1), layer=1))
    top.add(gdstk.Polygon([(0, 0), (1, 0), (2, 0)], layer=2))   # degenerate: no area
    lib.add(top)
    path = tmp_path / "empty.gds"
    lib.write_gds(str(path))
    with pytest.raises(LithoInputError) as err:
        read_mask(path, layer=2)
    assert "layer 2/0 (G) of cell TOP has no area" in _one_line(err)


def test_window_outside_layout(tmp_path):
    _, _, path = _write_case(tmp_path, "aref", "gds")
    with pytest.raises(LithoInputError) as err:
        read_mask(path, layer=1, window=(1000, 1000, 1100, 1100))
    assert "lies outside the layout" in _one_line(err)
    with pytest.raises(LithoInputError):
        read_mask(path, layer=1, window=(10, 10, 5, 20))


def test_unknown_layer_name():
    with pytest.raises(LithoInputError, match="accepted: R, G, B, marks"):
        read_mask(str(MASKS / "stripe_1000ppi.gds"), layer="Q")


# ---------------------------------------------------------------- writing


@pytest.mark.parametrize("ext", ["gds", "oas"])
def test_write_gds_roundtrip_and_klayout_reads_it(tmp_path, ext):
    import litho

    lib = litho.pixel_array("delta", ppi=1000, gap_um=2, columns=6, rows=5)
    path = write_gds(lib, tmp_path / f"delta.{ext}")
    ly = kdb.Layout()
    ly.read(str(path))
    top = ly.top_cells()[0]
    for layer in ((1, 0), (2, 0), (3, 0), (10, 0)):
        region = kdb.Region(top.begin_shapes_rec(ly.layer(*layer)))
        region.merge()
        assert read_mask(path, layer=layer).geometry.area == pytest.approx(region.area() * ly.dbu**2, abs=1e-6)


def test_write_gds_bad_suffix_writes_nothing(tmp_path):
    import litho

    lib = litho.pixel_array("stripe", ppi=1000, gap_um=2, columns=2, rows=2)
    with pytest.raises(LithoInputError, match=r"\.gds or \.oas"):
        write_gds(lib, tmp_path / "x.txt")
    assert list(tmp_path.iterdir()) == []


def test_write_polygons_with_source_and_holes(tmp_path):
    ring = shapely.box(0, 0, 10, 10).difference(shapely.box(3, 3, 6, 6))
    src = gdstk.Library(unit=1e-6, precision=1e-9)
    c = gdstk.Cell("MASK")
    c.add(gdstk.rectangle((20, 0), (30, 5), layer=1))
    src.add(c)
    path = write_polygons(tmp_path / "pred.gds", {(101, 0): [ring, shapely.box(40, 0, 41, 1)]}, "PREDICTED",
                          source_library=src)
    pred = read_mask(path, layer=(101, 0))
    assert pred.geometry.area == pytest.approx(100 - 9 + 1)
    assert len(pred.polygons) == 2
    assert read_mask(path, layer=1).geometry.area == pytest.approx(50)
    ly = kdb.Layout()
    ly.read(str(path))
    assert [t.name for t in ly.top_cells()] == ["PREDICTED"]
    region = kdb.Region(ly.top_cells()[0].begin_shapes_rec(ly.layer(101, 0)))
    region.merge()
    assert region.area() * ly.dbu**2 == pytest.approx(92)


def test_large_aref_window_reads_only_the_window(tmp_path):
    """A 3000 x 3000 AREF: a small window costs what it holds."""
    import time

    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    leaf = gdstk.Cell("LEAF")
    leaf.add(gdstk.rectangle((0, 0), (2, 5), layer=1))
    top = gdstk.Cell("TOP")
    top.add(gdstk.Reference(leaf, (0, 0), columns=3000, rows=3000, spacing=(8, 8)))
    lib.add(leaf, top)
    path = tmp_path / "big.gds"
    lib.write_gds(str(path))
    start = time.perf_counter()
    mask = read_mask(path, layer=1, window=(1001, 1001, 1041, 1041))
    assert time.perf_counter() - start < 2.0
    # columns at x = 1008 + 8k (k = 0..4) fully inside; 1000..1002 clipped to 1001..1002
    assert mask.geometry.area == pytest.approx(np.sum([
        (min(x + 2, 1041) - max(x, 1001)) * (min(y + 5, 1041) - max(y, 1001))
        for x in range(1000, 1041, 8) for y in range(1000, 1041, 8)
        if min(x + 2, 1041) > max(x, 1001) and min(y + 5, 1041) > max(y, 1001)]))


def test_merge_of_many_touching_and_overlapping_shapes(tmp_path):
    """Above a few dozen shapes only touching ones are merged together; the
    result must equal one big union."""
    rng = np.random.default_rng(7)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = gdstk.Cell("TOP")
    boxes = []
    for _ in range(400):
        x, y = rng.integers(0, 200, 2)
        w, h = rng.integers(1, 6, 2)
        boxes.append(shapely.box(x, y, x + w, y + h))
        top.add(gdstk.rectangle((x, y), (x + w, y + h), layer=1))
    lib.add(top)
    path = tmp_path / "many.gds"
    lib.write_gds(str(path))
    mask = read_mask(path, layer=1)
    expect = shapely.union_all(boxes)
    assert mask.geometry.area == pytest.approx(expect.area, abs=1e-9)
    assert len(mask.polygons) == len(shapely.get_parts(expect))
    assert mask.geometry.symmetric_difference(expect).area < 1e-9


def test_oasis_circle_becomes_polygon(tmp_path):
    """OASIS CIRCLE records are read as polygons within the database unit."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = gdstk.Cell("C")
    cell.add(gdstk.ellipse((5, 5), 3, tolerance=1e-5, layer=1))
    lib.add(cell)
    path = tmp_path / "circle.oas"
    lib.write_oas(str(path), circle_tolerance=1e-3)
    mask = read_mask(path, layer=1)
    assert abs(mask.geometry.area - math.pi * 9) <= DBU * 2 * math.pi * 3
    assert mask.bounds_um == pytest.approx((2, 2, 8, 8), abs=DBU)
