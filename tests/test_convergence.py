"""The convergence check: CD at the run's pitch and at half of it, differing by the grid alone."""

from __future__ import annotations

import numpy as np

import litho
from litho import convergence
from litho.optics import ProximityOptics


def test_holding_the_cone_rule_keeps_the_directions_of_the_run_pitch():
    optics = ProximityOptics(wavelength_nm=365, gap_um=3, collimation_half_angle_deg=1.5)
    held = optics.holding_cone_rule(0.25)
    for a, b in zip(held.directions(0.125), optics.directions(0.25)):
        np.testing.assert_array_equal(a, b)
    assert held.directions_accuracy(0.125) == optics.directions_accuracy(0.25)
    assert held.holding_cone_rule(0.5) is held     # an explicit choice stays


def test_half_pitch_run_uses_the_cone_rule_of_the_run(write_recipe, monkeypatch):
    seen = []
    original = convergence._cd

    def spy(step, layer, polygons, index, grid, recipe, overlay_um):
        seen.append((grid.pixel_um, step.exposure.optics.cone_rule_pixel_um))
        return original(step, layer, polygons, index, grid, recipe, overlay_um)

    monkeypatch.setattr(convergence, "_cd", spy)
    result = litho.simulate(litho.load_recipe(write_recipe()), check_convergence=True)
    assert sorted(seen) == [(0.1, 0.2), (0.2, 0.2)]
    (step,) = result.convergence["steps"]
    assert step["checked"] and step["half_pixel_um"] == 0.1
    # the estimate is 2|CD(p) - CD(p/2)| of the two runs above
    assert step["error_estimate_um"][0] == 2 * abs(step["cd_um"][0] - step["cd_half_pitch_um"][0])


def test_the_held_rule_is_not_a_setting_in_the_report(write_recipe):
    """cone_rule_pixel_um is the check's pin, not a tool setting: report.json's optics block omits it."""
    from litho.report import build_report

    result = litho.simulate(litho.load_recipe(write_recipe()))
    optics = build_report(result)["steps"][0]["exposure"]["optics"]
    assert "cone_rule_pixel_um" not in optics and "cone_rule_tolerance" in optics
    assert "cone_rule_pixel_um" not in repr(ProximityOptics(wavelength_nm=365, gap_um=3).holding_cone_rule(0.25))
