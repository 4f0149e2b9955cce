"""Alignment marks and verniers for an RGB mask set.

The marks layer (10/0) is printed first (on the substrate or the first
patterned layer); every colour mask carries its own half of a box-in-box and
a vernier that land on the marks layer. Overlay is read from the box-in-box
(centring of the colour's inner box in the marks-layer frame) and, finer,
from the verniers: the marks layer carries a main scale of pitch 10 µm, each
colour a vernier of pitch 9.8 µm, so the bar pair that lines up gives the
offset in steps of 10 − 9.8 = 0.2 µm (the vernier resolution).

All lengths here are in database units (dbu), computed from µm constants.
"""

from __future__ import annotations

from . import layers

BOX_OUTER_UM = 20.0       # marks-layer frame, outer side
BOX_FRAME_UM = 3.0        # its line width
BOX_INNER_UM = 8.0        # the colour layer's solid box
CROSS_UM = 30.0           # global alignment cross, arm length tip to tip
CROSS_WIDTH_UM = 4.0
VERNIER_MAIN_PITCH_UM = 10.0
VERNIER_PITCH_UM = 9.8
VERNIER_BARS = 9          # bars per scale, centre bar in the middle
VERNIER_BAR_W_UM = 2.0
VERNIER_BAR_L_UM = 10.0
VERNIER_CENTRE_EXTRA_UM = 4.0   # the centre bars are longer, to find zero
BLOCK_GAP_UM = 20.0             # between mark groups and to the array
MARK_GAP_UM = 10.0              # between the parts of one group

VERNIER_RESOLUTION_UM = round(VERNIER_MAIN_PITCH_UM - VERNIER_PITCH_UM, 6)


def check_db_unit(db_unit_um: float) -> None:
    """Refuse a database unit that cannot draw the verniers' 9.8 µm pitch and 0.2 µm step.

    Rounded onto a coarser grid the vernier would silently read in other steps
    (a 1 µm unit makes 9.8 µm 10 µm: no vernier at all).
    """
    from ..errors import LithoInputError

    step_um = VERNIER_MAIN_PITCH_UM - VERNIER_PITCH_UM
    for length_um in (step_um, VERNIER_PITCH_UM):
        units = length_um / db_unit_um
        if abs(units - round(units)) > 1e-6 * max(1.0, units) or round(units) < 1:
            raise LithoInputError(
                f"db_unit_um {db_unit_um:g}: the verniers need lengths of {VERNIER_PITCH_UM:g} um and a "
                f"{step_um:.1f} um step, which this database unit cannot draw; give a unit that divides "
                f"{step_um:.1f} um (e.g. 0.001) or leave the marks out")


def _rect(x0, y0, x1, y1):
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def _vernier(pitch: int, bar_w: int, bar_l: int, extra: int, x_centre: int, y_base: int, up: bool):
    """Bars of one scale along x: centre bar at ``x_centre``; bars grow up (or down) from ``y_base``."""
    out = []
    half = VERNIER_BARS // 2
    for k in range(-half, half + 1):
        length = bar_l + (extra if k == 0 else 0)
        x = x_centre + k * pitch
        if up:
            out.append(_rect(x - bar_w // 2, y_base, x - bar_w // 2 + bar_w, y_base + length))
        else:
            out.append(_rect(x - bar_w // 2, y_base - length, x - bar_w // 2 + bar_w, y_base))
    return out


def mark_group(colour_layer: tuple[int, int], x0: int, y0: int, db_unit_um: float):
    """One colour's marks with lower-left corner at (x0, y0), dbu.

    Layout of a group: the y vernier on the left; to its right the
    box-in-box above the x vernier.

    Returns ``(shapes, width, height)`` where shapes is a list of
    ``(layer, rings)`` with ``rings = (outer, *holes)`` vertex tuples.
    """
    d = lambda um: int(round(um / db_unit_um))  # noqa: E731
    shapes = []
    main, vern = d(VERNIER_MAIN_PITCH_UM), d(VERNIER_PITCH_UM)
    bw, bl, ex = d(VERNIER_BAR_W_UM), d(VERNIER_BAR_L_UM), d(VERNIER_CENTRE_EXTRA_UM)
    half = VERNIER_BARS // 2
    span = 2 * half * main + bw          # length of a scale
    depth = 2 * (bl + ex)                # main bars + vernier bars, end to end
    gap = d(MARK_GAP_UM)
    # y vernier: bars along x stacked in y; main scale (marks layer) left, colour vernier right
    yc = y0 + half * main + bw // 2
    for lay, up, pitch in ((layers.MARKS, False, main), (colour_layer, True, vern)):
        for poly in _vernier(pitch, bw, bl, ex, 0, 0, up=up):
            shapes.append((lay, (tuple((py + x0 + bl + ex, px + yc) for px, py in poly),)))
    # x vernier: main scale below, colour vernier above, sharing the line y = y0 + bl + ex
    xs = x0 + depth + gap
    xc = xs + half * main + bw // 2
    for poly in _vernier(main, bw, bl, ex, xc, y0 + bl + ex, up=False):
        shapes.append((layers.MARKS, (poly,)))
    for poly in _vernier(vern, bw, bl, ex, xc, y0 + bl + ex, up=True):
        shapes.append((colour_layer, (poly,)))
    # box-in-box above the x vernier: frame on the marks layer, solid box on the colour layer
    o, f, i = d(BOX_OUTER_UM), d(BOX_FRAME_UM), d(BOX_INNER_UM)
    bx, by = xc - o // 2, y0 + span - o
    shapes.append((layers.MARKS, (_rect(bx, by, bx + o, by + o), _rect(bx + f, by + f, bx + o - f, by + o - f))))
    c = (o - i) // 2
    shapes.append((colour_layer, (_rect(bx + c, by + c, bx + c + i, by + c + i),)))
    return shapes, depth + gap + span, max(span, depth + gap + o)


def cross(x_centre: int, y_centre: int, db_unit_um: float):
    """A plus-shaped global alignment cross on the marks layer, dbu."""
    d = lambda um: int(round(um / db_unit_um))  # noqa: E731
    h, w = d(CROSS_UM) // 2, d(CROSS_WIDTH_UM) // 2
    x, y = x_centre, y_centre
    outline = ((x - w, y - h), (x + w, y - h), (x + w, y - w), (x + h, y - w), (x + h, y + w), (x + w, y + w),
               (x + w, y + h), (x - w, y + h), (x - w, y + w), (x - h, y + w), (x - h, y - w), (x - w, y - w))
    return (layers.MARKS, (outline,))


def marks(array_bounds: tuple[int, int, int, int], colour_layers, db_unit_um: float):
    """All marks for an array occupying ``array_bounds`` (dbu): a row of mark
    groups (one per colour) below the array, and a global cross at each end.

    Returns a list of ``(layer, rings)`` with ``rings = (outer, *holes)``.
    """
    d = lambda um: int(round(um / db_unit_um))  # noqa: E731
    xmin, ymin, _, _ = array_bounds
    gap = d(BLOCK_GAP_UM)
    shapes = []
    groups = []
    x = xmin + d(CROSS_UM) + gap
    height = 0
    for lay in colour_layers:
        g, w, h = mark_group(lay, x, 0, db_unit_um)
        groups.append(g)
        x += w + gap
        height = max(height, h)
    # place the row so that its top sits one gap below the array
    dy = ymin - gap - height
    for g in groups:
        for lay, rings in g:
            shapes.append((lay, tuple(tuple((px, py + dy) for px, py in ring) for ring in rings)))
    yc = dy + height // 2
    shapes.append(cross(xmin + d(CROSS_UM) // 2, yc, db_unit_um))
    shapes.append(cross(x + d(CROSS_UM) // 2, yc, db_unit_um))
    return shapes
