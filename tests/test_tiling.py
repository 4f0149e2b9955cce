"""Tiled simulation (litho.tiling): tiled equals untiled, pixels measured once, identical tiles shared."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import litho
from litho import process, tiling
from litho.cli import main
from litho.errors import LithoInputError
from conftest import MASKS

TILE_UM = 40.0
# a wide FFT guard in both runs, so what differs is only the mask content a tile's halo leaves out
GUARD = "pixel_um = 0.2\nguard_um = 30\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One untiled and one tiled run of the small contact recipe (hard contact, 2 x 2 stripe cell)."""
    from conftest import SMALL_RECIPE

    path = tmp_path_factory.mktemp("tiling") / "recipe.toml"
    path.write_text(SMALL_RECIPE.replace("pixel_um = 0.2\n", GUARD))
    setup = process.prepare(path)
    out = path.parent / "out"
    out.mkdir()
    tiled = tiling.simulate_tiled(setup, TILE_UM, scheduler="sync", out_dir=out)
    return setup, litho.simulate(setup.recipe, setup=setup), tiled


def test_tiled_image_and_film_equal_the_untiled_ones(runs):
    setup, ref, tiled = runs
    assert tiled.plan.shape == (2, 1) and tiled.tiles_total == 2
    assert np.abs(tiled.steps[0].intensity - ref.steps[0].intensity).max() <= 1e-4
    assert np.abs(tiled.steps[0].remaining_thickness - ref.steps[0].remaining_thickness).max() <= 1e-4
    assert tiled.steps[0].overview_step == 1
    assert np.abs(tiled.steps[0].overview - tiled.steps[0].remaining_thickness).max() < 1e-6


def test_every_pixel_is_measured_once_and_agrees_with_the_untiled_metrology(runs):
    _, ref, tiled = runs
    rows = tiled.steps[0].pixels
    assert len(rows) == len(ref.steps[0].metrology.pixels) == 4
    for m in ref.steps[0].metrology.pixels:
        match = [r for r in rows if np.allclose(r["design_centroid_um"], m.design_centroid_um, atol=1e-6)]
        assert len(match) == 1
        for key in ("cd_x_um", "cd_y_um", "printed_area_um2", "iou", "centroid_shift_um"):
            assert match[0][key] == pytest.approx(getattr(m, key), abs=1e-3), key
        assert match[0]["missing"] == m.missing and match[0]["bridged"] == m.bridged


def test_tiles_of_a_periodic_array_are_simulated_once(write_recipe):
    # tiles of one pixel pitch (25.4 µm = 127 samples) inside the 8 x 8 array hold the same geometry
    recipe = write_recipe(**{"stripe_1000ppi_2x2.gds": "stripe_1000ppi.gds"})
    recipe_text = recipe.read_text().replace('layer = "R"', 'layer = "R"\nwindow_um = [0, 0, 203.2, 203.2]')
    recipe.write_text(recipe_text)
    setup = process.prepare(recipe, allow_tiling=True)
    plan = tiling.plan_tiles(setup, 25.4)
    keys = [tiling.geometry_key(task, tiling.window_content(task)[0])
            for task in (tiling.TileTask(setup.recipe, 0, plan, tile) for tile in plan.tiles)]
    assert len(set(keys)) < len(keys) / 2
    # translation only: two interior tiles one pitch apart share a key, an edge tile does not
    by_index = {(t.row, t.col): k for t, k in zip(plan.tiles, keys)}
    assert by_index[(3, 3)] == by_index[(3, 4)] != by_index[(0, 0)]


def test_a_tile_smaller_than_its_halo_is_refused(runs, tmp_path, capsys):
    setup, _, _ = runs
    with pytest.raises(LithoInputError, match="at least its halo"):
        tiling.plan_tiles(setup, 1.0)
    assert main(["simulate", str(setup.recipe.path), "-o", str(tmp_path / "out"), "--tile", "1"]) == 2
    assert "at least its halo" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_overview_is_the_block_mean_whatever_the_tiles():
    from litho.tiled_output import _block_sums

    field = np.random.default_rng(0).random((50, 37))
    total, n = np.zeros((9, 7)), np.zeros((9, 7))
    for i0, i1, j0, j1 in ((0, 23, 0, 37), (23, 50, 0, 15), (23, 50, 15, 37)):   # three tiles
        bi, bj, sums, counts = _block_sums(field[i0:i1, j0:j1], i0, j0, 6)
        total[np.ix_(bi, bj)] += sums
        n[np.ix_(bi, bj)] += counts
    whole = np.array([[field[6 * r:6 * r + 6, 6 * c:6 * c + 6].mean() for c in range(7)] for r in range(9)])
    np.testing.assert_allclose(total / n, whole, rtol=1e-12)


def test_noise_is_fixed_by_global_position_not_by_the_window():
    # two overlapping windows of different sizes and origins draw the same uniforms where they overlap
    a = tiling.PositionalNoise(7, 0, -10, 5).uniforms((3, 100, 90))
    b = tiling.PositionalNoise(7, 0, 30, 40).uniforms((3, 50, 70))
    assert np.array_equal(a[:, 40:100, 35:90][:, :50, :55], b[:, :50, :55])
    assert not np.array_equal(tiling.PositionalNoise(8, 0, 30, 40).uniforms((3, 50, 70)), b)
    assert not np.array_equal(tiling.PositionalNoise(7, 1, 30, 40).uniforms((3, 50, 70)), b)


def test_a_stochastic_tiled_run_does_not_depend_on_the_tile_size(tmp_path):
    from conftest import SMALL_RECIPE

    path = tmp_path / "stochastic.toml"
    # one pixel (a grid of 157 samples) keeps it small: tiles of 79 samples (4) and 157 (1)
    path.write_text(SMALL_RECIPE.replace("pixel_um = 0.2\n", "pixel_um = 0.2\nstochastic = true\n")
                    .replace('layer = "R"', 'layer = "R"\nwindow_um = [0, 0, 25.4, 25.4]'))
    setup = process.prepare(path)
    runs = [tiling.simulate_tiled(setup, tile, scheduler="sync") for tile in (15.8, 31.4)]
    assert runs[0].tiles_total == 4 and runs[1].tiles_total == 1
    one, two = (r.steps[0] for r in runs)
    other = tiling.simulate_tiled(dataclasses.replace(setup, recipe=dataclasses.replace(setup.recipe, seed=2)),
                                  31.4, scheduler="sync").steps[0]
    # the same noise voxel by voxel: what differs is the tiling's own (halo) error, far below the noise
    noise = np.abs(two.remaining_thickness - other.remaining_thickness).max()
    assert noise > 1e-2
    assert np.abs(one.remaining_thickness - two.remaining_thickness).max() < 1e-3
    (p,), (q,) = one.pixels, two.pixels
    for key in ("printed_area_um2", "cd_x_um", "cd_y_um", "iou", "mean_nrt"):
        assert p[key] == pytest.approx(q[key], rel=1e-4), key
    assert p["epe_rms_um"] == pytest.approx(q["epe_rms_um"], abs=1e-3)


def test_the_array_pitch_is_read_from_the_design_and_tiles_are_whole_periods(runs):
    setup, _, tiled = runs
    assert tiling.array_pitch_um(setup.designs) == (25.4, 25.4)
    assert tiling.period_samples(25.4, 0.2) == 127 and tiling.period_samples(25.4, 0.25) == 508
    assert tiled.plan.period_px == 127 and tiled.plan.tile_px % 127 == 0


def test_tiles_found_identical_give_what_simulating_each_gives(write_recipe):
    # two interior tiles of the 8 x 8 array that share a key, each simulated on its own
    recipe = write_recipe(**{"stripe_1000ppi_2x2.gds": "stripe_1000ppi.gds"})
    recipe.write_text(recipe.read_text().replace('layer = "R"', 'layer = "R"\nwindow_um = [0, 0, 203.2, 203.2]'))
    setup = process.prepare(recipe, allow_tiling=True)
    plan = tiling.plan_tiles(setup, 25.4)
    by_index = {(t.row, t.col): t for t in plan.tiles}
    tasks = [tiling.TileTask(setup.recipe, 0, plan, by_index[rc], False) for rc in ((3, 3), (4, 5))]
    keys = {tiling.geometry_key(task, *tiling.window_content(task)) for task in tasks}
    assert len(keys) == 1
    a, b = (tiling.run_tile(task) for task in tasks)
    assert np.abs(a.remaining_thickness - b.remaining_thickness).max() < 1e-6
    shift = np.zeros(len(tiling.PIXEL_FIELDS))
    shift[:2] = [2 * 25.4, 25.4]        # (x, y) µm from tile (3, 3) to tile (4, 5)
    assert len(a.pixels) == len(b.pixels) == 1
    np.testing.assert_allclose(a.pixels + shift, b.pixels, rtol=0, atol=1e-6)


def test_outputs_that_would_not_fit_on_disk_are_refused(runs, tmp_path, monkeypatch, capsys):
    import shutil

    setup, _, _ = runs
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    assert main(["simulate", str(setup.recipe.path), "-o", str(tmp_path / "full"), "--tile", "40"]) == 2
    assert "free there" in capsys.readouterr().err
    assert not (tmp_path / "full").exists()


def test_report_and_table_of_a_tiled_run(runs):
    setup, _, tiled = runs
    tmp_path = setup.recipe.path.parent / "out"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report == tiled.report
    step = report["steps"][0]
    assert step["designed_pixels"] == 4 and step["defects"] == {"missing": [], "bridged": [], "area_off": []}
    lines = (tmp_path / "pixels.csv").read_text().splitlines()
    assert len(lines) == 1 + 4
    # one row per designed pixel, in (y, x) order of the design centroids
    xy = [(float(line.split(",")[3]), float(line.split(",")[2])) for line in lines[1:]]
    assert xy == sorted(xy) and not list(tmp_path.glob(".tiles-*"))
    assert litho.read_mask(tmp_path / "predicted.gds", layer=(101, 0)).polygons
    assert (tmp_path / "overview.png").stat().st_size > 0
    assert (MASKS / "stripe_1000ppi.gds").exists()


def test_the_report_finds_exactly_the_injected_mask_defects(small_recipe_text, tmp_path):
    # masks/panel_3x3_defects.gds: masks/panel_3x3.gds with a missing R pixel (0,0), a bridge from (2,0)
    # to (2,1) and a 4 µm particle in (1,2) (masks/README.md); measured against the clean layout
    recipe = tmp_path / "panel.toml"
    recipe.write_text(small_recipe_text.replace("stripe_1000ppi_2x2.gds", "panel_3x3_defects.gds")
                      .replace("pixel_um = 0.2\n", GUARD))
    out = tmp_path / "out"
    assert main(["simulate", str(recipe), "-o", str(out), "--tile", "40", "--no-figures", "-q",
                 "--design", str(MASKS / "panel_3x3.gds"), "--scheduler", "threads"]) == 0
    step = json.loads((out / "report.json").read_text())["steps"][0]
    pitch = 25.4
    site = lambda x, y: [round(x // pitch), round(y // pitch)]  # noqa: E731 - column, row of a centroid
    assert step["designed_pixels"] == 9
    assert [site(*p) for p in step["defects"]["missing"]] == [[0, 0]]
    assert sorted(site(*p) for p in step["defects"]["bridged"]) == [[2, 0], [2, 1]]
    assert [site(*p) for p in step["defects"]["area_off"]] == [[1, 2]]
