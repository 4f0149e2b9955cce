"""Film depth optics: absorption of film and crosslinker, depth sampling, reflection."""

import numpy as np
import pytest

from litho import film as film_optics
from litho import materials


def film(**over):
    return materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 30, **over})


def ebt(loading=5):
    return materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": loading})


def test_crosslinker_adds_its_absorption():
    f = film()
    assert film_optics.absorption_coefficient_per_nm(f, ebt(10), 254) > film_optics.absorption_coefficient_per_nm(
        f, ebt(1), 254) > film_optics.absorption_coefficient_per_nm(f, None, 254) == pytest.approx(1 / 60)


def test_depth_samples_include_top_and_bottom_and_follow_absorption():
    f = film(thickness_nm=40)
    z_weak = film_optics.depth_samples_nm(f, [1 / 500])
    z_strong = film_optics.depth_samples_nm(f, [1 / 20])
    assert z_weak[0] == 0 and z_weak[-1] == 40 and z_strong[-1] == 40
    assert film_optics.MIN_DEPTH_SAMPLES <= len(z_weak) < len(z_strong) <= film_optics.MAX_DEPTH_SAMPLES
    assert film_optics.depth_weights(z_strong).sum() == pytest.approx(1.0)


def test_beer_lambert_profile_with_substrate_reflection():
    f = film(substrate_reflectance=0.5)
    z = np.array([0.0, 30.0])
    alpha = film_optics.absorption_coefficient_per_nm(f, ebt(), 254)
    t_in = 1 - film_optics.top_reflectance(f)
    profile = film_optics.relative_fluence(f, ebt(), 254, z)
    assert profile[0] == pytest.approx(t_in * (1 + 0.5 * np.exp(-2 * alpha * 30)))
    assert profile[1] == pytest.approx(t_in * 1.5 * np.exp(-alpha * 30))
    # a reflecting substrate brings light back to the bottom
    assert profile[1] > film_optics.relative_fluence(film(substrate_reflectance=0.0), ebt(), 254, z)[1]


def test_transfer_matrix_shows_standing_waves_on_a_mirror():
    f = film(thickness_nm=200, depth_model="transfer-matrix", substrate_index=[0.1, 3.0])   # Ag-like
    z = np.linspace(0, 200, 401)
    profile = film_optics.relative_fluence(f, None, 405, z)
    # period λ/(2n) ≈ 109 nm: at least one deep minimum and maximum inside the film
    assert profile.max() > 2 * profile.min()
    assert film_optics.depth_samples_nm(f, [1 / 260], [405]).size == film_optics.MAX_DEPTH_SAMPLES


@pytest.mark.parametrize("over", [{"substrate_reflectance": 0.3}, {"substrate_reflectance": 0.0},
                                  {"depth_model": "transfer-matrix", "substrate_index": [0.1, 3.0]}])
def test_down_and_up_passes_add_up_to_the_fluence(over):
    f = film(**over)
    z = np.linspace(0, 30, 7)
    down, up = film_optics.fluence_components(f, ebt(), 254, z)
    np.testing.assert_allclose(down + up, film_optics.relative_fluence(f, ebt(), 254, z), rtol=1e-12)
    alpha = film_optics.absorption_coefficient_per_nm(f, ebt(), 254)
    # the downward wave alone decays as e^{-αz} from what enters the film
    np.testing.assert_allclose(down / down[0], np.exp(-alpha * z), rtol=1e-12)
    assert (np.abs(up) < 1e-15).all() == (over.get("substrate_reflectance") == 0.0)
