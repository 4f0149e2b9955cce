"""Recipes: the TOML file that names a process, read into frozen dataclasses.

A recipe has sections ``[film]``, ``[crosslinker]``, ``[exposure]``,
``[developer]`` and ``[mask]`` (plus optional ``[simulation]``). A
multi-colour process lists ``[[step]]`` tables, each a full step whose
sections are merged field by field over the top-level ones, so shared
settings are written once::

    name = "RGB stripe, 1000 ppi"
    [developer]
    material = "toluene"
    time = "30 s"

    [[step]]
    name = "R"
    [step.film]
    material = "CdSe/ZnS"
    [step.mask]
    layer = "R"

Quantities are numbers under unit-suffixed keys or strings with units
(:mod:`litho.units`). Materials are library names (:mod:`litho.materials`)
with any field overridable in the section.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import LithoInputError, where
from .units import normalize_table

SECTIONS = ("film", "crosslinker", "exposure", "developer", "mask")
OPTIONAL_SECTIONS = ("simulation",)
TOP_LEVEL_KEYS = ("name", "description", "seed", "step", *SECTIONS, *OPTIONAL_SECTIONS)
# keys of [exposure] that belong to the process, not to the optics
EXPOSURE_PROCESS_KEYS = ("dose_mj_cm2", "atmosphere", "overlay_um")
MASK_KEYS = ("file", "layer", "cell", "window_um")
SIMULATION_KEYS = ("pixel_um", "window", "threshold", "stochastic", "guard_um")
WINDOW_MODES = ("isolated", "periodic")


@dataclass(frozen=True)
class MaskSpec:
    """Where a step's mask comes from.

    Attributes
    ----------
    path : Path
        The GDS/OASIS file, resolved relative to the recipe.
    layer : tuple[int, int] or str
        ``(layer, datatype)`` or a colour name ("R", "G", "B").
    cell : str or None
        Top cell to use; None picks the only one.
    window_um : tuple of 4 floats or None
        ``(xmin, ymin, xmax, ymax)`` in µm: simulate only this part.
    """

    path: Path
    layer: tuple[int, int] | str
    cell: str | None = None
    window_um: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class Exposure:
    """The exposure of one step: optics, dose, atmosphere, mask overlay.

    Attributes
    ----------
    tool : str
        "contact", "proximity" or "projection".
    optics : ProximityOptics or ProjectionOptics
    dose_mj_cm2 : float
        Incident dose on a clear area, mJ/cm².
    atmosphere : litho.chemistry.Atmosphere
    overlay_um : tuple[float, float]
        Mask offset (x, y) in µm relative to the first step's alignment.
    """

    tool: str
    optics: Any
    dose_mj_cm2: float
    atmosphere: Any
    overlay_um: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Simulation:
    """Numerical settings shared by every step.

    Attributes
    ----------
    pixel_um : float or None
        Sample pitch; None picks one from the optics (:func:`litho.process.choose_pixel_um`).
    window : str
        "isolated" (the mask with an opaque guard band) or "periodic"
        (the mask window is one period of an infinite array).
    threshold : float
        h/h0 at which the printed edge is drawn (PHYSICS.md §7).
    stochastic : bool
        Poisson photon and crosslink counts (seeded by the recipe's seed).
    guard_um : float or None
        Guard band around an isolated window; None takes the optics' blur length.
    """

    pixel_um: float | None = None
    window: str = "isolated"
    threshold: float = 0.5
    stochastic: bool = False
    guard_um: float | None = None


@dataclass(frozen=True)
class Step:
    """One coat–expose–develop step of a process."""

    name: str
    film: Any
    crosslinker: Any
    exposure: Exposure
    developer: Any
    mask: MaskSpec


@dataclass(frozen=True)
class Recipe:
    """A validated recipe: a named sequence of steps and simulation settings.

    Attributes
    ----------
    name, description : str
    path : Path or None
        The file it came from (None when built from a dict).
    seed : int
        Seed of every random choice (stochastic mode), echoed in the report.
    steps : tuple[Step, ...]
    simulation : Simulation
    raw : dict
        The recipe as read, for echoing and for writing calibrated copies.
    """

    name: str
    description: str
    path: Path | None
    seed: int
    steps: tuple[Step, ...]
    simulation: Simulation
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def step_index(self, step: int | str | None = None) -> int:
        """Index of a step given by name or index (None: the first).

        Raises
        ------
        LithoInputError
            No such step; the message lists the recipe's steps.
        """
        names = [s.name for s in self.steps]
        if step is None:
            return 0
        if isinstance(step, str) and step in names:
            return names.index(step)
        if isinstance(step, int) or (isinstance(step, str) and step.isdigit()):
            index = int(step)
            if 0 <= index < len(names):
                return index
        raise LithoInputError(f"--step {step!r}: {self.path or self.name} has steps "
                              f"{', '.join(names)} (or an index 0..{len(names) - 1})")


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file.

    Parameters
    ----------
    path : str or Path
        A TOML recipe (see the module docstring and README).

    Returns
    -------
    Recipe

    Raises
    ------
    LithoInputError
        A missing file, a TOML syntax error (with its line), a missing
        section, an unknown material, a bad value: one line naming the file
        and the field.

    Examples
    --------
    >>> recipe = load_recipe("recipes/rgb_stripe_1000ppi.toml")  # doctest: +SKIP
    >>> recipe.steps[0].exposure.dose_mj_cm2                     # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise LithoInputError(f"{path}: recipe file not found")
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise LithoInputError(f"{path}: TOML syntax error: {err}") from None
    except UnicodeDecodeError:
        raise LithoInputError(f"{path}: not a text TOML file") from None
    return recipe_from_dict(raw, source=str(path), base_dir=path.parent, path=path)


def recipe_from_dict(raw: Mapping[str, Any], *, source: str | None = None,
                     base_dir: str | Path = ".", path: Path | None = None) -> Recipe:
    """Build a :class:`Recipe` from a dict shaped like the TOML file."""
    base_dir = Path(base_dir)
    unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise LithoInputError(
            f"{where(source, unknown[0])}: unknown top-level key; accepted: {', '.join(TOP_LEVEL_KEYS)}")
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise LithoInputError(f"{where(source, 'seed')} = {seed!r}: give a non-negative integer")

    step_tables = raw.get("step")
    if step_tables is None:
        step_tables = [{}]
    elif not isinstance(step_tables, list) or not all(isinstance(s, dict) for s in step_tables):
        raise LithoInputError(f"{where(source, 'step')}: write steps as [[step]] tables")
    elif not step_tables:
        raise LithoInputError(f"{where(source, 'step')}: the process has no steps")

    steps = []
    names = set()
    for index, table in enumerate(step_tables):
        step = _build_step(raw, table, index, len(step_tables), source, base_dir)
        if step.name in names:
            raise LithoInputError(f"{where(source, f'step[{index}].name')} = {step.name!r}: step names must differ")
        names.add(step.name)
        steps.append(step)

    return Recipe(
        name=str(raw.get("name", path.stem if path else "recipe")),
        description=str(raw.get("description", "")),
        path=path,
        seed=seed,
        steps=tuple(steps),
        simulation=_build_simulation(raw.get("simulation", {}), source),
        raw=copy.deepcopy(dict(raw)),
    )


def _merged_section(raw: Mapping, step: Mapping, name: str, label: str, source: str | None) -> dict:
    shared = raw.get(name, {})
    own = step.get(name, {})
    for table, where_ in ((shared, name), (own, f"{label}.{name}")):
        if not isinstance(table, dict):
            raise LithoInputError(f"{where(source, where_)}: must be a table ([{name}])")
    if not shared and not own:
        raise LithoInputError(
            f"{where(source, f'[{name}]')}: section missing{f' for {label}' if label != 'recipe' else ''}; "
            f"a recipe needs {', '.join(f'[{s}]' for s in SECTIONS)}")
    merged = dict(shared)
    if "material" in own and own.get("material") != shared.get("material"):
        # A different material in the step replaces the shared material and its overrides
        # that are material properties; process settings written once (thickness, time) stay.
        merged = {k: v for k, v in shared.items() if k not in ("material",)}
    merged.update(own)
    return merged


def _build_step(raw: Mapping, table: Mapping, index: int, count: int, source: str | None,
                base_dir: Path) -> Step:
    from . import chemistry, materials

    label = f"step[{index}]" if count > 1 or "step" in raw else "recipe"
    unknown = sorted(set(table) - {"name", *SECTIONS})
    if unknown:
        raise LithoInputError(f"{where(source, f'{label}.{unknown[0]}')}: unknown key; accepted: name, "
                              + ", ".join(SECTIONS))
    name = str(table.get("name", raw.get("name", "step") if count == 1 else f"step{index + 1}"))
    prefix = "" if label == "recipe" else f"{label}."

    sections = {}
    for section in SECTIONS:
        merged = _merged_section(raw, table, section, label, source)
        sections[section] = normalize_table(merged, source, prefix + section) if section != "mask" else merged

    film = materials.resolve("film", sections["film"], source)
    crosslinker = materials.resolve("crosslinker", sections["crosslinker"], source)
    developer = materials.resolve("developer", sections["developer"], source)
    exposure = _build_exposure(sections["exposure"], prefix, source)
    chemistry.check_wavelengths(crosslinker, film, [w for w, _ in exposure.optics.lines], source)
    mask = _build_mask(sections["mask"], prefix, source, base_dir)
    return Step(name=name, film=film, crosslinker=crosslinker, exposure=exposure,
                developer=developer, mask=mask)


def _build_exposure(table: dict, prefix: str, source: str | None) -> Exposure:
    from . import chemistry, optics

    table = dict(table)
    field_ = prefix + "exposure"
    if "dose_mj_cm2" not in table:
        raise LithoInputError(f"{where(source, field_ + '.dose')}: missing; give e.g. dose = \"30 mJ/cm^2\"")
    dose = table.pop("dose_mj_cm2")
    if not dose > 0:
        raise LithoInputError(f"{where(source, field_ + '.dose')} = {dose:g} mJ/cm^2: the dose must be > 0")
    atmosphere = chemistry.parse_atmosphere(table.pop("atmosphere", "air"), source)
    overlay = table.pop("overlay_um", (0.0, 0.0))
    overlay = _pair(overlay, field_ + ".overlay_um", source)
    tool = str(table.get("tool", "contact"))
    optics_obj = optics.from_exposure(table, source)
    return Exposure(tool=tool, optics=optics_obj, dose_mj_cm2=float(dose), atmosphere=atmosphere,
                    overlay_um=overlay)


def _pair(value, field_: str, source: str | None) -> tuple[float, float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (float(value), float(value))
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        return (float(value[0]), float(value[1]))
    raise LithoInputError(f"{where(source, field_)} = {value!r}: give [x, y] in µm")


def _build_mask(table: dict, prefix: str, source: str | None, base_dir: Path) -> MaskSpec:
    field_ = prefix + "mask"
    unknown = sorted(set(table) - set(MASK_KEYS))
    if unknown:
        raise LithoInputError(f"{where(source, f'{field_}.{unknown[0]}')}: unknown key; accepted: "
                              + ", ".join(MASK_KEYS))
    if "file" not in table:
        raise LithoInputError(f"{where(source, field_ + '.file')}: missing; give the GDS/OASIS file of the mask")
    file = Path(str(table["file"]))
    if not file.is_absolute():
        file = base_dir / file
    if not file.is_file():
        raise LithoInputError(f"{where(source, field_ + '.file')} = {str(table['file'])!r}: mask file not found "
                              f"(looked at {file})")
    layer = table.get("layer", "R")
    if isinstance(layer, list):
        if len(layer) != 2 or not all(isinstance(v, int) for v in layer):
            raise LithoInputError(f"{where(source, field_ + '.layer')} = {layer!r}: give [layer, datatype] or R/G/B")
        layer = (int(layer[0]), int(layer[1]))
    elif isinstance(layer, int) and not isinstance(layer, bool):
        layer = (layer, 0)
    elif not isinstance(layer, str):
        raise LithoInputError(f"{where(source, field_ + '.layer')} = {layer!r}: give [layer, datatype] or R/G/B")
    window = table.get("window_um")
    if window is not None:
        if (not isinstance(window, list) or len(window) != 4
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in window)
                or not (window[2] > window[0] and window[3] > window[1])):
            raise LithoInputError(f"{where(source, field_ + '.window_um')} = {window!r}: "
                                  "give [xmin, ymin, xmax, ymax] in µm with xmax > xmin and ymax > ymin")
        window = tuple(float(v) for v in window)
    cell = table.get("cell")
    return MaskSpec(path=file, layer=layer, cell=None if cell is None else str(cell), window_um=window)


def _build_simulation(table: Any, source: str | None) -> Simulation:
    if not isinstance(table, dict):
        raise LithoInputError(f"{where(source, 'simulation')}: must be a table ([simulation])")
    table = normalize_table(table, source, "simulation")
    unknown = sorted(set(table) - set(SIMULATION_KEYS))
    if unknown:
        raise LithoInputError(f"{where(source, 'simulation.' + unknown[0])}: unknown key; accepted: "
                              + ", ".join(SIMULATION_KEYS))
    pixel = table.get("pixel_um")
    if pixel is not None and not (0.001 <= pixel <= 100):
        raise LithoInputError(f"{where(source, 'simulation.pixel_um')} = {pixel:g}: give 0.001–100 µm")
    window = table.get("window", "isolated")
    if window not in WINDOW_MODES:
        raise LithoInputError(f"{where(source, 'simulation.window')} = {window!r}: accepted: "
                              + ", ".join(WINDOW_MODES))
    threshold = table.get("threshold", 0.5)
    if not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise LithoInputError(f"{where(source, 'simulation.threshold')} = {threshold!r}: give a number in (0, 1)")
    stochastic = table.get("stochastic", False)
    if not isinstance(stochastic, bool):
        raise LithoInputError(f"{where(source, 'simulation.stochastic')} = {stochastic!r}: give true or false")
    guard = table.get("guard_um")
    if guard is not None and guard < 0:
        raise LithoInputError(f"{where(source, 'simulation.guard_um')} = {guard:g}: give a length >= 0 µm")
    return Simulation(pixel_um=pixel, window=window, threshold=float(threshold), stochastic=stochastic,
                      guard_um=guard)
