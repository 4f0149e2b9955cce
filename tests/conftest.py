"""Shared fixtures: the repository's shipped data and small recipes to vary."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MASKS = ROOT / "masks"
RECIPES = ROOT / "recipes"
SMALL_MASK = MASKS / "stripe_1000ppi_2x2.gds"

# A fast, well-exposed contact print of a 2 x 2 stripe cell (red layer).
SMALL_RECIPE = f"""
name = "small contact print"
seed = 1

[film]
material = "CdSe/ZnS"
thickness = "30 nm"

[crosslinker]
material = "EBT"
loading_wt_pct = 2

[exposure]
tool = "contact"
wavelength = "254 nm"
dose = "20 mJ/cm^2"
collimation_half_angle_deg = 1.5
atmosphere = "N2"

[developer]
material = "toluene"
time = "30 s"

[mask]
file = "{SMALL_MASK.as_posix()}"
layer = "R"

[simulation]
# hard contact (the default mode) at 254 nm needs <= 0.209 um (Fresnel sampling)
pixel_um = 0.2
"""


@pytest.fixture
def small_recipe_text() -> str:
    return SMALL_RECIPE


@pytest.fixture
def write_recipe(tmp_path):
    """Write a recipe text (after ``str.replace`` edits) and return its path."""

    def write(text: str = SMALL_RECIPE, name: str = "recipe.toml", **replace) -> Path:
        for old, new in replace.items():
            assert old in text, old
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def run_cli(capsys, *argv):
    """``litho ARGV`` in-process: (exit code, stdout, stderr); a refusal by the option parser counts too."""
    from litho.cli import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
