"""``litho sweep RECIPE --vary KEY=a:b:n ...``: a recipe over a grid of parameter values."""

from __future__ import annotations

import json
import time

from . import add_grid_run_options, example_help, output_dir
from .figures import add_figure_options, figure_options

ORDER = 16


def register(subparsers) -> None:
    p = subparsers.add_parser("sweep", **example_help(
        "Simulate a recipe over a grid of parameter values (dose, gap, focus, film thickness...) and "
        "report per point and step: IoU, CD error, EPE, missing pixels, bridges, residue, PLQY and whether "
        "the point is in spec (no missing pixel, no bridge, CD within 10%); with a dose axis also the "
        "exposure latitude. Points that differ only in dose or developer share one aerial image and depth-resolved "
        "dose per step; the other points run in parallel with Dask (locally, or on a cluster with --scheduler). "
        "Writes sweep.csv, sweep.json and sweep.png (per step: Bossung curves, the dose x gap/focus matrix "
        "with the largest in-spec window, exposure latitude vs depth of focus or gap latitude).",
        "litho sweep recipes/rgb_stripe_1000ppi.toml --vary exposure.dose=150:450:7 "
        "--vary exposure.gap=2,5 -o out/sweep"))
    p.add_argument("recipe", help="recipe TOML file")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=a:b:n", type=_vary_option,
                   help="section.key=a:b:n (n linear points) or section.key=v1,v2,...; values in the key's "
                        "canonical unit (dose mJ/cm^2, gap um, thickness nm, time s). Repeat for a grid.")
    add_grid_run_options(p, out_default="out", out_help="output directory (default: out)")
    add_figure_options(p)
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (it is drawn on stderr only when stderr is a terminal and CI is unset)")
    p.set_defaults(func=run)


def _vary_option(text: str):
    """``--vary`` parsed and checked by :func:`litho.sweep.parse_vary` (values: finite numbers)."""
    import argparse
    import math

    from ..errors import LithoInputError
    from ..sweep import parse_vary

    try:
        axis = parse_vary(text)
    except LithoInputError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--vary ")) from None
    if not all(math.isfinite(v) for v in axis.values):
        raise argparse.ArgumentTypeError(f"{text!r}: values must be finite numbers")
    return axis


def run(args) -> int:
    from ..errors import LithoInputError
    from ..outputs import atomic_dir
    from ..recipe import load_recipe
    from ..plot import process_window_figure, save
    from ..report import result_file
    from ..sweep import parse_vary, rows_to_csv, sweep

    if not args.vary:
        raise LithoInputError("--vary: give at least one, e.g. --vary exposure.dose=100:400:7")
    if args.pixel_um is not None and not args.pixel_um > 0:
        raise LithoInputError(f"--pixel-um {args.pixel_um:g}: give a pitch > 0 µm")
    out = output_dir(args.out)
    axes = [parse_vary(v) if isinstance(v, str) else v for v in args.vary]
    recipe = load_recipe(args.recipe)
    start = time.perf_counter()
    result = sweep(recipe, axes, scheduler=args.scheduler, pixel_um=args.pixel_um, quiet=args.quiet)
    points = len(result["rows"]) // max(1, len(recipe.steps))
    print(f"{recipe.name}: {points} points x {len(recipe.steps)} steps in {time.perf_counter() - start:.1f} s")
    names = [a.name for a in axes]
    for row in result["rows"]:
        cd = row["cd_x_error_mean_um"]
        print("  " + ", ".join(f"{n} {row[n]:g}" for n in names)
              + f"  {row['step']}: IoU {row['iou_mean'] or 0:.3f}, CD error x "
              + ("n/a" if cd is None else f"{cd:+.3f} um")
              + f", missing {row['missing_pixels']}, bridges {row['bridges']}"
              + ("  in spec" if row["in_spec"] else ""))
    for entry in result.get("exposure_latitude", []):
        lat = entry["exposure_latitude_pct"]
        others = ", ".join(f"{k} {v:g}" for k, v in entry.items()
                           if k not in ("step", "dose_min_mj_cm2", "dose_max_mj_cm2", "exposure_latitude_pct",
                                        "limited_by_sweep"))
        where = f" ({others})" if others else ""
        print(f"  exposure latitude {entry['step']}{where}: "
              + ("no dose in spec" if lat is None else
                 f"{'>= ' if entry['limited_by_sweep'] else ''}{lat:.0f}% "
                 f"({entry['dose_min_mj_cm2']:g}-{entry['dose_max_mj_cm2']:g} mJ/cm^2"
                 f"{', in spec to the end of the swept doses' if entry['limited_by_sweep'] else ''})"))
    with atomic_dir(out) as tmp:
        document = result_file(result)
        (tmp / "sweep.json").write_text(json.dumps(document, indent=2) + "\n")
        # the CSV holds sweep.json's rows: the same column names (units in them) and precision
        (tmp / "sweep.csv").write_text(rows_to_csv(document["rows"]))
        figures = save(process_window_figure(result, f"Process window: {recipe.name}"), tmp / "sweep.png",
                       figure_options(args))
    print(f"wrote sweep.csv, sweep.json, {', '.join(p.name for p in figures)} to {out}/")
    return 0
