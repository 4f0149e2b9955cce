"""A pre-scan of a GDSII record stream, in Python, before the C++ reader sees it.

gdstk reads GDSII fast but trusts the file: a record length that runs past the
end, a COLROW of 0xffff columns or an odd-sized record crash or abort the
process. :func:`scan_gds` walks the record stream once and checks what the
C++ reader relies on, so that a file it passes can be handed to gdstk in the
litho process, and a file it refuses gives one line naming the file, the
record (byte offset) or cell, the limit and what to do.

It checks

- every record: length >= 4 and even, inside the file; a known record type
  with its GDSII data type and a data size that fits it;
- the grammar: HEADER, library records, UNITS, then structures
  (BGNSTR STRNAME elements ENDSTR) and ENDLIB, each element closed by ENDEL,
  with the records it needs (LAYER, XY, SNAME, COLROW ...);
- counts within GDSII limits: COLROW 1..32767 each, XY point counts that
  match the element (an AREF has 3 points, an SREF 1, a BOUNDARY >= 3),
  finite positive units and magnifications, finite angles;
- names: cell names decode as UTF-8, are not empty, and are defined once;
  every referenced cell exists;
- the reference graph, iteratively (no recursion): cycles, and depth up to
  :data:`MAX_DEPTH`.

It also counts, per cell and layer, the polygons and vertices a cell draws and
whom it places how often, so :meth:`GdsScan.flat_cost` gives the flattened
polygon and vertex counts of any cell (AREF counts multiplied through the
hierarchy, in exact integers) before anything is flattened.

A well-formed file with records the scan does not model (NODE, BOX, ELFLAGS,
PLEX, tape and mask records ...) is not refused: ``vouched`` is False and the
caller reads it in a supervised child process instead.

Example
-------
>>> from litho.gds_scan import scan_gds
>>> scan = scan_gds("masks/stripe_1000ppi.gds")                    # doctest: +SKIP
>>> scan.vouched, scan.flat_cost(scan.top_cells()[0])[(1, 0)]     # doctest: +SKIP
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LithoInputError

__all__ = ["GdsScan", "CellScan", "scan_gds", "MAX_DEPTH"]

# A hierarchy deeper than this is refused: gdstk walks it recursively in C++.
MAX_DEPTH = 1000

# GDSII limits: COLROW is a pair of signed 16-bit counts.
MAX_COLROW = 32767

# data types
_NONE, _BITS, _INT2, _INT4, _REAL4, _REAL8, _STR = 0, 1, 2, 3, 4, 5, 6
_SIZE = {_NONE: 0, _BITS: 2, _INT2: 2, _INT4: 4, _REAL4: 4, _REAL8: 8, _STR: 1}

# record type -> (name, data type, exact element count or None for "any > 0")
_RECORDS = {
    0x00: ("HEADER", _INT2, 1), 0x01: ("BGNLIB", _INT2, 12), 0x02: ("LIBNAME", _STR, None),
    0x03: ("UNITS", _REAL8, 2), 0x04: ("ENDLIB", _NONE, 0), 0x05: ("BGNSTR", _INT2, 12),
    0x06: ("STRNAME", _STR, None), 0x07: ("ENDSTR", _NONE, 0), 0x08: ("BOUNDARY", _NONE, 0),
    0x09: ("PATH", _NONE, 0), 0x0A: ("SREF", _NONE, 0), 0x0B: ("AREF", _NONE, 0),
    0x0C: ("TEXT", _NONE, 0), 0x0D: ("LAYER", _INT2, 1), 0x0E: ("DATATYPE", _INT2, 1),
    0x0F: ("WIDTH", _INT4, 1), 0x10: ("XY", _INT4, None), 0x11: ("ENDEL", _NONE, 0),
    0x12: ("SNAME", _STR, None), 0x13: ("COLROW", _INT2, 2), 0x15: ("NODE", _NONE, 0),
    0x16: ("TEXTTYPE", _INT2, 1), 0x17: ("PRESENTATION", _BITS, 1), 0x19: ("STRING", _STR, None),
    0x1A: ("STRANS", _BITS, 1), 0x1B: ("MAG", _REAL8, 1), 0x1C: ("ANGLE", _REAL8, 1),
    0x1F: ("REFLIBS", _STR, None), 0x20: ("FONTS", _STR, None), 0x21: ("PATHTYPE", _INT2, 1),
    0x22: ("GENERATIONS", _INT2, 1), 0x23: ("ATTRTABLE", _STR, None), 0x26: ("ELFLAGS", _BITS, 1),
    0x2A: ("NODETYPE", _INT2, 1), 0x2B: ("PROPATTR", _INT2, 1), 0x2C: ("PROPVALUE", _STR, None),
    0x2D: ("BOX", _NONE, 0), 0x2E: ("BOXTYPE", _INT2, 1), 0x2F: ("PLEX", _INT4, 1),
    0x30: ("BGNEXTN", _INT4, 1), 0x31: ("ENDEXTN", _INT4, 1), 0x32: ("TAPENUM", _INT2, 1),
    0x33: ("TAPECODE", _INT2, 6), 0x34: ("STRCLASS", _BITS, 1), 0x36: ("FORMAT", _INT2, 1),
    0x37: ("MASK", _STR, None), 0x38: ("ENDMASKS", _NONE, 0), 0x39: ("LIBDIRSIZE", _INT2, 1),
    0x3A: ("SRFNAME", _STR, None), 0x3B: ("LIBSECUR", _INT2, None),
}
(HEADER, BGNLIB, LIBNAME, UNITS, ENDLIB, BGNSTR, STRNAME, ENDSTR, BOUNDARY, PATH, SREF, AREF,
 TEXT, LAYER, DATATYPE, WIDTH, XY, ENDEL, SNAME, COLROW) = range(0x14)
NODE, TEXTTYPE, PRESENTATION, STRING, STRANS, MAG, ANGLE = 0x15, 0x16, 0x17, 0x19, 0x1A, 0x1B, 0x1C
PATHTYPE, PROPATTR, PROPVALUE, BOX, BGNEXTN, ENDEXTN = 0x21, 0x2B, 0x2C, 0x2D, 0x30, 0x31

# record headers of the common BOUNDARY element, for the fast path of the scan
_LAYER_HEAD, _DATATYPE_HEAD, _XY_TYPE, _ENDEL_RECORD = b"\x00\x06\x0d\x02", b"\x00\x06\x0e\x02", b"\x10\x03", \
    b"\x00\x04\x11\x00"

# records allowed between BGNLIB and the first BGNSTR
_LIBRARY_RECORDS = {LIBNAME, UNITS, 0x1F, 0x20, 0x22, 0x23, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B}
# element body records, per element type; the scan models these
_ELEMENT_BODY = {
    BOUNDARY: {LAYER, DATATYPE, XY},
    PATH: {LAYER, DATATYPE, PATHTYPE, WIDTH, BGNEXTN, ENDEXTN, XY},
    SREF: {SNAME, STRANS, MAG, ANGLE, XY},
    AREF: {SNAME, STRANS, MAG, ANGLE, COLROW, XY},
    TEXT: {LAYER, TEXTTYPE, PRESENTATION, PATHTYPE, WIDTH, STRANS, MAG, ANGLE, XY, STRING},
    NODE: {LAYER, 0x2A, XY},
    BOX: {LAYER, 0x2E, XY},
}
# records the C++ reader is known to handle; anything else well-formed means "read in a child"
_FAMILIAR = {HEADER, BGNLIB, LIBNAME, UNITS, ENDLIB, BGNSTR, STRNAME, ENDSTR, BOUNDARY, PATH, SREF, AREF,
             TEXT, LAYER, DATATYPE, WIDTH, XY, ENDEL, SNAME, COLROW, TEXTTYPE, PRESENTATION, STRING,
             STRANS, MAG, ANGLE, PATHTYPE, PROPATTR, PROPVALUE, BGNEXTN, ENDEXTN}
_XY_POINTS = {SREF: (1, 1), AREF: (3, 3), TEXT: (1, 1), BOUNDARY: (3, None), PATH: (1, None),
              NODE: (1, None), BOX: (5, 5)}
_PATHTYPES = (0, 1, 2, 4)
# a round-ended path end becomes this many vertices or so in gdstk (cost estimate only)
_ROUND_END_VERTICES = 64


@dataclass
class CellScan:
    """What one structure draws and places (per layer counts, not geometry)."""

    name: str
    offset: int
    # (layer, datatype) -> [polygons, vertices] drawn by the cell itself
    own: dict = field(default_factory=dict)
    # (child name, placements, record offset) per SREF/AREF
    refs: list = field(default_factory=list)


@dataclass
class GdsScan:
    """The result of :func:`scan_gds`.

    Attributes
    ----------
    path : str
    user_unit_um, db_unit_um : float
        From the UNITS record, µm.
    cells : dict name -> CellScan
    vouched : bool
        True when every record is one the in-process reader is known to
        handle; False sends the file through the supervised child reader.
    unfamiliar : str or None
        The first record that made ``vouched`` False, for messages.
    depth : int
        Longest reference chain (1 for a flat file).
    """

    path: str
    user_unit_um: float
    db_unit_um: float
    cells: dict
    vouched: bool
    unfamiliar: str | None
    depth: int
    order: list  # cell names, every child before its parents

    def top_cells(self) -> list[str]:
        """Cells no other cell places."""
        placed = {c for cell in self.cells.values() for c, _, _ in cell.refs}
        return [n for n in self.cells if n not in placed]

    def flat_cost(self, top: str) -> dict:
        """Flattened ``{(layer, datatype): (polygons, vertices)}`` below cell ``top``.

        Exact integer counts: every placement of every AREF through the
        hierarchy (paths count as one polygon of about twice their points).
        """
        need = {top}
        for name in reversed(self.order):     # parents first: mark what ``top`` uses
            if name in need:
                need.update(c for c, _, _ in self.cells[name].refs)
        flat: dict[str, dict] = {}
        for name in self.order:               # children first
            if name not in need:
                continue
            cell = self.cells[name]
            total = {lay: list(v) for lay, v in cell.own.items()}
            for child, k, _ in cell.refs:
                for lay, (p, v) in flat[child].items():
                    got = total.setdefault(lay, [0, 0])
                    got[0] += k * p
                    got[1] += k * v
            flat[name] = total
        return {lay: (p, v) for lay, (p, v) in flat[top].items()}


def _real8(data: bytes, at: int) -> float:
    """GDSII 8-byte real: sign, excess-64 base-16 exponent, 56-bit mantissa."""
    (word,) = struct.unpack_from(">Q", data, at)
    sign = -1.0 if word >> 63 else 1.0
    exponent = (word >> 56) & 0x7F
    mantissa = word & ((1 << 56) - 1)
    return sign * mantissa / float(1 << 56) * 16.0 ** (exponent - 64)


class _Refuse(Exception):
    def __init__(self, offset: int | None, message: str):
        self.offset, self.message = offset, message


def _name(data, at: int, n: int, what: str) -> str:
    raw = bytes(data[at:at + n]).rstrip(b"\x00")
    if not raw:
        raise _Refuse(at - 4, f"empty {what}")
    if b"\x00" in raw:
        raise _Refuse(at - 4, f"{what} holds a NUL byte")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refuse(at - 4, f"{what} {raw[:40]!r} is not UTF-8 text") from None
    if not text.isprintable():
        raise _Refuse(at - 4, f"{what} {text[:40]!r} holds control characters")
    return text


def scan_gds(path, label=None) -> GdsScan:
    """Check a GDSII file's record stream and count what it would flatten to.

    Parameters
    ----------
    path : str or Path
    label : str, optional
        The name to use in messages (the user's file when ``path`` is a
        converted copy).

    Raises
    ------
    LithoInputError
        One line: ``FILE: record NAME at byte N: what is wrong (the limit)``.
    """
    path = Path(path)
    label = str(label if label is not None else path)
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            if size == 0:
                raise LithoInputError(f"{label}: empty file; a GDSII (.gds) or OASIS (.oas) layout is expected")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                try:
                    return _scan(data, size, label)
                except _Refuse as err:
                    where = f"byte {err.offset}: " if err.offset is not None else ""
                    raise LithoInputError(f"{label}: {where}{err.message}") from None
    except OSError as err:
        raise LithoInputError(f"{label}: cannot read ({err.strerror or err})") from None


def _scan(data, size: int, label: str) -> GdsScan:  # noqa: C901 - one state machine, read top to bottom
    unpack = struct.unpack_from
    cells: dict[str, CellScan] = {}
    units = None
    vouched, unfamiliar = True, None
    state = "start"          # start, lib, struct, element, end
    cell: CellScan | None = None
    element = None           # record type of the open element
    el_offset = 0
    seen: set = set()
    el = {}
    off = 0
    while off < size:
        if off + 4 > size:
            raise _Refuse(off, f"a record header needs 4 bytes, {size - off} left (truncated file)")
        length, rtype, dtype = unpack(">HBB", data, off)
        if state == "end":
            # only zero padding may follow ENDLIB
            if bytes(data[off:size]).strip(b"\x00"):
                raise _Refuse(off, "data after ENDLIB (only zero padding may follow)")
            break
        if length < 4 or length % 2:
            raise _Refuse(off, f"record length {length} (must be even and at least 4)")
        if off + length > size:
            raise _Refuse(off, f"record length {length} runs past the end of the file ({size} bytes; truncated?)")
        spec = _RECORDS.get(rtype)
        if spec is None:
            raise _Refuse(off, f"record type 0x{rtype:02x} is not a GDSII record")
        name, want_dtype, count = spec
        n = length - 4
        if dtype != want_dtype:
            raise _Refuse(off, f"{name} record with data type {dtype} (GDSII has {want_dtype})")
        unit = _SIZE[want_dtype]
        if unit == 0 and n:
            raise _Refuse(off, f"{name} record carries {n} data bytes (it has none)")
        if unit and (n == 0 or n % unit):
            raise _Refuse(off, f"{name} record with {n} data bytes (a multiple of {unit}, at least one)")
        if count is not None and unit and want_dtype != _STR and n // unit != count:
            raise _Refuse(off, f"{name} record with {n // unit} values ({count} expected)")
        body = off + 4
        if rtype not in _FAMILIAR and vouched:
            vouched, unfamiliar = False, f"{name} at byte {off}"

        if state == "start":
            if rtype != HEADER:
                raise _Refuse(off, f"the file starts with {name}, not HEADER")
            state = "header"
        elif state == "header":
            if rtype != BGNLIB:
                raise _Refuse(off, f"{name} where BGNLIB must follow HEADER")
            state = "lib"
        elif state == "lib":
            if rtype == UNITS:
                # database unit in user units, and in metres
                db_user, db_m = _real8(data, body), _real8(data, body + 8)
                user_m = db_m / db_user if db_user else 0.0
                ok = (all(math.isfinite(v) for v in (db_user, db_m, user_m)) and 0 < db_user <= 1
                      and 1e-15 <= db_m <= 1 and user_m <= 1)
                if not ok:
                    raise _Refuse(off, f"UNITS: database unit {db_user:g} user units, {db_m:g} m (need "
                                       f"0 < database unit <= 1 user unit, 1e-15 m <= database unit <= "
                                       f"user unit <= 1 m)")
                units = (user_m * 1e6, db_m * 1e6)   # user unit, database unit in µm
            elif rtype == BGNSTR:
                if units is None:
                    raise _Refuse(off, "BGNSTR before UNITS (the library has no units)")
                state, cell = "struct_name", None
            elif rtype == ENDLIB:
                if units is None:
                    raise _Refuse(off, "ENDLIB before UNITS (the library has no units)")
                state = "end"
            elif rtype not in _LIBRARY_RECORDS:
                raise _Refuse(off, f"{name} record between structures (expected BGNSTR or ENDLIB)")
        elif state == "struct_name":
            if rtype != STRNAME:
                raise _Refuse(off, f"{name} where STRNAME must follow BGNSTR")
            cname = _name(data, body, n, "cell name")
            if cname in cells:
                raise _Refuse(off, f"cell {cname!r} is defined twice (first at byte {cells[cname].offset})")
            cell = CellScan(cname, off)
            cells[cname] = cell
            state = "struct"
        elif state == "struct":
            if rtype == BOUNDARY and length == 4:
                # the common element, BOUNDARY LAYER DATATYPE XY ENDEL, checked in one step
                xy = off + 16
                if (data[off + 4:off + 8] == _LAYER_HEAD and data[off + 10:off + 14] == _DATATYPE_HEAD
                        and xy + 4 <= size and data[xy + 2:xy + 4] == _XY_TYPE):
                    xy_len = (data[xy] << 8) | data[xy + 1]
                    end = xy + xy_len
                    lay, dt = unpack(">hh", data, off + 8)[0], unpack(">h", data, off + 14)[0]
                    if (xy_len >= 28 and (xy_len - 4) % 8 == 0 and end + 4 <= size
                            and data[end:end + 4] == _ENDEL_RECORD and lay >= 0 and dt >= 0):
                        got = cell.own.get((lay, dt))
                        if got is None:
                            got = cell.own[(lay, dt)] = [0, 0]
                        got[0] += 1
                        got[1] += (xy_len - 4) // 8
                        off = end + 4
                        continue
            if rtype in _ELEMENT_BODY:
                element, el_offset, seen, el = rtype, off, set(), {}
                state = "element"
            elif rtype == ENDSTR:
                state, cell = "lib", None
            elif rtype == 0x34:                          # STRCLASS
                pass
            else:
                raise _Refuse(off, f"{name} record in cell {cell.name!r} outside an element "
                                   f"(expected an element or ENDSTR)")
        elif state == "element":
            ename = _RECORDS[element][0]
            if rtype == ENDEL:
                _close_element(element, el, cell, el_offset, ename)
                state = "struct"
            elif rtype == PROPATTR or rtype == PROPVALUE or rtype in (0x26, 0x2F):   # properties, ELFLAGS, PLEX
                pass
            elif rtype in _ELEMENT_BODY[element]:
                if rtype in seen:
                    raise _Refuse(off, f"second {name} record in one {ename} of cell {cell.name!r}")
                seen.add(rtype)
                _element_record(rtype, name, data, body, n, el, off, ename)
            else:
                raise _Refuse(off, f"{name} record inside a {ename} of cell {cell.name!r} "
                                   f"(expected {', '.join(sorted(_RECORDS[r][0] for r in _ELEMENT_BODY[element]))}"
                                   f" or ENDEL)")
        off += length
    if state != "end":
        where = {"start": "no HEADER", "header": "no BGNLIB", "lib": "no ENDLIB",
                 "struct_name": "no STRNAME", "struct": "no ENDSTR", "element": "no ENDEL"}[state]
        raise _Refuse(None, f"the file ends inside a record stream ({where}; truncated?)")
    order, depth = _hierarchy(cells)
    return GdsScan(path=label, user_unit_um=units[0], db_unit_um=units[1], cells=cells, vouched=vouched,
                   unfamiliar=unfamiliar, depth=depth, order=order)


def _element_record(rtype, name, data, body, n, el, off, ename) -> None:
    """Check one record inside an element and keep what the element needs."""
    unpack = struct.unpack_from
    if rtype in (LAYER, DATATYPE, TEXTTYPE, 0x2A, 0x2E):
        (v,) = unpack(">h", data, body)
        if v < 0:
            raise _Refuse(off, f"{name} {v} (must be 0..32767)")
        el[rtype] = v
    elif rtype == XY:
        el[XY] = (n // 8, off)
        if n % 8:
            raise _Refuse(off, f"XY record of {n} bytes is not a whole number of points (8 bytes each)")
    elif rtype == SNAME:
        el[SNAME] = _name(data, body, n, "referenced cell name")
    elif rtype == COLROW:
        cols, rows = unpack(">hh", data, body)
        if not (1 <= cols <= MAX_COLROW and 1 <= rows <= MAX_COLROW):
            raise _Refuse(off, f"COLROW {cols} x {rows} (columns and rows must each be 1..{MAX_COLROW})")
        el[COLROW] = (cols, rows)
    elif rtype == MAG:
        mag = _real8(data, body)
        if not (math.isfinite(mag) and 0 < mag <= 1e6):
            raise _Refuse(off, f"MAG {mag:g} (must be > 0 and at most 1e6)")
    elif rtype == ANGLE:
        angle = _real8(data, body)
        if not (math.isfinite(angle) and abs(angle) <= 1e6):
            raise _Refuse(off, f"ANGLE {angle:g} (must be finite degrees)")
    elif rtype == PATHTYPE:
        (v,) = unpack(">h", data, body)
        if v not in _PATHTYPES:
            raise _Refuse(off, f"PATHTYPE {v} (GDSII has {', '.join(map(str, _PATHTYPES))})")
        el[PATHTYPE] = v
    elif rtype == WIDTH:
        (w,) = unpack(">i", data, body)
        if w == -(1 << 31):
            raise _Refuse(off, f"WIDTH {w} out of range")


def _close_element(element, el, cell: CellScan, off: int, ename: str) -> None:
    """At ENDEL: the element has what it needs; count its polygons and placements."""
    need = {BOUNDARY: (LAYER, DATATYPE, XY), PATH: (LAYER, DATATYPE, XY), SREF: (SNAME, XY),
            AREF: (SNAME, COLROW, XY), TEXT: (LAYER, XY), NODE: (LAYER, XY), BOX: (LAYER, XY)}[element]
    for r in need:
        if r not in el:
            raise _Refuse(off, f"{ename} in cell {cell.name!r} has no {_RECORDS[r][0]} record")
    points, xy_off = el[XY]
    lo, hi = _XY_POINTS[element]
    if points < lo or (hi is not None and points > hi):
        want = f"{lo}" if lo == hi else f"at least {lo}"
        raise _Refuse(xy_off, f"{ename} in cell {cell.name!r} with {points} XY points ({want} expected)")
    if element in (BOUNDARY, PATH):
        lay = (el[LAYER], el[DATATYPE])
        got = cell.own.setdefault(lay, [0, 0])
        got[0] += 1
        if element == BOUNDARY:
            got[1] += points
        else:
            got[1] += 2 * points + (2 * _ROUND_END_VERTICES if el.get(PATHTYPE) == 1 else 2)
    elif element in (SREF, AREF):
        cols, rows = el.get(COLROW, (1, 1))
        cell.refs.append((el[SNAME], cols * rows, off))


def _hierarchy(cells: dict) -> tuple[list[str], int]:
    """Children-first order of the cells and the hierarchy depth, without recursion.

    Raises on a reference to an undefined cell, a cycle, or depth > MAX_DEPTH.
    """
    missing = sorted({c for cell in cells.values() for c, _, _ in cell.refs if c not in cells})
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise _Refuse(None, f"references to missing cells: {shown}")
    # Kahn's algorithm on "child before parent"
    parents: dict[str, list[str]] = {n: [] for n in cells}
    pending = {}
    for name, cell in cells.items():
        kids = {c for c, _, _ in cell.refs}
        pending[name] = len(kids)
        for c in kids:
            parents[c].append(name)
    ready = [n for n, k in pending.items() if k == 0]
    depth = {n: 1 for n in ready}
    order = []
    while ready:
        name = ready.pop()
        order.append(name)
        for p in parents[name]:
            depth[p] = max(depth.get(p, 1), depth[name] + 1)
            pending[p] -= 1
            if pending[p] == 0:
                ready.append(p)
    if len(order) < len(cells):
        left = {n for n in cells if pending[n] > 0}
        # follow children inside the leftover set until a name repeats: that is a cycle
        trail, at = [], min(left)
        while at not in trail:
            trail.append(at)
            at = next(c for c, _, _ in cells[at].refs if c in left)
        cycle = trail[trail.index(at):] + [at]
        shown = " -> ".join(cycle[:8]) + (" -> ..." if len(cycle) > 8 else "")
        raise _Refuse(None, f"reference cycle {shown}; a cell cannot contain itself")
    deepest = max(depth.values(), default=0)
    if deepest > MAX_DEPTH:
        top = max(depth, key=depth.get)
        raise _Refuse(None, f"cell {top!r} nests {deepest} levels deep (limit {MAX_DEPTH}); "
                            f"flatten the hierarchy in a layout editor")
    return order, deepest
