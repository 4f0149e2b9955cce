"""litho's memory estimate against the measured peak, per case.

    python benchmarks/bench_memory.py              # every case
    python benchmarks/bench_memory.py CASE ...     # some cases (names as printed)
    python benchmarks/bench_memory.py --stages CASE  # also the peak of each stage
    python benchmarks/bench_memory.py --no-symmetry  # rasters imaged as if they had no symmetry

Each case runs ``litho.simulate`` in a fresh child process. The estimate is
:func:`litho.memory.estimate_simulation` for the grid simulate chooses; the
measured peak is tracemalloc's peak of Python and numpy allocations during
the call (numpy reports its buffers to tracemalloc; FFT scratch inside
scipy.fft is not), and, as a cross-check, the growth of the process's peak
RSS (ru_maxrss) over its RSS just before the call. The ratio printed is
estimate / tracemalloc peak; the target is 0.8-1.2.

Cases: every shipped recipe, and "contact-2424": the 8 × 8 R stripes of
masks/stripe_1000ppi.gds, contact print, on a 2424 × 2424 grid
(2424² samples: the case of the memory refusal that was found 2.2× low).

The estimate is for a raster without symmetry. A symmetric raster images
and caches one illumination direction per orbit (litho.optics.symmetry),
so the shipped symmetric windows need less than the estimate;
``--no-symmetry`` measures the case the estimate is for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cases() -> dict:
    cases = {p.stem: {"recipe": str(p)} for p in sorted((ROOT / "recipes").glob("*.toml"))}
    cases["contact-2424"] = {"recipe": str(ROOT / "recipes" / "tristad_inp_365nm_air.toml"),
                             "mask": str(ROOT / "masks" / "stripe_1000ppi.gds"), "grid": 2424}
    cases["proximity-gap40"] = {"recipe": str(ROOT / "recipes" / "tristad_inp_365nm_air.toml"),
                                "gap_um": 40.0, "tool": "proximity"}
    return cases


def _load(case: dict):
    import dataclasses

    import litho
    import litho.process as process
    from litho.recipe import recipe_from_dict

    recipe = litho.load_recipe(case["recipe"])
    if len(case) == 1:
        return recipe, None
    raw = json.loads(json.dumps(recipe.raw))
    base = Path(case["recipe"]).parent
    step = raw["step"][0] if "step" in raw else raw
    step.setdefault("mask", {})
    mask = step["mask"] if "mask" in step else raw["mask"]
    if "mask" in case:
        mask["file"] = case["mask"]
    else:
        mask["file"] = str((base / mask["file"]).resolve()) if "file" in mask else mask.get("file")
    exposure = step.setdefault("exposure", raw.get("exposure", {}))
    if "tool" in case:
        exposure["tool"] = case["tool"]
        exposure.pop("contact_mode", None)  # a contact-print key, refused for proximity
        exposure["gap"] = f"{case['gap_um']} um"
        exposure.setdefault("collimation_half_angle_deg", 1.0)
    recipe = recipe_from_dict(raw, base_dir=base, path=Path(case["recipe"]))
    pixel = None
    if "grid" in case:
        from litho.gds import read_mask

        m = read_mask(case["mask"], layer=recipe.steps[0].mask.layer)
        x0, y0, x1, y1 = m.bounds_um
        side = max(x1 - x0, y1 - y0)
        mask["window_um"] = [x0, y0, x0 + side, y0 + side]  # a square grid
        recipe = recipe_from_dict(raw, base_dir=base, path=Path(case["recipe"]))
        # Grid.covering adds FIELD_MARGIN_UM on each side
        pixel = (side + 2 * process.FIELD_MARGIN_UM) / case["grid"]
    return dataclasses.replace(recipe), pixel


def child(name: str, stages: bool, symmetry: bool = True) -> None:
    import resource
    import tracemalloc

    import litho
    import litho.process as process
    from litho.memory import estimate_simulation
    from litho.optics.window import MaskSpectrum

    if not symmetry:
        MaskSpectrum.symmetry = property(lambda self: None)

    case = _cases()[name]
    recipe, pixel = _load(case)
    seen = {}
    original = process.prepare

    def spy(*args, **kwargs):
        setup = original(*args, **kwargs)
        seen["grid"] = setup.grid
        seen["estimate"] = estimate_simulation(setup.grid, setup.recipe)
        return setup

    process.prepare = spy
    marks = []

    def progress(message):
        if stages:
            marks.append((message, tracemalloc.get_traced_memory()))
            tracemalloc.reset_peak()

    with open("/proc/self/statm") as f:
        rss_before = int(f.read().split()[1]) * resource.getpagesize()
    tracemalloc.start()
    litho.simulate(recipe, pixel_um=pixel, progress=progress)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if stages:
        marks.append(("end", (current, peak)))
        peak = max(p for _, (_, p) in marks)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    est = seen["estimate"]
    print(json.dumps({"case": name, "grid": list(seen["grid"].shape), "estimate": est.total_bytes,
                      "parts": est.parts, "peak": peak, "rss_growth": maxrss - rss_before,
                      "stages": [(m, c, p) for m, (c, p) in marks]}))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(argv[1], stages="--stages" in argv, symmetry="--no-symmetry" not in argv)
        return
    stages = "--stages" in argv
    names = [a for a in argv if not a.startswith("--")] or list(_cases())
    print(f"{'case':34} {'grid':>11} {'estimate MB':>12} {'peak MB':>9} {'RSS+ MB':>9} {'est/peak':>9}")
    ratios = []
    for name in names:
        cmd = ([sys.executable, __file__, "--child", name] + (["--stages"] if stages else [])
               + (["--no-symmetry"] if "--no-symmetry" in argv else []))
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{name:34} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        ratio = r["estimate"] / r["peak"]
        ratios.append(ratio)
        g = r["grid"]
        print(f"{name:34} {g[1]:>5}x{g[0]:<5} {r['estimate'] / 1e6:12.1f} {r['peak'] / 1e6:9.1f} "
              f"{r['rss_growth'] / 1e6:9.1f} {ratio:9.2f}")
        if stages:
            print("    estimate at the peak: " + ", ".join(
                f"{k} {v / 1e6:.1f} MB" if isinstance(v, int) else f"{k} {v}" for k, v in r["parts"].items()))
            for message, current, peak in r["stages"]:
                # the peak is that of the stage that ended when this one began
                print(f"    at {message[:60]:60} now {current / 1e6:8.1f} MB, previous stage's peak "
                      f"{peak / 1e6:8.1f} MB")
    if ratios:
        print(f"est/peak: min {min(ratios):.2f}, max {max(ratios):.2f} (target 0.80-1.20)")


if __name__ == "__main__":
    main(sys.argv[1:])
