"""litho.optics API: construction, validation, sources, pupil, windows, metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from litho.errors import LithoInputError
from litho.optics import (NAMED_SPECTRA, ProjectionOptics, ProximityOptics, aerial_image, annular, conventional,
                          dipole, from_exposure, image_log_slope, nils_at_edges, parse_spectrum, quadrupole,
                          source_map, spectral_images)
from litho.optics.pupil import noll_to_nm, pupil, zernike


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs,names", [
    (dict(wavelength_nm=365, na=1.0), "na"),
    (dict(wavelength_nm=365, na=1.3), "na"),
    (dict(wavelength_nm=365, na=0), "na"),
    (dict(wavelength_nm=365, na=0.5, sigma=1.2), "sigma"),
    (dict(wavelength_nm=365, na=0.5, sigma=-0.1), "sigma"),
    (dict(wavelength_nm=365, na=0.5, zernike={0: 0.1}), "zernike"),
    (dict(wavelength_nm=365, na=0.5, zernike={232: 0.1}), "zernike"),
    (dict(wavelength_nm=365, na=0.5, zernike={"x": 0.1}), "zernike"),
    (dict(wavelength_nm=365, na=0.5, source=np.ones((3, 4))), "source"),
    (dict(wavelength_nm=365, na=0.5, source=np.ones(5)), "source"),
    (dict(wavelength_nm=365, na=0.5, source=-np.ones((5, 5))), "source"),
    (dict(wavelength_nm=365, na=0.5, source="ring"), "source"),
    (dict(wavelength_nm=365, na=0.5, sigma=0.5, source=annular(0.2, 0.4)), "sigma"),
    (dict(wavelength_nm=365, na=0.5, spectrum={365: -1, 405: 2}), "spectrum"),
    (dict(na=0.5), "wavelength_nm"),
    (dict(wavelength_nm=50, na=0.5), "wavelength_nm"),
    (dict(wavelength_nm=365, na=0.5, kernel_tolerance=-1e-3), "kernel_tolerance"),
    (dict(wavelength_nm=365, na=0.5, method="magic"), "method"),
])
def test_projection_bad_input_names_the_argument(kwargs, names):
    with pytest.raises(ValueError, match=names) as info:
        ProjectionOptics(**kwargs)
    assert isinstance(info.value, LithoInputError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs,names", [
    (dict(wavelength_nm=365, gap_um=-1), "gap_um"),
    (dict(wavelength_nm=365, gap_um=math.nan), "gap_um"),
    (dict(wavelength_nm=365, gap_um="ten"), "gap_um"),
    (dict(wavelength_nm=365, collimation_half_angle_deg=45), "collimation_half_angle_deg"),
    (dict(wavelength_nm=365, angular_profile="tophat"), "angular_profile"),
    (dict(spectrum={365: -0.5, 405: 1.0}), "spectrum"),
    (dict(spectrum={365: 0.0, 405: 0.0}), "spectrum"),
    (dict(spectrum=[]), "spectrum"),
    (dict(spectrum="sodium"), "spectrum"),
    (dict(spectrum=[(365, 1, 2)]), "spectrum"),
    (dict(wavelength_nm=365, spectrum="hg-broadband"), "wavelength_nm or spectrum"),
    (dict(), "wavelength_nm"),
    (dict(wavelength_nm=365, gap_index=0.5), "gap_index"),
    (dict(wavelength_nm=365, direction_rings=2.5), "direction_rings"),
])
def test_proximity_bad_input_names_the_argument(kwargs, names):
    with pytest.raises(ValueError, match=names) as info:
        ProximityOptics(**kwargs)
    assert isinstance(info.value, LithoInputError)


def test_source_shapes_refuse_bad_radii():
    with pytest.raises(ValueError, match="sigma_in"):
        annular(0.8, 0.5)
    with pytest.raises(ValueError, match="sigma_out"):
        annular(0.2, 1.5)
    with pytest.raises(ValueError, match="inside the pupil"):
        dipole(0.9, 0.3)
    with pytest.raises(ValueError, match="sigma"):
        conventional(2)


def test_grid_too_coarse_is_refused_with_the_pitch_needed():
    optics = ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.8)
    # the band is set by the outermost sampled source point of either image of the extrapolation:
    # σ_max 0.822 on the 1/16 σ grid of the default 1/32 σ
    with pytest.raises(ValueError, match=r"pixel_um = 0.2 .* σ_max 0.822.* needs pixel_um < 0.1002"):
        aerial_image(np.ones((8, 8)), 0.2, optics)
    prox = ProximityOptics(wavelength_nm=365, gap_um=2)
    with pytest.raises(ValueError, match=r"Fresnel length .* needs pixel_um <= 0.21"):
        aerial_image(np.ones((8, 8)), 0.25, prox)
    # contact printing has no propagation, so any pitch is fine
    aerial_image(np.ones((8, 8)), 5.0, ProximityOptics(wavelength_nm=365, gap_um=0))


@pytest.mark.parametrize("bad", [np.ones(5), np.ones((2, 2, 2)), np.array([[np.nan, 1.0]])])
def test_bad_transmission_is_refused(bad):
    with pytest.raises(ValueError, match="transmission"):
        aerial_image(bad, 0.1, ProximityOptics(wavelength_nm=365, gap_um=1))


def test_bad_pixel_is_refused():
    with pytest.raises(ValueError, match="pixel_um"):
        aerial_image(np.ones((4, 4)), -0.1, ProximityOptics(wavelength_nm=365))


# ----------------------------------------------------------------------------- from_exposure


def test_from_exposure_builds_each_tool():
    contact = from_exposure({"tool": "contact", "wavelength_nm": 254, "collimation_half_angle_deg": 1.5})
    # contact prints at the effective gap of its mode (hard contact by default)
    assert isinstance(contact, ProximityOptics) and contact.contact_mode == "hard"
    assert contact.gap_um == pytest.approx((1.5 / 1.5) ** 2 / 0.365)
    prox = from_exposure({"tool": "proximity", "spectrum": "hg-broadband", "gap_um": 20, "gap_medium": "N2"})
    assert [w for w, _ in prox.lines] == [365.0, 405.0, 436.0]
    assert prox.gap_index == pytest.approx(1.000298)
    proj = from_exposure({"tool": "projection", "wavelength_nm": 365, "na": 0.5, "source": "annular",
                          "sigma_in": 0.5, "sigma_out": 0.8, "zernike": {"9": 0.02}, "defocus_um": 0.2})
    assert proj.source.shape == "annular" and proj.zernike == ((9, 0.02),)
    table = from_exposure({"tool": "projection", "wavelength_nm": 365, "na": 0.5,
                           "source": {"shape": "quadrupole", "sigma_centre": 0.6, "sigma_radius": 0.2}})
    assert table.source.shape == "quadrupole"
    assert from_exposure({"tool": "projection", "wavelength_nm": 365, "na": 0.4, "sigma": 0.3}).sigma == 0.3


def test_from_exposure_reads_a_source_map_file(tmp_path):
    np.save(tmp_path / "pupilfill.npy", np.eye(9) + np.eye(9)[::-1])
    recipe = tmp_path / "recipe.toml"
    optics = from_exposure({"tool": "projection", "wavelength_nm": 365, "na": 0.5, "source": "pupilfill.npy"},
                           str(recipe))
    assert optics.source.shape == "map"


@pytest.mark.parametrize("table,message", [
    ({"tool": "stepper"}, r"exposure.tool = 'stepper': must be one of contact, proximity, projection"),
    ({"tool": "proximity", "wavelength_nm": 365, "na": 0.5}, r"unknown key\(s\) na .* accepted: tool, "),
    ({"tool": "projection", "wavelength_nm": 365, "gap_um": 5}, r"unknown key\(s\) gap_um"),
    ({"tool": "proximity", "wavelength_nm": 365, "gap_um": -3}, r"r.toml: exposure.gap_um = -3"),
    ({"tool": "projection", "wavelength_nm": 365, "na": 1.2}, r"r.toml: exposure.na = 1.2"),
    ({"tool": "projection", "wavelength_nm": 365, "na": 0.5, "sigma": 1.5}, r"exposure.sigma = 1.5"),
    ({"tool": "proximity", "spectrum": {"365": -1}}, r"exposure.spectrum"),
    ({"tool": "proximity", "wavelength_nm": 365, "gap_medium": "argon gas"}, r"exposure.gap_medium"),
    ({"tool": "projection", "wavelength_nm": 365, "na": 0.5, "source": "annular"}, r"sigma_in, sigma_out"),
])
def test_from_exposure_errors_name_file_and_field(table, message):
    with pytest.raises(LithoInputError, match=message):
        from_exposure(table, "r.toml")


# ----------------------------------------------------------------------------- spectra, sources, pupil


def test_parse_spectrum_normalises_and_merges():
    assert parse_spectrum({"365 nm": 2, 405: 1, "436": 1}) == ((365.0, 0.5), (405.0, 0.25), (436.0, 0.25))
    assert parse_spectrum([(405, 1), (405, 1), (365, 0)]) == ((405.0, 1.0),)
    for name in NAMED_SPECTRA:
        assert sum(w for _, w in parse_spectrum(name)) == pytest.approx(1.0)


def test_lines_weights_sum_to_one():
    assert ProximityOptics(wavelength_nm=365).lines == ((365.0, 1.0),)
    lines = ProximityOptics(spectrum={365: 3, 436: 1}, gap_um=10).lines
    assert lines == ((365.0, 0.75), (436.0, 0.25))


def test_spectral_images_one_per_line_and_aerial_image_is_their_weighted_sum():
    t = np.zeros((64, 64))
    t[20:44, 16:48] = 1
    optics = ProximityOptics(spectrum="hg-broadband", gap_um=10, collimation_half_angle_deg=1)
    images = spectral_images(t, 0.2, optics)
    assert [im.wavelength_nm for im in images] == [365.0, 405.0, 436.0]
    total = sum(im.weight * im.intensity for im in images)
    np.testing.assert_allclose(aerial_image(t, 0.2, optics), total, atol=1e-14)
    # a longer wavelength diffracts more: its image of the opening is softer
    assert images[0].intensity.max() != pytest.approx(images[2].intensity.max())


@pytest.mark.parametrize("source", [conventional(0.5), annular(0.3, 0.9), dipole(0.5, 0.2, 90), quadrupole(0.6, 0.3)])
def test_source_points_are_symmetric_and_weights_sum_to_one(source):
    sx, sy, w = source.points(0.05)
    assert w.sum() == pytest.approx(1.0) and np.all(w > 0)
    assert np.hypot(sx, sy).max() <= source.sigma_max + 0.05
    key = {(round(a, 9), round(b, 9)): c for a, b, c in zip(sx, sy, w)}
    for a, b, c in zip(sx, sy, w):
        assert key[(round(-a, 9), round(-b, 9))] == pytest.approx(c)


def test_source_area_matches_the_shape():
    sx, sy, w = annular(0.5, 0.8).points(0.02)
    # weights are normalised, so check the covered area via the unnormalised cell count
    area = len(w) * 0.02**2 * (w / w.max()).mean()
    assert area == pytest.approx(math.pi * (0.8**2 - 0.5**2), rel=0.02)


def test_source_map_from_an_image_file(tmp_path):
    import matplotlib.pyplot as plt

    img = np.zeros((16, 16))
    img[2:5, 7:9] = 1  # near σy = -1 + ... in the image's top rows
    plt.imsave(tmp_path / "src.png", img, cmap="gray")
    source = source_map(tmp_path / "src.png")
    sx, sy, w = source.points()
    assert w.sum() == pytest.approx(1.0)
    assert np.all(sy > 0)  # the image's top rows are +σy


def test_noll_indices_follow_noll_1976():
    assert [noll_to_nm(j) for j in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)] == [
        (0, 0), (1, 1), (1, -1), (2, 0), (2, -2), (2, 2), (3, -1), (3, 1), (3, -3), (3, 3), (4, 0)]


def test_zernike_polynomials_are_orthonormal_over_the_disc():
    n = 400
    c = (np.arange(n) + 0.5) / n * 2 - 1
    x, y = np.meshgrid(c, c)
    rho, theta = np.hypot(x, y), np.arctan2(y, x)
    inside = rho <= 1
    zs = np.array([zernike(j, rho[inside], theta[inside]) for j in range(1, 16)])
    gram = zs @ zs.T / inside.sum()
    np.testing.assert_allclose(gram, np.eye(15), atol=2e-2)


def test_defocus_pupil_is_non_paraxial_and_reduces_to_the_paraxial_phase():
    lam_nm, z = 365.0, 0.2
    f = np.array([0.05, 0.1])
    phase = np.angle(pupil(np.zeros(2), f, lam_nm, 0.5, defocus_um=z))
    lam = lam_nm * 1e-3
    exact = 2 * np.pi * z * (np.sqrt(1 / lam**2 - f**2) - 1 / lam)
    np.testing.assert_allclose(phase, exact, atol=1e-12)
    np.testing.assert_allclose(phase, -np.pi * z * lam * f**2, rtol=1e-3)  # paraxial limit
    assert pupil(np.zeros(1), np.array([1.4]), lam_nm, 0.5)[0] == 0  # beyond NA/λ = 1.37


# ----------------------------------------------------------------------------- windows, metrics


def test_isolated_window_pads_with_an_opaque_guard_and_crops_back():
    t = np.ones((20, 30))
    optics = ProximityOptics(wavelength_nm=365, gap_um=5)
    image = aerial_image(t, 0.1, optics)
    assert image.shape == t.shape
    # an isolated clear window is an aperture: its edges are dark-ish, its middle bright
    assert image[10, 15] > 0.5 and image[0, 0] < 0.5
    assert optics.blur_length_um >= 8 * math.sqrt(0.365 * 5)
    periodic = aerial_image(t, 0.1, optics, periodic=True)
    np.testing.assert_allclose(periodic, 1.0, atol=1e-12)


def test_image_log_slope_and_nils_of_a_known_profile():
    pixel_um = 0.01
    x = (np.arange(400) + 0.5) * pixel_um
    intensity = np.repeat((1 / (1 + np.exp(-(x - 2.0) / 0.1)))[None, :], 8, axis=0)  # logistic edge at 2 µm
    ils = image_log_slope(intensity, pixel_um)
    # d ln I / dx of a logistic = (1 − I)/0.1: 5 /µm at its midpoint
    j = np.argmin(np.abs(x - 2.0))
    assert ils[4, j] == pytest.approx((1 - intensity[4, j]) / 0.1, rel=1e-3)
    nils = nils_at_edges(intensity, pixel_um, [(2.0, 0.04)], cd_um=1.0, normals=[(1.0, 0.0)])
    assert nils[0] == pytest.approx(5.0, rel=1e-3)


def test_nils_from_a_shapely_polygon():
    shapely = pytest.importorskip("shapely")
    pixel_um = 0.05
    optics = ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.5, source_step_sigma=0.1)
    t = np.zeros((80, 80))
    t[30:50, 30:50] = 1.0
    image = aerial_image(t, pixel_um, optics, periodic=True)
    square = shapely.box(1.5, 1.5, 2.5, 2.5)
    nils = nils_at_edges(image, pixel_um, square, cd_um=1.0)
    assert nils.size >= 80 and np.all(nils > 1.0)


# ----------------------------------------------------------------------------- properties

from hypothesis import given, settings, strategies as st  # noqa: E402

_masks = st.integers(0, 2**32 - 1).map(lambda seed: np.kron(
    (np.random.default_rng(seed).random((6, 6)) > 0.5).astype(float), np.ones((4, 4))))


@settings(max_examples=12, deadline=None)
@given(mask=_masks, gap_um=st.floats(0.5, 40), angle=st.floats(0, 3))
def test_proximity_image_is_non_negative_and_bounded_by_energy(mask, gap_um, angle):
    optics = ProximityOptics(wavelength_nm=405, gap_um=gap_um, collimation_half_angle_deg=angle, direction_rings=1)
    image = aerial_image(mask, 0.05, optics, periodic=True)
    assert image.min() >= -1e-12
    assert image.mean() <= mask.mean() + 1e-12  # propagation loses only evanescent energy


@settings(max_examples=12, deadline=None)
@given(mask=_masks, sigma=st.floats(0, 1), defocus=st.floats(-0.5, 0.5))
def test_projection_image_is_non_negative_and_mirror_symmetric(mask, sigma, defocus):
    optics = ProjectionOptics(wavelength_nm=365, na=0.5, sigma=sigma, defocus_um=defocus, source_step_sigma=0.2)
    image = aerial_image(mask, 0.05, optics, periodic=True)
    assert image.min() >= -1e-12
    np.testing.assert_allclose(aerial_image(mask[:, ::-1], 0.05, optics, periodic=True), image[:, ::-1],
                               atol=1e-9)


def test_edge_slope_summary_of_a_projected_square():
    shapely = pytest.importorskip("shapely")
    from litho.grid import Grid
    from litho.optics import edge_slope_summary

    grid = Grid((80, 80), 0.05, (0.0, 0.0))
    t = np.zeros(grid.shape)
    t[30:50, 30:50] = 1.0
    image = aerial_image(t, grid.pixel_um, ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.5,
                                                            source_step_sigma=0.1), periodic=True)
    summary = edge_slope_summary(image, grid, [shapely.box(1.5, 1.5, 2.5, 2.5)])
    assert summary["points"] >= 80
    assert summary["nils_min"] > 1.0
    assert summary["ils_mean_per_um"] == pytest.approx(summary["nils_mean"] / 1.0)
    assert edge_slope_summary(image, grid, [])["nils_mean"] is None


def test_source_extrapolation_must_be_a_boolean(tmp_path):
    from litho.errors import LithoInputError

    with pytest.raises(LithoInputError, match=r"source_extrapolation = 'yes': give true or false"):
        ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.6, source_extrapolation="yes")
    off = ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.6, source_extrapolation=False)
    assert not off.extrapolates() and off.coarse_source_optics() is None
