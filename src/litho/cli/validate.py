"""``litho validate``: the published results, one global fit, leave-one-out."""

from __future__ import annotations

import math
from pathlib import Path

from . import example_help

ORDER = 55


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", **example_help(
        "Predict every published result of the validation set (docs/validation.md) from one parameter set, refit "
        "the global constants without each experiment in turn and predict it (leave-one-out), and write "
        "validation.md (the table) and validation_parity.png (predicted vs published) into -o. "
        "--refit first fits the global constants to all rows and writes them into the library "
        "(materials/global_fit.toml) with their 1-sigma uncertainties.",
        "litho validate -o docs"))
    p.add_argument("-o", "--out", default="docs", help="directory for validation.md and validation_parity.png "
                                                        "(default: docs)")
    p.add_argument("--refit", action="store_true",
                   help="fit the global constants to all rows and write them into the library first")
    p.add_argument("--quick", action="store_true",
                   help="in-sample predictions with the library constants only: no leave-one-out refits")
    p.add_argument("--no-resolution", action="store_true", help="skip the resolution rows (min-feature searches)")
    p.add_argument("--max-evaluations", type=int, default=400, help="model evaluations per fit (default: 400)")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import mechanisms, validation
    from ..outputs import atomic_file
    from . import output_file

    # validate writes two files into a folder that holds other things (docs/): check each file, not the folder
    out = Path(args.out)
    md_path = output_file(out / "validation.md", "-o", (".md",))
    png_path = output_file(out / "validation_parity.png", "-o", (".png",))
    rows = [r for r in validation.ROWS if not (args.no_resolution and not r.fitted)]
    if args.refit:
        fit = validation.global_fit(rows, max_evaluations=args.max_evaluations)
        validation.write_global_fit(fit)
        print(f"global fit to {len(fit.rows)} rows written to {mechanisms.constants.GLOBAL_FIT_FILE}")
    fit = validation.library_fit(rows)
    loo = {} if args.quick else validation.leave_one_out(
        rows, max_evaluations=args.max_evaluations, progress=lambda m: print(m, flush=True))
    table = validation.validation_table(fit, loo, rows)
    command = "litho validate" + (" --quick" if args.quick else "") + (" --no-resolution" if args.no_resolution else "")
    text = validation.markdown(table, fit, command=command)
    with atomic_file(md_path) as tmp:
        tmp.write_text(text)
    from ..plot import plot_validation_parity

    with atomic_file(png_path) as tmp:
        plot_validation_parity(table, tmp)
    for rec in table:
        shown = rec["left_out"] if rec["left_out"] is not None else rec["in_sample"]
        print(f"{rec['row']:>3} {rec['observable']:<10} published {rec['published']:<8.3g} "
              f"predicted {shown if shown is None else round(shown, 3)!s:<8} {'met' if rec['pass'] else 'MISSED'}"
              f"  {rec['source']}")
    met = sum(1 for r in table if r["pass"])
    print(f"{met} of {len(table)} rows met; wrote {out / 'validation.md'} and {out / 'validation_parity.png'}")
    return 0
