"""A dose × gap sweep that shares work, against the same points simulated independently.

    python benchmarks/bench_sweep.py [--doses 10] [--gaps 10] [--pixels 2] [--steps R]

The shipped RGB proximity recipe (``recipes/rgb_stripe_1000ppi.toml``) cut
to a ``--pixels`` × ``--pixels`` window of its 1000 ppi array and to the
``--steps`` given, swept over ``--doses`` × ``--gaps`` points (default
10 × 10 = 100). Three runs of the same points, in this order, each after the
optics caches are emptied:

1. ``litho.sweep`` (points at one gap share one image and unit local dose;
   gaps are mapped with Dask threads);
2. the same sweep with ``share=False``: every point an independent
   ``litho.simulate`` mapped with Dask threads (what the sweep did before);
3. a plain serial loop of ``litho.simulate`` over the points (the optics
   caches warm from one point to the next, as in one process);
4. the same loop from scratch: the optics caches (transfer functions,
   kernels, the cone rule's probe) emptied before every point, as 100
   separate ``litho simulate`` runs would start (the development response
   tables and metrology design terms stay warm, and no interpreter starts,
   so this understates them).

Prints the wall times, their ratios (target: the shared sweep ≥ 10× faster
than 100 independent simulations), and the largest difference of any metric
between runs 1 and 3 (float noise).

Against simulations that share the optics caches (runs 2 and 3) the ratio
cannot pass ``10·(I + c + o) / (I + 10·c)`` for 10 doses a gap (I one gap's
image, c a point's development and measurement, o a simulation's set-up):
a gap's image is what both compute, once a gap here and once a point there.
Run 4 also pays each point's transfer functions, as a fresh run does.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import time
from pathlib import Path

import numpy as np

import litho
from litho.optics import clear_caches
from litho.recipe import recipe_from_dict
from litho.sweep import step_rows, parse_vary, point_recipe, sweep

ROOT = Path(__file__).resolve().parents[1]


def bench_recipe(pixels: int, steps: list[str]):
    base = litho.load_recipe(ROOT / "recipes" / "rgb_stripe_1000ppi.toml")
    raw = copy.deepcopy(dict(base.raw))
    raw["mask"]["window_um"] = [0.0, 0.0, 25.4 * pixels, 25.4 * pixels]
    raw["step"] = [s for s in raw["step"] if s["name"] in steps]
    return recipe_from_dict(raw, source=str(base.path), base_dir=base.path.parent, path=base.path)


def worst_difference(a: list[dict], b: list[dict]) -> float:
    worst = 0.0
    for x, y in zip(a, b):
        for key, value in x.items():
            if isinstance(value, float) and isinstance(y.get(key), float) and np.isfinite(value):
                worst = max(worst, abs(value - y[key]))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doses", type=int, default=10)
    parser.add_argument("--gaps", type=int, default=10)
    parser.add_argument("--pixels", type=int, default=2)
    parser.add_argument("--steps", default="R", help="comma-separated step names (default R)")
    args = parser.parse_args()
    recipe = bench_recipe(args.pixels, args.steps.split(","))
    axes = [parse_vary(f"exposure.dose_mj_cm2=150:450:{args.doses}"),
            parse_vary(f"exposure.gap_um=3:12:{args.gaps}")]
    points = list(itertools.product(*(a.values for a in axes)))
    sweep(recipe, [parse_vary("exposure.dose_mj_cm2=300")])   # imports and first-call set-up out of the figures

    times, rows = {}, {}
    clear_caches()
    t = time.perf_counter()
    rows["shared"] = sweep(recipe, axes)["rows"]
    times["shared"] = time.perf_counter() - t

    clear_caches()
    t = time.perf_counter()
    rows["independent"] = sweep(recipe, axes, share=False)["rows"]
    times["independent"] = time.perf_counter() - t

    clear_caches()
    t = time.perf_counter()
    serial = []
    for values in points:
        result = litho.simulate(point_recipe(recipe, axes, values))
        serial.extend({**dict(zip([a.name for a in axes], values)), **row} for row in step_rows(result.steps))
    times["serial"] = time.perf_counter() - t
    rows["serial"] = serial

    t = time.perf_counter()
    for values in points:
        clear_caches()
        litho.simulate(point_recipe(recipe, axes, values))
    times["scratch"] = time.perf_counter() - t

    print(f"{len(points)} points ({args.doses} doses x {args.gaps} gaps), steps {args.steps}, "
          f"{args.pixels} x {args.pixels} pixels of rgb_stripe_1000ppi.toml")
    print(f"  shared sweep (Dask threads):          {times['shared']:8.2f} s")
    print(f"  independent simulations (Dask threads): {times['independent']:6.2f} s")
    print(f"  plain serial loop of simulate:        {times['serial']:8.2f} s")
    print(f"  serial loop from scratch (caches emptied): {times['scratch']:4.2f} s")
    print(f"  ratio from scratch / shared: {times['scratch'] / times['shared']:.1f}  (target >= 10)")
    print(f"  ratio independent / shared: {times['independent'] / times['shared']:.1f}")
    print(f"  ratio serial / shared:      {times['serial'] / times['shared']:.1f}")
    print(f"  largest metric difference shared vs serial: {worst_difference(rows['shared'], rows['serial']):.2e}")


if __name__ == "__main__":
    main()
