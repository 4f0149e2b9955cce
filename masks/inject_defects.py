"""Inject mask defects into a pixel-array mask made by ``litho mask`` (see masks/README.md).

    python masks/inject_defects.py IN.gds OUT.gds [--missing L:C,R] [--bridge L:C,R] [--particle L:C,R]

``L`` is the colour layer number (1 = R, 2 = G, 3 = B), ``C,R`` the column and
row of the pixel in the array (0-based, from the lower left). The array stays
an array reference; the pixels that carry a defect are cut out of it:

- ``--missing``: the subpixel's opening is left out (a pixel that cannot print);
- ``--bridge``: a 2 µm wide opening joins the subpixel to the one above it,
  across the gap between rows (two pixels print as one);
- ``--particle``: a 4 µm opaque particle sits in the middle of the opening
  (the pixel prints with a hole).

Each option may be repeated. The output keeps every other cell and layer.
"""

from __future__ import annotations

import argparse
import sys

import gdstk

BRIDGE_WIDTH_UM = 2.0
PARTICLE_UM = 4.0


def _site(text: str):
    layer, _, where = text.partition(":")
    c, r = where.split(",")
    return int(layer), int(c), int(r)


def _array_of(top: gdstk.Cell, layer: int):
    for ref in top.references:
        if ref.repetition is not None and ref.repetition.columns and any(
                p.layer == layer for p in ref.cell.polygons):
            return ref
    raise SystemExit(f"no array of layer {layer} in {top.name}")


def _split(ref: gdstk.Reference, holes: set):
    """References covering the array of ``ref`` without the (column, row) sites in ``holes``."""
    cols, rows = ref.repetition.columns, ref.repetition.rows
    dx, dy = ref.repetition.spacing
    x0, y0 = ref.origin
    out = []

    def block(c0, c1, r0, r1):
        if c1 > c0 and r1 > r0:
            out.append(gdstk.Reference(ref.cell, (x0 + c0 * dx, y0 + r0 * dy), columns=c1 - c0, rows=r1 - r0,
                                       spacing=(dx, dy)))

    bad_rows = sorted({r for _, r in holes})
    start = 0
    for r in bad_rows:
        block(0, cols, start, r)
        bad_cols = sorted(c for c, rr in holes if rr == r)
        c_start = 0
        for c in bad_cols:
            block(c_start, c, r, r + 1)
            c_start = c + 1
        block(c_start, cols, r, r + 1)
        start = r + 1
    block(0, cols, start, rows)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    for name in ("missing", "bridge", "particle"):
        parser.add_argument(f"--{name}", action="append", type=_site, default=[], metavar="L:C,R")
    args = parser.parse_args(argv)
    lib = gdstk.read_gds(args.input)
    top = lib.top_level()[0]
    by_layer: dict = {}
    for kind in ("missing", "bridge", "particle"):
        for layer, c, r in getattr(args, kind):
            by_layer.setdefault(layer, []).append((kind, c, r))
    for layer, defects in by_layer.items():
        ref = _array_of(top, layer)
        dx, dy = ref.repetition.spacing
        sub = [p for p in ref.cell.polygons if p.layer == layer][0]
        (bx0, by0), (bx1, by1) = sub.bounding_box()
        holes = {(c, r) for kind, c, r in defects if kind != "bridge"}
        top.remove(ref)
        for piece in _split(ref, holes):
            top.add(piece)
        for kind, c, r in defects:
            ox, oy = ref.origin[0] + c * dx, ref.origin[1] + r * dy
            if kind == "bridge":
                xm = ox + 0.5 * (bx0 + bx1)
                top.add(gdstk.rectangle((xm - BRIDGE_WIDTH_UM / 2, oy + by1), (xm + BRIDGE_WIDTH_UM / 2, oy + dy + by0),
                                        layer=layer, datatype=sub.datatype))
            elif kind == "particle":
                xm, ym = ox + 0.5 * (bx0 + bx1), oy + 0.5 * (by0 + by1)
                opening = gdstk.rectangle((ox + bx0, oy + by0), (ox + bx1, oy + by1))
                dot = gdstk.rectangle((xm - PARTICLE_UM / 2, ym - PARTICLE_UM / 2),
                                      (xm + PARTICLE_UM / 2, ym + PARTICLE_UM / 2))
                top.add(*gdstk.boolean(opening, dot, "not", layer=layer, datatype=sub.datatype))
    lib.write_gds(args.output)
    print(f"wrote {args.output}: " + ", ".join(f"{k} {layer}:{c},{r}" for layer, d in by_layer.items()
                                               for k, c, r in d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
