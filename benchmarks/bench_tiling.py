"""Tiled simulation: error against halo, tiles per second on 1 and 2 workers, panel and wafer extrapolation.

    python benchmarks/bench_tiling.py halo [MULTIPLES]   # max |tiled − untiled| image error vs halo
    python benchmarks/bench_tiling.py rate               # tiles/s, 1 and 2 local workers (3 x 3 test panel)
    python benchmarks/bench_tiling.py panel              # recipes/rgb_panel_1cm.toml end to end, wafer extrapolated
    python benchmarks/bench_tiling.py scaling [SIZES]    # time vs n x n pixels (4,8,16,32), untiled baseline
    python benchmarks/bench_tiling.py rgb [SIZES]        # the RGB recipe on n x n arrays: wall, peak RSS

``halo``: the small hard-contact recipe of the tests (2 × 2 stripe cell,
0.2 µm, 254 nm), FFT guard 30 µm in both runs so that only the mask content
a tile's halo leaves out differs; tiles of 30 µm; the halo is
``tiling.HALO_FRESNEL_LENGTHS`` Fresnel lengths (varied here).
``rate``: masks/panel_3x3.gds, tiles of 25.4 µm (12 tiles), Dask's threaded
scheduler with 1 and 2 workers, every tile computed (no sharing). ``panel``:
the shipped 1 cm² recipe run whole against masks/panel_1cm.gds, and a 150 mm
wafer as the panels that fit on it (π·75² / 1 cm², ≈ 176) on N workers.
``scaling``: the small hard-contact recipe on n × n stripe arrays (layer R),
automatic snapped tiles, against the untiled run up to 8 × 8. ``rgb``: the
shipped three-step RGB proximity recipe (``rgb_stripe_1000ppi.toml``) on
n × n stripe arrays (8, 16, 32, 64 by default), each size one
``litho simulate --no-figures`` in a fresh child process (peak RSS of that
child): litho tiles by itself once a window would not fit in memory.
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
            # every tile simulated (share=False): the rate of tile computations, not of sharing
            run = tiling.simulate_tiled(setup, 25.4, scheduler="threads", workers=workers, share=False)
            dt = time.perf_counter() - t
            print(f"{workers} worker(s): {run.tiles_simulated} tiles in {dt:.1f} s, "
                  f"{run.tiles_simulated / dt:.3f} tiles/s", flush=True)


def _array_recipe(tmp: Path, n: int) -> Path:
    """The small hard-contact recipe on an n x n RGB stripe array (layer R) made by ``litho mask``."""
    from conftest import SMALL_MASK, SMALL_RECIPE

    from litho.cli import main

    mask = tmp / f"stripe_{n}x{n}.gds"
    main(["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", str(n), "--rows", str(n),
          "--no-marks", "-o", str(mask)])
    path = tmp / f"array_{n}.toml"
    path.write_text(SMALL_RECIPE.replace(SMALL_MASK.as_posix(), mask.as_posix()))
    return path


def scaling(sizes: list[int], untiled_up_to: int = 8) -> None:
    """Wall time of a tiled run (automatic tiles, shared) against n x n pixels; untiled as the baseline."""
    import os
    import resource
    import tempfile

    import numpy as np

    import litho
    from litho import process, tiling

    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'pixels':>8} {'tiles':>6} {'simulated':>9} {'tiled s':>8} {'untiled s':>9} {'ms/pixel':>8}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            setup = process.prepare(_array_recipe(Path(tmp), n), allow_tiling=True)
            out = Path(tmp) / f"out_{n}"
            out.mkdir()
            t = time.perf_counter()
            run = tiling.simulate_tiled(setup, scheduler="threads", out_dir=out, figures=False)
            tiled = time.perf_counter() - t
            untiled = float("nan")
            if n <= untiled_up_to:
                t = time.perf_counter()
                litho.simulate(setup.recipe, setup=setup, check_convergence=False)
                untiled = time.perf_counter() - t
            rows.append((n * n, tiled))
            print(f"{n * n:8d} {run.tiles_total:6d} {run.tiles_simulated:9d} {tiled:8.1f} {untiled:9.1f} "
                  f"{1e3 * tiled / (n * n):8.2f}", flush=True)
    pixels, times = np.array(rows).T
    slope = np.polyfit(np.log(pixels), np.log(times), 1)[0]
    print(f"cost exponent (time ~ pixels^a, {sizes[0]}..{sizes[-1]} per side): a = {slope:.2f}; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


def rgb(sizes: list[int]) -> None:
    """The RGB recipe on n x n stripe arrays, one child process per size: wall time, peak RSS, per subpixel."""
    import os
    import subprocess
    import tempfile

    import numpy as np

    from litho.cli import main

    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'pixels':>8} {'subpixels':>9} {'wall s':>8} {'peak RSS GB':>11} {'ms/subpixel':>11}  tiled")
    rows = []
    text = (ROOT / "recipes" / "rgb_stripe_1000ppi.toml").read_text()
    probe = ("import resource, sys, litho.__main__ as m; code = m.main(sys.argv[1:]); "
             "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
             "sys.exit(code)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            mask = Path(tmp) / f"stripe_{n}x{n}.gds"
            main(["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", str(n),
                  "--rows", str(n), "--no-marks", "-o", str(mask)])
            recipe = Path(tmp) / f"rgb_{n}.toml"
            recipe.write_text(text.replace('file = "../masks/stripe_1000ppi.gds"', f'file = "{mask.as_posix()}"')
                              .replace("window_um = [0, 0, 203.2, 203.2]",
                                       f"window_um = [0, 0, {25.4 * n:g}, {25.4 * n:g}]"))
            t = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", probe, "simulate", str(recipe), "-o",
                                   str(Path(tmp) / f"out_{n}"), "--no-figures", "-q"],
                                  capture_output=True, text=True, env={**os.environ, "CI": "true"})
            wall = time.perf_counter() - t
            if done.returncode:
                print(f"{n * n:8d}  failed: {done.stderr.strip().splitlines()[-1]}")
                continue
            rss_gb = int(done.stderr.split("maxrss")[-1].split()[0]) / 1e6
            tiled = " tiles of " in done.stdout   # the tiled run's summary line (cli/simulate.run_tiled)
            rows.append((n * n, wall))
            print(f"{n * n:8d} {3 * n * n:9d} {wall:8.1f} {rss_gb:11.2f} {1e3 * wall / (3 * n * n):11.2f}  "
                  f"{'yes' if tiled else 'no'}", flush=True)
    if len(rows) > 1:
        pixels, times = np.array(rows).T
        slope = np.polyfit(np.log(pixels), np.log(times), 1)[0]
        print(f"cost exponent (time ~ pixels^a): a = {slope:.2f}")


def panel(workers: list[int], design: Path | None = ROOT / "masks" / "panel_1cm.gds") -> None:
    """The shipped 1 cm² recipe end to end, in process: wall time, peak memory, time per subpixel, wafer."""
    import os
    import resource
    import tempfile

    from litho import process, tiling

    print(f"load average {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    setup = process.prepare(ROOT / "recipes" / "rgb_panel_1cm.toml", allow_tiling=True)
    with tempfile.TemporaryDirectory() as tmp:
        run = tiling.simulate_tiled(setup, scheduler="threads", out_dir=Path(tmp), design_path=design,
                                    progress=print)
    wall = time.perf_counter() - t0
    subpixels = sum(s["designed_pixels"] for s in run.report["steps"])
    print(f"{run.tiles_total} tiles, {run.tiles_simulated} simulated; wall {wall / 60:.1f} min, "
          f"{1e3 * wall / subpixels:.2f} ms per subpixel, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
    for step in run.report["steps"]:
        print(f"  {step['name']}: {step['designed_pixels']} pixels, defects {step['defects']}")
    wafer_panels = math.floor(math.pi * 7.5 ** 2)  # 1 cm² panels on a 150 mm wafer (area in cm²)
    for n in workers:
        print(f"{n:3d} worker(s): 150 mm wafer ({wafer_panels} panels, each its own run) "
              f"{wafer_panels * wall / n / 3600:.1f} h")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "rate"
    if what == "halo":
        halo([float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "4,8,12,16").split(",")])
    elif what == "panel":
        panel([1, 2, 16, 128])
    elif what == "rgb":
        rgb([int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "8,16,32,64").split(",")])
    elif what == "scaling":
        scaling([int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "4,8,16,32").split(",")])
    else:
        rate()
