"""Calibration recovers the parameters of synthetic data and rejects bad contrast data."""

import numpy as np
import pytest

from litho import materials
from litho.calibration import apply_parameters, calibrate, fittable_parameters, read_contrast_csv
from litho.development import develop
from litho.errors import LithoInputError


def mats(development_s=30.0):
    return (materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 30}),
            materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 5}),
            materials.resolve("developer", {"material": "toluene", "time_s": development_s}))


@pytest.mark.parametrize("truth, doses, development_s", [
    ({"quantum_yield": 0.45, "crosslink_dispersion": 0.7}, np.geomspace(0.3, 60, 24), 30.0),
    # short development: the residue at low dose fixes the dissolution time constant
    ({"quantum_yield": 0.5, "dissolution_time_s": 8.0}, np.geomspace(0.5, 60, 18), 10.0),
])
def test_calibration_recovers_synthetic_parameters_within_5_percent(truth, doses, development_s):
    film, xl, dev = mats(development_s)
    f, x, d = apply_parameters(film, xl, dev, truth)
    clean = develop([(254.0, doses)], f, x, d, "N2").remaining_thickness
    noisy = clean + np.random.default_rng(3).normal(0.0, 0.01, clean.size)
    fit = calibrate(film, xl, dev, "N2", 254.0, doses, noisy, list(truth))
    for name, value in truth.items():
        assert fit.values[name] == pytest.approx(value, rel=0.05)
        assert 0 < fit.uncertainties[name] < 0.1 * value
    assert fit.rms_residual < 0.02 and fit.success
    assert fit.crosslinker.quantum_yield == pytest.approx(fit.values["quantum_yield"])


def test_fitted_uncertainty_shrinks_with_less_noise():
    film, xl, dev = mats()
    doses = np.geomspace(1, 40, 16)
    truth = {"quantum_yield": 0.45}
    f, x, d = apply_parameters(film, xl, dev, truth)
    clean = develop([(254.0, doses)], f, x, d, "N2").remaining_thickness
    rng = np.random.default_rng(0)
    sig = [calibrate(film, xl, dev, "N2", 254.0, doses, clean + rng.normal(0, s, clean.size),
                     ["quantum_yield"]).uncertainties["quantum_yield"] for s in (0.03, 0.003)]
    assert sig[1] < sig[0] / 3


def test_fittable_parameters_cover_the_useful_knobs():
    names = fittable_parameters()
    for n in ("quantum_yield", "insertion_yield", "loading_wt_pct", "dissolution_time_s", "crosslink_dispersion",
              "ksv_triplet_per_molar", "thickness_nm"):
        assert n in names


def test_unknown_parameter_and_too_few_points():
    film, xl, dev = mats()
    with pytest.raises(LithoInputError, match="'colour' is not a fittable parameter; accepted: .*quantum_yield"):
        calibrate(film, xl, dev, "N2", 254.0, [1, 2, 3], [0, 0.5, 1], ["colour"])
    with pytest.raises(LithoInputError, match="has 2 points; fitting 2 parameter\\(s\\) needs at least 3"):
        calibrate(film, xl, dev, "N2", 254.0, [1, 2], [0, 1], ["quantum_yield", "insertion_yield"])


def write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_read_csv_accepts_alias_columns_comments_and_sorts(tmp_path):
    data = read_contrast_csv(write(tmp_path, "# measured\nDose,h/h0,comment\n10,0.9,a\n1,0.1,b\n"))
    assert list(data.doses_mj_cm2) == [1, 10] and list(data.nrt) == [0.1, 0.9]


@pytest.mark.parametrize("text, message", [
    ("dose_mj_cm2,thickness\n1,0.5\n", r"no NRT column; found columns dose_mj_cm2, thickness; need one of nrt"),
    ("x,nrt\n1,0.5\n", r"no dose column"),
    ("dose_mj_cm2,nrt\n1,abc\n", r"line 2: nrt = 'abc' is not a number"),
    ("dose_mj_cm2,nrt\n1,0.2\n-3,0.5\n", r"line 3: dose -3 mJ/cm\^2 is negative"),
    ("dose_mj_cm2,nrt\n1,2.5\n", r"NRT 2.5 is outside \[0, 1.5\]"),
    ("dose_mj_cm2,nrt\n", r"no data rows"),
    ("", r"empty"),
])
def test_bad_csv_is_one_clear_line(tmp_path, text, message):
    with pytest.raises(LithoInputError, match=message) as err:
        read_contrast_csv(write(tmp_path, text))
    assert "\n" not in str(err.value)


def test_missing_csv(tmp_path):
    with pytest.raises(LithoInputError, match="not found"):
        read_contrast_csv(tmp_path / "none.csv")
