"""GDS layer numbers of litho's masks, in one place (DESIGN.md §3).

Every layer is a ``(layer, datatype)`` pair. The pixel colours and the
alignment-mark layer are the shipped convention; the test-structure layers
keep resolution targets apart from the pixels so a simulation of a colour
layer never picks them up by accident.
"""

from __future__ import annotations

R = (1, 0)
G = (2, 0)
B = (3, 0)
MARKS = (10, 0)

# Resolution test structures, each family on its own layer.
LINES = (20, 0)      # line/space ladders
SQUARES = (21, 0)    # isolated squares (openings)
HOLES = (22, 0)      # isolated holes (dark squares in a clear frame)
CORNERS = (23, 0)    # L-corners
LABELS = (24, 0)     # text polygons naming each structure's size

# Predicted contours written back by the simulator sit at 100 + mask layer.
PREDICTED_OFFSET = 100

COLOURS = ("R", "G", "B")

LAYER_NAMES = {
    "R": R,
    "G": G,
    "B": B,
    "marks": MARKS,
    "lines": LINES,
    "squares": SQUARES,
    "holes": HOLES,
    "corners": CORNERS,
    "labels": LABELS,
}


def layer_name(layer: tuple[int, int]) -> str:
    """The name of ``layer`` if it has one, else ``"l/d"``."""
    for name, value in LAYER_NAMES.items():
        if value == tuple(layer):
            return name
    return f"{layer[0]}/{layer[1]}"
