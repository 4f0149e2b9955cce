"""Argument checks shared by the optics dataclasses.

Every message names the argument, the bad value and what is accepted, on one
line (DESIGN.md §6). The owner prefix ("ProximityOptics.gap_um") is replaced
by the recipe file and section when the optics come from a recipe
(:func:`litho.optics.from_exposure`).
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import LithoInputError
from ..fields import show


def number(owner: str, name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, what: str = "") -> float:
    """Return ``value`` as a finite float inside the stated range, or raise naming it."""
    label = f"{owner}.{name}"
    if isinstance(value, bool):
        raise LithoInputError(f"{label} = {show(value)} is not a number{_hint(what)}")
    try:
        x = float(value)
    except OverflowError:          # an integer beyond the float range: refused by the range check below
        x = math.inf
    except (TypeError, ValueError):
        raise LithoInputError(f"{label} = {show(value)} is not a number{_hint(what)}") from None
    bad = not math.isfinite(x)
    if lo is not None:
        bad |= x <= lo if lo_open else x < lo
    if hi is not None:
        bad |= x >= hi if hi_open else x > hi
    if bad:
        left = "" if lo is None else (f"> {lo:g}" if lo_open else f">= {lo:g}")
        right = "" if hi is None else (f"< {hi:g}" if hi_open else f"<= {hi:g}")
        rng = " and ".join(s for s in (left, right) if s) or "finite"
        raise LithoInputError(f"{label} = {show(value)}: must be {rng}{_hint(what)}")
    return x


def choice(owner: str, name: str, value: Any, options: tuple[str, ...]) -> str:
    s = str(value).strip().lower() if isinstance(value, str) else value
    if s not in options:
        raise LithoInputError(f"{owner}.{name} = {show(value)}: must be one of {', '.join(options)}")
    return s


def integer(owner: str, name: str, value: Any, lo: int, hi: int, what: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not (math.isfinite(value) and value == int(value))):
        raise LithoInputError(f"{owner}.{name} = {show(value)} is not an integer{_hint(what)}")
    v = int(value)
    if not lo <= v <= hi:
        raise LithoInputError(f"{owner}.{name} = {show(value)}: must be an integer from {lo} to {hi}{_hint(what)}")
    return v


def _hint(what: str) -> str:
    return f" ({what})" if what else ""
