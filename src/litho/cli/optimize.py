"""``litho optimize RECIPE --vary KEY=LOW:HIGH,... --objective iou|cd|plqy|window [-o DIR]``."""

from __future__ import annotations

import json

from .. import fields
from . import add_grid_run_options, example_help, output_dir
from .figures import add_figure_options, figure_options

ORDER = 17


def register(subparsers) -> None:
    from ..optimization import OBJECTIVES

    p = subparsers.add_parser("optimize", **example_help(
        "Find the settings within the given ranges that maximise an objective -- iou (mean IoU), cd "
        "(|CD error|, minimised), plqy (PLQY retention in the print) or window (exposure latitude at the "
        "point's optics) -- with no missing pixel, no bridge and, with --min-plqy, a PLQY floor. The dose is "
        "searched on one shared image per optics setting (coarse scan, then bounded Brent); other axes (gap, "
        "loading...) on a coarse grid mapped with Dask, then refined (Brent or Nelder-Mead). Prints the "
        "optimum, its constraints and sensitivity; with -o writes optimize.json (same bytes for the same "
        "inputs), timing.json and optimize.png (the objective along each axis through the optimum). "
        "No feasible point in the ranges is one line and exit 2.",
        "litho optimize recipes/rgb_stripe_1000ppi.toml --vary exposure.dose=150:450 --objective cd "
        "--step R -o out/optimize"))
    p.add_argument("recipe", help="recipe TOML file")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=LOW:HIGH[,...]", type=_vary_option,
                   help="section.key=LOW:HIGH, comma-separated or repeated (exposure.dose, exposure.gap, "
                        "crosslinker.loading_wt_pct...); canonical units of the keys")
    p.add_argument("--objective", required=True, choices=OBJECTIVES, help="what to optimise")
    p.add_argument("--step", default=None, help="judge this step only (default: every step)")
    p.add_argument("--min-plqy", default=None, metavar="X",
                   type=fields.option(fields.number, "--min-plqy", lo=0.0, hi=1.0),
                   help="smallest PLQY retention over the printed film, 0 to 1 (default: none)")
    p.add_argument("--allow-missing", action="store_true", help="accept missing pixels (refused by default)")
    p.add_argument("--allow-bridges", action="store_true", help="accept bridged pixels (refused by default)")
    p.add_argument("--in-spec", action="store_true",
                   help="also require every step in specification (CD within 10%%, h/h0 >= 0.8)")
    p.add_argument("--resolution", default=0.005, metavar="F",
                   type=fields.option(fields.number, "--resolution", lo=0.0, hi=0.5, lo_open=True, hi_open=True),
                   help="tolerance on each axis as a fraction of its range (default 0.005)")
    p.add_argument("--profile-points", default=11, metavar="N",
                   type=fields.option(fields.integer, "--profile-points", convert=int, lo=3, hi=201),
                   help="samples of each axis's profile through the optimum, 3 to 201 (default 11)")
    add_grid_run_options(p, out_default=None, out_help="output directory for optimize.json and optimize.png")
    add_figure_options(p)
    p.set_defaults(func=run)


def _vary_option(text: str):
    import argparse

    from ..errors import LithoInputError
    from ..optimization import parse_ranges

    try:
        return parse_ranges(text)
    except LithoInputError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--vary ")) from None


def run(args) -> int:
    from ..errors import LithoInputError
    from ..optimization import Constraints, Plan, optimize, profile_figure
    from ..outputs import atomic_dir
    from ..parallel import check_scheduler
    from ..plot import save

    if not args.vary:
        raise LithoInputError("--vary: give at least one range, e.g. --vary exposure.dose=150:450")
    out = output_dir(args.out) if args.out is not None else None
    check_scheduler(args.scheduler)
    ranges = [r for group in args.vary for r in group]
    constraints = Constraints(allow_missing=args.allow_missing, allow_bridges=args.allow_bridges,
                              min_plqy=args.min_plqy, in_spec=args.in_spec)
    plan = Plan(resolution=args.resolution, profile_points=args.profile_points)
    result = optimize(args.recipe, ranges, args.objective, constraints,
                      step=args.step, pixel_um=args.pixel_um, plan=plan, scheduler=args.scheduler)
    print(summary(result))
    if out is not None:
        with atomic_dir(out) as tmp:
            (tmp / "optimize.json").write_text(json.dumps(result.report, indent=2) + "\n")
            timing = {"wall_time_s": result.wall_time_s, "search_wall_time_s": result.search_wall_time_s,
                      "evaluations": result.evaluations, "images": result.images}
            (tmp / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")
            figures = save(profile_figure(result.report), tmp / "optimize.png", figure_options(args))
        print(f"wrote optimize.json, timing.json, {', '.join(p.name for p in figures)} to {out}/")
    return 0


def _images(n: int) -> str:
    return f"{n} image{'' if n == 1 else 's'}"


def _span(span) -> str:
    return "-" if span is None else f"{span[0]:.4g} to {span[1]:.4g}"


def summary(result) -> str:
    """The optimum, its constraints and sensitivity as text."""
    r = result.report
    unit = {"cd": " um", "window": " %"}.get(r["objective"], "")
    lines = [f"{r['recipe']} (step {r['step']}): {r['objective']} = {result.value:.5g}{unit} at "
             + ", ".join(f"{k} = {v:.5g}" for k, v in result.optimum.items())]
    if r["window"]:
        w = r["window"]
        lines.append(f"  in-spec dose range {w['dose_min']:.5g} to {w['dose_max']:.5g}"
                     + (" (reaches an end of the range)" if w["limited_by_range"] else ""))
    held = [f"{k} {v['value']}" + (f" (limit {v['limit']})" if v["limit"] not in (None, True, 0) else "")
            for k, v in r["constraint_status"].items() if v["enforced"]]
    lines.append("  constraints hold: " + (", ".join(held) if held else "none set"))
    for row in r["metrics"]:
        cdx, cdy = row["cd_x_error_mean_um"], row["cd_y_error_mean_um"]
        lines.append(f"  {row['step']}: IoU {row['iou_mean'] or 0:.4f}, CD error x "
                     + ("n/a" if cdx is None else f"{cdx:+.4f}") + " y " + ("n/a" if cdy is None else f"{cdy:+.4f}")
                     + f" um, PLQY {row['plqy_retention_mean_in_print'] or 0:.4f}"
                     + (", in spec" if row["in_spec"] else ", out of spec"))
    for s in r["sensitivity"]:
        d = s["d_objective"]
        lines.append(f"  {s['name']}: d {r['objective']}/dx " + ("-" if d is None else f"{d:.4g}")
                     + (f", dCDx/dx {s['d_cd_x_error_um']:.4g} um" if s["d_cd_x_error_um"] is not None else "")
                     + f"; within 1%: {_span(s['within_1pct'])}; in spec: {_span(s['within_spec'])}")
    lines.append(f"  {result.evaluations} evaluations, {_images(result.images)}, {result.wall_time_s:.1f} s "
                 f"(search: {r['search_evaluations']} evaluations, {_images(r['search_images'])}, "
                 f"{result.search_wall_time_s:.1f} s)")
    return "\n".join(lines)
