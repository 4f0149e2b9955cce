"""Pixel-array geometry: where each colour's subpixels sit.

Everything here is integer database units (dbu), so every pitch, size and
offset is on the database grid by construction; :func:`plan` converts the
user's µm inputs and reports the snapped values back in µm. A layout is a
short list of rectangular arrays per colour, each of one subpixel shape,
which the GDS writer turns into AREFs: the file does not grow with the
number of pixels.

Coordinates: pixel (0, 0) has its lower-left corner at the origin, columns
grow along +x and rows along +y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import LithoInputError

INCH_UM = 25400.0

LAYOUTS = ("stripe", "s-stripe", "delta", "diamond", "mosaic")
GDS_MAX_ARRAY = 32767


@dataclass(frozen=True)
class Array:
    """``columns`` x ``rows`` copies of one colour's subpixel, dbu.

    ``origin`` is where the subpixel's local origin of copy (0, 0) sits;
    ``spacing`` is the (x, y) step between copies.
    """

    colour: str
    origin: tuple[int, int]
    columns: int
    rows: int
    spacing: tuple[int, int]


@dataclass(frozen=True)
class Plan:
    """A pixel layout resolved onto the database grid (all lengths dbu).

    ``shapes[colour]`` is the subpixel outline as a tuple of (x, y) vertices
    in the subpixel's local frame; ``arrays`` places them.
    """

    layout: str
    db_unit_um: float
    pitch: int
    gap: int
    columns: int
    rows: int
    shapes: dict[str, tuple[tuple[int, int], ...]]
    sizes: dict[str, tuple[int, int]]
    arrays: tuple[Array, ...]
    aperture_ratio: float
    pixel_area: float          # dbu², the area one pixel stands for
    pitch_um_exact: float      # the pitch the pixel density implies (mosaic: √3·site pitch)
    notes: dict = field(default_factory=dict)

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """(xmin, ymin, xmax, ymax) of all subpixels, dbu."""
        xs0, ys0, xs1, ys1 = [], [], [], []
        for a in self.arrays:
            pts = self.shapes[a.colour]
            sx0 = min(p[0] for p in pts)
            sx1 = max(p[0] for p in pts)
            sy0 = min(p[1] for p in pts)
            sy1 = max(p[1] for p in pts)
            xs0.append(a.origin[0] + sx0)
            ys0.append(a.origin[1] + sy0)
            xs1.append(a.origin[0] + (a.columns - 1) * a.spacing[0] + sx1)
            ys1.append(a.origin[1] + (a.rows - 1) * a.spacing[1] + sy1)
        return (min(xs0), min(ys0), max(xs1), max(ys1))

    def um(self, value: float) -> float:
        """A dbu length in µm (rounded to the dbu's decimals to drop float noise)."""
        return round(value * self.db_unit_um, _decimals(self.db_unit_um))


def _decimals(db_unit_um: float) -> int:
    return max(0, math.ceil(-math.log10(db_unit_um) - 1e-9)) + 1


def _rect(w: int, h: int) -> tuple[tuple[int, int], ...]:
    return ((0, 0), (w, 0), (w, h), (0, h))


def _diamond(a: int) -> tuple[tuple[int, int], ...]:
    # centred on its local origin; half-diagonal a along x and y
    return ((a, 0), (0, a), (-a, 0), (0, -a))


def _positive(name: str, value: int, formula: str, context: str, db_unit_um: float, max_gap: float) -> None:
    """Raise when a subpixel dimension is not positive, naming it and the largest gap that fits."""
    if value <= 0:
        raise LithoInputError(
            f"{context}: subpixel {name} {formula} = {value * db_unit_um:.4g} um is not positive; "
            f"gap_um must be below {max_gap * db_unit_um:.4g} um at this pitch (or use a lower ppi)"
        )


def _split(n: int) -> tuple[int, int]:
    """Counts of even and odd indices in range(n)."""
    return (n + 1) // 2, n // 2


def plan(layout: str, *, ppi: float | None = None, pitch_um: float | None = None, gap_um: float,
         columns: int, rows: int, subpixel=None, db_unit_um: float = 0.001) -> Plan:
    """Resolve a pixel layout onto the database grid.

    Parameters
    ----------
    layout : {"stripe", "s-stripe", "delta", "diamond", "mosaic"}
    ppi : float, optional
        Pixels per inch; pitch = 25400/ppi µm. Give exactly one of ``ppi`` and ``pitch_um``.
    pitch_um : float, optional
        Pixel pitch, µm.
    gap_um : float
        Gap between neighbouring subpixels (black matrix / pixel-define layer), µm.
    columns, rows : int
        Array size in pixels, for every layout: the array covers about
        columns·p x rows·p (see :func:`litho.layout.pixel_array`).
    subpixel : (w_um, h_um) or dict colour -> (w_um, h_um), optional
        Explicit subpixel size, centred in its slot instead of the gap-derived one
        (diamond: both the x and y diagonal).
    db_unit_um : float
        Database unit, µm; all sizes are snapped to it.
    """
    if layout not in LAYOUTS:
        raise LithoInputError(f"layout: unknown layout {layout!r}; accepted: {', '.join(LAYOUTS)}")
    if (ppi is None) == (pitch_um is None):
        raise LithoInputError("pixel_array: give exactly one of ppi and pitch_um")
    if not (db_unit_um > 0 and db_unit_um <= 1):
        raise LithoInputError(f"db_unit_um: {db_unit_um!r} is not in (0, 1] um")
    if ppi is not None:
        if not ppi > 0:
            raise LithoInputError(f"ppi: {ppi!r} must be > 0")
        pitch_exact = INCH_UM / float(ppi)
        context = f"{layout} at {ppi:g} ppi (pitch {pitch_exact:.4f} um) with gap {gap_um:g} um"
    else:
        if not pitch_um > 0:
            raise LithoInputError(f"pitch_um: {pitch_um!r} must be > 0")
        pitch_exact = float(pitch_um)
        context = f"{layout} at pitch {pitch_exact:g} um with gap {gap_um:g} um"
    if not gap_um >= 0:
        raise LithoInputError(f"gap_um: {gap_um!r} must be >= 0")
    for name, n in (("columns", columns), ("rows", rows)):
        if int(n) != n or n < 1:
            raise LithoInputError(f"{name}: {n!r} must be a positive integer")
    columns, rows = int(columns), int(rows)
    if layout == "delta" and columns % 2:
        # a delta row repeats its R G B triple every 2p: a whole number of triples
        # fills an even number of pixel widths
        raise LithoInputError(f"columns: {columns} must be even for a delta layout (one R G B triple, "
                              f"2 pixels wide, repeats along each row at 2p)")

    def snap(x_um: float) -> int:
        return int(round(x_um / db_unit_um))

    gap = snap(gap_um)
    if layout == "mosaic":
        # squares at pitch p/√3, so three of them (one pixel) cover p²
        pitch = snap(pitch_exact / math.sqrt(3.0))
    else:
        pitch = snap(pitch_exact)
    if pitch <= 0:
        raise LithoInputError(f"{context}: pitch rounds to 0 on a {db_unit_um:g} um database grid")

    explicit = _explicit_sizes(subpixel, snap)
    p = pitch
    shapes: dict[str, tuple] = {}
    sizes: dict[str, tuple[int, int]] = {}
    arrays: list[Array] = []
    notes: dict = {}

    def fit(colour: str, default: tuple[int, int], slot: tuple[int, int]) -> tuple[int, int]:
        """Explicit size if given (checked against the slot), else the default."""
        size = explicit.get(colour)
        if size is None:
            return default
        if size[0] > slot[0] or size[1] > slot[1]:
            raise LithoInputError(
                f"subpixel: {colour} {size[0] * db_unit_um:g} x {size[1] * db_unit_um:g} um does not fit its "
                f"{slot[0] * db_unit_um:g} x {slot[1] * db_unit_um:g} um slot in {context}")
        return size

    if layout == "stripe":
        # R G B side by side, each in a p/3 slot: w = p/3 − g, h = p − g
        bounds = [round(k * p / 3) for k in range(4)]
        slot_w = min(b - a for a, b in zip(bounds, bounds[1:]))
        _positive("width", slot_w - gap, "p/3 - g", context, db_unit_um, slot_w)
        _positive("height", p - gap, "p - g", context, db_unit_um, p)
        for k, c in enumerate("RGB"):
            w, h = fit(c, (slot_w - gap, p - gap), (slot_w, p))
            shapes[c], sizes[c] = _rect(w, h), (w, h)
            arrays.append(Array(c, (bounds[k] + (bounds[k + 1] - bounds[k] - w) // 2, (p - h) // 2),
                                columns, rows, (p, p)))
        pixel_area = float(p * p)
    elif layout == "s-stripe":
        # left half: R (bottom) and G (top) squares (p/2 − g)²; right half: B bar (p/2 − g) × (p − g)
        half = p // 2
        s = half - gap
        _positive("width", s, "p/2 - g", context, db_unit_um, half)
        for c, (x0, y0, slot) in {"R": (0, 0, (half, half)), "G": (0, half, (half, p - half)),
                                  "B": (half, 0, (p - half, p))}.items():
            default = (s, s) if c != "B" else (s, p - gap)
            w, h = fit(c, default, slot)
            shapes[c], sizes[c] = _rect(w, h), (w, h)
            arrays.append(Array(c, (x0 + (slot[0] - w) // 2, y0 + (slot[1] - h) // 2), columns, rows, (p, p)))
        pixel_area = float(p * p)
    elif layout == "delta":
        # one pixel = an R G B triple in one row; subpixel pitch 2p/3, row pitch p/2,
        # odd rows shifted by half a subpixel pitch (p/3): each colour is two AREFs
        # (even rows, odd rows) of spacing (2p, p).
        bounds = [round(k * 2 * p / 3) for k in range(4)]
        slot_w = min(b - a for a, b in zip(bounds, bounds[1:]))
        row_h = p // 2
        # height first: p/2 < 2p/3, so it is the dimension that runs out first
        _positive("height", row_h - gap, "p/2 - g", context, db_unit_um, row_h)
        _positive("width", slot_w - gap, "2p/3 - g", context, db_unit_um, slot_w)
        shift = round(p / 3)
        # columns x rows pixels cover columns·p x rows·p: columns/2 triples per row, 2·rows rows
        triples = columns // 2
        n_even, n_odd = _split(2 * rows)
        for k, c in enumerate("RGB"):
            w, h = fit(c, (slot_w - gap, row_h - gap), (slot_w, row_h))
            shapes[c], sizes[c] = _rect(w, h), (w, h)
            x0 = bounds[k] + (bounds[k + 1] - bounds[k] - w) // 2
            y0 = (row_h - h) // 2
            arrays.append(Array(c, (x0, y0), triples, n_even, (2 * p, p)))
            arrays.append(Array(c, (x0 + shift, y0 + row_h), triples, n_odd, (2 * p, p)))
        pixel_area = float(p * p)
    elif layout == "diamond":
        # PenTile RGBG: G on a square lattice of pitch p; R and B alternate (checkerboard)
        # on the lattice offset by (p/2, p/2). Half-diagonal a = (p − √2·g)/2 keeps the
        # perpendicular gap between nearest G and R/B diamonds equal to g.
        a = math.floor((p - math.sqrt(2.0) * gap) / 2)
        _positive("half-diagonal", a, "(p - sqrt(2) g)/2", context, db_unit_um, p / math.sqrt(2.0))
        half = p // 2
        for c in "RGB":
            size = explicit.get(c)
            ac = a if size is None else size[0] // 2
            if size is not None and ac > half:
                raise LithoInputError(f"subpixel: {c} diagonal {size[0] * db_unit_um:g} um exceeds the pitch "
                                      f"{p * db_unit_um:g} um in {context}")
            shapes[c], sizes[c] = _diamond(ac), (2 * ac, 2 * ac)
        # R/B centres at (i·p + a, j·p + a) so the array starts at x, y >= 0; G sits at +(p/2, p/2)
        off = max(sizes[c][0] // 2 for c in "RGB")
        ce, co = _split(columns)
        re, ro = _split(rows)
        arrays.append(Array("G", (off + half, off + half), columns, rows, (p, p)))
        for c, parts in {"R": (((0, 0), ce, re), ((p, p), co, ro)),
                         "B": (((p, 0), co, re), ((0, p), ce, ro))}.items():
            for (dx, dy), nc, nr in parts:
                if nc and nr:
                    arrays.append(Array(c, (off + dx, off + dy), nc, nr, (2 * p, 2 * p)))
        pixel_area = float(p * p)
    else:  # mosaic
        # squares at pitch q = p/√3 (snapped); colour = (i + j) mod 3. Colour c in rows
        # j ≡ r (mod 3) starts at column (c − r) mod 3: three AREFs per colour, spacing (3q, 3q).
        q = pitch
        s = q - gap
        # columns x rows pixels cover columns·p x rows·p: as many sites of pitch q = p/√3
        # as fill that extent (√3 is irrational, so the extent is exact to within half a site)
        sites_x = max(1, round(columns * pitch_exact / (q * db_unit_um)))
        sites_y = max(1, round(rows * pitch_exact / (q * db_unit_um)))
        _positive("side", s, "p/sqrt(3) - g", context, db_unit_um, q)
        for k, c in enumerate("RGB"):
            w, h = fit(c, (s, s), (q, q))
            shapes[c], sizes[c] = _rect(w, h), (w, h)
            for r in range(3):
                i0 = (k - r) % 3
                nc = max(0, -(-(sites_x - i0) // 3))
                nr = max(0, -(-(sites_y - r) // 3))
                if nc and nr:
                    arrays.append(Array(c, (i0 * q + (q - w) // 2, r * q + (q - h) // 2), nc, nr, (3 * q, 3 * q)))
        pixel_area = 3.0 * q * q
        open_cells = sites_x * sites_y   # the aperture ratio is over the sites drawn
        notes["site_pitch_um"] = round(q * db_unit_um, _decimals(db_unit_um))
        notes["sites"] = [sites_x, sites_y]

    # aperture ratio: open subpixel area per pixel over the pixel's area
    counts: dict[str, int] = {c: 0 for c in "RGB"}
    for a in arrays:
        counts[a.colour] += a.columns * a.rows
    open_area = sum(counts[c] * _area(shapes[c]) for c in "RGB")
    if layout == "mosaic":
        aperture = open_area / (open_cells * float(q * q))
    else:
        aperture = open_area / (columns * rows * pixel_area)
    too_big = [a for a in arrays if max(a.columns, a.rows) > GDS_MAX_ARRAY]
    if too_big:
        # an AREF's column and row counts are 16-bit signed integers in GDSII
        a = too_big[0]
        raise LithoInputError(f"columns x rows: {columns} x {rows} pixels of a {layout} layout need a "
                              f"{a.columns} x {a.rows} array; a GDSII array holds at most "
                              f"{GDS_MAX_ARRAY} columns and rows")
    pitch_um_exact = math.sqrt(pixel_area) * db_unit_um
    return Plan(layout, db_unit_um, pitch, gap, columns, rows, shapes, sizes, tuple(arrays), aperture,
                pixel_area, pitch_um_exact, notes)


def _area(points) -> float:
    """Shoelace area of a simple polygon, in the units² of ``points``."""
    s = 0
    n = len(points)
    for k in range(n):
        x0, y0 = points[k]
        x1, y1 = points[(k + 1) % n]
        s += x0 * y1 - x1 * y0
    return abs(s) / 2.0


def _explicit_sizes(subpixel, snap) -> dict[str, tuple[int, int]]:
    if subpixel is None:
        return {}
    if isinstance(subpixel, dict):
        items = subpixel.items()
    else:
        items = ((c, subpixel) for c in "RGB")
    out = {}
    for c, size in items:
        if c not in ("R", "G", "B"):
            raise LithoInputError(f"subpixel: unknown colour {c!r}; accepted: R, G, B")
        try:
            w, h = (float(v) for v in size)
        except (TypeError, ValueError):
            raise LithoInputError(f"subpixel: {size!r} is not a (width_um, height_um) pair") from None
        if not (w > 0 and h > 0):
            raise LithoInputError(f"subpixel: {c} size {size!r} must be positive")
        out[c] = (snap(w), snap(h))
    return out
