"""``process.prepare``: the one set-up path of simulate, aerial, min-feature and sweep."""

from __future__ import annotations

import json

import numpy as np
import pytest

import litho
from litho import process
from litho.cli import main
from litho.errors import LithoInputError
from litho.grid import Grid

PROJECTION = {'tool = "contact"': 'tool = "projection"\nna = 0.4\nsigma = 0.5\nsource_step_sigma = 0.2',
              "collimation_half_angle_deg = 1.5\n": "", "pixel_um = 0.2\n": ""}
# a fixed one-ring cone rule: these tests are about grids, guards and memory, not the cone quadrature
PROXIMITY = {'tool = "contact"': 'tool = "proximity"\ngap = "20 um"\ndirection_rings = 1'}


def test_aerial_uses_the_grid_simulate_prepares(write_recipe, tmp_path, capsys):
    # no pixel_um: the automatic pitch must honour the projection optics' limit in both commands
    recipe = write_recipe(**PROJECTION)
    setup = process.prepare(recipe)
    assert setup.grid.pixel_um <= litho.load_recipe(recipe).steps[0].exposure.optics.max_pixel_um
    assert main(["aerial", str(recipe), "-o", str(tmp_path / "a"), "--no-figures"]) == 0
    report = json.loads((tmp_path / "a" / "aerial.json").read_text())
    assert tuple(report["grid"]["shape"]) == setup.grid.shape
    assert report["grid"]["pixel_um"] == setup.grid.pixel_um
    assert tuple(report["grid"]["origin_um"]) == pytest.approx(setup.grid.origin_um)


def test_setup_holds_masks_designs_overlay_and_memory(write_recipe):
    setup = process.prepare(write_recipe())
    assert len(setup.masks) == len(setup.designs) == len(setup.overlays_um) == 1
    assert setup.layers == ((1, 0),)
    assert len(setup.designs[0]) == 4          # a 2 x 2 cell of red subpixels
    assert setup.memory.total_bytes > 0 and setup.fits


def test_a_grid_that_does_not_fit_is_refused_or_left_to_tiling(write_recipe, monkeypatch, capsys, tmp_path):
    recipe = write_recipe()
    monkeypatch.setattr(process, "_available_memory_bytes", lambda: (10**6, "cgroup memory limit"))
    with pytest.raises(LithoInputError, match="cgroup memory limit"):
        process.prepare(recipe)
    # aerial now checks memory as simulate does (it used to skip the check)
    assert main(["aerial", str(recipe), "-o", str(tmp_path / "refused")]) == 2
    assert not (tmp_path / "refused").exists()
    assert "needs about" in capsys.readouterr().err
    assert not process.prepare(recipe, allow_tiling=True).fits


def test_guard_um_sets_the_padded_window_of_simulate_and_its_memory(write_recipe):
    tight = process.prepare(write_recipe(**PROXIMITY, **{"pixel_um = 0.2\n": "pixel_um = 0.2\nguard_um = 0\n"}))
    wide = process.prepare(write_recipe(**PROXIMITY, **{"pixel_um = 0.2\n": "pixel_um = 0.2\nguard_um = 60\n"}))
    assert wide.memory.total_bytes > 1.5 * tight.memory.total_bytes
    # no guard: light diffracted past the window edge wraps around (the FFT's period); 60 µm keeps it out
    a = litho.simulate(tight.recipe, setup=tight).steps[0].intensity
    b = litho.simulate(wide.recipe, setup=wide).steps[0].intensity
    assert np.abs(a - b).max() > 1e-3


def test_prepare_design_checks_the_optics_pitch_and_memory(write_recipe, monkeypatch):
    from shapely.geometry import box

    recipe = litho.load_recipe(write_recipe(**PROJECTION))
    design = (box(0, 0, 2, 2),)
    with pytest.raises(LithoInputError, match="too coarse|needs pixel_um"):
        process.prepare_design(recipe, design, Grid((40, 40), 0.5, (-8.0, -8.0)))
    setup = process.prepare_design(recipe, design, Grid((100, 100), 0.1, (-3.0, -3.0)), window="isolated")
    assert setup.recipe.simulation.pixel_um == 0.1 and len(setup.recipe.steps) == 1
    monkeypatch.setattr(process, "_available_memory_bytes", lambda: (10**5, "available memory"))
    with pytest.raises(LithoInputError, match="needs about"):
        process.prepare_design(recipe, design, Grid((100, 100), 0.1, (-3.0, -3.0)))
