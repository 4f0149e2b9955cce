"""``litho min-feature RECIPE``: the smallest feature a recipe prints, and the highest ppi."""

from __future__ import annotations

import json
from pathlib import Path

from .. import fields
from ..resolution import POINTS_PER_DECADE
from ..spec import CD_TOLERANCE, MIN_NRT
from . import add_scheduler_option, example_help, output_dir
from .figures import add_figure_options, figure_options
from .mask import DeprecatedAlias, note_deprecated

ORDER = 15
GAP_MAX_UM = 1e3


def register(subparsers) -> None:
    p = subparsers.add_parser("min-feature", **example_help(
        "Find the smallest feature a recipe prints: 1:1 lines and spaces, an isolated square, and an RGB "
        "stripe pixel array (reported also as the highest ppi). A feature prints when it is not missing, "
        "does not bridge, keeps its CD within --cd-tol and h/h0 >= --min-nrt over its centre; "
        "each size is a full simulation with the recipe's optics, chemistry and developer. Sizes are "
        "scanned on a log grid and every pass/fail transition refined, so the answer is the smallest size "
        "above which everything prints (proximity printing is not monotone in size), with any islands "
        "below it. 'Nothing prints' is an answer. Writes min_feature.json and min_feature.png.",
        "litho min-feature recipes/rgb_stripe_1000ppi.toml -o out/minfeature"))
    p.add_argument("recipe", help="recipe TOML file")
    p.add_argument("-o", "--out", default="out", help="output directory (default: out)")
    p.add_argument("--feature", default="line-space,square,pixel-array",
                   help="comma-separated: line-space, square, pixel-array (default: all three)")
    p.add_argument("--step", default="0", help="step name or index of a multi-step recipe (default: the first)")
    p.add_argument("--subpixel-gap-um", "--gap-um", dest="gap_um", action=DeprecatedAlias,
                   type=fields.option(fields.non_negative, "--subpixel-gap-um", hi=GAP_MAX_UM, unit="µm"),
                   default=1.0, help=f"gap between subpixels of the pixel array, 0 to {GAP_MAX_UM:g} µm (default 1; "
                                     "--gap-um: the old name, accepted until litho 0.2)")
    p.add_argument("--cd-tol", type=fields.option(fields.number, "--cd-tol", lo=0.0, hi=1.0, lo_open=True),
                   default=CD_TOLERANCE,
                   help=f"largest |CD error| as a fraction of the designed CD (default: {CD_TOLERANCE:g})")
    p.add_argument("--min-nrt", type=fields.option(fields.number, "--min-nrt", lo=0.0, hi=1.0), default=MIN_NRT,
                   help=f"smallest h/h0 over the feature's central region (default: {MIN_NRT:g})")
    p.add_argument("--points-per-decade", type=fields.option(fields.number, "--points-per-decade", lo=2.0, hi=200.0),
                   default=POINTS_PER_DECADE,
                   help=f"density of the size scan (default: {POINTS_PER_DECADE:g}); finer finds narrower islands")
    add_scheduler_option(p)
    add_figure_options(p)
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (it is drawn on stderr only when stderr is a terminal and CI is unset)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import LithoInputError
    from ..outputs import atomic_dir
    from ..recipe import load_recipe
    from ..resolution import FEATURES, search_all
    from ..spec import Criteria

    note_deprecated(args)
    features = [f.strip() for f in args.feature.split(",") if f.strip()]
    bad = [f for f in features if f not in FEATURES]
    if bad or not features:
        raise LithoInputError(f"--feature {args.feature!r}: accepted: {', '.join(FEATURES)}")
    criteria = Criteria(cd_tol=args.cd_tol, min_nrt=args.min_nrt)
    if not args.points_per_decade >= 1:
        raise LithoInputError(f"--points-per-decade {args.points_per_decade:g}: give at least 1")
    out = output_dir(args.out)
    recipe = load_recipe(args.recipe)
    report = search_all(recipe, features, step=args.step, gap_um=args.gap_um, criteria=criteria,
                        points_per_decade=args.points_per_decade, quiet=args.quiet, scheduler=args.scheduler)
    print(summary_text(report))
    from ..report import result_file

    with atomic_dir(out) as tmp:
        (tmp / "min_feature.json").write_text(json.dumps(result_file(report), indent=2) + "\n")
        figures = plot(report, tmp / "min_feature.png", figure_options(args))
    print(f"wrote min_feature.json, {', '.join(p.name for p in figures)} to {out}/")
    return 0


def summary_text(report: dict) -> str:
    from ..optics.proximity import DIRECTION_TOLERANCE

    c = report["criteria"]
    lines = [f"{report['recipe']} (step {report['step']}; prints: CD within {100 * c['cd_tolerance_fraction']:g}%, "
             f"central h/h0 >= {c['min_centre_nrt']:g}, no missing or bridged feature)"]
    for f in report["features"]:
        size = f["min_size_um"]
        if size is None:
            text = "nothing prints"
        else:
            text = f"{'<= ' if f['at_search_floor'] else ''}{size:.3g} um"
            if f["max_ppi"]:
                text += f" pitch (subpixel gap {f['subpixel_gap_um']:g} um): {f['max_ppi']:.0f} ppi"
        lines.append(f"  {f['feature']:<12s} {text}")
        lines.append(f"  {'':<12s} ({f['answer']})")
        estimate = f.get("quadrature_error_estimate_max")
        if estimate is not None and estimate > DIRECTION_TOLERANCE:
            lines.append(f"  {'':<12s} (cone quadrature error estimated at up to {estimate:.1e} of the clear "
                         f"field in the trials, above the {DIRECTION_TOLERANCE:.0e} of the default rule)")
    if report["rule_of_thumb_um"]:
        lines.append(f"  (mask-aligner rule of thumb 1.5*sqrt(lambda*(g + h/2)) = {report['rule_of_thumb_um']:.3g} um)")
    return "\n".join(lines)


def plot(report: dict, path: Path, options=None) -> list[Path]:
    """min_feature.png (and the other asked-for formats): :func:`litho.plot.min_feature_figure`."""
    from ..plot import min_feature_figure, save

    return save(min_feature_figure(report), path, options)
