"""When a printed feature is in specification (PHYSICS.md §7).

One rule, used by every command that says "prints" or "in spec"
(``litho min-feature``, ``litho sweep``): a feature is in specification when
it is not missing, does not bridge to a neighbour, keeps its CD within
``cd_tol`` of the design in every judged direction, and keeps h/h0 at or
above ``min_nrt`` over its central region.

The thresholds are compared with a tolerance of a few float roundings only
(``FLOAT_SLACK``): 0.7996 against 0.8 is a fail, 0.8 computed as
0.7999999999999999 is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import LithoInputError

CD_TOLERANCE = 0.10          # |CD error| / design CD (PHYSICS.md §7)
MIN_NRT = 0.8                # h/h0 over a printed feature's central region (PHYSICS.md §7)
# Relative slack on the thresholds: float rounding, not a margin.
FLOAT_SLACK = 1e-9


@dataclass(frozen=True)
class Criteria:
    """Thresholds of the in-specification rule.

    Parameters
    ----------
    cd_tol : float
        Largest accepted |CD error| as a fraction of the designed CD (0 < cd_tol < 1).
    min_nrt : float
        Smallest accepted h/h0 over the feature's central region (0 <= min_nrt <= 1).
    """

    cd_tol: float = CD_TOLERANCE
    min_nrt: float = MIN_NRT

    def __post_init__(self):
        if not 0 < self.cd_tol < 1:
            raise LithoInputError(f"cd_tol = {self.cd_tol:g}: give a fraction of the designed CD in (0, 1), "
                                  "e.g. 0.10")
        if not 0 <= self.min_nrt <= 1:
            raise LithoInputError(f"min_nrt = {self.min_nrt:g}: give an h/h0 in [0, 1], e.g. 0.8")

    def as_dict(self) -> dict:
        return {"cd_tolerance_fraction": self.cd_tol, "min_centre_nrt": self.min_nrt,
                "no_missing": True, "no_bridges": True}


def _get(pixel, name: str):
    return pixel[name] if isinstance(pixel, Mapping) else getattr(pixel, name)


def pixel_failure(pixel, criteria: Criteria = Criteria(), *, axes: str = "xy") -> str:
    """Why one measured pixel is out of specification ("" when it is in).

    Parameters
    ----------
    pixel : litho.metrology.PixelMetrics or its ``as_dict()``
    criteria : Criteria
    axes : str
        Directions whose CD is judged: "xy", or "x" for lines (their length is
        not a CD).
    """
    if _get(pixel, "missing"):
        return "missing"
    if _get(pixel, "bridged"):
        return "bridged"
    for axis in axes:
        cd, design = _get(pixel, f"cd_{axis}_um"), _get(pixel, f"design_cd_{axis}_um")
        if not abs(cd - design) <= criteria.cd_tol * design * (1 + FLOAT_SLACK):
            return f"CD {axis} error {cd - design:+.3g} um (tolerance {criteria.cd_tol * design:.3g} um)"
    nrt = _get(pixel, "centre_nrt")
    if not (nrt is not None and nrt >= criteria.min_nrt * (1 - FLOAT_SLACK)):
        return f"h/h0 {nrt:.4g} < {criteria.min_nrt:g} at the centre" if nrt is not None else "no h/h0 at the centre"
    return ""


def field_failure(pixels, bridges: int, criteria: Criteria = Criteria(), *, axes: str = "xy") -> tuple[int, str]:
    """The first pixel out of specification in a measured field, and why.

    Returns ``(index, reason)``; ``(-1, "")`` when every pixel is in
    specification, ``(-1, "no feature")`` when there are none, and
    ``(-1, "bridged")`` when the field has a bridge no pixel was matched to.
    """
    pixels = list(pixels)
    if not pixels:
        return -1, "no feature"
    for k, p in enumerate(pixels):
        reason = pixel_failure(p, criteria, axes=axes)
        if reason:
            return k, reason
    if bridges:
        return -1, "bridged"
    return -1, ""
