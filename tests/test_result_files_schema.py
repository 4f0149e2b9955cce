"""sweep.json, sweep.csv and min_feature.json: the shipped schema's sweep and min-feature blocks,
units in every varied-key name, one name per quantity with report.json."""

from __future__ import annotations

import csv
import json

import jsonschema
import pytest

from litho.cli import main
from litho.report import SCHEMA_VERSION, SIGNIFICANT_DIGITS
from litho.schema import block_schema, load_report_schema, validate_min_feature, validate_sweep


def _run_on_small_recipe(tmp_path_factory, command: str, *options: str):
    """``litho COMMAND small-recipe OPTIONS -o OUT`` in a fresh directory; returns OUT."""
    from conftest import SMALL_RECIPE

    base = tmp_path_factory.mktemp(command)
    recipe = base / "recipe.toml"
    recipe.write_text(SMALL_RECIPE)
    out = base / "out"
    assert main([command, str(recipe), *options, "-q", "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = _run_on_small_recipe(tmp_path_factory, "sweep", "--vary", "exposure.dose=10:30:2",
                               "--vary", "film.thickness=25,35", "--scheduler", "sync")
    return json.loads((out / "sweep.json").read_text()), (out / "sweep.csv").read_text()


@pytest.fixture(scope="module")
def min_featured(tmp_path_factory):
    # the pixel array alone (the feature with a subpixel gap), on a coarse size scan: a few seconds
    out = _run_on_small_recipe(tmp_path_factory, "min-feature", "--feature", "pixel-array",
                               "--points-per-decade", "2")
    return json.loads((out / "min_feature.json").read_text())


@pytest.mark.parametrize("block", ["sweep", "min_feature"])
def test_blocks_are_valid_schemas(block):
    jsonschema.Draft202012Validator.check_schema(block_schema(block))
    assert block in load_report_schema()["$defs"]


def test_written_sweep_follows_the_schema(swept):
    document, _ = swept
    validate_sweep(document)
    assert document["schema_version"] == SCHEMA_VERSION


def test_sweep_names_carry_units_in_json_and_csv(swept):
    document, text = swept
    names = [a["name"] for a in document["axes"]]
    assert names == ["exposure.dose_mj_cm2", "film.thickness_nm"]
    header = next(csv.reader(text.splitlines()))
    assert header[:2] == names and header == list(document["rows"][0])
    assert all(set(names[1:]) <= set(e) for e in document["exposure_latitude"])


def test_sweep_floats_carry_the_reports_precision(swept):
    document, text = swept
    values = [v for row in document["rows"] for v in row.values() if isinstance(v, float)]
    assert values and all(float(f"{v:.{SIGNIFICANT_DIGITS}g}") == v for v in values)
    rows = list(csv.DictReader(text.splitlines()))
    assert rows[0]["design_cd_x_um"] == str(document["rows"][0]["design_cd_x_um"])


def test_schema_refuses_a_unitless_varied_key_and_an_unknown_metric(swept):
    document, _ = swept
    bad = json.loads(json.dumps(document))
    bad["rows"][0]["exposure.dose"] = bad["rows"][0].pop("exposure.dose_mj_cm2")
    with pytest.raises(jsonschema.ValidationError):
        validate_sweep(bad)
    bad = json.loads(json.dumps(document))
    bad["rows"][0]["plqy_retention"] = 0.9
    with pytest.raises(jsonschema.ValidationError):
        validate_sweep(bad)


def test_written_min_feature_follows_the_schema(min_featured):
    validate_min_feature(min_featured)
    assert min_featured["schema_version"] == SCHEMA_VERSION
    assert [f["feature"] for f in min_featured["features"]] == ["pixel-array"]
    assert all(isinstance(t["size_um"], float) for t in min_featured["features"][0]["trials"])


def test_min_feature_names_the_subpixel_gap(min_featured):
    pixel_array = min_featured["features"][0]
    assert pixel_array["subpixel_gap_um"] == 1.0 and "gap_um" not in pixel_array
    bad = json.loads(json.dumps(min_featured))
    bad["features"][0]["gap_um"] = bad["features"][0].pop("subpixel_gap_um")
    with pytest.raises(jsonschema.ValidationError):
        validate_min_feature(bad)
