"""The smallest feature a recipe prints (PHYSICS.md §7).

A feature *prints* when, developed with the recipe's chemistry, exposure and
developer, it is not missing, does not bridge to its neighbour, keeps its CD
within ±10% of the design (x and y) and keeps h/h0 ≥ 0.8 inside. Three kinds
of feature are searched, each by bisection in log size between a size that
fails and one that prints:

- ``line-space``: 1:1 lines and spaces of width w (one period 2w simulated
  as an infinite grating, periodic window);
- ``square``: an isolated square opening of side s (isolated window);
- ``pixel-array``: an RGB stripe array of pitch p with the given gap, one
  colour's subpixels simulated as an infinite array (periodic window); its
  answer is also given as the highest ppi = 25400 / p.

Every evaluation is a full :func:`litho.process.simulate_step` on
designed geometry, so the answer is the simulated one, not the
b ≈ 1.5·√(λ(g + h/2)) rule of thumb (reported beside it for reference).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from shapely.geometry import box

from .errors import LithoInputError
from .grid import Grid
from .recipe import Recipe

FEATURES = ("line-space", "square", "pixel-array")
CD_TOLERANCE = 0.10          # |CD error| / design CD
MIN_FEATURE_NRT = 0.8        # h/h0 inside a printed feature
SAMPLES_ACROSS = 24          # grid samples across the feature being tested
BISECTION_STEPS = 7          # log-size bisection: final bracket ratio (hi/lo)^(1/2^7)
SIZE_RANGE_UM = (0.05, 200.0)
MAX_SAMPLES_PER_PERIOD = 2048


@dataclass(frozen=True)
class Trial:
    """One simulated feature size and whether it printed."""

    size_um: float
    prints: bool
    reason: str
    cd_x_um: float | None
    cd_y_um: float | None
    centre_nrt: float | None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MinFeature:
    """The smallest printing size of one kind of feature.

    ``size_um`` is None when nothing in the searched range prints; ``trials``
    holds every simulated size, in the order simulated.
    """

    feature: str
    size_um: float | None
    trials: tuple[Trial, ...] = field(default_factory=tuple)
    gap_um: float | None = None
    at_search_floor: bool = False

    @property
    def ppi(self) -> float | None:
        """Highest ppi of a pixel array (25400 / pitch µm)."""
        if self.feature != "pixel-array" or self.size_um is None:
            return None
        return 25400.0 / self.size_um

    def as_dict(self) -> dict:
        return {"feature": self.feature, "min_size_um": self.size_um, "max_ppi": self.ppi,
                "gap_um": self.gap_um, "at_search_floor": self.at_search_floor,
                "trials": [t.as_dict() for t in self.trials]}


def rule_of_thumb_um(step) -> float | None:
    """b_min ≈ 1.5·√(λ(g + h/2)) for mask-aligner printing (PHYSICS.md §2); None otherwise."""
    optics = step.exposure.optics
    gap = getattr(optics, "gap_um", None)
    if gap is None:
        return None
    wavelength_um = min(w for w, _ in optics.lines) * 1e-3
    return 1.5 * math.sqrt(wavelength_um * (gap + 0.5 * step.film.thickness_nm * 1e-3))


def evaluate(recipe: Recipe, step_index: int, feature: str, size_um: float, gap_um: float = 1.0) -> Trial:
    """Simulate one feature of ``size_um`` with step ``step_index`` of ``recipe``."""
    from .process import simulate_step

    step = recipe.steps[step_index]
    optics = step.exposure.optics
    # Sample the narrowest designed width finely: a stripe subpixel is p/3 − g wide.
    width = size_um / 3.0 - gap_um if feature == "pixel-array" else size_um
    if width <= 0:
        return Trial(size_um, False, "no room for a subpixel at this gap", None, None, None)
    target = min(width / SAMPLES_ACROSS, optics.max_pixel_um)
    # A sliver of a subpixel (p/3 just above g) must not ask for a huge grid:
    # at most MAX_SAMPLES_PER_PERIOD across the period, the sliver is then judged coarsely.
    target = max(target, 2.0 * size_um / MAX_SAMPLES_PER_PERIOD)
    if feature == "line-space":
        period = 2.0 * size_um
        n = max(16, math.ceil(period / target))
        pixel = period / n
        grid = Grid((8, n), pixel, (0.0, 0.0))
        design = (box(0.5 * size_um, 0.0, 1.5 * size_um, 8 * pixel),)
        window = "periodic"
    elif feature == "pixel-array":
        from .layout import unit_cell

        try:
            geometry, (x0, y0, px, py) = unit_cell("stripe", "R", pitch_um=size_um, gap_um=gap_um)
        except LithoInputError:
            return Trial(size_um, False, "no room for a subpixel at this gap", None, None, None)
        n = max(16, math.ceil(px / target))
        pixel = px / n
        ny = max(1, round(py / pixel))
        grid = Grid((ny, n), pixel, (x0, y0))
        design = tuple(getattr(geometry, "geoms", [geometry]))
        window = "periodic"
    elif feature == "square":
        pixel = target
        margin = 2.0 * size_um
        grid = Grid.covering((-margin, -margin, size_um + margin, size_um + margin), pixel)
        design = (box(0.0, 0.0, size_um, size_um),)
        window = "isolated"
    else:
        raise LithoInputError(f"feature = {feature!r}: accepted: {', '.join(FEATURES)}")
    if grid.nbytes(8, 24) > 4e9:
        return Trial(size_um, False, "grid too large to simulate", None, None, None)
    sim = dataclasses.replace(recipe.simulation, window=window, pixel_um=pixel)
    local = dataclasses.replace(recipe, simulation=sim)
    result = simulate_step(step, (1, 0), design, grid, local)
    return judge(result, size_um, feature)


def judge(step_result, size_um: float, feature: str) -> Trial:
    """Whether a simulated feature prints, by the PHYSICS.md §7 criteria.

    The in-feature thickness is h/h0 at the feature's centre: the mean over
    the whole opening would count the edge roll-off that the CD criterion
    already judges.
    """
    import numpy as np

    pixels = step_result.metrology.pixels
    grid = step_result.grid
    worst = None
    for p in pixels:
        cx, cy = p.design_centroid_um
        j = int(np.clip(np.floor((cx - grid.origin_um[0]) / grid.pixel_um), 0, grid.shape[1] - 1))
        i = int(np.clip(np.floor((cy - grid.origin_um[1]) / grid.pixel_um), 0, grid.shape[0] - 1))
        centre_nrt = float(step_result.remaining_thickness[i, j])
        reason = ""
        if p.missing:
            reason = "missing"
        elif p.bridged or step_result.metrology.bridges:
            reason = "bridged"
        elif abs(p.cd_x_um - p.design_cd_x_um) > CD_TOLERANCE * p.design_cd_x_um:
            reason = f"CD x error {p.cd_x_um - p.design_cd_x_um:+.3g} um"
        elif feature != "line-space" and abs(p.cd_y_um - p.design_cd_y_um) > CD_TOLERANCE * p.design_cd_y_um:
            reason = f"CD y error {p.cd_y_um - p.design_cd_y_um:+.3g} um"
        elif not centre_nrt >= MIN_FEATURE_NRT:
            reason = f"h/h0 {centre_nrt:.2f} < {MIN_FEATURE_NRT} at the centre"
        if reason or worst is None:
            worst = (p, reason, centre_nrt)
        if reason:
            break
    if worst is None:
        return Trial(size_um, False, "no feature", None, None, None)
    p, reason, centre_nrt = worst
    return Trial(size_um, not reason, reason or "prints", p.cd_x_um, p.cd_y_um, centre_nrt)


def min_feature(recipe: Recipe, feature: str = "line-space", *, step: int | str = 0, gap_um: float = 1.0,
                size_range_um: tuple[float, float] | None = None) -> MinFeature:
    """The smallest ``feature`` that ``recipe`` prints.

    Parameters
    ----------
    recipe : Recipe
    feature : {"line-space", "square", "pixel-array"}
    step : int or str
        Which step's chemistry, exposure and developer (index or name).
    gap_um : float
        Gap between subpixels for ``pixel-array``, µm.
    size_range_um : (float, float), optional
        Sizes to search (line width, square side or pixel pitch), µm. The
        default starts at the optics' resolution scale and grows until a
        size prints.

    Returns
    -------
    MinFeature

    Examples
    --------
    >>> import litho
    >>> from litho.resolution import min_feature
    >>> r = min_feature(litho.load_recipe("recipes/ebt_cdse_254nm.toml"), "line-space")  # doctest: +SKIP
    >>> r.size_um                                                                          # doctest: +SKIP
    """
    if feature not in FEATURES:
        raise LithoInputError(f"feature = {feature!r}: accepted: {', '.join(FEATURES)}")
    index = recipe.step_index(step)
    if not gap_um > 0:
        raise LithoInputError(f"gap_um = {gap_um:g}: give a gap > 0 µm between subpixels")
    low, high = size_range_um or _default_range(recipe.steps[index], feature, gap_um)
    if not 0 < low < high:
        raise LithoInputError(f"size range {low:g}..{high:g} um: give 0 < low < high")
    trials = []

    def run(size):
        trial = evaluate(recipe, index, feature, size, gap_um)
        trials.append(trial)
        return trial.prints

    # Grow the upper end until something prints, then bisect in log size.
    while not run(high):
        low, high = high, high * 2.0
        if high > SIZE_RANGE_UM[1]:
            return MinFeature(feature, None, tuple(trials), gap_um if feature == "pixel-array" else None)
    while run(low):
        # Prints at the low end too: step down until it fails or the search floor is reached.
        high = low
        if low <= SIZE_RANGE_UM[0] * (1 + 1e-9):
            return MinFeature(feature, low, tuple(trials), gap_um if feature == "pixel-array" else None,
                              at_search_floor=True)
        low = max(SIZE_RANGE_UM[0], low / 4.0)
    for _ in range(BISECTION_STEPS):
        mid = math.sqrt(low * high)
        if run(mid):
            high = mid
        else:
            low = mid
    return MinFeature(feature, high, tuple(trials), gap_um if feature == "pixel-array" else None)


def _default_range(step, feature: str, gap_um: float) -> tuple[float, float]:
    """A bracket to start from: a fraction of the optical resolution scale up to a few times it."""
    optics = step.exposure.optics
    wavelength_um = min(w for w, _ in optics.lines) * 1e-3
    na = getattr(optics, "na", None)
    scale = rule_of_thumb_um(step) or (0.5 * wavelength_um / na if na else wavelength_um)
    if feature == "pixel-array":
        # a stripe subpixel is p/3 − g wide: start where it is about the optical scale
        return 3.0 * (gap_um + 0.5 * scale), 3.0 * (gap_um + 4.0 * scale)
    return max(SIZE_RANGE_UM[0], 0.3 * scale), 4.0 * scale


def search_all(recipe: Recipe, features=FEATURES, *, step: int | str = 0, gap_um: float = 1.0) -> dict:
    """:func:`min_feature` for several features, as a JSON-ready dict."""
    index = recipe.step_index(step)
    s = recipe.steps[index]
    results = [min_feature(recipe, f, step=index, gap_um=gap_um) for f in features]
    return {
        "recipe": str(recipe.path) if recipe.path else recipe.name,
        "step": s.name,
        "criteria": {"cd_tolerance_fraction": CD_TOLERANCE, "min_feature_nrt": MIN_FEATURE_NRT,
                     "no_missing": True, "no_bridges": True},
        "rule_of_thumb_um": rule_of_thumb_um(s),
        "features": [r.as_dict() for r in results],
    }

