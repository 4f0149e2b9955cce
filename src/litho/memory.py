"""How many bytes a simulation needs, and how many this process may use (DESIGN.md §4).

:func:`estimate_simulation` counts the arrays a :func:`litho.simulate` run
holds at its peak, per sample of the simulation grid:

* kept per step, to the end of the run (``StepResult``): the transmission,
  one image per spectral line, the line-weighted intensity, the developed
  film (remaining thickness, retained fraction at each depth sample, gel
  fraction, PLQY retention) - ``KEPT_PLANES + n_depth + n_lines`` float64
  planes;
* the working set of the largest stage of one step, which is either the
  development (the local dose at each depth per line, and the chemistry
  temporaries of the same shape) or the metrology (gradients, contour
  masks, labels; ``METROLOGY_PLANES`` planes), whichever is larger;
* the imaging working set on the *padded* window (an isolated window is
  padded by the optics' guard band, which grows with the proximity gap):
  the mask spectrum, one direction's transfer and film step factor and its
  squared field - ``PROXIMITY_BYTES_PER_SAMPLE`` per padded sample - and per
  image path its field in the batch (``PROXIMITY_BYTES_PER_PATH_SAMPLE``) and
  its depth image; plus the transfer functions and film step factors of every
  illumination direction kept in the gap cache (bounded by its byte budget),
  and for projection optics the SOCS kernels on their band grid;
* a fixed ``BASE_BYTES`` (mask geometry, caches of small objects).

The estimate is for a raster without symmetry: a symmetric one images and
caches one direction per orbit (:mod:`litho.optics.symmetry`) and needs less.
The plane counts are measured, not guessed: ``benchmarks/bench_memory.py``
(``--no-symmetry`` for the case the estimate bounds) prints the estimate
against tracemalloc's peak for the shipped recipes and large grids; they
agree to within 20 % (benchmarks/README.md), except that projection kernels
are counted at one per source point (the kept number is known only after
the build), which over-counts by up to 1.5×.

:func:`available_bytes` is the memory this process may use: the smallest of
MemAvailable, the address-space limit (RLIMIT_AS) less what is mapped
already, and the cgroup (v2 ``memory.max``, v1 ``memory.limit_in_bytes``)
limit less its current usage.
"""

from __future__ import annotations

import math
import resource
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# float64 planes each step keeps to the end of the run, beyond one per depth sample and line
KEPT_PLANES = 10
# float64 planes of the development working set: fixed, and per depth sample and line
DEVELOP_PLANES = 2
DEVELOP_PLANES_PER_DEPTH_LINE = 15
# float64 planes of the local dose being formed, per depth sample and line (beside the depth images)
DOSE_PLANES_PER_DEPTH_LINE = 1
# float64 planes of the metrology working set (contours, labels, gradients)
METROLOGY_PLANES = 4
# bytes per padded-window sample while one line is imaged (mask spectrum, the direction's
# transfer and film step factor, the squared field), and per image path beside the depth
# image itself (the path's field in the batch transformed in place, and its symmetrised
# copy); measured by tests/test_memory.py and benchmarks/bench_memory.py
PROXIMITY_BYTES_PER_SAMPLE = 96
PROXIMITY_BYTES_PER_PATH_SAMPLE = 20
PROJECTION_BYTES_PER_SAMPLE = 36
CONTACT_BYTES_PER_SAMPLE = 16  # hard contact: the image is a copy of the mask
BASE_BYTES = 1 * 2**20
# Refuse a simulation whose estimate exceeds this share of the memory the process may use.
MEMORY_FRACTION = 0.8
FALLBACK_AVAILABLE_BYTES = 8 * 2**30


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a simulation needs at its peak, with the parts that make it up.

    Attributes
    ----------
    total_bytes : int
        The peak: the largest, over the steps and their stages, of what is
        held then (see the module notes).
    parts : dict str -> int
        At the peak: ``kept`` (results of earlier steps), ``caches``
        (transfer functions, SOCS kernels), ``stage`` (the working set of the
        stage at the peak), ``base``; and ``stage_name``'s index in ``parts``
        as the key ``peak_stage`` ("imaging", "dose", "development" or "metrology").
    """

    total_bytes: int
    parts: dict = field(default_factory=dict)


def estimate_simulation(grid, recipe) -> MemoryEstimate:
    """Peak bytes of :func:`litho.simulate` of ``recipe`` on ``grid`` (see the module notes).

    Steps run one after the other; each keeps its results to the end, and
    the caches keep what they hold. The peak is the largest, over the
    steps, of base + kept results of earlier steps + caches + the largest
    stage of this step (imaging, development, or metrology with this step's
    results already kept).
    """
    from .optics.cache import KERNEL_CACHE
    from .optics.proximity import GAP_TRANSFERS

    samples = int(grid.shape[0]) * int(grid.shape[1])
    periodic = recipe.simulation.window == "periodic"
    kept = 0
    transfer: dict = {}
    kernels: dict = {}
    best = None
    for step in recipe.steps:
        optics = step.exposure.optics
        n_lines = len(optics.lines)
        n_depth = depth_samples(step, [w for w, _ in optics.lines])
        # contact/proximity images the film at every depth sample and reflected path (2·nz − 1
        # images per line with a reflecting substrate); projection broadcasts the top image
        n_paths = image_paths(step, n_depth) if hasattr(optics, "film_depth_um") else 0
        imaging, t_key, t_bytes, k_key, k_bytes, padded = _imaging_bytes(_imaged_with(step), grid, periodic,
                                                                         recipe.simulation.guard_um, n_paths)
        if t_key is not None:
            # the transfer functions into the film depend on the film's index (the cache key has it)
            t_key = (*t_key, getattr(step.film, "refractive_index", None))
            transfer[t_key] = t_bytes  # the same optics on the same grid reuse the cached functions
        if k_key is not None:
            kernels[k_key] = k_bytes
        # the proximity transfer functions are held per gap, up to the gap cache's byte budget
        caches = (min(sum(transfer.values()), GAP_TRANSFERS.max_bytes)
                  + min(sum(kernels.values()), KERNEL_CACHE.max_bytes))
        this_kept = 8 * samples * (KEPT_PLANES + n_depth + n_lines)
        depth_planes = n_paths * n_lines
        stages = {
            # one line's depth images on the padded grid before they are cropped, and the cropped
            # stacks of every line
            "imaging": imaging + 8 * (padded * n_paths + samples * depth_planes),
            # the per-line dose E(z) is formed while every depth image is still held
            "dose": 8 * samples * (depth_planes + DOSE_PLANES_PER_DEPTH_LINE * n_depth * n_lines),
            "development": 8 * samples * (DEVELOP_PLANES + DEVELOP_PLANES_PER_DEPTH_LINE * n_depth * n_lines),
            "metrology": this_kept + 8 * samples * METROLOGY_PLANES,
        }
        name = max(stages, key=stages.get)
        total = BASE_BYTES + kept + caches + stages[name]
        if best is None or total > best.total_bytes:
            best = MemoryEstimate(int(total), {"base": BASE_BYTES, "kept": kept, "caches": caches,
                                               "stage": stages[name], "peak_stage": name,
                                               "step": step.name})
        kept += this_kept
    return best


def depth_samples(step, wavelengths_nm) -> int:
    """Depth samples the development of ``step`` uses (:func:`litho.film.depth_samples_nm`)."""
    from . import film as film_optics

    try:
        alphas = [film_optics.absorption_coefficient_per_nm(step.film, step.crosslinker, w)
                  for w in wavelengths_nm]
        return int(film_optics.depth_samples_nm(step.film, alphas, wavelengths_nm).size)
    except Exception:  # noqa: BLE001 - an estimate must not fail where the run reports it better
        return film_optics.MAX_DEPTH_SAMPLES


def _imaged_with(step):
    """The optics whose direction rule images the step (:func:`litho.dose.imaging_optics`)."""
    from . import dose

    try:
        return dose.imaging_optics(step)
    except Exception:  # noqa: BLE001 - an estimate must not fail where the run reports it better
        return step.exposure.optics


def image_paths(step, n_depth: int) -> int:
    """Images per line the film stage needs: nz depths, and nz − 1 reflected paths 2h − z when the substrate reflects."""
    from . import dose

    try:
        return int(dose.image_depths_nm(step.film, dose.depth_samples(
            step.film, step.crosslinker, [w for w, _ in step.exposure.optics.lines])).size)
    except Exception:  # noqa: BLE001 - an estimate must not fail where the run reports it better
        return 2 * n_depth - 1


def _imaging_bytes(optics, grid, periodic: bool, guard_um: float | None = None, n_paths: int = 1):
    """Imaging of one step on ``grid``: (working bytes, transfer cache key, its bytes, kernel key, their bytes,
    padded samples).

    The working set is on the padded window: an isolated window is padded by
    the optics' guard band (:mod:`litho.optics.window`), which grows with the
    proximity gap. Proximity printing images ``n_paths`` film depths per
    direction in one batch (:meth:`litho.optics.ProximityOptics.depth_intensities`).
    """
    from .optics.window import BandPlan, Window

    if guard_um is None:  # [simulation] guard_um, else the optics' blur length (litho.optics.imaging)
        guard_um = float(getattr(optics, "blur_length_um", 0.0) or 0.0)
    win = Window.plan(grid.shape, grid.pixel_um, guard_um, periodic)
    padded = win.padded_shape[0] * win.padded_shape[1]
    samples = int(grid.shape[0]) * int(grid.shape[1])
    if hasattr(optics, "directions"):
        if not getattr(optics, "effective_gap_um", 0) > 0:
            return CONTACT_BYTES_PER_SAMPLE * samples, None, 0, None, 0, padded
        sx, sy, _ = optics.directions(grid.pixel_um)
        transfer = 0
        for wavelength_nm, _ in optics.lines:
            tilt = float(np.max(np.hypot(sx, sy))) / (wavelength_nm * 1e-3)
            plan = BandPlan.make(win.padded_shape, grid.pixel_um, optics.field_band_per_um(wavelength_nm, tilt))
            # per illumination direction a transfer function and the film's depth step factor
            # (ProximityOptics._cached_film_phase), complex128 on the band box
            transfer += 2 * 16 * plan.ay.k.size * plan.ax.k.size * len(sx)
        key = (repr(optics), win.padded_shape, grid.pixel_um)
        working = (PROXIMITY_BYTES_PER_SAMPLE + PROXIMITY_BYTES_PER_PATH_SAMPLE * n_paths) * padded
        return working, key, transfer, None, 0, padded
    kernels = 0
    for wavelength_nm, _ in optics.lines:
        band = optics.na * (1 + optics.sigma_max) / (wavelength_nm * 1e-3)
        plan = BandPlan.make(win.padded_shape, grid.pixel_um, band)
        box = plan.ay.k.size * plan.ax.k.size
        # at most one kernel per source point; the set and one imaging-ready copy (Kernels.nbytes),
        # for each image of the source extrapolation (the step's and twice the step's)
        for imaged in filter(None, (optics.fine_source_optics(), optics.coarse_source_optics())):
            n_source = imaged.source.points(imaged.source_step_sigma)[0].size
            kernels += int(1.5 * 16 * box * min(n_source, box))
    key = (repr(optics), win.padded_shape, grid.pixel_um)
    return PROJECTION_BYTES_PER_SAMPLE * padded, None, 0, key, kernels, padded


def available_bytes() -> int:
    """Bytes this process may still allocate: MemAvailable, RLIMIT_AS and cgroup limits, whichever is least."""
    return memory_limit()[0]


def memory_limit() -> tuple[int, str]:
    """(bytes this process may still allocate, which limit that is)."""
    limits = {"available memory": _mem_available(), "address-space limit (ulimit -v)": _rlimit_as_left(),
              "cgroup memory limit": _cgroup_left()}
    known = {name: v for name, v in limits.items() if v is not None}
    if not known:
        return FALLBACK_AVAILABLE_BYTES, "assumed memory"
    name = min(known, key=known.get)
    return int(known[name]), name


def check_simulation_memory(grid, recipe, available: int | None = None) -> MemoryEstimate:
    """Refuse (one line, with the option that makes it fit) a simulation that would not fit in memory.

    Parameters
    ----------
    grid : Grid
    recipe : Recipe
    available : int or (int, str), optional
        Bytes the process may use (and which limit that is); default :func:`memory_limit`.

    Returns
    -------
    MemoryEstimate
    """
    from .errors import LithoInputError

    estimate = estimate_simulation(grid, recipe)
    if available is None:
        available = memory_limit()
    available, source = available if isinstance(available, tuple) else (available, "available memory")
    allowed = MEMORY_FRACTION * available
    if estimate.total_bytes > allowed:
        ny, nx = grid.shape
        coarser = coarser_pitch_um(grid.pixel_um, estimate.total_bytes, allowed)
        raise LithoInputError(
            f"{recipe.path or 'recipe'}: a {nx} x {ny} grid at {grid.pixel_um:g} um needs about "
            f"{format_bytes(estimate.total_bytes)}, more than the {format_bytes(allowed)} litho may use "
            f"({MEMORY_FRACTION:.0%} of the {source}); use --pixel-um {coarser:.3g} or a smaller mask.window_um")
    return estimate


def _mem_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _rlimit_as_left() -> int | None:
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    try:
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        mapped = 0
    return max(0, soft - mapped)


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    # cgroup v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages)
    return None if value >= 2**60 else value


def _cgroup_left(root: Path = Path("/sys/fs/cgroup"), proc_cgroup: Path = Path("/proc/self/cgroup")) -> int | None:
    """Memory left under this process's cgroup limit (v2 or v1), or None if unlimited / unknown."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    candidates = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        rel = rel.lstrip("/")
        if controllers == "":  # v2 unified hierarchy
            candidates.append((root / rel, "memory.max", "memory.current"))
            candidates.append((root, "memory.max", "memory.current"))
        elif "memory" in controllers.split(","):
            candidates.append((root / "memory" / rel, "memory.limit_in_bytes", "memory.usage_in_bytes"))
            candidates.append((root / "memory", "memory.limit_in_bytes", "memory.usage_in_bytes"))
    left = []
    for folder, limit_name, usage_name in candidates:
        limit = _read_int(folder / limit_name)
        if limit is None:
            continue
        usage = _read_int(folder / usage_name) or 0
        left.append(max(0, limit - usage))
    return min(left) if left else None


def format_bytes(n: float) -> str:
    """``1.3 GB``, ``450 MB``: decimal units, as the refusal messages print them."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{max(n, 0) / 1e6:.0f} MB"


def coarser_pitch_um(pixel_um: float, need_bytes: float, allowed_bytes: float) -> float:
    """A pitch at which the grid-proportional need would fit ``allowed_bytes`` (5 % margin)."""
    return pixel_um * math.sqrt(max(need_bytes, 1.0) / max(allowed_bytes, 1.0)) * 1.05
