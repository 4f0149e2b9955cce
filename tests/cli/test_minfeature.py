import pytest
import json

from litho.cli import main
from conftest import RECIPES

PROJECTION = RECIPES / "projection_stripe_3000ppi_365nm.toml"


def _projection(tmp_path, **edits):
    text = PROJECTION.read_text().replace('"../masks/', f'"{(RECIPES.parent / "masks").as_posix()}/')
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "projection.toml"
    path.write_text(text)
    return path


def test_nothing_prints_is_an_answer_with_exit_0(tmp_path, capsys):
    # NA 0.5 asks for a pitch the largest sizes could not be given before; at a dose
    # far below the gel dose no size prints, and that is the answer
    recipe = _projection(tmp_path, **{"na = 0.3": "na = 0.5", '"250 mJ/cm^2"': '"5 mJ/cm^2"'})
    out = tmp_path / "mf"
    assert main(["min-feature", str(recipe), "--feature", "line-space", "--points-per-decade", "2",
                 "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "nothing prints" in captured.out and captured.err == ""
    feature = json.loads((out / "min_feature.json").read_text())["features"][0]
    assert feature["min_size_um"] is None and feature["smallest_printing_um"] is None
    assert feature["answer"].startswith("nothing prints")
    assert not any(t["prints"] for t in feature["trials"])
    assert (out / "min_feature.png").stat().st_size > 1000


def test_thresholds_are_options_and_reach_the_report(tmp_path, capsys):
    recipe = _projection(tmp_path)
    out = tmp_path / "mf"
    assert main(["min-feature", str(recipe), "--feature", "line-space", "--cd-tol", "0.2", "--min-nrt", "0.5",
                 "--points-per-decade", "6", "-o", str(out)]) == 0
    report = json.loads((out / "min_feature.json").read_text())
    assert report["criteria"]["cd_tolerance_fraction"] == 0.2
    assert report["criteria"]["min_centre_nrt"] == 0.5
    assert report["features"][0]["min_size_um"] is not None
    assert "CD within 20%" in capsys.readouterr().out


def test_bad_thresholds_are_one_line(tmp_path, capsys):
    recipe = _projection(tmp_path)
    for argv, named in ((["--cd-tol", "0"], "--cd-tol"), (["--min-nrt", "1.5"], "--min-nrt"),
                        (["--points-per-decade", "0"], "--points-per-decade")):
        # the options' validators refuse before any work, through argparse (exit 2)
        with pytest.raises(SystemExit) as stop:
            main(["min-feature", str(recipe), "-o", str(tmp_path / "mf"), *argv])
        assert stop.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and named in err[0]
    assert not (tmp_path / "mf").exists()
