import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from shapely.geometry import box

from litho.grid import Grid
from litho.metrology import edge_placement_errors, measure, printed_polygons


def _smooth_box(grid, x0, y0, x1, y1, blur=0.3):
    """A smooth h/h0 that crosses 0.5 exactly on the box edges (separable erf profile)."""
    from scipy.special import erf

    X, Y = np.meshgrid(grid.x_um, grid.y_um)
    fx = 0.5 * (erf((X - x0) / blur) - erf((X - x1) / blur))
    fy = 0.5 * (erf((Y - y0) / blur) - erf((Y - y1) / blur))
    return fx * fy


def test_perfect_print_has_iou_one_and_zero_epe():
    g = Grid((300, 300), 0.1)
    h = _smooth_box(g, 5, 5, 25, 25, blur=0.05)
    m = measure(h, g, [box(5, 5, 25, 25)])
    p = m.pixels[0]
    assert p.iou == pytest.approx(1.0, abs=2e-3)
    assert abs(p.epe_mean_um) < 0.01
    assert p.cd_x_um == pytest.approx(20, abs=0.02)
    assert p.cd_y_um == pytest.approx(20, abs=0.02)
    assert not p.missing and not p.bridged
    assert m.missing_pixels == 0 and m.bridges == 0


def test_uniform_bias_gives_signed_epe_and_cd_error():
    g = Grid((300, 300), 0.1)
    h = _smooth_box(g, 4.6, 4.6, 25.4, 25.4, blur=0.05)
    p = measure(h, g, [box(5, 5, 25, 25)]).pixels[0]
    assert p.epe_mean_um == pytest.approx(0.4, abs=0.02)
    assert p.cd_x_um - p.design_cd_x_um == pytest.approx(0.8, abs=0.03)
    expected_iou = 400 / 20.8 ** 2
    assert p.iou == pytest.approx(expected_iou, abs=5e-3)


def test_missing_and_bridged_pixels_are_counted():
    g = Grid((200, 400), 0.1)
    design = [box(2, 5, 10, 15), box(12, 5, 20, 15), box(28, 5, 36, 15)]
    # one printed blob over the first two pixels; nothing on the third
    h = _smooth_box(g, 2, 5, 20, 15, blur=0.05)
    m = measure(h, g, design)
    assert m.bridges == 1
    assert [p.bridged for p in m.pixels] == [True, True, False]
    assert [p.missing for p in m.pixels] == [False, False, True]
    assert m.missing_pixels == 1


def test_residue_is_found_between_pixels():
    g = Grid((200, 400), 0.1)
    design = [box(2, 5, 10, 15)]
    h = _smooth_box(g, 2, 5, 10, 15, blur=0.05)
    h[100, 300] = 0.3
    m = measure(h, g, design)
    assert m.residue_max_nrt == pytest.approx(0.3)


def test_corner_rounding_radius_of_a_rounded_square():
    g = Grid((400, 400), 0.05)
    r = 2.0
    rounded = box(5 + r, 5 + r, 15 - r, 15 - r).buffer(r, quad_segs=64)
    from litho.raster import rasterize  # exact coverage gives a crisp 0.5 contour

    h = rasterize(rounded, g)
    p = measure(h, g, [box(5, 5, 15, 15)]).pixels[0]
    assert p.corner_rounding_radius_um == pytest.approx(r, rel=0.05)


def test_holes_print_as_interior_rings():
    g = Grid((200, 200), 0.1)
    h = _smooth_box(g, 2, 2, 18, 18, blur=0.05) - _smooth_box(g, 8, 8, 12, 12, blur=0.05)
    polys = printed_polygons(h, g)
    assert len(polys) == 1 and len(polys[0].interiors) == 1
    assert polys[0].area == pytest.approx(16 ** 2 - 4 ** 2, rel=0.01)


@settings(max_examples=25, deadline=None)
@given(st.floats(-0.8, 0.8))
def test_epe_sign_follows_the_bias(bias):
    design = box(0, 0, 10, 10)
    printed = box(-bias, -bias, 10 + bias, 10 + bias)
    epe = edge_placement_errors(design, printed, 0.1)
    # Corners of a shrunken print lie farther than the bias; along the edges it is exact.
    assert np.median(epe) == pytest.approx(bias, abs=1e-9)
    assert np.all(np.sign(epe[np.abs(epe) > 1e-9]) == np.sign(bias))


def test_a_one_row_window_is_measured_not_crashed():
    """One sample high: each sample stands for its cell (contourpy needs two rows)."""
    grid = Grid((1, 40), 0.1, (0.0, 0.0))
    nrt = np.zeros((1, 40))
    nrt[0, 10:30] = 1.0
    m = measure(nrt, grid, [box(1.0, 0.0, 3.0, 0.1)])
    assert m.pixels[0].cd_x_um == pytest.approx(2.0, abs=0.1) and m.pixels[0].iou > 0.9
    assert m.missing_pixels == 0 and m.bridges == 0


def test_a_one_row_periodic_step_simulates(write_recipe):
    import dataclasses

    import litho
    from litho.process import simulate_step

    recipe = litho.load_recipe(write_recipe())
    recipe = dataclasses.replace(recipe, simulation=dataclasses.replace(recipe.simulation, window="periodic"))
    grid = Grid((1, 40), 0.2, (0.0, 0.0))
    result = simulate_step(recipe.steps[0], (1, 0), (box(2.0, 0.0, 6.0, 0.2),), grid, recipe)
    assert result.remaining_thickness.shape == (1, 40)
    assert result.metrology.pixels[0].cd_x_um > 0


@pytest.mark.parametrize("seed", range(6))
def test_array_metrology_equals_the_per_pixel_measurement(seed):
    """measure() measures all pixels with shapely's array functions; _measure_pixel is the reference."""
    import shapely
    from scipy.ndimage import gaussian_filter
    from shapely.geometry import Polygon

    from litho.layout.geometry import merge
    from litho.metrology import _measure_pixel
    from litho.raster import rasterize

    rng = np.random.default_rng(seed)
    grid = Grid((120, 130), 0.1, (0.0, 0.0))
    design = [box(1 + 3 * i + rng.uniform(0, 0.3), 1 + 3 * j, 3 + 3 * i, 2.5 + 3 * j + rng.uniform(0, 0.3))
              for i in range(4) for j in range(3)]
    design.append(Polygon([(0.5, 9), (2, 9), (2, 10), (1, 10), (1, 11.5), (0.5, 11.5)]))   # a concave L
    nrt = gaussian_filter(rasterize(merge(design), grid), rng.uniform(1, 6)) * rng.uniform(0.6, 1.6)
    nrt += rng.normal(0, 0.03, nrt.shape)
    m = measure(nrt, grid, design, 0.5)
    printed = printed_polygons(nrt, grid, 0.5)
    tree = shapely.STRtree(printed) if printed else None
    for i, poly in enumerate(design):
        hits = [] if tree is None else [int(k) for k in tree.query(poly, predicate="intersects")]
        hits = [k for k in hits if printed[k].intersection(poly).area > 1e-9 * poly.area]
        matched = shapely.union_all([printed[k] for k in hits]) if hits else Polygon()
        ref = _measure_pixel(i, poly, matched, grid.pixel_um, m.pixels[i].mean_nrt, m.pixels[i].centre_nrt,
                             bridged=m.pixels[i].bridged).as_dict()
        got = m.pixels[i].as_dict()
        for key, value in ref.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, abs=1e-12, nan_ok=True), key
            elif isinstance(value, (list, tuple)):
                assert got[key] == pytest.approx(value, abs=1e-12), key
            else:
                assert got[key] == value, key


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_edge_distances_equal_shapelys_on_every_kind_of_print(seed):
    """The k-d tree distances (metrology._distances_to_boundaries) against shapely's, point by point:
    many-sided contours (the proven path), boxes with long edges (the fallback), several parts, holes."""
    import shapely
    from litho.metrology import _distances_to_boundaries, _objects

    rng = np.random.default_rng(seed)
    prints, points, owner = [], [], []
    for i in range(12):
        c, r = rng.uniform(0, 60, 2), rng.uniform(0.3, 4)
        kind = i % 4
        if kind == 0:
            g = shapely.Point(*c).buffer(r, quad_segs=int(rng.integers(2, 40)))
        elif kind == 1:
            g = shapely.box(*(c - r), *(c + r))
        elif kind == 2:
            g = shapely.MultiPolygon([shapely.Point(*c).buffer(r / 3), shapely.Point(*(c + r)).buffer(r / 2)])
        else:
            g = shapely.box(*(c - r), *(c + r)).difference(shapely.Point(*c).buffer(r / 2, quad_segs=24))
        prints.append(g)
        points.append(shapely.points(rng.uniform(c - 2 * r, c + 2 * r, (40, 2))))
        owner.append(np.full(40, i))
    printed, points, owner = _objects(prints), np.concatenate(points), np.concatenate(owner)
    expect = shapely.distance(points, shapely.boundary(printed[owner]))
    np.testing.assert_allclose(_distances_to_boundaries(points, owner, printed), expect, rtol=0, atol=1e-12)
