"""``litho kernels``: the SOCS kernels of projection optics, so users see where the model comes from.

Prints the TCC eigenvalues (each as a fraction of the trace, with the
cumulative kept energy) for optics given by flags or by a recipe's
projection steps, and optionally writes the eigenvalues and kernels (``.npz``)
and a picture of the leading kernels.
"""

from __future__ import annotations

import math
from pathlib import Path

from .. import fields
from . import PIXEL_UM_HELP, example_help, output_dir, pixel_um_option


def _num(flag: str, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
         hi_open: bool = False, unit: str = ""):
    return fields.option(fields.number, flag, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open, unit=unit)


def _zernike(text: str) -> str:
    """``J=WAVES`` with a Noll index 1..231 and a finite coefficient, |waves| <= 10."""
    import argparse

    from ..errors import LithoInputError

    j, sep, w = text.partition("=")
    try:
        fields.integer(int(j), "J", lo=1, hi=231)
        fields.number(float(w), "WAVES", lo=-10, hi=10)
    except (ValueError, LithoInputError):
        raise argparse.ArgumentTypeError(f"{text!r}: give J=WAVES with a Noll index J from 1 to 231 and "
                                         "|WAVES| <= 10, e.g. 9=0.02") from None
    return text


# Largest kernel grid side, in samples (an n x n complex grid per kernel).
GRID_MAX = 8192

ORDER = 35


def register(subparsers) -> None:
    p = subparsers.add_parser("kernels", **example_help(
        "Show the Hopkins/SOCS kernels of projection optics: TCC eigenvalues, how many kernels are kept "
        "for the dropped-energy tolerance, and (with -o) the kernels themselves. Optics come from flags "
        "or from the projection steps of a recipe.",
        "litho kernels --wavelength-nm 365 --na 0.5 --source annular --sigma-in 0.5 --sigma-out 0.8"))
    p.add_argument("recipe", nargs="?", help="recipe TOML file with tool = \"projection\" (optional)")
    p.add_argument("--wavelength-nm", type=_num("--wavelength-nm", 150, 1100, unit="nm"),
                   help="wavelength, 150 to 1100 nm")
    p.add_argument("--na", type=_num("--na", 0, 2, lo_open=True, hi_open=True),
                   help="numerical aperture, > 0 and below the image-medium index (< 1 in air)")
    p.add_argument("--sigma", type=_num("--sigma", 0, 1), help="partial coherence of a conventional source, 0..1")
    p.add_argument("--source", help="conventional, annular, dipole, quadrupole or a map file (.npy/.png)")
    p.add_argument("--sigma-in", type=_num("--sigma-in", 0, 1), help="inner σ of an annular source, 0..1")
    p.add_argument("--sigma-out", type=_num("--sigma-out", 0, 1), help="outer σ of an annular source, 0..1")
    p.add_argument("--sigma-centre", type=_num("--sigma-centre", 0, 1), help="pole centre (dipole, quadrupole), 0..1")
    p.add_argument("--sigma-radius", type=_num("--sigma-radius", 0, 1), help="pole radius (dipole, quadrupole), 0..1")
    p.add_argument("--orientation-deg", type=_num("--orientation-deg", -360, 360, unit="degrees"),
                   help="pole orientation, -360 to 360 degrees")
    p.add_argument("--defocus-um", type=_num("--defocus-um", -1e3, 1e3, unit="µm"), default=None,
                   help="defocus, -1000 to 1000 µm")
    p.add_argument("--zernike", action="append", default=[], metavar="J=WAVES", type=_zernike,
                   help="aberration in waves RMS at Noll index J (repeatable), e.g. --zernike 9=0.02")
    p.add_argument("--tolerance", type=_num("--tolerance", 0, 0.5, hi_open=True), default=None,
                   help="dropped eigenvalue energy, 0 <= t < 0.5 (default 1e-3)")
    p.add_argument("--source-step-sigma", type=_num("--source-step-sigma", 0.005, 0.25), default=None,
                   help="source sampling pitch in σ, 0.005 to 0.25 (default 0.05)")
    p.add_argument("--pixel-um", type=pixel_um_option, default=None,
                   help=f"grid pitch, {PIXEL_UM_HELP} (default: a quarter of the Nyquist pitch of the image band)")
    p.add_argument("--size-um", type=_num("--size-um", 0, 1e4, lo_open=True, unit="µm"), default=10.0,
                   help="grid side (period), > 0 and <= 10000 µm (default 10)")
    p.add_argument("--show", type=fields.option(fields.integer, "--show", convert=int, lo=0, hi=100_000),
                   default=20, help="eigenvalues to print, 0 to 100000 (default 20)")
    p.add_argument("-o", "--out", default=None, help="directory for kernels.npz and kernels.png")
    p.set_defaults(func=run)


def _optics_from_flags(args):
    from ..errors import LithoInputError
    from ..optics import ProjectionOptics

    if args.wavelength_nm is None or args.na is None:
        raise LithoInputError("give a recipe, or --wavelength-nm and --na (plus --sigma or --source ...)")
    table = {"wavelength_nm": args.wavelength_nm, "na": args.na}
    for name in ("sigma", "sigma_in", "sigma_out", "sigma_centre", "sigma_radius", "orientation_deg", "source",
                 "defocus_um", "source_step_sigma"):
        value = getattr(args, name)
        if value is not None:
            table[name] = value
    if args.tolerance is not None:
        table["kernel_tolerance"] = args.tolerance
    if args.zernike:
        z = {}
        for item in args.zernike:
            j, sep, w = item.partition("=")
            try:
                z[int(j)] = float(w)
            except ValueError:
                raise LithoInputError(f"--zernike {item!r}: give J=WAVES, e.g. 9=0.02") from None
        table["zernike"] = z
    if "sigma" in table and "source" not in table and any(
            k in table for k in ("sigma_in", "sigma_out", "sigma_centre", "sigma_radius")):
        raise LithoInputError("--sigma-in/--sigma-out/--sigma-centre/--sigma-radius need --source")
    try:
        return ProjectionOptics.from_table(table)
    except LithoInputError as err:
        raise LithoInputError(_flag_names(str(err))) from None


def _flag_names(message: str) -> str:
    """"ProjectionOptics.kernel_tolerance = ..." -> "--tolerance = ...": name the option the user typed."""
    import re

    flags = {"kernel_tolerance": "--tolerance"}

    def flag(m):
        name = m.group(1)
        return flags.get(name, "--" + name.replace("_", "-"))

    message = re.sub(r"ProjectionOptics\.([a-z_]+)", flag, message)
    return message.replace("ProjectionOptics: ", "")


def run(args) -> int:
    import numpy as np

    from ..errors import LithoInputError
    from ..optics import ProjectionOptics, socs_kernels

    out = None if args.out is None else output_dir(args.out)
    if args.recipe:
        from ..recipe import load_recipe

        recipe = load_recipe(args.recipe)
        optics_list = [(s.name, s.exposure.optics) for s in recipe.steps
                       if isinstance(s.exposure.optics, ProjectionOptics)]
        if not optics_list:
            raise LithoInputError(f"{args.recipe}: no step uses tool = \"projection\"; SOCS kernels belong to "
                                  "projection optics")
        if args.tolerance is not None:
            import dataclasses

            optics_list = [(n, dataclasses.replace(o, kernel_tolerance=args.tolerance)) for n, o in optics_list]
    else:
        optics_list = [("", _optics_from_flags(args))]
    if not (args.size_um > 0 and math.isfinite(args.size_um)):
        raise LithoInputError(f"--size-um {args.size_um:g}: give a grid side > 0 µm")
    if args.pixel_um is not None and not args.pixel_um > 0:
        raise LithoInputError(f"--pixel-um {args.pixel_um:g}: give a pitch > 0 µm")

    saved = {}
    for name, optics in optics_list:
        pixel = args.pixel_um or optics.max_pixel_um / 2
        optics.check_pixel(pixel)
        n = max(8, int(round(args.size_um / pixel)))
        if n > GRID_MAX:
            raise LithoInputError(f"--size-um {args.size_um:g} at --pixel-um {pixel:g} is a {n} x {n} grid; "
                                  f"give at most {GRID_MAX} samples a side (a smaller --size-um or coarser "
                                  "--pixel-um)")
        for wavelength_nm, _ in optics.lines:
            k = socs_kernels(optics, (n, n), pixel, wavelength_nm)
            head = f"{name}: " if name else ""
            print(f"{head}{wavelength_nm:g} nm, NA {optics.na:g}, source {optics.source.shape} "
                  f"(σ_max {optics.sigma_max:.3g}, {k.n_source_points} points), defocus {optics.defocus_um:g} µm")
            print(f"  grid {n} x {n} at {pixel:.4g} µm; TCC on {k.n_frequencies} band frequencies, "
                  f"decomposed via {'the TCC' if k.route == 'tcc' else 'the source Gram matrix'}; "
                  f"{k.eigenvalues.size} eigenvalues, trace {k.trace:.6g}")
            print(f"  kept {k.kept} kernels for dropped energy <= {k.tolerance:g} "
                  f"(dropped {k.dropped_energy:.3g}); real fields: {'yes' if k.real_fields else 'no'}; "
                  f"built in {k.build_time_s:.2f} s")
            total = k.eigenvalues.sum()
            cumulative = np.cumsum(k.eigenvalues) / total
            print("     k   eigenvalue   fraction   cumulative")
            for i in range(min(args.show, k.eigenvalues.size)):
                mark = "" if i < k.kept else "  (dropped)"
                print(f"  {i:4d}  {k.eigenvalues[i]:11.5g}  {k.eigenvalues[i] / total:9.3e}  "
                      f"{cumulative[i]:10.6f}{mark}")
            saved[f"{name or 'optics'}_{wavelength_nm:g}nm"] = k
    if out is not None:
        _write(out, saved)
    return 0


def _write(out: Path, saved: dict) -> None:
    import numpy as np

    from ..outputs import atomic_dir
    from ..plot import kernels_figure, save

    with atomic_dir(out) as tmp:
        for key, k in saved.items():
            stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in key)
            np.savez(tmp / f"kernels_{stem}.npz", eigenvalues=k.eigenvalues, kept=k.kept, kernels=k.kernels,
                     fy_per_um=k.fy_per_um, fx_per_um=k.fx_per_um, pixel_um=k.pixel_um,
                     wavelength_nm=k.wavelength_nm, dropped_energy=k.dropped_energy)
            title = (f"SOCS kernels {key}: {k.kept} kept, dropped energy {k.dropped_energy:.2g}, "
                     f"{k.pixel_um:.3g} µm samples")
            save(kernels_figure(k, title), tmp / f"kernels_{stem}.png")
