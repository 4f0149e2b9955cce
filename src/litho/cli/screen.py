"""``litho screen --film F --wavelength NM [--atmosphere A] [--target-nrt X] [-o DIR]``: crosslinkers ranked."""

from __future__ import annotations

import csv
import json
import math

from .. import fields
from . import example_help, output_dir

ORDER = 45


def register(subparsers) -> None:
    p = subparsers.add_parser("screen", **example_help(
        "Rank every library crosslinker and solubility switch that has absorption data at the wavelength by "
        "its predicted PLQY retention at the target film retention (NRT), with the dose it needs and its "
        "contrast gamma (1/log10(D100/D0)); each at its library loading, on an open frame. An entry that never "
        "reaches the target is listed as such with the highest NRT it reaches. Prints a table; with -o also "
        "writes screen.csv, screen.json and screen.png (PLQY against dose).",
        "litho screen --film InP/ZnSe/ZnS --wavelength 365 --atmosphere air --target-nrt 0.8 -o out/screen"))
    p.add_argument("--film", required=True, help="film library name (litho materials lists them)")
    p.add_argument("--wavelength", required=True, metavar="NM",
                   type=fields.option(fields.number, "--wavelength", lo=150.0, hi=1100.0, unit="nm"),
                   help="exposure wavelength, nm (150 to 1100)")
    p.add_argument("--atmosphere", default="air", help='gas during exposure: "air" (default), "N2", "N2, 5 ppm O2"')
    p.add_argument("--target-nrt", default=0.8, metavar="X",
                   type=fields.option(fields.number, "--target-nrt", lo=0.0, hi=1.0, lo_open=True, hi_open=True),
                   help="film retention the process needs, 0 < X < 1 (default 0.8)")
    p.add_argument("--developer", default="toluene", help="developer library name (default toluene)")
    p.add_argument("-o", "--out", default=None, help="output directory for screen.csv and screen.json")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import materials
    from ..chemistry import parse_atmosphere
    from ..outputs import atomic_dir
    from ..screen import FIELDS, screen

    out = output_dir(args.out) if args.out is not None else None
    film = materials.resolve("film", {"material": args.film}, source="--film")
    developer = materials.resolve("developer", {"material": args.developer}, source="--developer")
    atmosphere = parse_atmosphere(args.atmosphere, source="--atmosphere")
    rows = screen(film, args.wavelength, atmosphere, target_nrt=args.target_nrt, developer=developer)
    print(f"{film.name} ({film.thickness_nm:g} nm) at {args.wavelength:g} nm, {atmosphere.label}, {developer.name} "
          f"{developer.time_s:g} s: ranked by PLQY retention at NRT {args.target_nrt:g}")
    print(table(rows, args.target_nrt))
    if out is not None:
        with atomic_dir(out) as tmp:
            with open(tmp / "screen.csv", "w", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(FIELDS)
                for row in rows:
                    writer.writerow(["" if v is None else v for v in row.as_dict().values()])
            summary = {"film": film.name, "thickness_nm": film.thickness_nm, "wavelength_nm": args.wavelength,
                       "atmosphere": atmosphere.label, "developer": developer.name, "target_nrt": args.target_nrt,
                       "ranking": [row.as_dict() for row in rows]}
            (tmp / "screen.json").write_text(json.dumps(summary, indent=2) + "\n")
            plot_screen(tmp / "screen.png", rows, f"{film.name} at {args.wavelength:g} nm, {atmosphere.label}: "
                                                  f"NRT {args.target_nrt:g}")
        print(f"wrote screen.csv, screen.json, screen.png to {out}/")
    return 0


def _g(value: float, spec: str) -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, spec)


def table(rows, target_nrt: float) -> str:
    """The ranking as a fixed-width text table."""
    head = f"{'rank':>4}  {'crosslinker':<16} {'mechanism':<21} {'loading':>10}  {'dose mJ/cm2':>11}  " \
           f"{'PLQY/PLQY0':>10}  {'gamma':>6}  {'NRT max':>7}"
    lines = [head, "-" * len(head)]
    for i, r in enumerate(rows, 1):
        loading = f"{r.loading:g} {r.loading_unit}"
        if r.reaches_target:
            dose, plqy = _g(r.dose_mj_cm2, "11.4g"), _g(r.plqy_retention, "10.3f")
        else:
            dose, plqy = f"{'never':>11}", f"{'-':>10}"
        lines.append(f"{i:>4}  {r.crosslinker:<16} {r.mechanism:<21} {loading:>10}  {dose}  {plqy}  "
                     f"{_g(r.gamma, '6.2f'):>6}  {_g(r.nrt_max, '7.3f'):>7}")
    never = [r.crosslinker for r in rows if not r.reaches_target]
    if never:
        lines.append(f"never reach NRT {target_nrt:g} at their library loading: {', '.join(never)}")
    return "\n".join(lines)


def plot_screen(path, rows, title: str) -> None:
    """PLQY retention against the dose each entry needs for the target (log dose), crosslinkers and switches."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    reached = [r for r in rows if r.reaches_target]
    for kind, marker, colour in (("crosslinker", "o", "tab:blue"), ("switch", "s", "tab:orange")):
        group = [r for r in reached if r.kind == kind]
        if group:
            ax.scatter([r.dose_mj_cm2 for r in group], [r.plqy_retention for r in group], marker=marker,
                       color=colour, label="solubility switch" if kind == "switch" else kind, zorder=3)
    # labels of points close together (within a factor 2 in dose and 0.05 in PLQY) step downwards, not over each other
    placed = []
    for r in sorted(reached, key=lambda r: (r.dose_mj_cm2, -r.plqy_retention)):
        near = sum(1 for d, q in placed if abs(math.log(r.dose_mj_cm2 / d)) < 0.7 and abs(r.plqy_retention - q) < 0.05)
        placed.append((r.dose_mj_cm2, r.plqy_retention))
        ax.annotate(f"{r.crosslinker} (γ {_g(r.gamma, '.2f')})", (r.dose_mj_cm2, r.plqy_retention),
                    textcoords="offset points", xytext=(5, 4 - 10 * near), fontsize=7)
    never = [r.crosslinker for r in rows if not r.reaches_target]
    if never:
        ax.text(0.02, 0.03, "never reach the target: " + ", ".join(never), transform=ax.transAxes, fontsize=7,
                color="0.35", wrap=True)
    ax.set_xscale("log")
    ax.set_xlabel("dose for the target NRT (mJ/cm²)")
    ax.set_ylabel("PLQY / PLQY0 at that dose")
    ax.set_ylim(0.0, 1.05)
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.25)
    if reached:
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.08), fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
