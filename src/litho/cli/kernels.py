"""``litho kernels``: the SOCS kernels of projection optics, so users see where the model comes from.

Prints the TCC eigenvalues (each as a fraction of the trace, with the
cumulative kept energy) for optics given by flags or by a recipe's
projection steps, and optionally writes the eigenvalues and kernels (``.npz``)
and a picture of the leading kernels.
"""

from __future__ import annotations

import math
from pathlib import Path

from . import example_help, output_dir

ORDER = 35


def register(subparsers) -> None:
    p = subparsers.add_parser("kernels", **example_help(
        "Show the Hopkins/SOCS kernels of projection optics: TCC eigenvalues, how many kernels are kept "
        "for the dropped-energy tolerance, and (with -o) the kernels themselves. Optics come from flags "
        "or from the projection steps of a recipe.",
        "litho kernels --wavelength-nm 365 --na 0.5 --source annular --sigma-in 0.5 --sigma-out 0.8"))
    p.add_argument("recipe", nargs="?", help="recipe TOML file with tool = \"projection\" (optional)")
    p.add_argument("--wavelength-nm", type=float, help="wavelength, nm")
    p.add_argument("--na", type=float, help="numerical aperture (< 1 in air)")
    p.add_argument("--sigma", type=float, help="partial coherence of a conventional source, 0..1")
    p.add_argument("--source", help="conventional, annular, dipole, quadrupole or a map file (.npy/.png)")
    p.add_argument("--sigma-in", type=float)
    p.add_argument("--sigma-out", type=float)
    p.add_argument("--sigma-centre", type=float, help="pole centre (dipole, quadrupole)")
    p.add_argument("--sigma-radius", type=float, help="pole radius (dipole, quadrupole)")
    p.add_argument("--orientation-deg", type=float)
    p.add_argument("--defocus-um", type=float, default=None)
    p.add_argument("--zernike", action="append", default=[], metavar="J=WAVES",
                   help="aberration in waves RMS at Noll index J (repeatable), e.g. --zernike 9=0.02")
    p.add_argument("--tolerance", type=float, default=None, help="dropped eigenvalue energy (default 1e-3)")
    p.add_argument("--source-step-sigma", type=float, default=None, help="source sampling pitch in σ (0.05)")
    p.add_argument("--pixel-um", type=float, default=None,
                   help="grid pitch, µm (default: a quarter of the Nyquist pitch of the image band)")
    p.add_argument("--size-um", type=float, default=10.0, help="grid side (period), µm (default 10)")
    p.add_argument("--show", type=int, default=20, help="eigenvalues to print (default 20)")
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
        raise LithoInputError(str(err).replace("ProjectionOptics.", "--").replace("_", "-")
                              if str(err).startswith("ProjectionOptics.") else str(err)) from None


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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..outputs import atomic_dir

    with atomic_dir(out) as tmp:
        for key, k in saved.items():
            stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in key)
            np.savez(tmp / f"kernels_{stem}.npz", eigenvalues=k.eigenvalues, kept=k.kept, kernels=k.kernels,
                     fy_per_um=k.fy_per_um, fx_per_um=k.fx_per_um, pixel_um=k.pixel_um,
                     wavelength_nm=k.wavelength_nm, dropped_energy=k.dropped_energy)
            show = min(8, k.kept)
            fig, axes = plt.subplots(1, show + 1, figsize=(2.2 * (show + 1), 2.4))
            axes = np.atleast_1d(axes)
            axes[0].semilogy(k.eigenvalues / k.eigenvalues.sum(), ".", ms=3)
            axes[0].axvline(k.kept - 0.5, color="r", lw=0.8)
            axes[0].set(title="λ_k / trace", xlabel="k")
            ny, nx = k.shape
            half = min(ny, nx) // 2
            c = slice(max(0, ny // 2 - half // 2), ny // 2 + half // 2)
            d = slice(max(0, nx // 2 - half // 2), nx // 2 + half // 2)
            for i in range(show):
                field = k.spatial(i)[c, d]
                axes[i + 1].imshow(np.abs(field) ** 2, cmap="magma", origin="lower")
                axes[i + 1].set(title=f"|h_{i}|², λ={k.eigenvalues[i] / k.eigenvalues.sum():.3f}", xticks=[],
                                yticks=[])
            fig.tight_layout()
            fig.savefig(tmp / f"kernels_{stem}.png", dpi=100)
            plt.close(fig)
