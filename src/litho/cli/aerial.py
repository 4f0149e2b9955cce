"""``litho aerial RECIPE -o DIR``: the aerial image(s) of a recipe and their log-slope.

For each step: the line-weighted aerial image and, for a broadband source,
one image per spectral line (``.npy``, clear field = 1), a PNG of the image
with the mask outline, the image-log-slope map |∇ ln I| (1/µm) and
``aerial.json`` with the grid, the optics, the window and the NILS/ILS at the
designed pixel edges. ``--gap-um`` or ``--defocus-um`` adds a series.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from .. import fields
from . import PIXEL_UM_HELP, example_help, output_dir, pixel_um_option
from .figures import add_figure_options, figure_options

ORDER = 30


def register(subparsers) -> None:
    p = subparsers.add_parser("aerial", **example_help(
        "Compute the aerial image of each step of a recipe (before any chemistry): intensity at the "
        "film top (clear field = 1) per spectral line, image-log-slope map, and NILS/ILS at the pixel "
        "edges. Writes .npy arrays, PNG figures and aerial.json into the output directory.",
        "litho aerial recipes/ebt_cdse_254nm.toml -o out/aerial"))
    p.add_argument("recipe", help="recipe TOML file")
    p.add_argument("-o", "--out", default="out", help="output directory (default: out)")
    p.add_argument("--pixel-um", type=pixel_um_option, default=None,
                   help=f"sample pitch, {PIXEL_UM_HELP} (default: the recipe's, else chosen from the smallest "
                        "feature)")
    p.add_argument("--window", choices=("isolated", "periodic"), default=None,
                   help="simulation window (default: the recipe's [simulation] window)")
    series = p.add_mutually_exclusive_group()
    series.add_argument("--gap-um", default=None, metavar="G1,G2,...", type=GAP_SERIES,
                        help=f"also compute a gap series (proximity), comma-separated µm, each "
                             f"{fields.range_text(*GAP_RANGE_UM)}")
    series.add_argument("--defocus-um", default=None, metavar="Z1,Z2,...", type=DEFOCUS_SERIES,
                        help=f"also compute a focus series (projection), comma-separated µm, each "
                             f"{fields.range_text(*DEFOCUS_RANGE_UM)}, e.g. -2,0,2")
    p.add_argument("--no-figures", action="store_true", help="write arrays and aerial.json only")
    add_figure_options(p)
    p.set_defaults(func=run)


# the ranges ProximityOptics.gap_um and ProjectionOptics.defocus_um accept
GAP_RANGE_UM = (0.0, 1e4)
DEFOCUS_RANGE_UM = (-1e3, 1e3)
GAP_SERIES = fields.number_list("--gap-um", lo=GAP_RANGE_UM[0], hi=GAP_RANGE_UM[1], unit="µm", example="5,10,20")
DEFOCUS_SERIES = fields.number_list("--defocus-um", lo=DEFOCUS_RANGE_UM[0], hi=DEFOCUS_RANGE_UM[1], unit="µm",
                                    example="-2,0,2")


def _values(text, flag: str) -> list[float]:
    from ..errors import LithoInputError

    if not isinstance(text, str):      # already parsed and checked by the option's type
        return [float(v) for v in text]
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise LithoInputError(f"{flag} {text!r}: give comma-separated numbers in µm, e.g. 5,10,20") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise LithoInputError(f"{flag} {text!r}: give comma-separated numbers in µm, e.g. 5,10,20")
    return values


def run(args) -> int:
    import dataclasses

    import numpy as np

    from ..errors import LithoInputError
    from ..optics import aerial_series, edge_slope_summary, image_log_slope, spectral_images
    from ..outputs import atomic_dir
    from ..process import prepare, shifted
    from ..recipe import load_recipe

    if args.pixel_um is not None and not (args.pixel_um > 0 and math.isfinite(args.pixel_um)):
        raise LithoInputError(f"--pixel-um {args.pixel_um:g}: give a pitch > 0 µm")
    gaps = _values(args.gap_um, "--gap-um") if args.gap_um else None
    focus = _values(args.defocus_um, "--defocus-um") if args.defocus_um else None
    out = output_dir(args.out)
    start = time.perf_counter()
    recipe = load_recipe(args.recipe)
    if args.window is not None:
        recipe = dataclasses.replace(recipe, simulation=dataclasses.replace(recipe.simulation, window=args.window))
    sim = recipe.simulation
    periodic = sim.window == "periodic"

    # the set-up simulate uses: the same grid (within the optics' pitch limits) and memory check
    setup = prepare(recipe, args.pixel_um)
    recipe, grid = setup.recipe, setup.grid
    # the image is of the mask as exposed: the design moved by the overlay
    masks = [(mask, shifted(design, overlay))
             for mask, design, overlay in zip(setup.masks, setup.designs, setup.overlays_um)]

    report = {"recipe": str(recipe.path), "name": recipe.name,
              "grid": {"shape": list(grid.shape), "pixel_um": grid.pixel_um, "origin_um": list(grid.origin_um)},
              "window": sim.window, "steps": []}
    with atomic_dir(out) as tmp:
        for step, (mask, design) in zip(recipe.steps, masks):
            optics = step.exposure.optics
            # one step: aerial.npy; several: aerial_<step>.npy
            name = _safe(step.name) if len(recipe.steps) > 1 else ""
            geometry = _union(design)
            transmission = _mask_transmission(step, geometry, grid, recipe)
            guard = recipe.simulation.guard_um
            images = spectral_images(transmission, grid.pixel_um, optics, periodic=periodic, guard_um=guard)
            intensity = sum(im.weight * im.intensity for im in images)
            ils = image_log_slope(intensity, grid.pixel_um)
            files = {"aerial": _file("aerial", name, ".npy"), "ils": _file("ils", name, ".npy")}
            np.save(tmp / files["aerial"], intensity)
            np.save(tmp / files["ils"], ils)
            if len(images) > 1:
                for im in images:
                    key = f"aerial_{im.wavelength_nm:g}nm"
                    files[key] = _file(key, name, ".npy")
                    np.save(tmp / files[key], im.intensity)
            entry = {"name": step.name, "tool": step.exposure.tool, "files": files, "optics": _describe(optics),
                     "lines": [{"wavelength_nm": im.wavelength_nm, "weight": im.weight} for im in images],
                     "guard_um": None if periodic else (guard if guard is not None else optics.blur_length_um),
                     "intensity_min": float(intensity.min()), "intensity_max": float(intensity.max()),
                     "edges": edge_slope_summary(intensity, grid, design)}
            if gaps or focus:
                key = "gap_um" if gaps else "defocus_um"
                values = gaps or focus
                stack = aerial_series(transmission, grid.pixel_um, optics, periodic=periodic, guard_um=guard,
                                      **{key: values})
                series_file = _file(f"aerial_{key.removesuffix('_um')}_series", name, ".npy")
                np.save(tmp / series_file, stack)
                entry["series"] = {"parameter": key, "values": values, "file": series_file,
                                   "edges": [edge_slope_summary(s, grid, design) for s in stack]}
            report["steps"].append(entry)
            if not args.no_figures:
                _figures(tmp, name, step, intensity, ils, grid, design, figure_options(args),
                         series=(entry["series"], stack) if gaps or focus else None)
        report["runtime_s"] = time.perf_counter() - start
        (tmp / "aerial.json").write_text(json.dumps(report, indent=2) + "\n")
    for entry in report["steps"]:
        e = entry["edges"]
        nils = "n/a" if e["nils_mean"] is None else f"{e['nils_mean']:.2f} (min {e['nils_min']:.2f})"
        print(f"{entry['name']}: I {entry['intensity_min']:.3f}..{entry['intensity_max']:.3f}, "
              f"NILS at edges {nils}", file=sys.stdout)
    print(f"wrote aerial images to {out}/ in {time.perf_counter() - start:.1f} s")
    return 0


def _union(design):
    import shapely

    return shapely.union_all(design) if design else shapely.Polygon()


def _file(stem: str, name: str, suffix: str) -> str:
    return f"{stem}_{name}{suffix}" if name else f"{stem}{suffix}"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name)) or "step"


def _describe(optics) -> dict:
    import dataclasses

    out = {"type": type(optics).__name__}
    for f in dataclasses.fields(optics):
        value = getattr(optics, f.name)
        if f.name == "source" and hasattr(value, "shape"):
            value = {k: v for k, v in dataclasses.asdict(value).items() if k != "map_weights"}
        out[f.name] = value if isinstance(value, (int, float, str, type(None), dict)) else repr(value)
    out["blur_length_um"] = optics.blur_length_um
    return out


def _figures(tmp: Path, name: str, step, intensity, ils, grid, design, options, series=None) -> None:
    from .. import plot

    head = f"step {step.name}, {plot.tool_text(step)}"
    plot.save(plot.aerial_map_figure(intensity, grid, design, f"Aerial image at the film top: {head}"),
              tmp / _file("aerial", name, ".png"), options)
    plot.save(plot.ils_figure(ils, intensity, grid, design, f"Image log slope: {head}"),
              tmp / _file("ils", name, ".png"), options)
    if series is not None:
        entry, stack = series
        key = entry["parameter"]
        what = "Gap" if key == "gap_um" else "Focus"
        head = f"step {step.name}, {plot.tool_text(step, varied=key)}"
        plot.save(plot.series_figure(stack, entry["values"], key, grid, design, f"{what} series: {head}"),
                  tmp / _file(f"aerial_{key.removesuffix('_um')}_series", name, ".png"), options)


def _mask_transmission(step, geometry, grid, recipe):
    """The step's mask on the grid through its mask model (a chrome mask, or a maskless tool's mirrors).

    The mirrors move with the overlay as the pattern does. A grey-level mirror grid is several
    PWM frames whose images add, which this one-image command does not draw.
    """
    from ..errors import LithoInputError
    from ..maskmodel import mask_model

    model = mask_model(step.exposure)
    if getattr(model, "grey_bits", 1) > 1:
        raise LithoInputError(f"{recipe.path or 'recipe'}: step {step.name}: exposure.grey_bits = {model.grey_bits} "
                              "is shown as PWM bit-planes; litho aerial draws one mask frame: use grey_bits = 1 "
                              "here, or litho simulate (its report has the summed image)")
    return model.frames(geometry, grid, overlay_um=step.exposure.overlay_um).coverage
