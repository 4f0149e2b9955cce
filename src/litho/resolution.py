"""The smallest feature a recipe prints (PHYSICS.md §7).

A feature *prints* when, developed with the recipe's chemistry, exposure and
developer, it is in specification by the one rule of :mod:`litho.spec`: not
missing, not bridged, CD within ``cd_tol`` of the design (x and y; x only for
lines) and h/h0 >= ``min_nrt`` over its central region. Three kinds of
feature are searched:

- ``line-space``: 1:1 lines and spaces of width w (one period 2w simulated
  as an infinite grating, periodic window);
- ``square``: an isolated square opening of side s (isolated window);
- ``pixel-array``: an RGB stripe array of pitch p with the given gap, one
  colour's subpixels simulated as an infinite array (periodic window); its
  answer is also given as the highest ppi = 25400 / p.

Printing need not be monotone in size: behind a proximity gap the Fresnel
pattern of a feature changes with its size, so a size can fail between two
that print. The search therefore does not bisect from one bracket. It
simulates every size of a coarse log-spaced scan (``POINTS_PER_DECADE``),
extends the scan until its largest sizes print, then refines every
pass/fail transition by bisection in log size. The answer is the smallest
size above which every simulated size prints; sizes that print below it
(printing islands) and sizes that fail above the smallest printing size
(non-printing islands) are reported with it. An island narrower than one
coarse step can be missed: ``--points-per-decade`` makes the scan finer.
"Nothing prints" is an answer (``size_um`` None), not an error.

Every evaluation is a full :func:`litho.process.simulate_step` on
designed geometry, so the answer is the simulated one, not the
b ≈ 1.5·√(λ(g + h/2)) rule of thumb (reported beside it for reference).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

from shapely.geometry import box

from .errors import LithoInputError, LithoNote
from .grid import Grid
from .recipe import Recipe
from .spec import Criteria, field_failure

FEATURES = ("line-space", "square", "pixel-array")
SAMPLES_ACROSS = 24          # grid samples across the feature being tested
POINTS_PER_DECADE = 16       # coarse scan: sizes 10^(1/16) = 1.155x apart
BISECTION_STEPS = 4          # refinement of a transition: bracket 1.155^(1/16) = 0.9% wide
SIZE_RANGE_UM = (0.05, 200.0)
# Printing sizes at the top of the scan before "everything above prints" is taken as shown.
TOP_PRINTING_POINTS = 2
# Fresnel and Talbot islands are narrow (a few % in size) and crowd just above
# the threshold: the band from the answer up to VERIFY_RATIO times it is
# scanned again at VERIFY_POINTS_PER_DECADE (3.7% steps), and the answer moves
# up past any failure found there.
VERIFY_RATIO = 1.6
VERIFY_POINTS_PER_DECADE = 64
MAX_VERIFY_PASSES = 6
MAX_SAMPLES_PER_PERIOD = 2048
# Largest grid one evaluation simulates (samples): beyond it a size is reported
# as not simulated rather than taking minutes and gigabytes (a projection
# pupil's kernels grow with the window too).
MAX_EVALUATION_SAMPLES = 512 ** 2


@dataclass(frozen=True)
class Trial:
    """One simulated feature size and whether it printed.

    ``simulated`` is False when the size could not be simulated (no room for
    a subpixel, or a grid too large at the pitch the optics need); such a
    size counts as not printing.
    """

    size_um: float
    prints: bool
    reason: str
    cd_x_um: float | None
    cd_y_um: float | None
    centre_nrt: float | None
    simulated: bool = True
    quadrature_error_estimate: float | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MinFeature:
    """The smallest printing size of one kind of feature.

    Attributes
    ----------
    feature : str
    size_um : float or None
        Smallest size above which every simulated size prints; None when the
        largest sizes searched do not print ("nothing prints").
    trials : tuple of Trial
        Every simulated size, in the order simulated.
    gap_um : float or None
        Subpixel gap of a pixel array.
    at_search_floor : bool
        Everything down to the smallest size searched printed: ``size_um``
        is an upper bound.
    smallest_printing_um : float or None
        Smallest simulated size that printed (below ``size_um`` when a
        printing island lies below it).
    printing_islands, non_printing_islands : tuple of (float, float)
        ``(first, last)`` simulated sizes, µm, of each run of printing sizes
        below ``size_um``, and of each run of failing sizes above
        ``smallest_printing_um`` and below ``size_um``.
    searched_um : (float, float)
        Smallest and largest size simulated.
    answer : str
        The result in words (why nothing prints, when it does not).
    """

    feature: str
    size_um: float | None
    trials: tuple[Trial, ...] = field(default_factory=tuple)
    gap_um: float | None = None
    at_search_floor: bool = False
    smallest_printing_um: float | None = None
    printing_islands: tuple = ()
    non_printing_islands: tuple = ()
    searched_um: tuple[float, float] | None = None
    answer: str = ""

    @property
    def ppi(self) -> float | None:
        """Highest ppi of a pixel array (25400 / pitch µm)."""
        if self.feature != "pixel-array" or self.size_um is None:
            return None
        return 25400.0 / self.size_um

    def as_dict(self) -> dict:
        return {"feature": self.feature, "min_size_um": self.size_um, "max_ppi": self.ppi,
                "subpixel_gap_um": self.gap_um, "at_search_floor": self.at_search_floor,
                "smallest_printing_um": self.smallest_printing_um,
                "printing_islands_um": [list(i) for i in self.printing_islands],
                "non_printing_islands_um": [list(i) for i in self.non_printing_islands],
                "searched_um": list(self.searched_um) if self.searched_um else None,
                "answer": self.answer,
                "quadrature_error_estimate_max": self.quadrature_error_estimate_max,
                "trials": [t.as_dict() for t in self.trials]}

    @property
    def quadrature_error_estimate_max(self) -> float | None:
        """Largest optics quadrature error estimate over the simulated trials, or None."""
        values = [t.quadrature_error_estimate for t in self.trials if t.quadrature_error_estimate is not None]
        return max(values) if values else None


def rule_of_thumb_um(step) -> float | None:
    """b_min ≈ 1.5·√(λ(g + h/2)) for mask-aligner printing (PHYSICS.md §2); None otherwise."""
    optics = step.exposure.optics
    gap = getattr(optics, "gap_um", None)
    if gap is None:
        return None
    wavelength_um = min(w for w, _ in optics.lines) * 1e-3
    return 1.5 * math.sqrt(wavelength_um * (gap + 0.5 * step.film.thickness_nm * 1e-3))


def evaluate(recipe: Recipe, step_index: int, feature: str, size_um: float, gap_um: float = 1.0,
             criteria: Criteria = Criteria()) -> Trial:
    """Simulate one feature of ``size_um`` with step ``step_index`` of ``recipe``."""
    with _quiet_cone_notes():
        return _evaluate(recipe, step_index, feature, size_um, gap_um, criteria)


@contextlib.contextmanager
def _quiet_cone_notes():
    """A cone rule short of its tolerance at one trial's pitch is the trial's estimate
    (min_feature.json), not one note per pitch of the search.

    The filter is process-wide: a search sets it once, in its own thread, around all
    its trials (``warnings.catch_warnings`` is not safe to nest in worker threads).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="the collimation cone", category=LithoNote)
        yield


def _evaluate_size(recipe: Recipe, step_index: int, feature: str, gap_um: float, criteria: Criteria,
                   size_um: float) -> Trial:
    """:func:`_evaluate` with the size last (the task of a search)."""
    return _evaluate(recipe, step_index, feature, size_um, gap_um, criteria)


def _evaluate(recipe: Recipe, step_index: int, feature: str, size_um: float, gap_um: float = 1.0,
              criteria: Criteria = Criteria()) -> Trial:
    from .dose import imaging_optics
    from .process import prepare_design, simulate_step

    step = recipe.steps[step_index]
    optics = step.exposure.optics
    # Sample the narrowest designed width finely: a stripe subpixel is p/3 − g wide.
    width = size_um / 3.0 - gap_um if feature == "pixel-array" else size_um
    if width <= 0:
        return Trial(size_um, False, "no room for a subpixel at this gap", None, None, None, simulated=False)
    target = width / SAMPLES_ACROSS
    # A sliver of a subpixel (p/3 just above g) must not ask for a huge grid:
    # at most MAX_SAMPLES_PER_PERIOD across the period, the sliver is then judged coarsely ...
    target = max(target, 2.0 * size_um / MAX_SAMPLES_PER_PERIOD)
    # ... but never coarser than the optics' image band needs (its limit is strict).
    target = min(target, 0.999 * optics.max_pixel_um)
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
            return Trial(size_um, False, "no room for a subpixel at this gap", None, None, None, simulated=False)
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
    if grid.shape[0] * grid.shape[1] > MAX_EVALUATION_SAMPLES:
        return Trial(size_um, False, f"not simulated: a {grid.shape[1]} x {grid.shape[0]} grid at "
                     f"{pixel:.3g} um (the pitch the optics need) is too large", None, None, None,
                     simulated=False)
    recipe = _search_guard(recipe, optics, window)
    # one image per size: the direct Abbe sum beats building kernels for it (one_off_optics)
    step = dataclasses.replace(step, exposure=dataclasses.replace(step.exposure, optics=one_off_optics(optics)))
    recipe = dataclasses.replace(recipe, steps=tuple(step if k == step_index else s for k, s in enumerate(recipe.steps)))
    try:
        setup = prepare_design(recipe, design, grid, step=step_index, window=window)
        result = simulate_step(setup.recipe.steps[0], setup.layers[0], design, setup.grid, setup.recipe)
        estimate = _trial_quadrature_estimate(imaging_optics(setup.recipe.steps[0]), setup.grid.pixel_um)
    except LithoInputError as error:
        # the recipe is valid (it was loaded); what fails here is this size's simulation (too large)
        return Trial(size_um, False, f"not simulated: {error}", None, None, None, simulated=False)
    return dataclasses.replace(judge(result, size_um, feature, criteria), quadrature_error_estimate=estimate)


# Guard band of an isolated projection trial, in λ/NA (the image's default is 10). A trial
# only judges print / no print (CD within 10 %, h/h0 >= 0.8): on the shipped projection
# recipe the square answer is the same (0.678 µm) with guards of 10, 4 and 3 λ/NA; at 4
# every one of the 41 trials has the verdict it has at 10 and its CD within 3e-5 µm, and
# the isolated window's side is ~15 µm shorter.
SEARCH_GUARD_WAVELENGTHS_PER_NA = 4.0


def _search_guard(recipe: Recipe, optics, window: str) -> Recipe:
    """The recipe with the search's guard band for an isolated projection window (unless the recipe sets one)."""
    from .optics import ProjectionOptics

    if window != "isolated" or recipe.simulation.guard_um is not None or not isinstance(optics, ProjectionOptics):
        return recipe
    guard = optics.guard_um(SEARCH_GUARD_WAVELENGTHS_PER_NA)
    return dataclasses.replace(recipe, simulation=dataclasses.replace(recipe.simulation, guard_um=guard))


# Cone-rule tolerance of a proximity trial (the optics' default is 1e-3). A trial only judges
# print / no print, at pitches far finer than a simulation's (24 samples across the feature),
# where the rule for 1e-3 runs to 100-256 directions. On the shipped RGB recipe every one of the
# 208 trials of line-space, square and pixel array has the same verdict at 1e-2 as at 3e-3, the
# answers are the same (2.95 / 2.92 / 10.2 um) and CDs move by at most 0.031 um; the search takes
# 85 s instead of 192 s. Each trial's own estimate is in min_feature.json.
SEARCH_CONE_TOLERANCE = 1e-2


def one_off_optics(optics):
    """The optics to image a window that is imaged once (each size of a scan has its own grid).

    Projection: :meth:`~litho.optics.ProjectionOptics.one_off` (Abbe's sum: a
    SOCS image costs an eigendecomposition of that grid's TCC first, and the
    kernels kept are close to the number of source points). Proximity: the cone rule is
    sized for :data:`SEARCH_CONE_TOLERANCE` (unless the recipe sets one).
    Other optics are returned as they are.
    """
    from .optics import ProjectionOptics, ProximityOptics

    if isinstance(optics, ProjectionOptics):
        return optics.one_off()
    if isinstance(optics, ProximityOptics) and optics.cone_rule_tolerance is None:
        return dataclasses.replace(optics, cone_rule_tolerance=SEARCH_CONE_TOLERANCE)
    return optics


def _trial_quadrature_estimate(optics, pixel_um: float) -> float | None:
    """The optics' quadrature estimate at a trial's pitch, where sizing the rule already gave it.

    The default cone rule's estimate comes with the rule; an explicit
    ``direction_rings`` rule would need the default rule's probe at every
    trial pitch just to be compared with it, so its trials record None.
    """
    estimate = getattr(optics, "directions_accuracy", None)
    if estimate is None or getattr(optics, "direction_rings", None) is not None:
        return None
    return float(estimate(pixel_um))


def judge(step_result, size_um: float, feature: str, criteria: Criteria = Criteria()) -> Trial:
    """Whether a simulated feature prints, by the rule of :mod:`litho.spec`.

    The in-feature thickness is h/h0 averaged over the feature's central
    region (``PixelMetrics.centre_nrt``): the mean over the whole opening
    would count the edge roll-off that the CD criterion already judges, and
    one sample would make the verdict depend on where the grid falls.
    """
    m = step_result.metrology
    axes = "x" if feature == "line-space" else "xy"
    index, reason = field_failure(m.pixels, m.bridges, criteria, axes=axes)
    if reason == "no feature":
        return Trial(size_um, False, reason, None, None, None)
    p = m.pixels[index]
    return Trial(size_um, not reason, reason or "prints", p.cd_x_um, p.cd_y_um, p.centre_nrt)


@dataclass(frozen=True)
class Scan:
    """Trials of a size scan and what they show (see :func:`scan_sizes`)."""

    trials: tuple[Trial, ...]
    size_um: float | None
    at_search_floor: bool
    smallest_printing_um: float | None
    printing_islands: tuple
    non_printing_islands: tuple


def log_sizes(low_um: float, high_um: float, points_per_decade: float) -> list[float]:
    """Sizes from ``low_um`` to ``high_um`` equally spaced in log, at least two."""
    n = max(2, math.ceil(math.log10(high_um / low_um) * points_per_decade) + 1)
    return [low_um * (high_um / low_um) ** (k / (n - 1)) for k in range(n)]


def scan_sizes(trial: Callable[[float], Trial], low_um: float, high_um: float, *,
               points_per_decade: float = POINTS_PER_DECADE, bisection_steps: int = BISECTION_STEPS,
               extend: bool = True, verify: bool = True,
               limits_um: tuple[float, float] = SIZE_RANGE_UM,
               map_tasks: Callable[[Callable, list], list] | None = None,
               progress: Callable[[], None] | None = None) -> Scan:
    """Scan sizes coarsely, refine every pass/fail transition, and read off the answer.

    Parameters
    ----------
    trial : callable size_um -> Trial
    low_um, high_um : float
        The coarse scan's range.
    points_per_decade : float
        Density of the coarse scan.
    bisection_steps : int
        Log-size bisections of every transition between neighbouring coarse sizes.
    extend : bool
        Grow the scan (same spacing, within ``limits_um``) upwards until its
        top ``TOP_PRINTING_POINTS`` sizes print, and downwards until a size
        fails.
    verify : bool
        Scan the band above the answer densely (``VERIFY_RATIO``,
        ``VERIFY_POINTS_PER_DECADE``) and move the answer past any failure
        found there.
    map_tasks : callable ``(fn, items) -> [fn(item) ...]``, optional
        How independent work runs: the sizes of the coarse scan and of a
        verification band, and the bisections of separate transitions
        (:func:`litho.parallel.map_tasks`). Default: one after another.
        The trials and their order do not depend on it.
    progress : callable, optional
        Called with no argument for each size judged, in this thread.

    Returns
    -------
    Scan
    """
    done: dict[float, Trial] = {}
    mapped = map_tasks or (lambda fn, items: [fn(item) for item in items])
    tick = progress or (lambda: None)

    def add(size, result):
        if size not in done:
            done[size] = result
            tick()

    def run(size):
        if size not in done:
            add(size, trial(size))
        return done[size].prints

    def run_all(sizes):
        new = [size for size in dict.fromkeys(sizes) if size not in done]
        for size, result in zip(new, mapped(trial, new)):
            add(size, result)

    coarse = log_sizes(low_um, high_um, points_per_decade)
    ratio = coarse[1] / coarse[0]
    run_all(coarse)
    if extend:
        while (not all(run(s) for s in coarse[-TOP_PRINTING_POINTS:]) and done[coarse[-1]].simulated
               and coarse[-1] * ratio <= limits_um[1]):
            coarse.append(coarse[-1] * ratio)
            run(coarse[-1])
        while all(done[s].prints for s in coarse) and coarse[0] > limits_um[0] * (1 + 1e-9):
            coarse.insert(0, max(limits_um[0], coarse[0] / ratio))
            run(coarse[0])

    def bisect(pair):
        # one transition: its own sizes, in the order tried (read-only on what is done)
        a, b = pair
        tried: dict[float, Trial] = {}
        lo, hi = a, b
        for _ in range(bisection_steps):
            mid = math.sqrt(lo * hi)
            if mid not in done and mid not in tried:
                tried[mid] = trial(mid)
            if (done.get(mid) or tried[mid]).prints == done[a].prints:
                lo = mid
            else:
                hi = mid
        return tried

    def refine(sizes):
        # bisect each transition between neighbouring sizes; transitions are independent
        pairs = [(a, b) for a, b in zip(sizes[:-1], sizes[1:]) if done[a].prints != done[b].prints]
        for tried in mapped(bisect, pairs):
            for size, result in tried.items():
                add(size, result)

    refine(coarse)
    for _ in range(MAX_VERIFY_PASSES if verify else 0):
        answer = _runs(done)[-1]
        if not answer[0] or answer[1] >= coarse[-1]:
            break
        top = min(answer[1] * VERIFY_RATIO, coarse[-1])
        band = [s for s in log_sizes(answer[1], top, VERIFY_POINTS_PER_DECADE)[1:-1]]
        run_all(band)
        if all(done[s].prints for s in band):
            break
        refine(sorted(s for s in done if answer[1] <= s <= top))
    runs = _runs(done)
    ordered = sorted(done)
    top_prints = runs[-1][0]
    size_um = runs[-1][1] if top_prints else None
    printing = [s for s in ordered if done[s].prints]
    smallest = printing[0] if printing else None
    below = runs[:-1] if top_prints else runs
    printing_islands = tuple((r[1], r[2]) for r in below if r[0])
    non_printing = tuple((r[1], r[2]) for r in below if not r[0] and smallest is not None and r[1] > smallest)
    return Scan(trials=tuple(done.values()), size_um=size_um,
                at_search_floor=bool(top_prints and len(runs) == 1),
                smallest_printing_um=smallest, printing_islands=printing_islands,
                non_printing_islands=non_printing)


def _runs(done: dict[float, Trial]) -> list[list]:
    """Runs of equal outcome in size order: ``[prints, first size, last size]``."""
    runs = []
    for size in sorted(done):
        if runs and runs[-1][0] == done[size].prints:
            runs[-1][2] = size
        else:
            runs.append([done[size].prints, size, size])
    return runs


def min_feature(recipe: Recipe, feature: str = "line-space", *, step: int | str = 0, gap_um: float = 1.0,
                size_range_um: tuple[float, float] | None = None, criteria: Criteria = Criteria(),
                points_per_decade: float = POINTS_PER_DECADE,
                progress: Callable[[], None] | None = None, scheduler: str | None = None) -> MinFeature:
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
        Sizes to scan (line width, square side or pixel pitch), µm, exactly.
        The default starts around the optics' resolution scale and grows the
        scan (within ``SIZE_RANGE_UM``) until its largest sizes print and its
        smallest fails.
    criteria : litho.spec.Criteria
        CD tolerance and minimum central h/h0.
    points_per_decade : float
        Density of the coarse scan.
    progress : callable, optional
        Called with no argument after each size is judged.
    scheduler : str, optional
        Where independent sizes run (:func:`litho.parallel.map_tasks`):
        Dask's local threads by default, ``"sync"`` one after another, or a
        Dask scheduler address. The answer and the trials do not depend on
        it. On 2 cores the shipped proximity search is 1.2× faster on
        threads; the projection one about the same (its Abbe sums already
        run their FFTs on every core).

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
    if not points_per_decade >= 1:
        raise LithoInputError(f"points_per_decade = {points_per_decade:g}: give at least 1")
    low, high = size_range_um or _default_range(recipe.steps[index], feature, gap_um)
    if not 0 < low < high:
        raise LithoInputError(f"size range {low:g}..{high:g} um: give 0 < low < high")
    from .parallel import map_tasks

    # a pure function of the size (picklable: a cluster's workers run it), progress counted here
    trial = functools.partial(_evaluate_size, recipe, index, feature, gap_um, criteria)
    with _quiet_cone_notes():
        scan = scan_sizes(trial, low, high, points_per_decade=points_per_decade, extend=size_range_um is None,
                          map_tasks=lambda fn, items: map_tasks(fn, items, scheduler=scheduler),
                          progress=progress)
    searched = (min(t.size_um for t in scan.trials), max(t.size_um for t in scan.trials))
    return MinFeature(feature, scan.size_um, scan.trials, gap_um if feature == "pixel-array" else None,
                      at_search_floor=scan.at_search_floor, smallest_printing_um=scan.smallest_printing_um,
                      printing_islands=scan.printing_islands, non_printing_islands=scan.non_printing_islands,
                      searched_um=searched, answer=_answer(scan, searched))


def _answer(scan: Scan, searched: tuple[float, float]) -> str:
    """The outcome of a scan in words."""
    lo, hi = searched
    if scan.size_um is None:
        top = max(scan.trials, key=lambda t: t.size_um)
        text = f"nothing prints from {lo:.3g} to {hi:.3g} um"
        if scan.smallest_printing_um is not None:
            text += f" reliably (some sizes print, the largest do not: {top.reason})"
        else:
            reasons = sorted({t.reason for t in scan.trials})
            text += f" ({top.reason} at {top.size_um:.3g} um" + ("" if len(reasons) == 1 else
                                                                 f"; {len(reasons)} different reasons") + ")"
        return text
    if scan.at_search_floor:
        return f"every size from {lo:.3g} to {hi:.3g} um prints"
    text = f"every size from {scan.size_um:.3g} to {hi:.3g} um prints"
    if scan.non_printing_islands:
        text += "; fails at " + ", ".join(_span(a, b) for a, b in scan.non_printing_islands)
    if scan.printing_islands:
        text += "; also prints at " + ", ".join(_span(a, b) for a, b in scan.printing_islands)
    return text


def _span(a: float, b: float) -> str:
    return f"{a:.3g} um" if a == b else f"{a:.3g}-{b:.3g} um"


def _default_range(step, feature: str, gap_um: float) -> tuple[float, float]:
    """A coarse scan to start from: a fraction of the optical resolution scale up to several times it."""
    optics = step.exposure.optics
    wavelength_um = min(w for w, _ in optics.lines) * 1e-3
    na = getattr(optics, "na", None)
    scale = rule_of_thumb_um(step) or (0.5 * wavelength_um / na if na else wavelength_um)
    if feature == "pixel-array":
        # a stripe subpixel is p/3 − g wide: start where it is about the optical scale
        return 3.0 * (gap_um + 0.25 * scale), 3.0 * (gap_um + 6.0 * scale)
    return max(SIZE_RANGE_UM[0], 0.25 * scale), 6.0 * scale


def search_all(recipe: Recipe, features=FEATURES, *, step: int | str = 0, gap_um: float = 1.0,
               criteria: Criteria = Criteria(), points_per_decade: float = POINTS_PER_DECADE,
               quiet: bool = True, scheduler: str | None = None) -> dict:
    """:func:`min_feature` for several features, as a JSON-ready dict.

    ``quiet=False`` draws a progress bar of the sizes simulated on stderr
    (:mod:`litho.progress`; the number of sizes is not known in advance).
    """
    from .parallel import check_scheduler
    from .progress import Progress, progress_enabled

    index = recipe.step_index(step)
    s = recipe.steps[index]
    check_scheduler(scheduler)   # an address that does not answer is refused before any work
    with Progress(None, "sizes", enabled=progress_enabled(quiet), description="min-feature") as bar:
        results = [min_feature(recipe, f, step=index, gap_um=gap_um, criteria=criteria,
                               points_per_decade=points_per_decade, progress=bar.update, scheduler=scheduler)
                   for f in features]
    return {
        "recipe": str(recipe.path) if recipe.path else recipe.name,
        "step": s.name,
        "criteria": criteria.as_dict(),
        "points_per_decade": points_per_decade,
        "rule_of_thumb_um": rule_of_thumb_um(s),
        "features": [r.as_dict() for r in results],
    }
