"""report.json: schema, names, rounding, paths, summary (litho.report, litho.schema)."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest

from litho.report import SCHEMA_VERSION, normalised_path, rounded, unit_keys
from litho.schema import load_report_schema, validate_report
from report_runs import run


@pytest.fixture(scope="module", params=["one step", "two steps"])
def written(request):
    out, result = run(request.param)
    return json.loads((out / "report.json").read_text()), result


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(load_report_schema())


def test_every_written_report_follows_the_schema(written):
    report, _ = written
    validate_report(report)
    assert report["schema_version"] == SCHEMA_VERSION


def test_schema_refuses_a_unitless_spectrum_and_an_unknown_metric(written):
    report, _ = written
    bad = json.loads(json.dumps(report))
    bad["steps"][0]["crosslinker"]["epsilon_per_arm_by_wavelength"] = [[365, 500]]
    with pytest.raises(jsonschema.ValidationError):
        validate_report(bad)
    bad = json.loads(json.dumps(report))
    bad["steps"][0]["metrics"]["epe_max_um"] = 0.1
    with pytest.raises(jsonschema.ValidationError):
        validate_report(bad)


def test_summary_has_the_headline_numbers_of_every_step(written):
    report, result = written
    assert list(report["summary"]) == [s.name for s in result.steps]
    for step in report["steps"]:
        row = report["summary"][step["name"]]
        assert row["pixels"] == step["metrics"]["designed_pixels"] == len(step["pixels"])
        assert row["iou_mean"] == step["metrics"]["iou_mean"]
        assert row["plqy_retention_mean_in_print"] == step["plqy_retention_mean_in_print"]


def test_one_name_per_quantity_between_pixels_and_metrics(written):
    report, _ = written
    for step in report["steps"]:
        pixels = [p for p in step["pixels"] if not p["missing"]]
        assert step["metrics"]["epe_max_abs_um"] == pytest.approx(max(p["epe_max_abs_um"] for p in pixels), rel=1e-5)
        assert all(p["epe_max_abs_um"] >= 0 for p in pixels)
        assert step["metrics"]["centre_nrt_min"] == pytest.approx(min(p["centre_nrt"] for p in pixels), rel=1e-5)
        mean = sum(p["pixel_nrt"] for p in pixels) / len(pixels)
        assert step["metrics"]["pixel_nrt_mean"] == pytest.approx(mean, rel=1e-5)


def _floats(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _floats(v)
    elif isinstance(value, list):
        for v in value:
            yield from _floats(v)


def test_every_float_has_at_most_six_significant_digits(written):
    report, _ = written
    floats = list(_floats(report))
    assert len(floats) > 100
    assert all(float(f"{v:.6g}") == v for v in floats if math.isfinite(v))


def test_rounding_keeps_six_significant_digits():
    assert rounded({"a": [4.2330000000000005, 1.23456789e-9]}) == {"a": [4.233, 1.23457e-09]}


def test_paths_are_normalised():
    assert normalised_path("recipes/../masks/x.gds") == "masks/x.gds"
    assert normalised_path("./a//b/./c.gds") == "a/b/c.gds"


def test_spectra_become_maps_keyed_by_wavelength_in_nm():
    block = unit_keys({"epsilon_per_arm_by_wavelength": [[365.0, 500.0], [405.0, 50.0]],
                       "activation_constant_cm2_mj": {"365 nm": 0.003}, "name": "x"})
    assert block == {"epsilon_per_arm_m_cm_by_wavelength_nm": {"365": 500.0, "405": 50.0},
                     "activation_constant_cm2_mj_by_wavelength_nm": {"365": 0.003}, "name": "x"}


def test_written_paths_have_no_dot_components(written):
    report, _ = written
    for step in report["steps"]:
        assert "/../" not in step["mask"]["file"] and "/./" not in step["mask"]["file"]


def test_reprs_are_short_and_name_the_steps():
    _, result = run("two steps")
    text = repr(result)
    assert len(text) < 400 and "'R'" not in text and "R: 4 pixels" in text and "G: 4 pixels" in text
    assert repr(result.steps[0]).startswith("<StepResult 'R' layer 1/0: 4 pixels")
    assert len(repr(result.recipe)) < 400 and "contact 254 nm 20 mJ/cm²" in repr(result.recipe)
    assert "<table>" in result._repr_html_() and "IoU mean" in result._repr_html_()
    assert "<li>R:" in result.recipe._repr_html_() and "Step R" in result.steps[0]._repr_html_()


def test_pixels_is_a_dataframe_with_one_row_per_designed_pixel():
    _, result = run("two steps")
    df = result.pixels
    assert len(df) == sum(len(s.design) for s in result.steps) == 8
    assert list(df["step"].unique()) == ["R", "G"]
    r0 = result.report["steps"][0]["pixels"][0]
    assert df.iloc[0]["iou"] == r0["iou"] and df.iloc[0]["design_centroid_x_um"] == r0["design_centroid_um"][0]


def test_sweep_table_is_a_dataframe_of_its_rows():
    from litho.sweep import SweepResult

    rows = [{"exposure.dose": 10.0, "step": "R", "iou_mean": 0.9, "plqy_retention_mean_in_print": 0.8},
            {"exposure.dose": 20.0, "step": "R", "iou_mean": 0.95, "plqy_retention_mean_in_print": 0.7}]
    table = SweepResult({"rows": rows}).table
    assert table.shape == (2, 4) and table["iou_mean"].tolist() == [0.9, 0.95]


def test_report_of_a_recipe_without_a_file_is_valid(write_recipe):
    """A recipe built from a dict has no path: report.json's ``recipe.path`` is null, which the schema allows."""
    import tomllib

    import litho

    from litho.recipe import recipe_from_dict
    from litho.report import build_report
    from litho.schema import validate_report

    path = write_recipe()
    recipe = recipe_from_dict(tomllib.loads(path.read_text()), base_dir=path.parent)
    report = build_report(litho.simulate(recipe))
    assert report["recipe"]["path"] is None
    validate_report(report)
