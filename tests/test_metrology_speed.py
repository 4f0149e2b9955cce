"""The shortcuts of the array metrology give the measurements of the direct path."""

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from litho.grid import Grid
from litho.metrology import corner_boxes, corner_boxes_all, design_terms, measure


def _field(grid, design, blur, gain, seed):
    from scipy.ndimage import gaussian_filter

    from litho.layout.geometry import merge
    from litho.raster import rasterize

    rng = np.random.default_rng(seed)
    nrt = gaussian_filter(rasterize(merge(design), grid), blur) * gain
    return nrt + rng.normal(0, 0.02, nrt.shape)


def _design(seed):
    rng = np.random.default_rng(seed)
    design = [box(1 + 3 * i + rng.uniform(0, 0.3), 1 + 3 * j, 3 + 3 * i, 2.5 + 3 * j + rng.uniform(0, 0.3))
              for i in range(3) for j in range(3)]
    design.append(Polygon([(0.5, 9.6), (2, 9.6), (2, 10.4), (1, 10.4), (1, 11.5), (0.5, 11.5)]))   # a concave L
    return tuple(design)


def test_corner_boxes_of_all_pixels_equal_the_per_pixel_boxes():
    rng = np.random.default_rng(3)
    design = [box(x, y, x + rng.uniform(0.1, 3), y + rng.uniform(0.1, 3)) for x, y in rng.uniform(0, 50, (30, 2))]
    design += [Polygon([(0.5, 9), (2, 9), (2, 10), (1, 10), (1, 11.5), (0.5, 11.5)]),
               Point(0, 0).buffer(1), Polygon([(0, 0), (3, 0), (0, 2)])]
    for poly, got in zip(design, corner_boxes_all(design)):
        ref = corner_boxes(poly)
        assert len(got) == len(ref)
        for a, b in zip(ref, got):
            assert np.array_equal(shapely.get_coordinates(a), shapely.get_coordinates(b))


@pytest.mark.parametrize("seed", range(3))
def test_a_design_measured_again_reuses_its_terms_and_gives_the_same_numbers(seed):
    grid = Grid((120, 110), 0.1, (0.0, 0.0))
    design = _design(seed)
    rng = np.random.default_rng(seed)
    blur, gain = rng.uniform(1, 5), rng.uniform(0.6, 1.6)
    first = measure(_field(grid, design, blur, gain, seed), grid, design, 0.5)
    terms = design_terms(design, grid, grid.pixel_um)
    assert design_terms(design, grid, grid.pixel_um) is terms           # cached for the same design
    # a copy of the design (new polygons) is computed afresh and measures the same
    copy = tuple(shapely.from_wkb(shapely.to_wkb(p)) for p in design)
    assert design_terms(copy, grid, grid.pixel_um) is not terms
    again = measure(_field(grid, design, blur, gain, seed), grid, design, 0.5)
    fresh = measure(_field(grid, design, blur, gain, seed), grid, copy, 0.5)
    assert again.summary == first.summary
    for a, b in zip(first.pixels, fresh.pixels):
        for key, value in a.as_dict().items():
            other = b.as_dict()[key]
            if isinstance(value, float):
                assert other == pytest.approx(value, abs=1e-12, nan_ok=True), key
            else:
                assert other == value, key


def test_another_grid_does_not_take_the_cached_weights():
    design = _design(0)
    fine, coarse = Grid((120, 110), 0.1, (0.0, 0.0)), Grid((60, 55), 0.2, (0.0, 0.0))
    a = design_terms(design, fine, 0.1)
    b = design_terms(design, coarse, 0.2)
    assert a is not b and b.outside.shape == coarse.shape


def test_terms_larger_than_the_cache_budget_are_not_kept(monkeypatch):
    import litho.metrology as metrology

    design = _design(1)
    grid = Grid((120, 110), 0.1, (0.0, 0.0))
    monkeypatch.setattr(metrology, "TERMS_BUDGET_BYTES", 1000)
    a = design_terms(design, grid, 0.1)
    assert a.nbytes > 1000
    assert design_terms(design, grid, 0.1) is not a
