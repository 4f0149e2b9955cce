"""``litho contrast RECIPE``."""

import csv
import json

import pytest

from litho.cli import main
from conftest import RECIPES


def test_contrast_writes_csv_json_png_and_prints_characteristic_doses(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["contrast", str(RECIPES / "ebt_cdse_254nm.toml"), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "D0 =" in text and "D50 =" in text and "D100 =" in text and "gamma_iupac" in text
    summary = json.loads((out / "contrast.json").read_text())
    assert summary["d0_mj_cm2"] < summary["d50_mj_cm2"] < summary["d100_mj_cm2"]
    assert summary["gamma"] > 0 and summary["gamma_iupac"] > 0
    rows = list(csv.DictReader((out / "contrast.csv").open()))
    assert set(rows[0]) == {"dose_mj_cm2", "nrt", "plqy_retention"} and len(rows) > 50
    nrt = [float(r["nrt"]) for r in rows]
    assert all(b >= a - 1e-9 for a, b in zip(nrt, nrt[1:]))
    assert (out / "contrast.png").stat().st_size > 1000


def test_contrast_custom_dose_range(tmp_path, capsys):
    assert main(["contrast", str(RECIPES / "tristad_inp_365nm_air.toml"), "-o", str(tmp_path),
                 "--doses", "1:1000:40"]) == 0
    rows = (tmp_path / "contrast.csv").read_text().splitlines()
    assert len(rows) == 41


@pytest.mark.parametrize("args, message", [
    (["--doses", "10:1:5"], "--doses"),
    (["--step", "Z"], "--step 'Z'"),
])
def test_contrast_bad_options_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "c"
    try:
        code = main(["contrast", str(RECIPES / "ebt_cdse_254nm.toml"), "-o", str(out), *args])
    except SystemExit as exc:      # refused by the option parser
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not out.exists()


def test_contrast_wavelength_without_data_is_one_line(tmp_path, write_recipe, capsys):
    path = write_recipe(**{'wavelength = "254 nm"': 'wavelength = "365 nm"'})
    assert main(["contrast", str(path), "-o", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "EBT has no absorption data at 365 nm; it has 254, 275 nm" in err


@pytest.mark.parametrize("edit, message", [
    ({'loading_wt_pct = 2': 'loading_wt_pct = 2\nquantum_yield = 1.5'}, r"quantum_yield = 1.5 is outside [0, 1]"),
    ({'atmosphere = "N2"': 'atmosphere = "helium"'}, "exposure.atmosphere = 'helium' is not an atmosphere"),
    ({'material = "toluene"': 'material = "toluene"\nswelling_gel_threshold = -0.2'}, "outside [0, 1]"),
])
def test_contrast_recipe_mistakes_are_one_line_exit_2(tmp_path, write_recipe, capsys, edit, message):
    path = write_recipe(**edit)
    assert main(["contrast", str(path), "-o", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and str(path) in err
    assert not (tmp_path / "c").exists()


def test_help_examples_of_the_chemistry_commands_run(tmp_path, monkeypatch, capsys):
    import shlex

    from litho.cli import build_parser
    from conftest import ROOT

    monkeypatch.chdir(ROOT)
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in ("materials", "contrast", "calibrate"):
        example = " ".join(line.strip() for line in sub.choices[name].epilog.splitlines()[1:])
        argv = shlex.split(example)[1:]
        if "-o" in argv:
            argv[argv.index("-o") + 1] = str(tmp_path / name)
        assert main(argv) == 0, example
