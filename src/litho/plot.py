"""Figures: fields of a simulation, aerial series, process windows, contrast,
min-feature, mask previews and kernels.

Every figure litho draws lives here; commands only call these functions.
One style throughout (:data:`STYLE`): colour-blind-safe maps (viridis for
h/h0, cividis for light), lengths in µm, a scale bar on every map, titles
wrapped (never cut off) that name the step, dose and tool, and
constrained layout so colour-bar labels are not clipped. A figure is
written in every format of :class:`FigureOptions` (png, svg, pdf) at its dpi.

matplotlib with the Agg backend (no screen needed). The figures of a
simulation are drawn several at once in forked processes (:func:`draw_figures`).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection, PatchCollection  # noqa: E402
from matplotlib.patches import PathPatch, Rectangle  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

# Display colour of each colour layer (R, G, B) and of any other layer by step order.
LAYER_COLOURS = {(1, 0): (0.9, 0.15, 0.1), (2, 0): (0.1, 0.75, 0.2), (3, 0): (0.15, 0.3, 0.95)}
STEP_COLOURS = [(0.9, 0.15, 0.1), (0.1, 0.75, 0.2), (0.15, 0.3, 0.95), (0.8, 0.6, 0.1)]
LAYER_NAMES = {(1, 0): "R", (2, 0): "G", (3, 0): "B", (10, 0): "marks", (10, 1): "labels"}
DPI = 110
FORMATS = ("png", "svg", "pdf")
INTENSITY_CMAP, THICKNESS_CMAP, EPE_CMAP = "cividis", "viridis", "PuOr_r"
STYLE = {"font.size": 8.5, "axes.titlesize": 9, "figure.titlesize": 10, "image.cmap": "viridis",
         "axes.grid": False, "legend.fontsize": 7.5, "legend.frameon": False, "savefig.facecolor": "white",
         "figure.constrained_layout.use": True}
# A field is thinned for a PNG only where it has this many samples per device pixel or more.
THIN_SAMPLES_PER_DEVICE_PIXEL = 4
# Characters per line of a wrapped title, per inch of figure width.
TITLE_CHARS_PER_INCH = 11


@dataclass(frozen=True)
class FigureOptions:
    """How figures are written: file formats (png, svg, pdf), the raster dpi, and whether
    a PNG is stored with a 256-colour palette (about 3× smaller; for documentation)."""

    formats: tuple[str, ...] = ("png",)
    dpi: float = DPI
    palette: bool = False

    def __post_init__(self):
        bad = [f for f in self.formats if f not in FORMATS]
        if bad or not self.formats:
            from .errors import LithoInputError

            raise LithoInputError(f"figure format {','.join(bad) or '(none)'}: accepted: {', '.join(FORMATS)}")


DEFAULT = FigureOptions()


def save(fig, path: str | Path, options: FigureOptions | None = None) -> list[Path]:
    """Write ``fig`` as ``path`` in each format of ``options`` (the suffix is replaced); close it."""
    options = options or DEFAULT
    path = Path(path)
    written = []
    for fmt in options.formats:
        target = path.with_suffix("." + fmt)
        # svg/pdf keep text as text; metadata without a date keeps outputs reproducible
        # a raster shows at most one sample per device pixel: large fields are thinned to
        # that for the PNG (svg/pdf keep every sample of the part shown)
        engine = _lay_out(fig, options.dpi if fmt == "png" else 72.0)
        restore = _thin_fields(fig, options.dpi) if fmt == "png" else []
        try:
            fig.savefig(target, dpi=options.dpi, metadata={"Date": None} if fmt in ("svg", "pdf") else None)
        finally:
            _restore_fields(restore)
            if engine is not None:
                fig.set_layout_engine(engine)
        if fmt == "png" and options.palette:
            from PIL import Image

            with Image.open(target) as image:
                quantized = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            quantized.save(target, optimize=True)
        written.append(target)
    plt.close(fig)
    return written


def _lay_out(fig, dpi: float):
    """Run ``fig``'s constrained layout once at ``dpi`` and switch the engine off; returns the engine.

    ``savefig`` with a layout engine draws the whole figure twice (once, unseen,
    to lay it out); laid out here, it draws once. The layout is the one savefig
    would make: the same engine at the dpi the file is written at (vector
    formats lay out at 72 dpi, as matplotlib does for them).
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    engine = fig.get_layout_engine()
    if not isinstance(engine, ConstrainedLayoutEngine):
        return None
    dpi_was = fig.dpi
    try:
        fig.dpi = dpi
        engine.execute(fig)
    finally:
        fig.dpi = dpi_was
    # no engine at all: savefig's unseen layout draw happens for any engine, even "none"'s placeholder
    with plt.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    return engine


def figure(width_in: float, height_in: float, **kwargs):
    """A figure in the litho style (constrained layout, white background)."""
    with plt.rc_context(STYLE):
        return plt.figure(figsize=(width_in, height_in), layout="constrained", **kwargs)


def wrap(text: str, width_in: float) -> str:
    """``text`` broken into lines that fit a figure ``width_in`` inches wide."""
    width = max(20, int(TITLE_CHARS_PER_INCH * width_in))
    return "\n".join(textwrap.fill(part, width) for part in text.split("\n"))


def title(fig, text: str) -> None:
    fig.suptitle(wrap(text, fig.get_figwidth()))


# ---------------------------------------------------------------- geometry helpers

def polygon_patch(polygon, **kwargs) -> PathPatch:
    """A matplotlib patch of a shapely polygon, holes included."""
    rings = [polygon.exterior, *polygon.interiors]
    vertices, codes = [], []
    for ring in rings:
        xy = np.asarray(ring.coords)
        vertices.append(xy)
        codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
    return PathPatch(MplPath(np.concatenate(vertices), np.concatenate(codes)), **kwargs)


def draw_outlines(ax, polygons, colour="white", lw=0.8, ls="-"):
    ax.add_collection(PatchCollection([polygon_patch(p) for p in polygons], facecolor="none",
                                      edgecolor=colour, linewidth=lw, linestyle=ls))


def nice_length(span_um: float) -> float:
    """A round length (1, 2 or 5 × 10^k µm) near a fifth of ``span_um``."""
    target = max(span_um / 5, 1e-6)
    decade = 10 ** math.floor(math.log10(target))
    return max(m * decade for m in (1, 2, 5) if m * decade <= target * 1.0001)


def scale_bar(ax, span_um: float, colour: str = "white") -> None:
    """A labelled bar of a round length in the lower left of a map in µm."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    length = nice_length(span_um)
    label = f"{length:g} µm"
    ax.add_artist(AnchoredSizeBar(ax.transData, length, label, "lower left", pad=0.4, sep=2, color=colour,
                                  frameon=False, size_vertical=span_um / 150, fontproperties={"size": 7}))


def representative_pixel(design, grid):
    """The designed pixel nearest the centre of the grid (an interior one), or None."""
    if not design:
        return None
    x0, x1, y0, y1 = grid.extent_um
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    ordered = sorted(design, key=lambda p: (p.centroid.x - cx) ** 2 + (p.centroid.y - cy) ** 2)
    # prefer a pixel whose whole close-up lies in the field
    for p in ordered:
        b = closeup_box(p, grid)
        if b[0] >= x0 and b[1] <= x1 and b[2] >= y0 and b[3] <= y1:
            return p
    return ordered[0]


def closeup_box(pixel, grid, margin: float = 0.35) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) around ``pixel`` with ``margin`` of its size on each side, inside the grid."""
    if pixel is None:
        return grid.extent_um
    xmin, ymin, xmax, ymax = pixel.bounds
    # the same margin on every side, from the pixel's short side, so a long stripe
    # subpixel still fills its close-up; centred on the pixel even at the field's edge
    pad = margin * 1.7 * min(xmax - xmin, ymax - ymin)
    return (xmin - pad, xmax + pad, ymin - pad, ymax + pad)


def cut_row(values: np.ndarray, grid, y_um: float, x_range: tuple[float, float]):
    """(x_um, values) along the grid row nearest ``y_um`` within ``x_range``."""
    i = int(np.clip(np.round((y_um - grid.origin_um[1]) / grid.pixel_um - 0.5), 0, grid.shape[0] - 1))
    x = grid.x_um
    keep = (x >= x_range[0]) & (x <= x_range[1])
    return x[keep], np.asarray(values)[i, keep]


def design_edges_on_cut(design, y_um: float, x_range) -> list[float]:
    """x (µm) where the horizontal line y = ``y_um`` crosses the designed outlines, within ``x_range``."""
    from shapely.geometry import LineString

    line = LineString([(x_range[0], y_um), (x_range[1], y_um)])
    xs = []
    for poly in design:
        hit = poly.boundary.intersection(line)
        for g in getattr(hit, "geoms", [hit]):
            if not g.is_empty:
                xs.extend(float(c[0]) for c in np.asarray(g.coords) if x_range[0] < c[0] < x_range[1])
    return sorted(set(round(x, 9) for x in xs))


def edge_epe_segments(printed, design, spacing_um: float):
    """Segments along the printed outlines and the signed edge-placement error at each, µm.

    The error is the distance from the segment's midpoint to the nearest
    designed outline, positive where the print lies outside the design
    (grown), negative inside (shrunk).
    """
    import shapely

    if not design:
        return [], np.asarray([])
    design_union = shapely.union_all(design)
    boundary = design_union.boundary
    shapely.prepare(design_union)
    starts, ends = [], []
    for poly in printed:
        for ring in [poly.exterior, *poly.interiors]:
            n = max(8, int(ring.length / max(spacing_um, 1e-9)))
            pts = shapely.get_coordinates(shapely.line_interpolate_point(ring, np.linspace(0, 1, n + 1),
                                                                         normalized=True))
            starts.append(pts[:-1])
            ends.append(pts[1:])
    if not starts:
        return [], np.asarray([])
    a, b = np.concatenate(starts), np.concatenate(ends)
    mids = 0.5 * (a + b)
    d = shapely.distance(boundary, shapely.points(mids))
    inside = shapely.contains_xy(design_union, mids[:, 0], mids[:, 1])
    return list(zip(a, b)), np.where(inside, -d, d)


# ---------------------------------------------------------------- labels

def _colour(step_result, index):
    return LAYER_COLOURS.get(tuple(step_result.layer), STEP_COLOURS[index % len(STEP_COLOURS)])


def tool_text(step, varied: str | None = None) -> str:
    """'contact, 254 nm, gap 2.74 µm' / 'projection, 365 nm, NA 0.5, defocus 0 µm'
    (without the gap or defocus when ``varied`` names it: a series shows each value)."""
    e = step.exposure
    optics = e.optics
    parts = [e.tool]
    lines = [w for w, _ in optics.lines]
    parts.append(", ".join(f"{w:g}" for w in lines) + " nm")
    if hasattr(optics, "gap_um") and varied != "gap_um":
        parts.append(f"gap {optics.gap_um:.3g} µm")
    if hasattr(optics, "na"):
        parts.append(f"NA {optics.na:g}" + (f", defocus {optics.defocus_um:g} µm" if varied != "defocus_um" else ""))
    return ", ".join(parts)


def step_text(step_result) -> str:
    """'step R, 20 mJ/cm², contact, 254 nm, gap 2.74 µm'."""
    step = step_result.step
    return f"step {step_result.name}, {step.exposure.dose_mj_cm2:g} mJ/cm², {tool_text(step)}"


# ---------------------------------------------------------------- field figures

def display_samples(ax, fig, dpi: float) -> tuple[int, int]:
    """(columns, rows) of device pixels the axes ``ax`` covers when ``fig`` is written at ``dpi``
    (from its current position: before the layout shrinks it, an upper bound, which is what
    thinning needs)."""
    fig_w, fig_h = fig.get_size_inches() * dpi
    pos = ax.get_position()
    return max(1, int(pos.width * fig_w)), max(1, int(pos.height * fig_h))


def display_array(values, grid, view, max_samples: tuple[int, int] | None = None):
    """The part of ``values`` that a map of ``view`` (xmin, xmax, ymin, ymax; µm) shows, and its extent.

    The array is cropped to the view (plus one sample) and, with ``max_samples``
    (device pixels along x and y), thinned to every k-th sample where it holds
    :data:`THIN_SAMPLES_PER_DEVICE_PIXEL` or more per device pixel; nearest-
    neighbour display shows one of those samples per pixel anyway. Drawing
    then costs what the figure shows, not what the field holds.
    """
    values = np.asarray(values)
    ny, nx = values.shape[:2]
    px = grid.pixel_um
    ox, oy = grid.origin_um
    i0 = int(np.clip(np.floor((view[2] - oy) / px) - 1, 0, ny))
    i1 = int(np.clip(np.ceil((view[3] - oy) / px) + 1, i0, ny))
    j0 = int(np.clip(np.floor((view[0] - ox) / px) - 1, 0, nx))
    j1 = int(np.clip(np.ceil((view[1] - ox) / px) + 1, j0, nx))
    sy = sx = 1
    if max_samples is not None:
        # a block of at most a quarter device pixel: the picture moves by at most 1/8 pixel
        sx = max(1, (j1 - j0) // (THIN_SAMPLES_PER_DEVICE_PIXEL * max_samples[0]))
        sy = max(1, (i1 - i0) // (THIN_SAMPLES_PER_DEVICE_PIXEL * max_samples[1]))
    # each kept sample stands for the sy x sx block around it: its cell spans the block,
    # and it is the block's middle sample, so no cell is off by more than half a block
    part = values[i0 + sy // 2:i1:sy, j0 + sx // 2:j1:sx]
    extent = (ox + j0 * px, ox + (j0 + part.shape[1] * sx) * px, oy + i0 * px, oy + (i0 + part.shape[0] * sy) * px)
    return part, extent


def show_field(ax, values, grid, view, **imshow_kwargs):
    """``ax.imshow`` of the part of a field (on ``grid``) that the view (xmin, xmax, ymin, ymax; µm)
    shows, remembering the whole field so :func:`save` can thin it to the written dpi.

    Set the colour limits from the whole field (``vmin``, ``vmax``): a cropped part
    would otherwise scale its colours to itself.
    """
    part, extent = display_array(values, grid, view)
    image = ax.imshow(part, origin="lower", extent=extent, interpolation="nearest", **imshow_kwargs)
    image.litho_field = (values, grid, view)
    return image


def colour_limits(values, vmin=None, vmax=None) -> tuple:
    """(vmin, vmax) that imshow would take from the whole of ``values`` where not given."""
    if vmin is not None and vmax is not None:
        return vmin, vmax
    finite = np.asarray(values)[np.isfinite(values)]
    if not finite.size:
        return vmin, vmax
    return (float(finite.min()) if vmin is None else vmin, float(finite.max()) if vmax is None else vmax)


def _thin_fields(fig, dpi: float) -> list:
    """Thin every :func:`show_field` image of ``fig`` to the device pixels it covers at ``dpi``;
    returns what :func:`_restore_fields` needs to put the full-resolution parts back."""
    restore = []
    for ax in fig.axes:
        for image in ax.images:
            field = getattr(image, "litho_field", None)
            if field is None:
                continue
            values, grid, view = field
            part, extent = display_array(values, grid, view, display_samples(ax, fig, dpi))
            if part.shape[:2] == image.get_array().shape[:2]:
                continue
            restore.append((image, image.get_array(), image.get_extent()))
            image.set_data(part)
            image.set_extent(extent)
    return restore


def _restore_fields(restore) -> None:
    for image, data, extent in restore:
        image.set_data(data)
        image.set_extent(extent)


def data_out_of_layout(fig) -> None:
    """Leave every image, collection, line and patch inside an axes out of the layout pass.

    They are clipped to their axes, so they never move a margin; measuring their
    extents (thousands of EPE segments) is most of what constrained layout costs.
    """
    for ax in fig.axes:
        for artist in (*ax.images, *ax.collections, *ax.lines, *ax.patches):
            if artist.get_clip_on():
                artist.set_in_layout(False)


def field_figure(values, grid, design, *, cmap: str, label: str, heading: str, vmin=None, vmax=None,
                 profiles=(), outline: str = "white", overlay=None, bar_colour: str = "white"):
    """A field map with its close-up on one pixel and a cut line through that pixel.

    Parameters
    ----------
    values : ndarray (ny, nx) or None
        The map on ``grid`` (None: ``overlay`` draws the map).
    design : polygons
        Designed pixels (µm), outlined; the cut's design edges are marked.
    profiles : sequence of (label, ndarray, (lo, hi) or None, colour)
        Fields sampled along the cut line, one axis each, sharing x.
    overlay : callable(ax, view), optional
        Draws extra content (printed polygons...) on the map and close-up;
        ``view`` is what the axes shows, (xmin, xmax, ymin, ymax) µm.

    Returns
    -------
    matplotlib Figure
    """
    fig = figure(11.0, 4.4)
    outer = fig.add_gridspec(1, 3, width_ratios=[1.25, 1.0, 1.05])
    ax_map = fig.add_subplot(outer[0])
    ax_zoom = fig.add_subplot(outer[1])
    rows = max(1, len(profiles))
    inner = outer[2].subgridspec(rows, 1, hspace=0.05)
    # the cut axes all plot the same x samples, so they line up without sharing an
    # axis (a shared axis re-measures its siblings' tick labels at every draw)
    ax_cuts = [fig.add_subplot(inner[k]) for k in range(rows)]
    pixel = representative_pixel(design, grid)
    box = closeup_box(pixel, grid)
    y_cut = pixel.centroid.y if pixel is not None else 0.5 * (grid.extent_um[2] + grid.extent_um[3])
    image = None
    if values is not None:
        vmin, vmax = colour_limits(values, vmin, vmax)
    for ax, view in ((ax_map, grid.extent_um), (ax_zoom, box)):
        if values is not None:
            image = show_field(ax, values, grid, view, cmap=cmap, vmin=vmin, vmax=vmax)
        if overlay is not None:
            image = overlay(ax, view) or image
        draw_outlines(ax, design, outline, 0.5 if ax is ax_map else 0.9, "--" if overlay else "-")
        ax.set(xlabel="x (µm)", ylabel="y (µm)", aspect="equal")
    x0, x1, y0, y1 = grid.extent_um
    ax_map.set(xlim=(x0, x1), ylim=(y0, y1), title="field")
    scale_bar(ax_map, x1 - x0, bar_colour)
    ax_map.add_patch(Rectangle((box[0], box[2]), box[1] - box[0], box[3] - box[2], fill=False,
                               edgecolor="#ffb000", lw=1.2))
    ax_zoom.set(xlim=box[:2], ylim=box[2:], title="close-up: one pixel, cut line dashed")
    ax_zoom.axhline(y_cut, color="#ffb000", ls="--", lw=1)
    scale_bar(ax_zoom, box[1] - box[0], bar_colour)
    if image is not None:
        fig.colorbar(image, ax=[ax_map, ax_zoom], label=label, shrink=0.85, location="bottom", aspect=40)
    edges = design_edges_on_cut(design, y_cut, box[:2])
    for k, (name, data, limits, colour) in enumerate(profiles):
        ax = ax_cuts[k]
        xs, ys = cut_row(data, grid, y_cut, box[:2])
        ax.plot(xs, ys, color=colour, lw=1.4)
        for e in edges:
            ax.axvline(e, color="0.35", ls=":", lw=0.9)
        if limits is not None:
            ax.set_ylim(*limits)
        ax.set_ylabel(name, fontsize=7.5)
        ax.grid(True, alpha=0.25)
        if k < rows - 1:
            ax.tick_params(labelbottom=False)
    ax_cuts[0].set_title(f"cut at y = {y_cut:.3g} µm\n(dotted: design edges)")
    ax_cuts[-1].set_xlabel("x (µm)")
    title(fig, heading)
    data_out_of_layout(fig)
    return fig


def _profiles(step_result):
    """The cut-line quantities of a simulated step: the light at the film top, the dose it
    leaves at the film bottom (where the film must gel), and h/h0.

    A step that did not keep its bottom dose (``dose_bottom_mj_cm2`` None) shows the gel
    fraction at the film bottom in its place.
    """
    s = step_result
    bottom = getattr(s, "dose_bottom_mj_cm2", None)
    middle = (("dose at film\nbottom (mJ/cm²)", bottom, (0.0, None), "#b35806") if bottom is not None else
              ("gel fraction\nat film bottom", s.developed.gel_fraction_bottom, (-0.03, 1.03), "#b35806"))
    return [("intensity\n(clear = 1)", s.intensity, None, "#3b5b92"), middle,
            ("h/h₀", s.remaining_thickness, (-0.03, 1.03), "#1b7837")]


def aerial_figure(step_result):
    """Aerial image at the film top (clear field = 1), close-up and cut line."""
    s = step_result
    return field_figure(s.intensity, s.grid, s.design, cmap=INTENSITY_CMAP, label="intensity at film top (clear field = 1)",
                        heading=f"Aerial image: {step_text(s)}", vmin=0, profiles=_profiles(s), outline="#ff7f7f")


def thickness_figure(step_result):
    """Remaining thickness h/h0 after development, close-up and cut line."""
    s = step_result
    return field_figure(s.remaining_thickness, s.grid, s.design, cmap=THICKNESS_CMAP, vmin=0, vmax=1,
                        label="remaining thickness h/h₀", heading=f"Developed film thickness: {step_text(s)}",
                        profiles=_profiles(s), outline="white")


def developed_figure(step_result, index: int = 0):
    """Printed outlines coloured by their edge-placement error over the designed pixels (dashed)."""
    s = step_result
    colour = _colour(s, index)
    segments, errors = edge_epe_segments(s.metrology.printed, s.design, 2 * s.grid.pixel_um)
    limit = float(np.nanmax(np.abs(errors))) if errors.size else 1.0
    limit = max(limit, s.grid.pixel_um)

    starts = np.array([a for a, _ in segments]).reshape(-1, 2)
    ends = np.array([b for _, b in segments]).reshape(-1, 2)

    def overlay(ax, view):
        ax.add_collection(PatchCollection([polygon_patch(p) for p in s.metrology.printed], facecolor=colour,
                                          alpha=0.25, edgecolor="none"))
        if not segments:
            return None
        # only the segments that touch the view: the rest are clipped away unseen
        lo = np.minimum(starts, ends)
        hi = np.maximum(starts, ends)
        seen = (hi[:, 0] >= view[0]) & (lo[:, 0] <= view[1]) & (hi[:, 1] >= view[2]) & (lo[:, 1] <= view[3])
        lines = LineCollection(np.stack([starts[seen], ends[seen]], axis=1), array=errors[seen], cmap=EPE_CMAP,
                               linewidths=2.0)
        lines.set_clim(-limit, limit)
        ax.add_collection(lines)
        return lines

    m = s.metrology.summary
    iou, epe = m.get("iou_mean"), m.get("epe_rms_um")
    stats = (f"IoU {iou:.3f}" if iou is not None else "IoU n/a") + (
        f", EPE rms {epe:.3f} µm" if epe is not None else "")
    return field_figure(None, s.grid, s.design, cmap=EPE_CMAP, label="edge placement error (µm), + outside design",
                        heading=f"Printed vs designed pixels ({stats}; missing {s.metrology.missing_pixels}, "
                                f"bridges {s.metrology.bridges}): {step_text(s)}",
                        profiles=_profiles(s), outline="black", overlay=overlay, bar_colour="black")


def rgb_composite(result) -> np.ndarray:
    """An (ny, nx, 3) picture: each step's remaining film in its colour, added."""
    grid = result.steps[0].grid
    image = np.zeros((*grid.shape, 3))
    for k, s in enumerate(result.steps):
        image += np.clip(s.remaining_thickness, 0, 1)[..., None] * np.asarray(_colour(s, k))
    return np.clip(image, 0, 1)


def zoom_box(result) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) of a square around the lowest-left designed pixel,
    wide enough to hold one pixel of each colour of a stripe or delta array."""
    designs = [p for s in result.steps for p in s.design]
    if not designs:
        return result.steps[0].grid.extent_um
    first = min(designs, key=lambda p: p.bounds[0] + p.bounds[1])
    xmin, ymin, xmax, ymax = first.bounds
    side = 1.2 * max(xmax - xmin, ymax - ymin)
    return (xmin - 0.08 * side, xmin + 0.92 * side, ymin - 0.08 * side, ymin + 0.92 * side)


def rgb_figure(result):
    """The finished array in colour (left) and a close-up of one pixel (right), designed outlines dotted."""
    grid = result.steps[0].grid
    image = rgb_composite(result)
    fig = figure(10.0, 5.0)
    axes = fig.subplots(1, 2)
    x0, x1, y0, y1 = zoom_box(result)
    for ax, view in zip(axes, (grid.extent_um, (x0, x1, y0, y1))):
        show_field(ax, image, grid, view)
        for s in result.steps:
            draw_outlines(ax, s.design, "white", 0.5, ":")
        ax.set(xlabel="x (µm)", ylabel="y (µm)")
    axes[0].add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="yellow", linewidth=1))
    gx0, gx1, _, _ = grid.extent_um
    scale_bar(axes[0], gx1 - gx0)
    scale_bar(axes[1], x1 - x0)
    axes[0].set_title("developed pixels")
    axes[1].set(xlim=(x0, x1), ylim=(y0, y1), title="close-up (dotted: mask)")
    doses = ", ".join(f"{s.name} {s.step.exposure.dose_mj_cm2:g} mJ/cm²" for s in result.steps)
    title(fig, f"{result.recipe.name}: {doses}; {tool_text(result.steps[0].step)}")
    data_out_of_layout(fig)
    return fig


def step_figures(step_result, index: int = 0) -> dict:
    """{'aerial': Figure, 'thickness': Figure, 'developed': Figure} of one step."""
    return {"aerial": aerial_figure(step_result), "thickness": thickness_figure(step_result),
            "developed": developed_figure(step_result, index)}


def save_figures(result, out_dir: Path, options: FigureOptions | None = None, *,
                 workers: int | None = None) -> list[Path]:
    """Write every figure of ``result`` into ``out_dir``; returns the paths.

    ``workers``: figures drawn at once (default: one per core, at most one
    per figure; 1 draws them one after another in this process).
    """
    out_dir = Path(out_dir)
    jobs = []
    for k, s in enumerate(result.steps):
        stem = _safe(s.name) if len(result.steps) > 1 else ""
        prefix = f"{stem}_" if stem else ""
        jobs += [(aerial_figure, (s,), out_dir / f"{prefix}aerial.png"),
                 (thickness_figure, (s,), out_dir / f"{prefix}thickness.png"),
                 (developed_figure, (s, k), out_dir / f"{prefix}developed.png")]
    if len(result.steps) > 1:
        jobs.append((rgb_figure, (result,), out_dir / "rgb.png"))
    return [path for paths in draw_figures(jobs, options, workers) for path in paths]


# What the forked processes of draw_figures draw: set in the parent just before they fork.
_JOBS: list = []


def _draw_job(k: int) -> list[Path]:
    make, args, path, options = _JOBS[k]
    return save(make(*args), path, options)


def _ignore_interrupt() -> None:
    # Ctrl-C reaches the whole process group: the parent stops the run, the children just end
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def figure_workers(n_figures: int, workers: int | None = None) -> int:
    """Processes :func:`draw_figures` uses: one per core (or ``workers``), at most one per figure;
    1 where processes cannot be forked (a figure's data is shared with a forked child, not copied)."""
    import multiprocessing
    import os

    if workers is None:
        try:
            workers = len(os.sched_getaffinity(0))
        except AttributeError:
            workers = os.cpu_count() or 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(int(workers), n_figures))


def draw_figures(jobs, options: FigureOptions | None = None, workers: int | None = None) -> list[list[Path]]:
    """Draw and save figures, several at once in forked processes; the paths of each, in order.

    Parameters
    ----------
    jobs : sequence of (make, args, path)
        ``save(make(*args), path, options)`` for each.

    Notes
    -----
    A figure is single-threaded Python (text layout, ticks, rasterising), so
    on several cores figures are drawn in parallel processes, forked after
    the simulation so they read its arrays without copying or pickling them
    (only the written paths come back). Each figure is the same bytes as
    drawn alone. A lost child (killed, out of memory) makes the figures be
    drawn again in this process.
    """
    global _JOBS
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _JOBS = [(make, tuple(args), Path(path), options) for make, args, path in jobs]
    one_by_one = range(len(_JOBS))
    n = figure_workers(len(_JOBS), workers)
    try:
        if n == 1:
            return [_draw_job(k) for k in one_by_one]
        pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork"), initializer=_ignore_interrupt)
        try:
            return list(pool.map(_draw_job, one_by_one))
        except BrokenProcessPool:
            return [_draw_job(k) for k in one_by_one]   # a child lost: every figure drawn here
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        _JOBS = []   # the result is not held past the call


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name)) or "step"


# ---------------------------------------------------------------- aerial command

def aerial_map_figure(intensity, grid, design, heading: str):
    """``litho aerial``'s image: map, close-up and cut line of the intensity."""
    return field_figure(intensity, grid, design, cmap=INTENSITY_CMAP, label="intensity at film top (clear field = 1)",
                        heading=heading, vmin=0, outline="#ff7f7f",
                        profiles=[("intensity\n(clear = 1)", intensity, None, "#3b5b92")])


def ils_figure(ils, intensity, grid, design, heading: str, floor: float = 0.05):
    """Image log slope |∇ ln I| (1/µm) where I exceeds ``floor``; darker grey where it does not."""
    data = np.where(intensity > floor, ils, np.nan)
    finite = data[np.isfinite(data)]
    vmax = float(np.percentile(finite, 99.5)) if finite.size else None
    cmap = matplotlib.colormaps[THICKNESS_CMAP].with_extremes(bad="0.25")
    fig = field_figure(data, grid, design, cmap=cmap, vmin=0, vmax=vmax, outline="#ff7f7f",
                       label=f"image log slope |∇ ln I| (1/µm); grey: I < {floor:g} (ln I undefined)",
                       heading=heading, profiles=[("intensity\n(clear = 1)", intensity, None, "#3b5b92"),
                                                  ("|∇ ln I|\n(1/µm)", data, None, "#b35806")])
    return fig


def series_figure(stack, values, parameter: str, grid, design, heading: str):
    """A gap or focus series: close-ups of one pixel per value and their cut lines on one axis.

    Parameters
    ----------
    stack : ndarray (n, ny, nx)
        Intensity per value, clear field = 1.
    values : sequence of float
        The gap or defocus of each image, µm.
    parameter : str
        ``"gap_um"`` or ``"defocus_um"``.
    """
    name = {"gap_um": "gap", "defocus_um": "defocus"}.get(parameter, parameter)
    n = len(values)
    shown = list(range(n)) if n <= 6 else sorted(set(np.linspace(0, n - 1, 6).round().astype(int)))
    fig = figure(min(2.1 * len(shown) + 4.2, 16), 3.9)
    outer = fig.add_gridspec(1, 2, width_ratios=[1.9 * len(shown), 3.6])
    maps = outer[0].subgridspec(1, len(shown))
    pixel = representative_pixel(design, grid)
    box = closeup_box(pixel, grid)
    y_cut = pixel.centroid.y if pixel is not None else 0.5 * (grid.extent_um[2] + grid.extent_um[3])
    vmax = float(np.max(stack)) if np.size(stack) else 1.0
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, n))
    image = None
    axes = []
    for col, k in enumerate(shown):
        ax = fig.add_subplot(maps[col])
        image = show_field(ax, stack[k], grid, box, cmap=INTENSITY_CMAP, vmin=0, vmax=vmax)
        draw_outlines(ax, design, "#ff7f7f", 0.8)
        ax.axhline(y_cut, color=colours[k], ls="--", lw=1)
        ax.set(xlim=box[:2], ylim=box[2:], aspect="equal", title=f"{name} {values[k]:g} µm", xticks=[], yticks=[])
        scale_bar(ax, box[1] - box[0])
        axes.append(ax)
    if image is not None:
        fig.colorbar(image, ax=axes, location="bottom", label="intensity at film top (clear field = 1)",
                     shrink=0.8, aspect=40)
    ax = fig.add_subplot(outer[1])
    for k, v in enumerate(values):
        xs, ys = cut_row(stack[k], grid, y_cut, box[:2])
        ax.plot(xs, ys, color=colours[k], lw=1.3, label=f"{v:g} µm")
    for e in design_edges_on_cut(design, y_cut, box[:2]):
        ax.axvline(e, color="0.35", ls=":", lw=0.9)
    ax.set(xlabel="x (µm)", ylabel="intensity (clear field = 1)", title=f"cut at y = {y_cut:.3g} µm\n(dotted: design edges)")
    ax.grid(True, alpha=0.25)
    ax.legend(title=name, loc="best")
    title(fig, heading)
    data_out_of_layout(fig)
    return fig


# ---------------------------------------------------------------- process windows (litho sweep)

AXIS_UNITS = {"mj_cm2": "mJ/cm²", "um": "µm", "nm": "nm", "s": "s", "deg": "°", "mw_cm2": "mW/cm²", "ppm": "ppm",
              "wt_pct": "wt%", "mol_pct": "mol%", "mm": "mm"}


def axis_label(name: str) -> str:
    """'exposure.dose' -> 'dose (mJ/cm²)', 'exposure.gap_um' -> 'gap (µm)', from the recipe key's unit."""
    from .units import BARE_KEY_UNITS

    key = name.split(".")[-1]
    for suffix in sorted(AXIS_UNITS, key=len, reverse=True):
        if key.endswith("_" + suffix):
            return f"{key[: -len(suffix) - 1].replace('_', ' ')} ({AXIS_UNITS[suffix]})"
    if key in BARE_KEY_UNITS:
        return f"{key.replace('_', ' ')} ({AXIS_UNITS[BARE_KEY_UNITS[key]]})"
    return key.replace("_", " ")


def _is_dose(name: str) -> bool:
    return name.split(".")[-1].startswith("dose")


@dataclass(frozen=True)
class WindowTable:
    """One step's sweep points on a dose × other-axis grid (indices, not values, address cells).

    ``cd_um`` and ``in_spec`` are (n_other, n_dose); ``other`` is None for a dose-only sweep.
    """

    step: str
    dose_name: str
    doses: tuple
    other_name: str | None
    others: tuple
    cd_um: np.ndarray
    design_cd_um: float | None
    in_spec: np.ndarray
    fixed: dict


def window_tables(result: dict) -> list[WindowTable]:
    """Per step, the sweep's points arranged for process-window figures.

    Uses the first dose axis and the first other axis; any further axes are
    held at their first value (named in ``fixed``).
    """
    names = [a["name"] for a in result["axes"]]
    values = {a["name"]: list(a["values"]) for a in result["axes"]}
    dose = next((n for n in names if _is_dose(n)), names[0])
    other = next((n for n in names if n != dose), None)
    fixed = {n: values[n][0] for n in names if n not in (dose, other)}
    tables = []
    for step in dict.fromkeys(r["step"] for r in result["rows"]):
        rows = [r for r in result["rows"] if r["step"] == step and all(r[n] == v for n, v in fixed.items())]
        others = values[other] if other else [None]
        cd = np.full((len(others), len(values[dose])), np.nan)
        ok = np.zeros(cd.shape, bool)
        design = [r["design_cd_x_um"] for r in rows if r.get("design_cd_x_um") is not None]
        for r in rows:
            i = others.index(r[other]) if other else 0
            j = values[dose].index(r[dose])
            if r["cd_x_error_mean_um"] is not None and r.get("design_cd_x_um") is not None:
                cd[i, j] = r["design_cd_x_um"] + r["cd_x_error_mean_um"]
            ok[i, j] = bool(r["in_spec"])
        tables.append(WindowTable(step, dose, tuple(values[dose]), other, tuple(others), cd,
                                  float(np.mean(design)) if design else None, ok, fixed))
    return tables


def _latitude_pct(d0: float, d1: float) -> float:
    return 100.0 * (d1 - d0) / (0.5 * (d0 + d1)) if d0 + d1 > 0 else 0.0


def latitude_curve(table: WindowTable) -> list[tuple[float, float, tuple[int, int, int, int]]]:
    """Exposure latitude against the width of the other axis over which it holds.

    For every contiguous range of other-axis values [i..k], the widest
    contiguous run of doses in spec at all of them. Returns, per width
    (DOF or gap latitude, in the other axis's unit), the best
    (width, exposure latitude %, (i, k, j0, j1)) with the cell indices of
    that window; sorted by width.
    """
    ok = table.in_spec
    doses = np.asarray(table.doses, float)
    others = np.asarray([0.0 if v is None else v for v in table.others], float)
    best: dict[float, tuple] = {}
    for i in range(ok.shape[0]):
        common = np.ones(ok.shape[1], bool)
        for k in range(i, ok.shape[0]):
            common &= ok[k]
            if not common.any():
                break
            j = 0
            while j < len(common):
                if not common[j]:
                    j += 1
                    continue
                j1 = j
                while j1 + 1 < len(common) and common[j1 + 1]:
                    j1 += 1
                width = float(others[k] - others[i])
                el = _latitude_pct(doses[j], doses[j1])
                if width not in best or (el, j1 - j) > (best[width][1], best[width][2][3] - best[width][2][2]):
                    best[width] = (width, el, (i, k, j, j1))
                j = j1 + 1
    return [best[w] for w in sorted(best)]


def largest_window(table: WindowTable):
    """The in-spec rectangle of cells with the largest exposure latitude × other-axis width
    (ties: most cells); (width, latitude %, (i, k, j0, j1)) or None when no point is in spec."""
    curve = latitude_curve(table)
    if not curve:
        return None
    return max(curve, key=lambda c: (c[0] * c[1], (c[2][1] - c[2][0] + 1) * (c[2][3] - c[2][2] + 1), c[1]))


def _bossung(ax, t: WindowTable, spec_fraction: float) -> None:
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, max(1, len(t.others))))
    if t.design_cd_um is not None:
        lo, hi = t.design_cd_um * (1 - spec_fraction), t.design_cd_um * (1 + spec_fraction)
        ax.axhspan(lo, hi, color="0.88", zorder=0, label=f"design CD ±{100 * spec_fraction:g}%")
        ax.axhline(t.design_cd_um, color="0.5", lw=0.8, zorder=0)
    for i, v in enumerate(t.others):
        label = None if v is None else f"{v:g}"
        ax.plot(t.doses, t.cd_um[i], "-", color=colours[i], lw=1.3, label=label)
        spec = t.in_spec[i]
        ax.plot(np.asarray(t.doses)[spec], t.cd_um[i][spec], "o", color=colours[i], ms=4)
        ax.plot(np.asarray(t.doses)[~spec], t.cd_um[i][~spec], "x", color=colours[i], ms=4)
    ax.set(xlabel=axis_label(t.dose_name), ylabel="printed CD in x (µm)",
           title=wrap(f"Bossung, step {t.step} (o in spec, x not)", 4.0))
    ax.grid(True, alpha=0.25)
    ax.legend(title=axis_label(t.other_name) if t.other_name else None, loc="best")


def _matrix(fig, ax, t: WindowTable, spec_fraction: float) -> None:
    # cells on index positions: a 2-value axis is two columns, not cells spanning the range
    error_pct = (100 * (t.cd_um / t.design_cd_um - 1) if t.design_cd_um else np.full(t.cd_um.shape, np.nan))
    # ±3× the spec: cells near the window stay readable; far-off ones saturate (arrows on the bar)
    limit = 300 * spec_fraction
    cmap = matplotlib.colormaps["PuOr_r"].with_extremes(bad="0.6")
    ny, nx = t.cd_um.shape
    im = ax.imshow(error_pct, origin="lower", cmap=cmap, vmin=-limit, vmax=limit, aspect="auto",
                   extent=(-0.5, nx - 0.5, -0.5, ny - 0.5), interpolation="nearest")
    fig.colorbar(im, ax=ax, label="CD error in x (% of design); grey: no CD", extend="both")
    for i in range(ny):
        for j in range(nx):
            if t.in_spec[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", lw=0.6,
                                       hatch="///"))
    window = largest_window(t)
    if window is not None:
        width, el, (i, k, j0, j1) = window
        ax.add_patch(Rectangle((j0 - 0.5, i - 0.5), j1 - j0 + 1, k - i + 1, fill=False, edgecolor="#d60000",
                               lw=2.2))
        other = f" × {_other_latitude(t)} {width:.3g} µm" if t.other_name else ""
        note = f"EL {el:.0f}%{other}"
    else:
        note = "no point in spec"
    ax.set_xticks(range(nx), [f"{d:g}" for d in t.doses], rotation=45 if nx > 6 else 0)
    ax.set_yticks(range(ny), ["" if v is None else f"{v:g}" for v in t.others])
    ax.set(xlabel=axis_label(t.dose_name), ylabel=axis_label(t.other_name) if t.other_name else "",
           title=wrap(f"step {t.step}: hatched in spec; red box, the largest window: {note}", 4.0))


def _other_latitude(t: WindowTable) -> str:
    """'depth of focus' for a focus axis, else '<key> latitude' ('gap latitude')."""
    if t.other_name and "defocus" in t.other_name:
        return "depth of focus"
    return f"{axis_label(t.other_name).split(' (')[0]} latitude" if t.other_name else ""


def _latitude(ax, t: WindowTable) -> None:
    curve = latitude_curve(t)
    if curve:
        ax.plot([c[0] for c in curve], [c[1] for c in curve], "o-", color="#3b5b92")
    else:
        ax.text(0.5, 0.5, "no point in spec", transform=ax.transAxes, ha="center")
    what = _other_latitude(t)
    unit = axis_label(t.other_name).split(" (")[-1].rstrip(")") if t.other_name and "(" in axis_label(
        t.other_name) else ""
    ax.set(xlabel=f"{what} ({unit})" if unit else what, ylabel="exposure latitude (%)",
           title=wrap(f"exposure latitude vs {what}, step {t.step}", 4.0))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.25)


def process_window_figure(result: dict, heading: str | None = None):
    """Process windows of a ``litho sweep`` result, one row per step.

    Columns: Bossung curves (printed CD vs dose, one curve per gap or focus,
    the ±spec band shaded), the dose × gap/focus matrix of CD error with
    in-spec cells hatched and the largest in-spec rectangle, and exposure
    latitude against depth of focus (or gap latitude). A dose-only sweep
    shows the Bossung curve alone.
    """
    tables = window_tables(result)
    spec = result.get("cd_spec_fraction", 0.1)
    two_d = any(t.other_name for t in tables)
    cols = 3 if two_d else 1
    fig = figure(5.0 * cols if two_d else 6.0, 3.9 * len(tables) + 0.4)
    axes = np.atleast_2d(fig.subplots(len(tables), cols, squeeze=False))
    for row, t in zip(axes, tables):
        _bossung(row[0], t, spec)
        if two_d:
            _matrix(fig, row[1], t, spec)
            _latitude(row[2], t)
    fixed = tables[0].fixed if tables else {}
    held = "; " + ", ".join(f"{axis_label(n)} = {v:g}" for n, v in fixed.items()) if fixed else ""
    title(fig, heading or f"Process window: {result.get('recipe', '')}{held}")
    return fig


# ---------------------------------------------------------------- other commands

def contrast_figure(curve, recipe_dose_mj_cm2: float, heading: str, gamma_text: str):
    """Contrast curve: h/h0 and PLQY retention against dose, each on its own labelled axis."""
    fig = figure(6.4, 4.2)
    ax = fig.subplots()
    ax.semilogx(curve.doses, curve.nrt, color="black", lw=1.8, label="remaining thickness h/h₀")
    for row, (value, label, colour) in enumerate(((curve.d0, "D0", "#3b5b92"), (curve.d50, "D50", "#e08214"),
                                                  (curve.d100, "D100", "#b2182b"))):
        if math.isfinite(value):
            ax.axvline(value, color=colour, lw=0.8, ls=":")
            ax.text(0.02, 0.62 - 0.07 * row, f"{label} = {value:.3g} mJ/cm²", color=colour,
                    transform=ax.transAxes, fontsize=8)
    ax.axvline(recipe_dose_mj_cm2, color="0.5", lw=1.0, label="recipe dose")
    ax.set_xlabel("dose (mJ/cm²)")
    ax.set_ylabel("normalised remaining thickness h/h₀")
    ax.set_ylim(-0.02, 1.05)
    ax.grid(True, which="both", alpha=0.25)
    ax2 = ax.twinx()
    ax2.semilogx(curve.doses, curve.plqy_retention, color="#1b7837", lw=1.3, ls="--", label="PLQY / PLQY₀")
    ax2.set_ylabel("PLQY retention PLQY/PLQY₀", color="#1b7837")
    ax2.tick_params(axis="y", colors="#1b7837")
    ax2.set_ylim(-0.02, 1.05)
    handles = ax.get_legend_handles_labels()
    more = ax2.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="lower right")
    title(fig, f"{heading}\n{gamma_text}")
    return fig


def min_feature_figure(report: dict):
    """Min-feature search: one panel per feature, simulated sizes (prints / fails) and the answer."""
    features = report["features"]
    fig = figure(7.2, 1.35 * len(features) + 1.2)
    axes = np.atleast_1d(fig.subplots(len(features), 1, sharex=True, squeeze=False)[:, 0])
    what = {"line-space": "line width", "square": "square side", "pixel-array": "pixel pitch"}
    for ax, f in zip(axes, features):
        trials = sorted(f["trials"], key=lambda t: t["size_um"])
        ok = [t["size_um"] for t in trials if t["prints"]]
        bad = [t["size_um"] for t in trials if not t["prints"]]
        ax.plot(ok, [0] * len(ok), "o", color="#1b7837", ms=5, label="prints")
        ax.plot(bad, [0] * len(bad), "x", color="#b2182b", ms=5, label="fails")
        if f["min_size_um"]:
            ax.axvspan(f["min_size_um"], f["searched_um"][1], color="#1b7837", alpha=0.12,
                       label="everything prints")
            ax.axvline(f["min_size_um"], color="#1b7837", lw=1.2)
            ax.annotate(f"smallest {f['min_size_um']:.3g} µm", (f["min_size_um"], 0.25), xytext=(4, 0),
                        textcoords="offset points", fontsize=8, color="#1b7837")
        else:
            ax.text(0.02, 0.6, "nothing prints", transform=ax.transAxes, fontsize=8, color="#b2182b")
        ax.set_ylim(-0.6, 0.6)
        ax.set_yticks([])
        ax.set_xscale("log")
        # 1-2-5 ticks written as plain numbers: log-axis minor labels (3×10⁻¹) overprint
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(f"{f['feature']} ({what.get(f['feature'], 'size')})", loc="left")
        ax.grid(True, which="both", axis="x", alpha=0.25)
    axes[0].legend(loc="upper left", ncols=3, bbox_to_anchor=(0, 1.45 if len(features) > 1 else 1.3))
    axes[-1].set_xlabel("feature size (µm)")
    title(fig, f"Smallest printed feature: {report['recipe']} (step {report['step']})")
    return fig


def mask_preview_figure(layers: dict, heading: str):
    """Every layer of a layout in µm with a layer legend; a close-up of the array beside the whole.

    Parameters
    ----------
    layers : {(layer, datatype): polygons}
        Geometry per layer, µm.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    colours = {(1, 0): "#d62728", (2, 0): "#2ca02c", (3, 0): "#1f77b4", (10, 0): "#555555", (10, 1): "#999999"}
    colour_polygons = [p for k in layers if k in LAYER_COLOURS for p in layers[k]]
    # the array's subpixels are the largest shapes on the colour layers; verniers and the
    # colour boxes of the marks are much smaller
    largest = max((p.area for p in colour_polygons), default=0.0)
    array = [p for p in colour_polygons if p.area >= 0.5 * largest]
    bounds = [p.bounds for ps in layers.values() for p in ps]
    aspect = 1.0
    if bounds:
        aspect = (max(b[3] for b in bounds) - min(b[1] for b in bounds)) / max(
            1e-9, max(b[2] for b in bounds) - min(b[0] for b in bounds))
    fig = figure(10.0 if array else 5.6, min(6.0, max(3.0, 4.2 * aspect + 1.4)))
    axes = fig.subplots(1, 2 if array else 1, squeeze=False)[0]
    handles = []
    for ax in axes:
        # marks first: their frames' holes are painted white and must not hide the colour boxes
        for lay in sorted(layers, key=lambda l: (l[0] != 10, l)):
            colour = colours.get(lay, "#000000")
            verts = [list(p.exterior.coords) for p in layers[lay]]
            ax.add_collection(PolyCollection(verts, facecolors=colour, edgecolors="none", alpha=0.9))
            holes = [list(r.coords) for p in layers[lay] for r in p.interiors]
            if holes:
                ax.add_collection(PolyCollection(holes, facecolors="white", edgecolors="none"))
            if ax is axes[0]:
                name = LAYER_NAMES.get(lay, "")
                handles.append(Patch(color=colour, label=f"{lay[0]}/{lay[1]} {name}".strip()))
        ax.autoscale_view()
        ax.set(aspect="equal", xlabel="x (µm)", ylabel="y (µm)")
    axes[0].set_title("whole layout")
    if bounds:
        scale_bar(axes[0], max(b[2] for b in bounds) - min(b[0] for b in bounds), "black")
    if array:
        x0 = min(p.bounds[0] for p in array)
        y0 = min(p.bounds[1] for p in array)
        x1 = max(p.bounds[2] for p in array)
        y1 = max(p.bounds[3] for p in array)
        pad = 0.03 * max(x1 - x0, y1 - y0)
        axes[1].set(xlim=(x0 - pad, x1 + pad), ylim=(y0 - pad, y1 + pad), title="pixel array")
        scale_bar(axes[1], x1 - x0, "black")
        axes[0].add_patch(Rectangle((x0 - pad, y0 - pad), x1 - x0 + 2 * pad, y1 - y0 + 2 * pad, fill=False,
                                    edgecolor="#ffb000", lw=1.2))
    fig.legend(handles=handles, loc="outside right upper", title="layer")
    title(fig, heading)
    return fig


def kernels_figure(kernels, heading: str, show: int = 8):
    """SOCS kernels: eigenvalue spectrum and |h_k|² in µm with a scale bar and a shared colour bar."""
    k = kernels
    show = max(1, min(show, k.kept))
    fig = figure(2.0 * (show + 1) + 0.8, 2.9)
    axes = np.atleast_1d(fig.subplots(1, show + 1))
    axes[0].semilogy(k.eigenvalues / k.eigenvalues.sum(), ".", ms=3)
    axes[0].axvline(k.kept - 0.5, color="#b2182b", lw=0.8, label=f"{k.kept} kept")
    axes[0].set(title="λ_k / trace", xlabel="k")
    axes[0].legend(loc="upper right")
    ny, nx = k.shape
    # the kernels' energy sits within a few wavelengths of the centre: show the central quarter
    half = max(8, min(ny, nx) // 4)
    rows = slice(max(0, ny // 2 - half // 2), ny // 2 + half // 2)
    cols = slice(max(0, nx // 2 - half // 2), nx // 2 + half // 2)
    fields = [np.abs(k.spatial(i)[rows, cols]) ** 2 for i in range(show)]
    vmax = max(float(f.max()) for f in fields) or 1.0
    side_x = (cols.stop - cols.start) * k.pixel_um
    side_y = (rows.stop - rows.start) * k.pixel_um
    extent = (-side_x / 2, side_x / 2, -side_y / 2, side_y / 2)
    image = None
    for i, field in enumerate(fields):
        ax = axes[i + 1]
        image = ax.imshow(field, cmap=INTENSITY_CMAP, origin="lower", extent=extent, vmin=0, vmax=vmax)
        ax.set(title=f"|h_{i}|², λ={k.eigenvalues[i] / k.eigenvalues.sum():.3f}", xticks=[], yticks=[])
        scale_bar(ax, side_x)
    fig.colorbar(image, ax=list(axes[1:]), label="|h_k|² (arb. units, one scale for all)", shrink=0.9)
    title(fig, heading)
    return fig


def plot_validation_parity(table, path: Path) -> None:
    """Predicted vs published for every validation row, one panel per kind of observable.

    The shaded band is the tolerance a lab accepts (±0.1 for NRT and PLQY,
    ×2 for doses and sizes); filled markers are left-out predictions, open
    ones in-sample (rows that are only predicted).
    """
    groups = [("fractions", ("nrt", "nrt_min", "plqy"), "h/h\u2080 or PLQY/PLQY\u2080", False),
              ("doses and sizes", ("dose", "resolution"), "mJ/cm\u00b2 or \u00b5m", True)]
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.4), constrained_layout=True)
    for ax, (title, kinds, unit, log) in zip(axes, groups):
        recs = [r for r in table if r["observable"] in kinds]
        values = [r["published"] for r in recs] + [v for r in recs for v in (r["in_sample"], r["left_out"])
                                                   if v is not None and np.isfinite(v)]
        if log:
            lo, hi = (min(values) / 3, max(values) * 3) if values else (0.1, 100)
            line = np.geomspace(lo, hi, 50)
            ax.fill_between(line, line / 2, line * 2, color="0.9", label="within \u00d72")
            ax.set_xscale("log")
            ax.set_yscale("log")
        else:
            lo, hi = 0.0, 1.05
            line = np.linspace(lo, hi, 50)
            ax.fill_between(line, line - 0.1, line + 0.1, color="0.9", label="within \u00b10.1")
        ax.plot(line, line, color="0.5", lw=0.8)
        for r in recs:
            shown = r["left_out"] if r["left_out"] is not None else r["in_sample"]
            if shown is None or not np.isfinite(shown):
                continue
            colour = "tab:blue" if r["pass"] else "tab:red"
            ax.plot([r["published"]], [shown], "o", color=colour,
                    mfc=colour if r["left_out"] is not None else "white")
            ax.annotate(r["row"], (r["published"], shown), textcoords="offset points", xytext=(4, 3), fontsize=8)
        ax.set_xlim(line[0], line[-1])
        ax.set_ylim(line[0], line[-1])
        ax.set_xlabel(f"published ({unit})")
        ax.set_ylabel(f"litho ({unit})")
        ax.set_title(f"{title}: blue met, red missed")
        ax.legend(loc="upper left", fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
