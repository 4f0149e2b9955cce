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
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .dose import imaging_optics
from .optics import edge_slope_summary
from .outputs import atomic_dir

#: Version of the report.json layout (src/litho/schema/report.schema.json, docs/report.md).
#: The major number changes when a key is renamed or removed, the minor one when keys are added.
SCHEMA_VERSION = "1.0"
#: Significant digits every float in report.json is rounded to.
SIGNIFICANT_DIGITS = 6

# Per-pixel keys as the report names them (PixelMetrics field -> report key). One name per
# quantity: a field statistic is the pixel key with _mean/_min/_max before its unit.
_PIXEL_KEYS = {"mean_nrt": "pixel_nrt"}
# Spectra (lists of (wavelength nm, value)) -> maps {"365": value} under a key naming both units.
_SPECTRUM_KEYS = {
    "epsilon_per_arm_by_wavelength": "epsilon_per_arm_m_cm_by_wavelength_nm",
    "sensitiser_epsilon_by_wavelength": "sensitiser_epsilon_m_cm_by_wavelength_nm",
    "absorption_length_nm_by_wavelength": "absorption_length_nm_by_wavelength_nm",
    "damage_yield_by_wavelength": "damage_yield_by_wavelength_nm",
}
_WAVELENGTH_KEY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*nm\s*$")


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


def result_file(data: dict) -> dict:
    """A sweep or min-feature result as its JSON file holds it: ``schema_version`` first, plain
    JSON values, floats rounded to :data:`SIGNIFICANT_DIGITS` as in report.json
    (``litho.schema.validate_sweep`` / ``validate_min_feature`` check it)."""
    return {"schema_version": SCHEMA_VERSION, **rounded(to_jsonable(data))}


def _quadrature_error(optics, pixel_um: float):
    """The optics' estimate of its own quadrature error (fraction of the clear field), or None."""
    estimate = getattr(optics, "directions_accuracy", None)
    return None if estimate is None else float(estimate(pixel_um))


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
                "file": normalised_path(step.mask.path),
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
            "film": unit_keys(to_jsonable(step.film)),
            "crosslinker": unit_keys(to_jsonable(step.crosslinker)),
            "developer": unit_keys(to_jsonable(step.developer)),
            "aerial_image": {
                "intensity_min": float(s.intensity.min()),
                "intensity_max": float(s.intensity.max()),
                "intensity_mean_in_pixels": _mean_where(s.intensity, s.transmission > 0.5),
                "intensity_mean_between_pixels": _mean_where(s.intensity, s.transmission < 0.5),
                "edges": edge_slope_summary(s.intensity, s.grid, s.openings),
                "quadrature_error_estimate": _quadrature_error(imaging_optics(step), s.grid.pixel_um),
            },
            "development": unit_keys(to_jsonable(getattr(developed, "parameters", {}))),
            "plqy_retention_mean_in_print": _mean_where(plqy, printed) if plqy.shape == printed.shape
            else float(np.mean(plqy)),
            "overlay": step_overlay(s),
            "metrics": s.metrology.summary,
            "pixels": [pixel_record(p) for p in s.metrology.pixels],
            **_substrate_block(s),
        })
    report = to_jsonable({
        "schema_version": SCHEMA_VERSION,
        "litho_version": __version__,
        "recipe": {
            "name": recipe.name,
            "description": recipe.description,
            "path": normalised_path(recipe.path) if recipe.path else None,
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
        "summary": summary(steps),
        "steps": steps,
        "overlay_between_steps": overlay_between_steps(result.steps),
        **({"convergence": result.convergence} if getattr(result, "convergence", None) else {}),
        "colour_contamination": result.contamination,
    })
    return rounded(report)


def _substrate_block(step_result) -> dict:
    """``{"substrate": ...}`` for a film coated over PDL banks (litho.pdl_metrics), else nothing."""
    if getattr(step_result, "coating", None) is None:
        return {}
    from .pdl_metrics import substrate_report

    return {"substrate": substrate_report(step_result)}


def _save_substrate_figure(result, out_dir: Path, options) -> None:
    """pdl_cross_section.png for a film coated over PDL banks (litho.topography_plot)."""
    if not any(getattr(s, "coating", None) is not None for s in result.steps):
        return
    from .plot import save
    from .topography_plot import pdl_cross_section_figure

    save(pdl_cross_section_figure(result), out_dir / "pdl_cross_section.png", options)


#: The per-step numbers of the top-level ``summary`` (metrics key -> summary key).
SUMMARY_KEYS = {
    "designed_pixels": "pixels", "missing_pixels": "missing_pixels", "bridges": "bridges",
    "iou_mean": "iou_mean", "cd_x_error_mean_um": "cd_x_error_mean_um", "cd_y_error_mean_um": "cd_y_error_mean_um",
    "epe_rms_um": "epe_rms_um", "epe_max_abs_um": "epe_max_abs_um", "residue_max_nrt": "residue_max_nrt",
}


def summary(steps: list[dict]) -> dict:
    """Per step (colour), the numbers a reader looks at first, keyed by step name."""
    out = {}
    for step in steps:
        m = step["metrics"]
        out[step["name"]] = {**{new: m.get(old) for old, new in SUMMARY_KEYS.items()},
                             "plqy_retention_mean_in_print": step["plqy_retention_mean_in_print"]}
    return out


def pixel_record(pixel) -> dict:
    """One designed pixel as the report names it (see ``_PIXEL_KEYS``).

    ``epe_max_abs_um`` is the largest |EPE| along the pixel's edge (the
    field metric of the same name is its maximum over the pixels).
    """
    d = pixel.as_dict()
    out = {}
    for key, value in d.items():
        if key == "epe_max_um":
            out["epe_max_abs_um"] = abs(value) if value is not None and math.isfinite(value) else value
        else:
            out[_PIXEL_KEYS.get(key, key)] = value
    return out


def normalised_path(path) -> str:
    """A path without ``..`` or ``.`` components (``recipes/../masks/x.gds`` -> ``masks/x.gds``), / separated."""
    return Path(os.path.normpath(str(path))).as_posix()


def unit_keys(block: Any) -> Any:
    """Give wavelength-indexed data keys that carry both units.

    Spectra stored as (wavelength nm, value) pairs become maps keyed by the
    wavelength in nm (``{"365": 500.0}``) under the names of
    ``_SPECTRUM_KEYS``; a map keyed ``"365 nm"`` becomes ``{"365": ...}``
    with ``_by_wavelength_nm`` appended to its key.
    """
    if isinstance(block, list):
        return [unit_keys(v) for v in block]
    if not isinstance(block, dict):
        return block
    out = {}
    for key, value in block.items():
        if key in _SPECTRUM_KEYS and isinstance(value, list):
            out[_SPECTRUM_KEYS[key]] = {_nm_key(w): v for w, v in value}
        elif isinstance(value, dict) and value and all(_WAVELENGTH_KEY.match(str(k)) for k in value):
            out[f"{key}_by_wavelength_nm"] = {_nm_key(_WAVELENGTH_KEY.match(str(k)).group(1)): v
                                             for k, v in value.items()}
        else:
            out[key] = unit_keys(value)
    return out


def _nm_key(wavelength_nm) -> str:
    return f"{float(wavelength_nm):g}"


def rounded(value: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """``value`` with every float rounded to ``digits`` significant digits (4.2330000000000005 -> 4.233)."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value


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


# predicted.gds layers: the design at its mask layer L/D, the print at (100 + L)/D, and the
# review XOR at (200 + L)/1 (printed minus design) and (200 + L)/2 (design minus printed).
PREDICTED_OFFSET = 100
XOR_OFFSET = 200
XOR_EXCESS_DATATYPE, XOR_DEFICIT_DATATYPE = 1, 2
#: Layer of the provenance text (recipe name, litho version) in predicted.gds.
PROVENANCE_LAYER = (100, 0)
# Display colours of the pixel colours; other steps take the next of the fallback palette.
_STEP_COLOURS = {"R": "#e8000b", "G": "#1ac938", "B": "#023eff"}
_FALLBACK_COLOURS = ("#ff7c00", "#8b2be2", "#9f4800", "#f14cc1", "#a3a3a3")
_LAYER_COLOURS = {1: "R", 2: "G", 3: "B"}


def step_colour(name: str, layer, k: int) -> str:
    """Display colour (#rrggbb) of step ``k`` named ``name`` on mask ``layer``: R, G, B by name, else by layer."""
    upper = name.strip().upper()
    key = upper[:1] if upper in ("R", "G", "B", "RED", "GREEN", "BLUE") else _LAYER_COLOURS.get(int(layer[0]))
    return _STEP_COLOURS.get(key, _FALLBACK_COLOURS[k % len(_FALLBACK_COLOURS)])


def _step_colour(step_result, k: int) -> str:
    return step_colour(step_result.name, step_result.layer, k)


def predicted_layer_table(result) -> list[dict]:
    """Every layer of predicted.gds: ``layer`` (l, d), ``name``, ``colour`` (#rrggbb), ``kind``, ``step``.

    ``kind`` is ``design``, ``printed``, ``printed_minus_design`` or
    ``design_minus_printed``. Steps that share a mask layer share its rows.
    """
    rows, seen = [], set()
    for k, s in enumerate(result.steps):
        l, d = s.layer
        colour = _step_colour(s, k)
        for layer, kind, name in (
                ((l, d), "design", f"{s.name} design"),
                ((PREDICTED_OFFSET + l, d), "printed", f"{s.name} printed"),
                ((XOR_OFFSET + l, XOR_EXCESS_DATATYPE), "printed_minus_design", f"{s.name} printed - design"),
                ((XOR_OFFSET + l, XOR_DEFICIT_DATATYPE), "design_minus_printed", f"{s.name} design - printed")):
            if layer not in seen:
                seen.add(layer)
                rows.append({"layer": layer, "name": name, "colour": colour, "kind": kind, "step": s.name})
    return rows


def predicted_layers(result) -> dict:
    """Design, printed contours and their XOR per layer (see :func:`predicted_layer_table`), shapely, µm.

    One polygon per printed island, holes kept; the XOR layers are the
    printed area outside the design and the designed area that did not print.
    """
    from .layout.geometry import merge

    layers: dict[tuple[int, int], list] = {}
    for s in result.steps:
        l, d = s.layer
        layers.setdefault((l, d), []).extend(s.design)
        layers.setdefault((PREDICTED_OFFSET + l, d), []).extend(s.metrology.printed)
    for s in result.steps:
        l, d = s.layer
        design = merge(list(layers[(l, d)])) if layers[(l, d)] else None
        printed = merge(list(layers[(PREDICTED_OFFSET + l, d)])) if layers[(PREDICTED_OFFSET + l, d)] else None
        excess = printed.difference(design) if printed is not None and design is not None else printed
        deficit = design.difference(printed) if printed is not None and design is not None else design
        layers[(XOR_OFFSET + l, XOR_EXCESS_DATATYPE)] = [] if excess is None else _pieces(excess)
        layers[(XOR_OFFSET + l, XOR_DEFICIT_DATATYPE)] = [] if deficit is None else _pieces(deficit)
    return layers


def _pieces(geometry, min_area_um2: float = 1e-6) -> list:
    """The polygons of a (multi)geometry, without slivers of floating-point noise."""
    import shapely

    return [g for g in shapely.get_parts(geometry) if g.geom_type == "Polygon" and g.area > min_area_um2]


def write_predicted_gds(result, path) -> Path:
    """predicted.gds: named layers, whole polygons, the XOR layers and a provenance label."""
    from .gds import write_annotated_polygons

    table = predicted_layer_table(result)
    layers = predicted_layers(result)
    g = result.steps[0].grid
    x0, y0 = g.origin_um
    provenance = f"{result.recipe.name} | litho {__version__}"
    return write_annotated_polygons(path, layers, "PREDICTED",
                                    layer_names={row["layer"]: row["name"] for row in table},
                                    labels=[(provenance, PROVENANCE_LAYER, (float(x0), float(y0)))])


def layer_properties_xml(result) -> str:
    """predicted.lyp: KLayout layer properties naming and colouring every layer of predicted.gds.

    Designs are drawn as hatched outlines, prints solid, the XOR layers in
    dense and sparse stipple of the step colour, the provenance text in grey.
    """
    from xml.sax.saxutils import escape

    style = {"design": ("I5", 0, 2), "printed": ("I1", 0, 1),
             "printed_minus_design": ("I9", 40, 1), "design_minus_printed": ("I13", -40, 1)}
    rows = list(predicted_layer_table(result))
    rows.append({"layer": PROVENANCE_LAYER, "name": "provenance", "colour": "#808080", "kind": "printed"})
    parts = ['<?xml version="1.0" encoding="utf-8"?>', "<layer-properties>"]
    for row in rows:
        dither, brightness, width = style[row["kind"]]
        l, d = row["layer"]
        parts += [" <properties>",
                  f"  <frame-color>{row['colour']}</frame-color>",
                  f"  <fill-color>{row['colour']}</fill-color>",
                  f"  <frame-brightness>{brightness}</frame-brightness>",
                  f"  <fill-brightness>{brightness}</fill-brightness>",
                  f"  <dither-pattern>{dither}</dither-pattern>",
                  "  <valid>true</valid>", "  <visible>true</visible>", "  <transparent>false</transparent>",
                  f"  <width>{width}</width>", "  <marked>false</marked>", "  <animation>0</animation>",
                  f"  <name>{escape(row['name'])} {l}/{d}</name>",
                  f"  <source>{l}/{d}@1</source>",
                  " </properties>"]
    parts.append("</layer-properties>")
    return "\n".join(parts) + "\n"


def timing(result) -> dict:
    """The non-deterministic part of a run, kept out of report.json (timing.json)."""
    return {"runtime_s": float(result.runtime_s)}


def file_sha256(path) -> str | None:
    """Hex SHA-256 of a file's bytes (None when it cannot be read)."""
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def provenance(result, command: list[str] | None = None) -> dict:
    """Who made a run, when, and from which bytes (provenance.json; not deterministic).

    ``inputs`` lists the recipe file and every mask file with its SHA-256;
    ``recipe_text`` is the recipe file as it was read, echoed by report.html.
    """
    import datetime
    import sys

    argv = list(sys.argv if command is None else command)
    if argv and (argv[0].endswith(("litho", "__main__.py"))):
        argv = ["litho", *argv[1:]]
    inputs = []
    if result.recipe.path:
        inputs.append({"role": "recipe", "path": normalised_path(result.recipe.path),
                       "sha256": file_sha256(result.recipe.path)})
    for mask_path in dict.fromkeys(str(s.step.mask.path) for s in result.steps):
        inputs.append({"role": "mask", "path": normalised_path(mask_path), "sha256": file_sha256(mask_path)})
    try:
        recipe_text = Path(result.recipe.path).read_text() if result.recipe.path else None
    except (OSError, UnicodeDecodeError):
        recipe_text = None
    return {"litho_version": __version__, "command": argv,
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "inputs": inputs, "recipe_text": recipe_text}


def save_result(result, out_dir: str | Path, *, figures: bool = True, html: bool = False,
                command: list[str] | None = None) -> list[Path]:
    """Write report.json, predicted.gds, predicted.lyp and the figures of ``result``.

    Everything is written into a temporary directory beside ``out_dir``
    that replaces ``out_dir`` as a whole only when all files are complete
    (:func:`litho.outputs.atomic_dir`). report.json and predicted.gds are the
    same bytes for the same inputs; the run time goes to timing.json and
    who ran what, when, from which input bytes to provenance.json.
    ``html=True`` adds report.html (:mod:`litho.html_report`).
    """
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        (tmp / "report.json").write_text(json.dumps(result.report, indent=2, allow_nan=False) + "\n")
        (tmp / "timing.json").write_text(json.dumps(timing(result), indent=2) + "\n")
        (tmp / "provenance.json").write_text(json.dumps(provenance(result, command), indent=2) + "\n")
        write_predicted_gds(result, tmp / "predicted.gds")
        (tmp / "predicted.lyp").write_text(layer_properties_xml(result))
        if figures:
            from .plot import save_figures

            # figures: True, or a litho.plot.FigureOptions (formats, dpi)
            save_figures(result, tmp, None if figures is True else figures)
            _save_substrate_figure(result, tmp, None if figures is True else figures)
        if html:
            from .html_report import write_html_report

            write_html_report(tmp)
        names = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [out_dir / n for n in names]
