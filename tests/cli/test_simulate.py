import json
import subprocess
import sys

import pytest

from litho.cli import main
from conftest import ROOT


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_writes_report_gds_and_figures(tmp_path, write_recipe, capsys):
    out = tmp_path / "out"
    code, stdout, _ = run_cli(capsys, "simulate", str(write_recipe()), "-o", str(out), "-q")
    assert code == 0, stdout
    names = sorted(p.name for p in out.iterdir() if p.name != ".litho-output")
    assert names == ["aerial.png", "developed.png", "predicted.gds", "predicted.lyp", "provenance.json", "report.json",
                     "thickness.png", "timing.json"]
    report = json.loads((out / "report.json").read_text())
    assert report["litho_version"]
    assert report["recipe"]["seed"] == 1
    step = report["steps"][0]
    assert step["exposure"]["dose_mj_cm2"] == 20
    metrics = step["metrics"]
    # A well-exposed contact print reproduces its mask (issue: IoU > 0.9).
    assert metrics["missing_pixels"] == 0
    assert metrics["bridges"] == 0
    assert metrics["iou_min"] > 0.9
    assert all(p["iou"] > 0.9 for p in step["pixels"])
    assert "IoU" in stdout


def test_predicted_gds_holds_mask_and_contour_layers(tmp_path, write_recipe, capsys):
    import gdstk

    out = tmp_path / "out"
    assert run_cli(capsys, "simulate", str(write_recipe()), "-o", str(out), "--no-figures", "-q")[0] == 0
    lib = gdstk.read_gds(out / "predicted.gds")
    layers = {(p.layer, p.datatype) for c in lib.top_level() for p in c.get_polygons()}
    assert {(1, 0), (101, 0)} <= layers


def test_multi_step_process_draws_rgb_composite_and_contamination(tmp_path, write_recipe,
                                                                  small_recipe_text, capsys):
    text = small_recipe_text + "".join(f'\n[[step]]\nname = "{c}"\n[step.mask]\nlayer = "{c}"\n' for c in "RGB")
    out = tmp_path / "out"
    code, stdout, _ = run_cli(capsys, "simulate", str(write_recipe(text)), "-o", str(out), "-q")
    assert code == 0
    assert {"rgb.png", "R_developed.png", "B_thickness.png", "G_aerial.png"} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "report.json").read_text())
    assert [s["name"] for s in report["steps"]] == ["R", "G", "B"]
    assert len(report["colour_contamination"]) == 3
    for row in report["colour_contamination"]:
        # well-separated stripes: later colours do not stay on earlier pixels
        assert row["later_film_on_earlier_pixels_mean_nrt"] < 0.05


BAD = [
    ({'dose = "20 mJ/cm^2"': 'dose = "-3 mJ/cm^2"'}, "dose"),
    ({'material = "EBT"': 'material = "Unobtainium"'}, "EBT"),
    ({'wavelength = "254 nm"': 'wavelength = "436 nm"'}, "254"),
    ({'stripe_1000ppi_2x2.gds': 'missing.gds'}, "missing.gds"),
    ({'layer = "R"': 'layer = [7, 0]'}, "1/0 (R)"),
    ({'tool = "contact"': 'tool = "contact'}, "line"),
    ({'[developer]\nmaterial = "toluene"\ntime = "30 s"\n': ''}, "[developer]: section missing"),
    ({'[developer]': '[developr]'}, "developr: unknown top-level key"),
    ({'stripe_1000ppi_2x2.gds': 'stripe_1000ppi.png'}, "not a GDSII or OASIS file"),
    ({'tool = "contact"': 'tool = "projection"\nna = 0.3\nsource_extrapolation = "yes"',
      'collimation_half_angle_deg = 1.5\n': ''}, "source_extrapolation = 'yes': give true or false"),
]


@pytest.mark.parametrize("edit, named", BAD)
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, write_recipe, capsys, edit, named):
    out = tmp_path / "out"
    # not quiet: progress must not mix into the one line on stderr
    code, stdout, stderr = run_cli(capsys, "simulate", str(write_recipe(**edit)), "-o", str(out))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert named in lines[0]
    assert "Traceback" not in stderr
    assert not out.exists()


def test_console_script_reports_a_missing_recipe_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "litho.cli", "simulate", str(tmp_path / "nope.toml"),
                           "-o", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "nope.toml" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_every_command_has_help_with_an_example():
    from litho.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert "simulate" in sub.choices
    for name, p in sub.choices.items():
        assert "Example" in (p.epilog or ""), name
        assert "litho " in p.epilog, name


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("litho ")
    assert main([]) == 0


@pytest.mark.parametrize("command", [["simulate"], ["contrast"], ["aerial"], ["min-feature"],
                                     ["sweep", "--vary", "exposure.dose=10"]])
def test_output_path_that_is_a_file_is_refused(tmp_path, write_recipe, capsys, command):
    target = tmp_path / "taken"
    target.write_text("keep me")
    code = main([command[0], str(write_recipe()), *command[1:], "-o", str(target)])
    assert code == 2
    assert "is not a directory" in capsys.readouterr().err
    assert target.read_text() == "keep me"
