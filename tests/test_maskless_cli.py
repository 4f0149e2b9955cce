"""``litho mask bitmap`` and the maskless recipe keys: outputs, and one-line refusals with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from litho.bitmap import png_bytes, read_bitmap
from litho.gds import read_mask
from litho.maskmodel import mirror_levels, quantise
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
MASK = ROOT / "masks" / "stripe_1000ppi_2x2.gds"



def _one_line(err: str) -> bool:
    return err.strip() != "" and "\n" not in err.strip() and "Traceback" not in err


def test_bitmap_writes_the_mirror_states_of_the_layer(tmp_path, capsys):
    out = tmp_path / "pattern.png"
    code, text, err = run_cli(capsys, "mask", "bitmap", MASK, "--layer", "R", "--mirror-um", "7.56", "--demag", "10",
                           "-o", out, "--json")
    assert code == 0 and err == ""
    info = json.loads(text)
    assert info["projected_pitch_um"] == pytest.approx(0.756)
    levels = quantise(read_bitmap(out), 1)[::-1]          # image rows -> y-up
    ny, nx = levels.shape
    assert [nx, ny] == info["mirrors"]
    x0, y0 = info["mirror_origin_um"]
    mask = read_mask(MASK, layer="R")
    expected = mirror_levels(mask.geometry, 0.756, (x0, y0), (ny, nx), 1)
    assert np.array_equal(levels, expected)
    # the on mirrors cover the layer's area to within the edge mirrors (half a mirror per edge)
    on_area = levels.sum() * 0.756 ** 2
    perimeter = sum(p.length for p in mask.polygons)
    assert abs(on_area - mask.area_um2) <= 0.5 * 0.756 * perimeter


def test_bitmap_grey_npy_keeps_the_coverage(tmp_path, capsys):
    out = tmp_path / "pattern.npy"
    code, _, err = run_cli(capsys, "mask", "bitmap", MASK, "--layer", "G", "--mirror-um", "7.56", "--demag", "5",
                        "--bits", "8", "-o", out)
    assert code == 0 and err == ""
    grey = np.load(out)
    mask = read_mask(MASK, layer="G")
    # 8-bit grey levels keep the area to 1/255 of a mirror per mirror
    assert abs(grey.sum() * 1.512 ** 2 - mask.area_um2) <= grey.size * 1.512 ** 2 / 510


@pytest.mark.parametrize("extra, needle", [
    (["--demag", "0"], "--demag"),
    (["--demag", "-2"], "--demag"),
    (["--mirror-um", "0"], "--mirror-um"),
    (["--bits", "17"], "--bits"),
])
def test_bitmap_bad_options_are_one_line(tmp_path, capsys, extra, needle):
    argv = {"--mirror-um": "7.56", "--demag": "10"}
    for flag, value in zip(extra[::2], extra[1::2]):
        argv[flag] = value
    code, _, err = run_cli(capsys, "mask", "bitmap", MASK, *[a for kv in argv.items() for a in kv], "-o",
                        tmp_path / "p.png")
    assert code == 2 and _one_line(err) and needle in err
    assert not (tmp_path / "p.png").exists()


def test_bitmap_missing_layer_and_bad_suffix_are_one_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "mask", "bitmap", MASK, "--layer", "7/0", "--mirror-um", "7.56", "--demag", "10",
                        "-o", tmp_path / "p.png")
    assert code == 2 and _one_line(err)
    code, _, err = run_cli(capsys, "mask", "bitmap", MASK, "--mirror-um", "7.56", "--demag", "10",
                        "-o", tmp_path / "p.tif")
    assert code == 2 and _one_line(err)


# --------------------------------------------------------------------------- recipe keys through the CLI

RECIPE = """
[film]
material = "InP/ZnSe/ZnS"
thickness = "30 nm"
[crosslinker]
material = "Tris-TAD"
[exposure]
tool = "maskless"
wavelength = "365 nm"
na = 0.25
sigma = 0.5
dose = "250 mJ/cm^2"
{keys}
[developer]
material = "toluene"
time = "30 s"
[mask]
file = "{mask}"
layer = "R"
"""


def _write_recipe(tmp_path, keys: str) -> Path:
    path = tmp_path / "dmd.toml"
    path.write_text(RECIPE.format(keys=keys, mask=MASK.as_posix()))
    return path


@pytest.mark.parametrize("keys, needle", [
    ('mirror_pitch = "7.56 um"\npattern = "missing.png"', "exposure.pattern"),
    ('mirror_pitch = "7.56 um"\nfill_factor = 1.2', "exposure.fill_factor"),
    ('mirror_pitch = "7.56 um"\nfill_factor = 0', "exposure.fill_factor"),
    ('mirror_pitch = "7.56 um"\ndemagnification = 0', "exposure.demagnification"),
    ('mirror_pitch = "7.56 um"\ndemagnification = -5', "exposure.demagnification"),
    ('mirror_pitch = "7.56 um"\ngrey_bits = 0', "exposure.grey_bits"),
    ('fill_factor = 0.9', "exposure.mirror_pitch"),
    ('mirror_pitch = "7.56 um"\npattern = "cube.npy"', "2-D"),
    ('mirror_pitch = "7.56 um"\npattern = "bad.png"', "not a readable PNG"),
    ('mirror_pitch = "7.56 um"\npattern = "grey_alpha.png"', "2-D"),
    ('mirror_pitch = "7.56 um"\nmirror_size = 3', "mirror_size"),
])
def test_bad_maskless_recipe_is_one_line_exit_2(tmp_path, capsys, keys, needle):
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    (tmp_path / "bad.png").write_bytes(png_bytes(np.zeros((4, 4), np.uint8), 8)[:40])
    import matplotlib.image

    matplotlib.image.imsave(tmp_path / "grey_alpha.png", np.zeros((4, 4, 4)))
    code, out, err = run_cli(capsys, "simulate", _write_recipe(tmp_path, keys), "-o", tmp_path / "out")
    assert code == 2 and _one_line(err) and needle in err, err
    assert not (tmp_path / "out").exists()


def test_bitmap_pattern_recipe_loads(tmp_path, capsys):
    from litho.maskmodel import MirrorGrid
    from litho.recipe import load_recipe

    code, text, _ = run_cli(capsys, "mask", "bitmap", MASK, "--layer", "R", "--mirror-um", "7.56", "--demag", "5",
                         "-o", tmp_path / "pattern.png", "--json")
    origin = json.loads(text)["mirror_origin_um"]
    path = _write_recipe(tmp_path, f'mirror_pitch = "7.56 um"\ndemagnification = 5\npattern = "pattern.png"\n'
                                   f'mirror_origin_um = [{origin[0]}, {origin[1]}]\nfill_factor = 0.85')
    model = load_recipe(path).steps[0].exposure.mask_model
    assert isinstance(model, MirrorGrid) and model.fill_factor == 0.85 and model.levels.ndim == 2
    assert model.projected_pitch_um == pytest.approx(1.512)
