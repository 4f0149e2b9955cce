"""Wall time of ``litho min-feature`` on the shipped projection and proximity recipes.

    python benchmarks/bench_minfeature.py [--compare] [--ladder SIZE_UM COUNT] [RECIPE ...]

Runs :func:`litho.resolution.search_all` (line-space, square, pixel array)
on each recipe from empty optics caches and prints the wall time, the
number of sizes simulated, the time per feature and per size (target: ≤ 5 s
per recipe), and, as the baseline measured in the same run, the time spent
inside the optics (``litho.optics.depth_images``, summed over the threads
that run independent sizes at once): the ratio search / optics is what
everything outside the optics (rasterising, chemistry, development,
metrology, the search itself) adds to the imaging, less what the threads
overlap.

``--serial`` runs the sizes one after another (``scheduler="sync"``), the
route before sizes ran as Dask tasks, and prints the ratio.

``--compare`` runs the same search a second time with the SOCS kernels
built for every window (the route before one-off windows were imaged by
Abbe's sum) and prints the ratio and whether both find the same sizes.

``--ladder SIZE_UM COUNT`` times the ladder layout for the isolated square
of side SIZE_UM: COUNT squares in a row in one isolated window, each in its
own 5·SIZE window, neighbouring windows separated by the optics' interaction
range (``blur_length_um``, the guard of an isolated window), against one
square per window at the same pitch (imaging and development per square).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections import defaultdict
from pathlib import Path

import litho
import litho.optics
from litho import resolution
from litho.optics import clear_caches

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ("projection_stripe_3000ppi_365nm.toml", "rgb_stripe_1000ppi.toml")


class OpticsClock:
    """Wraps ``litho.optics.depth_images`` (looked up by ``expose_step`` at each call) and adds up its time."""

    def __init__(self):
        self.seconds = 0.0
        self.original = litho.optics.depth_images

    def __enter__(self):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t

        litho.optics.depth_images = timed
        return self

    def __exit__(self, *exc):
        litho.optics.depth_images = self.original


def timed_search(recipe, scheduler=None):
    clear_caches()
    per_feature = defaultdict(float)
    with OpticsClock() as clock:
        t = time.perf_counter()
        features = []
        for feature in resolution.FEATURES:
            t0 = time.perf_counter()
            features.append(resolution.search_all(recipe, (feature,), scheduler=scheduler)["features"][0])
            per_feature[feature] = time.perf_counter() - t0
        seconds = time.perf_counter() - t
    return seconds, clock.seconds, per_feature, {"features": features}


def ladder(recipe, size_um: float, count: int) -> None:
    from shapely.geometry import box

    from litho.development import develop
    from litho.grid import Grid
    from litho.process import expose_step, prepare_design

    step = recipe.steps[0]
    optics = resolution.one_off_optics(step.exposure.optics)
    step = dataclasses.replace(step, exposure=dataclasses.replace(step.exposure, optics=optics))
    recipe = dataclasses.replace(recipe, steps=(step,))
    pitch = min(size_um / resolution.SAMPLES_ACROSS, 0.999 * optics.max_pixel_um)
    reach = optics.blur_length_um

    def run(design, grid):
        setup = prepare_design(recipe, design, grid, step=0, window="isolated")
        t = time.perf_counter()
        _, _, _, local = expose_step(setup.recipe.steps[0], design, grid, setup.recipe, step.exposure.dose_mj_cm2)
        t1 = time.perf_counter()
        develop(local, step.film, step.crosslinker, step.developer, step.exposure.atmosphere)
        return t1 - t, time.perf_counter() - t1

    one = Grid.covering((-2 * size_um, -2 * size_um, 3 * size_um, 3 * size_um), pitch)
    run((box(0, 0, size_um, size_um),), one)   # imports and first-call set-up out of the figure
    single = min((run((box(0, 0, size_um, size_um),), one) for _ in range(2)), key=sum)
    cell = 5 * size_um + reach
    design = tuple(box(k * cell, 0, k * cell + size_um, size_um) for k in range(count))
    row = Grid.covering((-2 * size_um, -2 * size_um, (count - 1) * cell + 3 * size_um, 3 * size_um), pitch)
    together = run(design, row)
    print(f"  ladder: {count} squares of {size_um:g} um at {pitch:.4g} um, windows {reach:.3g} um apart: "
          f"grid {row.shape[1]} x {row.shape[0]}, optics {together[0]:.2f} s, development {together[1]:.2f} s; "
          f"per square {sum(together) / count:.3f} s against {sum(single):.3f} s in its own "
          f"{one.shape[1]} x {one.shape[0]} window (ratio {sum(together) / count / sum(single):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", default=list(DEFAULT))
    parser.add_argument("--compare", action="store_true", help="also time the kernel-per-window route")
    parser.add_argument("--serial", action="store_true", help="also time the sizes one after another")
    parser.add_argument("--ladder", nargs=2, type=float, metavar=("SIZE_UM", "COUNT"),
                        help="time COUNT squares of SIZE_UM in one window against one per window")
    args = parser.parse_args()
    print(f"load average {open('/proc/loadavg').read().split()[:3]}")
    for name in args.recipes:
        path = Path(name) if Path(name).exists() else ROOT / "recipes" / name
        recipe = litho.load_recipe(path)
        if args.ladder:
            ladder(recipe, args.ladder[0], int(args.ladder[1]))
            continue
        seconds, optics_s, per_feature, report = timed_search(recipe)
        sizes = sum(len(f["trials"]) for f in report["features"])
        answers = {f["feature"]: f["min_size_um"] for f in report["features"]}
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"{path.name}: {seconds:.2f} s, {sizes} sizes, {1e3 * seconds / max(sizes, 1):.0f} ms per size "
              f"(target <= 5 s; load average {load})")
        print("  " + ", ".join(f"{f['feature']} {per_feature[f['feature']]:.2f} s ({len(f['trials'])} sizes)"
                               for f in report["features"]))
        print(f"  baseline, time inside the optics (summed over threads): {optics_s:.2f} s; "
              f"ratio search / optics {seconds / optics_s:.2f}")
        print("  " + ", ".join(f"{k} {'-' if v is None else f'{v:.3g} um'}" for k, v in answers.items()))
        if args.serial:
            serial_s, _, _, serial = timed_search(recipe, scheduler="sync")
            same = [f["min_size_um"] for f in serial["features"]] == [f["min_size_um"] for f in report["features"]]
            print(f"  one size after another: {serial_s:.2f} s; ratio serial / threads {serial_s / seconds:.2f}; "
                  f"same answers: {same}")
        if args.compare:
            original = resolution.one_off_optics
            resolution.one_off_optics = lambda optics: optics   # kernels built for every window
            try:
                kernel_s, _, _, kernel_report = timed_search(recipe)
            finally:
                resolution.one_off_optics = original
            same = answers == {f["feature"]: f["min_size_um"] for f in kernel_report["features"]}
            print(f"  kernels per window: {kernel_s:.2f} s, ratio {kernel_s / seconds:.1f}; "
                  f"same answers: {same}")


if __name__ == "__main__":
    main()
