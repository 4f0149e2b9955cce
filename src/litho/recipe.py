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
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from . import fields
from .errors import LithoInputError, where
from .units import BARE_KEY_UNITS, VECTOR_KEYS, _unit_suffix, normalize_table

SECTIONS = ("film", "crosslinker", "exposure", "developer", "mask")
MATERIAL_SECTIONS = ("film", "crosslinker", "developer")
OPTIONAL_SECTIONS = ("simulation", "substrate")
TOP_LEVEL_KEYS = ("name", "description", "seed", "step", *SECTIONS, *OPTIONAL_SECTIONS)
# keys of [exposure] that belong to the process, not to the optics
EXPOSURE_PROCESS_KEYS = ("dose_mj_cm2", "atmosphere", "overlay_um")
MASK_KEYS = ("file", "layer", "cell", "window_um")
SIMULATION_KEYS = ("pixel_um", "window", "threshold", "stochastic", "guard_um")
WINDOW_MODES = ("isolated", "periodic")

# Physical ranges of the process fields checked here (the optics and materials check their own).
DOSE_MAX_MJ_CM2 = 1e6          # 1 kJ/cm^2: far beyond any UV exposure of a film
OVERLAY_MAX_UM = 1e4           # 1 cm: a mask offset beyond this misses any mask litho can grid
WINDOW_MAX_UM = 1e7            # 10 m: mask window coordinates
PIXEL_RANGE_UM = (0.001, 100.0)
GUARD_MAX_UM = 1e4
GDS_LAYER_MAX = 65535          # GDSII layer and datatype are 16-bit
MAX_STEPS = 64
# A recipe nests at most step -> section -> field -> wavelength -> {value, source}; deeper is a mistake
# (and would exhaust the parser's recursion).
MAX_DEPTH = 8
RECIPE_MAX_BYTES = 1 << 20     # a recipe is a small text file; a larger one is the wrong file
UTF8_BOM = b"\xef\xbb\xbf"


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
        "contact", "proximity", "projection" or "maskless".
    optics : ProximityOptics or ProjectionOptics
    dose_mj_cm2 : float
        Incident dose on a clear area, mJ/cm².
    atmosphere : litho.chemistry.Atmosphere
    overlay_um : tuple[float, float]
        Mask offset (x, y) in µm relative to the first step's alignment.
    mask_model : litho.maskmodel model or None
        What the mask is before the optics (:mod:`litho.maskmodel`): None is
        the chrome mask drawn from the layout; ``tool = "maskless"`` gives its
        :class:`~litho.maskmodel.MirrorGrid`.
    """

    tool: str
    optics: Any
    dose_mj_cm2: float
    atmosphere: Any
    overlay_um: tuple[float, float] = (0.0, 0.0)
    mask_model: Any = None


@dataclass(frozen=True)
class Simulation:
    """Numerical settings shared by every step.

    Attributes
    ----------
    pixel_um : float, "auto" or None
        Sample pitch; None picks one from the optics (:func:`litho.process.choose_pixel_um`);
        "auto" halves that choice until the CD is converged (:mod:`litho.convergence`).
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

    pixel_um: float | str | None = None
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
    substrate : litho.topography.Substrate or None
        The ``[substrate]`` section: pixel-define-layer banks under the film
        (None: a flat substrate).
    """

    name: str
    description: str
    path: Path | None
    seed: int
    steps: tuple[Step, ...]
    simulation: Simulation
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)
    substrate: Any = None

    def _step_lines(self) -> list[str]:
        lines = []
        for step in self.steps:
            e = step.exposure
            waves = "+".join(f"{w:g}" for w, _ in e.optics.lines)
            lines.append(f"{step.name}: {step.film.name} + {step.crosslinker.name}, {e.tool} {waves} nm "
                         f"{e.dose_mj_cm2:g} mJ/cm², {step.developer.name}")
        return lines

    def __repr__(self) -> str:
        where = f", {self.path}" if self.path else ""
        return f"<Recipe {self.name!r}{where}: " + "; ".join(self._step_lines()) + ">"

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<li>{html.escape(line)}</li>" for line in self._step_lines())
        where = f" <code>{html.escape(str(self.path))}</code>" if self.path else ""
        return f"<b>Recipe {html.escape(self.name)}</b>{where}<ul>{rows}</ul>"

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
    text = _read_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise LithoInputError(f"{path}: TOML syntax error: {err}") from None
    except RecursionError:
        raise LithoInputError(f"{path}: arrays or tables nested too deeply; a recipe nests at most "
                              f"{MAX_DEPTH} levels") from None
    return recipe_from_dict(raw, source=str(path), base_dir=path.parent, path=path)


def _read_text(path: Path) -> str:
    """The recipe file's text: UTF-8, a leading byte-order mark dropped, at most RECIPE_MAX_BYTES."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise LithoInputError(f"{path}: is a directory; give a recipe .toml file")
        if not stat.S_ISREG(mode):
            # a pipe or a device would block or never end
            raise LithoInputError(f"{path}: is not a regular file; give a recipe .toml file")
        with open(path, "rb") as fh:
            data = fh.read(RECIPE_MAX_BYTES + 1)
    except FileNotFoundError:
        raise LithoInputError(f"{path}: recipe file not found") from None
    except ValueError:          # a NUL byte in the name
        raise LithoInputError(f"{fields.show(str(path))}: not a file name (contains a NUL character)") from None
    except OSError as err:
        raise LithoInputError(f"{fields.show(str(path))}: cannot read the recipe ({err.strerror or err})") from None
    if len(data) > RECIPE_MAX_BYTES:
        raise LithoInputError(f"{path}: larger than {RECIPE_MAX_BYTES >> 20} MB; a recipe is a small TOML text file")
    # Editors on Windows save UTF-8 with a byte-order mark; TOML text does not include it.
    data = data.removeprefix(UTF8_BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LithoInputError(f"{path}: not a UTF-8 text TOML file (byte {err.start})") from None


def recipe_from_dict(raw: Mapping[str, Any], *, source: str | None = None,
                     base_dir: str | Path = ".", path: Path | None = None) -> Recipe:
    """Build a :class:`Recipe` from a dict shaped like the TOML file.

    Every value is checked here (type, finiteness, physical range) before
    any work; the first bad one raises :class:`LithoInputError`.
    """
    base_dir = Path(base_dir)
    if not isinstance(raw, Mapping):
        raise LithoInputError(f"{source or 'recipe'}: a recipe is a table of sections, got {fields.show(raw)}")
    if fields.nesting_depth(raw, MAX_DEPTH) > MAX_DEPTH:
        raise LithoInputError(f"{source or 'recipe'}: arrays or tables nested too deeply; a recipe nests at most "
                              f"{MAX_DEPTH} levels")
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            raise fields.unknown_key(where(source, str(key)), key, TOP_LEVEL_KEYS, "top-level key")
    seed = fields.integer(raw.get("seed", 0), where(source, "seed"), lo=0, hi=2 ** 64 - 1,
                          what="seed of the random choices")
    name = fields.text(raw.get("name", path.stem if path else "recipe"), where(source, "name"))
    description = fields.text(raw.get("description", ""), where(source, "description"), max_chars=100_000)

    step_tables = raw.get("step")
    if step_tables is None:
        step_tables = [{}]
    elif not isinstance(step_tables, list) or not all(isinstance(s, dict) for s in step_tables):
        raise LithoInputError(f"{where(source, 'step')}: write steps as [[step]] tables")
    elif not step_tables:
        raise LithoInputError(f"{where(source, 'step')}: the process has no steps")
    elif len(step_tables) > MAX_STEPS:
        raise LithoInputError(f"{where(source, 'step')}: {len(step_tables)} steps; a process has at most {MAX_STEPS}")

    steps = []
    names = set()
    for index, table in enumerate(step_tables):
        step = _build_step(raw, table, index, len(step_tables), source, base_dir)
        if step.name in names:
            raise LithoInputError(f"{where(source, f'step[{index}].name')} = {step.name!r}: step names must differ")
        names.add(step.name)
        steps.append(step)

    return Recipe(
        name=name,
        description=description,
        path=path,
        seed=seed,
        steps=tuple(steps),
        simulation=_build_simulation(raw.get("simulation", {}), source),
        raw=copy.deepcopy(dict(raw)),
        substrate=_build_substrate(raw, source, base_dir, steps[0].mask),
    )


def _build_substrate(raw: Mapping, source: str | None, base_dir: Path, first_mask: MaskSpec):
    """The ``[substrate]`` section (litho.topography), or None when the recipe has none."""
    if "substrate" not in raw:
        return None
    from .topography import substrate_from_table

    return substrate_from_table(raw["substrate"], source, base_dir, first_mask)


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
    for key in table:
        if key not in ("name", *SECTIONS):
            raise fields.unknown_key(where(source, f"{label}.{key}"), key, ("name", *SECTIONS))
    default_name = (raw.get("name") or "step") if count == 1 else f"step{index + 1}"
    name = fields.text(table.get("name", default_name), where(source, f"{label}.name"), max_chars=200,
                       empty=False)
    prefix = "" if label == "recipe" else f"{label}."

    sections = {}
    spellings: dict[str, dict[str, str]] = {section: {} for section in SECTIONS}
    for section in SECTIONS:
        merged = _merged_section(raw, table, section, label, source)
        sections[section] = (normalize_table(merged, source, prefix + section, spellings[section])
                             if section != "mask" else merged)
    for kind in MATERIAL_SECTIONS:
        _check_material_keys(kind, sections[kind], spellings[kind], prefix, source)

    film = materials.resolve("film", sections["film"], source)
    crosslinker = materials.resolve("crosslinker", sections["crosslinker"], source)
    developer = materials.resolve("developer", sections["developer"], source)
    exposure = _build_exposure(sections["exposure"], prefix, source, spellings["exposure"], base_dir=base_dir)
    chemistry.check_wavelengths(crosslinker, film, [w for w, _ in exposure.optics.lines], source)
    mask = _build_mask(sections["mask"], prefix, source, base_dir)
    return Step(name=name, film=film, crosslinker=crosslinker, exposure=exposure,
                developer=developer, mask=mask)


def _check_material_keys(kind: str, table: Mapping[str, Any], spelling: Mapping[str, str], prefix: str,
                         source: str | None) -> None:
    """Refuse a key that is no field of the material, naming it as written and the nearest field."""
    import dataclasses

    from . import materials

    cls = {"film": materials.Film, "crosslinker": materials.Crosslinker, "developer": materials.Developer}[kind]
    known = {f.name for f in dataclasses.fields(cls)} - {"name", "sources"}
    for key in table:
        if key != "material" and key not in known:
            written = spelling.get(key, key)
            accepted = ["material", *sorted(_spelled(k) for k in known)]
            raise fields.unknown_key(where(source, f"{prefix}{kind}.{written}"), written, accepted,
                                     f"{kind} field")


def exposure_keys(tool: str) -> tuple[str, ...]:
    """The ``[exposure]`` keys accepted for a tool, as a recipe writes them (``dose``, ``gap``, ...)."""
    from .optics.imaging import CONTACT_KEYS, PROJECTION_KEYS, PROXIMITY_KEYS

    optics_keys = _tool_keys(tool, CONTACT_KEYS, PROJECTION_KEYS, PROXIMITY_KEYS)
    return tuple(_spelled(k) for k in ("tool", *EXPOSURE_PROCESS_KEYS, *optics_keys))


def _spelled(key: str) -> str:
    """``gap_um`` -> ``gap`` where the bare key is the usual spelling; vectors keep their unit suffix."""
    suffix = _unit_suffix(key)
    if suffix and key not in VECTOR_KEYS:
        bare = key[: -len(suffix) - 1]
        if BARE_KEY_UNITS.get(bare) == suffix:
            return bare
    return key


def _tool_keys(tool: str, contact: tuple, projection: tuple, proximity: tuple) -> tuple:
    """The optics (and mask-model) keys of ``[exposure]`` for a tool."""
    from .maskmodel import tool_keys
    from .optics.imaging import MASKLESS_OPTICS_KEYS

    return {"projection": projection, "contact": contact,
            "maskless": MASKLESS_OPTICS_KEYS}.get(tool, proximity) + tool_keys(tool)


def _build_exposure(table: dict, prefix: str, source: str | None,
                    spelling: Mapping[str, str] | None = None, *, base_dir: Path = Path(".")) -> Exposure:
    from . import chemistry, optics
    from .optics.imaging import CONTACT_KEYS, PROJECTION_KEYS, PROXIMITY_KEYS, TOOLS

    table = dict(table)
    spelling = dict(spelling or {})
    field_ = prefix + "exposure"
    label = lambda key: where(source, f"{field_}.{spelling.get(key, key)}")  # noqa: E731
    tool = fields.choice(table.get("tool", "contact"), label("tool"), TOOLS)
    table["tool"] = tool
    own = _tool_keys(tool, CONTACT_KEYS, PROJECTION_KEYS, PROXIMITY_KEYS)
    other = CONTACT_KEYS if tool in ("projection", "maskless") else PROJECTION_KEYS
    canonical = {"tool", *EXPOSURE_PROCESS_KEYS, *own}
    for key in table:
        if key in canonical:
            continue
        if key in other:
            other_tool = "proximity" if tool in ("projection", "maskless") else "projection"
            raise LithoInputError(f"{label(key)}: belongs to tool = {other_tool!r}, not {tool!r}; accepted: "
                                  f"{', '.join(exposure_keys(tool))}")
        written = spelling.get(key, key)
        raise fields.unknown_key(where(source, f"{field_}.{written}"), written, exposure_keys(tool))
    if "dose_mj_cm2" not in table:
        raise LithoInputError(f"{where(source, field_ + '.dose')}: missing; give e.g. dose = \"30 mJ/cm^2\"")
    dose = fields.positive(table.pop("dose_mj_cm2"), label("dose_mj_cm2"), hi=DOSE_MAX_MJ_CM2, unit="mJ/cm^2")
    atmosphere = chemistry.parse_atmosphere(table.pop("atmosphere", "air"), source)
    overlay = fields.pair(table.pop("overlay_um", (0.0, 0.0)), label("overlay_um"), lo=-OVERLAY_MAX_UM,
                          hi=OVERLAY_MAX_UM, unit="µm", scalar=True)
    from .maskmodel import for_tool, tool_keys

    # the tool's mask model (a maskless tool's mirror grid) takes its keys; the optics the rest
    mask_model = for_tool(tool, {k: table.pop(k) for k in tool_keys(tool) if k in table}, label, base_dir)
    try:
        optics_obj = optics.from_exposure(table, source)
    except LithoInputError as err:
        # name the field as the recipe spells it: "exposure.gap_um = -1" -> "exposure.gap = -1"
        message, head = str(err), where(source, "exposure")
        if message.startswith(head):
            rest = message[len(head):]
            for key, written in spelling.items():
                if rest.startswith(f".{key} ") or rest.startswith(f".{key}:"):
                    rest = f".{written}" + rest[len(key) + 1:]
                    break
            message = where(source, field_) + rest
        raise LithoInputError(message) from None
    return Exposure(tool=tool, optics=optics_obj, dose_mj_cm2=dose, atmosphere=atmosphere, overlay_um=overlay,
                    mask_model=mask_model)


def _build_mask(table: dict, prefix: str, source: str | None, base_dir: Path) -> MaskSpec:
    from .gds import parse_layer

    field_ = prefix + "mask"
    for key in table:
        if key not in MASK_KEYS:
            raise fields.unknown_key(where(source, f"{field_}.{key}"), key, MASK_KEYS)
    if "file" not in table:
        raise LithoInputError(f"{where(source, field_ + '.file')}: missing; give the GDS/OASIS file of the mask")
    file = fields.path(table["file"], where(source, field_ + ".file"), base_dir=base_dir, what="mask file")
    label = where(source, field_ + ".layer")
    layer = table.get("layer", "R")
    accepted = "give [layer, datatype], a number, 'layer/datatype' or R/G/B"
    if isinstance(layer, list):
        if len(layer) != 2:
            raise LithoInputError(f"{label} = {fields.show(layer)}: {accepted}")
        layer = tuple(fields.integer(v, f"{label}[{i}]", lo=0, hi=GDS_LAYER_MAX) for i, v in enumerate(layer))
    elif isinstance(layer, int) and not isinstance(layer, bool):
        layer = (fields.integer(layer, label, lo=0, hi=GDS_LAYER_MAX), 0)
    elif isinstance(layer, str):
        fields.text(layer, label, max_chars=64, empty=False)
        numbers_ = parse_layer(layer, where(source, field_))
        for v in numbers_:
            fields.integer(v, label, lo=0, hi=GDS_LAYER_MAX)
    else:
        raise LithoInputError(f"{label} = {fields.show(layer)}: {accepted}")
    window = table.get("window_um")
    if window is not None:
        wlabel = where(source, field_ + ".window_um")
        window = fields.numbers_list(window, wlabel, length=4, lo=-WINDOW_MAX_UM, hi=WINDOW_MAX_UM, unit="µm")
        if not (window[2] > window[0] and window[3] > window[1]):
            raise LithoInputError(f"{wlabel} = {fields.show(list(window))}: give [xmin, ymin, xmax, ymax] in µm "
                                  "with xmax > xmin and ymax > ymin")
    cell = table.get("cell")
    if cell is not None:
        cell = fields.text(cell, where(source, field_ + ".cell"), max_chars=1000, empty=False)
    return MaskSpec(path=file, layer=layer, cell=cell, window_um=window)


def _build_simulation(table: Any, source: str | None) -> Simulation:
    if not isinstance(table, dict):
        raise LithoInputError(f"{where(source, 'simulation')}: must be a table ([simulation])")
    spelling: dict[str, str] = {}
    auto_pitch = isinstance(table, Mapping) and any(
        k in ("pixel", "pixel_um") and isinstance(v, str) and v.strip().lower() == "auto" for k, v in table.items())
    if auto_pitch:      # "auto" is a choice, not a quantity: keep it from the unit parser
        table = {k: v for k, v in table.items() if k not in ("pixel", "pixel_um")}
    table = normalize_table(table, source, "simulation", spelling)
    if auto_pitch:
        table["pixel_um"] = "auto"
    for key in table:
        if key not in SIMULATION_KEYS:
            written = spelling.get(key, key)
            raise fields.unknown_key(where(source, f"simulation.{written}"), written,
                                     [_spelled(k) if k != "pixel_um" else k for k in SIMULATION_KEYS])
    label = lambda key: where(source, f"simulation.{spelling.get(key, key)}")  # noqa: E731
    pixel = table.get("pixel_um")
    if isinstance(pixel, str) and pixel.strip().lower() == "auto":
        pixel = "auto"      # the coarsest pitch whose CD is converged (litho.convergence.auto_pitch)
    elif pixel is not None:
        lo, hi = PIXEL_RANGE_UM
        pixel = fields.number(pixel, label("pixel_um"), lo=lo, hi=hi, unit="µm")
    window = fields.choice(table.get("window", "isolated"), label("window"), WINDOW_MODES)
    threshold = fields.number(table.get("threshold", 0.5), label("threshold"), lo=0, hi=1, lo_open=True,
                              hi_open=True, what="h/h0 at the printed edge")
    stochastic = fields.boolean(table.get("stochastic", False), label("stochastic"))
    guard = table.get("guard_um")
    if guard is not None:
        guard = fields.non_negative(guard, label("guard_um"), hi=GUARD_MAX_UM, unit="µm")
    return Simulation(pixel_um=pixel, window=window, threshold=threshold, stochastic=stochastic,
                      guard_um=guard)
