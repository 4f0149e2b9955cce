"""One progress bar for long commands: counts, rate and ETA on stderr.

``litho sweep`` and ``litho min-feature`` run many simulations; a bar with
an estimate of the time left tells the user the run is alive. The bar is
drawn by tqdm on stderr (stdout keeps the results, so pipes stay clean),
appears only after ``DELAY_S`` seconds (short runs print nothing extra),
and is off with ``--quiet``, when stderr is not a terminal, and under CI
(``CI`` set to a true value), so logs and captured output stay free of
carriage returns.

Examples
--------
>>> with Progress(3, "points", enabled=False) as bar:
...     for _ in range(3):
...         bar.update()
>>> bar.done
3
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["Progress", "progress_enabled", "DELAY_S"]

#: A bar appears only on runs longer than this, s.
DELAY_S = 2.0


def progress_enabled(quiet: bool = False, stream=None) -> bool:
    """Whether to draw a bar: not ``quiet``, stderr a terminal, and not under CI."""
    if quiet:
        return False
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):   # closed or replaced stream
        return False


class Progress:
    """A thread-safe counter of finished work items, drawn as a bar when enabled.

    Parameters
    ----------
    total : int or None
        Items expected (None: unknown, the bar shows the count and rate only).
    unit : str
        What an item is ("points", "sizes"), shown after the count.
    enabled : bool, optional
        Default :func:`progress_enabled` ().
    description : str
        Shown before the bar.
    """

    def __init__(self, total: int | None, unit: str = "it", *, enabled: bool | None = None,
                 description: str = ""):
        self.total = None if total is None else int(total)
        self.done = 0
        self._lock = threading.Lock()
        self._bar = None
        if enabled if enabled is not None else progress_enabled():
            try:
                from tqdm import tqdm
            except ImportError:   # tqdm is optional: no bar, same results
                return
            self._bar = tqdm(total=self.total, unit=f" {unit}", desc=description or None, file=sys.stderr,
                             delay=DELAY_S, leave=False, dynamic_ncols=True, smoothing=0.1)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more items as finished."""
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
