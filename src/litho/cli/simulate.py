"""``litho simulate RECIPE [-o DIR]``: report.json, predicted.gds, figures."""

from __future__ import annotations

import time
from pathlib import Path

from . import PIXEL_UM_HELP, example_help, output_dir, pixel_um_option
from .figures import add_figure_options, figure_options

ORDER = 10


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", **example_help(
        "Simulate a recipe: mask -> aerial image -> crosslinking -> developed pixels. "
        "Writes report.json, predicted.gds and PNG figures into the output directory.",
        "litho simulate recipes/rgb_stripe_1000ppi.toml -o out"))
    p.add_argument("recipe", help="recipe TOML file")
    p.add_argument("-o", "--out", default="out", help="output directory (default: out)")
    p.add_argument("--pixel-um", type=_pitch, default=None,
                   help=f"sample pitch, {PIXEL_UM_HELP}, or 'auto' for the coarsest pitch whose CD is converged "
                        "(default: from the recipe, else chosen from the smallest feature)")
    p.add_argument("--no-convergence-check", action="store_true",
                   help="skip re-running one pixel at half the pitch to check that the CD is converged")
    p.add_argument("--no-figures", action="store_true", help="write report.json and predicted.gds only")
    add_figure_options(p)
    p.add_argument("--html", action="store_true",
                   help="also write report.html, one self-contained page of the run (as litho report OUT_DIR)")
    p.add_argument("--tile", type=_tile_um, default=None, metavar="UM",
                   help="simulate in square tiles of this side, µm (default: only when the mask does not fit in "
                        "memory, then with the largest tile that does); writes pixels.csv, report.json, "
                        "predicted.gds and overview.png")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="where tiles run: threads (default), sync, or a Dask scheduler such as tcp://host:8786")
    p.add_argument("--design", default=None, metavar="GDS",
                   help="tiled run: measure against this intended layout (same layers) instead of the mask, so "
                        "that defects of the mask show as missing, bridged or misshapen pixels")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


def _pitch(text: str):
    """--pixel-um: a number or "auto" (argparse turns a ValueError into a usage error)."""
    return "auto" if text.strip().lower() == "auto" else pixel_um_option(text)


def _tile_um(text: str) -> float:
    """--tile: a side in µm (argparse turns a ValueError into a usage error)."""
    import math

    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(text)
    return value


def run(args) -> int:
    import sys

    from ..convergence import warning_line
    from ..errors import LithoInputError
    from ..process import prepare, simulate
    from ..recipe import load_recipe

    if args.pixel_um not in (None, "auto") and not args.pixel_um > 0:
        raise LithoInputError(f"--pixel-um {args.pixel_um:g}: give a pitch > 0 µm or auto")
    out = output_dir(args.out)
    start = time.perf_counter()
    if args.scheduler is not None:
        from ..parallel import check_scheduler

        check_scheduler(args.scheduler)   # an address that does not answer is refused before any work
    recipe = load_recipe(args.recipe)
    # Progress goes to stdout: stderr carries only the one-line diagnosis of a mistake.
    progress = None if args.quiet else (lambda m: print(f"  {m}", flush=True))
    setup = prepare(recipe, args.pixel_um, allow_tiling=True, progress=progress)
    if args.tile is not None or not setup.fits or args.design is not None:
        return run_tiled(setup, args, out, start, progress)
    result = simulate(recipe, pixel_um=args.pixel_um, check_convergence=not args.no_convergence_check,
                      progress=progress, setup=setup)
    from ..report import save_result

    written = save_result(result, out, figures=False if args.no_figures else figure_options(args), html=args.html)
    print(summary_text(result))
    warning = warning_line(result.convergence)
    if warning:
        print(warning, file=sys.stderr)
    print(f"wrote {len(written)} files to {out}/ in {time.perf_counter() - start:.1f} s")
    return 0


def run_tiled(setup, args, out, start, progress) -> int:
    """The tiled path: check the disk, simulate tile by tile, stream the outputs into place as a whole."""
    from ..outputs import atomic_dir
    from ..tiling import check_disk, plan_tiles, simulate_tiled

    plan_tiles(setup, args.tile)          # a tile smaller than its halo is refused before any work
    check_disk(setup, out)
    design = None
    if args.design is not None:
        from ..gds import read_mask

        design = Path(args.design)
        for layer in setup.layers:
            read_mask(design, layer=layer)      # a missing file or layer is refused before any work
    with atomic_dir(out) as tmp:
        result = simulate_tiled(setup, args.tile, scheduler=args.scheduler, progress=progress, design_path=design,
                                out_dir=tmp, figures=not args.no_figures)
    report = result.report
    t = report["tiling"]
    print(f"{setup.recipe.name}\n  grid {t['grid_shape'][1]} x {t['grid_shape'][0]} at {t['pixel_um']:g} um in "
          f"{t['tiles']} tiles of {t['tile_um']:g} um ({t['tiles_simulated']} simulated), halo {t['halo_um']:g} um")
    for step in report["steps"]:
        d = step["defects"]
        iou = step["statistics"]["iou"]
        print(f"  {step['name']}: {step['designed_pixels']} pixels, missing {len(d['missing'])}, "
              f"bridged {len(d['bridged'])}, area off {len(d['area_off'])}, "
              f"IoU {'n/a' if iou is None else format(iou['mean'], '.3f')}")
    print(f"wrote {len(result.written)} files to {out}/ in {time.perf_counter() - start:.1f} s")
    return 0


def summary_text(result) -> str:
    """A few lines a person reads first: per step, the printed geometry."""
    lines = [f"{result.recipe.name}"]
    sim = result.report["simulation"]
    lines.append(f"  grid {sim['grid_shape'][1]} x {sim['grid_shape'][0]} at {sim['pixel_um']:g} um, "
                 f"{sim['window']} window")
    for step in result.report["steps"]:
        m = step["metrics"]
        fmt = lambda v, f: "n/a" if v is None else format(v, f)  # noqa: E731
        lines.append(
            f"  {step['name']}: {m['designed_pixels']} pixels, missing {m['missing_pixels']}, "
            f"bridges {m['bridges']}, IoU {fmt(m['iou_mean'], '.3f')}, "
            f"CD error x/y {fmt(m['cd_x_error_mean_um'], '+.3f')}/{fmt(m['cd_y_error_mean_um'], '+.3f')} um, "
            f"EPE rms {fmt(m['epe_rms_um'], '.3f')} um, residue {m['residue_max_nrt']:.2f}, "
            f"PLQY {fmt(step['plqy_retention_mean_in_print'], '.2f')}")
    for row in result.contamination:
        lines.append(f"  {row['later_step']} film on {row['earlier_step']} pixels: "
                     f"mean {row['later_film_on_earlier_pixels_mean_nrt']:.3f}, "
                     f"max {row['later_film_on_earlier_pixels_max_nrt']:.3f} h/h0; "
                     f"{row['earlier_step']} pixels survive the {row['later_step']} developer "
                     f"{row['earlier_pixels_solvent_resistance']:.3f}")
    return "\n".join(lines)
