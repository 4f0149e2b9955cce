"""``litho aerial`` and ``litho kernels`` through the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli

PROXIMITY = {'tool = "contact"': 'tool = "proximity"\ngap = "10 um"'}
NO_COLLIMATION = {"collimation_half_angle_deg = 1.5\n": ""}
PROJECTION = {'tool = "contact"': 'tool = "projection"\nna = 0.4\nsigma = 0.5\nsource_step_sigma = 0.2',
              "collimation_half_angle_deg = 1.5\n": "", "pixel_um = 0.2\n": "pixel_um = 0.1\n"}



def test_aerial_writes_images_ils_and_edge_nils(write_recipe, tmp_path, capsys):
    recipe = write_recipe(**PROXIMITY)
    out = tmp_path / "aerial"
    code, stdout, err = run_cli(capsys, "aerial", recipe, "-o", out, "--gap-um", "5,20")
    assert code == 0, err
    report = json.loads((out / "aerial.json").read_text())
    step = report["steps"][0]
    image = np.load(out / step["files"]["aerial"])
    assert image.shape == tuple(report["grid"]["shape"])
    assert np.load(out / step["files"]["ils"]).shape == image.shape
    assert (out / "aerial.png").exists() and (out / "ils.png").exists()
    assert step["tool"] == "proximity" and step["optics"]["gap_um"] == 10.0
    assert step["edges"]["points"] > 0 and step["edges"]["nils_mean"] > 0
    series = np.load(out / step["series"]["file"])
    assert series.shape == (2, *image.shape)
    assert "NILS at edges" in stdout


def test_aerial_projection_recipe(write_recipe, tmp_path, capsys):
    recipe = write_recipe(**PROJECTION)
    out = tmp_path / "proj"
    code, _, err = run_cli(capsys, "aerial", recipe, "-o", out, "--no-figures")
    assert code == 0, err
    report = json.loads((out / "aerial.json").read_text())
    assert report["steps"][0]["optics"]["type"] == "ProjectionOptics"
    image = np.load(out / "aerial.npy")
    assert 0.9 < image.max() < 1.3


@pytest.mark.parametrize("replace,field", [
    ({'tool = "contact"': 'tool = "proximity"\ngap = "-1 um"'}, "exposure.gap = -1"),
    ({'tool = "contact"': 'tool = "projection"\nna = 1.2', **NO_COLLIMATION}, "exposure.na"),
    ({'tool = "contact"': 'tool = "projection"\nna = 0.5\nsigma = 1.4', **NO_COLLIMATION}, "exposure.sigma"),
    ({'tool = "contact"': 'tool = "projection"\nna = 0.5'}, "exposure.collimation_half_angle_deg: belongs to"),
    ({'tool = "contact"': 'tool = "proximity"\nspectrum = {"365" = -1.0, "405" = 0.5}'}, "exposure.spectrum"),
    ({'tool = "contact"': 'tool = "projection"\nna = 0.5\nzernike = {"400" = 0.1}', **NO_COLLIMATION},
     "exposure.zernike"),
    ({'tool = "contact"': 'tool = "projection"\nna = 0.4\nsigma = 0.5', "pixel_um = 0.2\n": "pixel_um = 0.3\n",
      **NO_COLLIMATION}, "too coarse"),
])
def test_aerial_bad_input_is_one_line_and_exit_2(write_recipe, tmp_path, capsys, replace, field):
    text_recipe = write_recipe(**replace)
    out = tmp_path / "never"
    code, _, err = run_cli(capsys, "aerial", text_recipe, "-o", out)
    assert code == 2
    assert field in err and err.count("\n") == 1
    assert not out.exists()


def test_aerial_bad_series_flag(write_recipe, tmp_path, capsys):
    code, _, err = run_cli(capsys, "aerial", write_recipe(**PROXIMITY), "-o", tmp_path / "x", "--gap-um", "5,a")
    assert code == 2 and "--gap-um" in err


def test_kernels_prints_eigenvalues(capsys, tmp_path):
    code, out, err = run_cli(capsys, "kernels", "--wavelength-nm", 365, "--na", 0.5, "--source", "annular",
                          "--sigma-in", 0.5, "--sigma-out", 0.8, "--source-step-sigma", 0.1, "--size-um", 4,
                          "--show", 5, "-o", tmp_path / "k")
    assert code == 0, err
    assert "kept" in out and "eigenvalue" in out
    npz = list((tmp_path / "k").glob("kernels_*.npz"))
    assert len(npz) == 1 and list((tmp_path / "k").glob("kernels_*.png"))
    with np.load(npz[0]) as z:
        assert z["kernels"].shape[0] == int(z["kept"])


def test_kernels_from_a_projection_recipe(write_recipe, capsys):
    code, out, err = run_cli(capsys, "kernels", write_recipe(**PROJECTION), "--size-um", 3, "--show", 3)
    assert code == 0, err
    assert "254 nm, NA 0.4" in out


@pytest.mark.parametrize("argv,message", [
    (["--wavelength-nm", "365", "--na", "1.0"], "--na"),
    (["--wavelength-nm", "365", "--na", "0.5", "--sigma", "1.5"], "--sigma"),
    (["--wavelength-nm", "365", "--na", "0.5", "--zernike", "0=0.1"], "zernike"),
    (["--wavelength-nm", "365", "--na", "0.5", "--zernike", "nine"], "--zernike"),
    (["--wavelength-nm", "365", "--na", "0.5", "--source", "/no/such/map.npy"], "source"),
    (["--na", "0.5"], "--wavelength-nm"),
])
def test_kernels_bad_input(capsys, argv, message):
    code, _, err = run_cli(capsys, "kernels", *argv)
    assert code == 2 and message in err and err.count("\n") == 1


def test_kernels_refuses_a_recipe_without_projection(write_recipe, capsys):
    code, _, err = run_cli(capsys, "kernels", write_recipe())
    assert code == 2 and "projection" in err
