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


def manhattan_mask(n: int, pixel_um: float, rectangles: int, side_um: tuple[float, float], seed: int = 7):
    """Random rectangles (sides uniform in ``side_um``) on an n × n periodic window of ``pixel_um``:
    a generic Manhattan layout, 1 inside a rectangle, 0 outside (deterministic in ``seed``)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = (np.arange(n) + 0.5) * pixel_um
    length = n * pixel_um
    xx, yy = np.meshgrid(x, x)
    t = np.zeros((n, n))
    for _ in range(rectangles):
        x0, y0 = rng.uniform(0, length, 2)
        w, h = rng.uniform(side_um[0], side_um[1], 2)
        t[(((xx - x0) % length) < w) & (((yy - y0) % length) < h)] = 1.0
    return t
