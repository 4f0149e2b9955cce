"""Parametric pixel-array masks as gdstk libraries.

:func:`pixel_array` lays out an RGB pixel array (stripe, S-stripe, delta,
diamond PenTile, mosaic) with one layer per colour, alignment marks and
verniers, and optional resolution test structures. Every pitch and size is
snapped to the database grid, each colour is a handful of rectangular arrays
(AREFs) of a one-polygon cell, and cell names derive from the parameters, so
the same call always writes the same, small file.

Example
-------
>>> import litho
>>> lib = litho.pixel_array("stripe", ppi=1000, gap_um=2, columns=16, rows=16)
>>> litho.layout.summary(lib)["pitch_um"]
25.4
"""

from __future__ import annotations

import json
import math

import gdstk

from ..errors import LithoInputError
from . import layers, marks as _marks, test_structures as _ts
from .layers import B, COLOURS, G, LAYER_NAMES, MARKS, R
from .pixels import LAYOUTS, Plan, plan

__all__ = ["pixel_array", "describe", "summary", "unit_cell", "LAYOUTS", "R", "G", "B", "MARKS", "LAYER_NAMES", "layers"]

SUMMARY_PROPERTY = "litho_summary"
# Labels carry the summary into GDS files too (GDS has no cell properties).
SUMMARY_TEXTTYPE = 1


def _num(x_um: float, db_unit_um: float) -> str:
    """A length for a cell name: 25.4 -> '25p4'."""
    digits = max(0, math.ceil(-math.log10(db_unit_um) - 1e-9))
    text = f"{x_um:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", "p").replace("-", "m")


def _base_name(pl: Plan, explicit: bool) -> str:
    base = f"{pl.layout.replace('-', '')}_p{_num(pl.pitch * pl.db_unit_um, pl.db_unit_um)}" \
           f"_g{_num(pl.gap * pl.db_unit_um, pl.db_unit_um)}"
    if explicit:
        sizes = {c: f"{_num(pl.sizes[c][0] * pl.db_unit_um, pl.db_unit_um)}x"
                    f"{_num(pl.sizes[c][1] * pl.db_unit_um, pl.db_unit_um)}" for c in COLOURS}
        if len(set(sizes.values())) == 1:
            base += f"_s{sizes['R']}"
        else:
            base += "_" + "_".join(f"{c}{sizes[c]}" for c in COLOURS)
    if pl.db_unit_um != 0.001:
        base += f"_db{_num(pl.db_unit_um * 1000, 1e-6)}nm"
    return base


def describe(layout: str, *, ppi: float | None = None, pitch_um: float | None = None, gap_um: float,
             columns: int, rows: int, subpixel=None, marks: bool = True, test_structures=False,
             db_unit_um: float = 0.001) -> dict:
    """The summary of :func:`pixel_array` with the same arguments, without building it.

    Returns
    -------
    dict
        ``layout``, ``ppi_requested``, ``pitch_um`` (snapped), ``effective_ppi``
        (25400/pitch), ``gap_um``, ``subpixel_um`` (colour -> [width, height]; diamond:
        the two diagonals), ``aperture_ratio`` (open area / pixel area),
        ``columns``, ``rows``, ``array_bounds_um``, ``db_unit_um``, ``cell`` (the top
        cell's name), ``layers`` and, with marks, ``vernier_resolution_um``.
    """
    pl = plan(layout, ppi=ppi, pitch_um=pitch_um, gap_um=gap_um, columns=columns, rows=rows,
              subpixel=subpixel, db_unit_um=db_unit_um)
    return _summary(pl, ppi, subpixel is not None, marks, test_structures)


def _summary(pl: Plan, ppi, explicit: bool, marks: bool, test_structures) -> dict:
    um = pl.um
    pitch_um = round(pl.pitch_um_exact, 9) if pl.layout == "mosaic" else um(pl.pitch)
    top = f"{_base_name(pl, explicit)}_{pl.columns}x{pl.rows}"
    if not marks:
        top += "_nomarks"
    if test_structures:
        top += "_ts"
    xmin, ymin, xmax, ymax = pl.bounds
    out = {
        "layout": pl.layout,
        "ppi_requested": None if ppi is None else float(ppi),
        "pitch_um": pitch_um,
        "effective_ppi": round(25400.0 / pitch_um, 4),
        "gap_um": um(pl.gap),
        "subpixel_um": {c: [um(pl.sizes[c][0]), um(pl.sizes[c][1])] for c in COLOURS},
        "aperture_ratio": round(pl.aperture_ratio, 6),
        "columns": pl.columns,
        "rows": pl.rows,
        "array_bounds_um": [um(xmin), um(ymin), um(xmax), um(ymax)],
        "db_unit_um": pl.db_unit_um,
        "cell": top,
        "layers": {c: list(LAYER_NAMES[c]) for c in COLOURS},
    }
    if marks:
        out["layers"]["marks"] = list(MARKS)
        out["vernier_resolution_um"] = _marks.VERNIER_RESOLUTION_UM
    if test_structures:
        for name in ("lines", "squares", "holes", "corners", "labels"):
            out["layers"][name] = list(LAYER_NAMES[name])
    out.update({k: v for k, v in pl.notes.items()})
    return out


def pixel_array(layout: str, *, ppi: float | None = None, pitch_um: float | None = None, gap_um: float,
                columns: int, rows: int, subpixel=None, marks: bool = True, test_structures=False,
                db_unit_um: float = 0.001) -> gdstk.Library:
    """An RGB pixel-array mask.

    ::

        stripe             s-stripe           delta (odd rows shifted p/3)
        +---+---+---+      +-----+-----+      +---+---+---+---+
        | R | G | B |      |  G  |     |      |R  |G  |B  |R  |      rows at p/2,
        |   |   |   |      +-----+  B  |      +-+---+---+---+---+    subpixels at 2p/3
        |   |   |   |      |  R  |     |        |R  |G  |B  |R  |
        +---+---+---+      +-----+-----+        +---+---+---+---+
        <---- p ---->

    Parameters
    ----------
    layout : {"stripe", "s-stripe", "delta", "diamond", "mosaic"}
        Pixel arrangement.
    ppi : float, optional
        Pixels per inch; the pixel pitch is p = 25400/ppi µm, snapped to the
        database grid. Give exactly one of ``ppi`` and ``pitch_um``.
    pitch_um : float, optional
        Pixel pitch p, µm (mosaic: p is the pitch of an RGB triple, squares sit at p/√3).
    gap_um : float
        Gap g between neighbouring subpixels, µm. Stripe subpixels are
        (p/3 − g) × (p − g); S-stripe R and G (p/2 − g)², B (p/2 − g) × (p − g);
        delta (2p/3 − g) × (p/2 − g); diamond half-diagonal (p − √2·g)/2;
        mosaic squares p/√3 − g.
    columns, rows : int
        Array size in pixels for every layout: the array covers columns·p x
        rows·p (to within the subpixels' margins in their slots). Delta:
        columns/2 R G B triples per row (columns must be even) in 2·rows rows
        of pitch p/2. Diamond: G lattice sites (each with one R or B diamond).
        Mosaic: round(columns·p/q) x round(rows·p/q) squares of pitch q = p/√3
        (each colour takes one in three; the summary's ``sites``), so the
        extent is columns·p x rows·p to within half a square.
    subpixel : (width_um, height_um) or dict colour -> (width_um, height_um), optional
        Explicit subpixel size, centred in its slot (diamond: the diagonals).
    marks : bool
        Add alignment marks (10/0), a box-in-box and x/y verniers per colour.
    test_structures : bool or sequence of float
        Add line/space ladders, isolated squares and holes and L-corners (on
        layers 20–23, labels on 24) of the default sizes, or of these sizes in µm.
    db_unit_um : float
        Database unit, µm (the library's precision).

    Returns
    -------
    gdstk.Library
        Unit 1 µm, precision ``db_unit_um``. One top cell named from the
        parameters; its summary (see :func:`describe`) is the cell property
        ``litho_summary`` (JSON, kept in OASIS) and a text label on the marks
        layer (texttype 1, kept in GDS). :func:`summary` reads it back.

    Raises
    ------
    LithoInputError
        Unknown layout, no room for a subpixel (the message names the
        dimension that goes negative), explicit sizes that do not fit, a
        database unit the verniers' 0.2 µm step cannot be drawn on (with marks).
    """
    pl = plan(layout, ppi=ppi, pitch_um=pitch_um, gap_um=gap_um, columns=columns, rows=rows,
              subpixel=subpixel, db_unit_um=db_unit_um)
    if marks:
        _marks.check_db_unit(pl.db_unit_um)
    sizes_um = _test_sizes(test_structures)
    info = _summary(pl, ppi, subpixel is not None, marks, bool(sizes_um))
    db = pl.db_unit_um
    lib = gdstk.Library(name="LITHO", unit=1e-6, precision=db * 1e-6)
    base = _base_name(pl, subpixel is not None)
    top = gdstk.Cell(info["cell"])
    cells = {}
    for colour in COLOURS:
        cell = gdstk.Cell(f"{base}_{colour}")
        lay = LAYER_NAMES[colour]
        cell.add(gdstk.Polygon([(x * db, y * db) for x, y in pl.shapes[colour]], layer=lay[0], datatype=lay[1]))
        cells[colour] = cell
        lib.add(cell)
    for a in pl.arrays:
        top.add(gdstk.Reference(cells[a.colour], (a.origin[0] * db, a.origin[1] * db), columns=a.columns,
                                rows=a.rows, spacing=(a.spacing[0] * db, a.spacing[1] * db)))
    if marks:
        _add_shapes(top, _marks.marks(pl.bounds, [LAYER_NAMES[c] for c in COLOURS], db), db)
    if sizes_um:
        ts_cell = gdstk.Cell("test_structures_" + "_".join(_num(s, db) for s in sizes_um)
                             + ("" if db == 0.001 else f"_db{_num(db * 1000, 1e-6)}nm"))
        shapes, _, _ = _ts.structures(0, 0, db, sizes_um)
        _add_shapes(ts_cell, shapes, db)
        xmin, ymin, xmax, ymax = pl.bounds
        gap = int(round(_ts.SPACING_UM * 2 / db))
        top.add(gdstk.Reference(ts_cell, (xmin * db, (ymax + gap) * db)))
        lib.add(ts_cell)
    top.set_property(SUMMARY_PROPERTY, json.dumps(info, separators=(",", ":")))
    # GDS strings should stay within 512 characters: the label leaves out the layer
    # table, which summary() recovers from the layout itself
    short = json.dumps({k: v for k, v in info.items() if k != "layers"}, separators=(",", ":"))
    top.add(gdstk.Label(short, (pl.bounds[0] * db, pl.bounds[3] * db), layer=MARKS[0], texttype=SUMMARY_TEXTTYPE))
    lib.add(top)
    return lib


def _test_sizes(test_structures) -> tuple[float, ...]:
    if test_structures is True:
        return tuple(_ts.DEFAULT_SIZES_UM)
    if not test_structures:
        return ()
    try:
        sizes = tuple(float(s) for s in test_structures)
    except (TypeError, ValueError):
        raise LithoInputError(f"test_structures: {test_structures!r} is not True/False or a list of sizes in um") \
            from None
    if any(not s > 0 for s in sizes):
        raise LithoInputError(f"test_structures: sizes {list(sizes)} must all be > 0 um")
    return sizes


def _add_shapes(cell: gdstk.Cell, shapes, db: float) -> None:
    """Add ``(layer, (outer, *holes))`` shapes (dbu) to ``cell``; GDS has no holes, so a
    ring with holes becomes gdstk's keyhole polygons."""
    for lay, rings in shapes:
        outer = [(x * db, y * db) for x, y in rings[0]]
        if len(rings) == 1:
            cell.add(gdstk.Polygon(outer, layer=lay[0], datatype=lay[1]))
        else:
            holes = [[(x * db, y * db) for x, y in ring] for ring in rings[1:]]
            cell.add(*gdstk.boolean([outer], holes, "not", precision=db, layer=lay[0], datatype=lay[1]))


def summary(library: gdstk.Library) -> dict:
    """The summary dict stored in a library made by :func:`pixel_array`.

    Raises
    ------
    LithoInputError
        When no cell of ``library`` carries a litho summary.
    """
    for cell in library.top_level():
        value = cell.get_property(SUMMARY_PROPERTY)
        if value:
            raw = value[0]
            return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        for label in cell.labels:
            if (label.layer, label.texttype) == (MARKS[0], SUMMARY_TEXTTYPE) and label.text.startswith("{"):
                info = json.loads(label.text)
                present = set()
                for c in [cell, *cell.dependencies(True)]:
                    present.update((p.layer, p.datatype) for p in c.polygons)
                named = {name: list(lay) for name, lay in LAYER_NAMES.items() if lay in present}
                keys = list(info)
                at = keys.index("cell") + 1 if "cell" in keys else len(keys)
                return {**{k: info[k] for k in keys[:at]}, "layers": named, **{k: info[k] for k in keys[at:]}}
    raise LithoInputError("library: no litho pixel-array summary found in its top cells")


def unit_cell(layout: str, colour: str, *, ppi: float | None = None, pitch_um: float | None = None,
              gap_um: float, subpixel=None, db_unit_um: float = 0.001):
    """One period of an infinite pixel array: the openings of ``colour`` and the period.

    Use with :func:`litho.raster.rasterize_tiled` (or ``rasterize(..., periodic=True)``
    on a grid of one period) to simulate the middle of a large array from a
    single cell. The arguments are those of :func:`pixel_array`.

    Returns
    -------
    (geometry, (x0_um, y0_um, period_x_um, period_y_um))
        ``geometry`` is a shapely (Multi)Polygon in µm, placed exactly as in the
        array made by :func:`pixel_array` (its pixel (0, 0) at the origin); the
        period is the smallest rectangle after which every colour repeats
        (stripe, S-stripe: p x p; delta: 2p x p; diamond: 2p x 2p; mosaic: 3q x 3q).
    """
    import shapely

    if colour not in COLOURS:
        raise LithoInputError(f"colour: {colour!r} is not one of {', '.join(COLOURS)}")
    # a 6 x 6 plan holds every array of every colour (mosaic needs 3 rows, diamond 2)
    pl = plan(layout, ppi=ppi, pitch_um=pitch_um, gap_um=gap_um, columns=6, rows=6, subpixel=subpixel,
              db_unit_um=db_unit_um)
    px = max(a.spacing[0] for a in pl.arrays)
    py = max(a.spacing[1] for a in pl.arrays)
    db = pl.db_unit_um
    shapes = []
    for a in pl.arrays:
        if a.colour != colour:
            continue
        for i in range(px // a.spacing[0]):
            for j in range(py // a.spacing[1]):
                ox, oy = a.origin[0] + i * a.spacing[0], a.origin[1] + j * a.spacing[1]
                shapes.append(shapely.Polygon([((x + ox) * db, (y + oy) * db) for x, y in pl.shapes[colour]]))
    from .geometry import merge

    return merge(shapes), (0.0, 0.0, px * db, py * db)
