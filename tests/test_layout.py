"""Pixel-array masks: geometry against DOMAIN.md §4, compact AREFs, marks, names, errors."""

from __future__ import annotations

from pathlib import Path

import math

import gdstk
import numpy as np
import pytest
import shapely

import litho
from litho.errors import LithoInputError
from litho.gds import read_mask, write_gds
from litho.layout import LAYER_NAMES, describe, layers, pixel_array, summary

DBU = 0.001

MASKS = Path(__file__).resolve().parents[1] / "masks"


def _read_array(tmp_path, layout, colour, **kw):
    """Write the mask, read one colour back inside the array's bounds (marks excluded)."""
    lib = pixel_array(layout, **kw)
    info = summary(lib)
    path = write_gds(lib, tmp_path / f"{layout}.gds")
    return info, read_mask(path, layer=colour, window=info["array_bounds_um"])


def test_public_api_names():
    assert litho.pixel_array is pixel_array
    assert layers.R == (1, 0) and layers.G == (2, 0) and layers.B == (3, 0) and layers.MARKS == (10, 0)
    assert LAYER_NAMES["R"] == (1, 0) and LAYER_NAMES["marks"] == (10, 0)


@pytest.mark.parametrize("ppi, gap_um", [(500, 4), (1000, 2), (3000, 1), (1270, 1.5)])
def test_stripe_areas_match_formulas(tmp_path, ppi, gap_um):
    columns, rows = 7, 5
    p = round(25400 / ppi / DBU) * DBU
    p_nm = round(25400 / ppi / DBU)
    w, h = (p_nm // 3) * DBU - gap_um, p - gap_um     # w = p/3 − g on the grid
    for colour in "RGB":
        info, mask = _read_array(tmp_path, "stripe", colour, ppi=ppi, gap_um=gap_um, columns=columns, rows=rows)
        assert len(mask.polygons) == columns * rows
        assert mask.geometry.area == pytest.approx(columns * rows * w * h, abs=1e-6)
        assert info["subpixel_um"][colour] == pytest.approx([w, h])
        assert abs(w - (25400 / ppi / 3 - gap_um)) <= 2 * DBU            # DOMAIN formula, up to snapping
    assert info["pitch_um"] == pytest.approx(p)
    assert info["effective_ppi"] == pytest.approx(25400 / p, rel=1e-6)
    assert info["aperture_ratio"] == pytest.approx(3 * w * h / p**2, rel=1e-6)


def test_stripe_neighbours_separated_by_gap(tmp_path):
    info, r = _read_array(tmp_path, "stripe", "R", ppi=1000, gap_um=2, columns=2, rows=2)
    _, g = _read_array(tmp_path, "stripe", "G", ppi=1000, gap_um=2, columns=2, rows=2)
    assert r.polygons[0].distance(g.polygons[0]) == pytest.approx(2.0, abs=2 * DBU)
    # rows: vertical gap between the subpixels of pixel rows 0 and 1
    assert r.polygons[0].distance(r.polygons[2]) == pytest.approx(2.0, abs=2 * DBU)


def test_s_stripe_areas(tmp_path):
    p, g = 25.4, 2.0
    s = round(p / 2 / DBU) * DBU - g
    for colour, area in (("R", s * s), ("G", s * s), ("B", s * (p - g))):
        info, mask = _read_array(tmp_path, "s-stripe", colour, ppi=1000, gap_um=g, columns=4, rows=3)
        assert mask.geometry.area == pytest.approx(12 * area, abs=1e-6)
    assert info["aperture_ratio"] == pytest.approx((2 * s * s + s * (p - g)) / p**2, rel=1e-6)


def test_delta_geometry(tmp_path):
    p, g = 25.4, 2.0
    w = (2 * 25400 // 3) * DBU - g       # in integer nm: floor(2p/3) − g
    h = (25400 // 2) * DBU - g
    # 8 x 3 pixels: 4 triples per row in 6 rows of pitch p/2
    info, mask = _read_array(tmp_path, "delta", "R", ppi=1000, gap_um=g, columns=8, rows=3)
    assert mask.geometry.area == pytest.approx(24 * w * h, abs=1e-6)
    assert info["aperture_ratio"] == pytest.approx(3 * w * h / p**2, rel=1e-6)
    cx = np.array([q.centroid.x for q in mask.polygons]).reshape(6, 4)
    cy = np.array([q.centroid.y for q in mask.polygons]).reshape(6, 4)
    # rows at pitch p/2, same colour every 2p along a row, odd rows shifted by p/3
    assert np.diff(cy[:, 0]) == pytest.approx(np.full(5, p / 2), abs=2 * DBU)
    assert np.diff(cx[0]) == pytest.approx(np.full(3, 2 * p), abs=1e-9)
    assert cx[1, 0] - cx[0, 0] == pytest.approx(p / 3, abs=2 * DBU)
    # G sits one subpixel pitch (2p/3) right of R in the same row
    _, green = _read_array(tmp_path, "delta", "G", ppi=1000, gap_um=g, columns=8, rows=3)
    assert green.polygons[0].centroid.x - mask.polygons[0].centroid.x == pytest.approx(2 * p / 3, abs=2 * DBU)


def test_delta_is_two_arefs_per_colour():
    # 200 x 200 pixels: 100 triples per row, 400 rows (200 even, 200 odd)
    lib = pixel_array("delta", ppi=1000, gap_um=2, columns=200, rows=200, marks=False)
    top = lib.top_level()[0]
    per_cell = {}
    for ref in top.references:
        per_cell.setdefault(ref.cell.name, []).append(ref.repetition.size)
    assert sorted(per_cell) == sorted(f"delta_p25p4_g2_{c}" for c in "RGB")
    assert all(sizes == [200 * 100, 200 * 100] for sizes in per_cell.values())


def test_diamond_gap_and_area(tmp_path):
    p, g = 25.4, 2.0
    a = math.floor((p - math.sqrt(2) * g) / 2 / DBU) * DBU
    info, green = _read_array(tmp_path, "diamond", "G", ppi=1000, gap_um=g, columns=4, rows=4)
    _, red = _read_array(tmp_path, "diamond", "R", ppi=1000, gap_um=g, columns=4, rows=4)
    _, blue = _read_array(tmp_path, "diamond", "B", ppi=1000, gap_um=g, columns=4, rows=4)
    assert green.geometry.area == pytest.approx(16 * 2 * a * a, abs=1e-6)
    assert len(red.polygons) == 8 and len(blue.polygons) == 8
    # nearest G–R distance is the gap g (perpendicular between facing diamond edges)
    assert green.geometry.distance(red.geometry) == pytest.approx(g, abs=2 * DBU)
    assert info["aperture_ratio"] == pytest.approx(4 * a * a / p**2, rel=1e-6)
    # R and B alternate: no two R diamonds are nearest neighbours on the offset lattice
    rc = np.array([(q.centroid.x, q.centroid.y) for q in red.polygons])
    d = np.hypot(*(rc[:, None, :] - rc[None, :, :]).transpose(2, 0, 1))
    assert d[d > 0].min() == pytest.approx(math.sqrt(2) * p, abs=2 * DBU)


def test_mosaic_colours_cycle(tmp_path):
    q = round(25.4 / math.sqrt(3) / DBU) * DBU
    centres = {}
    for colour in "RGB":
        # 7 x 7 pixels of pitch 25.4 µm = 12 x 12 squares of pitch 25.4/√3
        info, mask = _read_array(tmp_path, "mosaic", colour, ppi=1000, gap_um=2, columns=7, rows=7)
        assert info["sites"] == [12, 12]
        assert mask.geometry.area == pytest.approx(48 * (q - 2) ** 2, abs=1e-6)
        centres[colour] = {(round(pl.centroid.x / q - 0.5), round(pl.centroid.y / q - 0.5)) for pl in mask.polygons}
    for k, colour in enumerate("RGB"):
        assert all((i + j) % 3 == k for i, j in centres[colour])
    assert info["pitch_um"] == pytest.approx(q * math.sqrt(3))
    assert info["aperture_ratio"] == pytest.approx((q - 2) ** 2 / q**2, rel=1e-6)


def test_explicit_subpixel_size(tmp_path):
    info, mask = _read_array(tmp_path, "stripe", "G", ppi=1000, gap_um=2, columns=3, rows=3, subpixel=(5, 20))
    assert mask.geometry.area == pytest.approx(9 * 100)
    assert info["subpixel_um"]["G"] == [5, 20]
    with pytest.raises(LithoInputError, match="does not fit"):
        pixel_array("stripe", ppi=1000, gap_um=2, columns=3, rows=3, subpixel=(9, 20))


def test_200x200_stays_one_aref_per_colour_in_klayout(tmp_path):
    kdb = pytest.importorskip("klayout.db")
    lib = pixel_array("stripe", ppi=3000, gap_um=1, columns=200, rows=200)
    path = write_gds(lib, tmp_path / "big.gds")
    ly = kdb.Layout()
    ly.read(str(path))
    top = ly.top_cells()[0]
    arrays = [inst for inst in top.each_inst()]
    assert len(arrays) == 3
    pitch_dbu = round(25400 / 3000 / ly.dbu)
    for inst in arrays:
        assert inst.is_regular_array()
        assert (inst.na, inst.nb) == (200, 200)
        # array vectors exactly on the grid: the snapped pitch
        assert {(inst.a.x, inst.a.y), (inst.b.x, inst.b.y)} == {(pitch_dbu, 0), (0, pitch_dbu)}
    assert path.stat().st_size < 20_000


def test_file_size_does_not_grow_with_pixels(tmp_path):
    small = write_gds(pixel_array("diamond", ppi=1000, gap_um=2, columns=4, rows=4), tmp_path / "s.gds")
    big = write_gds(pixel_array("diamond", ppi=1000, gap_um=2, columns=2000, rows=2000), tmp_path / "b.gds")
    assert big.stat().st_size - small.stat().st_size < 200


def test_names_and_bytes_deterministic(tmp_path):
    a = write_gds(pixel_array("stripe", ppi=1000, gap_um=2, columns=8, rows=8), tmp_path / "a.gds")
    b = write_gds(pixel_array("stripe", ppi=1000, gap_um=2, columns=8, rows=8), tmp_path / "b.gds")
    assert a.read_bytes() == b.read_bytes()
    lib = pixel_array("stripe", ppi=1000, gap_um=2, columns=8, rows=8)
    assert lib.top_level()[0].name == "stripe_p25p4_g2_8x8"
    assert pixel_array("stripe", ppi=1000, gap_um=2, columns=8, rows=8, marks=False).top_level()[0].name \
        == "stripe_p25p4_g2_8x8_nomarks"


@pytest.mark.parametrize("ext", ["gds", "oas"])
def test_summary_travels_in_the_file(tmp_path, ext):
    lib = pixel_array("s-stripe", ppi=800, gap_um=3, columns=5, rows=4)
    path = write_gds(lib, tmp_path / f"m.{ext}")
    back = gdstk.read_gds(str(path)) if ext == "gds" else gdstk.read_oas(str(path))
    assert summary(back) == summary(lib) == describe("s-stripe", ppi=800, gap_um=3, columns=5, rows=4)
    info = summary(lib)
    assert set(info) >= {"pitch_um", "subpixel_um", "gap_um", "aperture_ratio", "effective_ppi"}


def test_pitch_snapped_to_grid():
    info = describe("stripe", ppi=3000, gap_um=1, columns=2, rows=2)
    assert info["pitch_um"] == 8.467
    assert info["effective_ppi"] == pytest.approx(25400 / 8.467, abs=1e-3)
    info = describe("stripe", pitch_um=10.00049, gap_um=1, columns=2, rows=2)
    assert info["pitch_um"] == 10.0


def test_marks_on_every_colour_and_marks_layer(tmp_path):
    lib = pixel_array("stripe", ppi=1000, gap_um=2, columns=4, rows=4)
    info = summary(lib)
    path = write_gds(lib, tmp_path / "m.gds")
    x0, y0, x1, y1 = info["array_bounds_um"]
    marks = read_mask(path, layer="marks")
    assert marks.bounds_um[3] < y0      # below the array
    for colour in "RGB":
        full = read_mask(path, layer=colour)
        inside = read_mask(path, layer=colour, window=info["array_bounds_um"])
        extra = full.geometry.difference(shapely.box(x0, y0, x1, y1))
        # box-in-box inner box (8 µm)² plus 9 vernier bars in x and 9 in y
        assert extra.area == pytest.approx(64 + 2 * (8 * 2 * 10 + 2 * 14), abs=1e-6)
        assert inside.geometry.area == pytest.approx(full.geometry.area - extra.area, abs=1e-6)
    assert info["vernier_resolution_um"] == pytest.approx(0.2)


def test_test_structures_on_their_own_layers(tmp_path):
    lib = pixel_array("stripe", ppi=1000, gap_um=2, columns=2, rows=2, marks=False, test_structures=[1, 2])
    path = write_gds(lib, tmp_path / "ts.gds")
    lines = read_mask(path, layer="lines")
    assert lines.geometry.area == pytest.approx(5 * 1 * 10 + 5 * 2 * 20)
    squares = read_mask(path, layer="squares")
    assert sorted(round(pl.area, 6) for pl in squares.polygons) == [1, 4]
    holes = read_mask(path, layer="holes")
    assert all(len(pl.interiors) == 1 for pl in holes.polygons)
    assert sorted(round(shapely.Polygon(pl.interiors[0]).area, 6) for pl in holes.polygons) == [1, 4]
    corners = read_mask(path, layer="corners")
    assert sorted(round(pl.area, 6) for pl in corners.polygons) == [10 + 9, 2 * 20 * 2 - 4]
    assert read_mask(path, layer="labels").geometry.area > 0
    # the pixel layers hold only pixels
    assert len(read_mask(path, layer="R").polygons) == 4


@pytest.mark.parametrize("layout, ppi, gap, dimension", [
    ("stripe", 3000, 3, "width p/3 - g"),
    ("stripe", 1000, 25.4, "width p/3 - g"),
    ("s-stripe", 2000, 7, "width p/2 - g"),
    ("delta", 3000, 5, "height p/2 - g"),
    ("diamond", 3000, 7, "half-diagonal"),
    ("mosaic", 3000, 5, "side p/sqrt(3) - g"),
])
def test_no_room_names_negative_dimension(layout, ppi, gap, dimension):
    with pytest.raises(LithoInputError) as err:
        pixel_array(layout, ppi=ppi, gap_um=gap, columns=2, rows=2)
    text = str(err.value)
    assert dimension in text and "not positive" in text and "\n" not in text


@pytest.mark.parametrize("kwargs, match", [
    (dict(layout="hexagon", ppi=1000), "unknown layout 'hexagon'; accepted: stripe"),
    (dict(layout="stripe"), "exactly one of ppi and pitch_um"),
    (dict(layout="stripe", ppi=1000, pitch_um=25), "exactly one of ppi and pitch_um"),
    (dict(layout="stripe", ppi=-5), "ppi: -5 must be > 0"),
    (dict(layout="stripe", ppi=1000, columns=0), "columns: 0 must be a positive integer"),
    (dict(layout="stripe", ppi=1000, gap_um=-1), "gap_um: -1 must be >= 0"),
])
def test_bad_arguments(kwargs, match):
    args = dict(gap_um=2, columns=2, rows=2)
    args.update(kwargs)
    layout = args.pop("layout")
    with pytest.raises(LithoInputError, match=match):
        pixel_array(layout, **args)


def test_shipped_main_mask():
    """The shipped masks/stripe_1000ppi.gds is the 8 x 8, 2 µm-gap stripe with marks."""
    lib = gdstk.read_gds(str(MASKS / "stripe_1000ppi.gds"))
    info = summary(lib)
    assert (info["layout"], info["columns"], info["rows"], info["gap_um"], info["pitch_um"]) == \
        ("stripe", 8, 8, 2.0, 25.4)
    assert "marks" in info["layers"]
    r = read_mask(str(MASKS / "stripe_1000ppi.gds"), layer="R", window=info["array_bounds_um"])
    assert len(r.polygons) == 64
    small = summary(gdstk.read_gds(str(MASKS / "stripe_1000ppi_2x2.gds")))
    assert (small["columns"], small["rows"], "marks" in small["layers"]) == (2, 2, False)


def test_summary_label_fits_a_gds_string():
    """GDSII strings are at most 512 characters; the worst-case label fits."""
    lib = pixel_array("mosaic", pitch_um=12.3456, gap_um=1.234, columns=32767, rows=32767, test_structures=True,
                      subpixel={"R": (5.123, 5.456), "G": (5.1, 5.4), "B": (5.2, 5.3)}, db_unit_um=0.0005)
    assert max(len(label.text) for label in lib.top_level()[0].labels) <= 512


def test_gds_array_limit():
    with pytest.raises(LithoInputError, match="at most 32767"):
        pixel_array("stripe", ppi=1000, gap_um=2, columns=40000, rows=2)


@pytest.mark.parametrize("layout", ["stripe", "s-stripe", "delta", "diamond", "mosaic"])
def test_unit_cell_tiles_to_the_array(tmp_path, layout):
    """Rasterising one period and tiling it equals rasterising the generated
    array, away from the array's border."""
    from litho.grid import Grid
    from litho.layout import unit_cell
    from litho.raster import rasterize, rasterize_tiled

    kw = dict(ppi=1000, gap_um=2)
    lib = pixel_array(layout, columns=12, rows=12, marks=False, **kw)
    path = write_gds(lib, tmp_path / "a.gds")
    for colour in "RGB":
        geometry, cell = unit_cell(layout, colour, **kw)
        px, py = cell[2], cell[3]
        grid = Grid((int(round(2 * py / 0.5)), int(round(2 * px / 0.5))), 0.5, (3 * px, 3 * py))
        if layout == "mosaic":
            grid = Grid((int(round(py / 0.5)) + 7, int(round(px / 0.5)) + 5), 0.5, (px, py))
        tiled = rasterize_tiled(geometry, cell, grid)
        direct = rasterize(read_mask(path, layer=colour), grid)
        np.testing.assert_allclose(tiled, direct, atol=1e-9)
