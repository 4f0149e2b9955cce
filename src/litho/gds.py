"""GDSII / OASIS reading and writing (gdstk); the only module that reads layout files.

:func:`read_mask` turns one layer of a layout into merged shapely geometry in
µm: it resolves the whole hierarchy (rotation, magnification, reflection,
rectangular and skewed arrays, repetitions), turns paths into polygons and
merges everything with shapely. With a ``window`` it walks the hierarchy
itself and instantiates only the array elements whose bounding box meets the
window, so a small window of a huge AREF costs what the window holds, not
what the file holds.

Reading cannot take the process down: a GDSII file is first checked record by
record in Python (:mod:`litho.gds_scan`) and only then handed to gdstk here;
OASIS, and GDSII with records the check does not model, are read by gdstk in a
child process under a memory limit, which rewrites them as GDSII for the same
check. A layer that would flatten to more than :data:`MAX_FLAT_POLYGONS`
polygons (within the window, if one is given) is refused before flattening.
No walk over the hierarchy recurses.

Example
-------
>>> import litho
>>> mask = litho.read_mask("masks/stripe_1000ppi.gds", layer="R")     # doctest: +SKIP
>>> mask.geometry.area, len(mask.polygons)                           # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import gdstk
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .errors import LithoInputError
from .gds_scan import GdsScan, scan_gds
from .layout.geometry import merge
from .layout.layers import LAYER_NAMES, layer_name
from .outputs import atomic_file

__all__ = ["Mask", "read_mask", "layers", "write_gds", "write_polygons", "mask_info", "read_library",
           "parse_layer"]

GDS_SUFFIXES = (".gds", ".gdsii", ".gds2")
OAS_SUFFIXES = (".oas", ".oasis")
_GDS_ENDLIB = b"\x00\x04\x04\x00"
_OAS_MAGIC = b"%SEMI-OASIS\r\n"

# A child cell with at most this many flattened polygons on the layer is
# instantiated for all its placements at once with numpy broadcasting.
_BATCH_LIMIT = 4096

_GDS_TIMESTAMP = datetime.datetime(2000, 1, 1)


@dataclass(frozen=True)
class Mask:
    """One layer of a layout, flattened and merged.

    Attributes
    ----------
    path : str
        The file it was read from.
    layer : (int, int)
        ``(layer, datatype)``.
    cell : str
        The top cell that was flattened.
    geometry : shapely Polygon or MultiPolygon
        The merged openings, µm (clipped to ``window`` if one was given).
    polygons : tuple of shapely Polygon
        The individual merged shapes, sorted by (y, x) of their centroids.
    bounds_um : (float, float, float, float)
        ``(xmin, ymin, xmax, ymax)`` of ``geometry``, µm.
    window_um : (float, float, float, float) or None
        The window the mask was read in.
    """

    path: str
    layer: tuple[int, int]
    cell: str
    geometry: BaseGeometry
    polygons: tuple
    bounds_um: tuple[float, float, float, float]
    window_um: tuple[float, float, float, float] | None = None

    @property
    def area_um2(self) -> float:
        """Open area, µm²."""
        return float(self.geometry.area)


# --------------------------------------------------------------------------- files


def parse_layer(layer, source: str | None = None) -> tuple[int, int]:
    """``(l, d)``, ``"R"``/``"G"``/``"B"``/``"marks"``, ``"1/0"`` or an int -> ``(l, d)``."""
    prefix = f"{source}: layer" if source else "layer"
    if isinstance(layer, str):
        if layer in LAYER_NAMES:
            return LAYER_NAMES[layer]
        text = layer.replace(":", "/").strip()
        parts = text.split("/")
        if len(parts) in (1, 2) and all(p.strip().isdigit() for p in parts):
            return (int(parts[0]), int(parts[1]) if len(parts) == 2 else 0)
        raise LithoInputError(f"{prefix}: {layer!r} is not a layer; accepted: "
                              f"{', '.join(LAYER_NAMES)}, 'layer/datatype' or a (layer, datatype) pair")
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        return (int(layer), 0)
    try:
        l, d = layer
        if int(l) == l and int(d) == d and l >= 0 and d >= 0:
            return (int(l), int(d))
    except (TypeError, ValueError):
        pass
    raise LithoInputError(f"{prefix}: {layer!r} is not a layer; accepted: "
                          f"{', '.join(LAYER_NAMES)}, 'layer/datatype' or a (layer, datatype) pair")


def _format(path: Path) -> str:
    """'gds' or 'oas', from the file's first bytes; checks that the file is complete."""
    try:
        if not path.exists():
            raise LithoInputError(f"{path}: no such file")
        if not path.is_file():
            raise LithoInputError(f"{path}: is not a file; a GDSII (.gds) or OASIS (.oas) layout is expected")
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(16)
            if head.startswith(_OAS_MAGIC):
                # The END record is the file's last 256 bytes and starts with record id 2.
                if size < 256 + len(_OAS_MAGIC):
                    raise LithoInputError(f"{path}: truncated OASIS file (no END record)")
                fh.seek(size - 256)
                if fh.read(1) != b"\x02":
                    raise LithoInputError(f"{path}: truncated OASIS file (no END record)")
                return "oas"
            # GDSII starts with a HEADER record: length 6, type 0x00, data type 0x02.
            if len(head) >= 4 and head[:4] == b"\x00\x06\x00\x02":
                # ... and ends with ENDLIB, possibly followed by zero padding.
                fh.seek(max(0, size - 4096))
                tail = fh.read().rstrip(b"\x00")
                if not tail.endswith(_GDS_ENDLIB[:3]):
                    raise LithoInputError(f"{path}: truncated GDSII file (no ENDLIB record)")
                return "gds"
    except OSError as err:
        # /proc/self/mem, a file that vanished, no permission: one line, not a traceback
        raise LithoInputError(f"{path}: cannot read ({err.strerror or err})") from None
    raise LithoInputError(f"{path}: not a GDSII or OASIS file; accepted: GDSII (.gds) or OASIS (.oas)")


@contextlib.contextmanager
def _captured_stderr(messages: list):
    """Collect what gdstk's C code prints on file descriptor 2 (and its Python
    warnings) so a user sees litho's one-line message instead."""
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):
        pass
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode(errors="replace")
            messages.extend(line.replace("[GDSTK]", "").strip() for line in text.splitlines() if line.strip())
            messages.extend(str(w.message) for w in caught)


# ----------------------------------------------------------------- supervised reader

# The child reader's address-space limit; a corrupt OASIS can ask gdstk for any amount.
_CHILD_MEMORY_BYTES = 4 << 30
# Exit codes of the child reader (a signal shows as a negative return code).
_CHILD_OK, _CHILD_NO_MEMORY, _CHILD_ERROR = 0, 3, 4


def _child_timeout_s(size: int) -> float:
    """Wall-time budget of the child reader: ample for real files (gdstk reads tens of
    MB/s), short for a corrupt OASIS file that sends it into an endless loop."""
    return 10.0 + size / 2e6


# The child reader: read ``src`` (``fmt``) with gdstk under an address-space limit and write
# it as GDSII to ``dst``. It imports only gdstk, so it starts fast; an absurd allocation is a
# MemoryError there and a crash of the C++ reader ends only that process.
_CHILD_CODE = f"""
import resource, sys
src, fmt, dst, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    import datetime, gdstk
    lib = gdstk.read_gds(src, unit=1e-6) if fmt == "gds" else gdstk.read_oas(src, unit=1e-6)
    # GDSII holds at most 8191 points per XY record; keep polygons whole below that
    lib.write_gds(dst, max_points=8190, timestamp=datetime.datetime(2000, 1, 1))
except MemoryError:
    sys.exit({_CHILD_NO_MEMORY})
except Exception as err:
    sys.stdout.write(" ".join(str(err).split()) or type(err).__name__)
    sys.exit({_CHILD_ERROR})
"""


def _child_limit() -> int:
    """The child's address-space limit: ours if lower than the default."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return _CHILD_MEMORY_BYTES if soft in (resource.RLIM_INFINITY, -1) else min(_CHILD_MEMORY_BYTES, soft)


def _convert_in_child(path: Path, fmt: str, dst: Path) -> None:
    """Have a child process read ``path`` with gdstk and write it as GDSII to ``dst``.

    Raises LithoInputError when the child crashes, runs out of its memory
    limit, hangs, or gdstk refuses the file.
    """
    import signal
    import subprocess

    kind = "GDSII" if fmt == "gds" else "OASIS"
    limit = _child_limit()
    # one BLAS thread: thread stacks would otherwise eat the address-space limit
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    timeout_s = _child_timeout_s(path.stat().st_size)
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD_CODE, str(path), fmt, str(dst), str(limit)],
                              env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise LithoInputError(f"{path}: the layout reader did not finish within {timeout_s:.0f} s "
                              f"(corrupt or unsupported {kind} file)") from None
    detail = proc.stdout.decode(errors="replace").strip()
    notes = [line.replace("[GDSTK]", "").strip() for line in proc.stderr.decode(errors="replace").splitlines()]
    notes = [n for n in notes if n and "Missing referenced cell" not in n]
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        raise LithoInputError(f"{path}: the layout reader failed on this file (corrupt or unsupported): "
                              f"{kind} reader killed by {name}")
    if proc.returncode == _CHILD_NO_MEMORY:
        raise LithoInputError(f"{path}: the layout reader failed on this file (corrupt or unsupported): "
                              f"it asked for more than {limit / 2**30:.0f} GB")
    if proc.returncode != _CHILD_OK or not dst.is_file():
        why = "; ".join([detail, *notes][:3]) or f"exit status {proc.returncode}"
        raise LithoInputError(f"{path}: cannot read {kind} file ({why})")


def _load(path: Path) -> tuple[gdstk.Library, str, GdsScan]:
    """Read a layout safely: the pre-scan vouches for a GDSII file, which gdstk
    then reads here; OASIS, and GDSII the scan cannot vouch for, go through a
    supervised child that rewrites it as GDSII, which is scanned and read."""
    fmt = _format(path)
    first = None
    if fmt == "gds":
        first = scan_gds(path)
        if first.vouched:
            return _read_gds_here(path, path, fmt), fmt, first
    with tempfile.TemporaryDirectory(prefix="litho-layout-") as tmp:
        copy = Path(tmp) / "layout.gds"
        _convert_in_child(path, fmt, copy)
        scan = scan_gds(copy, label=path)
        if not scan.vouched:   # gdstk writes only what it reads; anything else is not a layout we know
            raise LithoInputError(f"{path}: the layout reader failed on this file (corrupt or unsupported): "
                                  f"{scan.unfamiliar}")
        if first is not None:  # the copy is in µm; report the file's own user unit
            scan = replace(scan, user_unit_um=first.user_unit_um)
        return _read_gds_here(copy, path, fmt), fmt, scan


def _read_gds_here(path: Path, label: Path, fmt: str) -> gdstk.Library:
    messages: list[str] = []
    kind = "GDSII" if fmt == "gds" else "OASIS"
    try:
        with _captured_stderr(messages):
            return gdstk.read_gds(str(path), unit=1e-6)
    except MemoryError:
        raise LithoInputError(f"{label}: the layout reader ran out of memory on this file "
                              f"(corrupt, or larger than this machine can hold)") from None
    except (OSError, RuntimeError, ValueError) as err:
        detail = "; ".join(messages) or str(err)
        raise LithoInputError(f"{label}: cannot read {kind} file ({detail})") from None


def read_library(path) -> tuple[gdstk.Library, str]:
    """Read a GDSII or OASIS file into a gdstk Library in µm.

    Returns ``(library, format)`` with format ``"gds"`` or ``"oas"``.
    Coordinates are converted from the file's user unit to µm, so 1.0 in the
    library is 1 µm whatever the file's units were. The file is checked first
    (:mod:`litho.gds_scan`); OASIS files are read in a child process, so a
    corrupt file is one line of error, never a crash.
    """
    lib, fmt, _ = _load(Path(path))
    return lib, fmt


def _is_metadata(name: str) -> bool:
    # KLayout's $$$CONTEXT_INFO$$$ and similar tool cells are not layout
    return name.startswith("$$$")


def _top_cell(lib: gdstk.Library, path: Path, cell: str | None) -> gdstk.Cell:
    cells = {c.name: c for c in lib.cells}
    if cell is not None:
        if cell not in cells:
            raise LithoInputError(f"{path}: cell {cell!r} not found; cells: {', '.join(sorted(cells)) or 'none'}")
        return cells[cell]
    tops = [c for c in lib.top_level() if isinstance(c, gdstk.Cell) and not _is_metadata(c.name)]
    if not tops:
        raise LithoInputError(f"{path}: no layout cell found (the file holds no top-level cell)")
    if len(tops) > 1:
        raise LithoInputError(f"{path}: several top cells ({', '.join(sorted(c.name for c in tops))}); "
                              f"choose one (cell= in the API, --cell or [mask] cell in a recipe)")
    return tops[0]


def _post_order(top: gdstk.Cell, known=()) -> list[gdstk.Cell]:
    """``top`` and every cell below it, each child before its parents, without recursion.

    Cells named in ``known`` (already processed by the caller) are left out with
    everything below them, so a caller that memoises stays linear in the cells.
    """
    done: dict[str, gdstk.Cell] = {}
    if top.name in known:
        return []
    stack = [(top, False)]
    entered = set()
    while stack:
        cell, expanded = stack.pop()
        if cell.name in done:
            continue
        if expanded:
            done[cell.name] = cell
            continue
        if cell.name in entered:       # a cycle; the pre-scan refuses these, so only guard here
            continue
        entered.add(cell.name)
        stack.append((cell, True))
        for ref in cell.references:
            if isinstance(ref.cell, gdstk.Cell) and ref.cell.name not in done and ref.cell.name not in known:
                stack.append((ref.cell, False))
    return list(done.values())


# --------------------------------------------------------------------------- hierarchy walk


def _ref_matrix(ref: gdstk.Reference) -> np.ndarray:
    """2x2 linear part of a reference: reflect about x (first), magnify, rotate."""
    c, s = math.cos(ref.rotation), math.sin(ref.rotation)
    m = ref.magnification
    f = -1.0 if ref.x_reflection else 1.0
    return np.array([[c * m, -s * m * f], [s * m, c * m * f]])


def _bbox_of(points: np.ndarray) -> np.ndarray:
    return np.array([points[..., 0].min(), points[..., 1].min(), points[..., 0].max(), points[..., 1].max()])


class _Layer:
    """Flattens one (layer, datatype) of a hierarchy, memoising per cell.

    Every walk over the hierarchy is iterative (an explicit stack, or cells in
    children-first order), so a deep hierarchy cannot exhaust Python's stack.
    """

    def __init__(self, layer: tuple[int, int]):
        self.layer = layer
        self._own: dict[str, list[np.ndarray]] = {}
        self._bbox: dict[str, np.ndarray | None] = {}
        self._cost: dict[str, tuple[int, int]] = {}
        self._flat: dict[str, list[np.ndarray]] = {}

    def own(self, cell: gdstk.Cell) -> list[np.ndarray]:
        """The cell's own polygons on the layer (repetitions applied, paths
        as polygons), batched as (n, k, 2) arrays of equal vertex count k."""
        got = self._own.get(cell.name)
        if got is None:
            polys = cell.get_polygons(apply_repetitions=True, include_paths=True, depth=0,
                                      layer=self.layer[0], datatype=self.layer[1])
            groups: dict[int, list[np.ndarray]] = {}
            for p in polys:
                pts = p.points
                if len(pts) >= 3:
                    groups.setdefault(len(pts), []).append(pts)
            got = [np.stack(v) for v in groups.values()]
            self._own[cell.name] = got
        return got

    def _placements(self, ref: gdstk.Reference) -> np.ndarray:
        rep = ref.repetition
        if rep is None or rep.size == 0:
            return np.zeros((1, 2))
        return np.asarray(rep.get_offsets(), dtype=float).reshape(-1, 2)

    def _children(self, cell: gdstk.Cell):
        for ref in cell.references:
            if isinstance(ref.cell, gdstk.Cell):
                yield ref

    def cost(self, cell: gdstk.Cell) -> tuple[int, int]:
        """Flattened ``(polygons, vertices)`` of the layer below ``cell`` (exact integers)."""
        if cell.name not in self._cost:
            for c in _post_order(cell, self._cost):
                n = sum(len(b) for b in self.own(c))
                v = sum(b.shape[0] * b.shape[1] for b in self.own(c))
                for ref in self._children(c):
                    kn, kv = self._cost[ref.cell.name]
                    if kn:
                        rep = ref.repetition
                        k = rep.size if rep is not None and rep.size else 1
                        n, v = n + k * kn, v + k * kv
                self._cost[c.name] = (n, v)
        return self._cost[cell.name]

    def count(self, cell: gdstk.Cell) -> int:
        """Flattened polygon count of the layer below ``cell``."""
        return self.cost(cell)[0]

    def bbox(self, cell: gdstk.Cell) -> np.ndarray | None:
        """Bounding box (xmin, ymin, xmax, ymax) of the layer below ``cell``, or None."""
        if cell.name not in self._bbox:
            for c in _post_order(cell, self._bbox):
                self._bbox[c.name] = self._own_bbox(c)
        return self._bbox[cell.name]

    def _own_bbox(self, cell: gdstk.Cell) -> np.ndarray | None:
        """Bounding box of ``cell`` given those of its children (already known)."""
        boxes = [_bbox_of(b) for b in self.own(cell)]
        for ref in self._children(cell):
            child = self._bbox[ref.cell.name]
            if child is None:
                continue
            placed = _corners(child) @ _ref_matrix(ref).T + np.asarray(ref.origin)
            box = _bbox_of(placed)
            offsets = self._lattice_extremes(ref)
            boxes.append(np.array([box[0] + offsets[0], box[1] + offsets[1], box[2] + offsets[2],
                                   box[3] + offsets[3]]))
        if not boxes:
            return None
        b = np.array(boxes)
        return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])

    def _lattice_extremes(self, ref: gdstk.Reference) -> tuple[float, float, float, float]:
        """(min dx, min dy, max dx, max dy) over the reference's placement offsets."""
        rep = ref.repetition
        if rep is None or rep.size == 0:
            return (0.0, 0.0, 0.0, 0.0)
        lattice = _lattice(rep)
        if lattice is not None:
            v1, v2, n1, n2 = lattice
            pts = np.array([[0, 0], v1 * (n1 - 1), v2 * (n2 - 1), v1 * (n1 - 1) + v2 * (n2 - 1)])
        else:
            pts = self._placements(ref)
        return (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())

    def flat(self, cell: gdstk.Cell) -> list[np.ndarray]:
        """All polygons of the layer below ``cell`` in its own frame (small cells only)."""
        if cell.name not in self._flat:
            # children first, so each walk below meets only children already flattened
            for c in _post_order(cell, self._flat):
                out: list[np.ndarray] = []
                self.walk(c, np.eye(2), np.zeros(2), None, out)
                self._flat[c.name] = _regroup(out)
        return self._flat[cell.name]

    def _placed_children(self, cell: gdstk.Cell, m: np.ndarray, t: np.ndarray):
        """``(ref, child, child bbox, m_ref, t_ref)`` for each reference of ``cell`` whose child holds
        the layer: the reference's own placement composed with ``p -> m·p + t``."""
        for ref in self._children(cell):
            child = ref.cell
            cbox = self.bbox(child)
            if cbox is None:
                continue
            yield ref, child, cbox, m @ _ref_matrix(ref), m @ np.asarray(ref.origin, dtype=float) + t

    def walk(self, cell: gdstk.Cell, m: np.ndarray, t: np.ndarray, window, out: list) -> None:
        """Append the layer's polygons below ``cell`` under ``p -> m·p + t`` to ``out``,
        keeping only those whose bounding box meets ``window`` (world µm) if given."""
        stack = [(cell, m, t)]
        while stack:
            cell, m, t = stack.pop()
            for batch in self.own(cell):
                world = batch @ m.T + t
                if window is not None:
                    world = world[_meets(world, window)]
                if len(world):
                    out.append(world)
            for ref, child, cbox, m_ref, t_ref in self._placed_children(cell, m, t):
                shifts = self._shifts(ref, m, cbox, m_ref, t_ref, window)
                if not len(shifts):
                    continue
                if self.count(child) <= _BATCH_LIMIT:
                    # instantiate every placement at once: (placements, n, k, 2)
                    for batch in self.flat(child):
                        base = batch @ m_ref.T + t_ref
                        world = (base[None, :, :, :] + shifts[:, None, None, :]).reshape(-1, *base.shape[1:])
                        if window is not None:
                            world = world[_meets(world, window)]
                        if len(world):
                            out.append(world)
                else:
                    stack.extend((child, m_ref, t_ref + s) for s in shifts[::-1])

    def cost_in(self, cell: gdstk.Cell, window) -> tuple[int, int]:
        """An upper bound on the ``(polygons, vertices)`` that :meth:`walk` would
        produce inside ``window``, without producing them.

        Placements of an array are counted from the lattice range that meets
        the window; a few placements are visited to count what each holds
        inside the window, more than that (or beyond a fixed budget of
        visits) count the child's full flattened cost.
        """
        if window is None:
            return self.cost(cell)
        n = v = 0
        visits = 0
        stack = [(cell, np.eye(2), np.zeros(2))]
        while stack:
            cell, m, t = stack.pop()
            for batch in self.own(cell):
                world = batch @ m.T + t
                k = int(_meets(world, window).sum())
                n, v = n + k, v + k * batch.shape[1]
            for ref, child, cbox, m_ref, t_ref in self._placed_children(cell, m, t):
                kn, kv = self.cost(child)
                placed = _bbox_of(_corners(cbox) @ m_ref.T + t_ref)
                lattice = self._window_lattice(ref, m, placed, window)
                if lattice is not None:
                    i, j, a, b = lattice
                    k = len(i) * len(j)
                    if k <= _VISIT_LIMIT and visits + k <= _VISIT_BUDGET:
                        visits += k
                        ii, jj = np.meshgrid(i, j, indexing="ij")
                        shifts = ii.reshape(-1, 1) * a + jj.reshape(-1, 1) * b
                        stack.extend((child, m_ref, t_ref + s) for s in _keep(shifts, placed, window))
                    else:
                        n, v = n + k * kn, v + k * kv
                    continue
                shifts = _keep(self._placements(ref) @ m.T, placed, window)
                if len(shifts) <= _VISIT_LIMIT and visits + len(shifts) <= _VISIT_BUDGET:
                    visits += len(shifts)
                    stack.extend((child, m_ref, t_ref + s) for s in shifts)
                else:
                    n, v = n + len(shifts) * kn, v + len(shifts) * kv
        return n, v

    def _window_lattice(self, ref, m, box, window):
        """``(i, j, a, b)``: index ranges of an array's placements whose shifted ``box``
        may meet ``window``, and the world-frame lattice vectors; None if not a lattice."""
        rep = ref.repetition
        lattice = _lattice(rep) if rep is not None and rep.size else None
        if lattice is None:
            return None
        # Placements form a lattice i·a + j·b (world frame). Keep those (i, j) whose shifted
        # bbox meets the window, i.e. whose shift lies in the box S below; solving for the
        # range of (i, j) avoids enumerating a huge array.
        v1, v2, n1, n2 = lattice
        a, b = m @ v1, m @ v2
        sx0, sx1 = window[0] - box[2], window[2] - box[0]
        sy0, sy1 = window[1] - box[3], window[3] - box[1]
        basis = np.column_stack([a, b])
        if n1 > 1 and n2 > 1 and abs(np.linalg.det(basis)) > 1e-12 * (np.abs(basis).max() ** 2):
            inv = np.linalg.inv(basis)
            ij = np.array([[sx0, sy0], [sx1, sy0], [sx1, sy1], [sx0, sy1]]) @ inv.T
            i0, j0 = np.floor(ij.min(axis=0)).astype(np.int64) - 1
            i1, j1 = np.ceil(ij.max(axis=0)).astype(np.int64) + 1
            return (np.arange(max(0, i0), min(n1 - 1, i1) + 1), np.arange(max(0, j0), min(n2 - 1, j1) + 1), a, b)
        return np.arange(n1), np.arange(n2), a, b

    def _shifts(self, ref, m, cbox, m_ref, t_ref, window) -> np.ndarray:
        """World-frame shifts of the reference's placements whose child bbox meets the window."""
        box = _bbox_of(_corners(cbox) @ m_ref.T + t_ref)
        lattice = None if window is None else self._window_lattice(ref, m, box, window)
        if lattice is None:
            shifts = self._placements(ref) @ m.T
        else:
            i, j, a, b = lattice
            if not len(i) or not len(j):
                return np.zeros((0, 2))
            ii, jj = np.meshgrid(i, j, indexing="ij")
            shifts = ii.reshape(-1, 1) * a + jj.reshape(-1, 1) * b
        if window is None:
            return shifts
        return _keep(shifts, box, window)


# A windowed cost estimate visits at most this many placements of one array, and this many in all.
_VISIT_LIMIT = 64
_VISIT_BUDGET = 20_000


def _corners(box: np.ndarray) -> np.ndarray:
    return np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])


def _keep(shifts: np.ndarray, box, window) -> np.ndarray:
    """The shifts that move ``box`` onto ``window``."""
    keep = ((box[0] + shifts[:, 0] <= window[2]) & (box[2] + shifts[:, 0] >= window[0])
            & (box[1] + shifts[:, 1] <= window[3]) & (box[3] + shifts[:, 1] >= window[1]))
    return shifts[keep]


def _lattice(rep: gdstk.Repetition):
    """(v1, v2, n1, n2) of a rectangular or regular repetition, else None."""
    if rep.columns is None or rep.rows is None:
        return None
    if rep.spacing is not None:
        v1, v2 = np.array([rep.spacing[0], 0.0]), np.array([0.0, rep.spacing[1]])
    elif rep.v1 is not None and rep.v2 is not None:
        v1, v2 = np.asarray(rep.v1, dtype=float), np.asarray(rep.v2, dtype=float)
    else:
        return None
    return v1, v2, int(rep.columns), int(rep.rows)


def _meets(polys: np.ndarray, window) -> np.ndarray:
    """Which (n, k, 2) polygons have a bounding box meeting ``window``."""
    x, y = polys[..., 0], polys[..., 1]
    return ((x.min(axis=1) <= window[2]) & (x.max(axis=1) >= window[0])
            & (y.min(axis=1) <= window[3]) & (y.max(axis=1) >= window[1]))


def _regroup(batches: list[np.ndarray]) -> list[np.ndarray]:
    groups: dict[int, list[np.ndarray]] = {}
    for b in batches:
        groups.setdefault(b.shape[1], []).append(b)
    return [np.concatenate(v) if len(v) > 1 else v[0] for v in groups.values()]


# A self-intersecting polygon with more edge crossings than this is refused: repairing it
# costs time and memory in proportion to the crossings (a random 8001-vertex polygon has
# millions and needs gigabytes).
MAX_SELF_CROSSINGS = 20_000
# Below this many vertices a polygon cannot cross itself more than MAX_SELF_CROSSINGS times.
_FEW_VERTICES = 200


def _self_crossings(poly, cap: int) -> int:
    """How many pairs of non-adjacent edges of ``poly``'s shell meet; stops counting above ``cap``."""
    ring = np.asarray(poly.exterior.coords)
    n = len(ring) - 1
    if n < 4:
        return 0
    segments = shapely.linestrings(np.stack([ring[:-1], ring[1:]], axis=1))
    tree = shapely.STRtree(segments)
    total = 0
    step = max(1, 1_000_000 // n)       # at most ~10⁶ pairs per query
    for start in range(0, n, step):
        i, j = tree.query(segments[start:start + step], predicate="intersects")
        i = i + start
        gap = np.abs(i - j)
        total += int(((i < j) & (gap > 1) & (gap != n - 1)).sum())
        if total > cap:
            break
    return total


def _unique_rows(rows: np.ndarray) -> np.ndarray:
    """The distinct rows of a 2-D array (a lexicographic sort: ``np.unique(axis=0)``
    takes seconds on a million equal rows)."""
    if len(rows) < 2:
        return rows
    ordered = rows[np.lexsort(rows.T[::-1])]
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    return ordered[keep]


def _to_shapely(batches: list[np.ndarray], path=None, label: str = "") -> np.ndarray:
    """Vectorised (n, k, 2) batches -> valid shapely polygons.

    Exact duplicates (an array at zero pitch) become one polygon first. An
    invalid polygon is repaired with ``make_valid`` (structure method: the
    union of what its rings enclose); one that crosses itself more than
    :data:`MAX_SELF_CROSSINGS` times is refused.
    """
    groups = [_unique_rows(b.reshape(len(b), -1)).reshape(-1, *b.shape[1:]) for b in _regroup(batches)]
    parts = [shapely.polygons(b) for b in groups]
    if not parts:
        return np.empty(0, dtype=object)
    polys = np.concatenate(parts)
    bad = np.flatnonzero(~shapely.is_valid(polys))
    if len(bad):
        for k in bad[shapely.get_num_coordinates(polys[bad]) > _FEW_VERTICES]:
            crossings = _self_crossings(polys[k], MAX_SELF_CROSSINGS)
            if crossings > MAX_SELF_CROSSINGS:
                x0, y0, _, _ = polys[k].bounds
                raise LithoInputError(
                    f"{path}: {label}: a polygon of {shapely.get_num_coordinates(polys[k]) - 1} vertices "
                    f"near ({x0:g}, {y0:g}) um crosses itself more than {MAX_SELF_CROSSINGS} times "
                    f"(limit); redraw it as simple polygons, or read a window or layer without it")
        # self-touching keyhole polygons (how GDS stores holes) and bow-ties
        polys[bad] = shapely.make_valid(polys[bad], method="structure", keep_collapsed=False)
    return polys


def _merge(polys: np.ndarray) -> BaseGeometry:
    return merge(polys)


def _window(window, path) -> tuple[float, float, float, float] | None:
    if window is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in window)
    except (TypeError, ValueError):
        raise LithoInputError(f"{path}: window {window!r} is not [xmin, ymin, xmax, ymax] in um") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or not (x1 > x0 and y1 > y0):
        raise LithoInputError(f"{path}: window {list(window)} needs finite xmin < xmax and ymin < ymax (um)")
    return (x0, y0, x1, y1)


# --------------------------------------------------------------------------- public API

# read_mask refuses a layer that flattens (within its window) to more than this: the
# polygons, their shapely objects and the merge need about 1 kB per polygon.
MAX_FLAT_POLYGONS = 1_000_000
MAX_FLAT_VERTICES = 20_000_000


def _present_layers(top: gdstk.Cell) -> list[tuple[int, int]]:
    found = set()
    for c in _post_order(top):
        found.update((p.layer, p.datatype) for p in c.polygons)
        for path in c.paths:
            found.update(zip(path.layers, path.datatypes))
    return sorted(found)


def _fmt_layers(found) -> str:
    return ", ".join(f"{l}/{d}" + (f" ({layer_name((l, d))})" if layer_name((l, d)) != f"{l}/{d}" else "")
                     for l, d in found) or "none"


def _check_cost(path: Path, label: str, top: str, cost: tuple[int, int], win) -> None:
    """Refuse, before flattening, a layer whose flattened size is beyond the limits."""
    polygons, vertices = cost
    if polygons <= MAX_FLAT_POLYGONS and vertices <= MAX_FLAT_VERTICES:
        return
    where = f"inside window {list(win)} um" if win is not None else "with no window"
    limit = (f"{MAX_FLAT_POLYGONS:,} polygons" if polygons > MAX_FLAT_POLYGONS
             else f"{MAX_FLAT_VERTICES:,} vertices")
    raise LithoInputError(f"{path}: layer {label} of cell {top} flattens to {polygons:,} polygons "
                          f"({vertices:,} vertices) {where}, above the limit of {limit}; read a smaller "
                          f"part with a window (mask.window_um in a recipe, window= in the API) or a "
                          f"smaller cell")


def read_mask(path, layer=(1, 0), cell: str | None = None, window=None) -> Mask:
    """Read one layer of a GDSII or OASIS layout as merged geometry in µm.

    Parameters
    ----------
    path : str or Path
        ``.gds`` or ``.oas`` file (the format is detected from the content).
    layer : (int, int) or str
        ``(layer, datatype)``, ``"layer/datatype"``, or a name: ``"R"``, ``"G"``,
        ``"B"``, ``"marks"`` (and the test-structure layers of
        :data:`litho.layout.layers.LAYER_NAMES`).
    cell : str, optional
        The cell to flatten; by default the only top cell (tool metadata cells
        such as ``$$$CONTEXT_INFO$$$`` are ignored).
    window : (xmin, ymin, xmax, ymax), optional
        Read only this region, µm; the geometry is clipped to it.

    Returns
    -------
    Mask

    Raises
    ------
    LithoInputError
        Missing file, not GDSII/OASIS, corrupt or truncated file (the byte
        offset of the bad record), reference cycle, missing referenced cells,
        several top cells, layer absent (lists the layers present), layer
        empty, window outside the layout, a layer that would flatten to more
        than :data:`MAX_FLAT_POLYGONS` polygons or :data:`MAX_FLAT_VERTICES`
        vertices within the window (checked before flattening), a polygon
        crossing itself more than :data:`MAX_SELF_CROSSINGS` times.
    """
    path = Path(path)
    lay = parse_layer(layer, str(path))
    win = _window(window, path)
    lib, _, scan = _load(path)
    top = _top_cell(lib, path, cell)
    name = layer_name(lay)
    label = f"{lay[0]}/{lay[1]}" + (f" ({name})" if name != f"{lay[0]}/{lay[1]}" else "")
    if win is None:
        # exact counts from the pre-scan, before gdstk flattens anything
        _check_cost(path, label, top.name, scan.flat_cost(top.name).get(lay, (0, 0)), None)
    walker = _Layer(lay)
    box = walker.bbox(top)
    if box is None:
        present = _present_layers(top)
        if lay in present:
            raise LithoInputError(f"{path}: layer {label} of cell {top.name} is empty")
        raise LithoInputError(f"{path}: layer {label} not in cell {top.name}; layers present: {_fmt_layers(present)}")
    if win is not None:
        full = top.bounding_box()
        if full is None or win[0] > full[1][0] or win[2] < full[0][0] or win[1] > full[1][1] or win[3] < full[0][1]:
            fb = "empty" if full is None else f"[{full[0][0]:g}, {full[0][1]:g}, {full[1][0]:g}, {full[1][1]:g}]"
            raise LithoInputError(f"{path}: window {list(win)} um lies outside the layout of cell {top.name} "
                                  f"(bounding box {fb} um)")
        _check_cost(path, label, top.name, walker.cost_in(top, win), win)
    try:
        batches: list[np.ndarray] = []
        walker.walk(top, np.eye(2), np.zeros(2), win, batches)
        polys = _to_shapely(batches, path, f"layer {label} of cell {top.name}")
        del batches
        if win is not None and len(polys):
            polys = shapely.clip_by_rect(polys, *win)
            polys = polys[~shapely.is_empty(polys)]
        geometry = _merge(polys) if len(polys) else shapely.Polygon()
    except MemoryError:
        raise LithoInputError(f"{path}: layer {label} of cell {top.name} does not fit in memory when "
                              f"flattened; read a smaller part with a window (mask.window_um in a recipe, "
                              f"window= in the API)") from None
    if geometry.is_empty:
        where = f" inside window {list(win)} um" if win is not None else ""
        raise LithoInputError(f"{path}: layer {label} of cell {top.name} has no area{where}")
    parts = shapely.get_parts(geometry)
    centre = shapely.get_coordinates(shapely.centroid(parts))
    # sort by (y, x) of the centroid, rounded so that one row of a pixel array stays one row
    order = np.lexsort((np.round(centre[:, 0], 9), np.round(centre[:, 1], 9)))
    return Mask(path=str(path), layer=lay, cell=top.name, geometry=geometry,
                polygons=tuple(parts[order]), bounds_um=tuple(float(v) for v in geometry.bounds),
                window_um=win)


def layers(path, cell: str | None = None) -> dict[tuple[int, int], int]:
    """Layers of a layout's top cell (or ``cell``) with their flattened polygon counts."""
    path = Path(path)
    lib, _, _ = _load(path)
    top = _top_cell(lib, path, cell)
    return {lay: _Layer(lay).count(top) for lay in _present_layers(top)}


def mask_info(path, cell: str | None = None, merged_limit: int = 200_000) -> dict:
    """What a layout holds: cells, layers (polygon counts, areas), bounding box, units.

    Returns
    -------
    dict
        ``path``, ``format``, ``user_unit_um``, ``db_unit_um``, ``cells`` (all),
        ``top_cell``, ``bbox_um`` ``[xmin, ymin, xmax, ymax]`` of the top cell and,
        under ``layers``, one entry per ``"l/d"`` with ``name``, ``polygons``
        (flattened count), ``drawn_area_um2`` (sum over polygons, overlaps counted
        twice) and ``area_um2`` (merged; None above ``merged_limit`` polygons).
    """
    path = Path(path)
    lib, fmt, scan = _load(path)
    top = _top_cell(lib, path, cell)
    bb = top.bounding_box()
    info = {
        "path": str(path),
        "format": "GDSII" if fmt == "gds" else "OASIS",
        "user_unit_um": scan.user_unit_um if fmt == "gds" else 1.0,
        "db_unit_um": scan.db_unit_um,
        "cells": sorted(c.name for c in lib.cells),
        "top_cell": top.name,
        "bbox_um": None if bb is None else [float(bb[0][0]), float(bb[0][1]), float(bb[1][0]), float(bb[1][1])],
        "layers": {},
    }
    for lay in _present_layers(top):
        walker = _Layer(lay)
        n, v = walker.cost(top)
        entry = {"name": layer_name(lay), "polygons": n, "drawn_area_um2": _drawn_area(walker, top),
                 "area_um2": None}
        if n <= merged_limit and v <= MAX_FLAT_VERTICES:
            label = f"layer {lay[0]}/{lay[1]} of cell {top.name}"
            try:
                batches: list[np.ndarray] = []
                walker.walk(top, np.eye(2), np.zeros(2), None, batches)
                polys = _to_shapely(batches, path, label)
                entry["area_um2"] = float(_merge(polys).area) if len(polys) else 0.0
            except MemoryError:
                raise LithoInputError(f"{path}: {label} does not fit in memory when flattened") from None
        info["layers"][f"{lay[0]}/{lay[1]}"] = entry
    return info


def _drawn_area(walker: _Layer, top: gdstk.Cell) -> float:
    """Sum of polygon areas below ``top`` (hierarchical, so any array size is cheap)."""
    memo: dict[str, float] = {}
    for cell in _post_order(top):
        total = 0.0
        for b in walker.own(cell):
            x, y = b[..., 0], b[..., 1]
            total += float(np.abs(0.5 * (x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1)).sum())
        for ref in walker._children(cell):
            if walker.bbox(ref.cell) is None:
                continue
            n = ref.repetition.size if ref.repetition is not None and ref.repetition.size else 1
            total += n * ref.magnification ** 2 * memo[ref.cell.name]
        memo[cell.name] = total
    return memo[top.name]


def _write(lib: gdstk.Library, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in GDS_SUFFIXES + OAS_SUFFIXES:
        raise LithoInputError(f"{path}: output must end in .gds or .oas (got {path.suffix or 'no suffix'!r})")
    with atomic_file(path) as tmp:
        if suffix in OAS_SUFFIXES:
            lib.write_oas(str(tmp))
        else:
            # a fixed timestamp makes the same layout the same bytes (reproducible masks)
            lib.write_gds(str(tmp), timestamp=_GDS_TIMESTAMP)
        # the temporary file is created private (0600); give the result the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


def write_gds(library_or_cells, path) -> Path:
    """Write a gdstk Library (or a cell, or cells with their dependencies) atomically.

    ``.gds`` writes GDSII, ``.oas`` OASIS. Returns the path.
    """
    path = Path(path)
    if isinstance(library_or_cells, gdstk.Library):
        lib = library_or_cells
    else:
        cells = [library_or_cells] if isinstance(library_or_cells, gdstk.Cell) else list(library_or_cells)
        lib = gdstk.Library(unit=1e-6, precision=1e-9)
        seen = set()
        for c in cells:
            for d in [c, *c.dependencies(True)]:
                if isinstance(d, gdstk.Cell) and d.name not in seen:
                    seen.add(d.name)
                    lib.add(d)
    _write(lib, path)
    return path


def write_polygons(path, layers: dict, cell_name: str, source_library=None) -> Path:
    """Write shapely polygons (µm) to a GDS/OASIS file, one layer per key.

    Parameters
    ----------
    path : str or Path
        ``.gds`` or ``.oas``.
    layers : dict (int, int) -> iterable of shapely Polygon / MultiPolygon
        Geometry per ``(layer, datatype)``; holes are stored the GDS way (keyholes).
    cell_name : str
        Name of the new top cell.
    source_library : gdstk.Library or path, optional
        A layout to include: its top cell is placed (untransformed) in the new
        top cell, so e.g. the mask layers and predicted contours overlay.
    """
    path = Path(path)
    precision = 1e-9
    lib = gdstk.Library(unit=1e-6, precision=precision)
    top = gdstk.Cell(cell_name)
    if source_library is not None:
        src = source_library
        if not isinstance(src, gdstk.Library):
            src, _ = read_library(src)
        src_tops = [c for c in src.top_level() if isinstance(c, gdstk.Cell) and not _is_metadata(c.name)]
        for c in src.cells:
            if c.name == cell_name:
                raise LithoInputError(f"{path}: cell name {cell_name!r} already used by the source layout")
            if isinstance(c, gdstk.Cell) and not _is_metadata(c.name):
                lib.add(c)
        for c in src_tops:
            top.add(gdstk.Reference(c))
    for lay, geoms in layers.items():
        l, d = parse_layer(lay)
        for geom in geoms:
            for poly in shapely.get_parts(geom):
                if poly.is_empty or poly.geom_type != "Polygon":
                    continue
                outer = np.asarray(poly.exterior.coords)[:-1]
                if not len(poly.interiors):
                    top.add(gdstk.Polygon(outer, layer=l, datatype=d))
                else:
                    holes = [np.asarray(r.coords)[:-1] for r in poly.interiors]
                    top.add(*gdstk.boolean([outer], holes, "not", precision=1e-3, layer=l, datatype=d))
    lib.add(top)
    _write(lib, path)
    return path


# GDSII stores at most 8191 points in one XY record (the closing point included); gdstk's
# default of 199 cuts every larger polygon into pieces, which a viewer shows as seams.
_GDS_MAX_POINTS = 8190


def write_annotated_polygons(path, layers: dict, cell_name: str, *, layer_names: dict | None = None,
                             labels: list[tuple[str, tuple[int, int], tuple[float, float]]] = ()) -> Path:
    """Write shapely polygons (µm) as whole GDS polygons, with named layers and text labels.

    Unlike :func:`write_polygons`, each shapely polygon becomes exactly one
    GDS polygon: nothing is split at 199 vertices, and a polygon with holes
    is one boundary whose holes are joined to the outline by zero-width
    cut lines (the only way GDSII stores a hole; KLayout reads such a
    boundary back as one polygon with holes).

    Parameters
    ----------
    path : str or Path
        ``.gds`` (or ``.oas``).
    layers : dict (int, int) -> iterable of shapely Polygon / MultiPolygon
        Geometry per ``(layer, datatype)``, µm.
    cell_name : str
        Name of the top cell.
    layer_names : dict (int, int) -> str, optional
        A name per layer, written as a text label on that layer at the lower
        left of its shapes (GDSII has no layer-name record) and as the
        ``name`` property (attribute 1) of each of its polygons.
    labels : sequence of (text, (layer, texttype), (x_um, y_um))
        Further text labels, e.g. provenance.
    """
    path = Path(path)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = gdstk.Cell(cell_name)
    layer_names = dict(layer_names or {})
    for lay, geoms in layers.items():
        l, d = parse_layer(lay)
        name = layer_names.get((l, d))
        boxes = []
        for geom in geoms:
            for poly in shapely.get_parts(geom):
                if poly.is_empty or poly.geom_type != "Polygon":
                    continue
                points = _keyholed(poly)
                gp = gdstk.Polygon(points, layer=l, datatype=d)
                if name:
                    gp.set_gds_property(1, name)
                top.add(gp)
                boxes.append(poly.bounds)
        if name:
            x0 = min((b[0] for b in boxes), default=0.0)
            y0 = min((b[1] for b in boxes), default=0.0)
            top.add(gdstk.Label(name, (x0, y0), layer=l, texttype=d))
    for text, (l, t), origin in labels:
        top.add(gdstk.Label(str(text), tuple(origin), layer=l, texttype=t))
    lib.add(top)
    suffix = path.suffix.lower()
    if suffix not in GDS_SUFFIXES + OAS_SUFFIXES:
        raise LithoInputError(f"{path}: output must end in .gds or .oas (got {path.suffix or 'no suffix'!r})")
    with atomic_file(path) as tmp:
        if suffix in OAS_SUFFIXES:
            lib.write_oas(str(tmp))
        else:
            lib.write_gds(str(tmp), max_points=_GDS_MAX_POINTS, timestamp=_GDS_TIMESTAMP)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    return path


def _keyholed(poly) -> np.ndarray:
    """One closed point list for a shapely polygon, holes joined by zero-width cut lines.

    Each hole is entered from the outline point nearest to its own
    leftmost vertex, in order of that vertex's x, along a cut that goes
    there and back (the GDSII convention; gdstk's boolean would instead cut
    the polygon into several pieces).
    """
    outer = np.asarray(shapely.geometry.polygon.orient(poly, 1.0).exterior.coords)[:-1]
    holes = [np.asarray(r.coords)[:-1] for r in shapely.geometry.polygon.orient(poly, 1.0).interiors]
    if not holes:
        return outer
    ring = [tuple(p) for p in outer]
    for hole in sorted(holes, key=lambda h: h[:, 0].min()):
        k = int(np.argmin(hole[:, 0]))
        hole = np.roll(hole, -k, axis=0)
        start = tuple(hole[0])
        pts = np.asarray(ring)
        # join to the nearest ring vertex (outline or earlier holes' vertices)
        j = int(np.argmin(np.hypot(pts[:, 0] - start[0], pts[:, 1] - start[1])))
        loop = [tuple(p) for p in hole] + [start]
        ring = ring[:j + 1] + loop + ring[j:]
    return np.asarray(ring)
