"""Exact area-coverage rasterisation: invariants (hypothesis) and known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings, strategies as st
from shapely import affinity

from litho.grid import Grid
from litho.raster import rasterize, rasterize_tiled

# coordinates on a 0.1 nm grid: denormal slivers (1e-244 µm) would not survive a translation
coord = st.floats(-3.0, 13.0, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 4))
pitch = st.sampled_from([0.05, 0.1, 0.25, 0.37, 1.0])
offset = st.floats(0.0, 1.0, allow_nan=False)

MASKS = Path(__file__).resolve().parents[1] / "masks"


@st.composite
def polygons(draw):
    """Random valid polygons, some with holes, some multipart."""
    n = draw(st.integers(3, 9))
    pts = [(draw(coord), draw(coord)) for _ in range(n)]
    poly = shapely.make_valid(shapely.Polygon(pts))
    if draw(st.booleans()):
        poly = poly.buffer(draw(st.floats(0.05, 1.0)))
    if draw(st.booleans()):
        cx, cy, r = draw(coord), draw(coord), draw(st.floats(0.1, 2.0))
        poly = poly.difference(shapely.Point(cx, cy).buffer(r, quad_segs=5))
    if draw(st.booleans()):
        poly = poly.union(shapely.box(draw(coord), draw(coord), draw(coord) + 2, draw(coord) + 2).normalize())
    # snap to the 0.1 nm grid, then drop the precision model so later overlays are exact
    return shapely.from_wkb(shapely.to_wkb(shapely.set_precision(poly, 1e-4)))


def _grid_over(geom, dx, ox, oy, margin=2):
    xmin, ymin, xmax, ymax = geom.bounds if not geom.is_empty else (0, 0, 1, 1)
    nx = max(2, int(np.ceil((xmax - xmin) / dx)) + 2 * margin)
    ny = max(2, int(np.ceil((ymax - ymin) / dx)) + 2 * margin)
    return Grid((ny, nx), dx, (xmin - (margin - ox) * dx, ymin - (margin - oy) * dx))


@settings(max_examples=60, deadline=None)
@given(polygons(), pitch, offset, offset)
def test_total_coverage_equals_area(poly, dx, ox, oy):
    grid = _grid_over(poly, dx, ox, oy)
    t = rasterize(poly, grid)
    assert t.shape == grid.shape
    assert t.min() >= 0.0 and t.max() <= 1.0
    assert abs(t.sum() - poly.area / dx**2) <= 1e-9 * max(1.0, poly.area / dx**2)


@settings(max_examples=40, deadline=None)
@given(polygons(), pitch, offset, offset)
def test_partial_grid_counts_only_the_inside(poly, dx, ox, oy):
    """A grid over part of the geometry: coverage sums to the clipped area."""
    full = _grid_over(poly, dx, ox, oy, margin=0)
    ny, nx = full.shape
    grid = Grid((max(1, ny // 2), max(1, nx // 2)), dx, (full.origin_um[0] + nx // 4 * dx,
                                                         full.origin_um[1] + ny // 3 * dx))
    t = rasterize(poly, grid)
    inside = poly.intersection(shapely.box(*grid.bounds_um)).area
    assert abs(t.sum() * dx**2 - inside) <= 1e-9 * max(1.0, poly.area)


def test_each_cell_is_its_exact_intersection_area():
    poly = shapely.Polygon([(0.13, 0.21), (2.71, 0.5), (1.9, 2.33), (0.4, 1.7)]).difference(
        shapely.Point(1.3, 1.1).buffer(0.45))
    grid = Grid((14, 16), 0.2, (-0.17, -0.09))
    t = rasterize(poly, grid)
    expect = np.zeros(grid.shape)
    x0, y0 = grid.origin_um
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            cell = shapely.box(x0 + j * 0.2, y0 + i * 0.2, x0 + (j + 1) * 0.2, y0 + (i + 1) * 0.2)
            expect[i, j] = poly.intersection(cell).area / 0.04
    np.testing.assert_allclose(t, expect, atol=1e-12)


def test_known_answer_rows_are_y():
    # a box covering x in [0.25, 1], y in [0, 0.5] on a 2 x 2 grid of 0.5 µm
    t = rasterize(shapely.box(0.25, 0.0, 1.0, 0.5), Grid((2, 2), 0.5))
    np.testing.assert_allclose(t, [[0.5, 1.0], [0.0, 0.0]], atol=1e-15)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.3, 5.0), st.floats(0.0, 1.0), pitch)
def test_line_cd_identical_at_any_subpixel_offset(width_um, frac, dx):
    """No aliasing: the CD measured from coverage (sum along a row × pitch) is the
    drawn width whatever the line's sub-pixel position."""
    x0 = 1.0 + frac * dx
    line = shapely.box(x0, -10.0, x0 + width_um, 10.0)
    grid = Grid((8, int((width_um + 4) / dx) + 2), dx, (0.0, -2.0))
    t = rasterize(line, grid)
    cd = t.sum(axis=1) * dx
    np.testing.assert_allclose(cd, width_um, atol=1e-9)
    # and the left edge sits where it was drawn: the uncovered part of the cells up to it
    first_full = int(np.argmax(t[0] > 1 - 1e-12)) if width_um >= 2 * dx else None
    if first_full is not None:
        edge = grid.origin_um[0] + (first_full - t[0, :first_full].sum()) * dx
        assert edge == pytest.approx(x0, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(polygons(), pitch)
def test_half_pixel_shift_moves_coverage_by_half_a_pixel(poly, dx):
    """Exact coverage is additive: on a grid of half the pitch, summing 2 x 2
    blocks gives the coarse coverage, and summing blocks offset by one fine cell
    gives the coverage of the geometry shifted by half a coarse pixel."""
    grid = _grid_over(poly, dx, 0.0, 0.0, margin=3)
    ny, nx = grid.shape
    fine = rasterize(poly, Grid((2 * ny + 2, 2 * nx + 2), dx / 2, (grid.origin_um[0] - dx, grid.origin_um[1] - dx)))

    def blocks(a, oy, ox):
        a = a[oy:oy + 2 * ny, ox:ox + 2 * nx]
        return a.reshape(ny, 2, nx, 2).mean(axis=(1, 3))

    np.testing.assert_allclose(rasterize(poly, grid), blocks(fine, 2, 2), atol=1e-9)
    shifted = rasterize(affinity.translate(poly, dx / 2, 0.0), grid)
    np.testing.assert_allclose(shifted, blocks(fine, 2, 1), atol=1e-9)
    # a whole-pixel shift is a roll of the array
    t0 = rasterize(poly, grid)
    t2 = rasterize(affinity.translate(poly, dx, 0.0), grid)
    np.testing.assert_allclose(t2[:, 1:], t0[:, :-1], atol=1e-9)


def test_half_pixel_shift_of_aligned_square_splits_cells():
    dx = 0.5
    t = rasterize(shapely.box(1.0 + dx / 2, 1.0, 2.0 + dx / 2, 2.0), Grid((6, 6), dx))
    np.testing.assert_allclose(t[2], [0, 0, 0.5, 1, 0.5, 0], atol=1e-15)
    np.testing.assert_allclose(t[:, 3], [0, 0, 1, 1, 0, 0], atol=1e-15)


def test_holes_are_empty_and_overlaps_count_once():
    ring = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 3, 3))
    t = rasterize(ring, Grid((4, 4), 1.0))
    assert t[1:3, 1:3].sum() == 0 and t.sum() == pytest.approx(12)
    # an iterable of overlapping polygons is merged first
    t = rasterize([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)], Grid((3, 3), 1.0))
    assert t.max() == 1.0 and t.sum() == pytest.approx(7)


def test_periodic_wraps_around():
    grid = Grid((4, 4), 0.5)
    t = rasterize(shapely.box(-1.0, 0.3, 1.0, 0.7), grid, periodic=True)
    np.testing.assert_allclose(t[:2], 0.4, atol=1e-12)
    np.testing.assert_allclose(t[2:], 0.0, atol=1e-12)
    # a shape straddling the right edge equals the two pieces put back inside
    shape = shapely.box(1.6, 0.1, 2.3, 0.9)
    wrapped = rasterize(shape, grid, periodic=True)
    pieces = rasterize([shapely.box(1.6, 0.1, 2.0, 0.9), shapely.box(0.0, 0.1, 0.3, 0.9)], grid)
    np.testing.assert_allclose(wrapped, pieces, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.floats(0.0, 3.0), st.floats(0.0, 3.0), st.sampled_from([(0.25, 3.0, 2.5), (0.1, 2.5, 2.5),
                                                                  (0.3, 2.7, 2.1)]))
def test_tiled_equals_direct(sx, sy, spec):
    """Tiling one rasterised cell gives the same array as rasterising the whole
    replicated pattern (the third spec is not whole pixels: the slow path)."""
    dx, px, py = spec
    unit = shapely.union_all([shapely.box(0.2, 0.1, 1.1, 2.3), shapely.box(1.5, -0.3, 2.0, 0.4)])
    grid = Grid((40, 50), dx, (-1.0 + round(sx / dx) * dx, -0.5 + round(sy / dx) * dx))
    tiled = rasterize_tiled(unit, (0.0, 0.0, px, py), grid)
    copies = [affinity.translate(unit, i * px, j * py) for i in range(-3, 12) for j in range(-3, 12)]
    direct = rasterize(shapely.union_all(copies), grid)
    np.testing.assert_allclose(tiled, direct, atol=1e-9)


def test_accepts_a_mask_object():
    from litho.gds import read_mask

    mask = read_mask(str(MASKS / "stripe_1000ppi_2x2.gds"), layer="R")
    grid = Grid.covering(mask.bounds_um, 0.25)
    t = rasterize(mask, grid)
    assert t.sum() * 0.25**2 == pytest.approx(mask.geometry.area, rel=1e-12)


def test_large_grid_is_fast():
    import time

    squares = shapely.union_all([shapely.box(i * 8.467 + 1, j * 8.467 + 0.5, i * 8.467 + 3, j * 8.467 + 8)
                                 for i in range(24) for j in range(24)])
    grid = Grid((2000, 2000), 0.1)
    start = time.perf_counter()
    t = rasterize(squares, grid)
    assert time.perf_counter() - start < 3.0
    assert t.sum() * 0.01 == pytest.approx(squares.intersection(shapely.box(0, 0, 200, 200)).area, rel=1e-12)


def test_geometry_whose_edges_miss_every_cell_gives_float_zeros():
    # The edge (1, -5) -> (10, 1) is kept for the rows it spans, but inside them it lies right of
    # the grid: no piece lands in a cell, and numpy's empty weighted bincount is int64.
    grid = Grid((2, 2), 1.0, (0.0, 0.0))
    t = rasterize(shapely.Polygon([(1, -5), (10, 1), (20, -5)]), grid)
    assert t.dtype == np.float64 and not t.any()


@settings(max_examples=200, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.01, 4), st.floats(0.01, 4),
       st.integers(1, 24), st.integers(1, 24), st.floats(0.05, 0.7), st.floats(-2, 0), st.floats(-2, 0))
def test_an_axis_aligned_box_takes_the_product_path_and_equals_the_edge_accumulation(
        x0, y0, w, h, ny, nx, dx, ox, oy):
    from litho import raster

    box = shapely.box(x0, y0, x0 + w, y0 + h)
    grid = Grid((ny, nx), dx, (ox, oy))
    assert raster._axis_aligned_box(box) is not None
    # the same box as a polygon with one more (collinear) vertex takes the edge path
    edges = shapely.Polygon([(x0, y0), (x0 + w / 2, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)])
    assert raster._axis_aligned_box(edges) is None
    assert np.max(np.abs(rasterize(box, grid) - rasterize(edges, grid)), initial=0) < 1e-12


def test_a_rotated_rectangle_is_not_taken_for_an_axis_aligned_box():
    from litho import raster

    tilted = affinity.rotate(shapely.box(0, 0, 2, 1), 30, origin=(0, 0))
    assert raster._axis_aligned_box(tilted) is None
    assert raster._axis_aligned_box(shapely.box(0, 0, 2, 1)) is not None


def test_a_triangle_with_a_repeated_corner_is_not_taken_for_its_bounding_box():
    # five coordinates, every one on the bounds: the regression was a full square (area 1)
    triangle = shapely.Polygon([(0, 0), (1, 0), (1, 1), (1, 1), (0, 0)])
    grid = Grid((8, 8), 0.125)
    assert rasterize(triangle, grid).sum() * 0.125**2 == pytest.approx(0.5, abs=1e-12)
