"""The search of litho.optimization on analytic responses: known optima over dose, gap and loading.

Each point's metrics come from a closed-form function of its settings in
place of a simulation, so the two-level search (dose on a shared image,
the other axes on a Dask-mapped grid then Nelder-Mead or Brent) is checked
against an optimum known exactly, in milliseconds.
"""

from __future__ import annotations

import pytest

import litho
from litho.optimization import Constraints, Evaluator, Plan, optimize

PROXIMITY = {'tool = "contact"': 'tool = "proximity"\ngap = "5 um"'}
RANGES = {"exposure.dose": (100, 500), "exposure.gap": (3, 12), "crosslinker.loading_wt_pct": (1, 4)}


def _analytic(peak_gap_um: float, bridge_below_gap_um: float | None = None):
    """A ``Evaluator.rows`` whose IoU peaks at dose 310, ``peak_gap_um`` and loading 2.5 wt%."""

    def rows(self, values):
        key = self.optics_key(values)
        if key != self._optics_key:
            self._optics_key = key
            self.images += 1
        self.evaluations += 1
        point = dict(zip((r.name for r in self.ranges), values))
        dose, gap, loading = (point.get(k, 300.0) for k in ("exposure.dose_mj_cm2", "exposure.gap_um",
                                                             "crosslinker.loading_wt_pct"))
        iou = 1 - ((dose - 310) / 300) ** 2 - ((gap - peak_gap_um) / 10) ** 2 - ((loading - 2.5) / 5) ** 2
        cd = 0.004 * (dose - 310) + 0.05 * (gap - peak_gap_um)
        bridged = bridge_below_gap_um is not None and gap < bridge_below_gap_um
        return [{"step": "R", "iou_mean": iou, "cd_x_error_mean_um": cd, "cd_y_error_mean_um": 0.5 * cd,
                 "missing_pixels": 0, "bridges": int(bridged), "plqy_retention_mean_in_print": 0.9,
                 "design_cd_x_um": 6.0, "in_spec": abs(cd) < 0.6 and not bridged}]

    return rows


@pytest.fixture
def proximity(write_recipe):
    return litho.load_recipe(write_recipe(**PROXIMITY))


def test_three_axes_find_the_analytic_peak_with_few_images(proximity, monkeypatch):
    monkeypatch.setattr(Evaluator, "rows", _analytic(peak_gap_um=6.5))
    result = optimize(proximity, RANGES, "iou", plan=Plan(resolution=0.005, profile_points=5))
    best = result.optimum
    assert best["exposure.dose_mj_cm2"] == pytest.approx(310, abs=4)
    assert best["exposure.gap_um"] == pytest.approx(6.5, abs=0.3)
    assert best["crosslinker.loading_wt_pct"] == pytest.approx(2.5, abs=0.15)
    # the dose is searched on one image per optics setting
    assert result.images * 5 < result.evaluations
    assert any("Nelder-Mead" in step for step in result.report["search"]["method"])


def test_a_bridging_constraint_moves_the_optimum_to_its_edge(proximity, monkeypatch):
    """IoU would peak at a 4 um gap, but gaps below 5 um bridge: the optimum is the smallest clean gap."""
    monkeypatch.setattr(Evaluator, "rows", _analytic(peak_gap_um=4.0, bridge_below_gap_um=5.0))
    ranges = {k: RANGES[k] for k in ("exposure.dose", "exposure.gap")}
    result = optimize(proximity, ranges, "iou", plan=Plan(resolution=0.005, profile_points=5))
    assert result.constraints["bridges"]["ok"]
    assert 5.0 <= result.optimum["exposure.gap_um"] < 5.0 + 0.02 * 9
    assert result.optimum["exposure.dose_mj_cm2"] == pytest.approx(310, abs=4)
    allowed = optimize(proximity, ranges, "iou", Constraints(allow_bridges=True),
                       plan=Plan(resolution=0.005, profile_points=5))
    assert allowed.optimum["exposure.gap_um"] == pytest.approx(4.0, abs=0.3)


def test_window_is_the_in_spec_dose_range_at_the_best_gap(proximity, monkeypatch):
    """|CD| < 0.6 um in spec: the dose window is 300 mJ/cm^2 wide, centred where the CD error is zero."""
    monkeypatch.setattr(Evaluator, "rows", _analytic(peak_gap_um=6.5))
    ranges = {"exposure.dose": (50, 600), "exposure.gap": (3, 12)}
    result = optimize(proximity, ranges, "window", plan=Plan(resolution=0.002, profile_points=5))
    window = result.report["window"]
    assert window["dose_max"] - window["dose_min"] == pytest.approx(300, abs=3)
    gap = result.optimum["exposure.gap_um"]
    assert result.optimum["exposure.dose_mj_cm2"] == pytest.approx(310 - 12.5 * (gap - 6.5), abs=2)
    # a window in % of its centre dose is widest at the smallest centre dose: the largest gap
    assert gap == pytest.approx(12, abs=0.1)
