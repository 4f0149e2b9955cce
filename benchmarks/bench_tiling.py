"""Tiled simulation: error against halo, tiles per second on 1 and 2 workers, panel and wafer extrapolation.

    python benchmarks/bench_tiling.py halo [MULTIPLES]   # max |tiled − untiled| image error vs halo
    python benchmarks/bench_tiling.py rate               # tiles/s, 1 and 2 local workers (3 x 3 test panel)
    python benchmarks/bench_tiling.py panel              # one tile of recipes/rgb_panel_1cm.toml, extrapolated

``halo``: the small hard-contact recipe of the tests (2 × 2 stripe cell,
0.2 µm, 254 nm), FFT guard 30 µm in both runs so that only the mask content
a tile's halo leaves out differs; tiles of 30 µm; the halo is
``tiling.HALO_FRESNEL_LENGTHS`` Fresnel lengths (varied here).
``rate``: masks/panel_3x3.gds, tiles of 40 µm (6 tiles), Dask's threaded
scheduler with 1 and 2 workers. ``panel``: the shipped 1 cm² recipe, its
automatic tile plan, one interior tile of the first step timed, the whole
panel extrapolated as (distinct tiles per step) × steps × time per tile, and
a 150 mm wafer as the panels that fit on it (π·75² / 1 cm², ≈ 176) on N workers.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _recipe(tmp: Path, mask: str = "stripe_1000ppi_2x2.gds") -> Path:
    from conftest import SMALL_RECIPE

    path = tmp / f"bench_tiling_{Path(mask).stem}.toml"
    path.write_text(SMALL_RECIPE.replace("stripe_1000ppi_2x2.gds", mask)
                    .replace("pixel_um = 0.2\n", "pixel_um = 0.2\nguard_um = 30\n"))
    return path


def halo(multiples: list[float]) -> None:
    import tempfile

    import numpy as np

    import litho
    from litho import process, tiling

    with tempfile.TemporaryDirectory() as tmp:
        setup = process.prepare(_recipe(Path(tmp)))
        ref = litho.simulate(setup.recipe, setup=setup).steps[0].intensity
        print(f"{'Fresnel lengths':>15} {'halo um':>8} {'max |dI|':>10} {'time s':>7}")
        for m in multiples:
            tiling.HALO_FRESNEL_LENGTHS = m
            t = time.perf_counter()
            run = tiling.simulate_tiled(setup, 30.0, scheduler="sync")
            err = float(np.abs(run.steps[0].intensity - ref).max())
            print(f"{m:15g} {run.plan.halo_px * run.plan.grid.pixel_um:8.2f} {err:10.2e} "
                  f"{time.perf_counter() - t:7.1f}", flush=True)


def rate() -> None:
    import tempfile

    from litho import process, tiling

    with tempfile.TemporaryDirectory() as tmp:
        setup = process.prepare(_recipe(Path(tmp), "panel_3x3.gds"))
        for workers in (1, 2):
            t = time.perf_counter()
            run = tiling.simulate_tiled(setup, 40.0, scheduler="threads", workers=workers)
            dt = time.perf_counter() - t
            print(f"{workers} worker(s): {run.tiles_simulated} tiles in {dt:.1f} s, "
                  f"{run.tiles_simulated / dt:.3f} tiles/s", flush=True)


def panel(workers: list[int]) -> None:
    from litho import process, tiling

    t = time.perf_counter()
    setup = process.prepare(ROOT / "recipes" / "rgb_panel_1cm.toml", allow_tiling=True)
    t_prepare = time.perf_counter() - t
    plan = tiling.plan_tiles(setup)
    distinct = []
    for index in range(len(setup.recipe.steps)):
        keys = {tiling.geometry_key(task, *tiling.window_content(task)) for task in
                (tiling.TileTask(setup.recipe, index, plan, tile) for tile in plan.tiles)}
        distinct.append(len(keys))
    tile = plan.tiles[len(plan.tiles) // 2 + plan.shape[1] // 2]
    t = time.perf_counter()
    tiling.run_tile(tiling.TileTask(setup.recipe, 0, plan, tile, False, 8))
    per_tile = time.perf_counter() - t
    total = sum(distinct) * per_tile
    print(f"grid {setup.grid.shape[1]} x {setup.grid.shape[0]} at {setup.grid.pixel_um} um, untiled estimate "
          f"{setup.memory.total_bytes / 1e9:.0f} GB; prepare {t_prepare:.1f} s")
    print(f"{len(plan.tiles)} tiles of {plan.tile_px} samples per step, distinct per step {distinct}, "
          f"one tile {per_tile:.1f} s")
    wafer_panels = math.floor(math.pi * 7.5 ** 2)  # 1 cm² panels on a 150 mm wafer (area in cm²)
    for n in workers:
        print(f"{n:3d} worker(s): panel {total / n / 3600:.1f} h, 150 mm wafer ({wafer_panels} panels) "
              f"{wafer_panels * total / n / 3600 / 24:.1f} days")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "rate"
    if what == "halo":
        halo([float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "4,8,12,16").split(",")])
    elif what == "panel":
        panel([1, 2, 16, 128])
    else:
        rate()
