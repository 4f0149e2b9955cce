"""Small in-memory caches with explicit keys and a byte budget.

Transfer functions and SOCS kernels depend only on the optics and the grid,
so repeated images on the same grid (RGB steps, dose sweeps, tiles) reuse
them. The caches are the only module-level state in :mod:`litho.optics`;
:func:`clear_caches` empties them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Hashable


class ByteLRU:
    """Least-recently-used mapping that evicts once ``max_bytes`` is exceeded.

    Thread-safe: Dask's local scheduler runs simulations in threads that
    share these caches.
    """

    def __init__(self, max_bytes: int):
        self._lock = threading.Lock()
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: Any, nbytes: int) -> Any:
        if nbytes > self.max_bytes:
            return value  # too big to keep; the caller still gets it
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, int(nbytes))
            self._bytes += int(nbytes)
            while self._bytes > self.max_bytes and self._items:
                _, (_, size) = self._items.popitem(last=False)
                self._bytes -= size
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes


TRANSFER_CACHE = ByteLRU(256 * 2**20)
KERNEL_CACHE = ByteLRU(2 * 2**30)


def clear_caches() -> None:
    """Forget every cached transfer function, kernel set, proximity cone rule and projection
    source estimate (memory only)."""
    TRANSFER_CACHE.clear()
    KERNEL_CACHE.clear()
    from .projection import probe_source_accuracy
    from .proximity import GAP_TRANSFERS, _probe_rule, choose_cone_rule   # kept per gap / optics and pitch

    GAP_TRANSFERS.clear()
    probe_source_accuracy.cache_clear()
    choose_cone_rule.cache_clear()
    _probe_rule.cache_clear()


# --------------------------------------------------------------------------- on disk
#
# An entry on disk is an .npz of named arrays plus one "__entry__" string: JSON with
# the format version, the entry's key (its repr) and a SHA-256 over the arrays. Any
# entry that does not prove itself (unreadable, truncated, another version or key, a
# wrong checksum, a NaN or inf) is a miss: the caller rebuilds it and replaces the
# file atomically. Entries are only as trusted as their checksum; the reader never
# unpickles.

#: Version of the on-disk entry layout; bump it when the arrays of an entry change meaning.
DISK_FORMAT = 3
_META = "__entry__"


class LithoCacheWarning(UserWarning):
    """The disk cache cannot be used; litho goes on with the in-memory cache only."""


_WARNED: set[str] = set()


def _warn_once(directory, reason: str) -> None:
    import warnings

    if str(directory) in _WARNED:
        return
    _WARNED.add(str(directory))
    warnings.warn(f"kernel cache {directory}: {reason}; kernels are kept in memory only for this run",
                  LithoCacheWarning, stacklevel=3)


def usable_cache_dir(directory) -> "Path | None":
    """``directory`` as a Path if entries can be written there, else None (after one warning).

    Called before anything expensive is built, so that a cache folder that is
    a file, lies below a file or is read-only costs a line on stderr, not a
    lost build. A missing folder is created (with its parents: it is a cache).
    """
    import os
    import secrets
    from pathlib import Path

    if directory is None or str(directory) == "":
        return None
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe.litho-tmp-{os.getpid()}-{secrets.token_hex(4)}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except FileExistsError:
        _warn_once(directory, "is not a directory")
        return None
    except NotADirectoryError:
        _warn_once(directory, "is not a directory (or lies inside a file)")
        return None
    except OSError as err:
        _warn_once(directory, f"not writable ({err.strerror or err})")
        return None
    return path


def _digest(arrays: dict) -> str:
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_entry(path, key: Hashable, arrays: dict) -> bool:
    """Write ``arrays`` as the disk entry of ``key`` at ``path`` (atomically); False if it failed.

    A failed write (disk full, folder gone) only costs the cache: it warns once.
    """
    import json
    from pathlib import Path

    import numpy as np

    from ..outputs import atomic_file, remove_stale

    path = Path(path)
    arrays = {name: np.asarray(value) for name, value in arrays.items()}
    meta = json.dumps({"format": DISK_FORMAT, "key": repr(key), "sha256": _digest(arrays)})
    try:
        remove_stale(path.parent)
        with atomic_file(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays, **{_META: np.asarray(meta)})
    except (OSError, ValueError) as err:  # ValueError: LithoInputError from atomic_file
        _warn_once(path.parent, f"cannot write {path.name} ({getattr(err, 'strerror', None) or err})")
        return False
    return True


def load_entry(path, key: Hashable) -> "dict | None":
    """The arrays of the disk entry of ``key`` at ``path``, or None when it does not prove itself."""
    import json
    import zipfile

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, RuntimeError):
        return None
    try:
        meta = json.loads(str(arrays.pop(_META)))
    except (KeyError, ValueError, TypeError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != DISK_FORMAT or meta.get("key") != repr(key):
        return None
    if meta.get("sha256") != _digest(arrays):
        return None
    for a in arrays.values():
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            return None
    return arrays
