"""Cost of the figure set of ``litho simulate``, against a baseline drawn in the same run.

    python benchmarks/bench_figures.py [RECIPE] [--baseline-rev REV] [--repeat N]

Simulates RECIPE once (default recipes/rgb_stripe_1000ppi.toml), then writes
its figures (litho.plot.save_figures) with the working tree's plot.py and with
plot.py as it was at REV (default HEAD), alternately, N times each (default 3),
and prints the best wall and CPU time of each and their ratios (CPU time
counts this process and the processes it forks to draw figures, and moves
less with the machine's load). The two draw the same
result, on the same machine at the same time: the ratio is what travels.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def baseline_plot(rev: str):
    """litho.plot as it was at ``rev``, imported as a sibling module of the current litho."""
    source = subprocess.run(["git", "show", f"{rev}:src/litho/plot.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "plot_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("litho._plot_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _cpu_s() -> float:
    """CPU time of this process and of its finished children (figures drawn in forked processes)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def time_figures(module, result, out: Path) -> tuple[float, float]:
    """(wall s, CPU s of this process and its children) of writing every figure of ``result`` with ``module``."""
    out.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), _cpu_s()
    paths = module.save_figures(result, out)
    elapsed, cpu = time.perf_counter() - t0, _cpu_s() - c0
    assert paths, "no figures written"
    return elapsed, cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", nargs="?", default=str(ROOT / "recipes" / "rgb_stripe_1000ppi.toml"))
    parser.add_argument("--baseline-rev", default="HEAD")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import litho
    from litho import plot

    result = litho.simulate(litho.load_recipe(args.recipe))
    base = baseline_plot(args.baseline_rev)
    times = {"baseline": [], "current": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            times["baseline"].append(time_figures(base, result, Path(tmp) / f"b{k}"))
            times["current"].append(time_figures(plot, result, Path(tmp) / f"c{k}"))
        n = len(list((Path(tmp) / "c0").iterdir()))
        from matplotlib.testing.compare import calculate_rms

        import numpy as np
        from PIL import Image

        rms = {}
        for png in sorted((Path(tmp) / "c0").glob("*.png")):
            a = np.asarray(Image.open(png).convert("RGB"), dtype=float)
            b = np.asarray(Image.open(Path(tmp) / "b0" / png.name).convert("RGB"), dtype=float)
            rms[png.name] = calculate_rms(a, b) if a.shape == b.shape else float("nan")
    b, c = min(t for t, _ in times["baseline"]), min(t for t, _ in times["current"])
    bc, cc = min(t for _, t in times["baseline"]), min(t for _, t in times["current"])
    load = os.getloadavg()
    print(f"{args.recipe}: {len(result.steps)} step(s), grid {result.steps[0].grid.shape[1]} x "
          f"{result.steps[0].grid.shape[0]}, {n} figures")
    print(f"baseline plot.py at {args.baseline_rev}: best {b:.2f} s wall, {bc:.2f} s CPU, of {args.repeat} "
          f"({', '.join(f'{t:.2f}' for t, _ in times['baseline'])} s wall)")
    print(f"current plot.py: best {c:.2f} s wall, {cc:.2f} s CPU "
          f"({', '.join(f'{t:.2f}' for t, _ in times['current'])} s wall)")
    print("RMS difference current vs baseline (0-255; the field figures' cut-line column changes when "
          "plot.py's content does): " + ", ".join(f"{k} {v:.2f}" for k, v in rms.items()))
    print(f"ratio current / baseline: {c / b:.2f} wall, {cc / bc:.2f} CPU   (load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
