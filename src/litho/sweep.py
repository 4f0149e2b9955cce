"""Sweeps: one recipe simulated over a grid of parameter values.

``--vary exposure.dose=100:400:7`` varies one recipe field (a dotted path
``section.key``, in the key's canonical unit); several ``--vary`` make a full
grid. Every point is an independent :func:`litho.process.simulate`, mapped
with Dask (:mod:`litho.parallel`). The result is a table of per-step metrics
per point, whether each point is in specification (the rule of
:mod:`litho.spec`, shared with ``litho min-feature``: no missing pixel, no
bridge, |CD error| ≤ 10% of the design CD in x and y, central h/h0 ≥ 0.8),
and, when the dose is varied, the exposure latitude (PHYSICS.md §7).
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass


import numpy as np

from .errors import LithoInputError
from .recipe import SECTIONS, Recipe, recipe_from_dict
from .spec import Criteria, field_failure
from .units import UNITS

CRITERIA = Criteria()
METRICS = ("iou_mean", "cd_x_error_mean_um", "cd_y_error_mean_um", "epe_rms_um", "missing_pixels",
           "bridges", "residue_max_nrt", "pixel_nrt_mean")
_RANGE = re.compile(r"^\s*([^:]+):([^:]+):(\d+)\s*$")


@dataclass(frozen=True)
class Axis:
    """One varied field: ``section.key`` over ``values`` (canonical unit of the key)."""

    section: str
    key: str
    values: tuple[float, ...]

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


def parse_vary(text: str) -> Axis:
    """``"exposure.dose=100:400:7"`` (linear, n points) or ``"exposure.gap=1,3,10"``."""
    if "=" not in text:
        raise LithoInputError(f"--vary {text!r}: write KEY=a:b:n or KEY=v1,v2,... e.g. exposure.dose=100:400:7")
    path, spec = text.split("=", 1)
    if path.count(".") != 1:
        raise LithoInputError(f"--vary {text!r}: KEY is section.key, e.g. exposure.dose or exposure.gap")
    section, key = path.strip().split(".")
    if section not in SECTIONS or section == "mask":
        raise LithoInputError(f"--vary {text!r}: section {section!r} is not one of film, crosslinker, exposure, "
                              "developer")
    m = _RANGE.match(spec)
    try:
        if m:
            a, b, n = float(m.group(1)), float(m.group(2)), int(m.group(3))
            if n < 1:
                raise ValueError
            values = tuple(np.linspace(a, b, n)) if n > 1 else (a,)
        else:
            values = tuple(float(v) for v in spec.split(",") if v.strip())
    except ValueError:
        raise LithoInputError(f"--vary {text!r}: values must be numbers, as a:b:n (n >= 1) or v1,v2,...") from None
    if not values:
        raise LithoInputError(f"--vary {text!r}: no values")
    return Axis(section, key, tuple(float(v) for v in values))


def _set(table: dict, key: str, value: float) -> None:
    """Set ``key`` in a recipe table, replacing any spelling of it (bare or unit-suffixed)."""
    base = key
    for suffix in UNITS:
        if key.endswith("_" + suffix):
            base = key[: -len(suffix) - 1]
    for existing in list(table):
        if existing == base or any(existing == f"{base}_{s}" for s in UNITS):
            del table[existing]
    table[key] = value


def point_recipe(recipe: Recipe, axes: list[Axis], values: tuple[float, ...]) -> Recipe:
    """``recipe`` with each axis's field set to its value, in every step."""
    raw = copy.deepcopy(dict(recipe.raw))
    for axis, value in zip(axes, values):
        raw.setdefault(axis.section, {})
        _set(raw[axis.section], axis.key, value)
        for step in raw.get("step", []):
            if axis.section in step and any(k == axis.key or k.startswith(axis.key + "_") or
                                            axis.key.startswith(k + "_") for k in step[axis.section]):
                _set(step[axis.section], axis.key, value)
    base_dir = recipe.path.parent if recipe.path else "."
    return recipe_from_dict(raw, source=str(recipe.path) if recipe.path else None, base_dir=base_dir,
                            path=recipe.path)


def _simulate_point(args) -> list[dict]:
    from .process import simulate

    recipe, values, pixel_um = args
    result = simulate(recipe, pixel_um=pixel_um)
    rows = []
    for step in result.report["steps"]:
        m = step["metrics"]
        pixels = step["pixels"]
        design_cd = np.array([[p["design_cd_x_um"], p["design_cd_y_um"]] for p in pixels]) if pixels else None
        in_spec = field_failure(pixels, m["bridges"], CRITERIA)[1] == ""
        row = {"step": step["name"], **{k: m.get(k) for k in METRICS},
               "plqy_retention_mean_in_print": step["plqy_retention_mean_in_print"],
               "design_cd_x_um": float(design_cd[:, 0].mean()) if design_cd is not None else None,
               "in_spec": in_spec}
        rows.append(row)
    return rows


class SweepResult(dict):
    """The dict :func:`sweep` returns, with its rows as a table."""

    @property
    def table(self):
        """A pandas DataFrame, one row per point and step (the columns of sweep.csv)."""
        import pandas as pd

        return pd.DataFrame(self["rows"])


def sweep(recipe: Recipe, axes: list[Axis], *, scheduler: str | None = None, pixel_um: float | None = None,
          workers: int | None = None) -> SweepResult:
    """Simulate ``recipe`` at every combination of the axes' values.

    Returns
    -------
    dict
        ``axes`` (name and values), ``rows`` (one per point and step: the
        varied values, the step's metrics, ``in_spec``) and
        ``exposure_latitude`` when a dose axis is present.
    """
    from .parallel import map_tasks

    if not axes:
        raise LithoInputError("give at least one --vary KEY=a:b:n")
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise LithoInputError(f"--vary: {', '.join(n for n in dict.fromkeys(names) if names.count(n) > 1)} "
                              "is varied twice; give each field once")
    points = list(itertools.product(*(a.values for a in axes)))
    # Build (and so validate) every point's recipe before any simulation runs.
    recipes = [point_recipe(recipe, axes, values) for values in points]
    for r in recipes:
        pitch = pixel_um or r.simulation.pixel_um
        if pitch:
            for step in r.steps:
                step.exposure.optics.check_pixel(pitch, str(r.path or "recipe"))
    results = map_tasks(_simulate_point, [(r, v, pixel_um) for r, v in zip(recipes, points)],
                        scheduler=scheduler, workers=workers)
    rows = []
    for values, point_rows in zip(points, results):
        for row in point_rows:
            rows.append({**{n: v for n, v in zip(names, values)}, **row})
    out = SweepResult({"recipe": str(recipe.path) if recipe.path else recipe.name,
           "axes": [{"name": a.name, "values": list(a.values)} for a in axes],
           "cd_spec_fraction": CRITERIA.cd_tol, "criteria": CRITERIA.as_dict(), "rows": rows})
    dose_axis = next((a for a in axes if a.section == "exposure" and a.key.startswith("dose")), None)
    if dose_axis is not None:
        out["exposure_latitude"] = exposure_latitude(rows, dose_axis.name, [n for n in names if n != dose_axis.name])
    return out


def exposure_latitude(rows: list[dict], dose_name: str, other_names: list[str]) -> list[dict]:
    """Per step and setting of the other axes: the dose range that stays in spec.

    Latitude = (D_max − D_min) / D_mid of the contiguous in-spec dose samples
    around the best-IoU dose, in percent (0 when a single sample is in spec,
    None when none is).
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["step"], *(row[n] for n in other_names)), []).append(row)
    latitudes = []
    for key, group in groups.items():
        group = sorted(group, key=lambda r: r[dose_name])
        ok = [r["in_spec"] for r in group]
        entry = {"step": key[0], **{n: v for n, v in zip(other_names, key[1:])}}
        if not any(ok):
            entry.update(dose_min_mj_cm2=None, dose_max_mj_cm2=None, exposure_latitude_pct=None,
                         limited_by_sweep=False)
        else:
            best = max((i for i in range(len(group)) if ok[i]), key=lambda i: group[i]["iou_mean"] or 0)
            lo = hi = best
            while lo > 0 and ok[lo - 1]:
                lo -= 1
            while hi < len(group) - 1 and ok[hi + 1]:
                hi += 1
            d0, d1 = group[lo][dose_name], group[hi][dose_name]
            entry.update(dose_min_mj_cm2=d0, dose_max_mj_cm2=d1,
                         exposure_latitude_pct=100.0 * (d1 - d0) / (0.5 * (d0 + d1)),
                         # in spec up to an end of the swept doses: the true window is wider
                         limited_by_sweep=bool(lo == 0 or hi == len(group) - 1))
        latitudes.append(entry)
    return latitudes


def rows_to_csv(rows: list[dict]) -> str:
    """The sweep table as CSV text (columns in first-row order)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()


