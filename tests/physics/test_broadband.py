"""A broadband lamp: each line acts through the crosslinker's absorption at that line."""

import numpy as np

import litho
from litho.development import develop
from conftest import RECIPES


def test_a_line_the_crosslinker_does_not_absorb_adds_nothing():
    # Aryl diazirines do not absorb the Hg g-line (436 nm): an i+h+g exposure
    # develops exactly like its i+h part alone.
    step = litho.load_recipe(RECIPES / "tristad_inp_365nm_air.toml").steps[0]
    dose = np.geomspace(10, 1000, 25)
    args = (step.film, step.crosslinker, step.developer, step.exposure.atmosphere)
    with_g = develop([(365.0, 0.40 * dose), (405.0, 0.25 * dose), (436.0, 0.35 * dose)], *args)
    without_g = develop([(365.0, 0.40 * dose), (405.0, 0.25 * dose)], *args)
    np.testing.assert_allclose(with_g.remaining_thickness, without_g.remaining_thickness, atol=1e-12)


def test_broadband_recipe_loads_and_needs_more_dose_than_the_i_line():
    recipe = litho.load_recipe(RECIPES / "tristad_inp_365nm_air.toml")
    raw = dict(recipe.raw)
    exposure = {k: v for k, v in raw["exposure"].items() if k != "wavelength"}
    broadband = litho.recipe_from_dict({**raw, "exposure": {**exposure, "spectrum": "hg-broadband"}},
                                       base_dir=RECIPES)
    assert [w for w, _ in broadband.steps[0].exposure.optics.lines] == [365.0, 405.0, 436.0]
    s_i, s_b = recipe.steps[0], broadband.steps[0]
    d50_i = litho.contrast_curve(s_i.film, s_i.crosslinker, s_i.developer, s_i.exposure.atmosphere,
                                 s_i.exposure.optics.lines).d50
    d50_b = litho.contrast_curve(s_b.film, s_b.crosslinker, s_b.developer, s_b.exposure.atmosphere,
                                 s_b.exposure.optics.lines).d50
    assert d50_b > 1.3 * d50_i
