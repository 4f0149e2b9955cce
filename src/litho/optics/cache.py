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
    """Forget every cached transfer function and kernel set (memory only)."""
    TRANSFER_CACHE.clear()
    KERNEL_CACHE.clear()
