"""One process step, and the multi-colour sequence, from recipe to result.

``simulate(recipe)`` runs every step of a recipe on one shared grid:
read the step's mask layer, rasterise it, image it through the step's
optics (one image per spectral line), turn the per-line doses into crosslinks
and a developed film, and measure that film against the designed pixels.
Later steps are checked for film left on the pixels of earlier ones (colour
cross-contamination). Stages are the pure functions of the modules below
this one; this module only wires them and owns no physics.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from shapely import affinity

from .errors import LithoInputError
from .grid import Grid
from .layout.geometry import merge
from .metrology import Metrology, measure
from .recipe import Recipe, Step, load_recipe

# Opaque margin (µm) shown around an isolated mask window, where residue is looked for.
FIELD_MARGIN_UM = 3.0
# Sample pitch limits when litho picks the pitch itself.
AUTO_PIXEL_MIN_UM, AUTO_PIXEL_MAX_UM = 0.02, 0.5
# Samples across the smallest designed feature when litho picks the pitch.
SAMPLES_PER_FEATURE = 24
MIN_GRID_SAMPLES = 8


@dataclass(frozen=True)
class StepResult:
    """Everything one step produced, arrays on ``grid``.

    Attributes
    ----------
    name : str
    step : Step
    grid : Grid
    layer : tuple[int, int]
        The mask layer that was imaged.
    design : tuple of shapely Polygon
        Designed pixels, µm, where they should print (no overlay): the
        metrology measures the print against these.
    transmission : ndarray (ny, nx)
    images : list of SpectralImage
        Aerial image per spectral line, clear field = 1.
    intensity : ndarray (ny, nx)
        Line-weighted aerial image, clear field = 1.
    developed : litho.development.Developed
    metrology : Metrology
    overlay_um : (float, float)
        Offset of the mask from the design when it was exposed, µm.
    coating : litho.topography.Coating or None
        The film as coated over the recipe's ``[substrate]`` banks (local
        thickness h0(x, y)); None on a flat substrate.

    dose_bottom_mj_cm2 : ndarray (ny, nx) or None
        Local dose at the film bottom, summed over the spectral lines, mJ/cm²
        (the deepest sample of the LocalDose; None where it was not kept).
    """

    name: str
    step: Step
    grid: Grid
    layer: tuple[int, int]
    design: tuple
    transmission: np.ndarray
    images: list
    intensity: np.ndarray
    developed: Any
    metrology: Metrology
    overlay_um: tuple[float, float] = (0.0, 0.0)
    coating: Any = None

    dose_bottom_mj_cm2: np.ndarray | None = None

    @property
    def remaining_thickness(self) -> np.ndarray:
        """h/h0 after development."""
        return self.developed.remaining_thickness

    @property
    def openings(self) -> tuple:
        """The mask openings as exposed: the design moved by the overlay, µm."""
        return shifted(self.design, self.overlay_um)

    def plot(self, kind: str = "developed"):
        """A figure of this step: ``"developed"`` (printed edges coloured by EPE), ``"aerial"``
        or ``"thickness"``; each with a close-up of one pixel and a cut line
        (:mod:`litho.plot`). Returns the matplotlib Figure."""
        from . import plot

        makers = {"developed": plot.developed_figure, "aerial": plot.aerial_figure,
                  "thickness": plot.thickness_figure}
        if kind not in makers:
            raise LithoInputError(f"plot kind {kind!r}: accepted: {', '.join(makers)}")
        return makers[kind](self)

    def _headline(self) -> str:
        m = self.metrology.summary
        iou = m.get("iou_mean")
        return (f"{len(self.design)} pixels, missing {m.get('missing_pixels')}, bridges {m.get('bridges')}, "
                f"IoU {'n/a' if iou is None else format(iou, '.3f')}")

    def __repr__(self) -> str:
        ny, nx = self.grid.shape
        return (f"<StepResult {self.name!r} layer {self.layer[0]}/{self.layer[1]}: {self._headline()}; "
                f"grid {nx} x {ny} at {self.grid.pixel_um:g} µm>")

    def _repr_html_(self) -> str:
        import html

        return f"<b>Step {html.escape(self.name)}</b>: {html.escape(self._headline())}"


def shifted(polygons, offset_um: tuple[float, float]) -> tuple:
    """``polygons`` translated by ``offset_um`` = (dx, dy) µm."""
    dx, dy = offset_um
    if dx == 0 and dy == 0:
        return tuple(polygons)
    return tuple(affinity.translate(p, dx, dy) for p in polygons)


@dataclass(frozen=True)
class Result:
    """The outcome of :func:`simulate`.

    Attributes
    ----------
    recipe : Recipe
    steps : tuple[StepResult, ...]
    contamination : list of dict
        For each later step, its film left on each earlier step's pixels.
    runtime_s : float
    convergence : dict
        The pitch check of :mod:`litho.convergence` (empty when not asked for).
    report : dict
        Everything numeric, JSON-ready (:func:`litho.report.build_report`).
    """

    recipe: Recipe
    steps: tuple[StepResult, ...]
    contamination: list
    runtime_s: float
    convergence: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        steps = "; ".join(f"{s.name}: {s._headline()}" for s in self.steps)
        return f"<Result {self.recipe.name!r}, {len(self.steps)} step(s): {steps}; {self.runtime_s:.1f} s>"

    def _repr_html_(self) -> str:
        """The summary table of report.html (one row per step and colour)."""
        from .html_report import summary_table_html

        import html

        return f"<b>{html.escape(self.recipe.name)}</b>" + summary_table_html(self.report)

    @property
    def pixels(self):
        """A pandas DataFrame, one row per designed pixel of every step (report.json's names and units).

        Columns: ``step``, the pixel record of report.json (``iou``,
        ``cd_x_um``, ``epe_rms_um`` ...), with ``design_centroid_um`` split
        into ``design_centroid_x_um`` and ``design_centroid_y_um``.
        """
        import pandas as pd

        rows = []
        for step in self.report["steps"]:
            for p in step["pixels"]:
                p = dict(p)
                cx, cy = p.pop("design_centroid_um")
                rows.append({"step": step["name"], "index": p.pop("index"), "design_centroid_x_um": cx,
                             "design_centroid_y_um": cy, **p})
        return pd.DataFrame(rows)

    def save(self, out_dir: str | Path, *, figures: bool = True) -> list[Path]:
        """Write report.json, predicted.gds and figures into ``out_dir``.

        Files appear only when all of them were written (DESIGN.md §6).
        Returns the paths written.
        """
        from .report import save_result

        return save_result(self, out_dir, figures=figures)

    def plot(self, step: str | int | None = None, kind: str = "developed"):
        """A figure of the result: the RGB composite of a multi-step result, or one step's
        ``kind`` figure (see :meth:`StepResult.plot`) when ``step`` (name or index) is given
        or there is one step. Returns the matplotlib Figure."""
        if step is None and len(self.steps) > 1:
            from .plot import rgb_figure

            return rgb_figure(self)
        names = [s.name for s in self.steps]
        if step is None:
            step = 0
        if isinstance(step, str):
            if step not in names:
                raise LithoInputError(f"step {step!r}: accepted: {', '.join(names)}")
            step = names.index(step)
        return self.steps[step].plot(kind)


@dataclass(frozen=True)
class Setup:
    """What every command needs before it simulates: the one set-up path (DESIGN.md §1).

    Attributes
    ----------
    recipe : Recipe
    masks : tuple of litho.gds.Mask
        Each step's mask layer as read (window applied); empty for a
        designed window (:func:`prepare_design`).
    designs : tuple of tuple of shapely Polygon
        Each step's designed pixels, µm, where they should print (no overlay).
    overlays_um : tuple of (float, float)
        Each step's mask offset when exposed, µm.
    grid : Grid
        The one grid every step is simulated on (pitch within every optics' limit).
    memory : litho.memory.MemoryEstimate
        Peak bytes of simulating on ``grid``, checked against what the process may use.
    fits : bool
        Whether ``memory`` fits; False only when ``prepare`` was asked to allow
        tiling (otherwise a grid that does not fit is refused).
    convergence : dict
        The pitch search of ``pixel_um="auto"`` (empty otherwise).
    layers : tuple of (int, int)
        Each step's mask layer.
    substrate : litho.topography.SubstrateMap or None
        The recipe's ``[substrate]`` banks laid on ``grid`` (None: flat).
    """

    recipe: Recipe
    masks: tuple
    designs: tuple
    overlays_um: tuple
    grid: Grid
    memory: Any
    fits: bool = True
    convergence: dict = field(default_factory=dict)
    layers: tuple = ()
    substrate: Any = None


def prepare(recipe: Recipe | str | Path, pixel_um: float | str | None = None, *,
            allow_tiling: bool = False, progress: Callable[[str], None] | None = None) -> Setup:
    """Read the masks, choose the grid and check its memory: the set-up of every command.

    Parameters
    ----------
    recipe : Recipe or path
    pixel_um : float or "auto", optional
        Sample pitch, µm; overrides ``[simulation] pixel_um`` and the automatic
        choice (:func:`choose_pixel_um`, which honours every optics' pitch limit).
        "auto" searches for a converged pitch (:func:`litho.convergence.auto_pitch`).
    allow_tiling : bool
        Return a Setup with ``fits=False`` instead of refusing a grid that does
        not fit in memory (the caller then tiles it, :mod:`litho.tiling`).
    progress : callable, optional

    Returns
    -------
    Setup

    Raises
    ------
    LithoInputError
        A pitch coarser than an optics allows, a window too small for the
        pitch, or (unless ``allow_tiling``) a grid that would not fit in memory.
    """
    from .gds import read_mask

    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    say = progress or (lambda message: None)
    sim = recipe.simulation
    masks = []
    for step in recipe.steps:
        say(f"{step.name}: reading mask {step.mask.path.name} layer {step.mask.layer}")
        mask = read_mask(step.mask.path, layer=step.mask.layer, cell=step.mask.cell,
                         window=step.mask.window_um)
        # the design stays where it should print; the mask is exposed moved by the overlay
        masks.append((mask, tuple(mask.polygons)))

    auto = pixel_um == "auto" or (pixel_um is None and sim.pixel_um == "auto")
    pixel = (None if auto else pixel_um) or (None if auto else sim.pixel_um) or choose_pixel_um(
        [d for _, ds in masks for d in ds], [s.exposure.optics for s in recipe.steps])
    for step in recipe.steps:
        step.exposure.optics.check_pixel(pixel, str(recipe.path or "recipe"))
    convergence = {}
    if auto:
        from .convergence import auto_pitch

        say(f"choosing a converged pitch from {pixel:g} um")
        pixel, convergence = auto_pitch(
            [(step, mask.layer, design, step.exposure.overlay_um) for step, (mask, design) in zip(recipe.steps, masks)],
            [d for _, d in masks], lambda p: simulation_grid(recipe, [m for m, _ in masks], p), recipe, pixel)
    grid = simulation_grid(recipe, [m for m, _ in masks], pixel)
    estimate, fits = _memory(grid, recipe, allow_tiling)
    return Setup(recipe=recipe, masks=tuple(m for m, _ in masks), designs=tuple(d for _, d in masks),
                 overlays_um=tuple(tuple(float(v) for v in s.exposure.overlay_um) for s in recipe.steps),
                 grid=grid, memory=estimate, fits=fits, convergence=convergence,
                 layers=tuple(tuple(m.layer) for m, _ in masks), substrate=_substrate(recipe, grid, fits, say))


def _substrate(recipe: Recipe, grid: Grid, fits: bool, say: Callable[[str], None]):
    """The ``[substrate]`` banks on ``grid`` (litho.topography), or None; refused with tiling."""
    if recipe.substrate is None:
        return None
    if not fits:
        raise LithoInputError(f"{recipe.path or 'recipe'}: [substrate] banks are simulated on one grid, and this "
                              "grid needs tiling; give a smaller mask.window_um or a coarser simulation.pixel_um")
    from .topography import prepare_substrate

    say(f"substrate: banks from {recipe.substrate.file.name} layer {recipe.substrate.bank_layer}")
    return prepare_substrate(recipe, grid)


def prepare_design(recipe: Recipe, design: tuple, grid: Grid, *, step: int = 0, window: str = "isolated",
                   layer: tuple[int, int] = (1, 0)) -> Setup:
    """The set-up of one step imaging designed geometry (no mask file) on a given grid.

    What min-feature and other searches simulate: ``recipe`` reduced to
    step ``step`` with ``[simulation] window`` and ``pixel_um`` set for
    ``grid``, the pitch checked against the optics' limit and the memory
    checked, exactly as :func:`prepare` does for a mask.

    Raises
    ------
    LithoInputError
        A pitch coarser than the optics allow, or a grid that would not fit in memory.
    """
    import dataclasses

    chosen = recipe.steps[step]
    sim = dataclasses.replace(recipe.simulation, window=window, pixel_um=grid.pixel_um)
    local = dataclasses.replace(recipe, simulation=sim, steps=(chosen,))
    chosen.exposure.optics.check_pixel(grid.pixel_um, str(recipe.path or "recipe"))
    estimate, _ = _memory(grid, local, False)
    return Setup(recipe=local, masks=(), designs=(tuple(design),),
                 overlays_um=(tuple(float(v) for v in chosen.exposure.overlay_um),), grid=grid,
                 memory=estimate, layers=(tuple(layer),))


def _memory(grid: Grid, recipe: Recipe, allow_tiling: bool):
    """(estimate, whether it fits); refuses a grid that does not fit unless tiling is allowed."""
    from .memory import MEMORY_FRACTION, check_simulation_memory, estimate_simulation

    available = _available_memory_bytes()
    if not allow_tiling:
        return check_simulation_memory(grid, recipe, available=available), True
    estimate = estimate_simulation(grid, recipe)
    return estimate, estimate.total_bytes <= MEMORY_FRACTION * available[0]


def simulate(recipe: Recipe | str | Path, *, pixel_um: float | str | None = None,
             check_convergence: bool = False, progress: Callable[[str], None] | None = None,
             setup: Setup | None = None) -> Result:
    """Simulate every step of a recipe.

    Parameters
    ----------
    recipe : Recipe or path
        A loaded recipe or the path of one.
    pixel_um : float or "auto", optional
        Sample pitch in µm; overrides ``[simulation] pixel_um`` and the
        automatic choice (:func:`choose_pixel_um`). "auto" halves that
        choice until the CD is converged (:func:`litho.convergence.auto_pitch`).
    check_convergence : bool
        Re-run one representative pixel at half the pitch and record in
        ``Result.convergence`` (and the report) whether the CD is converged
        (:mod:`litho.convergence`); implied by ``pixel_um="auto"``.
    progress : callable, optional
        Called with a short message as each stage starts.
    setup : Setup, optional
        The result of :func:`prepare` for this recipe (it is prepared here
        otherwise); ``recipe`` and ``pixel_um`` are then ignored.

    Returns
    -------
    Result

    Examples
    --------
    >>> import litho
    >>> result = litho.simulate("recipes/ebt_cdse_254nm.toml")   # doctest: +SKIP
    >>> result.report["steps"][0]["metrics"]["iou_mean"]          # doctest: +SKIP
    """
    t_start = time.perf_counter()
    say = progress or (lambda message: None)
    if setup is None:
        setup = prepare(recipe, pixel_um, progress=say)
    recipe, grid, pixel = setup.recipe, setup.grid, setup.grid.pixel_um
    convergence = dict(setup.convergence)
    masks = list(zip(setup.masks, setup.designs))

    results = []
    for step, (mask, design) in zip(recipe.steps, masks):
        results.append(simulate_step(step, mask.layer, design, grid, recipe, say,
                                     overlay_um=step.exposure.overlay_um, coating=_coating(setup, step)))
    contamination = colour_contamination(results)
    if check_convergence and not convergence:
        from .convergence import check

        say(f"convergence: one pixel at {pixel:g} and {pixel / 2:g} um")
        convergence = check(results, recipe)
    result = Result(recipe=recipe, steps=tuple(results), contamination=contamination,
                    runtime_s=time.perf_counter() - t_start, convergence=convergence)
    from .report import build_report

    object.__setattr__(result, "report", build_report(result))
    return result


def _coating(setup: Setup, step: Step):
    """The step's film coated over the set-up's substrate banks (litho.topography), or None."""
    if setup.substrate is None:
        return None
    from .topography import coat

    return coat(setup.substrate, step.film)


def expose_step(step: Step, design: tuple, grid: Grid, recipe: Recipe, dose_mj_cm2: float, *,
                overlay_um: tuple[float, float] = (0.0, 0.0), say: Callable[[str], None] = lambda m: None,
                thickness_nm: np.ndarray | None = None):
    """Rasterise, image and expose one step: the mask → LocalDose half of :func:`simulate_step`.

    Returns ``(transmission, images, intensity, local_dose)``: the mask's area
    coverage, the top-of-film image per spectral line, their line-weighted sum
    (clear field = 1), and the dose at every depth sample for an incident
    ``dose_mj_cm2`` (a sweep asks for 1 mJ/cm² and scales it). ``thickness_nm``:
    the local film thickness h0(y, x) of a film coated over banks (:func:`litho.dose.local_dose`).
    """
    from .dose import depth_samples, image_depths_nm, local_dose
    from .maskmodel import mask_model
    from .optics import SpectralImage

    sim = recipe.simulation
    say(f"{step.name}: rasterising {len(design)} pixels on a {grid.shape[1]}x{grid.shape[0]} grid "
        f"at {grid.pixel_um:g} um")
    geometry = merge(shifted(design, overlay_um))
    # a periodic window is one period: a mask moved by the overlay wraps around it
    frames = mask_model(step.exposure).frames(geometry, grid, periodic=sim.window == "periodic",
                                              overlay_um=overlay_um)
    transmission = frames.coverage
    say(f"{step.name}: aerial image ({step.exposure.tool})")
    # The film stage gets the image at each depth it samples (and, for the substrate's
    # reflection, at the unfolded path 2h - z), not the top image at every depth.
    optics = step.exposure.optics
    depth = depth_samples(step.film, step.crosslinker, [w for w, _ in optics.lines])
    inside = frames.depth_images(grid.pixel_um, optics, image_depths_nm(step.film, depth),
                                 film_index=step.film.refractive_index, periodic=sim.window == "periodic",
                                 guard_um=sim.guard_um)
    images = [SpectralImage(im.wavelength_nm, im.weight, np.array(im.at_depth(0.0))) for im in inside]
    intensity = sum(im.weight * im.intensity for im in images)
    local = local_dose(inside, step.film, step.crosslinker, dose_mj_cm2, depth, thickness_nm=thickness_nm)
    return transmission, images, intensity, local


def simulate_step(step: Step, layer: tuple[int, int], design: tuple, grid: Grid, recipe: Recipe,
                  say: Callable[[str], None] = lambda m: None, *,
                  overlay_um: tuple[float, float] = (0.0, 0.0), coating=None,
                  measure_print: bool = True) -> StepResult:
    """Image, expose, develop and measure one step on ``grid``.

    The mask is ``design`` moved by ``overlay_um`` (µm); the print is
    measured against the unmoved ``design``, so overlay shows up in the
    centroid shift, IoU and EPE. ``coating`` (a :class:`litho.topography.Coating`
    on ``grid``) exposes and develops the film at its local thickness h0(x, y);
    h/h0 is then relative to the local h0 (0 where no film was coated).
    ``measure_print=False`` skips the metrology (``metrology`` is then None):
    a tiled run measures only its tile's crop.
    """
    from .development import develop

    sim = recipe.simulation
    transmission, images, intensity, local = expose_step(
        step, design, grid, recipe, step.exposure.dose_mj_cm2, overlay_um=overlay_um, say=say,
        thickness_nm=None if coating is None else coating.thickness_nm)
    say(f"{step.name}: crosslinking and development")
    developed = develop(local, step.film, step.crosslinker, step.developer, step.exposure.atmosphere,
                        seed=recipe.seed, stochastic=sim.stochastic, pixel_um=grid.pixel_um)
    if coating is not None:
        from .topography import without_absent_film

        developed = without_absent_film(developed, coating)
    metrology = None
    if measure_print:
        say(f"{step.name}: metrology")
        metrology = measure(developed.remaining_thickness, grid, design, sim.threshold)
    return StepResult(name=step.name, step=step, grid=grid, layer=tuple(layer), design=design,
                      transmission=transmission, images=images, intensity=intensity,
                      developed=developed, metrology=metrology,
                      overlay_um=(float(overlay_um[0]), float(overlay_um[1])), coating=coating,
                      dose_bottom_mj_cm2=sum(d[-1] for _, d in local.lines))


def choose_pixel_um(design, optics=()) -> float:
    """A sample pitch (µm) that resolves the smallest designed feature and the optics.

    ``SAMPLES_PER_FEATURE`` samples across the narrowest side of the
    smallest pixel, and no coarser than any optics' ``max_pixel_um`` (the
    pitch its image band needs), rounded down to 1, 2, 2.5 or 5 × 10^k, within
    [``AUTO_PIXEL_MIN_UM``, ``AUTO_PIXEL_MAX_UM``].
    """
    optics_limit = min((o.max_pixel_um for o in optics), default=math.inf)
    if not design:
        return _nice_pitch(min(AUTO_PIXEL_MAX_UM, optics_limit))
    widths = []
    for poly in design:
        rect = poly.minimum_rotated_rectangle
        xs, ys = rect.exterior.coords.xy
        sides = [math.hypot(xs[k + 1] - xs[k], ys[k + 1] - ys[k]) for k in range(2)]
        widths.append(min(s for s in sides if s > 0) if any(s > 0 for s in sides) else 0.0)
    feature = min(w for w in widths if w > 0) if any(w > 0 for w in widths) else 1.0
    return _nice_pitch(min(feature / SAMPLES_PER_FEATURE, optics_limit))


def _nice_pitch(pitch_um: float) -> float:
    """``pitch_um`` rounded down to 1, 2, 2.5 or 5 × 10^k and clipped to the automatic range."""
    pitch_um = min(max(pitch_um, AUTO_PIXEL_MIN_UM), AUTO_PIXEL_MAX_UM)
    decade = 10 ** math.floor(math.log10(pitch_um))
    nice = max(m * decade for m in (1, 2, 2.5, 5) if m * decade <= pitch_um * (1 + 1e-9))
    return float(max(nice, AUTO_PIXEL_MIN_UM))


def simulation_grid(recipe: Recipe, masks, pixel_um: float) -> Grid:
    """The one grid every step of ``recipe`` is simulated on.

    Isolated window: the union of the steps' mask windows (or mask extents),
    both where the design is and where the overlay moves the mask, plus an
    opaque margin. Periodic window: exactly the mask window, which must then
    be one period of the layout (a mask moved by the overlay wraps around it).
    """
    boxes = []
    for step, mask in zip(recipe.steps, masks):
        if step.mask.window_um is not None:
            xmin, ymin, xmax, ymax = step.mask.window_um
        elif recipe.simulation.window == "periodic":
            raise LithoInputError(
                f"{recipe.path or 'recipe'}: simulation.window = 'periodic' needs mask.window_um set to one "
                f"period of the layout (step {step.name})")
        else:
            xmin, ymin, xmax, ymax = mask.bounds_um
        boxes.append((xmin, ymin, xmax, ymax))
        dx, dy = step.exposure.overlay_um
        if recipe.simulation.window != "periodic":
            boxes.append((xmin + dx, ymin + dy, xmax + dx, ymax + dy))
    xmin = min(b[0] for b in boxes)
    ymin = min(b[1] for b in boxes)
    xmax = max(b[2] for b in boxes)
    ymax = max(b[3] for b in boxes)
    # A grid needs a few samples across the window (image gradients, contours); a coarser pitch
    # is refused here, before any simulation, with the pitch that would do.
    margin = 0.0 if recipe.simulation.window == "periodic" else FIELD_MARGIN_UM
    side_um = min(xmax - xmin, ymax - ymin) + 2 * margin
    if side_um / pixel_um < MIN_GRID_SAMPLES:
        raise LithoInputError(
            f"{recipe.path or 'recipe'}: pixel_um = {pixel_um:g} µm leaves fewer than {MIN_GRID_SAMPLES} samples "
            f"across the {side_um:g} µm window; give a pitch <= {side_um / MIN_GRID_SAMPLES:.3g} µm")
    if recipe.simulation.window == "periodic":
        nx = max(1, round((xmax - xmin) / pixel_um))
        ny = max(1, round((ymax - ymin) / pixel_um))
        # The period must be a whole number of samples, or the FFT's period is not the layout's.
        if abs(nx * pixel_um - (xmax - xmin)) > 1e-6 or abs(ny * pixel_um - (ymax - ymin)) > 1e-6:
            raise LithoInputError(
                f"{recipe.path or 'recipe'}: simulation.pixel_um = {pixel_um:g} does not divide the periodic "
                f"window {xmax - xmin:g} x {ymax - ymin:g} um; choose a pitch that does")
        return Grid((ny, nx), pixel_um, (xmin, ymin))
    margin = FIELD_MARGIN_UM
    return Grid.covering((xmin - margin, ymin - margin, xmax + margin, ymax + margin), pixel_um)


def check_memory(grid: Grid, recipe: Recipe) -> None:
    """Refuse a grid whose working arrays would not fit in memory (DESIGN.md §4, :mod:`litho.memory`)."""
    from .memory import check_simulation_memory

    check_simulation_memory(grid, recipe, available=_available_memory_bytes())


def _available_memory_bytes() -> tuple[int, str]:
    from .memory import memory_limit

    return memory_limit()


def colour_contamination(results: list[StepResult]) -> list[dict]:
    """What each later step does to the pixels of each earlier step.

    A later colour is coated over the finished earlier pixels; whatever of
    it survives development there is colour cross-contamination
    (DESIGN.md §1), reported as the mean and maximum h/h0 of the later film
    over the earlier step's designed pixels.

    The later developer also reaches the earlier pixels. Their sol is long
    gone; what it can still do is swell and lift loose gel. With the
    swelling threshold spread over QDs as in
    :func:`litho.development.swelling_survival`, a QD that survived its own
    developer (survival S_own) survives the later one too with probability
    min(S_own, S_later)/S_own at the film bottom, which decides lift-off.
    Its mean over the earlier printed area is the solvent resistance
    (1 = the later developer strips nothing).
    """
    from .development import swelling_survival

    rows = []
    grid = results[0].grid if results else None
    if grid is None or len(results) < 2:
        return rows
    # Samples wholly inside an earlier step's designed pixels: its transmission is their coverage.
    inside = {earlier.name: earlier.transmission > 1 - 1e-9 for earlier in results}
    for k, later in enumerate(results):
        for earlier in results[:k]:
            mask = inside[earlier.name]
            h = later.remaining_thickness[mask] if mask.any() else np.zeros(1)
            printed = earlier.remaining_thickness >= earlier.metrology.threshold
            gel = earlier.developed.gel_fraction_bottom[printed] if printed.any() else np.zeros(1)
            own = swelling_survival(gel, earlier.step.developer)
            again = np.minimum(own, swelling_survival(gel, later.step.developer))
            resistance = np.divide(again, own, out=np.ones_like(own), where=own > 1e-12)
            rows.append({
                "later_step": later.name,
                "earlier_step": earlier.name,
                "later_film_on_earlier_pixels_mean_nrt": float(h.mean()),
                "later_film_on_earlier_pixels_max_nrt": float(h.max()),
                "contaminated_area_fraction": float((h >= later.metrology.threshold).mean()),
                "earlier_pixels_solvent_resistance": float(resistance.mean()),
            })
    return rows
