"""Wall time of ``litho min-feature`` on the shipped projection and proximity recipes.

    python benchmarks/bench_minfeature.py [--compare] [RECIPE ...]

Runs :func:`litho.resolution.search_all` (line-space, square, pixel array)
on each recipe from empty optics caches and prints the wall time, the
number of sizes simulated and the time per size (target: ≤ 5 s per
recipe). ``--compare`` runs the same search a second time with the SOCS
kernels built for every window (the route before one-off windows were
imaged by Abbe's sum) and prints the ratio, measured in the same run,
and whether both find the same sizes.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import litho
from litho import resolution
from litho.optics import clear_caches

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ("projection_stripe_3000ppi_365nm.toml", "rgb_stripe_1000ppi.toml")


def timed_search(recipe):
    clear_caches()
    t = time.perf_counter()
    report = resolution.search_all(recipe)
    return time.perf_counter() - t, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", default=list(DEFAULT))
    parser.add_argument("--compare", action="store_true", help="also time the kernel-per-window route")
    args = parser.parse_args()
    for name in args.recipes:
        path = Path(name) if Path(name).exists() else ROOT / "recipes" / name
        recipe = litho.load_recipe(path)
        seconds, report = timed_search(recipe)
        sizes = sum(len(f["trials"]) for f in report["features"])
        answers = {f["feature"]: f["min_size_um"] for f in report["features"]}
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"{path.name}: {seconds:.2f} s, {sizes} sizes, {1e3 * seconds / max(sizes, 1):.0f} ms per size "
              f"(target <= 5 s; load average {load})")
        print("  " + ", ".join(f"{k} {'-' if v is None else f'{v:.3g} um'}" for k, v in answers.items()))
        if args.compare:
            original = resolution.one_off_optics
            resolution.one_off_optics = lambda optics: optics   # kernels built for every window
            try:
                kernel_s, kernel_report = timed_search(recipe)
            finally:
                resolution.one_off_optics = original
            same = answers == {f["feature"]: f["min_size_um"] for f in kernel_report["features"]}
            print(f"  kernels per window: {kernel_s:.2f} s, ratio {kernel_s / seconds:.1f}; "
                  f"same answers: {same}")


if __name__ == "__main__":
    main()
