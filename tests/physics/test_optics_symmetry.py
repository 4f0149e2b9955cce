"""Direction sums reduced by the mask raster's mirror and quarter-turn symmetry (litho.optics.symmetry).

The reduction is a rearrangement of the sum, so it must give the image of
every direction summed, to rounding, and it must find no symmetry where
there is none.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litho.optics import ProximityOptics
from litho.optics import proximity as prox
from litho.optics.symmetry import D4, RasterSymmetry, find
from litho.optics.window import MaskSpectrum

PIXEL_UM = 0.1
DEPTHS_UM = [0.0, 0.01, 0.02, 0.03]
OPTICS = ProximityOptics(wavelength_nm=365, gap_um=3.0, collimation_half_angle_deg=1.5)


def raster(kind: str, n: int = 97) -> np.ndarray:
    t = np.zeros((n, n))
    if kind == "square":
        t[33:63, 33:63] = 1
    elif kind == "square-half-sample-centre":
        t[20:51, 25:56] = 1
    elif kind == "rectangle":
        t[28:68, 38:58] = 1
    elif kind == "lines":
        t[:, 10:30] = 1
        t[:, 58:78] = 1
    elif kind == "square-with-a-diagonal-defect":
        t[33:63, 33:63] = 1
        t[40, 40] = 0.5
    elif kind == "graded-edge-square":
        t[33:63, 33:63] = 1
        t[33:63, 32] = t[33:63, 63] = t[32, 33:63] = t[63, 33:63] = 0.37
    return t


def images(spectrum_of, t):
    spectrum = spectrum_of(t)
    return OPTICS.depth_intensities(spectrum, 365, DEPTHS_UM, 1.8) + [OPTICS.line_intensity(spectrum, 365)]


@pytest.mark.parametrize("kind, order", [("square", 8), ("square-half-sample-centre", 8), ("rectangle", 4),
                                         ("lines", 4), ("graded-edge-square", 8),
                                         ("square-with-a-diagonal-defect", 2)])
def test_reduced_direction_sum_equals_the_full_sum(kind, order):
    t = raster(kind)
    assert find(t).order == order
    reduced = images(lambda a: MaskSpectrum(a, PIXEL_UM), t)
    full = images(lambda a: MaskSpectrum(a, PIXEL_UM, use_symmetry=False), t)
    for a, b in zip(reduced, full):
        assert np.max(np.abs(a - b)) < 1e-12


def test_a_square_images_one_direction_in_eight(monkeypatch):
    seen = []
    original = ProximityOptics._cached_transfer

    def counting(self, plan, fy, fx, wavelength_nm, tilt):
        seen.append(tilt)
        return original(self, plan, fy, fx, wavelength_nm, tilt)

    monkeypatch.setattr(ProximityOptics, "_cached_transfer", counting)
    n_directions = len(OPTICS.directions(PIXEL_UM)[2])
    OPTICS.depth_intensities(MaskSpectrum(raster("square"), PIXEL_UM), 365, DEPTHS_UM, 1.8)
    assert n_directions % 8 == 0 and len(seen) == n_directions // 8


@pytest.mark.parametrize("t", [
    (np.random.default_rng(1).random((64, 64)) < 0.5).astype(float),
    # ramps across a square break both mirrors (and, being unequal, the diagonal ones)
    np.pad(np.ones((20, 20)), ((10, 34), (10, 34))) * np.linspace(1, 2, 64)[None, :] * np.linspace(1, 3, 64)[:, None],
    np.zeros((1, 0)),
], ids=["random", "ramped", "empty"])
def test_no_symmetry_is_found_where_there_is_none(t):
    assert find(t) is None


def test_a_raster_off_by_rounding_keeps_its_symmetry_and_one_off_by_more_loses_it():
    t = raster("square")
    t[40, 41] += 1e-15
    assert find(t).order == 8
    t[40, 41] += 1e-6
    assert find(t) is None
    t = raster("square")
    t[40, 40] += 1e-6      # on the diagonal: only the diagonal mirror is left
    assert find(t).elements == (D4[0], (0, 1, 1, 0))


def test_an_open_rule_is_not_reduced():
    symmetry = find(raster("square"))
    # one tilted direction: its mirror images are not in the rule
    assert symmetry.orbits(np.array([0.01, 0.0]), np.array([0.002, 0.0]), np.array([0.5, 0.5])) is None
    # a closed rule with unequal weights within an orbit
    assert symmetry.orbits(np.array([0.01, -0.01]), np.zeros(2), np.array([0.3, 0.7])) is None


@settings(max_examples=25, deadline=None)
@given(block=st.lists(st.booleans(), min_size=36, max_size=36), shift=st.tuples(st.integers(0, 23), st.integers(0, 23)),
       diagonal=st.booleans())
def test_symmetrised_random_rasters_are_found_anywhere_on_the_periodic_grid(block, shift, diagonal):
    # a random 6 x 6 block mirrored into 12 x 12 (and mirrored about the diagonal), placed anywhere
    b = np.array(block, dtype=float).reshape(6, 6)
    if diagonal:
        b = np.maximum(b, b.T)
    quarter = np.block([[b, b[:, ::-1]], [b[::-1], b[::-1, ::-1]]])
    t = np.roll(np.pad(quarter, ((0, 12), (0, 12))), shift, axis=(0, 1))
    symmetry = find(t)
    if t.max() == 0:
        assert symmetry is not None and symmetry.order == 8
        return
    assert symmetry is not None and symmetry.order >= (8 if diagonal else 4)
    for g in symmetry.elements:
        assert np.array_equal(symmetry.apply(t, g), t)


def test_apply_matches_the_definition_on_an_index_grid():
    n = 10
    image = np.arange(n * n, dtype=float).reshape(n, n)
    symmetry = RasterSymmetry((n, n), (7, 11), D4)
    for g in D4:
        out = symmetry.apply(image, g)
        a, b, c, d = g
        for jy in range(n):
            for jx in range(n):
                x2, y2 = 2 * jx - 11, 2 * jy - 7          # doubled offsets from the centre
                gx, gy = a * x2 + b * y2, c * x2 + d * y2
                assert out[jy, jx] == image[((gy + 7) // 2) % n, ((gx + 11) // 2) % n]


def test_the_reduction_needs_radial_transfer_functions():
    # what the reduction relies on: H(f + a) depends on |f + a| only
    f = np.linspace(-2, 2, 9)
    h = OPTICS.transfer(f, f, 365)
    assert np.allclose(h, h.T) and np.allclose(h, h[::-1]) and np.allclose(h, h[:, ::-1])
    spectrum = MaskSpectrum(raster("square"), PIXEL_UM, use_symmetry=False)
    assert prox._orbit_representatives(spectrum, np.zeros(2), np.zeros(2), np.ones(2) / 2)[3] is None


@pytest.mark.parametrize("n, width", [(96, 21), (96, 20), (97, 21)])
def test_a_grid_kept_whole_reads_its_nyquist_bin_symmetrically(n, width):
    """At 0.2 um and 365 nm the field band passes the Nyquist frequency and the plan keeps the whole
    FFT grid. On an even length the bin −n/2 stands for ±f_N, which a tilt propagates differently;
    read as −f_N alone, a mirror-symmetric mask gave an image asymmetric by 2e-3 (and its reduced
    sum differed from the full one by as much). Split evenly, both are symmetric and equal."""
    t = np.zeros((n, n))
    t[30:30 + 2 * width, 40:40 + width] = 1
    spectrum = MaskSpectrum(t, 0.2)
    plan = OPTICS._band_setup(spectrum, 365, OPTICS)[3]
    assert not plan.reduced and (prox._nyquist_bins(plan) != (None, None)) == (n % 2 == 0)
    reduced = OPTICS.depth_intensities(spectrum, 365, DEPTHS_UM, 1.8) + [OPTICS.line_intensity(spectrum, 365)]
    plain = MaskSpectrum(t, 0.2, use_symmetry=False)
    full = OPTICS.depth_intensities(plain, 365, DEPTHS_UM, 1.8) + [OPTICS.line_intensity(plain, 365)]
    mirror = find(t)
    assert mirror.order == 4
    for a, b in zip(reduced, full):
        assert np.max(np.abs(a - b)) < 1e-12
        for g in mirror.elements:
            assert np.max(np.abs(mirror.apply(b, g) - b)) < 1e-12
