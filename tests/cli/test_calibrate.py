"""``litho calibrate RECIPE DATA.csv --fit ...``."""

import json
import tomllib

import numpy as np
import pytest

import litho
from litho.calibration import apply_parameters
from litho.cli import main
from litho.cli.calibrate import dumps_toml
from litho.development import develop
from conftest import RECIPES

RECIPE = RECIPES / "ebt_cdse_254nm.toml"


def synthetic_csv(tmp_path, truth, noise=0.01):
    step = litho.load_recipe(RECIPE).steps[0]
    f, x, d = apply_parameters(step.film, step.crosslinker, step.developer, truth)
    doses = np.geomspace(0.5, 150, 20)   # spans the whole curve of the recipe (D50 ~ 6 mJ/cm^2)
    nrt = develop([(254.0, doses)], f, x, d, step.exposure.atmosphere).remaining_thickness
    nrt = np.clip(nrt + np.random.default_rng(5).normal(0, noise, nrt.size), 0, 1.5)
    path = tmp_path / "measured.csv"
    path.write_text("dose_mj_cm2,nrt\n" + "".join(f"{a:.6g},{b:.6g}\n" for a, b in zip(doses, nrt)))
    return path


def test_calibrate_fits_prints_and_writes_a_loadable_calibrated_recipe(tmp_path, capsys):
    data = synthetic_csv(tmp_path, {"quantum_yield": 0.5, "crosslink_dispersion": 0.65})
    out = tmp_path / "cal"
    assert main(["calibrate", str(RECIPE), str(data), "--fit", "quantum_yield,crosslink_dispersion",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "crosslinker.quantum_yield = 0.4" in text or "crosslinker.quantum_yield = 0.5" in text
    assert "±" in text and "residuals: rms" in text
    result = json.loads((out / "calibration.json").read_text())
    assert result["parameters"]["crosslinker.quantum_yield"]["value"] == pytest.approx(0.5, rel=0.05)
    assert result["parameters"]["film.crosslink_dispersion"]["value"] == pytest.approx(0.65, rel=0.05)
    calibrated = litho.load_recipe(out / "ebt_cdse_254nm_calibrated.toml")
    step = calibrated.steps[0]
    assert step.crosslinker.quantum_yield == pytest.approx(result["parameters"]["crosslinker.quantum_yield"]["value"])
    assert step.mask.path.is_file()              # mask path rewritten relative to the output
    assert (out / "calibration.png").stat().st_size > 1000


@pytest.mark.parametrize("csv_text, fit, message", [
    ("dose_mj_cm2,thickness\n1,0.5\n", "quantum_yield", "no NRT column"),
    ("dose_mj_cm2,nrt\n1,x\n", "quantum_yield", "line 2: nrt = 'x' is not a number"),
    ("dose_mj_cm2,nrt\n-1,0.1\n2,0.5\n", "quantum_yield", "negative"),
    ("dose_mj_cm2,nrt\n1,0.1\n2,0.5\n", "quantum_yield,insertion_yield", "needs at least 3"),
    ("dose_mj_cm2,nrt\n1,0.1\n2,0.5\n3,0.9\n", "wavelength", "not a fittable parameter"),
])
def test_calibrate_bad_input_is_one_line_exit_2_and_no_output(tmp_path, capsys, csv_text, fit, message):
    data = tmp_path / "bad.csv"
    data.write_text(csv_text)
    out = tmp_path / "cal"
    assert main(["calibrate", str(RECIPE), str(data), "--fit", fit, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not out.exists()


def test_toml_writer_round_trips():
    data = {"name": "x \"quoted\" é", "seed": 3, "flag": True, "ratio": 0.1, "list": [1, 2.5, "a"],
            "film": {"material": "CdSe/ZnS", "absorption_length_nm_by_wavelength": {"254": 50.0}},
            "step": [{"name": "R", "mask": {"layer": "R"}}, {"name": "G", "film": {"thickness_nm": 30.0}}]}
    assert tomllib.loads(dumps_toml(data)) == data
