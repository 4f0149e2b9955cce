"""Cost of films over PDL banks: the shipped PDL recipe with and without its [substrate].

    python benchmarks/bench_pdl.py [--repeat 3]

Measured in the same run on the same machine (the load average is printed):

1. ``litho.simulate`` of recipes/rgb_stripe_pdl.toml, and of the same recipe
   without its ``[substrate]`` section (the planar film): the ratio is what
   the banks cost (bank map, coating, local-thickness dose, report block);
2. the substrate set-up alone (bank height map and one coating) on the 8 × 8
   pixel stripe array with a bank layer (880 × 880 samples at 0.25 µm),
   against one float64 FFT of the same grid as the baseline.

Times are the best of ``--repeat`` runs, seconds.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import litho
    from litho.gds import read_mask
    from litho.grid import Grid
    from litho.recipe import recipe_from_dict
    from litho.topography import bank_height_um, coated_thickness_nm

    path = ROOT / "recipes" / "rgb_stripe_pdl.toml"
    raw = tomllib.loads(path.read_text())
    banked = recipe_from_dict(raw, base_dir=path.parent, path=path)
    planar_raw = copy.deepcopy(raw)
    del planar_raw["substrate"]
    planar = recipe_from_dict(planar_raw, base_dir=path.parent, path=path)
    litho.simulate(planar)            # warm the caches (response tables, kernels)
    t_planar = best(lambda: litho.simulate(planar), args.repeat)
    t_banked = best(lambda: litho.simulate(banked), args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        gds = Path(tmp) / "stripe8_pdl.gds"
        subprocess.run([sys.executable, str(ROOT / "masks" / "add_pdl_layer.py"), str(ROOT / "masks" / "stripe_1000ppi.gds"),
                        str(gds)], check=True, capture_output=True)
        bank = read_mask(gds, layer=(30, 0)).geometry
    grid = Grid((880, 880), 0.25, (-2.1, -2.1))
    field = np.random.default_rng(0).random(grid.shape)
    t_fft = best(lambda: np.fft.fft2(field), args.repeat)

    def setup():
        b = bank_height_um(bank, grid, 1.0, 40.0)
        coated_thickness_nm(1e3 * b, 30.0, 3.0, grid.pixel_um, solids_fraction=0.03)

    t_setup = best(setup, args.repeat)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"simulate rgb_stripe_pdl: planar {t_planar:.2f} s, with banks {t_banked:.2f} s, "
          f"ratio {t_banked / t_planar:.2f}")
    print(f"substrate set-up on 880 x 880: {t_setup:.3f} s = {t_setup / t_fft:.1f} x one fft2 ({t_fft:.3f} s)")


if __name__ == "__main__":
    main()
