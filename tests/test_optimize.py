"""litho optimize: known optima, constraints, bad input and determinism on the small contact print."""

from __future__ import annotations

import json

import numpy as np
import pytest

import litho
from litho.cli import main
from litho.optimization import Constraints, Plan, optimize, parse_ranges
from litho.sweep import parse_vary, sweep

# coarse enough for CI: 1% of each range, 3 profile samples
FAST = Plan(resolution=0.01, profile_points=3)


def _cd_error(row) -> float:
    return max(abs(row["cd_x_error_mean_um"]), abs(row["cd_y_error_mean_um"]))


def test_cd_optimum_is_within_the_pitch_and_matches_a_fine_grid(write_recipe):
    recipe = litho.load_recipe(write_recipe())
    result = litho.optimize(recipe, {"exposure.dose": (5, 60)}, "cd", plan=FAST, scheduler="sync")
    pitch_um = recipe.simulation.pixel_um
    [row] = result.report["metrics"]
    assert abs(row["cd_x_error_mean_um"]) < pitch_um and abs(row["cd_y_error_mean_um"]) < pitch_um
    # the best point of a 5 mJ/cm^2 grid over the same range (shared image, every dose)
    grid = sweep(recipe, [parse_vary("exposure.dose=10:60:11")], scheduler="sync")["rows"]
    fine = [r for r in grid if not r["missing_pixels"] and not r["bridges"] and r["cd_x_error_mean_um"] is not None]
    best = min(fine, key=_cd_error)
    assert result.value <= _cd_error(best) + 1e-9
    assert result.optimum["exposure.dose_mj_cm2"] == pytest.approx(best["exposure.dose_mj_cm2"], abs=5.0)
    # the optimiser's evaluations are the sweep's: the same CD at a dose both computed (60 mJ/cm^2)
    [profile] = result.report["profiles"]
    [cd_x] = profile["cd_x_error_um"].values()
    at_60 = cd_x[profile["values"].index(60.0)]
    assert at_60 == pytest.approx(next(r for r in grid if r["exposure.dose_mj_cm2"] == 60.0)["cd_x_error_mean_um"], abs=1e-12)
    # the CD rises with dose through the optimum, and one image served every dose
    [sens] = result.sensitivity
    assert sens["d_cd_x_error_um"] > 0
    assert sens["within_1pct"][0] <= result.optimum["exposure.dose_mj_cm2"] <= sens["within_1pct"][1]
    assert result.images == 1 and result.evaluations < 40
    assert "cd" in repr(result) and "exposure.dose_mj_cm2=" in repr(result)


def test_plqy_optimum_sits_on_the_missing_pixel_constraint(write_recipe):
    """PLQY falls with dose, so its optimum is the lowest dose that still prints every pixel."""
    recipe = litho.load_recipe(write_recipe())
    result = optimize(recipe, {"exposure.dose": (2, 60)}, "plqy", Constraints(min_plqy=0.5), plan=FAST,
                      scheduler="sync")
    status = result.constraints
    assert status["missing_pixels"]["ok"] and status["bridges"]["ok"]
    assert status["plqy_retention_mean_in_print"]["value"] >= 0.5
    dose = result.optimum["exposure.dose_mj_cm2"]
    tol = FAST.resolution * (60 - 2)
    [below] = sweep(recipe, [parse_vary(f"exposure.dose={dose - tol}")], scheduler="sync")["rows"]
    assert below["missing_pixels"] > 0


def test_ranges_parse_and_refuse():
    [dose, gap] = parse_ranges("exposure.dose=150:450,exposure.gap=2:8")
    assert (dose.name, dose.low, dose.high, dose.images) == ("exposure.dose_mj_cm2", 150, 450, False)
    assert gap.images
    for bad in ("exposure.dose=450:150", "exposure.dose=1:2:3", "dose=1:2", "mask.file=1:2", "exposure.dose=1:inf"):
        with pytest.raises(litho.LithoInputError):
            parse_ranges(bad)


@pytest.mark.parametrize("argv, named", [
    (["--vary", "exposure.bogus=1:2", "--objective", "cd"], "bogus"),
    (["--vary", "exposure.dose=60:5", "--objective", "cd"], "LOW < HIGH"),
    (["--vary", "exposure.dose=5:60", "--objective", "sharpness"], "objective"),
    (["--vary", "exposure.dose=5:60", "--objective", "iou", "--min-plqy", "0.99"], "no feasible point"),
    (["--vary", "exposure.dose=5:60", "--objective", "cd", "--step", "Z"], "--step"),
])
def test_optimize_bad_input_is_one_line_and_writes_nothing(tmp_path, write_recipe, capsys, argv, named):
    out = tmp_path / "opt"
    try:
        code = main(["optimize", str(write_recipe()), "-o", str(out), "--resolution", "0.02",
                     "--scheduler", "sync", *argv])
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not out.exists()


def test_optimize_command_is_deterministic(tmp_path, write_recipe, capsys):
    recipe = str(write_recipe())
    argv = ["optimize", recipe, "--vary", "exposure.dose=5:60", "--objective", "window", "--resolution", "0.05",
            "--profile-points", "3", "--scheduler", "sync"]
    assert main([*argv, "-o", str(tmp_path / "a")]) == 0
    assert main([*argv, "-o", str(tmp_path / "b")]) == 0
    assert "exposure.dose" in capsys.readouterr().out
    a, b = ((tmp_path / d / "optimize.json").read_bytes() for d in "ab")
    assert a == b
    report = json.loads(a)
    window = report["window"]
    # the window objective is the in-spec dose run, its centre the optimum
    assert report["objective_value"] == pytest.approx(
        100 * (window["dose_max"] - window["dose_min"]) / (0.5 * (window["dose_max"] + window["dose_min"])))
    assert report["optimum"]["exposure.dose_mj_cm2"] == pytest.approx(0.5 * (window["dose_min"] + window["dose_max"]))
    assert all(row["in_spec"] for row in report["metrics"])
    assert (tmp_path / "a" / "optimize.png").stat().st_size > 0
    assert json.loads((tmp_path / "a" / "timing.json").read_text())["wall_time_s"] > 0
    assert np.isfinite(report["sensitivity"][0]["d_cd_x_error_um"])


def test_a_bad_output_is_refused_before_any_work(tmp_path, write_recipe, capsys, monkeypatch):
    import litho.optimization

    def forbidden(*a, **k):
        raise AssertionError("computed before checking -o")

    monkeypatch.setattr(litho.optimization, "optimize", forbidden)
    (tmp_path / "file").write_text("x")
    code = main(["optimize", str(write_recipe()), "--vary", "exposure.dose=5:60", "--objective", "cd",
                 "-o", str(tmp_path / "file" / "x")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("litho optimize: -o"), err
