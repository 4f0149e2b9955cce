"""Mask benchmarks: generate a large pixel array, and read + rasterise a window of it.

    python benchmarks/bench_mask.py [--pixels 2000] [--window-um 500] [--pitch-um 0.1]

1. Generate and write a 3000 ppi RGB stripe of N x N pixels (target < 5 s, < 1 MB).
2. Read layer R in a W x W µm window of that file and rasterise it at the given
   pitch (target < 10 s, < 2 GB peak memory).

Each stage runs in its own Python process so its peak resident memory
(``ru_maxrss``) is its own. Every number is printed absolute and as a ratio to a
baseline measured in the same run on the same machine:
- generation time vs numpy filling one float64 per subpixel (3·N² values);
- read + rasterise time vs numpy filling the output raster (same shape, float64);
- peak memory vs a bare process that imported litho, and vs the raster's own bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def _rss_mb() -> float:
    # ru_maxrss is KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def stage_idle(_args) -> dict:
    import numpy  # noqa: F401

    import litho.gds  # noqa: F401
    import litho.layout  # noqa: F401
    import litho.raster  # noqa: F401

    return {"peak_rss_mb": _rss_mb()}


def stage_generate(args) -> dict:
    import numpy as np

    import litho
    from litho.gds import write_gds

    start = time.perf_counter()
    lib = litho.pixel_array("stripe", ppi=3000, gap_um=1, columns=args.pixels, rows=args.pixels)
    write_gds(lib, args.file)
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    baseline = np.full(3 * args.pixels * args.pixels, 1.0)
    baseline_s = time.perf_counter() - start
    del baseline
    return {"time_s": elapsed, "file_bytes": os.path.getsize(args.file), "baseline_s": baseline_s,
            "peak_rss_mb": _rss_mb()}


def stage_read(args) -> dict:
    import numpy as np

    from litho.gds import read_mask
    from litho.grid import Grid
    from litho.raster import rasterize

    x0 = y0 = 8000.0
    window = (x0, y0, x0 + args.window_um, y0 + args.window_um)
    start = time.perf_counter()
    mask = read_mask(args.file, layer="R", window=window)
    read_s = time.perf_counter() - start
    grid = Grid.covering(window, args.pitch_um)
    t = rasterize(mask, grid)
    elapsed = time.perf_counter() - start
    coverage_error = abs(t.sum() * args.pitch_um**2 - mask.geometry.area)
    nbytes = t.nbytes
    del t
    start = time.perf_counter()
    baseline = np.full(grid.shape, 1.0)
    baseline_s = time.perf_counter() - start
    del baseline
    return {"time_s": elapsed, "read_s": read_s, "grid": list(grid.shape), "raster_mb": nbytes / 2**20,
            "polygons": len(mask.polygons), "coverage_error_um2": coverage_error, "baseline_s": baseline_s,
            "peak_rss_mb": _rss_mb()}


STAGES = {"idle": stage_idle, "generate": stage_generate, "read": stage_read}


def _child(stage: str, args) -> dict:
    cmd = [sys.executable, __file__, "--stage", stage, "--file", args.file, "--pixels", str(args.pixels),
           "--window-um", str(args.window_um), "--pitch-um", str(args.pitch_um)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pixels", type=int, default=2000)
    parser.add_argument("--window-um", type=float, default=500.0)
    parser.add_argument("--pitch-um", type=float, default=0.1)
    parser.add_argument("--stage", choices=sorted(STAGES))
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(STAGES[args.stage](args)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        args.file = os.path.join(tmp, "stripe_3000ppi_big.gds")
        idle = _child("idle", args)
        gen = _child("generate", args)
        read = _child("read", args)
    n = args.pixels
    print(f"1. generate + write 3000 ppi stripe, {n} x {n} pixels ({3 * n * n:,} subpixels)")
    print(f"   time        {gen['time_s']:.3f} s   ({gen['time_s'] / gen['baseline_s']:.2f} x numpy filling "
          f"{3 * n * n:,} float64 = {gen['baseline_s']:.3f} s)   target < 5 s")
    print(f"   file size   {gen['file_bytes']:,} bytes ({gen['file_bytes'] / 2**20:.4f} MB)   target < 1 MB")
    print(f"2. read layer R in a {args.window_um:g} x {args.window_um:g} um window + rasterise at "
          f"{args.pitch_um:g} um (grid {read['grid'][0]} x {read['grid'][1]}, {read['polygons']} polygons)")
    print(f"   time        {read['time_s']:.3f} s (read {read['read_s']:.3f} s)   "
          f"({read['time_s'] / read['baseline_s']:.2f} x numpy filling the raster = {read['baseline_s']:.3f} s)"
          f"   target < 10 s")
    extra = read["peak_rss_mb"] - idle["peak_rss_mb"]
    print(f"   peak memory {read['peak_rss_mb']:.0f} MB RSS ({extra:.0f} MB above an idle process of "
          f"{idle['peak_rss_mb']:.0f} MB; {extra / read['raster_mb']:.2f} x the {read['raster_mb']:.0f} MB raster)"
          f"   target < 2 GB")
    print(f"   coverage sum vs polygon area: {read['coverage_error_um2']:.2e} um^2")


if __name__ == "__main__":
    main()
