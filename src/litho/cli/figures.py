"""``--format`` and ``--dpi``: the figure options shared by every command that draws."""

from __future__ import annotations

import argparse

from .. import fields

DPI_RANGE = (20.0, 1200.0)


def _formats(text: str) -> tuple[str, ...]:
    """``"png,svg"`` -> ("png", "svg"); refused (argparse usage error) unless each is png, svg or pdf."""
    from ..plot import FORMATS

    parts = tuple(dict.fromkeys(p.strip().lower().lstrip(".") for p in text.split(",") if p.strip()))
    bad = [p for p in parts if p not in FORMATS]
    if bad or not parts:
        raise argparse.ArgumentTypeError(f"{text!r}: give comma-separated formats from {', '.join(FORMATS)}, "
                                         "e.g. png,svg")
    return parts


def add_figure_options(parser) -> None:
    """Add ``--format png,svg,pdf`` and ``--dpi N`` to a command's parser."""
    parser.add_argument("--format", dest="figure_format", type=_formats, default=("png",), metavar="FMT[,FMT]",
                        help="figure file formats, comma-separated: png, svg, pdf (default: png)")
    parser.add_argument("--dpi", dest="figure_dpi", default=None,
                        type=fields.option(fields.number, "--dpi", lo=DPI_RANGE[0], hi=DPI_RANGE[1]),
                        help=f"raster resolution of the figures, {DPI_RANGE[0]:g} to {DPI_RANGE[1]:g} "
                             "(default: 110)")


def figure_options(args):
    """The :class:`litho.plot.FigureOptions` of parsed arguments."""
    from ..plot import DPI, FigureOptions

    return FigureOptions(formats=tuple(getattr(args, "figure_format", ("png",))),
                         dpi=getattr(args, "figure_dpi", None) or DPI)
