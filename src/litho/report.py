"""The written outcome of a simulation: report.json and predicted.gds.

Every number in the report carries its unit in its key
(``dose_mj_cm2``, ``cd_x_um``; bare names are dimensionless), and the
report echoes the inputs it was made from, the litho version and the seed.

report.json and predicted.gds are deterministic: the same inputs give the
same bytes. What differs between identical runs (the run time) goes to
timing.json instead.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .optics import edge_slope_summary
from .outputs import atomic_dir


def to_jsonable(value: Any) -> Any:
    """Plain JSON data from dataclasses, numpy scalars, paths, tuples; nan → None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.repr is not False}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist()) if value.size <= 64 else f"array{list(value.shape)}"
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def build_report(result) -> dict:
    """The JSON-ready report of a :class:`litho.process.Result`."""
    recipe = result.recipe
    first = result.steps[0]
    steps = []
    for s in result.steps:
        step = s.step
        developed = s.developed
        plqy = np.asarray(developed.plqy_retention)
        printed = s.remaining_thickness >= s.metrology.threshold
        steps.append({
            "name": s.name,
            "mask": {
                "file": str(step.mask.path),
                "layer": list(s.layer),
                "cell": step.mask.cell,
                "window_um": step.mask.window_um,
                "designed_pixels": len(s.design),
            },
            "exposure": {
                "tool": step.exposure.tool,
                "dose_mj_cm2": step.exposure.dose_mj_cm2,
                "atmosphere": to_jsonable(step.exposure.atmosphere),
                "overlay_um": list(step.exposure.overlay_um),
                "optics": to_jsonable(step.exposure.optics),
                "lines": [{"wavelength_nm": w, "weight": wt} for w, wt in step.exposure.optics.lines],
            },
            "film": to_jsonable(step.film),
            "crosslinker": to_jsonable(step.crosslinker),
            "developer": to_jsonable(step.developer),
            "aerial_image": {
                "intensity_min": float(s.intensity.min()),
                "intensity_max": float(s.intensity.max()),
                "intensity_mean_in_pixels": _mean_where(s.intensity, s.transmission > 0.5),
                "intensity_mean_between_pixels": _mean_where(s.intensity, s.transmission < 0.5),
                "edges": edge_slope_summary(s.intensity, s.grid, s.openings),
            },
            "development": to_jsonable(getattr(developed, "parameters", {})),
            "plqy_retention_mean_in_print": _mean_where(plqy, printed) if plqy.shape == printed.shape
            else float(np.mean(plqy)),
            "overlay": step_overlay(s),
            "metrics": s.metrology.summary,
            "pixels": [p.as_dict() for p in s.metrology.pixels],
        })
    return to_jsonable({
        "litho_version": __version__,
        "recipe": {
            "name": recipe.name,
            "description": recipe.description,
            "path": str(recipe.path) if recipe.path else None,
            "seed": recipe.seed,
            "input": recipe.raw,
        },
        "simulation": {
            "pixel_um": first.grid.pixel_um,
            "grid_shape": list(first.grid.shape),
            "grid_origin_um": list(first.grid.origin_um),
            "window": recipe.simulation.window,
            "threshold_nrt": recipe.simulation.threshold,
            "stochastic": recipe.simulation.stochastic,
            "seed": recipe.seed,
        },
        "steps": steps,
        "overlay_between_steps": overlay_between_steps(result.steps),
        **({"convergence": result.convergence} if getattr(result, "convergence", None) else {}),
        "colour_contamination": result.contamination,
    })


def step_overlay(step_result) -> dict:
    """The overlay of one step: as applied to its mask, and as measured on its print.

    Measured = mean over the printed (not missing) pixels of printed minus
    designed centroid, µm; None when nothing printed on the design.
    """
    m = step_result.metrology.summary
    mx, my = m.get("centroid_shift_x_mean_um"), m.get("centroid_shift_y_mean_um")
    return {
        "applied_um": list(step_result.overlay_um),
        "measured_um": None if mx is None or my is None else [mx, my],
        "measured_pixels": sum(not p.missing for p in step_result.metrology.pixels),
    }


def overlay_between_steps(steps) -> list[dict]:
    """Measured overlay of every later step relative to the first (step k − step 0), µm."""
    rows = []
    if len(steps) < 2:
        return rows
    first = step_overlay(steps[0])
    for s in steps[1:]:
        here = step_overlay(s)
        measured = (None if here["measured_um"] is None or first["measured_um"] is None
                    else [here["measured_um"][k] - first["measured_um"][k] for k in range(2)])
        rows.append({"step": s.name, "relative_to": steps[0].name,
                     "applied_um": [s.overlay_um[k] - steps[0].overlay_um[k] for k in range(2)],
                     "measured_um": measured})
    return rows


def _mean_where(values: np.ndarray, where: np.ndarray) -> float | None:
    return float(values[where].mean()) if where.any() else None


def predicted_layers(result) -> dict:
    """Mask layers and predicted contours (layer 100 + mask layer) as polygon lists."""
    layers: dict[tuple[int, int], list] = {}
    for s in result.steps:
        layers.setdefault(tuple(s.layer), []).extend(s.design)
        l, d = s.layer
        layers.setdefault((100 + l, d), []).extend(s.metrology.printed)
    return layers


def timing(result) -> dict:
    """The non-deterministic part of a run, kept out of report.json (timing.json)."""
    return {"runtime_s": float(result.runtime_s)}


def save_result(result, out_dir: str | Path, *, figures: bool = True) -> list[Path]:
    """Write report.json, predicted.gds and the figures of ``result``.

    Everything is written into a temporary directory beside ``out_dir``
    that replaces ``out_dir`` as a whole only when all files are complete
    (:func:`litho.outputs.atomic_dir`). report.json and predicted.gds are the
    same bytes for the same inputs; the run time goes to timing.json.
    """
    from .gds import write_polygons

    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        (tmp / "report.json").write_text(json.dumps(result.report, indent=2, allow_nan=False) + "\n")
        (tmp / "timing.json").write_text(json.dumps(timing(result), indent=2) + "\n")
        write_polygons(tmp / "predicted.gds", predicted_layers(result), cell_name="PREDICTED")
        if figures:
            from .plot import save_figures

            # figures: True, or a litho.plot.FigureOptions (formats, dpi)
            save_figures(result, tmp, None if figures is True else figures)
        names = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [out_dir / n for n in names]
