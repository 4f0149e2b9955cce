"""Add a pixel-define-layer (PDL) bank layer to a pixel-array mask (see masks/README.md).

    python masks/add_pdl_layer.py IN.gds OUT.gds [--inset-um 1.0] [--border-um 5.0] [--layer 30/0]

The bank is the grid of the PDL between the pixel openings: the array's
bounding box grown by ``--border-um`` (so the bank covers the opaque margin
litho simulates around the array), minus every subpixel opening of the colour
layers R = 1/0, G = 2/0, B = 3/0 shrunk by ``--inset-um``. A positive inset
makes the PDL openings smaller than the mask openings, so each patterned QD
pixel overlaps the bank edge all round, as display processes do to keep the
emitting area defined by the PDL. The bank polygons are the *footprint* of
the bank (the bottom of its sidewalls); litho adds the height and sidewall
angle from the recipe's ``[substrate]`` section (litho.topography).

The output keeps every cell and layer of the input and adds the bank, as
plain polygons in the top cell, on ``--layer``.
"""

from __future__ import annotations

import argparse

import gdstk

COLOUR_LAYERS = ((1, 0), (2, 0), (3, 0))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--inset-um", type=float, default=1.0,
                        help="PDL opening = mask opening shrunk by this, µm (default 1)")
    parser.add_argument("--border-um", type=float, default=5.0,
                        help="bank beyond the array's bounding box, µm (default 5)")
    parser.add_argument("--layer", default="30/0", help="layer/datatype of the bank (default 30/0)")
    args = parser.parse_args(argv)
    layer, _, datatype = args.layer.partition("/")
    layer, datatype = int(layer), int(datatype or 0)

    lib = gdstk.read_gds(args.source)
    top = lib.top_level()[0]
    flat = top.copy(top.name + "_flat").flatten()
    openings = [p for p in flat.polygons if (p.layer, p.datatype) in COLOUR_LAYERS]
    if not openings:
        raise SystemExit(f"{args.source}: no polygons on the colour layers {COLOUR_LAYERS}")
    (x0, y0), (x1, y1) = gdstk.Polygon([pt for p in openings for pt in p.points]).bounding_box()
    b = args.border_um
    frame = gdstk.rectangle((x0 - b, y0 - b), (x1 + b, y1 + b))
    inner = gdstk.offset(openings, -args.inset_um, join="miter")
    bank = gdstk.boolean(frame, inner, "not", layer=layer, datatype=datatype)
    for polygon in bank:
        top.add(polygon)
    lib.write_gds(args.output)
    print(f"{args.output}: bank on {layer}/{datatype}, {len(openings)} openings inset {args.inset_um:g} um, "
          f"border {b:g} um")


if __name__ == "__main__":
    main()
