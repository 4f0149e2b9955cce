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
    raw = dict(litho.load_recipe(RGB).raw)
    raw = {k: v for k, v in raw.items() if k != "step"}
    raw["exposure"] = dict(raw["exposure"], gap=f"{gap_um} um")
    raw["mask"] = dict(raw["mask"], layer="R")
    return litho.recipe_from_dict(raw, base_dir=RECIPES)


def test_proximity_min_line_agrees_with_the_mask_aligner_rule_of_thumb():
    # b_min ≈ 1.5·sqrt(λ(g + h/2)) (PHYSICS.md §2): the simulated answer is of that size
    recipe = _with_gap(3)
    result = min_feature(recipe, "line-space")
    rule = rule_of_thumb_um(recipe.steps[0])
    assert rule / 1.5 < result.size_um < rule * 1.5
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
    out = tmp_path / "mf"
    assert main(["min-feature", str(RGB), "--feature", "line-space,pixel-array", "-o", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "ppi" in stdout
    report = json.loads((out / "min_feature.json").read_text())
    assert [f["feature"] for f in report["features"]] == ["line-space", "pixel-array"]
    assert (out / "min_feature.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, named", [
    (["--feature", "lines"], "line-space"),
    (["--step", "X"], "R, G, B"),
    (["--gap-um", "0"], "gap"),
])
def test_min_feature_bad_input_is_one_line(tmp_path, capsys, argv, named):
    out = tmp_path / "mf"
    assert main(["min-feature", str(RGB), "-o", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not out.exists()
