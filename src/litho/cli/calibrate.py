"""``litho calibrate RECIPE DATA.csv --fit a,b [-o DIR]``: fit chemistry parameters to a measured contrast curve."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

from . import example_help, output_dir

ORDER = 50


def register(subparsers) -> None:
    from ..calibration import fittable_parameters

    p = subparsers.add_parser("calibrate", **example_help(
        "Fit chosen material parameters of a recipe to a measured contrast curve (CSV with columns "
        "dose_mj_cm2 and nrt). Prints the fitted values with 1-sigma uncertainties and the residuals, "
        "and writes the calibrated recipe (<name>_calibrated.toml), calibration.json and calibration.png. "
        f"Fittable: {', '.join(sorted(fittable_parameters()))}.",
        "litho calibrate recipes/ebt_cdse_254nm.toml recipes/data/ebt_cdse_254nm_contrast.csv "
        "--fit quantum_yield,crosslink_dispersion -o out/calibrate"))
    p.add_argument("recipe", help="recipe TOML file (the starting point)")
    p.add_argument("data", help="CSV with columns dose_mj_cm2 and nrt")
    p.add_argument("--fit", required=True, help="comma-separated parameter names, e.g. quantum_yield,loading_wt_pct")
    p.add_argument("-o", "--out", default="out", help="output directory (default: out)")
    p.add_argument("--step", default=None, help="step name of a multi-step recipe (default: the first)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..calibration import calibrate, read_contrast_csv
    from ..materials import field_range
    from ..outputs import atomic_dir
    from .contrast import recipe_step

    out = output_dir(args.out)
    recipe, step = recipe_step(args.recipe, args.step, out)
    data = read_contrast_csv(args.data)
    names = [n for n in args.fit.split(",") if n.strip()]
    fit = calibrate(step.film, step.crosslinker, step.developer, step.exposure.atmosphere,
                    step.exposure.optics.lines, data.doses_mj_cm2, data.nrt, names)
    stem = Path(args.recipe).stem
    with atomic_dir(out) as tmp:
        raw = calibrated_raw(recipe, step, fit, out)
        (tmp / f"{stem}_calibrated.toml").write_text(
            f"# {recipe.name}, calibrated by `litho calibrate` to {data.path}\n" + dumps_toml(raw))
        (tmp / "calibration.json").write_text(json.dumps(result_dict(fit, data), indent=2) + "\n")
        plot_fit(tmp / "calibration.png", fit, recipe.name)
    print(f"{recipe.name}: fitted {len(fit.names)} parameter(s) to {len(data.doses_mj_cm2)} points of {data.path}")
    for kind, name in fit.names:
        sigma = fit.uncertainties[name]
        spread = f"{sigma:.2g}" if math.isfinite(sigma) else "n/a"
        print(f"  {kind}.{name} = {fit.values[name]:.6g} ± {spread}   (was {fit.initial[name]:.6g})")
    print(f"  residuals: rms {fit.rms_residual:.4f}, max |r| {max(abs(fit.residuals)):.4f} (h/h0)")
    for d, m, f in zip(fit.doses_mj_cm2, fit.nrt_measured, fit.nrt_fitted):
        print(f"    {d:10.4g} mJ/cm^2  measured {m:.3f}  fit {f:.3f}  residual {f - m:+.3f}")
    for kind, name in fit.names:
        if name in fit.at_bound:
            low, high, _ = field_range(name)
            print(f"  warning: {kind}.{name} = {fit.values[name]:.6g} stopped at a bound of its range "
                  f"[{_bound(low)}, {_bound(high)}]: the data do not determine it inside the range "
                  "(fit fewer parameters, or check the data and the fixed parameters)")
    if fit.covariance_note:
        print(f"  note: {fit.covariance_note}")
    if not fit.success:
        print(f"  warning: the optimiser stopped early: {fit.message}")
    print(f"wrote {stem}_calibrated.toml, calibration.json, calibration.png to {out}/")
    return 0


def calibrated_raw(recipe, step, fit, out_dir: Path) -> dict:
    """The recipe as read, with the fitted values written into the step's sections.

    Single-step recipes get the values in the top-level sections; for a
    [[step]] recipe they go into the calibrated step's own tables. Relative
    mask paths are rewritten relative to the output directory.
    """
    raw = copy.deepcopy(dict(recipe.raw))
    base = Path(recipe.path).parent if recipe.path else Path(".")
    steps = raw.get("step")
    if steps:
        index = [s.name for s in recipe.steps].index(step.name)
        target = steps[index]
    else:
        target = raw
    for kind, name in fit.names:
        section = target.setdefault(kind, {})
        bare = _bare_key(name)
        if bare != name:
            section.pop(bare, None)       # "time = '30 s'" would collide with time_s
        section[name] = float(fit.values[name])
    for table in [raw] + list(steps or []):
        mask = table.get("mask")
        if isinstance(mask, dict) and isinstance(mask.get("file"), str) and not os.path.isabs(mask["file"]):
            absolute = (base / mask["file"]).resolve()
            mask["file"] = Path(os.path.relpath(absolute, Path(out_dir).resolve())).as_posix()
    return raw


def _bare_key(name: str) -> str:
    from ..units import _unit_suffix

    suffix = _unit_suffix(name)
    return name[: -len(suffix) - 1] if suffix else name


def _bound(value) -> str:
    return "-inf" if value is None else f"{value:g}"


def result_dict(fit, data) -> dict:
    """calibration.json: values, uncertainties, the covariance (null where undetermined) and why."""
    num = lambda v: None if not math.isfinite(v) else float(v)  # noqa: E731
    labels = [f"{kind}.{name}" for kind, name in fit.names]
    return {
        "data": data.path,
        "parameters": {f"{kind}.{name}": {"value": fit.values[name], "uncertainty": num(fit.uncertainties[name]),
                                          "initial": fit.initial[name]} for kind, name in fit.names},
        "covariance": {"parameters": labels,
                       "matrix": [[num(v) for v in row] for row in fit.covariance.tolist()]},
        "covariance_note": fit.covariance_note or None,
        "at_bound": [f"{kind}.{name}" for kind, name in fit.names if name in fit.at_bound],
        "rms_residual_nrt": fit.rms_residual,
        "points": [{"dose_mj_cm2": float(d), "nrt_measured": float(m), "nrt_fit": float(f)}
                   for d, m, f in zip(fit.doses_mj_cm2, fit.nrt_measured, fit.nrt_fitted)],
        "success": fit.success,
    }


def plot_fit(path, fit, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    doses = fit.doses_mj_cm2
    positive = doses[doses > 0]
    low = positive.min() / 3 if positive.size else 0.1
    high = doses.max() * 3 if doses.max() > 0 else 10.0
    grid = np.geomspace(low, high, 300)
    curve = fit.model(grid)
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(6.0, 5.0), dpi=110, sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1]})
    ax.semilogx(grid, curve, color="k", lw=1.6, label="fit")
    ax.semilogx(np.where(doses > 0, doses, low), fit.nrt_measured, "o", color="tab:red", ms=4, label="measured")
    ax.set_ylabel("NRT (h/h0)")
    ax.set_ylim(-0.02, max(1.1, float(np.max(fit.nrt_measured)) + 0.05))
    text = "\n".join(f"{n} = {fit.values[n]:.4g} ± {fit.uncertainties[n]:.2g}" for _, n in fit.names)
    ax.text(0.02, 0.95, text, transform=ax.transAxes, va="top", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    axr.semilogx(np.where(doses > 0, doses, low), fit.residuals, "o", color="tab:red", ms=3)
    axr.axhline(0, color="k", lw=0.8)
    axr.set_xlabel("dose (mJ/cm²)")
    axr.set_ylabel("fit − data")
    for a in (ax, axr):
        a.grid(True, which="both", alpha=0.25)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# --------------------------------------------------------------------------- TOML

def dumps_toml(data: dict) -> str:
    """Serialise the simple tables of a recipe as TOML (round-trips through tomllib).

    Scalars first, then sub-tables ([name]), then arrays of tables ([[name]])
    with their own sub-tables ([name.sub]).
    """
    lines: list[str] = []
    _emit_table(data, [], lines)
    return "\n".join(lines).strip() + "\n"


def _key(k: str) -> str:
    import re

    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _emit_table(table: dict, path: list[str], lines: list[str]) -> None:
    for k, v in table.items():
        if not isinstance(v, dict) and not _is_table_array(v):
            lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in table.items():
        if isinstance(v, dict):
            lines.append("")
            lines.append(f"[{'.'.join(_key(p) for p in path + [k])}]")
            _emit_table(v, path + [k], lines)
    for k, v in table.items():
        if _is_table_array(v):
            for item in v:
                lines.append("")
                lines.append(f"[[{'.'.join(_key(p) for p in path + [k])}]]")
                _emit_table(item, path + [k], lines)
