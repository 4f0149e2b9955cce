"""Sweeps: one recipe simulated over a grid of parameter values.

``--vary exposure.dose=100:400:7`` varies one recipe field (a dotted path
``section.key``, in the key's canonical unit); several ``--vary`` make a full
grid. Points that differ only in the dose or the developer share their optics:
the image and the depth-resolved dose of a unit exposure are computed once
per step and each point only scales, develops and measures it (the dose is a
scale factor on the image). Groups of different optics (gap, focus, film)
are mapped with Dask (:mod:`litho.parallel`) and share transfer functions
and kernels through the optics caches. The result is a table of per-step metrics
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
from .units import BARE_KEY_UNITS, UNITS

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
        """``section.key`` with the key's unit: ``exposure.dose`` -> ``exposure.dose_mj_cm2``,
        ``exposure.gap`` -> ``exposure.gap_um`` (the sweep.csv column and sweep.json key)."""
        key = f"{self.key}_{BARE_KEY_UNITS[self.key]}" if self.key in BARE_KEY_UNITS else self.key
        return f"{self.section}.{key}"


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


#: Fields that act after the image: the aerial image and the depth-resolved dose of a
#: unit exposure are the same for every value, so a group of points that differ only in
#: these is imaged once (the dose is a scale factor on the image, PHYSICS.md §3).
_CHEMISTRY_ONLY = {"exposure": ("dose",), "developer": None}


def chemistry_only(axis: Axis) -> bool:
    """True when ``axis`` changes only chemistry, development or metrology, not the image."""
    if axis.section not in _CHEMISTRY_ONLY:
        return False
    keys = _CHEMISTRY_ONLY[axis.section]
    return keys is None or any(axis.key == k or axis.key.startswith(k + "_") for k in keys)


def step_rows(steps) -> list[dict]:
    """The table rows of one point: per step its metrics and whether it is in spec.

    Built from the step results directly: a sweep needs no image-edge (NILS)
    summary, contamination table or JSON report per point.
    """
    rows = []
    for s in steps:
        m = s.metrology.summary
        pixels = [p.as_dict() for p in s.metrology.pixels]
        design_cd = np.array([[p["design_cd_x_um"], p["design_cd_y_um"]] for p in pixels]) if pixels else None
        in_spec = field_failure(pixels, m["bridges"], CRITERIA)[1] == ""
        plqy = np.asarray(s.developed.plqy_retention)
        printed = s.remaining_thickness >= s.metrology.threshold
        plqy_in_print = (float(plqy[printed].mean()) if printed.any() else None) if plqy.shape == printed.shape \
            else float(np.mean(plqy))
        rows.append({"step": s.name, **{k: m.get(k) for k in METRICS},
                     "plqy_retention_mean_in_print": plqy_in_print,
                     "design_cd_x_um": float(design_cd[:, 0].mean()) if design_cd is not None else None,
                     "in_spec": in_spec})
    return rows


def _simulate_point(args) -> list[dict]:
    """One point as a full :func:`litho.process.simulate` (no sharing)."""
    from .process import simulate

    recipe, pixel_um = args
    return step_rows(simulate(recipe, pixel_um=pixel_um).steps)


def window_setup(recipe: Recipe, pixel_um):
    """Masks, designs and the grid of ``recipe``: the one set-up path (:func:`litho.process.prepare`)."""
    from .process import prepare

    setup = prepare(recipe, pixel_um)
    return setup.masks, setup.designs, setup.grid


def unit_exposure(step, design, grid, recipe):
    """Transmission, top images, line-weighted intensity and the local dose of 1 mJ/cm² for one step
    (:func:`litho.process.expose_step`, as :func:`litho.process.simulate_step` exposes it)."""
    from .process import expose_step

    return expose_step(step, design, grid, recipe, 1.0, overlay_um=step.exposure.overlay_um)


def develop_point(recipe: Recipe, index: int, layer, design, grid, shared):
    """Step ``index`` of ``recipe`` developed and measured on the shared unit exposure."""
    from .development import develop
    from .dose import LocalDose
    from .metrology import measure
    from .process import StepResult

    step = recipe.steps[index]
    transmission, images, intensity, unit = shared
    dose = float(step.exposure.dose_mj_cm2)
    local = LocalDose(tuple((w, dose * d) for w, d in unit.lines), unit.depth_nm, unit.depth_weights)
    sim = recipe.simulation
    developed = develop(local, step.film, step.crosslinker, step.developer, step.exposure.atmosphere,
                        seed=recipe.seed, stochastic=sim.stochastic, pixel_um=grid.pixel_um)
    metrology = measure(developed.remaining_thickness, grid, design, sim.threshold)
    overlay = step.exposure.overlay_um
    return StepResult(name=step.name, step=step, grid=grid, layer=tuple(layer), design=design,
                      transmission=transmission, images=images, intensity=intensity, developed=developed,
                      metrology=metrology, overlay_um=(float(overlay[0]), float(overlay[1])))


class _GroupTask:
    """The points of one optics group, as one Dask task's argument.

    A plain object: Dask walks lists, dicts and dataclasses in task
    arguments looking for collections, and a recipe's nested raw tables made
    that walk a tenth of a sweep's time.
    """

    __slots__ = ("recipes", "pixel_um", "tick", "share")

    def __init__(self, recipes, pixel_um, tick, share):
        self.recipes, self.pixel_um, self.tick, self.share = recipes, pixel_um, tick, share

    def __getstate__(self):
        return (self.recipes, self.pixel_um, self.tick, self.share)

    def __setstate__(self, state):
        self.recipes, self.pixel_um, self.tick, self.share = state


def _simulate_group(task: _GroupTask) -> list[list[dict]]:
    """Rows of every point of a group that shares its optics: each step imaged once.

    The points differ only in chemistry-only fields (:func:`chemistry_only`);
    for each step the image and the local dose of a unit exposure are
    computed once, then each point scales the dose and develops and measures
    it. Equal to simulating each point alone to float rounding.
    """
    recipes, pixel_um, tick, share = task.recipes, task.pixel_um, task.tick, task.share
    if pixel_um == "auto" or not share:   # the pitch search is per point: no sharing
        out = []
        for r in recipes:
            out.append(_simulate_point((r, pixel_um)))
            tick()
        return out
    first = recipes[0]
    masks, designs, grid = window_setup(first, pixel_um)
    # rows, not step results, are kept per point: a group of many doses holds one image per step
    rows_per_point: list[list] = [[] for _ in recipes]
    last = len(masks) - 1
    for k, (mask, design) in enumerate(zip(masks, designs)):
        shared = unit_exposure(first.steps[k], design, grid, first)
        for rows, r in zip(rows_per_point, recipes):
            rows.extend(step_rows([develop_point(r, k, mask.layer, design, grid, shared)]))
            if k == last:
                tick()
        del shared
    return rows_per_point


def _no_tick() -> None:
    return None


class SweepResult(dict):
    """The dict :func:`sweep` returns, with its rows as a table."""

    @property
    def table(self):
        """A pandas DataFrame, one row per point and step (the columns of sweep.csv)."""
        import pandas as pd

        return pd.DataFrame(self["rows"])


def sweep(recipe: Recipe, axes: list[Axis], *, scheduler: str | None = None, pixel_um: float | None = None,
          workers: int | None = None, share: bool = True, quiet: bool = True) -> SweepResult:
    """Simulate ``recipe`` at every combination of the axes' values.

    Points that differ only in chemistry-only fields (dose, developer; see
    :func:`chemistry_only`) form one group whose image and depth-resolved
    unit dose are computed once; groups (different gap, focus, film...)
    are mapped with Dask and share transfer functions and kernels through
    the optics caches.

    Parameters
    ----------
    share : bool
        False simulates every point independently (the reference the shared
        path is tested against).
    quiet : bool
        No progress bar (:mod:`litho.progress`).

    Returns
    -------
    dict
        ``axes`` (name and values), ``rows`` (one per point and step: the
        varied values, the step's metrics, ``in_spec``) and
        ``exposure_latitude`` when a dose axis is present.
    """
    from .parallel import map_tasks
    from .progress import Progress, progress_enabled

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
        if pitch and pitch != "auto":
            for step in r.steps:
                step.exposure.optics.check_pixel(pitch, str(r.path or "recipe"))
    # a film over [substrate] banks is exposed at its local thickness (litho.topography): full simulations
    share = share and recipe.substrate is None
    optics_axes = [i for i, a in enumerate(axes) if not (share and chemistry_only(a))]
    groups: dict[tuple, list[int]] = {}
    for n, values in enumerate(points):
        key = tuple(values[i] for i in optics_axes) if share else (n,)
        groups.setdefault(key, []).append(n)
    members = list(groups.values())
    local = scheduler in (None, "threads", "sync")
    with Progress(len(points), "points", enabled=progress_enabled(quiet),
                  description=f"sweep {len(points)} points") as bar:
        # a bar counts points as they finish where the tasks run in this process
        tick = bar.update if local else _no_tick
        tasks = [_GroupTask([recipes[n] for n in group], pixel_um, tick, share) for group in members]
        results = map_tasks(_simulate_group, tasks, scheduler=scheduler, workers=workers)
        if not local:
            bar.update(len(points))
    per_point: list = [None] * len(points)
    for group, group_rows in zip(members, results):
        for n, rows_n in zip(group, group_rows):
            per_point[n] = rows_n
    rows = []
    for values, point_rows in zip(points, per_point):
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


