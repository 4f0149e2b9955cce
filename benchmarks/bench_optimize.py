"""``litho optimize`` for the CD against a plain grid search of the same dose resolution.

    python benchmarks/bench_optimize.py [--step R] [--low 150] [--high 450] [--resolution-mj-cm2 2]

The shipped RGB recipe (``recipes/rgb_stripe_1000ppi.toml``, 839 × 839 grid at
0.25 µm), one step, dose varied between ``--low`` and ``--high``, objective
``cd`` (|CD error|, the larger of the mean x and y errors). Two runs, each
after the optics caches are emptied:

1. ``litho.optimize`` with its tolerance set to ``--resolution-mj-cm2``
   (coarse scan, then bounded Brent; then the profile and sensitivity);
2. a plain grid: ``litho.sweep`` over every dose at that spacing (one
   shared image, like the optimiser) and the best feasible point of it.

Prints both wall times, their ratio, the evaluation counts, both optima,
their CD errors against the sample pitch (the known answer: within the
pitch of zero) and the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import litho
from litho.optics import clear_caches
from litho.optimization import Plan, optimize, reduce_to_step
from litho.sweep import Axis, sweep

ROOT = Path(__file__).resolve().parents[1]


def _cd_error(row) -> float:
    return max(abs(row["cd_x_error_mean_um"]), abs(row["cd_y_error_mean_um"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=str(ROOT / "recipes" / "rgb_stripe_1000ppi.toml"))
    parser.add_argument("--step", default="R")
    parser.add_argument("--low", type=float, default=150.0)
    parser.add_argument("--high", type=float, default=450.0)
    parser.add_argument("--resolution-mj-cm2", type=float, default=2.0)
    args = parser.parse_args()

    recipe = litho.load_recipe(args.recipe)
    span = args.high - args.low
    load_before = os.getloadavg()

    clear_caches()
    start = time.perf_counter()
    result = optimize(recipe, {"exposure.dose": (args.low, args.high)}, "cd", step=args.step,
                      plan=Plan(resolution=args.resolution_mj_cm2 / span))
    t_opt = time.perf_counter() - start

    clear_caches()
    n = int(round(span / args.resolution_mj_cm2)) + 1
    judged = [s for s in recipe.steps if s.name == args.step]
    start = time.perf_counter()
    doses = tuple(float(d) for d in np.linspace(args.low, args.high, n))
    grid = sweep(reduce_to_step(recipe, args.step), [Axis("exposure", "dose", doses)])
    t_grid = time.perf_counter() - start
    ok = [r for r in grid["rows"] if not r["missing_pixels"] and not r["bridges"]
          and r["cd_x_error_mean_um"] is not None]
    best = min(ok, key=_cd_error)
    load_after = os.getloadavg()

    pitch = recipe.simulation.pixel_um
    [row] = result.report["metrics"]
    print(f"{recipe.name}, step {args.step} ({judged[0].film.name}), dose {args.low:g}-{args.high:g} mJ/cm^2, "
          f"resolution {args.resolution_mj_cm2:g} mJ/cm^2, pitch {pitch:g} um")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (2 cores, shared)")
    print(f"optimize: dose {result.optimum['exposure.dose_mj_cm2']:.2f} mJ/cm^2, |CD error| {result.value:.4f} um "
          f"(x {row['cd_x_error_mean_um']:+.4f}, y {row['cd_y_error_mean_um']:+.4f}); {result.evaluations} "
          f"evaluations, {result.images} images, {t_opt:.1f} s with the profile and sensitivity; the search "
          f"alone {result.report['search_evaluations']} evaluations, {result.search_wall_time_s:.1f} s")
    print(f"grid:     dose {best['exposure.dose_mj_cm2']:.2f} mJ/cm^2, |CD error| {_cd_error(best):.4f} um; "
          f"{n} evaluations, 1 image, {t_grid:.1f} s")
    print(f"within the pitch of zero: optimize {result.value < pitch}, grid {_cd_error(best) < pitch}")
    print(f"ratio grid / optimize wall time: {t_grid / t_opt:.2f} "
          f"(search alone {t_grid / result.search_wall_time_s:.2f}); "
          f"evaluations {n / result.evaluations:.2f} (search alone {n / result.report['search_evaluations']:.2f})")


if __name__ == "__main__":
    main()
