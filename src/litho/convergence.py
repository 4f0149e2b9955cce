"""Is the sample pitch fine enough? CD at the pitch and at half of it.

The printed CD depends on the pitch. Where the image is smooth on the grid
(proximity gaps, projection) the contour of linearly interpolated samples
converges at second order. Where it is not (hard contact: the image is the
mask itself), area-coverage rasterisation turns every mask edge into a ramp
one sample wide; the develop response prints where the dose passes its gel
point, which is not half the clear-field dose, so each edge moves by a
fraction of a pitch that depends on where the edge falls between samples
(EBT contact, 6.47 µm pixels: CD error −0.19, −0.06 and −0.05 µm at 0.25,
0.125 and 0.0625 µm). That error is first order in the pitch and is not a
metrology fault: every metric is measured on interpolated contours.

So the check is numerical: one representative pixel (the designed pixel
nearest the middle of the layout) with its neighbourhood (everything within
the optics' blur length) is simulated again at the run's pitch p and at
p/2, on grids whose samples nest in the run's grid. The error at p is taken
as ``2·|CD(p) − CD(p/2)|`` in x and y (first order, the slower of the two
behaviours above), and the pitch counts as converged when that is within
``CONVERGED_FRACTION`` of the CD tolerance (2% of 10% of the designed CD,
PHYSICS.md §7). Otherwise the pitch that would be, p·target/error (first
order), is suggested.
"""

from __future__ import annotations

import dataclasses
import math

from shapely.geometry import box

from .grid import Grid
from .spec import CD_TOLERANCE

# A pitch is converged when its CD error estimate is within this share of the CD tolerance.
CONVERGED_FRACTION = 0.02
# Extra neighbourhood (µm) around the representative pixel beyond the optics' blur length.
NEIGHBOURHOOD_UM = 1.0
# Largest representative window simulated (samples at the finer pitch).
MAX_WINDOW_SAMPLES = 4096 ** 2
# The automatic pitch stops halving here (µm).
FINEST_AUTO_PITCH_UM = 0.002


def representative_window(design, grid: Grid, optics_list, periodic: bool):
    """A designed pixel near the middle of the layout, its neighbours, and a window around them.

    Returns ``(index, polygons, window)``: the pixel's index in ``polygons``
    (the designed pixels in the window), and a grid whose samples are
    samples of ``grid`` (the same pitch and sampling phase). A periodic
    window is already one period and is used whole.
    """
    design = list(design)
    if periodic:
        return _middle(design), design, grid
    index = _middle(design)
    chosen = design[index]
    reach = max([getattr(o, "blur_length_um", 0.0) for o in optics_list] + [0.0]) + NEIGHBOURHOOD_UM
    xmin, ymin, xmax, ymax = chosen.bounds
    area = box(xmin - reach, ymin - reach, xmax + reach, ymax + reach)
    neighbours = [p for p in design if p.intersects(area)]
    p = grid.pixel_um
    x0g, y0g = grid.origin_um
    # whole samples of the run's grid, so the window at pitch p reproduces its sampling
    j0 = math.floor((xmin - reach - x0g) / p)
    i0 = math.floor((ymin - reach - y0g) / p)
    j1 = math.ceil((xmax + reach - x0g) / p)
    i1 = math.ceil((ymax + reach - y0g) / p)
    window = Grid((i1 - i0, j1 - j0), p, (x0g + j0 * p, y0g + i0 * p))
    return neighbours.index(chosen), neighbours, window


def _middle(design) -> int:
    """Index of the polygon whose centroid is nearest the centroid of all of them."""
    cx = sum(p.centroid.x for p in design) / len(design)
    cy = sum(p.centroid.y for p in design) / len(design)
    return min(range(len(design)), key=lambda k: math.hypot(design[k].centroid.x - cx, design[k].centroid.y - cy))


def _refined(grid: Grid, factor: int) -> Grid:
    """``grid`` with its pitch divided by ``factor``, over the same area."""
    ny, nx = grid.shape
    return Grid((ny * factor, nx * factor), grid.pixel_um / factor, grid.origin_um)


def _cd(step, layer, polygons, index, grid, recipe, overlay_um):
    from .process import simulate_step

    sim = dataclasses.replace(recipe.simulation, pixel_um=grid.pixel_um)
    local = dataclasses.replace(recipe, simulation=sim)
    result = simulate_step(step, layer, tuple(polygons), grid, local, overlay_um=overlay_um)
    p = result.metrology.pixels[index]
    return p.cd_x_um, p.cd_y_um, p.design_cd_x_um, p.design_cd_y_um


def check_step(step, layer, design, grid: Grid, recipe, overlay_um=(0.0, 0.0)) -> dict:
    """CD of the representative pixel at ``grid.pixel_um`` and half of it, and the verdict.

    Returns
    -------
    dict
        ``pixel_um``, ``half_pixel_um``, ``cd_um`` and ``cd_half_pitch_um``
        (x, y), ``error_estimate_um`` (x, y), ``target_um`` (x, y),
        ``converged``, ``suggested_pixel_um`` (None when converged) and the
        representative pixel's designed centroid.
    """
    periodic = recipe.simulation.window == "periodic"
    index, polygons, window = representative_window(design, grid, [step.exposure.optics], periodic)
    fine = _refined(window, 2)
    if fine.shape[0] * fine.shape[1] > MAX_WINDOW_SAMPLES:
        return {"pixel_um": grid.pixel_um, "checked": False,
                "reason": f"a {fine.shape[1]} x {fine.shape[0]} window at half the pitch is too large to check"}
    # the cone rule of the run's pitch on both grids: the check measures the grid alone (a rule
    # sized for the half pitch would add its own quadrature difference, and cost several times more)
    optics = step.exposure.optics
    if hasattr(optics, "holding_cone_rule"):
        optics = optics.holding_cone_rule(grid.pixel_um)
    if hasattr(optics, "one_off"):
        # projection: two images of two new grids, each a first kernel build (2-6 s on the shipped
        # recipe) where Abbe's sum needs no set-up
        optics = optics.one_off()
    step = dataclasses.replace(step, exposure=dataclasses.replace(step.exposure, optics=optics))
    cx, cy, dcx, dcy = _cd(step, layer, polygons, index, window, recipe, overlay_um)
    fx, fy, _, _ = _cd(step, layer, polygons, index, fine, recipe, overlay_um)
    return verdict(grid.pixel_um, (cx, cy), (fx, fy), (dcx, dcy), polygons[index])


def verdict(pixel_um: float, cd_um, cd_half_um, design_cd_um, pixel_polygon=None) -> dict:
    """The convergence block from CDs at a pitch and at half of it (x, y pairs, µm)."""
    error = [2.0 * abs(a - b) for a, b in zip(cd_um, cd_half_um)]
    target = [CONVERGED_FRACTION * CD_TOLERANCE * d for d in design_cd_um]
    converged = all(e <= t for e, t in zip(error, target))
    ratio = min((t / e for e, t in zip(error, target) if e > 0), default=1.0)
    block = {
        "checked": True,
        "pixel_um": pixel_um,
        "half_pixel_um": pixel_um / 2,
        "cd_um": list(cd_um),
        "cd_half_pitch_um": list(cd_half_um),
        "design_cd_um": list(design_cd_um),
        "error_estimate_um": error,
        "target_um": target,
        "converged": converged,
        "suggested_pixel_um": None if converged else nice_pitch_down(pixel_um * ratio),
        "method": "2*|CD(p) - CD(p/2)| on one pixel and its neighbourhood; target "
                  f"{CONVERGED_FRACTION:g} x {CD_TOLERANCE:g} x designed CD",
    }
    if pixel_polygon is not None:
        c = pixel_polygon.centroid
        block["pixel_centroid_um"] = [c.x, c.y]
    return block


def nice_pitch_down(pitch_um: float) -> float:
    """``pitch_um`` rounded down to 1, 2, 2.5 or 5 × 10^k."""
    decade = 10 ** math.floor(math.log10(pitch_um))
    return float(max(m * decade for m in (1, 2, 2.5, 5) if m * decade <= pitch_um * (1 + 1e-9)))


def check(results, recipe) -> dict:
    """The ``convergence`` block of a run: :func:`check_step` for every step."""
    steps = []
    for r in results:
        block = check_step(r.step, r.layer, r.design, r.grid, recipe, r.overlay_um)
        steps.append({"step": r.name, **block})
    checked = [s for s in steps if s.get("checked")]
    suggested = [s["suggested_pixel_um"] for s in checked if not s["converged"]]
    return {
        "pixel_um": results[0].grid.pixel_um,
        "converged": bool(checked) and all(s["converged"] for s in checked),
        "suggested_pixel_um": min(suggested) if suggested else None,
        "steps": steps,
    }


def warning_line(block: dict) -> str | None:
    """One line for stderr when the pitch is not converged (None when it is, or was not checked)."""
    if not block or block.get("converged") or block.get("suggested_pixel_um") is None:
        return None
    worst = max((s for s in block["steps"] if s.get("checked") and not s["converged"]),
                key=lambda s: max(e / t for e, t in zip(s["error_estimate_um"], s["target_um"])))
    axis = max(range(2), key=lambda k: worst["error_estimate_um"][k] / worst["target_um"][k])
    err, target = worst["error_estimate_um"][axis], worst["target_um"][axis]
    return (f"warning: pixel_um = {block['pixel_um']:g} is not converged: CD {'xy'[axis]} error about {err:.3g} um "
            f"(step {worst['step']}; converged means <= {target:.3g} um, 2% of the CD tolerance); "
            f"use --pixel-um {block['suggested_pixel_um']:g} or --pixel-um auto")


def auto_pitch(steps, designs, grid_for, recipe, start_um: float) -> tuple[float, dict]:
    """The coarsest pitch start_um / 2^k whose CD is converged on every step.

    Parameters
    ----------
    steps : list of (Step, layer, design, overlay_um)
    grid_for : callable pitch_um -> Grid
        The run's grid at a pitch.
    start_um : float
        The pitch to start halving from.

    Returns
    -------
    (pitch_um, block) — the block is that of :func:`check` at the chosen pitch,
    with ``auto`` recording every pitch tried.
    """
    pitch = start_um
    tried = []
    while True:
        grid = grid_for(pitch)
        blocks = [{"step": s.name, **check_step(s, layer, design, grid, recipe, overlay)}
                  for s, layer, design, overlay in steps]
        checked = [b for b in blocks if b.get("checked")]
        converged = bool(checked) and all(b["converged"] for b in checked)
        tried.append({"pixel_um": pitch, "converged": converged,
                      "error_estimate_um": [max(b["error_estimate_um"]) for b in checked]})
        if converged or len(checked) < len(blocks) or pitch / 2 < FINEST_AUTO_PITCH_UM:
            suggested = [b["suggested_pixel_um"] for b in checked if not b["converged"]]
            return pitch, {"pixel_um": pitch, "converged": converged,
                           "suggested_pixel_um": min(suggested) if suggested else None,
                           "steps": blocks, "auto": tried}
        pitch = pitch / 2
