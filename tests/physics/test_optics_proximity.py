"""Known answers for contact and proximity printing (PHYSICS.md §2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import CubicSpline
from scipy.special import fresnel

from litho.optics import ProximityOptics, aerial_image, aerial_series, spectral_images
from litho.optics.proximity import DIRECTION_TOLERANCE


def _fresnel_edge(v):
    """Straight-edge Fresnel diffraction, I = ½[(C(v)+½)² + (S(v)+½)²] (Born & Wolf §8.7.3)."""
    c, s = fresnel(v)
    return 0.5 * ((c + 0.5) ** 2 + (s + 0.5) ** 2)


def _half_plane(gap_um, wavelength_nm, pixel_um=0.02, n=2**16):
    """A long 1-D period: clear for x >= 0 over half the period, so the far edge
    is ~650 µm away and perturbs the near one by < 0.3%."""
    t = np.zeros((2, n))
    t[:, n // 2:] = 1.0
    optics = ProximityOptics(wavelength_nm=wavelength_nm, gap_um=gap_um)
    image = aerial_image(t, pixel_um, optics, periodic=True)[0]
    x_um = (np.arange(n) - n // 2 + 0.5) * pixel_um
    v = x_um * np.sqrt(2 / (wavelength_nm * 1e-3 * gap_um))
    return v, image


@pytest.mark.parametrize("gap_um,wavelength_nm", [(50.0, 365.0), (100.0, 436.0)])
def test_fresnel_edge_quarter_intensity_and_first_maximum(gap_um, wavelength_nm):
    v, image = _half_plane(gap_um, wavelength_nm)
    near = np.abs(v) < 4
    spline = CubicSpline(v[near], image[near])
    assert spline(0.0) == pytest.approx(0.25, rel=0.01)
    vv = np.linspace(0.8, 1.6, 8001)
    peak = np.argmax(spline(vv))
    assert spline(vv[peak]) == pytest.approx(1.37044, rel=0.01)
    assert vv[peak] == pytest.approx(1.21720, rel=0.01)
    # the near-edge profile follows the Fresnel integral; further out the exact
    # (non-paraxial) angular spectrum departs from the Fresnel approximation
    close = np.abs(v) < 2.5
    assert np.max(np.abs(image[close] - _fresnel_edge(v[close]))) < 0.02


@pytest.mark.parametrize("gap_um", [0.0, 0.5, 10.0, 80.0])
@pytest.mark.parametrize("angle_deg,profile", [(0.0, "uniform"), (1.5, "uniform"), (3.0, "gaussian")])
def test_open_mask_gives_one(gap_um, angle_deg, profile):
    optics = ProximityOptics(spectrum="hg-broadband", gap_um=gap_um, collimation_half_angle_deg=angle_deg,
                             angular_profile=profile, film_depth_um=0.02)
    for im in spectral_images(np.ones((24, 40)), 0.01, optics, periodic=True):
        np.testing.assert_allclose(im.intensity, 1.0, atol=1e-12)


def test_band_limited_evaluation_equals_full_size_angular_spectrum():
    rng = np.random.default_rng(1)
    t = (rng.random((96, 128)) > 0.5).astype(float)
    pixel_um, gap_um, lam_um = 0.05, 5.0, 0.405
    optics = ProximityOptics(wavelength_nm=405, gap_um=gap_um)
    image = aerial_image(t, pixel_um, optics, periodic=True)
    fy = np.fft.fftfreq(96, pixel_um)[:, None]
    fx = np.fft.fftfreq(128, pixel_um)[None, :]
    h = np.exp(2j * np.pi * gap_um * np.sqrt((1 / lam_um**2 - fx**2 - fy**2).astype(complex)))
    direct = np.abs(np.fft.ifft2(np.fft.fft2(t) * h)) ** 2
    np.testing.assert_allclose(image, direct, atol=1e-10)


def test_tilted_plane_wave_equals_shifted_transfer_function():
    """A tilted plane wave on the mask (t·e^{i2π f0 x}, periodic f0) equals litho's
    shifted-transfer-function form."""
    n, pixel_um, lam_um, gap_um = 128, 0.1, 0.365, 8.0
    rng = np.random.default_rng(2)
    t = rng.random((n, n))
    sin_x = 5 / (n * pixel_um) * lam_um  # tilt on a grid frequency, so t·ramp stays periodic
    optics = ProximityOptics(wavelength_nm=365, gap_um=gap_um, collimation_half_angle_deg=0.0)
    x = (np.arange(n) + 0.5) * pixel_um
    ramp = np.exp(2j * np.pi * (sin_x / lam_um) * x)[None, :]
    f = np.fft.fftfreq(n, pixel_um)
    h = np.exp(2j * np.pi * gap_um * np.sqrt((1 / lam_um**2 - f[None, :]**2 - f[:, None]**2).astype(complex)))
    direct = np.abs(np.fft.ifft2(np.fft.fft2(t * ramp) * h)) ** 2
    from litho.optics.window import MaskSpectrum, BandPlan
    spec = MaskSpectrum(t, pixel_um)
    plan = BandPlan.make(t.shape, pixel_um, np.inf)
    hh = optics.transfer(plan.fy_per_um, plan.fx_per_um + sin_x / lam_um, 365)
    mine = np.abs(np.fft.ifft2(spec.box(plan) * hh)) ** 2
    np.testing.assert_allclose(mine, direct, atol=1e-10)


def test_contact_print_is_the_mask():
    t = np.zeros((32, 32))
    t[8:24, 10:20] = 1.0
    t[8:24, 20] = 0.4
    image = aerial_image(t, 0.25, ProximityOptics(wavelength_nm=254, gap_um=0, collimation_half_angle_deg=2))
    np.testing.assert_array_equal(image, t)


def test_collimation_blurs_the_edge_and_conserves_energy():
    t = np.zeros((4, 1024))
    t[:, 256:768] = 1.0
    sharp = aerial_image(t, 0.05, ProximityOptics(wavelength_nm=365, gap_um=20), periodic=True)
    soft = aerial_image(t, 0.05, ProximityOptics(wavelength_nm=365, gap_um=20, collimation_half_angle_deg=3,
                                                 direction_rings=3), periodic=True)
    # propagation conserves the energy of the propagating waves (Parseval); only the
    # evanescent part of the sharp pixel edges (< 1%) is lost
    for image in (sharp, soft):
        assert 0.99 * t.mean() < image.mean() <= t.mean() + 1e-12
    # the tilted directions wash out the edge ringing
    assert soft[0].max() < sharp[0].max()


def test_mirror_and_shift_symmetry():
    rng = np.random.default_rng(3)
    t = (rng.random((48, 64)) > 0.6).astype(float)
    optics = ProximityOptics(wavelength_nm=365, gap_um=5, collimation_half_angle_deg=2, direction_rings=2)
    image = aerial_image(t, 0.1, optics, periodic=True)
    np.testing.assert_allclose(aerial_image(t[:, ::-1], 0.1, optics, periodic=True), image[:, ::-1], atol=1e-12)
    np.testing.assert_allclose(aerial_image(t[::-1], 0.1, optics, periodic=True), image[::-1], atol=1e-12)
    shifted = np.roll(t, (5, -7), axis=(0, 1))
    np.testing.assert_allclose(aerial_image(shifted, 0.1, optics, periodic=True),
                               np.roll(image, (5, -7), axis=(0, 1)), atol=1e-12)
    # isolated windows are shift-invariant too while the shift stays inside
    iso = aerial_image(np.pad(t, 8), 0.1, optics)
    iso_shift = aerial_image(np.pad(t, ((4, 12), (10, 6))), 0.1, optics)
    np.testing.assert_allclose(iso_shift[4:-12, 10:-6], iso[8:-8, 8:-8], atol=1e-9)


def test_gap_series_equals_single_images():
    t = np.zeros((64, 64))
    t[16:48, 20:44] = 1
    optics = ProximityOptics(wavelength_nm=365, gap_um=1, collimation_half_angle_deg=1)
    series = aerial_series(t, 0.1, optics, gap_um=[2.0, 6.0], periodic=True)
    for image, gap in zip(series, (2.0, 6.0)):
        single = aerial_image(t, 0.1, ProximityOptics(wavelength_nm=365, gap_um=gap, collimation_half_angle_deg=1),
                              periodic=True)
        np.testing.assert_allclose(image, single, atol=1e-12)


def test_unit_cell_equals_the_same_region_of_a_large_periodic_array():
    pixel_um, cell = 0.1, 40  # 4 µm pitch
    unit = np.zeros((cell, cell))
    unit[8:32, 12:28] = 1.0
    optics = ProximityOptics(wavelength_nm=365, gap_um=8, collimation_half_angle_deg=1.5)
    periodic = aerial_image(unit, pixel_um, optics, periodic=True)
    whole = aerial_image(np.tile(unit, (5, 5)), pixel_um, optics, periodic=True)
    for i, j in ((0, 0), (2, 2), (4, 1)):
        np.testing.assert_allclose(whole[i * cell:(i + 1) * cell, j * cell:(j + 1) * cell], periodic, atol=1e-10)


def test_unit_cell_approximates_the_middle_of_a_finite_array():
    """The middle of an isolated 9 × 9 array, 16 µm from its border, matches the infinite
    array to ~1 % of the clear field: the collimation cone washes out the border's Fresnel
    fringes there (they decay only as 1/v along the edge-normal), but not entirely."""
    pixel_um, cell = 0.1, 40
    unit = np.zeros((cell, cell))
    unit[8:32, 12:28] = 1.0
    optics = ProximityOptics(wavelength_nm=365, gap_um=8, collimation_half_angle_deg=3.0, direction_rings=2)
    periodic = aerial_image(unit, pixel_um, optics, periodic=True)
    whole = aerial_image(np.tile(unit, (9, 9)), pixel_um, optics)
    middle = whole[4 * cell:5 * cell, 4 * cell:5 * cell]
    np.testing.assert_allclose(middle, periodic, atol=1.5e-2)


def _full_size_cone_sum(t, pixel_um, optics, n_r, n_phi):
    """One full-grid inverse FFT per direction of an n_r × n_phi Gauss rule (no band limiting)."""
    import math

    import scipy.fft as sfft

    from litho.optics.proximity import _gauss_rule

    f = np.fft.fftfreq(t.shape[0], pixel_um)
    spec = sfft.fft2(t)
    r, phi, w = _gauss_rule(n_r, n_phi, optics.angular_profile)
    rho = math.sin(optics.max_half_angle_rad) * r
    lam_um = optics.wavelength_nm * 1e-3
    acc = np.zeros(t.shape)
    for ax, ay, wi in zip(rho * np.cos(phi) / lam_um, rho * np.sin(phi) / lam_um, w):
        u = sfft.ifft2(spec * optics.transfer(f + ay, f + ax, optics.wavelength_nm))
        acc += wi * (u.real ** 2 + u.imag ** 2)
    return acc


@pytest.mark.parametrize("profile", ["uniform"])
def test_default_cone_rule_is_within_its_tolerance_of_a_converged_cone_sum(profile):
    """10 µm gap, 1.5°, 0.2 µm pixels (the issue's reference case, on a smaller window)."""
    rng = np.random.default_rng(3)
    t = np.kron((rng.random((8, 8)) < 0.5).astype(float), np.ones((8, 8)))  # 1.6 µm cells, 12.8 µm period
    optics = ProximityOptics(wavelength_nm=365, gap_um=10, collimation_half_angle_deg=1.5, angular_profile=profile)
    ref = _full_size_cone_sum(t, 0.2, optics, 32, 64)
    n_r, n_phi, stated = optics.direction_rule(0.2)
    assert stated <= DIRECTION_TOLERANCE and optics.directions(0.2)[0].size == n_r * n_phi
    error = float(np.max(np.abs(aerial_image(t, 0.2, optics, periodic=True) - ref)))
    # The rule is sized on a probe of 3.2 µm cells (proximity.probe_mask) for DIRECTION_TOLERANCE;
    # these 1.6 µm cells, finer than the Fresnel length √(λg) = 1.9 µm, crowd more edges into
    # each fringe and measure about 1.03 times it. Bounded here at 1.5 times so a worse rule fails.
    assert error <= 1.5 * DIRECTION_TOLERANCE
    # the equal-weight one-ring scheme (the former default here) is far off
    rings = ProximityOptics(wavelength_nm=365, gap_um=10, collimation_half_angle_deg=1.5, angular_profile=profile,
                            direction_rings=1)
    assert float(np.max(np.abs(aerial_image(t, 0.2, rings, periodic=True) - ref))) > 5 * max(error, 1e-4)


def test_the_shipped_rgb_recipe_is_imaged_within_1e_3_of_a_converged_cone_sum():
    """The README recipe's imaging optics (3 µm gap, 1.5°, 0.25 µm pixels, 60 nm into the film):
    the cheapest rule of CONE_RULES within DIRECTION_TOLERANCE is 3 × 8 (the level rules jump from
    2 × 8, estimate 1.1e-3, to 3 × 16), and on random cells and an RGB-stripe cell it is within
    1e-3 of the clear field of a converged 24 × 96 cone sum."""
    import litho
    from litho.dose import imaging_optics
    from litho.optics.proximity import CONE_RULES

    recipe = litho.load_recipe(Path(__file__).resolve().parents[2] / "recipes" / "rgb_stripe_1000ppi.toml")
    optics = imaging_optics(recipe.steps[0])
    n_r, n_phi, stated = optics.direction_rule(0.25)
    assert (n_r, n_phi) == (3, 8) and stated <= DIRECTION_TOLERANCE
    counts = [a * b for a, b in CONE_RULES]
    assert counts == sorted(counts)
    rng = np.random.default_rng(11)
    n = 128
    cells = np.kron((rng.random((8, 8)) < 0.5).astype(float), np.ones((n // 8, n // 8)))
    x = np.arange(n)
    rgb = (((x[None, :] % 43) < 30) & (x[:, None] > 10) & (x[:, None] < 118)).astype(float)
    for t in (cells, rgb):
        ref = _full_size_cone_sum(t, 0.25, optics, 24, 96)
        error = float(np.max(np.abs(aerial_image(t, 0.25, optics, periodic=True) - ref)))
        assert error <= DIRECTION_TOLERANCE


def test_cone_rule_is_symmetric_and_its_weights_sum_to_one():
    optics = ProximityOptics(wavelength_nm=365, gap_um=20, collimation_half_angle_deg=2)
    sx, sy, w = optics.directions(0.1)
    assert abs(w.sum() - 1) < 1e-12
    pts = {(round(a, 12), round(b, 12)) for a, b in zip(sx, sy)}
    for a, b in list(pts):
        assert (round(-a, 12) + 0.0, b) in pts or (round(-a, 12), b) in pts
        assert (b, a) in pts


def test_cone_rule_is_sized_once_per_rung_of_the_pitch_ladder():
    """A search over many sizes sizes the rule once per 2^(1/8) rung of the pitch, not once per size."""
    from litho.optics.proximity import PROBE_LADDER_STEPS, probe_pitch_um

    optics = ProximityOptics(wavelength_nm=365, gap_um=3, collimation_half_angle_deg=1.5)
    assert probe_pitch_um(0.25) == 0.25 and probe_pitch_um(0.5) == 0.5
    pitches = np.geomspace(0.05, 0.4, 200)
    rungs = [probe_pitch_um(p) for p in pitches]
    assert len(set(rungs)) == pytest.approx(3 * PROBE_LADDER_STEPS + 1, abs=1)
    ratio = np.array(rungs) / pitches
    assert np.all(np.abs(np.log2(ratio)) <= 0.5 / PROBE_LADDER_STEPS + 1e-12)
    assert np.all(np.diff(rungs) >= 0)
    # the rule at a pitch is the rule at its rung
    assert optics.direction_rule(0.26) == optics.direction_rule(0.25)


@pytest.mark.parametrize("pixel_um, gap_um, depth_um", [(0.02, 3.0, 0.0), (0.05, 10.0, 0.03), (0.3, 1.0, 0.0)])
def test_probe_images_on_the_field_band_equal_the_full_grid_sum(pixel_um, gap_um, depth_um):
    """The probe evaluates each direction's transfer inside the field band only; beyond it every
    component is evanescent below EVANESCENT_TOLERANCE, so its images equal the plain full-grid
    direction sum to rounding, at pitches where most of the grid is outside the band and where none is."""
    import scipy.fft as sfft

    from litho.optics.proximity import _level_rule, _probe_images, _probe_key, _probe_optics, _rule_directions, \
        probe_mask

    optics = ProximityOptics(spectrum={365.0: 0.7, 405.0: 0.3}, gap_um=gap_um, collimation_half_angle_deg=1.5,
                             film_index=1.8, film_depth_um=depth_um)
    key = _probe_key(optics, pixel_um)
    rule = _level_rule(4, key[6])
    probe = _probe_optics(key)
    t = probe_mask(probe, key[-1])
    f = np.fft.fftfreq(t.shape[0], key[-1])
    sx, sy, w = _rule_directions(rule, probe.collimation_half_angle_deg, probe.angular_profile)
    for image, (wavelength_nm, _) in zip(_probe_images(key, rule), probe.lines):
        lam_um = wavelength_nm * 1e-3
        ref = np.zeros(t.shape)
        for ax, ay, wi in zip(sx / lam_um, sy / lam_um, w):
            u = sfft.ifft2(sfft.fft2(t) * probe.transfer(f + ay, f + ax, wavelength_nm))
            ref += wi * np.abs(u) ** 2
        assert np.max(np.abs(image - ref)) <= 1e-12


def test_a_cone_the_largest_rule_cannot_resolve_is_one_note_and_its_estimate():
    import warnings

    from litho.errors import LithoNote

    optics = ProximityOptics(wavelength_nm=365, gap_um=80, collimation_half_angle_deg=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n_r, n_phi, estimate = optics.direction_rule(0.3)
        optics.direction_rule(0.3)
    notes = [w for w in caught if issubclass(w.category, LithoNote)]
    assert len(notes) == 1 and "256 directions" in str(notes[0].message)
    assert estimate > DIRECTION_TOLERANCE and n_r * n_phi == 256
    assert optics.directions_accuracy(0.3) == estimate


def test_a_recipe_sets_the_cone_rule_tolerance_and_a_bad_one_is_one_line(write_recipe):
    import litho
    from litho.errors import LithoInputError

    text_key = 'collimation_half_angle_deg = 1.5\n'
    recipe = litho.load_recipe(write_recipe(**{text_key: text_key + "cone_rule_tolerance = 0.01\n"}))
    optics = recipe.steps[0].exposure.optics
    assert optics.rule_tolerance == 0.01
    assert optics.directions_accuracy(0.2) <= 0.01
    with pytest.raises(LithoInputError, match="cone_rule_tolerance") as caught:
        litho.load_recipe(write_recipe(**{text_key: text_key + "cone_rule_tolerance = -1\n"}))
    assert "\n" not in str(caught.value)


def test_a_simulation_sizes_its_cone_rule_once_and_reports_the_rule_it_images_with(write_recipe):
    """The memory estimate, the imaging (the rule of the deepest path in the film), the convergence
    check and the report's quadrature estimate all use one rule: one probe sizing per run."""
    import litho
    from litho.dose import imaging_optics
    from litho.optics import clear_caches
    from litho.optics import proximity as prox
    from litho.report import build_report

    recipe = litho.load_recipe(write_recipe(**{'tool = "contact"': 'tool = "proximity"\ngap = "3 um"'}))
    clear_caches()
    result = litho.simulate(recipe)
    assert prox.choose_cone_rule.cache_info().misses == 1
    step = result.steps[0]
    imaged = imaging_optics(step.step)
    assert imaged.film_depth_um > 0 and imaged.film_index == step.step.film.refractive_index
    estimate = build_report(result)["steps"][0]["aerial_image"]["quadrature_error_estimate"]
    assert estimate == pytest.approx(imaged.directions_accuracy(step.grid.pixel_um), rel=1e-3)


def test_a_grating_at_the_nyquist_frequency_images_both_of_its_orders():
    """Known answer. t = 1 + ε·cos(π j) has orders ±f_N of amplitude ε/2 each; on the samples a
    tilt a gives U_j = H(a) + (ε/2)·[H(f_N + a) + H(−f_N + a)]·(−1)^j, summed incoherently over the
    cone. The even grid holds both orders in one bin; litho reads it as half of each (it took
    −f_N alone, which is a different, asymmetric image)."""
    from litho.optics.window import MaskSpectrum

    optics = ProximityOptics(wavelength_nm=365, gap_um=3, collimation_half_angle_deg=1.5)
    pixel, eps = 0.25, 0.4
    t = np.tile(1 + eps * np.cos(np.pi * np.arange(16)), (8, 1))
    image = optics.line_intensity(MaskSpectrum(t, pixel), 365)
    f_n = 0.5 / pixel
    sx, sy, w = optics.directions(pixel)
    expected = np.zeros(16)
    sign = (-1.0) ** np.arange(16)
    for ax, ay, wd in zip(sx / 0.365, sy / 0.365, w):
        h = lambda fx: optics.transfer(np.array([ay]), np.array([fx + ax]), 365)[0, 0]   # noqa: E731
        expected += wd * np.abs(h(0.0) + 0.5 * eps * (h(f_n) + h(-f_n)) * sign) ** 2
    assert np.max(np.abs(image - expected[None, :])) < 1e-12


@pytest.mark.parametrize("shape, band_per_um", [((201, 201), np.inf), ((200, 200), np.inf), ((1024, 1024), 0.5),
                                                ((200, 180), np.inf)])
def test_transfers_are_computed_once_per_octant_orbit_and_equal_computing_each(shape, band_per_um):
    """A cone rule's mirror and swap images share one computed transfer and film phase: the
    gathered arrays equal the direct ones bit for bit (to rounding on an unpaired Nyquist line,
    which the images overwrite anyway), and a cold set computes one full array per orbit."""
    from litho.optics import clear_caches
    from litho.optics.proximity import _gauss_rule, _nyquist_bins, _rule_directions
    from litho.optics.window import BandPlan

    optics = ProximityOptics(wavelength_nm=365, gap_um=3, collimation_half_angle_deg=1.5, film_index=1.9)
    sx, sy, _ = _rule_directions(_gauss_rule(3, 8, "uniform"), 1.5, "uniform")
    # the rule's directions are exact mirror and swap images of one another
    pts = set(zip(sx.tolist(), sy.tolist()))
    assert all((-a, b) in pts and (a, -b) in pts and (b, a) in pts for a, b in pts)
    clear_caches()
    plan = BandPlan.make(shape, 0.25, band_per_um)
    fy, fx = plan.fy_per_um, plan.fx_per_um
    computed = []
    direct = optics.transfer

    def counting(fy_part, fx_part, wavelength_nm):
        if fy_part.size > 1 and fx_part.size > 1:
            computed.append(1)
        return direct(fy_part, fx_part, wavelength_nm)

    object.__setattr__(optics, "transfer", counting)
    square = shape[0] == shape[1]
    paired = _nyquist_bins(plan) == (None, None)     # every bin has its mirror image on its axis
    k_film = 1.9 / 0.365
    for ax, ay in zip(sx / 0.365, sy / 0.365):
        h = optics._cached_transfer(plan, fy + ay, fx + ax, 365.0, (ax, ay))
        ref = direct(fy + ay, fx + ax, 365.0)
        phase = optics._cached_film_phase(plan, fy, fx, (ax, ay), k_film, (0.015, [0, 1, 2]))
        ref_phase = ProximityOptics._film_phase(fy, fx, (ax, ay), k_film, (0.015, [0, 1, 2]))
        if paired:
            assert np.array_equal(h, ref) and np.array_equal(phase, ref_phase)
        else:
            assert np.max(np.abs(h - ref)) <= 1e-13 and np.max(np.abs(phase - ref_phase)) <= 1e-13
    # 3 rings of 8 azimuths: one orbit each on a square plan, two (x ≥ y and y > x) otherwise
    assert len(computed) == (3 if square else 6)
    clear_caches()
