"""``litho mask``: generate, inspect, and one-line errors that write nothing."""

from __future__ import annotations

from pathlib import Path

import json

import gdstk
import pytest

from litho.cli import main
from litho.gds import read_mask
from conftest import run_cli

MASKS = Path(__file__).resolve().parents[2] / "masks"



def _exits(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_generate_stripe_prints_summary(tmp_path, capsys):
    out_file = tmp_path / "s.gds"
    code, out, err = run_cli(capsys, "mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", "4",
                          "--rows", "3", "-o", str(out_file))
    assert code == 0 and err == ""
    for key in ("pitch_um", "effective_ppi", "gap_um", "subpixel R um", "aperture_ratio"):
        assert key in out
    assert "25.4" in out and "0.7036" in out
    assert len(read_mask(out_file, layer="G", window=(0, 0, 101.6, 76.2)).polygons) == 12


def test_generate_oasis_with_json_and_preview(tmp_path, capsys):
    out_file, png = tmp_path / "d.oas", tmp_path / "d.png"
    code, out, _ = run_cli(capsys, "mask", "diamond", "--pitch-um", "20", "--subpixel-gap-um", "1.5", "--columns", "3",
                        "--rows", "3", "--no-marks", "--test-structures", "-o", str(out_file),
                        "--preview", str(png), "--json")
    assert code == 0
    info = json.loads(out)
    assert info["layout"] == "diamond" and info["pitch_um"] == 20.0 and "marks" not in info["layers"]
    assert out_file.read_bytes().startswith(b"%SEMI-OASIS")
    assert png.read_bytes().startswith(b"\x89PNG")
    lib = gdstk.read_oas(str(out_file))
    assert lib.top_level()[0].name == info["cell"]


def test_info(tmp_path, capsys):
    code, out, err = run_cli(capsys, "mask", "info", str(MASKS / "stripe_1000ppi.gds"))
    assert code == 0 and err == ""
    assert "top cell  stripe_p25p4_g2_8x8" in out
    assert "database unit 0.001 um" in out
    assert "1/0" in out and "10/0" in out and "bbox_um" in out
    code, out, _ = run_cli(capsys, "mask", "info", str(MASKS / "stripe_1000ppi_2x2.gds"), "--json")
    info = json.loads(out)
    assert info["layers"]["1/0"]["polygons"] == 4
    assert info["layers"]["1/0"]["area_um2"] == pytest.approx(4 * 6.466 * 23.4)


@pytest.mark.parametrize("argv", [["mask", "--help"], ["mask", "stripe", "--help"], ["mask", "info", "--help"]])
def test_help_has_example(capsys, argv):
    code, out, _ = _exits(capsys, *argv)
    assert code == 0
    assert "Example:" in out and "litho mask" in out


def test_mask_help_lists_layouts_and_info(capsys):
    _, out, _ = _exits(capsys, "mask", "--help")
    for word in ("stripe", "s-stripe", "delta", "diamond", "mosaic", "info"):
        assert word in out


def _assert_one_line_error(err, *fragments):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("litho mask")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("argv, fragments", [
    (["stripe", "--ppi", "3000", "--subpixel-gap-um", "3"], ["width p/3 - g", "not positive"]),
    (["delta", "--ppi", "5000", "--subpixel-gap-um", "3"], ["p/2 - g", "not positive"]),
    (["stripe", "--ppi", "0", "--subpixel-gap-um", "1"], ["ppi: 0"]),
    (["stripe", "--ppi", "1000", "--subpixel-gap-um", "-1"], ["--subpixel-gap-um", "-1 µm"]),
    (["stripe", "--ppi", "1000", "--subpixel-gap-um", "1", "--subpixel-um", "30", "5"], ["does not fit"]),
])
def test_bad_generation_input(tmp_path, capsys, argv, fragments):
    out_file = tmp_path / "bad.gds"
    code, out, err = run_cli(capsys, "mask", *argv, "--columns", "4", "--rows", "4", "-o", str(out_file))
    assert code == 2
    _assert_one_line_error(err, *fragments)
    assert list(tmp_path.iterdir()) == []


def test_bad_output_suffix_writes_nothing(tmp_path, capsys):
    code, _, err = run_cli(capsys, "mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", "2", "--rows",
                        "2", "-o", str(tmp_path / "mask.dxf"))
    assert code == 2
    _assert_one_line_error(err, "mask.dxf", ".gds or .oas")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["mask"],
    ["mask", "hexagon", "--ppi", "1000"],
    ["mask", "stripe", "--subpixel-gap-um", "2", "--columns", "2", "--rows", "2", "-o", "x.gds"],
    ["mask", "stripe", "--ppi", "1000", "--pitch-um", "25", "--subpixel-gap-um", "2", "--columns", "2", "--rows", "2",
     "-o", "x.gds"],
    ["mask", "stripe", "--ppi", "lots", "--subpixel-gap-um", "2", "--columns", "2", "--rows", "2", "-o", "x.gds"],
])
def test_bad_arguments_exit_2_one_line(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, _, err = _exits(capsys, *argv)
    assert code == 2
    _assert_one_line_error(err)
    assert list(tmp_path.iterdir()) == []


def _truncated(tmp_path):
    data = open(str(MASKS / "stripe_1000ppi.gds"), "rb").read()
    path = tmp_path / "cut.gds"
    path.write_bytes(data[: len(data) // 2])
    return path


def _not_gds(tmp_path):
    path = tmp_path / "notes.gds"
    path.write_text("not a layout")
    return path


def _cycle(tmp_path):
    lib = gdstk.Library()
    a, b = gdstk.Cell("A"), gdstk.Cell("B")
    a.add(gdstk.Reference(b))
    b.add(gdstk.Reference(a))
    lib.add(a, b)
    path = tmp_path / "cycle.gds"
    lib.write_gds(str(path))
    return path


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p / "missing.gds", "no such file"),
    (_not_gds, "not a GDSII or OASIS file"),
    (_truncated, "truncated GDSII file"),
    (_cycle, "reference cycle"),
])
def test_info_bad_files(tmp_path, capfd, make, fragment):
    path = make(tmp_path)
    before = sorted(tmp_path.iterdir())
    code = main(["mask", "info", str(path)])
    out, err = capfd.readouterr()
    assert code == 2 and out == ""
    _assert_one_line_error(err, fragment)
    assert sorted(tmp_path.iterdir()) == before
