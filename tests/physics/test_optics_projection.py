"""Known answers for projection imaging (PHYSICS.md §2).

References: J. W. Goodman, *Introduction to Fourier Optics* (3rd ed., 2005)
§6.2-6.4 (coherent and incoherent imaging of edges and gratings);
C. A. Mack, *Fundamental Principles of Optical Lithography* (Wiley, 2007)
§2.3 (resolution limit λ/(NA(1+σ))), §3.4 (through-focus symmetry);
M. Born & E. Wolf, *Principles of Optics* §10.5 (Hopkins' TCC).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from litho.optics import (ProjectionOptics, aerial_image, aerial_series, annular, conventional, dipole,
                          incoherent, quadrupole, socs_kernels, source_map, spectral_images)
from litho.optics.kernels import _pupil_columns, band_frequencies, band_plan

from conftest import manhattan_mask

LAM, NA = 365.0, 0.5


def _optics(source=None, **kw):
    kw.setdefault("source_step_sigma", 0.1)
    kw.setdefault("method", "socs")  # the kernel path unless a test asks for another
    return ProjectionOptics(wavelength_nm=LAM, na=NA, source=source or conventional(0.5), **kw)


def _random_mask(shape, seed=0, fill=0.5):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < fill).astype(float)


def _map_source():
    n = 21
    c = (np.arange(n) + 0.5) * 2 / n - 1
    sx, sy = np.meshgrid(c, c)
    return source_map(np.exp(-((sx - 0.4) ** 2 + sy ** 2) / 0.05) + 0.5 * (np.hypot(sx, sy) < 0.3))


SOURCES = {
    "coherent": conventional(0.0),
    "conventional": conventional(0.6),
    "annular": annular(0.5, 0.8),
    "dipole": dipole(0.6, 0.2),
    "quadrupole": quadrupole(0.6, 0.2),
    "map": _map_source(),
}


@pytest.mark.parametrize("name", list(SOURCES) + ["incoherent"])
@pytest.mark.parametrize("defocus_um,zernike", [(0.0, ()), (0.4, {7: 0.05, 9: 0.03, 11: 0.02})])
@pytest.mark.parametrize("method", ["socs", "abbe"])
def test_open_mask_gives_one(name, defocus_um, zernike, method):
    source = incoherent() if name == "incoherent" else SOURCES[name]
    optics = _optics(source, defocus_um=defocus_um, zernike=zernike, method=method)
    image = aerial_image(np.ones((24, 24)), 0.05, optics, periodic=True)
    np.testing.assert_allclose(image, 1.0, atol=1e-12)


def test_open_mask_gives_one_per_spectral_line():
    optics = ProjectionOptics(spectrum={365: 1, 405: 1}, na=0.4, sigma=0.7, source_step_sigma=0.1)
    for im in spectral_images(np.ones((16, 16)), 0.05, optics, periodic=True):
        np.testing.assert_allclose(im.intensity, 1.0, atol=1e-12)


def _edge_row(n):
    """Half-clear period with the edges on sample centres (coverage 1/2 there)."""
    t = np.zeros((2, n))
    t[:, n // 4 + 1:3 * n // 4] = 1.0
    t[:, n // 4] = t[:, 3 * n // 4] = 0.5
    return t


def test_coherent_edge_is_a_quarter():
    """Coherent imaging of a step: amplitude ½ at the edge for any pupil (Goodman §6.4), I = 0.25."""
    n = 512
    for defocus in (0.0,):
        image = aerial_image(_edge_row(n), 0.02, _optics(conventional(0.0), defocus_um=defocus), periodic=True)
        assert image[0, n // 4] == pytest.approx(0.25, abs=1e-12)
        assert image[0, 3 * n // 4] == pytest.approx(0.25, abs=1e-12)
        # coherent ringing overshoots the clear field (Gibbs, ~1.18 for a sharp pupil)
        assert image.max() > 1.1


def test_incoherent_edge_is_a_half_and_monotone():
    """Incoherent imaging convolves |t|² with the PSF ≥ 0: ½ at the edge, monotone (Goodman §6.4)."""
    n = 4096
    t = _edge_row(n)
    t[:, n // 4] = t[:, 3 * n // 4] = np.sqrt(0.5)  # |t|² = ½ on the edge sample
    image = aerial_image(t, 0.01, _optics(incoherent()), periodic=True)[0]
    assert image[n // 4] == pytest.approx(0.5, abs=1e-12)
    rise = image[n // 4 - 100:n // 4 + 100]
    assert np.all(np.diff(rise) > -1e-6)


def test_partial_coherence_moves_the_edge_intensity_from_quarter_towards_half():
    n = 512
    values = [aerial_image(_edge_row(n), 0.02, _optics(conventional(s)), periodic=True)[0, n // 4]
              for s in (0.0, 0.3, 0.7, 1.0)]
    assert values[0] == pytest.approx(0.25, abs=1e-12)
    assert np.all(np.diff(values) > 0) and values[-1] < 0.5


def test_coherent_two_beam_grating_image():
    """50% duty grating, σ = 0, only orders 0 and ±1 pass (λ/NA < P < 3λ/NA): the field is
    ½ + (2/π)cos(2πx/P), so I = (½ + (2/π)cos(2πx/P))², 1.292 at the line centre,
    0.0187 at the space centre and 0 where the field changes sign (Goodman §6.2)."""
    pitch_um, pixel_um = 1.0, 0.025
    n = int(round(pitch_um / pixel_um))
    t = np.zeros((4, n))
    t[:, : n // 2] = 1
    image = aerial_image(t, pixel_um, _optics(conventional(0.0)), periodic=True)[0]
    x_um = (np.arange(n) - (n // 2 - 1) / 2) * pixel_um  # from the centre of the clear line
    expected = (0.5 + 2 / np.pi * np.cos(2 * np.pi * x_um / pitch_um)) ** 2
    # the sampled grating's first order is 1/(N sin(π/N)) instead of 1/π: 0.1 % here
    np.testing.assert_allclose(image, expected, atol=5e-3)


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_grating_below_the_resolution_limit_images_flat(sigma):
    """Pitch < λ/(NA(1+σ)): every first order misses the pupil for every source point,
    so only the zero order (amplitude ½) passes and I = ¼ everywhere (Mack §2.3)."""
    cutoff_um = LAM * 1e-3 / (NA * (1 + sigma))
    pixel_um = 0.025
    below = int(np.floor(0.95 * cutoff_um / pixel_um / 2)) * 2
    above = int(np.ceil(1.15 * cutoff_um / pixel_um / 2)) * 2
    for n, flat in ((below, True), (above, False)):
        t = np.zeros((n, n))
        t[:, : n // 2] = 1
        image = aerial_image(t, pixel_um, _optics(conventional(sigma), kernel_tolerance=0), periodic=True)
        if flat:
            np.testing.assert_allclose(image, 0.25, atol=1e-12)
        else:
            assert np.ptp(image) > 0.05


CASES = [
    dict(source=conventional(0.6)),
    dict(source=annular(0.5, 0.8), defocus_um=0.3),
    dict(source=dipole(0.6, 0.2, 30.0), zernike={7: 0.04, 5: 0.03}),
    dict(source=SOURCES["map"]),
    dict(source=quadrupole(0.55, 0.25), source_step_sigma=0.04),  # TCC route (more points than frequencies)
]


@pytest.mark.parametrize("case", CASES, ids=["conventional", "annular-defocus", "dipole-aberrated", "map",
                                             "quadrupole-tcc"])
@pytest.mark.parametrize("periodic", [True, False])
def test_hopkins_with_all_kernels_equals_abbe(case, periodic):
    t = _random_mask((40, 48), seed=1)
    guard = None if periodic else 1.0  # any guard: both see the same padded window
    socs = aerial_image(t, 0.05, _optics(**{**case, "kernel_tolerance": 0.0}), periodic=periodic, guard_um=guard)
    abbe = aerial_image(t, 0.05, _optics(**{**case, "method": "abbe"}), periodic=periodic, guard_um=guard)
    np.testing.assert_allclose(socs, abbe, atol=1e-10, rtol=0)


def test_hopkins_with_all_kernels_equals_abbe_for_a_phase_mask():
    rng = np.random.default_rng(4)
    t = np.exp(1j * np.pi * (rng.random((32, 32)) > 0.5)) * (rng.random((32, 32)) > 0.3)
    socs = aerial_image(t, 0.05, _optics(annular(0.4, 0.7), kernel_tolerance=0.0), periodic=True)
    abbe = aerial_image(t, 0.05, _optics(annular(0.4, 0.7), method="abbe"), periodic=True)
    np.testing.assert_allclose(socs, abbe, atol=1e-10, rtol=0)


@pytest.mark.parametrize("tolerance", [1e-2, 1e-3])
def test_truncated_kernels_stay_within_the_stated_tolerance(tolerance):
    t = np.zeros((96, 96))
    t[20:60, 30:50] = 1
    t[70:90, 10:90] = 1
    kernels = socs_kernels(_optics(annular(0.5, 0.8), kernel_tolerance=tolerance), (96, 96), 0.05)
    assert kernels.dropped_energy <= tolerance
    assert kernels.kept < kernels.eigenvalues.size
    socs = aerial_image(t, 0.05, _optics(annular(0.5, 0.8), kernel_tolerance=tolerance), periodic=True)
    abbe = aerial_image(t, 0.05, _optics(annular(0.5, 0.8), method="abbe"), periodic=True)
    assert np.max(np.abs(socs - abbe)) <= tolerance


@pytest.mark.parametrize("step", [0.1, 0.04])  # Gram route, then TCC route
def test_eigenvalues_sum_to_the_trace_and_rebuild_the_tcc(step):
    optics = _optics(dipole(0.5, 0.3), zernike={8: 0.05}, source_step_sigma=step, kernel_tolerance=0.0)
    shape, pixel_um = (24, 24), 0.05
    k = socs_kernels(optics, shape, pixel_um)
    plan = band_plan(optics, shape, pixel_um, LAM)
    index, fy, fx = band_frequencies(plan, NA * (1 + optics.sigma_max) / (LAM * 1e-3))
    sx, sy, w = optics.source.points(optics.source_step_sigma)
    b = _pupil_columns(optics, LAM, fy, fx, sy * NA / (LAM * 1e-3), sx * NA / (LAM * 1e-3), np.sqrt(w))
    tcc = b @ b.conj().T
    assert k.eigenvalues.sum() == pytest.approx(np.trace(tcc).real, rel=1e-12)
    assert k.trace == pytest.approx(np.trace(tcc).real, rel=1e-12)
    phi = k.kernels.reshape(k.kept, -1)[:, index]
    rebuilt = (phi.T * k.eigenvalues[:k.kept]) @ phi.conj()
    np.testing.assert_allclose(rebuilt, tcc, atol=1e-10)
    # the clear field is TCC(0, 0) = 1
    zero = np.flatnonzero((fy == 0) & (fx == 0))[0]
    assert tcc[zero, zero].real == pytest.approx(1.0, abs=1e-12)


# A truncated kernel set is not exactly band-limited to the image band: on the image-band
# grid (socs_image_band) its dropped tail aliases by ~1e-6 of the clear field (far below its
# truncation error), so the symmetries hold to that; on the default grid, with every kernel
# kept, or by Abbe they hold exactly.
@pytest.mark.parametrize("method,tolerance,image_band,atol", [("abbe", 1e-3, False, 1e-12),
                                                              ("socs", 1e-3, False, 1e-12),
                                                              ("socs", 0.0, True, 1e-11),
                                                              ("socs", 1e-3, True, 3e-5)])
@pytest.mark.parametrize("source", [conventional(0.6), annular(0.4, 0.8), quadrupole(0.6, 0.2)])
def test_mirror_transpose_and_shift_symmetry(source, method, tolerance, image_band, atol):
    t = _random_mask((40, 40), seed=5, fill=0.4)
    optics = _optics(source, method=method, kernel_tolerance=tolerance, socs_image_band=image_band)
    image = aerial_image(t, 0.05, optics, periodic=True)
    np.testing.assert_allclose(aerial_image(t[:, ::-1], 0.05, optics, periodic=True), image[:, ::-1], atol=atol)
    np.testing.assert_allclose(aerial_image(t[::-1], 0.05, optics, periodic=True), image[::-1], atol=atol)
    np.testing.assert_allclose(aerial_image(t.T, 0.05, optics, periodic=True), image.T, atol=atol)
    np.testing.assert_allclose(aerial_image(np.roll(t, (3, -5), (0, 1)), 0.05, optics, periodic=True),
                               np.roll(image, (3, -5), (0, 1)), atol=atol)


def test_through_focus_symmetry_of_a_binary_mask():
    """Without aberrations a real mask images the same at +z and −z (Mack §3.4)."""
    t = np.kron(_random_mask((8, 8), seed=6), np.ones((6, 6)))  # 0.3 µm blocks, resolved
    plus, minus = aerial_series(t, 0.05, _optics(annular(0.3, 0.7)), defocus_um=[0.5, -0.5], periodic=True)
    np.testing.assert_allclose(plus, minus, atol=1e-12)
    focus = aerial_image(t, 0.05, _optics(annular(0.3, 0.7)), periodic=True)
    assert np.max(np.abs(plus - focus)) > 1e-2


def test_focus_series_equals_single_images():
    t = _random_mask((32, 32), seed=7)
    series = aerial_series(t, 0.05, _optics(), defocus_um=[0.0, 0.5], guard_um=1.0)
    for image, z in zip(series, (0.0, 0.5)):
        np.testing.assert_allclose(image, aerial_image(t, 0.05, _optics(defocus_um=z), guard_um=1.0), atol=1e-12)


@pytest.mark.parametrize("method", ["socs", "abbe"])
def test_unit_cell_equals_the_same_region_of_a_large_periodic_array(method):
    """The band-limited evaluation is exact on any grid: one period equals any period of
    a 7 × 7 array computed whole (different field grids, same samples)."""
    pixel_um, cell = 0.05, 30  # 1.5 µm pitch
    unit = np.zeros((cell, cell))
    unit[6:24, 9:21] = 1.0
    optics = _optics(annular(0.4, 0.8), kernel_tolerance=0.0, method=method)
    periodic = aerial_image(unit, pixel_um, optics, periodic=True)
    whole = aerial_image(np.tile(unit, (7, 7)), pixel_um, optics, periodic=True)
    for i, j in ((0, 0), (3, 3), (6, 2)):
        np.testing.assert_allclose(whole[i * cell:(i + 1) * cell, j * cell:(j + 1) * cell], periodic, atol=1e-10)


def test_unit_cell_approximates_the_middle_of_a_finite_array():
    """An isolated 13 × 13 array: its middle cell, 9 µm from the array border, matches the
    infinite array to 1 % of the clear field. The residue is physical, not numerical: a
    sharp pupil's coherent point-spread amplitude decays only as r^(-3/2) (Airy), so the
    border of a bright array still reaches ~12 λ/NA inwards."""
    pixel_um, cell = 0.05, 30
    unit = np.zeros((cell, cell))
    unit[6:24, 9:21] = 1.0
    optics = _optics(conventional(0.6))
    periodic = aerial_image(unit, pixel_um, optics, periodic=True)
    whole = aerial_image(np.tile(unit, (13, 13)), pixel_um, optics)
    middle = whole[6 * cell:7 * cell, 6 * cell:7 * cell]
    np.testing.assert_allclose(middle, periodic, atol=1e-2)


def test_kernel_cache_returns_the_same_object_and_disk_cache_round_trips(tmp_path):
    from litho.optics import clear_caches

    optics = _optics(annular(0.5, 0.8), kernel_cache_dir=str(tmp_path))
    first = socs_kernels(optics, (32, 32), 0.05)
    assert socs_kernels(optics, (32, 32), 0.05) is first
    assert len(list(tmp_path.glob("socs-*.npz"))) == 1
    clear_caches()
    loaded = socs_kernels(optics, (32, 32), 0.05)
    assert loaded is not first
    np.testing.assert_array_equal(loaded.kernels, first.kernels)
    np.testing.assert_array_equal(loaded.eigenvalues, first.eigenvalues)


def test_spatial_kernel_of_a_coherent_system_is_the_airy_amplitude():
    """σ = 0: one kernel, the pupil; in space the Airy amplitude 2J1(v)/v, v = 2πNA r/λ (Goodman §4.4)."""
    from scipy.special import j1

    n, pixel_um = 1024, 0.02
    k = socs_kernels(_optics(conventional(0.0)), (n, n), pixel_um)
    assert k.kept == 1
    h = k.spatial(0)
    c = n // 2
    h = h / h[c, c]
    r = (np.arange(1, 30)) * pixel_um
    v = 2 * np.pi * NA * r / (LAM * 1e-3)
    # the pupil is sampled on the grid's frequencies (14 bins across its radius): 2e-3
    np.testing.assert_allclose(h[c, c + 1:c + 30].real, 2 * j1(v) / v, atol=2e-3)


def test_single_precision_fields_stay_within_1e_5_of_double():
    """DESIGN.md §3: float32 only where the error stays below 1e-5 of the clear field."""
    from litho.optics import ProximityOptics

    t = np.kron(_random_mask((12, 12), seed=8), np.ones((8, 8)))
    for make in (lambda p: _optics(annular(0.5, 0.8), precision=p),
                 lambda p: ProximityOptics(wavelength_nm=365, gap_um=5, collimation_half_angle_deg=2,
                                           direction_rings=1, precision=p)):
        double = aerial_image(t, 0.05, make("double"), periodic=True)
        single = aerial_image(t, 0.05, make("single"), periodic=True)
        assert single.dtype == np.float64
        assert np.max(np.abs(single - double)) < 1e-5


def test_truncation_keeps_degenerate_kernels_together_so_symmetry_survives():
    """x- and y-partners share an eigenvalue; dropping one of a pair would break the mirror symmetry."""
    t = np.kron(_random_mask((6, 6), seed=0), np.ones((4, 4)))
    optics = ProjectionOptics(wavelength_nm=LAM, na=NA, sigma=0.3515625, source_step_sigma=0.2,
                              kernel_tolerance=1e-3)
    k = socs_kernels(optics, t.shape, 0.05)
    assert k.eigenvalues[k.kept] < k.eigenvalues[k.kept - 1] * (1 - 1e-8)
    # on the wide plan (twice the field band) a truncated set images without aliasing, so the
    # symmetry is exact there; the image-band grid aliases the dropped tail by ~1e-5
    from litho.optics.kernels import socs_intensity
    from litho.optics.window import MaskSpectrum

    plan = band_plan(optics, t.shape, 0.05, LAM, narrow=False)

    def image_of(mask):
        return plan.interpolate(socs_intensity(k, plan, MaskSpectrum(mask, 0.05).box(plan), True))

    image = image_of(t)
    np.testing.assert_allclose(image_of(t[:, ::-1]), image[:, ::-1], atol=1e-12)
    np.testing.assert_allclose(image_of(t.T), image.T, atol=1e-12)


def _manhattan(n, pixel_um, seed=7):
    """Random rectangles on a periodic window (a generic Manhattan layout)."""
    return manhattan_mask(n, pixel_um, 8, (0.15, 0.4 * n * pixel_um), seed)


@pytest.mark.parametrize("source", [conventional(0.6), annular(0.5, 0.8)], ids=["conventional", "annular"])
def test_cell_averaged_source_quadrature_is_within_1e_3_at_step_0_02_and_by_default(source):
    """Against Abbe's sum over a source 2.5 times finer than 0.02σ (its own error ~1e-4,
    benchmarks/bench_accuracy.py): plain step 0.02σ and the default (1/32 σ extrapolated with
    1/16 σ) are within 1e-3 of the clear field, where plain 1/32 σ and 0.05σ (the former
    default) are not as close; the coarse-vs-fine estimates track the true errors."""
    from litho.optics.projection import source_accuracy

    t = _manhattan(128, 0.02)
    make = functools.partial(ProjectionOptics, wavelength_nm=LAM, na=NA, source=source)
    ref = aerial_image(t, 0.02, make(method="abbe", source_step_sigma=0.008, source_extrapolation=False),
                       periodic=True)

    def error_of(optics):
        return float(np.max(np.abs(aerial_image(t, 0.02, optics, periodic=True) - ref)))

    fine = make(source_step_sigma=0.02, source_extrapolation=False)
    default = make()
    assert default.source_step_sigma == 1 / 32 and default.extrapolates()
    fine_error, default_error = error_of(fine), error_of(default)
    assert fine_error <= 1e-3 and default_error <= 1e-3
    plain = [error_of(make(method="abbe", source_step_sigma=h, source_extrapolation=False)) for h in (1 / 32, 0.05)]
    assert default_error < plain[0] < plain[1] <= 3e-3
    for optics, error in ((fine, fine_error), (default, default_error)):
        estimate = source_accuracy(optics, t, 0.02)
        assert error / 3 <= estimate <= 3 * error + 1e-4


def test_extrapolated_image_is_the_two_steps_combined_and_never_negative():
    from litho.optics.projection import SOURCE_ORDER

    t = _manhattan(64, 0.02)
    optics = ProjectionOptics(wavelength_nm=LAM, na=NA, source=annular(0.5, 0.8), method="abbe")
    fine = aerial_image(t, 0.02, optics.fine_source_optics(), periodic=True)
    coarse = aerial_image(t, 0.02, optics.coarse_source_optics(), periodic=True)
    c = 1 / (2 ** SOURCE_ORDER - 1)
    np.testing.assert_allclose(aerial_image(t, 0.02, optics, periodic=True),
                               np.maximum(fine + c * (fine - coarse), 0), atol=1e-12)
    assert optics.coarse_source_optics().source_step_sigma == 2 * optics.source_step_sigma
    # the band (and the coarsest pitch) holds both images' sources
    assert optics.sigma_max >= max(optics.fine_source_optics().sigma_max, optics.coarse_source_optics().sigma_max)
    # nothing to extrapolate: a coherent point, the incoherent limit, a step whose double is > 0.25σ
    assert not ProjectionOptics(wavelength_nm=LAM, na=NA, sigma=0).extrapolates()
    assert not ProjectionOptics(wavelength_nm=LAM, na=NA, source="incoherent").extrapolates()
    assert not ProjectionOptics(wavelength_nm=LAM, na=NA, sigma=0.6, source_step_sigma=0.2).extrapolates()


# ------------------------------------------------------------------ speed paths (issue 10 item 8)


def test_leading_eigenvectors_match_the_full_decomposition():
    import scipy.linalg

    from litho.optics.kernels import _kept_eigenvalues, _leading_eigenvectors

    rng = np.random.default_rng(3)
    b = rng.normal(size=(60, 40))
    matrix = b @ b.T  # rank 40, like a TCC on more frequencies than source points
    evals, kept = _kept_eigenvalues(matrix, 1e-2)
    full_vals, full_vecs = scipy.linalg.eigh(matrix)
    np.testing.assert_allclose(evals, np.clip(full_vals[::-1], 0, None), atol=1e-9)
    assert 1 <= kept < 40
    vecs = _leading_eigenvectors(matrix, kept)
    ref = full_vecs[:, ::-1][:, :kept]
    # same vectors up to sign
    np.testing.assert_allclose(np.abs(np.sum(vecs * ref, axis=0)), 1.0, atol=1e-9)


def _plain_abbe(t, pixel_um, optics):
    """Abbe's sum over every source point on the wide plan, no demodulation (the earlier route)."""
    import math

    from litho.optics.kernels import cell_pupil, source_cell_per_um, sum_field_intensities
    from litho.optics.window import MaskSpectrum

    spec = MaskSpectrum(t, pixel_um)
    plan = band_plan(optics, t.shape, pixel_um, LAM, narrow=False)
    box = spec.box(plan)
    fy, fx = plan.fy_per_um[:, None], plan.fx_per_um[None, :]
    sx, sy, w = optics.source.points(optics.source_step_sigma)
    cell = source_cell_per_um(optics, LAM)
    lam_um = LAM * 1e-3
    px, py = sx * NA / lam_um, sy * NA / lam_um
    clear = float(np.sum(w * np.abs(cell_pupil(optics, LAM, py, px, cell)) ** 2))
    band = NA * (1 + optics.sigma_max) / lam_um
    inside = fy * fy + fx * fx <= band * band * (1 + 1e-12)
    fields = (box * np.where(inside, cell_pupil(optics, LAM, fy + ay, fx + ax, cell), 0)
              * math.sqrt(wi / clear) * plan.field_scale for ax, ay, wi in zip(px, py, w))
    return plan.interpolate(sum_field_intensities(plan, fields))


@pytest.mark.parametrize("source,defocus_um", [(annular(0.5, 0.8), 0.0), (dipole(0.5, 0.3), 0.3)])
def test_demodulated_half_source_abbe_equals_the_plain_sum(source, defocus_um):
    # the narrow image grid, one FFT per ±s pair (in focus) and the per-point demodulation are exact
    t = _random_mask((48, 40), seed=11)
    optics = _optics(source, method="abbe", defocus_um=defocus_um).fine_source_optics()   # one quadrature
    assert band_plan(optics, t.shape, 0.05, LAM).field_shape < band_plan(optics, t.shape, 0.05, LAM,
                                                                         narrow=False).field_shape
    image = aerial_image(t, 0.05, optics, periodic=True)
    np.testing.assert_allclose(image, _plain_abbe(t, 0.05, optics), atol=1e-12, rtol=0)


def test_socs_on_the_narrow_grid_equals_the_wide_grid_with_every_kernel():
    from litho.optics.kernels import socs_intensity
    from litho.optics.window import MaskSpectrum

    t = _random_mask((64, 64), seed=2)
    optics = _optics(annular(0.5, 0.8), kernel_tolerance=0.0)
    k = socs_kernels(optics, t.shape, 0.05)
    images = []
    for narrow in (True, False):
        plan = band_plan(optics, t.shape, 0.05, LAM, narrow=narrow)
        images.append(plan.interpolate(socs_intensity(k, plan, MaskSpectrum(t, 0.05).box(plan), True)))
    np.testing.assert_allclose(images[0], images[1], atol=1e-12, rtol=0)


def test_auto_method_rents_abbe_then_builds_kernels():
    from litho.optics import clear_caches
    from litho.optics.projection import choose_method, predicted_build_over_abbe

    clear_caches()
    t = _random_mask((32, 32), seed=4)
    optics = _optics(conventional(0.6), method="auto", source_step_sigma=0.2)
    assert choose_method(optics, t.shape, 0.05, LAM) == "abbe"       # nothing spent, nothing built
    first = aerial_image(t, 0.05, optics, periodic=True)
    np.testing.assert_allclose(first, aerial_image(t, 0.05, _optics(conventional(0.6), method="abbe",
                                                                       source_step_sigma=0.2), periodic=True),
                               atol=1e-12)
    ratio = predicted_build_over_abbe(optics, t.shape, 0.05, LAM)
    assert ratio > 0
    for _ in range(int(np.ceil(ratio)) + 1):
        aerial_image(t, 0.05, optics, periodic=True)
    assert choose_method(optics, t.shape, 0.05, LAM) == "socs"        # rent spent: kernels built and cached
    socs = aerial_image(t, 0.05, optics, periodic=True)
    assert np.max(np.abs(socs - first)) <= 1e-3


def test_the_reported_source_estimate_tracks_the_true_error_on_its_probe():
    """The shipped projection recipe's optics (NA 0.3, σ 0.6) at its 0.05 µm pitch: the estimate a
    report states (probe of λ/NA cells) is within 1e-3 and within a factor 2 of the probe's
    true error against a 0.008σ Abbe sum."""
    import litho
    from conftest import RECIPES
    from litho.optics.projection import probe_mask
    from litho.optics.proximity import probe_pitch_um

    optics = litho.load_recipe(RECIPES / "projection_stripe_3000ppi_365nm.toml").steps[0].exposure.optics
    estimate = optics.directions_accuracy(0.05)
    pitch = probe_pitch_um(0.05)
    t = probe_mask(optics, pitch)
    ref = aerial_image(t, pitch, dataclasses.replace(optics, method="abbe", source_step_sigma=0.008,
                                                     source_extrapolation=False), periodic=True)
    error = float(np.max(np.abs(aerial_image(t, pitch, optics, periodic=True) - ref)))
    assert estimate <= 1e-3 and error / 2 <= estimate <= 2 * error
