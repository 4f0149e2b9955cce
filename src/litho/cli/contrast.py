"""``litho contrast RECIPE [-o DIR]``: the open-frame contrast curve of a recipe step."""

from __future__ import annotations

import json
import math
from pathlib import Path

from . import example_help, output_dir

ORDER = 40


def register(subparsers) -> None:
    p = subparsers.add_parser("contrast", **example_help(
        "Simulate the contrast curve of a recipe: normalised remaining thickness (NRT) versus dose on an "
        "open frame, with D0 (onset), D50, D100 (full retention) and the contrast gamma in both forms "
        "(1/log10(D100/D0) and the IUPAC 1/(2 log10(D50/D0))). Writes contrast.csv, contrast.json and "
        "contrast.png into the output directory.",
        "litho contrast recipes/ebt_cdse_254nm.toml -o out/contrast"))
    p.add_argument("recipe", help="recipe TOML file")
    p.add_argument("-o", "--out", default="out", help="output directory (default: out)")
    p.add_argument("--step", default=None, help="step name of a multi-step recipe (default: the first)")
    p.add_argument("--doses", default=None, metavar="LOW:HIGH:N",
                   help="log-spaced doses in mJ/cm^2 (default: spans the whole curve)")
    p.set_defaults(func=run)


def recipe_step(recipe_path, step_name, out_dir):
    """Check the output directory, load the recipe, and return (recipe, the chosen step)."""
    from ..recipe import load_recipe

    output_dir(out_dir)
    recipe = load_recipe(recipe_path)
    return recipe, recipe.steps[recipe.step_index(step_name)]


def parse_doses(text: str):
    import numpy as np

    from ..errors import LithoInputError

    try:
        low, high, n = text.split(":")
        low, high, n = float(low), float(high), int(n)
    except ValueError:
        raise LithoInputError(f"--doses {text!r}: give LOW:HIGH:N, e.g. 0.1:100:200") from None
    if not (0 < low < high) or n < 2:
        raise LithoInputError(f"--doses {text!r}: need 0 < LOW < HIGH mJ/cm^2 and N >= 2")
    return np.geomspace(low, high, n)


def run(args) -> int:
    from ..development import contrast_curve
    from ..outputs import atomic_dir

    out = output_dir(args.out)
    recipe, step = recipe_step(args.recipe, args.step, out)
    doses = parse_doses(args.doses) if args.doses else None
    lines = step.exposure.optics.lines
    curve = contrast_curve(step.film, step.crosslinker, step.developer, step.exposure.atmosphere, lines, doses)
    summary = summary_dict(curve, step)
    with atomic_dir(out) as tmp:
        write_csv(tmp / "contrast.csv", curve)
        (tmp / "contrast.json").write_text(json.dumps(summary, indent=2) + "\n")
        plot_contrast(tmp / "contrast.png", curve, step, recipe.name)
    label = recipe.name if step.name == recipe.name else f"{recipe.name} [{step.name}]"
    print(f"{label}: {step.film.name} + {step.crosslinker.name}, "
          f"{', '.join(f'{w:g} nm' for w, _ in lines)}, {step.exposure.atmosphere.label}, "
          f"{step.developer.name} {step.developer.time_s:g} s")
    print(f"  D0 = {_fmt(curve.d0)} mJ/cm^2, D50 = {_fmt(curve.d50)} mJ/cm^2, D100 = {_fmt(curve.d100)} mJ/cm^2")
    print(f"  gamma = {_fmt(curve.gamma)} (1/log10(D100/D0)), gamma_iupac = {_fmt(curve.gamma_iupac)} "
          f"(1/(2 log10(D50/D0)))")
    print(f"  at the recipe dose {step.exposure.dose_mj_cm2:g} mJ/cm^2: NRT {summary['nrt_at_recipe_dose']:.3f}, "
          f"PLQY retention {summary['plqy_retention_at_recipe_dose']:.3f}")
    print(f"wrote contrast.csv, contrast.json, contrast.png to {out}/")
    return 0


def _fmt(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.4g}"


def _json_number(value: float):
    return None if value is None or not math.isfinite(value) else float(value)


def summary_dict(curve, step) -> dict:
    """Characteristic doses and gammas, with the recipe dose's NRT and PLQY."""
    from ..development import develop

    dose = step.exposure.dose_mj_cm2
    import numpy as np
    at = develop([(w, np.array([dose * wt])) for w, wt in step.exposure.optics.lines], step.film,
                 step.crosslinker, step.developer, step.exposure.atmosphere)
    return {
        "step": step.name,
        "film": step.film.name,
        "crosslinker": step.crosslinker.name,
        "developer": step.developer.name,
        "atmosphere": step.exposure.atmosphere.label,
        "wavelengths_nm": [w for w, _ in step.exposure.optics.lines],
        "d0_mj_cm2": _json_number(curve.d0),
        "d50_mj_cm2": _json_number(curve.d50),
        "d100_mj_cm2": _json_number(curve.d100),
        "gamma": _json_number(curve.gamma),
        "gamma_iupac": _json_number(curve.gamma_iupac),
        "recipe_dose_mj_cm2": dose,
        "nrt_at_recipe_dose": float(at.remaining_thickness[0]),
        "plqy_retention_at_recipe_dose": float(at.plqy_retention[0]),
    }


def write_csv(path, curve) -> None:
    with open(path, "w") as fh:
        fh.write("dose_mj_cm2,nrt,plqy_retention\n")
        for d, h, q in zip(curve.doses, curve.nrt, curve.plqy_retention):
            fh.write(f"{d:.6g},{h:.6f},{q:.6f}\n")


def plot_contrast(path, curve, step, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.0), dpi=110)
    ax.semilogx(curve.doses, curve.nrt, color="k", lw=1.8, label="NRT (h/h0)")
    ax.semilogx(curve.doses, curve.plqy_retention, color="tab:green", lw=1.2, ls="--", label="PLQY / PLQY0")
    for row, (value, label, colour) in enumerate(((curve.d0, "D0", "tab:blue"), (curve.d50, "D50", "tab:orange"),
                                                  (curve.d100, "D100", "tab:red"))):
        if math.isfinite(value):
            ax.axvline(value, color=colour, lw=0.8, ls=":")
            # labels stacked at the left, so close doses do not overprint
            ax.text(0.02, 0.62 - 0.07 * row, f"{label} = {value:.3g} mJ/cm²", color=colour,
                    transform=ax.transAxes, fontsize=8)
    ax.axvline(step.exposure.dose_mj_cm2, color="0.5", lw=1.0, label="recipe dose")
    ax.set_xlabel("dose (mJ/cm²)")
    ax.set_ylabel("normalised remaining thickness")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title(f"{title}\nγ = {_fmt(curve.gamma)}, γ_IUPAC = {_fmt(curve.gamma_iupac)}", fontsize=9)
    ax.legend(loc="center right", fontsize=8)
    ax.grid(True, which="both", alpha=0.25)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
