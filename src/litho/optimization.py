"""Optimisation: the recipe settings that maximise an objective under constraints.

``litho optimize RECIPE --vary exposure.dose=150:450,exposure.gap=2:8
--objective cd`` answers the design question a sweep only tabulates: which
dose (gap, crosslinker loading, ...) within the given ranges prints best,
with no missing pixel, no bridge and the PLQY the display needs.

Objectives (each judged over the designed pixels of the step, or of every
step when no step is named):

``iou``
    mean IoU of printed and designed pixels (maximised; the mean over steps).
``cd``
    |CD error|, the larger of the mean x and y CD errors (minimised; the
    largest over steps).
``plqy``
    PLQY retention averaged over the printed film (maximised; the smallest
    over steps).
``window``
    exposure latitude at the point's optics: the width, in % of its centre
    dose, of the contiguous dose range around the best-IoU dose over which
    every step is in specification (:mod:`litho.spec`) and the constraints
    hold (maximised); the optimum dose is the centre of that range.

The search exploits what a sweep exploits (:mod:`litho.sweep`): the dose is a
scale factor on the image, so at fixed optics (gap, focus, film, loading) the
steps are imaged once and every dose only develops and measures the shared
unit exposure (about 1 s against 8 s for an image on the shipped RGB
recipe). Hence two levels:

* along the dose, at fixed optics: a coarse scan of the range, then a
  bounded Brent search (:func:`scipy.optimize.minimize_scalar`) between the
  neighbours of the best feasible sample; for ``window``, bisection of both
  edges of the in-spec dose run;
* over the other axes (each value a new image): a coarse grid of
  candidates mapped with Dask (:func:`litho.parallel.map_tasks`), each with
  its own dose search, then a local refinement from the best candidate
  (bounded Brent for one axis, bounded Nelder-Mead for more), each
  evaluation's dose search started around the best dose found so far.

A point that breaks a constraint never becomes the optimum: the answer is
the best feasible point evaluated. Around the optimum, a profile along each
axis gives the figure, the derivative of the objective (central difference)
and the ranges over which the objective stays within 1% (for ``cd``: within
1% of the design CD) and every step stays in specification.

Examples
--------
>>> import litho
>>> best = litho.optimize("recipes/rgb_stripe_1000ppi.toml", vary={"exposure.dose": (150, 450)},
...                       objective="cd", step="R")                    # doctest: +SKIP
>>> best                                                               # doctest: +SKIP
OptimizeResult(cd 0.006134 um at exposure.dose_mj_cm2=270.6; feasible; 25 evaluations, 1 image, 23.8 s)
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import LithoInputError
from .recipe import SECTIONS, Recipe, load_recipe, recipe_from_dict
from .sweep import Axis, chemistry_only, point_recipe

__all__ = ["OBJECTIVES", "Range", "Constraints", "Plan", "OptimizeResult", "optimize", "parse_ranges",
           "reduce_to_step", "profile_figure"]

OBJECTIVES = ("iou", "cd", "plqy", "window")
OBJECTIVE_TEXT = {
    "iou": "mean IoU of printed and designed pixels (mean over steps), maximised",
    "cd": "|CD error| (larger of mean x and y CD errors, largest over steps), um, minimised",
    "plqy": "PLQY retention averaged over the printed film (smallest over steps), maximised",
    "window": "exposure latitude at the point's optics: in-spec dose range in % of its centre, maximised",
}
#: Value of an infeasible point in the (minimised) search: worse than any feasible one.
PENALTY = 1e6
#: Relative change of the objective that counts as "within 1%" of the optimum.
WITHIN_FRACTION = 0.01


# --------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class Range:
    """One varied recipe field ``section.key`` between ``low`` and ``high`` (the key's canonical unit)."""

    section: str
    key: str
    low: float
    high: float

    @property
    def name(self) -> str:
        """The sweep's name for the key, with its unit (``exposure.dose_mj_cm2``)."""
        return Axis(self.section, self.key, (self.low,)).name

    @property
    def is_dose(self) -> bool:
        return self.section == "exposure" and (self.key == "dose" or self.key.startswith("dose_"))

    @property
    def images(self) -> bool:
        """True when a new value needs a new image (gap, focus, film, loading): not dose or developer."""
        return not chemistry_only(Axis(self.section, self.key, (self.low,)))


def _range(name: str, low: float, high: float, label: str) -> Range:
    if name.count(".") != 1:
        raise LithoInputError(f"{label}: KEY is section.key, e.g. exposure.dose or exposure.gap")
    section, key = (part.strip() for part in name.split("."))
    if section not in SECTIONS or section in ("mask", "simulation"):
        raise LithoInputError(f"{label}: section {section!r} is not one of film, crosslinker, exposure, developer")
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise LithoInputError(f"{label}: give LOW:HIGH with finite LOW < HIGH (got {low:g}:{high:g})")
    return Range(section, key, float(low), float(high))


def parse_ranges(text: str) -> list[Range]:
    """``"exposure.dose=150:450,exposure.gap=2:8"`` as ranges (one or more, comma-separated)."""
    ranges = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        label = f"--vary {part!r}"
        if "=" not in part:
            raise LithoInputError(f"{label}: write KEY=LOW:HIGH, e.g. exposure.dose=150:450")
        name, spec = part.split("=", 1)
        bounds = spec.split(":")
        try:
            low, high = (float(b) for b in bounds)
        except ValueError:
            raise LithoInputError(f"{label}: give LOW:HIGH, two numbers, e.g. exposure.dose=150:450") from None
        ranges.append(_range(name, low, high, label))
    if not ranges:
        raise LithoInputError(f"--vary {text!r}: give KEY=LOW:HIGH, e.g. exposure.dose=150:450")
    return ranges


@dataclass(frozen=True)
class Constraints:
    """What a point must satisfy to be a candidate optimum.

    Parameters
    ----------
    allow_missing, allow_bridges : bool
        Accept missing pixels / bridged neighbours (refused by default).
    min_plqy : float, optional
        Smallest accepted PLQY retention over the printed film, every step.
    in_spec : bool
        Also require the full in-specification rule (:mod:`litho.spec`:
        CD within 10%, h/h0 >= 0.8 at the centre); implied by ``window``.
    """

    allow_missing: bool = False
    allow_bridges: bool = False
    min_plqy: float | None = None
    in_spec: bool = False

    def __post_init__(self):
        if self.min_plqy is not None and not (math.isfinite(self.min_plqy) and 0 <= self.min_plqy <= 1):
            raise LithoInputError(f"--min-plqy {self.min_plqy:g}: give a PLQY retention in [0, 1], e.g. 0.9")

    def failure(self, rows: list[dict]) -> str:
        """Why the rows of one point break a constraint ("" when they do not)."""
        for row in rows:
            where = f"step {row['step']}: "
            if not self.allow_missing and row["missing_pixels"]:
                return where + f"{row['missing_pixels']} missing pixels"
            if not self.allow_bridges and row["bridges"]:
                return where + f"{row['bridges']} bridges"
            plqy = row["plqy_retention_mean_in_print"]
            if self.min_plqy is not None and not (plqy is not None and plqy >= self.min_plqy):
                return where + ("nothing printed" if plqy is None else f"PLQY retention {plqy:.4g} < {self.min_plqy:g}")
            if self.in_spec and not row["in_spec"]:
                return where + "out of specification"
        return ""

    def status(self, rows: list[dict]) -> dict:
        """Each constraint at one point: its value (worst step), its limit and whether it holds."""
        plqy = [r["plqy_retention_mean_in_print"] for r in rows]
        worst_plqy = None if any(p is None for p in plqy) else min(plqy)
        return {
            "missing_pixels": {"value": int(sum(r["missing_pixels"] or 0 for r in rows)), "limit": 0,
                               "enforced": not self.allow_missing,
                               "ok": not any(r["missing_pixels"] for r in rows)},
            "bridges": {"value": int(sum(r["bridges"] or 0 for r in rows)), "limit": 0,
                        "enforced": not self.allow_bridges, "ok": not any(r["bridges"] for r in rows)},
            "plqy_retention_mean_in_print": {"value": worst_plqy, "limit": self.min_plqy,
                                             "enforced": self.min_plqy is not None,
                                             "ok": self.min_plqy is None or (worst_plqy is not None
                                                                             and worst_plqy >= self.min_plqy)},
            "in_spec": {"value": all(r["in_spec"] for r in rows), "limit": True, "enforced": self.in_spec,
                        "ok": all(r["in_spec"] for r in rows)},
        }

    def as_dict(self) -> dict:
        return {"no_missing_pixels": not self.allow_missing, "no_bridges": not self.allow_bridges,
                "min_plqy_retention": self.min_plqy, "in_spec": self.in_spec}


# --------------------------------------------------------------------------- evaluations

def _point_value(objective: str, rows: list[dict]) -> float | None:
    """The objective of one point's rows, in its own unit (None where undefined); not for ``window``."""
    if objective == "iou":
        return float(np.mean([r["iou_mean"] or 0.0 for r in rows]))
    if objective == "cd":
        errors = [abs(r[k]) for r in rows for k in ("cd_x_error_mean_um", "cd_y_error_mean_um")
                  if r[k] is not None]
        return float(max(errors)) if len(errors) == 2 * len(rows) else None
    if objective == "plqy":
        plqy = [r["plqy_retention_mean_in_print"] for r in rows]
        return None if any(p is None for p in plqy) else float(min(plqy))
    return None


def _score(objective: str, value: float | None) -> float | None:
    """``value`` as a quantity to maximise."""
    if value is None:
        return None
    return -value if objective == "cd" else value


@dataclass(frozen=True)
class Evaluation:
    """One point developed and measured: its rows (per step), the objective value and feasibility."""

    values: tuple
    rows: list
    value: float | None
    feasible: bool
    reason: str


class Evaluator:
    """Develops and measures points, imaging each optics setting once.

    The unit exposure of each step (image and depth-resolved dose of
    1 mJ/cm², as :func:`litho.sweep.sweep` shares it within a dose group) is
    kept for the last optics setting used, so points that differ only in
    dose or developer cost one development each. Every evaluation is cached
    by its values.
    """

    def __init__(self, recipe: Recipe, ranges: list[Range], objective: str, constraints: Constraints,
                 pixel_um: float | None = None):
        self.recipe, self.ranges, self.objective = recipe, ranges, objective
        self.constraints, self.pixel_um = constraints, pixel_um
        self.axes = [Axis(r.section, r.key, (r.low,)) for r in ranges]
        self.image_axes = [i for i, r in enumerate(ranges) if r.images]
        self.cache: dict[tuple, Evaluation] = {}
        self.evaluations = 0
        self.images = 0
        self._optics_key = None
        self._shared = None

    def optics_key(self, values: tuple) -> tuple:
        return tuple(values[i] for i in self.image_axes)

    def _exposures(self, recipe: Recipe, key: tuple):
        # the sweep's own set-up and unit exposure: one image per step for this optics setting
        from .sweep import window_setup, unit_exposure

        if key != self._optics_key:
            self._shared = None   # one setting's images in memory at a time
            masks, designs, grid = window_setup(recipe, self.pixel_um)
            shared = [unit_exposure(step, design, grid, recipe) for step, design in zip(recipe.steps, designs)]
            self._optics_key, self._shared = key, (masks, designs, grid, shared)
            self.images += 1
        return self._shared

    def rows(self, values: tuple) -> list[dict]:
        from .sweep import develop_point, step_rows

        recipe = point_recipe(self.recipe, self.axes, values)
        masks, designs, grid, shared = self._exposures(recipe, self.optics_key(values))
        self.evaluations += 1
        return [step_rows([develop_point(recipe, k, masks[k].layer, designs[k], grid, shared[k])])[0]
                for k in range(len(recipe.steps))]

    def evaluate(self, values) -> Evaluation:
        values = tuple(float(v) for v in values)
        if values not in self.cache:
            rows = self.rows(values)
            value = _point_value(self.objective, rows)
            reason = self.constraints.failure(rows)
            if not reason and value is None and self.objective != "window":
                reason = "objective undefined (no measured pixel)"
            self.cache[values] = Evaluation(values, rows, value, not reason, reason)
        return self.cache[values]

    def drop_images(self) -> None:
        """Forget the kept unit exposure (the cached evaluations stay)."""
        self._optics_key, self._shared = None, None

    def merge(self, other: "Evaluator") -> None:
        """Take the evaluations and counts of an evaluator that ran elsewhere (a Dask task)."""
        for key, ev in other.cache.items():
            self.cache.setdefault(key, ev)
        self.evaluations += other.evaluations
        self.images += other.images


# --------------------------------------------------------------------------- search along the dose

@dataclass(frozen=True)
class LineResult:
    """The best point of one optics setting: the point, its score (maximised) and, for ``window``, the run."""

    values: tuple
    score: float | None
    feasible: bool
    reason: str
    window: dict | None = None


@dataclass(frozen=True)
class Plan:
    """Resolution and sizes of the search."""

    resolution: float = 0.005     # tolerance on each axis, fraction of its range
    coarse_dose: int = 9          # dose samples of the first scan at an optics setting
    coarse_other: int = 0         # grid points per image axis (0: 5 for one axis, 3 for more)
    warm_dose: int = 5            # dose samples of a scan started around a known dose
    max_refine: int = 40          # evaluations of the refinement over the image axes
    profile_points: int = 11      # samples of each axis's profile through the optimum

    def __post_init__(self):
        if not 0 < self.resolution < 0.5:
            raise LithoInputError(f"--resolution {self.resolution:g}: give a fraction of each range in (0, 0.5), "
                                  "e.g. 0.005")
        for name in ("coarse_dose", "warm_dose", "profile_points"):
            if getattr(self, name) < 3:
                raise LithoInputError(f"{name.replace('_', '-')} {getattr(self, name)}: give at least 3")
        if self.coarse_other and self.coarse_other < 2:
            raise LithoInputError(f"coarse-other {self.coarse_other}: give at least 2")


def _with(values: tuple, index: int, value: float) -> tuple:
    out = list(values)
    out[index] = float(value)
    return tuple(out)


def _best(evs: list[Evaluation], objective: str) -> Evaluation | None:
    """The feasible evaluation with the highest score (ties: the first in order)."""
    feasible = [e for e in evs if e.feasible and e.value is not None]
    if not feasible:
        return None
    return max(feasible, key=lambda e: _score(objective, e.value))


def search_line(ev: Evaluator, values: tuple, dose_index: int | None, plan: Plan,
                around: float | None = None) -> LineResult:
    """The best dose at the optics of ``values`` (the other coordinates held).

    Parameters
    ----------
    around : float, optional
        A dose known to be good at nearby optics: the first scan covers two
        coarse steps either side of it instead of the whole range (falling
        back to the whole range when its best sample is at an inner edge).
    """
    from scipy.optimize import minimize_scalar

    if dose_index is None:
        e = ev.evaluate(values)
        if ev.objective == "window":
            raise LithoInputError("--objective window: vary exposure.dose too (the window is a dose range)")
        return LineResult(e.values, _score(ev.objective, e.value) if e.feasible else None, e.feasible, e.reason)
    r = ev.ranges[dose_index]
    lo, hi = r.low, r.high
    tol = plan.resolution * (hi - lo)
    step = (hi - lo) / (plan.coarse_dose - 1)
    doses = np.linspace(lo, hi, plan.coarse_dose)
    if around is not None:
        a, b = max(lo, around - 2 * step), min(hi, around + 2 * step)
        doses = np.linspace(a, b, plan.warm_dose)
    scan = [ev.evaluate(_with(values, dose_index, d)) for d in doses]
    if ev.objective == "window":
        return _window_line(ev, values, dose_index, scan, plan, around)
    best = _best(scan, ev.objective)
    if around is not None:
        inner_edge = best is not None and ((best is scan[0] and doses[0] > lo) or (best is scan[-1] and doses[-1] < hi))
        if best is None or inner_edge:
            return search_line(ev, values, dose_index, plan)
    if best is None:
        worst = scan[len(scan) // 2]
        return LineResult(worst.values, None, False, worst.reason)
    i = scan.index(best)
    a, b = doses[max(i - 1, 0)], doses[min(i + 1, len(doses) - 1)]

    def cost(d):
        e = ev.evaluate(_with(values, dose_index, float(d)))
        return -_score(ev.objective, e.value) if e.feasible and e.value is not None else PENALTY

    if b - a > tol:
        minimize_scalar(cost, bounds=(a, b), method="bounded", options={"xatol": tol})
    at_optics = [e for k, e in ev.cache.items() if ev.optics_key(k) == ev.optics_key(values)
                 and all(k[j] == values[j] for j in range(len(values)) if j != dose_index)]
    best = _best(at_optics, ev.objective)
    return LineResult(best.values, _score(ev.objective, best.value), True, "")


def _window_line(ev: Evaluator, values: tuple, dose_index: int, scan: list[Evaluation], plan: Plan,
                 around: float | None) -> LineResult:
    """The contiguous in-spec (and feasible) dose run around the best-IoU dose at these optics, edges bisected."""
    r = ev.ranges[dose_index]
    tol = plan.resolution * (r.high - r.low)
    ok = [e.feasible and all(row["in_spec"] for row in e.rows) for e in scan]
    doses = [e.values[dose_index] for e in scan]
    if not any(ok):
        if around is not None:
            return search_line(ev, values, dose_index, plan)
        return LineResult(scan[len(scan) // 2].values, None, False,
                          next((e.reason for e in scan if e.reason), "no dose in specification"))
    # the run around the best-IoU in-spec sample, as the sweep's exposure latitude takes it
    def iou(i: int) -> float:
        return float(np.mean([row["iou_mean"] or 0 for row in scan[i].rows]))

    best = max((i for i in range(len(scan)) if ok[i]), key=iou)
    i0 = i1 = best
    while i0 > 0 and ok[i0 - 1]:
        i0 -= 1
    while i1 < len(scan) - 1 and ok[i1 + 1]:
        i1 += 1
    if around is not None and ((i0 == 0 and doses[0] > r.low) or (i1 == len(scan) - 1 and doses[-1] < r.high)):
        return search_line(ev, values, dose_index, plan)

    def inside(d: float) -> bool:
        e = ev.evaluate(_with(values, dose_index, d))
        return e.feasible and all(row["in_spec"] for row in e.rows)

    def edge(good: float, bad: float) -> float:
        while abs(bad - good) > tol:
            mid = 0.5 * (good + bad)
            good, bad = (mid, bad) if inside(mid) else (good, mid)
        return good

    d0 = doses[i0] if i0 == 0 else edge(doses[i0], doses[i0 - 1])
    d1 = doses[i1] if i1 == len(scan) - 1 else edge(doses[i1], doses[i1 + 1])
    latitude = 100.0 * (d1 - d0) / (0.5 * (d0 + d1))
    centre = ev.evaluate(_with(values, dose_index, 0.5 * (d0 + d1)))
    window = {"dose_min": d0, "dose_max": d1, "exposure_latitude_pct": latitude,
              "limited_by_range": bool(d0 <= r.low or d1 >= r.high)}
    return LineResult(centre.values, latitude, True, "", window)


# --------------------------------------------------------------------------- search over the image axes

class _LineTask:
    """The dose searches of one optics setting, as a Dask task argument (a plain object, as in the sweep)."""

    __slots__ = ("recipe", "ranges", "objective", "constraints", "pixel_um", "candidates", "dose_index", "plan",
                 "around")

    def __init__(self, **kwargs):
        for k in self.__slots__:
            setattr(self, k, kwargs[k])

    def __getstate__(self):
        return tuple(getattr(self, k) for k in self.__slots__)

    def __setstate__(self, state):
        for k, v in zip(self.__slots__, state):
            setattr(self, k, v)


def _run_lines(task: _LineTask):
    ev = Evaluator(task.recipe, task.ranges, task.objective, task.constraints, task.pixel_um)
    lines = [search_line(ev, c, task.dose_index, task.plan, task.around) for c in task.candidates]
    ev.drop_images()     # the images stay in the task; the evaluations travel back
    return lines, ev


def _lines(ev: Evaluator, candidates: list[tuple], dose_index, plan: Plan, scheduler, around=None) -> list[LineResult]:
    """Dose searches at several settings, one Dask task per optics setting; their evaluations merged into ``ev``.

    Candidates that differ only in chemistry-only fields (a developer axis)
    share a task, and so one image per step.
    """
    from .parallel import map_tasks

    groups: dict[tuple, list[int]] = {}
    for n, c in enumerate(candidates):
        groups.setdefault(ev.optics_key(tuple(float(v) for v in c)), []).append(n)
    tasks = [_LineTask(recipe=ev.recipe, ranges=ev.ranges, objective=ev.objective, constraints=ev.constraints,
                       pixel_um=ev.pixel_um, candidates=[candidates[n] for n in members], dose_index=dose_index,
                       plan=plan, around=around)
             for members in groups.values()]
    out: list = [None] * len(candidates)
    for members, (lines, sub) in zip(groups.values(), map_tasks(_run_lines, tasks, scheduler=scheduler)):
        ev.merge(sub)
        for n, line in zip(members, lines):
            out[n] = line
    return out


def _start(ranges: list[Range]) -> tuple:
    """A starting point: each axis at the middle of its range."""
    return tuple(0.5 * (r.low + r.high) for r in ranges)


def _search(ev: Evaluator, plan: Plan, scheduler) -> tuple[LineResult, list[str]]:
    """The best feasible point over every range; the steps of the search, described."""
    from scipy.optimize import minimize, minimize_scalar

    ranges = ev.ranges
    dose_index = next((i for i, r in enumerate(ranges) if r.is_dose), None)
    others = [i for i in range(len(ranges)) if i != dose_index]
    base = _start(ranges)
    notes = []
    if not others:
        notes.append(f"dose: {plan.coarse_dose}-sample scan, then bounded Brent to {plan.resolution:g} of the range"
                     if ev.objective != "window" else
                     f"dose: {plan.coarse_dose}-sample scan, in-spec run edges bisected to {plan.resolution:g} "
                     "of the range")
        return search_line(ev, base, dose_index, plan), notes
    n = plan.coarse_other or (5 if len(others) == 1 else 3)
    grids = [np.linspace(ranges[i].low, ranges[i].high, n) for i in others]
    candidates = []
    for combo in itertools.product(*grids):
        values = list(base)
        for i, v in zip(others, combo):
            values[i] = float(v)
        candidates.append(tuple(values))
    lines = _lines(ev, candidates, dose_index, plan, scheduler)
    notes.append(f"{len(candidates)} candidates on a {'x'.join([str(n)] * len(others))} grid of "
                 f"{', '.join(ranges[i].name for i in others)} (Dask), each with its own dose search")
    found = [(ln.score, k) for k, ln in enumerate(lines) if ln.feasible]
    if not found:
        return lines[len(lines) // 2], notes
    best = lines[max(found)[1]]
    known: dict[tuple, LineResult] = {tuple(ln.values[i] for i in others): ln for ln in lines}
    state = {"best": best}

    def to_values(u) -> tuple:
        values = list(best.values)
        for i, x in zip(others, np.atleast_1d(u)):
            r = ranges[i]
            values[i] = float(r.low + min(max(float(x), 0.0), 1.0) * (r.high - r.low))
        return tuple(values)

    def cost(u) -> float:
        values = to_values(u)
        key = tuple(values[i] for i in others)
        if key not in known:
            around = state["best"].values[dose_index] if dose_index is not None else None
            known[key] = search_line(ev, values, dose_index, plan, around)
        ln = known[key]
        if ln.feasible and (state["best"] is None or ln.score > state["best"].score):
            state["best"] = ln
        return -ln.score if ln.feasible else PENALTY

    u0 = np.array([(best.values[i] - ranges[i].low) / (ranges[i].high - ranges[i].low) for i in others])
    cell = 1.0 / (n - 1)
    if len(others) == 1:
        a, b = max(0.0, u0[0] - cell), min(1.0, u0[0] + cell)
        minimize_scalar(lambda x: cost([x]), bounds=(a, b), method="bounded",
                        options={"xatol": plan.resolution, "maxiter": plan.max_refine})
        notes.append(f"{ranges[others[0]].name}: bounded Brent between the best candidate's neighbours, to "
                     f"{plan.resolution:g} of the range")
    else:
        simplex = [u0] + [np.clip(u0 + 0.5 * cell * np.eye(len(others))[k] * (1 if u0[k] < 0.5 else -1), 0, 1)
                          for k in range(len(others))]
        minimize(cost, u0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(others),
                 options={"initial_simplex": np.array(simplex), "xatol": plan.resolution,
                          "fatol": 1e-4 * (100.0 if ev.objective == "window" else 1.0), "maxfev": plan.max_refine})
        notes.append(f"{', '.join(ranges[i].name for i in others)}: bounded Nelder-Mead from the best candidate "
                     f"(at most {plan.max_refine} evaluations)")
    return state["best"], notes


# --------------------------------------------------------------------------- around the optimum

def _line_value(ev: Evaluator, values: tuple, index: int, dose_index, plan: Plan, around) -> tuple:
    """(objective value, feasible, in spec, rows) at ``values``; for ``window`` along a non-dose axis, a dose search."""
    if ev.objective == "window" and index != dose_index:
        ln = search_line(ev, values, dose_index, plan, around)
        e = ev.evaluate(ln.values)
        return (ln.score if ln.feasible else None), ln.feasible, ln.feasible, e.rows
    e = ev.evaluate(values)
    value = None if ev.objective == "window" else e.value
    return value, e.feasible, all(r["in_spec"] for r in e.rows), e.rows


def _contiguous(xs: list[float], good: list[bool], x0: float) -> tuple[float, float] | None:
    """The run of ``good`` samples that holds ``x0``, as (first, last) sample values."""
    if x0 not in xs:
        return None
    i0 = i1 = xs.index(x0)
    if not good[i0]:
        return None
    while i0 > 0 and good[i0 - 1]:
        i0 -= 1
    while i1 < len(xs) - 1 and good[i1 + 1]:
        i1 += 1
    return xs[i0], xs[i1]


def _within(xs, fs, ok, x0: float, f0: float, objective: str, design_cd_um: float | None):
    """The range around ``x0`` where the objective stays within 1% of ``f0`` (linear crossing between samples)."""
    if objective == "cd":
        if design_cd_um is None:
            return None
        limit = f0 + WITHIN_FRACTION * design_cd_um
        good = [o and f is not None and f <= limit for f, o in zip(fs, ok)]
    else:
        limit = f0 - WITHIN_FRACTION * abs(f0)
        good = [o and f is not None and f >= limit for f, o in zip(fs, ok)]
    run = _contiguous(xs, good, x0)
    if run is None:
        return None
    i0, i1 = xs.index(run[0]), xs.index(run[1])

    def cross(i_in, i_out):
        f_in, f_out = fs[i_in], fs[i_out]
        if f_out is None or f_in == f_out or not ok[i_out]:
            return xs[i_in]
        t = (limit - f_in) / (f_out - f_in)
        return xs[i_in] + min(max(t, 0.0), 1.0) * (xs[i_out] - xs[i_in])

    lo = xs[i0] if i0 == 0 else cross(i0, i0 - 1)
    hi = xs[i1] if i1 == len(xs) - 1 else cross(i1, i1 + 1)
    return [float(lo), float(hi)]


def _profiles(ev: Evaluator, best: LineResult, plan: Plan, scheduler=None) -> tuple[list[dict], list[dict]]:
    """Each axis through the optimum: the profile (figure) and the sensitivity (derivative, 1% and in-spec ranges)."""
    ranges = ev.ranges
    dose_index = next((i for i, r in enumerate(ranges) if r.is_dose), None)
    x_best = best.values
    e_best = ev.evaluate(x_best)
    f_best = best.score if ev.objective == "window" else e_best.value
    design = [r["design_cd_x_um"] for r in e_best.rows if r.get("design_cd_x_um") is not None]
    design_cd = float(min(design)) if design else None
    around = x_best[dose_index] if dose_index is not None else None
    profiles, sensitivity = [], []
    for i, r in enumerate(ranges):
        span = r.high - r.low
        h = max(WITHIN_FRACTION * span, plan.resolution * span)
        xs = sorted(set([float(v) for v in np.linspace(r.low, r.high, plan.profile_points)] + [x_best[i]]))
        plus, minus = min(r.high, x_best[i] + h), max(r.low, x_best[i] - h)
        todo = sorted(set(xs + [plus, minus]))
        if r.images:
            # every sample is a new image: map them with Dask; the loop below then reads the cache
            fresh = [_with(x_best, i, x) for x in todo if _with(x_best, i, x) not in ev.cache]
            _lines(ev, fresh, dose_index if ev.objective == "window" else None, plan, scheduler, around)
        samples = {x: _line_value(ev, _with(x_best, i, x), i, dose_index, plan, around) for x in todo}
        fs = [samples[x][0] for x in xs]
        feasible = [samples[x][1] for x in xs]
        spec = [samples[x][2] for x in xs]
        steps = [row["step"] for row in samples[xs[0]][3]]
        cdx = {name: [samples[x][3][k]["cd_x_error_mean_um"] for x in xs] for k, name in enumerate(steps)}

        def diff(metric):
            a, b = samples[minus], samples[plus]
            va, vb = metric(a), metric(b)
            return None if va is None or vb is None or plus == minus else float((vb - va) / (plus - minus))

        def slopes(metric: str) -> dict:
            # per step: the steps' CDs differ in sign at a shared optimum, so no single step speaks for all
            return {name: diff(lambda s, k=k: s[3][k][metric]) for k, name in enumerate(steps)}

        def mean(by_step: dict):
            values = list(by_step.values())
            return None if any(v is None for v in values) else float(np.mean(values))

        by_x, by_y = slopes("cd_x_error_mean_um"), slopes("cd_y_error_mean_um")
        within_spec = _contiguous(xs, spec, x_best[i])
        if within_spec is not None and i == dose_index:
            within_spec = list(_refine_spec_edges(ev, x_best, i, xs, spec, plan))
        entry = {"name": r.name, "h": float(plus - minus) / 2,
                 "d_objective": None if (ev.objective == "window" and i == dose_index) else diff(lambda s: s[0]),
                 "d_cd_x_error_um": mean(by_x), "d_cd_y_error_um": mean(by_y),
                 "d_cd_x_error_um_by_step": by_x, "d_cd_y_error_um_by_step": by_y,
                 "within_1pct": (None if (ev.objective == "window" and i == dose_index) else
                                 _within(xs, fs, feasible, x_best[i], f_best, ev.objective, design_cd)),
                 "within_spec": None if within_spec is None else [float(v) for v in within_spec]}
        for key in ("within_1pct", "within_spec"):
            span_ = entry[key]
            entry[key + "_limited_by_range"] = None if span_ is None else bool(span_[0] <= r.low or span_[1] >= r.high)
        sensitivity.append(entry)
        profiles.append({"name": r.name, "values": xs, "objective": fs, "feasible": feasible, "in_spec": spec,
                         "cd_x_error_um": cdx})
    return profiles, sensitivity


def _refine_spec_edges(ev: Evaluator, x_best: tuple, i: int, xs: list, spec: list, plan: Plan):
    """The in-spec dose run through the optimum with its edges bisected to the resolution (doses are cheap)."""
    r = ev.ranges[i]
    tol = plan.resolution * (r.high - r.low)
    lo, hi = _contiguous(xs, spec, x_best[i])
    k0, k1 = xs.index(lo), xs.index(hi)

    def inside(d):
        return all(row["in_spec"] for row in ev.evaluate(_with(x_best, i, d)).rows)

    def edge(good, bad):
        while abs(bad - good) > tol:
            mid = 0.5 * (good + bad)
            good, bad = (mid, bad) if inside(mid) else (good, mid)
        return good

    return (lo if k0 == 0 else edge(lo, xs[k0 - 1]), hi if k1 == len(xs) - 1 else edge(hi, xs[k1 + 1]))


# --------------------------------------------------------------------------- the result

@dataclass(frozen=True)
class OptimizeResult:
    """The optimum of :func:`optimize`.

    Attributes
    ----------
    objective : str
    optimum : dict
        Each varied field's value at the optimum (canonical unit).
    value : float
        The objective there (|CD error| in µm for ``cd``, latitude % for ``window``).
    feasible : bool
    constraints : dict
        Each constraint's value, limit and status at the optimum.
    sensitivity : list of dict
        Per axis: ``d_objective`` (per unit of the axis), ``d_cd_x_error_um``
        and ``d_cd_y_error_um`` (mean over steps; ``*_by_step`` per step),
        ``within_1pct`` and ``within_spec`` ranges.
    evaluations, images : int
        Developments and images computed (the search's own are in ``report``).
    wall_time_s, search_wall_time_s : float
        The whole run, and the search before the profiles and sensitivity.
    report : dict
        Everything above as written to optimize.json (no wall time: the
        same inputs give the same bytes).
    """

    objective: str
    optimum: dict
    value: float
    feasible: bool
    constraints: dict
    sensitivity: list
    evaluations: int
    images: int
    wall_time_s: float
    search_wall_time_s: float
    report: dict = field(repr=False)

    def __repr__(self) -> str:
        at = ", ".join(f"{k}={v:.4g}" for k, v in self.optimum.items())
        unit = {"cd": " um", "window": "%"}.get(self.objective, "")
        return (f"OptimizeResult({self.objective} {self.value:.4g}{unit} at {at}; "
                f"{'feasible' if self.feasible else 'infeasible'}; {self.evaluations} evaluations, "
                f"{self.images} image{'' if self.images == 1 else 's'}, {self.wall_time_s:.1f} s)")


def reduce_to_step(recipe: Recipe, step: str | None) -> Recipe:
    """``recipe`` with only the named step (its own film, mask, exposure): the others do not affect it."""
    if step is None:
        return recipe
    names = [s.name for s in recipe.steps]
    if step not in names:
        raise LithoInputError(f"--step {step!r}: not a step of {recipe.path or recipe.name}; accepted: "
                              f"{', '.join(names)}")
    raw = copy.deepcopy(dict(recipe.raw))
    if raw.get("step"):
        raw["step"] = [raw["step"][names.index(step)]]
    base_dir = recipe.path.parent if recipe.path else "."
    return recipe_from_dict(raw, source=str(recipe.path) if recipe.path else None, base_dir=base_dir,
                            path=recipe.path)


def _ranges_of(vary) -> list[Range]:
    if isinstance(vary, str):
        return parse_ranges(vary)
    if isinstance(vary, (list, tuple)) and all(isinstance(r, Range) for r in vary):
        return list(vary)
    out = []
    for name, bounds in dict(vary).items():
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise LithoInputError(f"vary {name!r}: give (LOW, HIGH), two numbers") from None
        out.append(_range(name, low, high, f"--vary {name}={low:g}:{high:g}"))
    return out


def optimize(recipe: Recipe | str | Path, vary, objective: str = "cd", constraints: Constraints | dict | None = None,
             *, step: str | None = None, pixel_um: float | None = None, plan: Plan | None = None,
             scheduler: str | None = None) -> OptimizeResult:
    """The settings within ``vary`` that maximise ``objective`` under ``constraints``.

    Parameters
    ----------
    recipe : Recipe or path
    vary : dict, str or list of Range
        ``{"exposure.dose": (150, 450), "exposure.gap": (2, 8)}`` (canonical
        units of the keys), the CLI text ``"exposure.dose=150:450,..."`` or
        :class:`Range` objects.
    objective : {"iou", "cd", "plqy", "window"}
        See the module docstring.
    constraints : Constraints or dict, optional
        Default: no missing pixel and no bridge in any step.
    step : str, optional
        Judge this step only (the recipe is reduced to it); default every step.
    pixel_um : float, optional
        Sample pitch for every point (default the recipe's).
    plan : Plan, optional
        Resolution and sizes of the search.
    scheduler : str, optional
        Dask scheduler of the candidate searches (:func:`litho.parallel.map_tasks`).

    Returns
    -------
    OptimizeResult

    Raises
    ------
    LithoInputError
        An unknown key or objective, a bad range, or no feasible point in the ranges.
    """
    start = time.perf_counter()
    if objective not in OBJECTIVES:
        raise LithoInputError(f"--objective {objective!r}: accepted: {', '.join(OBJECTIVES)}")
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    ranges = _ranges_of(vary)
    names = [r.name for r in ranges]
    if len(set(names)) != len(names):
        raise LithoInputError(f"--vary: {', '.join(n for n in dict.fromkeys(names) if names.count(n) > 1)} "
                              "is varied twice; give each field once")
    if objective == "window" and not any(r.is_dose for r in ranges):
        raise LithoInputError("--objective window: vary exposure.dose too (the window is a dose range)")
    if isinstance(constraints, dict):
        constraints = Constraints(**constraints)
    constraints = constraints or Constraints()
    if objective == "window":
        constraints = Constraints(constraints.allow_missing, constraints.allow_bridges, constraints.min_plqy, True)
    plan = plan or Plan()
    judged = reduce_to_step(recipe, step)
    axes = [Axis(r.section, r.key, (r.low,)) for r in ranges]
    # both ends of every range build (and so validate) a recipe before any simulation
    for corner in itertools.product(*((r.low, r.high) for r in ranges)):
        checked = point_recipe(judged, axes, corner)
        pitch = pixel_um or checked.simulation.pixel_um
        if pitch and pitch != "auto":
            for s in checked.steps:
                s.exposure.optics.check_pixel(pitch, str(checked.path or "recipe"))
    ev = Evaluator(judged, ranges, objective, constraints, pixel_um)
    best, notes = _search(ev, plan, scheduler)
    searched = {"evaluations": ev.evaluations, "images": ev.images, "wall_time_s": time.perf_counter() - start}
    if not best.feasible:
        raise LithoInputError(f"no feasible point in {', '.join(f'{r.name}={r.low:g}:{r.high:g}' for r in ranges)} "
                              f"under the constraints ({_constraint_text(constraints)}); e.g. at "
                              f"{', '.join(f'{r.name}={v:.4g}' for r, v in zip(ranges, best.values))}: "
                              f"{best.reason or 'none feasible'}")
    profiles, sensitivity = _profiles(ev, best, plan, scheduler)
    e_best = ev.evaluate(best.values)
    value = best.score if objective == "window" else e_best.value
    optimum = {r.name: float(v) for r, v in zip(ranges, best.values)}
    status = constraints.status(e_best.rows)
    report = {
        "recipe": str(recipe.path) if recipe.path else recipe.name,
        "step": step or "all",
        "objective": objective, "objective_definition": OBJECTIVE_TEXT[objective],
        "direction": "minimise" if objective == "cd" else "maximise",
        "vary": [{"name": r.name, "low": r.low, "high": r.high, "tolerance": plan.resolution * (r.high - r.low),
                  "images_per_value": r.images} for r in ranges],
        "constraints": constraints.as_dict(),
        "optimum": optimum, "objective_value": value, "feasible": True, "constraint_status": status,
        "window": best.window,
        "metrics": e_best.rows,
        "sensitivity": sensitivity, "profiles": profiles,
        "search": {"method": notes, "resolution_fraction": plan.resolution, "coarse_dose": plan.coarse_dose,
                   "profile_points": plan.profile_points},
        "evaluations": ev.evaluations, "images": ev.images,
        "search_evaluations": searched["evaluations"], "search_images": searched["images"],
    }
    return OptimizeResult(objective=objective, optimum=optimum, value=float(value), feasible=True,
                          constraints=status, sensitivity=sensitivity, evaluations=ev.evaluations, images=ev.images,
                          wall_time_s=time.perf_counter() - start, search_wall_time_s=searched["wall_time_s"],
                          report=report)


def _constraint_text(c: Constraints) -> str:
    parts = [p for p, on in (("no missing pixels", not c.allow_missing), ("no bridges", not c.allow_bridges),
                             (f"PLQY >= {c.min_plqy:g}" if c.min_plqy is not None else "", c.min_plqy is not None),
                             ("in spec", c.in_spec)) if on]
    return ", ".join(parts) or "none"


# --------------------------------------------------------------------------- figure

def profile_figure(report: dict):
    """The objective along each varied axis through the optimum, one panel per axis.

    Feasible samples as dots, infeasible as crosses; the optimum as a star,
    the range within 1% shaded blue and the in-spec range marked by a bar
    along the bottom. For ``window`` along the dose (the window is a
    property of the optics), the CD error in x with the window shaded.
    """
    from .plot import axis_label, figure, title

    profiles = report["profiles"]
    fig = figure(max(5.2, 4.2 * len(profiles) + 0.4), 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(profiles), squeeze=False)[0])
    objective = report["objective"]
    ylabel = {"iou": "mean IoU", "cd": "|CD error| (µm)", "plqy": "PLQY retention in print",
              "window": "exposure latitude (%)"}[objective]
    for ax, prof, sens in zip(axes, profiles, report["sensitivity"]):
        xs = np.asarray(prof["values"], float)
        dose_window = (objective == "window" and report["window"] is not None
                       and prof["name"].split(".")[-1].startswith("dose"))
        ok = np.asarray(prof["feasible"], bool)
        if dose_window:
            for name, cd in prof["cd_x_error_um"].items():
                ys = np.array([np.nan if v is None else v for v in cd], float)
                ax.plot(xs, ys, "o-", ms=3, lw=1.0, label=f"CD error x, {name}")
        else:
            ys = np.array([np.nan if v is None else v for v in prof["objective"]], float)
            ax.plot(xs, ys, "-", color="#3b5b92", lw=1.2)
            ax.plot(xs[ok], ys[ok], "o", color="#3b5b92", ms=4, label="feasible")
            if (~ok).any():
                ax.plot(xs[~ok], ys[~ok], "x", color="#c0392b", ms=5, label="breaks a constraint")
        x_opt = report["optimum"][prof["name"]]
        if dose_window:
            ax.axvspan(report["window"]["dose_min"], report["window"]["dose_max"], color="#3b5b92", alpha=0.15,
                       label=f"window {report['window']['exposure_latitude_pct']:.1f}%")
            ax.axhline(0.0, color="0.5", lw=0.8)
            ax.set_ylabel("CD error in x (µm)")
        else:
            ax.plot([x_opt], [report["objective_value"]], "*", color="#d60000", ms=11, label="optimum", zorder=4)
            if sens["within_1pct"]:
                ax.axvspan(*sens["within_1pct"], color="#3b5b92", alpha=0.15, label="within 1%")
            ax.set_ylabel(ylabel)
        ax.axvline(x_opt, color="#d60000", lw=0.8, ls="--")
        if sens["within_spec"]:
            lo, hi = sens["within_spec"]
            ax.plot([lo, hi], [0.02, 0.02], transform=ax.get_xaxis_transform(), color="#2e8b57", lw=4,
                    solid_capstyle="butt", label="in spec")
        # |CD error| has a kink at its optimum: its slope is the CD error's
        d, what = ((sens["d_cd_x_error_um"], "dCDx/dx") if objective in ("cd", "window")
                   else (sens["d_objective"], "d/dx"))
        label = axis_label(prof["name"])
        per = label.split(" (")[-1].rstrip(")") if " (" in label else "unit"
        slope = "" if d is None else f"; {what} {d:.3g}{' µm' if what == 'dCDx/dx' else ''} per {per}"
        ax.set(xlabel=label, title=f"{label.split(' (')[0]} {x_opt:.4g}{slope}")
        ax.grid(True, alpha=0.25)
        ax.legend(loc="best")
    at = ", ".join(f"{axis_label(k).split(' (')[0]} {v:.4g}" for k, v in report["optimum"].items())
    unit = {"cd": " µm", "window": "%"}.get(objective, "")
    title(fig, f"litho optimize {objective}, step {report['step']}: {at} -> {report['objective_value']:.4g}{unit} "
               f"({report['evaluations']} evaluations, {report['images']} image{'s' if report['images'] != 1 else ''})")
    return fig
