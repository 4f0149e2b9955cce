"""``litho contrast RECIPE [-o DIR]``: the open-frame contrast curve of a recipe step."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..recipe import DOSE_MAX_MJ_CM2
from . import example_help, output_dir
from .figures import add_figure_options, figure_options

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
    p.add_argument("--doses", default=None, metavar="LOW:HIGH:N", type=_doses_option,
                   help=f"N log-spaced doses from LOW to HIGH mJ/cm^2, 0 < LOW < HIGH <= {DOSE_MAX:g}, "
                        f"2 <= N <= {DOSES_MAX_N} (default: spans the whole curve)")
    add_figure_options(p)
    p.set_defaults(func=run)


def recipe_step(recipe_path, step_name, out_dir):
    """Check the output directory, load the recipe, and return (recipe, the chosen step)."""
    from ..recipe import load_recipe

    output_dir(out_dir)
    recipe = load_recipe(recipe_path)
    return recipe, recipe.steps[recipe.step_index(step_name)]


DOSES_MAX_N = 100_000
DOSE_MAX = DOSE_MAX_MJ_CM2      # the recipe's limit on exposure.dose


def parse_doses(text: str):
    """``"LOW:HIGH:N"`` -> N log-spaced doses (mJ/cm^2), every part checked."""
    import numpy as np

    from .. import fields
    from ..errors import LithoInputError

    try:
        low, high, n = text.split(":")
        low, high = float(low), float(high)
        n = fields.integer(float(n), "N", lo=2, hi=DOSES_MAX_N)
    except (ValueError, LithoInputError):
        raise LithoInputError(f"--doses {text!r}: give LOW:HIGH:N with 2 <= N <= {DOSES_MAX_N}, "
                              "e.g. 0.1:100:200") from None
    ok = all(math.isfinite(v) for v in (low, high)) and 0 < low < high <= DOSE_MAX
    if not ok:
        raise LithoInputError(f"--doses {text!r}: need 0 < LOW < HIGH <= {DOSE_MAX:g} mJ/cm^2")
    return np.geomspace(low, high, n)


def _doses_option(text: str):
    import argparse

    from ..errors import LithoInputError

    try:
        return parse_doses(text)
    except LithoInputError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--doses ")) from None


def bracketed(curve):
    """``(curve with unbracketed D0/D50/D100 set to NaN, notes)``.

    A characteristic dose is bracketed when the curve crosses its level inside
    the swept doses. When the NRT is already above the level at the lowest
    dose, the first dose is not that characteristic dose (it only bounds it
    from above); when it never reaches it, there is none in the sweep.
    """
    import dataclasses

    from ..development import FULL_FRACTION, ONSET_NRT

    nrt = curve.nrt
    levels = {"D0": ONSET_NRT, "D50": 0.5, "D100": FULL_FRACTION * float(nrt.max())}
    attr = {"D0": "d0", "D50": "d50", "D100": "d100"}
    low, high = float(curve.doses[0]), float(curve.doses[-1])
    changes, below, above = {}, [], []
    # still rising at the highest dose: the plateau (and so D100) lies beyond the sweep
    rising = nrt.size >= 2 and float(nrt[-1] - nrt[-2]) > 0.01 * max(float(nrt.max()), 1e-12)
    for name, level in levels.items():
        if name == "D100" and ("D0" in above or rising):
            above.append(name)
            changes[attr[name]] = float("nan")
        elif nrt[0] >= level:
            below.append(name)
            changes[attr[name]] = float("nan")
        elif not (nrt >= level).any():
            above.append(name)
            changes[attr[name]] = float("nan")
    notes = []
    if below:
        notes.append(f"{', '.join(below)} not bracketed: NRT is already {nrt[0]:.3g} at the lowest dose "
                     f"{low:g} mJ/cm^2 (below the swept doses; lower LOW)")
    if above:
        notes.append(f"{', '.join(above)} not bracketed: the curve has not reached "
                     f"{'that level' if len(above) == 1 else 'those levels'} at the highest dose {high:g} mJ/cm^2 "
                     "(above the swept doses; raise HIGH)")
    if changes:
        changes.update(gamma=float("nan") if {"D0", "D100"} & set(below + above) else curve.gamma,
                       gamma_iupac=float("nan") if {"D0", "D50"} & set(below + above) else curve.gamma_iupac)
        curve = dataclasses.replace(curve, **changes)
    return curve, notes


def run(args) -> int:
    from ..development import contrast_curve
    from ..outputs import atomic_dir

    out = output_dir(args.out)
    recipe, step = recipe_step(args.recipe, args.step, out)
    doses = parse_doses(args.doses) if isinstance(args.doses, str) else args.doses
    lines = step.exposure.optics.lines
    curve = contrast_curve(step.film, step.crosslinker, step.developer, step.exposure.atmosphere, lines, doses)
    curve, notes = bracketed(curve)
    summary = summary_dict(curve, step)
    summary["not_bracketed"] = notes
    with atomic_dir(out) as tmp:
        write_csv(tmp / "contrast.csv", curve)
        (tmp / "contrast.json").write_text(json.dumps(summary, indent=2) + "\n")
        figures = plot_contrast(tmp / "contrast.png", curve, step, recipe.name, figure_options(args))
    label = recipe.name if step.name == recipe.name else f"{recipe.name} [{step.name}]"
    print(f"{label}: {step.film.name} + {step.crosslinker.name}, "
          f"{', '.join(f'{w:g} nm' for w, _ in lines)}, {step.exposure.atmosphere.label}, "
          f"{step.developer.name} {step.developer.time_s:g} s")
    print(f"  D0 = {_fmt(curve.d0)} mJ/cm^2, D50 = {_fmt(curve.d50)} mJ/cm^2, D100 = {_fmt(curve.d100)} mJ/cm^2")
    for note in notes:
        print(f"  {note}")
    print(f"  gamma = {_fmt(curve.gamma)} (1/log10(D100/D0)), gamma_iupac = {_fmt(curve.gamma_iupac)} "
          f"(1/(2 log10(D50/D0)))")
    print(f"  at the recipe dose {step.exposure.dose_mj_cm2:g} mJ/cm^2: NRT {summary['nrt_at_recipe_dose']:.3f}, "
          f"PLQY retention {summary['plqy_retention_at_recipe_dose']:.3f}")
    print(f"wrote contrast.csv, contrast.json, {', '.join(p.name for p in figures)} to {out}/")
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


def plot_contrast(path, curve, step, title: str, options=None) -> list:
    """contrast.png (and the other asked-for formats): :func:`litho.plot.contrast_figure`."""
    from ..plot import contrast_figure, save, tool_text

    which = "" if step.name == title else f"step {step.name}, "
    heading = f"{title}: {which}{step.film.name} + {step.crosslinker.name}, {tool_text(step)}"
    gammas = f"γ = {_fmt(curve.gamma)}, γ_IUPAC = {_fmt(curve.gamma_iupac)}"
    return save(contrast_figure(curve, step.exposure.dose_mj_cm2, heading, gammas), path, options)
