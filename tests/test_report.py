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
