"""``litho report OUT_DIR``: one self-contained report.html of a run."""

from __future__ import annotations

from . import example_help

ORDER = 15


def register(subparsers) -> None:
    p = subparsers.add_parser("report", **example_help(
        "Write report.html into the output directory of a litho simulate run: one self-contained page "
        "(figures inline) with a summary table per step and colour, warnings, the recipe and provenance "
        "(litho version, command, date, input file hashes).",
        "litho report out"))
    p.add_argument("out_dir", metavar="OUT_DIR", help="output directory of litho simulate (holds report.json)")
    p.add_argument("-o", "--out", default=None,
                   help="where to write the page (default: OUT_DIR/report.html)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..html_report import write_html_report
    from . import output_file

    target = Path(args.out) if args.out else Path(args.out_dir) / "report.html"
    if args.out or Path(args.out_dir).is_dir():
        output_file(target, "-o" if args.out else "OUT_DIR", suffixes=(".html", ".htm"))
    path = write_html_report(args.out_dir, target)
    print(f"wrote {path}")
    return 0
