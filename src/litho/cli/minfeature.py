"""``litho min-feature RECIPE``: the smallest feature a recipe prints, and the highest ppi."""

from __future__ import annotations

import json
from pathlib import Path

from .. import fields
from . import example_help, output_dir

ORDER = 15
GAP_MAX_UM = 1e3


def register(subparsers) -> None:
    p = subparsers.add_parser("min-feature", **example_help(
        "Find the smallest feature a recipe prints: 1:1 lines and spaces, an isolated square, and an RGB "
        "stripe pixel array (reported also as the highest ppi). A feature prints when it is not missing, "
        "does not bridge, keeps its CD within 10% and h/h0 >= 0.8 at its centre (PHYSICS.md §7); each "
        "size is a full simulation with the recipe's optics, chemistry and developer. Writes "
        "min_feature.json and min_feature.png.",
        "litho min-feature recipes/rgb_stripe_1000ppi.toml -o out/minfeature"))
    p.add_argument("recipe", help="recipe TOML file")
    p.add_argument("-o", "--out", default="out", help="output directory (default: out)")
    p.add_argument("--feature", default="line-space,square,pixel-array",
                   help="comma-separated: line-space, square, pixel-array (default: all three)")
    p.add_argument("--step", default="0", help="step name or index of a multi-step recipe (default: the first)")
    p.add_argument("--gap-um", type=fields.option(fields.non_negative, "--gap-um", hi=GAP_MAX_UM, unit="µm"),
                   default=1.0, help=f"gap between subpixels of the pixel array, 0 to {GAP_MAX_UM:g} µm (default 1)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import LithoInputError
    from ..outputs import atomic_dir
    from ..recipe import load_recipe
    from ..resolution import FEATURES, search_all

    features = [f.strip() for f in args.feature.split(",") if f.strip()]
    bad = [f for f in features if f not in FEATURES]
    if bad or not features:
        raise LithoInputError(f"--feature {args.feature!r}: accepted: {', '.join(FEATURES)}")
    out = output_dir(args.out)
    recipe = load_recipe(args.recipe)
    report = search_all(recipe, features, step=args.step, gap_um=args.gap_um)
    print(summary_text(report))
    with atomic_dir(out) as tmp:
        (tmp / "min_feature.json").write_text(json.dumps(report, indent=2) + "\n")
        plot(report, tmp / "min_feature.png")
    print(f"wrote min_feature.json, min_feature.png to {out}/")
    return 0


def summary_text(report: dict) -> str:
    lines = [f"{report['recipe']} (step {report['step']})"]
    for f in report["features"]:
        size = f["min_size_um"]
        if size is None:
            text = "nothing in the searched range prints"
        else:
            text = f"{'<= ' if f['at_search_floor'] else ''}{size:.3g} um"
            if f["max_ppi"]:
                text += f" pitch (gap {f['gap_um']:g} um): {f['max_ppi']:.0f} ppi"
            if f["at_search_floor"]:
                text += " (the smallest size searched)"
        lines.append(f"  {f['feature']:<12s} {text}")
    if report["rule_of_thumb_um"]:
        lines.append(f"  (mask-aligner rule of thumb 1.5*sqrt(lambda*(g + h/2)) = {report['rule_of_thumb_um']:.3g} um)")
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, f in enumerate(report["features"]):
        trials = sorted(f["trials"], key=lambda t: t["size_um"])
        colour = f"C{k}"
        for t in trials:
            ax.plot(t["size_um"], k, "o" if t["prints"] else "x", color=colour)
        if f["min_size_um"]:
            ax.axvline(f["min_size_um"], color=colour, lw=0.8, ls="--")
    ax.set_yticks(range(len(report["features"])), [f["feature"] for f in report["features"]])
    ax.set_xscale("log")
    ax.set(xlabel="feature size (line width, square side, pixel pitch), µm",
           title=f"simulated sizes: o prints, x fails (step {report['step']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
