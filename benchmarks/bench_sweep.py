"""Speed-up of a sweep mapped with Dask threads over the same sweep run one by one.

    python benchmarks/bench_sweep.py

Eight points (dose × film thickness) of the shipped 254 nm contact-print
recipe; prints both wall times and their ratio (threads / one by one) —
on 2 cores the ideal is 0.5.
"""

from __future__ import annotations

import time
from pathlib import Path

import litho
from litho.sweep import parse_vary, sweep

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    recipe = litho.load_recipe(ROOT / "recipes" / "ebt_cdse_254nm.toml")
    axes = [parse_vary("exposure.dose=1:6:4"), parse_vary("film.thickness=25,35")]
    sweep(recipe, axes[:1], scheduler="sync")  # warm imports and caches
    times = {}
    for scheduler in ("sync", "threads"):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            sweep(recipe, axes, scheduler=scheduler)
            best = min(best, time.perf_counter() - t)
        times[scheduler] = best
    print("8 points, ebt_cdse_254nm.toml (best of 3)")
    print(f"  one by one (sync): {times['sync']:.2f} s")
    print(f"  Dask threads:      {times['threads']:.2f} s")
    print(f"  ratio threads / sync: {times['threads'] / times['sync']:.2f}")


if __name__ == "__main__":
    main()
