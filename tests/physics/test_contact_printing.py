"""Contact printing as it happens: contact modes, light inside the film, the local-dose hand-off.

PHYSICS.md §2-§3, DOMAIN.md §3b, docs/contact_printing.md.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

import litho
from litho import materials
from litho.dose import LocalDose, depth_samples, image_depths_nm, local_dose, uniform_local_dose
from litho.errors import LithoInputError
from litho.film import fluence_components
from litho.optics import CONTACT_MODES, ProximityOptics, aerial_image, depth_images, from_exposure
from litho.optics.contact import MAX_CONTACT_GAP_UM, REFERENCE_WAVELENGTH_NM

ROOT = Path(__file__).resolve().parents[2]


def _film(**over):
    return materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 30, **over})


def _xl():
    return materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 2})


# ----------------------------------------------------------------------------- contact modes


@pytest.mark.parametrize("mode,resolution_um", [("vacuum", 1.0), ("hard", 1.5), ("soft", 2.5)])
def test_contact_modes_give_the_gap_their_documented_resolution_implies(mode, resolution_um):
    optics = from_exposure({"tool": "contact", "contact_mode": mode, "wavelength_nm": 365})
    assert optics.contact_mode == mode
    assert optics.gap_um == pytest.approx((resolution_um / 1.5) ** 2 / 0.365, rel=1e-12)
    # the rule the gap was derived from gives the documented resolution back
    assert 1.5 * math.sqrt(REFERENCE_WAVELENGTH_NM * 1e-3 * optics.gap_um) == pytest.approx(resolution_um)
    assert CONTACT_MODES[mode].source


def test_contact_modes_are_ordered_and_hard_is_the_default():
    gaps = [from_exposure({"tool": "contact", "contact_mode": m, "wavelength_nm": 254}).gap_um
            for m in ("vacuum", "hard", "soft")]
    assert gaps == sorted(gaps) and gaps[0] > 0
    default = from_exposure({"tool": "contact", "wavelength_nm": 254})
    assert default.contact_mode == "hard" and default.gap_um == gaps[1]
    assert MAX_CONTACT_GAP_UM == gaps[2]


def test_explicit_gap_in_contact_is_the_effective_gap():
    optics = from_exposure({"tool": "contact", "contact_mode": "vacuum", "wavelength_nm": 365, "gap_um": 0.8})
    assert optics.gap_um == 0.8 and optics.contact_mode == "vacuum"
    low = from_exposure({"tool": "contact", "contact_mode": "low-vacuum", "wavelength_nm": 365, "gap_um": 1.5})
    assert low.gap_um == 1.5


@pytest.mark.parametrize("table,message", [
    ({"gap_um": 10.0}, r'^recipe.toml: exposure.gap_um = 10 um with tool = "contact": .*use tool = "proximity"'),
    ({"gap_um": 0.0}, r"exposure.gap_um = 0 um .* no aligner makes a perfect contact"),
    ({"contact_mode": "low-vacuum"}, r"exposure.contact_mode = 'low-vacuum' has no documented resolution"),
    ({"contact_mode": "firm"}, r"exposure.contact_mode = 'firm': must be one of vacuum, hard, soft, low-vacuum"),
])
def test_contact_refuses_what_is_not_contact(table, message):
    with pytest.raises(LithoInputError, match=message):
        from_exposure({"tool": "contact", "wavelength_nm": 365, **table}, "recipe.toml")


def test_contact_mode_belongs_to_contact_only():
    with pytest.raises(LithoInputError, match=r"unknown key\(s\) contact_mode for tool = 'proximity'"):
        from_exposure({"tool": "proximity", "wavelength_nm": 365, "gap_um": 20, "contact_mode": "hard"})


def test_recipe_with_contact_and_a_proximity_gap_is_refused_by_the_cli(write_recipe, capsys):
    path = write_recipe(**{'tool = "contact"': 'tool = "contact"\ngap = "10 um"'})
    from litho.cli import main

    assert main(["min-feature", str(path), "--feature", "line-space", "-o", str(path.parent / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'tool = "proximity"' in err[0]


def test_absorber_thickness_adds_to_the_propagation_distance():
    t = np.zeros((4, 256))
    t[:, 64:192] = 1.0
    with_chrome = aerial_image(t, 0.05, ProximityOptics(wavelength_nm=365, gap_um=2.0, absorber_thickness_nm=100),
                               periodic=True)
    longer_gap = aerial_image(t, 0.05, ProximityOptics(wavelength_nm=365, gap_um=2.1), periodic=True)
    np.testing.assert_allclose(with_chrome, longer_gap, atol=1e-12)
    optics = from_exposure({"tool": "contact", "wavelength_nm": 365, "absorber_thickness_nm": 100})
    assert optics.propagation_gap_um == pytest.approx(CONTACT_MODES["hard"].gap_um + 0.1)


def test_shipped_contact_recipes_state_their_mode_and_print_at_a_real_gap():
    paths = [p for p in sorted((ROOT / "recipes").glob("*.toml")) if 'tool = "contact"' in p.read_text()]
    assert paths
    for path in paths:
        raw = tomllib.loads(path.read_text())
        assert raw["exposure"]["contact_mode"] in CONTACT_MODES, path.name
        optics = litho.load_recipe(path).steps[0].exposure.optics
        assert optics.gap_um == CONTACT_MODES[raw["exposure"]["contact_mode"]].gap_um > 0, path.name


# ----------------------------------------------------------------------------- light inside the film


def _cosine_grating(period_um, n_samples):
    x = (np.arange(n_samples) + 0.5) * (period_um / n_samples)
    return x, np.tile(0.5 + 0.5 * np.cos(2 * np.pi * x / period_um), (4, 1))


def test_image_inside_the_film_is_a_proximity_image_at_gap_plus_depth_over_index():
    # A cosine amplitude grating has only the orders 0 and ±1: its image at any
    # distance is known exactly, |½ + ½·e^{iφ}·cos(2πx/p)|², φ the phase the ±1
    # orders gain over the 0th in the gap and in the film.
    wavelength_nm, n_film, period_um = 365.0, 1.8, 5.0
    x, t = _cosine_grating(period_um, 200)
    optics = ProximityOptics(wavelength_nm=wavelength_nm, contact_mode="hard")
    depths = np.array([0.0, 15.0, 30.0, 200.0])
    inside = depth_images(t, period_um / 200, optics, depths, film_index=n_film, periodic=True)[0]
    lam, f, g = wavelength_nm * 1e-3, 1 / period_um, optics.gap_um
    for k, z_nm in enumerate(depths):
        z = z_nm * 1e-3
        phi = (2 * np.pi * g * (np.sqrt(1 / lam**2 - f**2) - 1 / lam)
               + 2 * np.pi * z * (np.sqrt(n_film**2 / lam**2 - f**2) - n_film / lam))
        exact = np.abs(0.5 + 0.5 * np.exp(1j * phi) * np.cos(2 * np.pi * x / period_um)) ** 2
        np.testing.assert_allclose(inside.intensity[k], exact[None, :].repeat(4, 0), atol=1e-12)
        # paraxially the film is a gap of z/n_f: equal to 1e-6 of the clear field
        proximity = aerial_image(t, period_um / 200, ProximityOptics(wavelength_nm=wavelength_nm, gap_um=g + z / n_film),
                                 periodic=True)
        np.testing.assert_allclose(inside.intensity[k], proximity, atol=1e-6)
    # and the depth does change the image (not the top image at every depth)
    assert np.abs(inside.intensity[2] - inside.intensity[0]).max() > 1e-5


def test_image_inside_the_film_is_the_angular_spectrum_with_the_film_index():
    # A sharp binary line carries frequencies where the paraxial picture fails;
    # the exact statement is the film's transfer function exp(i2πz√(n²/λ² − f²)).
    lam_um, n_film, pixel_um, gap_um, z_um = 0.254, 1.85, 0.05, 1.2, 0.03
    t = np.zeros((4, 256))
    t[:, 64:192] = 1.0
    optics = ProximityOptics(wavelength_nm=254, contact_mode="vacuum", gap_um=gap_um)
    mine = depth_images(t, pixel_um, optics, [z_um * 1e3], film_index=n_film, periodic=True)[0].intensity[0]
    fy = np.fft.fftfreq(4, pixel_um)[:, None]
    fx = np.fft.fftfreq(256, pixel_um)[None, :]
    rho2 = fx**2 + fy**2
    h = (np.exp(2j * np.pi * gap_um * np.sqrt((1 / lam_um**2 - rho2).astype(complex)))
         * np.exp(2j * np.pi * z_um * np.sqrt((n_film**2 / lam_um**2 - rho2).astype(complex))))
    direct = np.abs(np.fft.ifft2(np.fft.fft2(t) * h)) ** 2
    np.testing.assert_allclose(mine, direct, atol=1e-9)


def test_clear_mask_gives_one_at_every_depth():
    optics = ProximityOptics(spectrum="hg-broadband", contact_mode="soft", collimation_half_angle_deg=1.5)
    for im in depth_images(np.ones((16, 16)), 0.25, optics, [0, 20, 40, 60], film_index=1.8, periodic=True):
        np.testing.assert_allclose(im.intensity, 1.0, atol=1e-12)


# ----------------------------------------------------------------------------- local dose hand-off


@pytest.mark.parametrize("over", [{}, {"substrate_reflectance": 0.0},
                                  {"depth_model": "transfer-matrix", "substrate_index": [0.2, 3.5]}])
def test_open_frame_local_dose_is_the_incident_dose_times_the_depth_profile(over):
    film, xl = _film(**over), _xl()
    z = depth_samples(film, xl, [254.0])
    optics = ProximityOptics(wavelength_nm=254, contact_mode="hard", collimation_half_angle_deg=1.5)
    inside = depth_images(np.ones((8, 8)), 0.2, optics, image_depths_nm(film, z), film_index=film.refractive_index,
                          periodic=True)
    local = local_dose(inside, film, xl, 12.0, z)
    plain = uniform_local_dose([(254.0, np.full((8, 8), 12.0))], film, xl)
    assert isinstance(local, LocalDose)
    np.testing.assert_allclose(local.depth_nm, plain.depth_nm)
    np.testing.assert_allclose(local.lines[0][1], plain.lines[0][1], rtol=1e-12)
    down, up = fluence_components(film, xl, 254.0, z)
    assert (up == 0).all() == (over.get("substrate_reflectance") == 0.0)


def test_reflected_light_carries_the_image_of_its_longer_path():
    film, xl = _film(substrate_reflectance=0.5), _xl()
    t = np.zeros((4, 256))
    t[:, 64:192] = 1.0
    z = depth_samples(film, xl, [254.0])
    paths = image_depths_nm(film, z)
    assert paths.size == 2 * z.size - 1 and paths.max() == pytest.approx(2 * film.thickness_nm)
    optics = ProximityOptics(wavelength_nm=254, contact_mode="vacuum")
    inside = depth_images(t, 0.05, optics, paths, film_index=film.refractive_index, periodic=True)
    local = local_dose(inside, film, xl, 10.0, z)
    down, up = fluence_components(film, xl, 254.0, z)
    h = film.thickness_nm
    for k, zk in enumerate(z):
        expected = 10.0 * (down[k] * inside[0].at_depth(zk) + up[k] * inside[0].at_depth(2 * h - zk))
        np.testing.assert_allclose(local.lines[0][1][k], expected, rtol=1e-12)
    # the bottom gets less light than the top, and a different image
    assert local.lines[0][1][-1].max() < local.lines[0][1][0].max()


def test_develop_takes_the_local_dose_or_a_top_of_film_dose_alike():
    from litho.development import develop

    film, xl = _film(), _xl()
    dev = materials.resolve("developer", {"material": "toluene"})
    doses = np.geomspace(0.3, 300, 7)
    plain = develop([(254.0, doses)], film, xl, dev, "N2")
    local = develop(uniform_local_dose([(254.0, doses)], film, xl), film, xl, dev, "N2")
    np.testing.assert_array_equal(plain.remaining_thickness, local.remaining_thickness)
    with pytest.raises(LithoInputError, match="do not match"):
        bad = uniform_local_dose([(254.0, doses)], film, xl)
        develop(LocalDose(bad.lines, bad.depth_nm[:-1], bad.depth_weights[:-1]), film, xl, dev, "N2")


# ----------------------------------------------------------------------------- resolution


def test_min_feature_grows_with_the_effective_gap_as_the_fresnel_length(write_recipe):
    """min feature ∝ √(λ(g + h/n_f)) across the contact modes and two explicit gaps (within ×1.5).

    A fixed two-ring cone quadrature (25 directions): the scaling does not need the default
    rule's 1e-3 accuracy, whose probe estimate per trial pitch would dominate the search.
    """
    from litho.resolution import min_feature

    ratios = {}
    for label, lines in [("vacuum", 'contact_mode = "vacuum"'), ("hard", 'contact_mode = "hard"'),
                         ("soft", 'contact_mode = "soft"'), ("0.5 um", 'gap = "0.5 um"'),
                         ("5 um", 'gap = "5 um"')]:
        path = write_recipe(**{'tool = "contact"': f'tool = "contact"\n{lines}\ndirection_rings = 2',
                               'dose = "20 mJ/cm^2"': 'dose = "16 mJ/cm^2"'},   # open-frame NRT 0.95
                               name=f"r{len(ratios)}.toml")
        recipe = litho.load_recipe(path)
        step = recipe.steps[0]
        size = min_feature(recipe, "line-space").size_um
        fresnel = math.sqrt(0.254 * (step.exposure.optics.gap_um + 1e-3 * step.film.thickness_nm
                                     / step.film.refractive_index))
        ratios[label] = size / fresnel
    assert max(ratios.values()) / min(ratios.values()) < 1.5, ratios
    # and it is a resolution a mask aligner has, not the search floor
    assert all(1.0 < r < 10.0 for r in ratios.values()), ratios


def test_depth_image_of_a_projection_is_the_top_image_at_every_depth():
    from litho.optics import ProjectionOptics, spectral_images

    t = np.zeros((32, 32))
    t[8:24, 8:24] = 1.0
    optics = ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.0)
    top = spectral_images(t, 0.1, optics, periodic=True)[0].intensity
    inside = depth_images(t, 0.1, optics, [0, 15, 30], film_index=1.8, periodic=True)[0]
    assert inside.intensity.shape == (3, 32, 32)
    for k in range(3):
        np.testing.assert_array_equal(inside.intensity[k], top)


def test_message_names_contact_mode_when_the_grid_is_too_coarse():
    optics = ProximityOptics(wavelength_nm=254, contact_mode="vacuum")
    with pytest.raises(LithoInputError, match=re.escape("too coarse for vacuum contact")):
        aerial_image(np.ones((8, 8)), 0.5, optics)


def test_depth_images_equal_one_image_per_depth_with_collimation_and_broadband():
    # the shared pass over directions gives what imaging each depth on its own gives
    t = np.zeros((48, 48))
    t[12:36, 16:30] = 1.0
    optics = ProximityOptics(spectrum="hg-broadband", contact_mode="hard", collimation_half_angle_deg=2.0,
                             direction_rings=2, absorber_thickness_nm=100)
    depths = [0.0, 20.0, 40.0, 80.0]
    inside = depth_images(t, 0.2, optics, depths, film_index=1.9)
    for k, z in enumerate(depths):
        alone = litho.optics.spectral_images(t, 0.2, ProximityOptics(
            spectrum="hg-broadband", contact_mode="hard", collimation_half_angle_deg=2.0, direction_rings=2,
            absorber_thickness_nm=100, film_depth_um=z * 1e-3, film_index=1.9), guard_um=optics.blur_length_um)
        for im, ref in zip(inside, alone):
            np.testing.assert_allclose(im.intensity[k], ref.intensity, atol=1e-12)


def test_a_contact_mode_that_is_no_name_is_shown_as_written():
    # regression: a TOML date (or list) as contact_mode was echoed as datetime.date(...) / raised TypeError
    import datetime

    from litho.errors import LithoInputError
    from litho.optics.contact import contact_mode

    for bad in (datetime.date(1979, 5, 27), ["hard"], 3):
        with pytest.raises(LithoInputError) as err:
            contact_mode(bad)
        assert "datetime" not in str(err.value) and "must be one of" in str(err.value)


@pytest.mark.parametrize("depths_um", [
    [0.0, 0.01, 0.03],          # a power no depth asks for (dz·2) is formed in a spare array
    [0.03, 0.0, 0.01, 0.01],    # unordered, and one depth twice
    [0.0, 0.013, 0.029],        # not whole multiples of one step: an exponential per depth
])
def test_depth_images_equal_one_image_per_depth_for_any_layout_of_depths(depths_um):
    """depth_intensities (one batch, powers of the step factor written in place) against
    line_intensity of the optics at each depth, one at a time."""
    import dataclasses

    from litho.optics.window import MaskSpectrum

    optics = ProximityOptics(wavelength_nm=365, gap_um=3.0, collimation_half_angle_deg=1.5)
    # odd sides: every frequency has its negative (no Nyquist bin to split), so the
    # plain full-grid sum below is the exact reference
    t = np.zeros((47, 41))
    t[10:30, 8:20] = 1.0
    t[5:9, 25:38] = 1.0   # no symmetry: every direction is imaged
    spectrum = MaskSpectrum(t, 0.25)
    images = optics.depth_intensities(spectrum, 365, depths_um, 1.9)
    for z, image in zip(depths_um, images):
        one = dataclasses.replace(optics, film_depth_um=z, film_index=1.9)
        # the depth sums use the deepest path's cone rule; give each single image that rule
        deepest = dataclasses.replace(optics, film_depth_um=max(depths_um), film_index=1.9)
        sx, sy, w = deepest.directions(0.25)
        reference = np.zeros_like(image)
        lam_um = 0.365
        f = (np.fft.fftfreq(47, 0.25), np.fft.fftfreq(41, 0.25))
        spec = np.fft.fft2(t)
        for ax, ay, wi in zip(sx / lam_um, sy / lam_um, w):
            u = np.fft.ifft2(spec * one.transfer(f[0] + ay, f[1] + ax, 365))
            reference += wi * np.abs(u) ** 2
        np.testing.assert_allclose(image, reference, atol=1e-12)
