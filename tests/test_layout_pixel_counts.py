"""``columns`` x ``rows`` count pixels for every layout: the array covers columns·p x rows·p."""

from __future__ import annotations

import math

import pytest

from litho.errors import LithoInputError
from litho.layout import describe, pixel_array
from litho.layout.pixels import plan

PPI = 1500
PITCH_UM = 25400 / PPI


def _extent_um(layout, columns, rows):
    info = describe(layout, ppi=PPI, gap_um=2, columns=columns, rows=rows, marks=False)
    x0, y0, x1, y1 = info["array_bounds_um"]
    return x1 - x0, y1 - y0, info


def _counts(layout, columns, rows):
    pl = plan(layout, ppi=PPI, gap_um=2, columns=columns, rows=rows)
    counts = {c: 0 for c in "RGB"}
    for a in pl.arrays:
        counts[a.colour] += a.columns * a.rows
    return counts


@pytest.mark.parametrize("layout", ["stripe", "s-stripe", "delta", "diamond", "mosaic"])
def test_pixels_give_the_physical_extent(layout):
    """Doubling the pixel counts adds exactly columns·p x rows·p (mosaic: to within one square of
    pitch p/√3), and the array is columns·p x rows·p to within one pitch (the subpixels' margins)."""
    w8, h4, info = _extent_um(layout, 8, 4)
    w16, h8, _ = _extent_um(layout, 16, 8)
    p = info["pitch_um"]
    assert p == pytest.approx(PITCH_UM, abs=1e-3)
    step_tol = info.get("site_pitch_um", 0.0) + 2e-3
    assert w16 - w8 == pytest.approx(8 * p, abs=step_tol)
    assert h8 - h4 == pytest.approx(4 * p, abs=step_tol)
    assert abs(w8 - 8 * p) < p and abs(h4 - 4 * p) < p
    # the case: a delta 8 x 8 at 1500 ppi was 276 x 67 µm; it is now about 135 x 135 µm
    w, h, _ = _extent_um(layout, 8, 8)
    assert abs(w - 8 * PITCH_UM) < PITCH_UM and abs(h - 8 * PITCH_UM) < PITCH_UM


@pytest.mark.parametrize("layout", ["stripe", "s-stripe", "delta"])
def test_one_subpixel_of_each_colour_per_pixel(layout):
    assert _counts(layout, 6, 5) == {"R": 30, "G": 30, "B": 30}


def test_diamond_one_g_and_one_r_or_b_per_pixel():
    counts = _counts("diamond", 6, 5)
    assert counts["G"] == 30 and counts["R"] + counts["B"] == 30


def test_mosaic_three_squares_per_pixel_area():
    """A mosaic pixel is three squares of pitch p/√3; the squares drawn cover the pixels' area."""
    info = describe("mosaic", ppi=PPI, gap_um=2, columns=30, rows=20, marks=False)
    sx, sy = info["sites"]
    q = info["site_pitch_um"]
    assert sx * q == pytest.approx(30 * PITCH_UM, abs=q / 2)
    assert sy * q == pytest.approx(20 * PITCH_UM, abs=q / 2)
    assert sum(_counts("mosaic", 30, 20).values()) == sx * sy
    assert sx * sy / 3 == pytest.approx(600, rel=0.05)
    assert q == pytest.approx(PITCH_UM / math.sqrt(3), abs=1e-3)


def test_delta_needs_even_columns():
    with pytest.raises(LithoInputError, match="must be even"):
        pixel_array("delta", ppi=PPI, gap_um=2, columns=7, rows=4)
