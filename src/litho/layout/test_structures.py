"""Resolution test structures: line/space ladders, isolated squares and holes, L-corners.

Each family sits on its own layer (:mod:`litho.layout.layers`) and each
structure is labelled with its size in µm on the labels layer, so a
simulation or a microscope image can be read without a legend. Features are
the *openings* of a negative-tone (clear-field exposes) process, like the
pixels; a hole is a dark square inside an open frame.

Lengths are database units (dbu) unless a name says ``_um``.
"""

from __future__ import annotations

import gdstk

from . import layers

DEFAULT_SIZES_UM = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
LADDER_LINES = 5          # lines per ladder
LADDER_LENGTH = 10        # line length in units of the line width ...
MIN_LENGTH_UM = 10.0      # ... but at least this
LABEL_HEIGHT_UM = 5.0
SPACING_UM = 10.0         # between structures


def _rect(x0, y0, x1, y1):
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def _label(text: str, x: int, y: int, db_unit_um: float):
    """Text polygons (gdstk's stroke font) with lower-left at (x, y) dbu."""
    polys = gdstk.text(text, LABEL_HEIGHT_UM, (x * db_unit_um, y * db_unit_um), layer=layers.LABELS[0],
                       datatype=layers.LABELS[1])
    out = []
    for p in polys:
        out.append((layers.LABELS, (tuple((int(round(px / db_unit_um)), int(round(py / db_unit_um)))
                                          for px, py in p.points),)))
    return out


def structures(x0: int, y0: int, db_unit_um: float, sizes_um=DEFAULT_SIZES_UM):
    """All test structures, one column per size, starting at (x0, y0) dbu.

    Returns ``(shapes, width, height)``; shapes is a list of ``(layer, rings)``.
    """
    d = lambda um: int(round(um / db_unit_um))  # noqa: E731
    shapes = []
    x = x0
    gap = d(SPACING_UM)
    top = y0
    for size_um in sizes_um:
        s = d(size_um)
        if s <= 0:
            continue
        length = max(LADDER_LENGTH * s, d(MIN_LENGTH_UM))
        y = y0
        col_w = max((2 * LADDER_LINES - 1) * s, length, 3 * s, d(LABEL_HEIGHT_UM) * 3)
        # line/space ladder: LADDER_LINES vertical lines of width s, space s
        for k in range(LADDER_LINES):
            shapes.append((layers.LINES, (_rect(x + 2 * k * s, y, x + 2 * k * s + s, y + length),)))
        y += length + gap
        # isolated square
        shapes.append((layers.SQUARES, (_rect(x, y, x + s, y + s),)))
        y += s + gap
        # isolated hole: a dark s x s square in an open frame of width max(2s, 5 µm)
        f = max(2 * s, d(5.0))
        outer = _rect(x, y, x + 2 * f + s, y + 2 * f + s)
        hole = _rect(x + f, y + f, x + f + s, y + f + s)
        shapes.append((layers.HOLES, (outer, hole)))
        col_w = max(col_w, 2 * f + s)
        y += 2 * f + s + gap
        # L-corner: two arms of width s and length `length`
        arm = ((x, y), (x + length, y), (x + length, y + s), (x + s, y + s), (x + s, y + length), (x, y + length))
        shapes.append((layers.CORNERS, (arm,)))
        y += length + gap
        shapes.extend(_label(f"{size_um:g}", x, y, db_unit_um))
        y += d(LABEL_HEIGHT_UM)
        top = max(top, y)
        x += col_w + gap
    return shapes, x - gap - x0, top - y0
