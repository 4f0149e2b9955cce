"""``litho mask``: generate pixel-array masks, and ``litho mask info`` to inspect any layout."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import fields
from ..errors import LithoInputError
from . import example_help, output_file
from .figures import add_figure_options, figure_options


class DeprecatedAlias(argparse.Action):
    """Store an option's value; remember when it was given by its old name (``args.deprecated``).

    ``--gap-um`` of ``litho mask`` and ``litho min-feature`` is the gap between
    subpixels, while ``litho aerial --gap-um`` is the mask-to-film gap; the
    former is now ``--subpixel-gap-um``. The old name keeps working for one
    release (litho 0.2) with a note on stderr, then goes.
    """

    OLD, NEW = "--gap-um", "--subpixel-gap-um"

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        if option_string == self.OLD:
            namespace.deprecated = [*getattr(namespace, "deprecated", []), (self.OLD, self.NEW)]


def note_deprecated(args) -> None:
    """One note line per old option name the user gave (see :class:`DeprecatedAlias`)."""
    import warnings

    from ..errors import LithoNote

    for old, new in getattr(args, "deprecated", []):
        warnings.warn(LithoNote(f"{old} is now {new} (the gap between subpixels; {old} is the mask-to-film "
                                f"gap in litho aerial); {old} is accepted here until litho 0.2"))

ORDER = 20

_LAYOUT_HELP = {
    "stripe": "RGB stripe: three (p/3 - g) x (p - g) bars per pixel",
    "s-stripe": "S-stripe: R and G stacked squares (p/2 - g)^2 beside a B bar (p/2 - g) x (p - g)",
    "delta": "delta (triangle): R G B at subpixel pitch 2p/3, rows at p/2, odd rows shifted",
    "diamond": "diamond PenTile RGBG: G on a square lattice, R/B alternating on the offset lattice",
    "mosaic": "mosaic: squares at pitch p/sqrt(3), colour = (i + j) mod 3",
}

_OUTPUT_SUFFIXES = (".gds", ".oas")

# Accepted ranges of the generator's options (a GDSII array holds at most 32767 columns and rows).
PPI_MAX = 1e6
LENGTH_MAX_UM = 1e5
GAP_MAX_UM = 1e4
COUNT_MAX = 32767
DB_UNIT_RANGE_UM = (1e-6, 1.0)


def _length(flag: str, *, zero: bool = False, hi: float = LENGTH_MAX_UM):
    check = fields.non_negative if zero else fields.positive
    return fields.option(check, flag, hi=hi, unit="µm")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "mask",
        **example_help(
            "Generate an RGB pixel-array mask (GDSII or OASIS), or inspect a layout. "
            "Choose a LAYOUT (stripe, s-stripe, delta, diamond, mosaic) to generate one; "
            "`litho mask info FILE` prints the cells, layers, areas, bounding box and units of any "
            "GDS/OASIS file. `litho mask LAYOUT --help` lists the options.",
            "litho mask stripe --ppi 1000 --subpixel-gap-um 2 --columns 8 --rows 8 -o stripe_1000ppi.gds\n"
            "  litho mask info stripe_1000ppi.gds",
        ),
    )
    sub = p.add_subparsers(dest="mask_command", metavar="{LAYOUT,info}", parser_class=type(p), required=True)

    common = argparse.ArgumentParser(add_help=False)
    pitch = common.add_mutually_exclusive_group(required=True)
    pitch.add_argument("--ppi", type=fields.option(fields.positive, "--ppi", hi=PPI_MAX),
                       help=f"pixels per inch, > 0 and <= {PPI_MAX:g}; pitch = 25400/ppi um")
    pitch.add_argument("--pitch-um", type=_length("--pitch-um"),
                       help=f"pixel pitch, > 0 and <= {LENGTH_MAX_UM:g} um (instead of --ppi)")
    common.add_argument("--subpixel-gap-um", "--gap-um", dest="gap_um", action=DeprecatedAlias,
                        type=_length("--subpixel-gap-um", zero=True, hi=GAP_MAX_UM), required=True,
                        help=f"gap between subpixels, 0 to {GAP_MAX_UM:g} um (--gap-um: the old name, "
                             "accepted until litho 0.2)")
    common.add_argument("--columns", type=fields.option(fields.integer, "--columns", convert=int, lo=1,
                                                        hi=COUNT_MAX),
                        required=True, help=f"pixels along x, 1 to {COUNT_MAX}, for every layout (the array is columns x pitch "
                             "wide; delta: even)")
    common.add_argument("--rows", type=fields.option(fields.integer, "--rows", convert=int, lo=1, hi=COUNT_MAX),
                        required=True, help=f"pixels along y, 1 to {COUNT_MAX} (the array is rows x pitch tall)")
    common.add_argument("--subpixel-um", type=_length("--subpixel-um"), nargs=2, metavar=("W", "H"),
                        help="explicit subpixel size, um (default: derived from pitch and gap)")
    common.add_argument("--no-marks", action="store_true", help="leave out alignment marks and verniers")
    common.add_argument("--test-structures", action="store_true",
                        help="add line/space ladders, isolated squares and holes, L-corners (layers 20-24)")
    common.add_argument("--db-unit-um", type=fields.option(fields.number, "--db-unit-um", lo=DB_UNIT_RANGE_UM[0],
                                                           hi=DB_UNIT_RANGE_UM[1], unit="um"),
                        default=0.001, help=f"database unit, {DB_UNIT_RANGE_UM[0]:g} to {DB_UNIT_RANGE_UM[1]:g} um "
                                            "(default 0.001)")
    common.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="output file: .gds (GDSII) or .oas (OASIS)")
    common.add_argument("--preview", metavar="PNG", help="also draw the mask into this PNG file (and, with "
                        "--format, the same name in each other format)")
    add_figure_options(common)
    common.add_argument("--json", action="store_true", help="print the summary as JSON")

    for layout, text in _LAYOUT_HELP.items():
        q = sub.add_parser(layout, parents=[common],
                           **example_help(f"Generate a pixel-array mask, {text}.",
                                          f"litho mask {layout} --ppi 1000 --subpixel-gap-um 2 --columns 16 --rows 16 "
                                          f"-o {layout}_1000ppi.gds"))
        q.set_defaults(func=_generate, layout=layout)

    info = sub.add_parser("info", **example_help(
        "Print a layout's cells, layers (flattened polygon counts and areas), bounding box and units.",
        "litho mask info masks/stripe_1000ppi.gds"))
    info.add_argument("file", metavar="FILE", help="GDSII or OASIS file")
    info.add_argument("--cell", help="cell to describe (default: the top cell)")
    info.add_argument("--json", action="store_true", help="print as JSON")
    info.set_defaults(func=_info)
    _register_bitmap(sub)


def _check_vernier(args) -> None:
    """Refuse a database unit that cannot draw the verniers' 0.2 µm step (they would silently coarsen)."""
    from ..layout.marks import VERNIER_MAIN_PITCH_UM, VERNIER_PITCH_UM

    if args.no_marks:
        return
    step_um = VERNIER_MAIN_PITCH_UM - VERNIER_PITCH_UM
    for length_um in (step_um, VERNIER_PITCH_UM):
        units = length_um / args.db_unit_um
        if abs(units - round(units)) > 1e-6 * max(1.0, units) or round(units) < 1:
            raise LithoInputError(
                f"--db-unit-um {args.db_unit_um:g}: the verniers need lengths of {VERNIER_PITCH_UM:g} um and a "
                f"{step_um:.1f} um step, which this database unit cannot draw; give a unit that divides "
                f"{step_um:.1f} um (e.g. 0.001) or --no-marks")


def _generate(args) -> int:
    from ..gds import write_gds
    from ..layout import pixel_array, summary

    note_deprecated(args)
    _check_vernier(args)
    out = output_file(args.output, "-o", tuple(_OUTPUT_SUFFIXES))
    preview = None if args.preview is None else output_file(args.preview, "--preview", (".png",))
    lib = pixel_array(args.layout, ppi=args.ppi, pitch_um=args.pitch_um, gap_um=args.gap_um,
                      columns=args.columns, rows=args.rows,
                      subpixel=tuple(args.subpixel_um) if args.subpixel_um else None,
                      marks=not args.no_marks, test_structures=args.test_structures,
                      db_unit_um=args.db_unit_um)
    info = summary(lib)
    from ..outputs import atomic_file

    # The preview is drawn from the finished layout before it is renamed into place,
    # so a failing preview leaves no .gds behind either.
    with atomic_file(out) as tmp:
        write_gds(lib, tmp)
        if preview is not None:
            _preview(tmp, preview, title=out.name, options=figure_options(args))
    if args.json:
        print(json.dumps({**info, "file": str(out)}, indent=2))
    else:
        _print_summary(info, out)
    return 0


def _print_summary(info: dict, out: Path) -> None:
    print(f"wrote {out} (cell {info['cell']}, {out.stat().st_size} bytes)")
    ppi = f"  (requested {info['ppi_requested']:g})" if info.get("ppi_requested") else ""
    print(f"  layout          {info['layout']}, {info['columns']} x {info['rows']}")
    print(f"  pitch_um        {info['pitch_um']:g}")
    print(f"  effective_ppi   {info['effective_ppi']:g}{ppi}")
    print(f"  gap_um          {info['gap_um']:g}")
    for c, (w, h) in info["subpixel_um"].items():
        print(f"  subpixel {c} um   {w:g} x {h:g}")
    if "sites" in info:
        print(f"  sites           {info['sites'][0]} x {info['sites'][1]} squares at "
              f"{info['site_pitch_um']:g} um (three per pixel)")
    print(f"  aperture_ratio  {info['aperture_ratio']:.4f}")
    x0, y0, x1, y1 = info["array_bounds_um"]
    print(f"  array_um        [{x0:g}, {y0:g}, {x1:g}, {y1:g}]")
    if "vernier_resolution_um" in info:
        print(f"  vernier_um      {info['vernier_resolution_um']:g}")
    print("  layers          " + ", ".join(f"{n} {l}/{d}" for n, (l, d) in info["layers"].items()))


def _info(args) -> int:
    from ..gds import mask_info

    info = mask_info(args.file, cell=args.cell)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{info['path']}: {info['format']}, user unit {info['user_unit_um']:g} um, "
          f"database unit {info['db_unit_um']:g} um")
    print(f"  top cell  {info['top_cell']}")
    print(f"  cells     {len(info['cells'])}: {', '.join(info['cells'][:20])}"
          + (" ..." if len(info["cells"]) > 20 else ""))
    if info["bbox_um"]:
        x0, y0, x1, y1 = info["bbox_um"]
        print(f"  bbox_um   [{x0:g}, {y0:g}, {x1:g}, {y1:g}]  ({x1 - x0:g} x {y1 - y0:g})")
    print(f"  {'layer':<8}{'name':<9}{'polygons':>10}{'area_um2':>16}")
    for key, entry in info["layers"].items():
        area = entry["area_um2"] if entry["area_um2"] is not None else entry["drawn_area_um2"]
        mark = "" if entry["area_um2"] is not None else " (drawn)"
        print(f"  {key:<8}{entry['name']:<9}{entry['polygons']:>10}{area:>16.6g}{mark}")
    return 0


def _preview(layout_path: Path, png, title: str | None = None, options=None) -> None:
    """The layout's layers in µm with a layer legend (:func:`litho.plot.mask_preview_figure`),
    written to ``png`` and its siblings in the other asked-for formats."""
    import matplotlib.pyplot as plt

    from ..gds import layers as file_layers, read_mask
    from ..outputs import atomic_file
    from ..plot import DEFAULT, mask_preview_figure

    options = options or DEFAULT
    layers = {lay: read_mask(layout_path, layer=lay).polygons for lay in file_layers(layout_path)}
    fig = mask_preview_figure(layers, f"Mask {title or layout_path.name}")
    try:
        for fmt in dict.fromkeys(("png", *options.formats)):
            with atomic_file(Path(png).with_suffix("." + fmt)) as tmp:
                fig.savefig(tmp, dpi=options.dpi, format=fmt)
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- litho mask bitmap

BITMAP_PITCH_MAX_UM = 1000.0
BITMAP_DEMAG_MAX = 1000.0


def _register_bitmap(sub) -> None:
    """``litho mask bitmap``: a GDS layer rasterised onto a maskless projector's mirror grid."""
    sub.metavar = "{LAYOUT,info,bitmap}"
    q = sub.add_parser("bitmap", **example_help(
        "Rasterise a GDS/OASIS layer onto the mirror grid of a maskless (DMD) projector and write the "
        "mirror states as a greyscale PNG or an NPY array (row 0 = the top row of mirrors). Each mirror's "
        "grey level is the layer's area coverage of its cell at the wafer (pitch = mirror pitch / "
        "demagnification), quantised to --bits (1 bit: on where the coverage is >= 0.5). Prints the wafer "
        "position of the bitmap's bottom-left mirror, the recipe's exposure.mirror_origin_um.",
        "litho mask bitmap masks/stripe_1000ppi.gds --layer R --mirror-um 7.56 --demag 10 -o pattern.png"))
    q.add_argument("file", metavar="LAYOUT", help="GDSII or OASIS file")
    q.add_argument("--layer", default="R", help="layer: R/G/B, 'layer/datatype' or a number (default R)")
    q.add_argument("--cell", help="cell to rasterise (default: the top cell)")
    q.add_argument("--mirror-um", required=True,
                   type=fields.option(fields.positive, "--mirror-um", hi=BITMAP_PITCH_MAX_UM, unit="µm"),
                   help="mirror pitch at the modulator, um (7.56 for a 1080p DMD)")
    q.add_argument("--demag", required=True,
                   type=fields.option(fields.positive, "--demag", hi=BITMAP_DEMAG_MAX),
                   help="modulator-to-wafer reduction of the projection lens, > 0")
    q.add_argument("--bits", type=fields.option(fields.integer, "--bits", convert=int, lo=1, hi=16), default=1,
                   help="grey-level bit depth, 1 to 16 (default 1: on/off)")
    q.add_argument("--origin-um", type=_length_pair("--origin-um"), default=(0.0, 0.0), metavar="X,Y",
                   help="a corner of the mirror grid on the wafer, um (default 0,0)")
    q.add_argument("--window-um", type=fields.number_list("--window-um", lo=-1e7, hi=1e7, unit="um",
                                                          example="0,0,203.2,203.2"),
                   metavar="XMIN,YMIN,XMAX,YMAX", help="rasterise only this part of the layout, um")
    q.add_argument("-o", "--output", required=True, metavar="FILE", help="output bitmap: .png or .npy")
    q.add_argument("--json", action="store_true", help="print the summary as JSON")
    q.set_defaults(func=_bitmap)


def _length_pair(flag: str):
    parse_list = fields.number_list(flag, lo=-1e7, hi=1e7, unit="um", example="0,0")

    def parse(text: str):
        values = parse_list(text)
        if len(values) != 2:
            raise argparse.ArgumentTypeError(f"{text!r}: give two numbers X,Y in um")
        return values

    return parse


def _bitmap(args) -> int:
    import math

    from ..bitmap import BITMAP_SUFFIXES, MAX_MIRRORS_PER_SIDE, write_bitmap
    from ..gds import read_mask
    from ..maskmodel import mirror_levels
    from ..outputs import atomic_file

    out = output_file(args.output, "-o", BITMAP_SUFFIXES)
    window = None
    if args.window_um is not None:
        if len(args.window_um) != 4 or not (args.window_um[2] > args.window_um[0]
                                            and args.window_um[3] > args.window_um[1]):
            raise LithoInputError(f"--window-um {','.join(f'{v:g}' for v in args.window_um)}: give "
                                  "XMIN,YMIN,XMAX,YMAX with XMAX > XMIN and YMAX > YMIN")
        window = tuple(args.window_um)
    mask = read_mask(args.file, layer=args.layer, cell=args.cell, window=window)
    pitch = args.mirror_um / args.demag
    xmin, ymin, xmax, ymax = window if window is not None else mask.bounds_um
    ox, oy = args.origin_um
    i0, i1 = math.floor((xmin - ox) / pitch + 1e-9), math.ceil((xmax - ox) / pitch - 1e-9)
    j0, j1 = math.floor((ymin - oy) / pitch + 1e-9), math.ceil((ymax - oy) / pitch - 1e-9)
    nx, ny = max(1, i1 - i0), max(1, j1 - j0)
    if max(nx, ny) > MAX_MIRRORS_PER_SIDE:
        raise LithoInputError(f"{args.file}: the layer spans {nx} x {ny} mirrors of {pitch:g} um; a bitmap holds "
                              f"at most {MAX_MIRRORS_PER_SIDE} per side (give --window-um or a larger pitch)")
    corner = (ox + i0 * pitch, oy + j0 * pitch)
    levels = mirror_levels(mask.geometry, pitch, corner, (ny, nx), args.bits)
    with atomic_file(out) as tmp:
        write_bitmap(tmp, levels[::-1], args.bits)     # image rows: row 0 is the top row of mirrors
    top = (1 << args.bits) - 1
    info = {"file": str(out), "layout": str(args.file), "layer": list(mask.layer), "mirrors": [nx, ny],
            "mirror_pitch_um": args.mirror_um, "demagnification": args.demag, "projected_pitch_um": pitch,
            "grey_bits": args.bits, "mirror_origin_um": [corner[0], corner[1]],
            "on_fraction": float((levels > 0).mean()), "mean_grey": float(levels.mean() / top)}
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"wrote {out} ({nx} x {ny} mirrors, {args.bits}-bit)")
        print(f"  projected_pitch_um  {pitch:g}  ({args.mirror_um:g} um / {args.demag:g})")
        print(f"  mirror_origin_um    [{corner[0]:g}, {corner[1]:g}]  (the bottom-left mirror's corner on the wafer)")
        print(f"  mean_grey           {info['mean_grey']:.4f}")
    return 0
