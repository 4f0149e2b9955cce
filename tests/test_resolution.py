import json
import math

import pytest

import litho
from litho.cli import main
from litho.resolution import min_feature, rule_of_thumb_um
from conftest import RECIPES

RGB = RECIPES / "rgb_stripe_1000ppi.toml"
PROJECTION = RECIPES / "projection_stripe_3000ppi_365nm.toml"


def _with_gap(gap_um):
    """The RGB recipe's R step at ``gap_um``, with a fixed one-ring cone rule: these tests are about
    the search and the Fresnel scaling, and the default rule is sized once per trial pitch."""
    raw = dict(litho.load_recipe(RGB).raw)
    raw = {k: v for k, v in raw.items() if k != "step"}
    raw["exposure"] = dict(raw["exposure"], gap=f"{gap_um} um", direction_rings=1)
    raw["mask"] = dict(raw["mask"], layer="R")
    return litho.recipe_from_dict(raw, base_dir=RECIPES)


def test_proximity_min_line_agrees_with_the_mask_aligner_rule_of_thumb():
    # b_min ≈ 1.5·sqrt(λ(g + h/2)) (PHYSICS.md §2): the simulated answer is of that size
    recipe = _with_gap(3)
    result = min_feature(recipe, "line-space")
    rule = rule_of_thumb_um(recipe.steps[0])
    # within the resolution tolerance a lab accepts (×2, DOMAIN.md §3): the rule's prefactor 1.5 stands
    # for a high-contrast resist; the library's chemistry (γ ≈ 2) prints a little coarser
    assert rule / 2 < result.size_um < rule * 2
    # the answer is bracketed: a size just below it fails
    failing = [t.size_um for t in result.trials if not t.prints]
    assert failing and max(s for s in failing if s < result.size_um) > result.size_um / 1.2


def test_a_larger_gap_needs_larger_features():
    small = min_feature(_with_gap(2), "line-space").size_um
    large = min_feature(_with_gap(12), "line-space").size_um
    assert large > small * 1.5
    # Fresnel scaling: b ∝ sqrt(g) roughly
    assert large / small == pytest.approx(math.sqrt(12 / 2), rel=0.5)


def test_projection_lines_stay_above_the_incoherent_cut_off():
    # Below half-pitch λ / (2 NA (1 + σ)) no first order passes the pupil: the image is flat.
    recipe = litho.load_recipe(PROJECTION)
    optics = recipe.steps[0].exposure.optics
    cut_off_um = 0.365 / (2 * optics.na * (1 + 0.6))
    result = min_feature(recipe, "line-space")
    assert cut_off_um < result.size_um < 3 * cut_off_um


def test_pixel_array_reports_ppi_from_the_pitch():
    result = min_feature(_with_gap(3), "pixel-array", gap_um=1.0)
    assert result.ppi == pytest.approx(25400 / result.size_um)
    assert result.size_um > 3 * 1.0  # a stripe subpixel p/3 − g must have room
    assert 1000 < result.ppi < 10000


def test_min_feature_command_writes_json_and_plot(tmp_path, capsys):
    # the shipped RGB recipe with a fixed one-ring cone rule and a coarse scan: this tests what the
    # command writes (the search itself is tested below and in benchmarks/bench_minfeature.py)
    text = RGB.read_text().replace("[exposure]\n", "[exposure]\ndirection_rings = 1\n", 1)
    text = text.replace('file = "../masks/', f'file = "{(RGB.parent.parent / "masks").as_posix()}/')
    recipe = tmp_path / "rgb.toml"
    recipe.write_text(text)
    out = tmp_path / "mf"
    assert main(["min-feature", str(recipe), "--feature", "line-space,pixel-array", "--points-per-decade", "6",
                 "-o", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "ppi" in stdout
    report = json.loads((out / "min_feature.json").read_text())
    assert [f["feature"] for f in report["features"]] == ["line-space", "pixel-array"]
    assert (out / "min_feature.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, named", [
    (["--feature", "lines"], "line-space"),
    (["--step", "X"], "R, G, B"),
    (["--subpixel-gap-um", "0"], "gap"),
    (["--scheduler", "somewhere"], "Dask scheduler address"),
])
def test_min_feature_bad_input_is_one_line(tmp_path, capsys, argv, named):
    out = tmp_path / "mf"
    assert main(["min-feature", str(RGB), "-o", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not out.exists()


def _synthetic(prints):
    from litho.resolution import Trial

    return lambda size: Trial(size, prints(size), "prints" if prints(size) else "fails", None, None, None)


def test_scan_finds_the_threshold_above_a_narrow_failing_island():
    from litho.resolution import scan_sizes

    # prints on 1-1.5 um, and from 2 um except a 4%-wide island 2.60-2.70 um
    scan = scan_sizes(_synthetic(lambda s: 1.0 <= s < 1.5 or (s >= 2.0 and not 2.60 <= s < 2.70)), 0.5, 10.0)
    assert scan.size_um == pytest.approx(2.70, rel=0.01)
    assert not scan.at_search_floor
    assert scan.smallest_printing_um == pytest.approx(1.0, rel=0.01)
    assert any(a < 1.1 and b > 1.4 for a, b in scan.printing_islands)
    assert any(2.55 < a <= b < 2.75 for a, b in scan.non_printing_islands)


def test_scan_extends_until_its_top_prints_and_says_when_everything_prints():
    from litho.resolution import scan_sizes

    late = scan_sizes(_synthetic(lambda s: s > 30.0), 0.5, 5.0)
    assert late.size_um == pytest.approx(30.0, rel=0.01)
    everything = scan_sizes(_synthetic(lambda s: True), 0.5, 5.0)
    assert everything.at_search_floor and everything.size_um == pytest.approx(0.05)
    nothing = scan_sizes(_synthetic(lambda s: False), 0.5, 5.0)
    assert nothing.size_um is None and nothing.smallest_printing_um is None


def test_proximity_at_a_large_gap_reports_the_size_above_which_everything_prints():
    # At a 40 um gap line printing is not monotone in width: widths around 5-6 um
    # fail between widths that print. The answer has no failing size above it.
    recipe = _with_gap(40)
    result = min_feature(recipe, "line-space", size_range_um=(4.0, 8.0), points_per_decade=4)
    trials = sorted(result.trials, key=lambda t: t.size_um)
    assert result.size_um is not None
    assert all(t.prints for t in trials if t.size_um >= result.size_um)
    failing_above_a_print = [t.size_um for t in trials if not t.prints and t.size_um > result.smallest_printing_um]
    assert failing_above_a_print and result.non_printing_islands
    # the last failure is just below the answer (a refined transition)
    assert max(failing_above_a_print) > result.size_um / 1.02
    assert 6.5 < result.size_um < 8.0     # the threshold of the shipped library (a dense scan: 7.26-7.27 um)
    # a larger gap never reports a smaller threshold than a smaller one
    assert result.size_um > min_feature(_with_gap(20), "line-space").size_um


def test_centre_nrt_just_below_the_threshold_is_a_fail_but_float_rounding_is_not():
    from litho.spec import Criteria, pixel_failure

    pixel = {"missing": False, "bridged": False, "cd_x_um": 10.0, "design_cd_x_um": 10.0,
             "cd_y_um": 10.0, "design_cd_y_um": 10.0, "centre_nrt": 0.7996}
    assert "h/h0" in pixel_failure(pixel, Criteria(min_nrt=0.8))
    assert pixel_failure({**pixel, "centre_nrt": 0.8 - 1e-15}, Criteria(min_nrt=0.8)) == ""
    assert pixel_failure(pixel, Criteria(min_nrt=0.79)) == ""
    good = {**pixel, "centre_nrt": 0.9}
    assert pixel_failure({**good, "cd_x_um": 11.0 + 1e-12}, Criteria(cd_tol=0.1)) == ""
    assert "CD x" in pixel_failure({**good, "cd_x_um": 11.01}, Criteria(cd_tol=0.1))


def test_min_feature_and_sweep_share_one_in_spec_rule():
    import inspect

    from litho import resolution, sweep

    assert "field_failure" in inspect.getsource(resolution.judge)
    assert "field_failure" in inspect.getsource(sweep.step_rows)


def test_one_off_projection_windows_are_imaged_by_abbe_and_agree_with_exact_kernels(monkeypatch):
    """Each size is its own grid, imaged once: Abbe's sum, no kernel build. All kernels equal Abbe."""
    import dataclasses

    from litho.resolution import evaluate, one_off_optics

    recipe = litho.load_recipe(PROJECTION)
    optics = recipe.steps[0].exposure.optics
    assert one_off_optics(optics).method == "abbe"
    proximity = litho.load_recipe(RECIPES / "rgb_stripe_1000ppi.toml").steps[0].exposure.optics
    assert dataclasses.replace(one_off_optics(proximity), cone_rule_tolerance=None) == proximity  # only the rule
    size = 1.0
    abbe = evaluate(recipe, 0, "line-space", size)
    exact = dataclasses.replace(optics, kernel_tolerance=0.0)
    step = dataclasses.replace(recipe.steps[0], exposure=dataclasses.replace(recipe.steps[0].exposure, optics=exact))
    kernels_recipe = dataclasses.replace(recipe, steps=(step, *recipe.steps[1:]))
    monkeypatch.setattr("litho.resolution.one_off_optics", lambda o: o)   # the kernel route
    socs = evaluate(kernels_recipe, 0, "line-space", size)
    assert abbe.simulated and abbe.prints == socs.prints
    assert abbe.cd_x_um == pytest.approx(socs.cd_x_um, abs=1e-6)
    assert abbe.centre_nrt == pytest.approx(socs.centre_nrt, abs=1e-6)


def test_proximity_trials_size_the_cone_rule_for_the_search_tolerance_and_report_it():
    from litho.optics import ProximityOptics
    from litho.resolution import SEARCH_CONE_TOLERANCE, evaluate, one_off_optics

    optics = ProximityOptics(wavelength_nm=365, gap_um=3, collimation_half_angle_deg=1.5)
    assert one_off_optics(optics).cone_rule_tolerance == SEARCH_CONE_TOLERANCE
    chosen = ProximityOptics(wavelength_nm=365, gap_um=3, collimation_half_angle_deg=1.5, cone_rule_tolerance=1e-3)
    assert one_off_optics(chosen).cone_rule_tolerance == 1e-3     # a recipe's own choice stays
    trial = evaluate(litho.load_recipe(RGB), 0, "line-space", 3.0)
    assert trial.simulated and 0 < trial.quadrature_error_estimate <= SEARCH_CONE_TOLERANCE


def test_a_scan_run_in_parallel_tries_the_same_sizes_in_the_same_order():
    """Coarse sizes, verification bands and separate transitions are independent tasks; the trials,
    their order and the answer are those of the scan run one size after another."""
    import threading
    import time
    from litho.parallel import map_tasks
    from litho.resolution import scan_sizes

    threads = set()

    def prints(s):
        threads.add(threading.get_ident())
        time.sleep(0.002)   # long enough for both workers to take tasks
        return 1.0 <= s < 1.5 or (s >= 2.0 and not 2.60 <= s < 2.70)

    one = scan_sizes(_synthetic(prints), 0.5, 10.0)
    both = scan_sizes(_synthetic(prints), 0.5, 10.0,
                      map_tasks=lambda fn, items: map_tasks(fn, items, scheduler="threads", workers=2))
    assert [t.size_um for t in both.trials] == [t.size_um for t in one.trials]
    assert both == one and len(threads) > 1


def test_min_feature_gives_the_same_answer_and_file_on_threads_and_one_by_one():
    from litho.report import result_file

    recipe = _with_gap(10)
    runs = [min_feature(recipe, "square", size_range_um=(2.0, 6.0), points_per_decade=4, scheduler=s)
            for s in ("sync", None)]
    assert json.dumps(result_file(runs[0].as_dict())) == json.dumps(result_file(runs[1].as_dict()))
