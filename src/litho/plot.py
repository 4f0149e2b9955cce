"""Figures of a simulation: aerial image, remaining thickness, developed pattern, RGB composite.

matplotlib with the Agg backend (no screen needed); every figure is drawn
in µm with the designed pixel outlines over it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.patches

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

# Display colour of each colour layer (R, G, B) and of any other layer by step order.
LAYER_COLOURS = {(1, 0): (0.9, 0.15, 0.1), (2, 0): (0.1, 0.75, 0.2), (3, 0): (0.15, 0.3, 0.95)}
STEP_COLOURS = [(0.9, 0.15, 0.1), (0.1, 0.75, 0.2), (0.15, 0.3, 0.95), (0.8, 0.6, 0.1)]
DPI = 110


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


def _colour(step_result, index):
    return LAYER_COLOURS.get(tuple(step_result.layer), STEP_COLOURS[index % len(STEP_COLOURS)])


def plot_map(step_result, values, path: Path, *, cmap: str, label: str, title: str, outline: str,
             vmin=None, vmax=None) -> None:
    """A map on the step's grid (µm) with the designed pixels outlined."""
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(values, origin="lower", extent=step_result.grid.extent_um, cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    draw_outlines(ax, step_result.design, outline, 0.6)
    fig.colorbar(im, ax=ax, label=label)
    ax.set(xlabel="x (µm)", ylabel="y (µm)", title=f"{step_result.name}: {title}")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_aerial(step_result, path: Path) -> None:
    """Aerial image (clear field = 1) with the mask outline."""
    plot_map(step_result, step_result.intensity, path, cmap="inferno", label="intensity (clear field = 1)",
             title="aerial image at film top", outline="cyan")


def plot_remaining_thickness(step_result, path: Path) -> None:
    """Normalised remaining thickness h/h0 after development."""
    plot_map(step_result, step_result.remaining_thickness, path, cmap="viridis", label="remaining thickness h/h0",
             title="developed film", outline="white", vmin=0, vmax=1)


def plot_developed(step_result, path: Path, index: int = 0) -> None:
    """Printed polygons (filled) over the designed pixels (dashed)."""
    fig, ax = plt.subplots(figsize=(6, 5))
    colour = _colour(step_result, index)
    ax.add_collection(PatchCollection([polygon_patch(p) for p in step_result.metrology.printed],
                                      facecolor=colour, alpha=0.6, edgecolor=colour, linewidth=0.8))
    draw_outlines(ax, step_result.design, "black", 0.7, "--")
    x0, x1, y0, y1 = step_result.grid.extent_um
    ax.set(xlim=(x0, x1), ylim=(y0, y1), aspect="equal", xlabel="x (µm)", ylabel="y (µm)")
    m = step_result.metrology.summary
    iou = m.get("iou_mean")
    ax.set_title(f"{step_result.name}: printed (fill) vs mask (dashed)"
                 + (f", IoU {iou:.3f}" if iou is not None else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


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


def plot_rgb(result, path: Path) -> None:
    """The finished array in colour (left) and a close-up of one pixel (right),
    designed outlines dotted."""
    grid = result.steps[0].grid
    image = rgb_composite(result)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5), gridspec_kw={"width_ratios": [1, 1]})
    for ax in axes:
        ax.imshow(image, origin="lower", extent=grid.extent_um, interpolation="nearest")
        for s in result.steps:
            draw_outlines(ax, s.design, "white", 0.5, ":")
        ax.set(xlabel="x (µm)", ylabel="y (µm)")
    x0, x1, y0, y1 = zoom_box(result)
    axes[0].add_patch(matplotlib.patches.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False,
                                                   edgecolor="yellow", linewidth=1))
    axes[0].set_title("developed pixels")
    axes[1].set(xlim=(x0, x1), ylim=(y0, y1), title="close-up (dotted: mask)")
    fig.suptitle(result.recipe.name)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def save_figures(result, out_dir: Path) -> list[Path]:
    """Write every figure of ``result`` into ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    paths = []
    for k, s in enumerate(result.steps):
        stem = _safe(s.name) if len(result.steps) > 1 else ""
        prefix = f"{stem}_" if stem else ""
        for name, fn in (("aerial", plot_aerial), ("thickness", plot_remaining_thickness)):
            p = out_dir / f"{prefix}{name}.png"
            fn(s, p)
            paths.append(p)
        p = out_dir / f"{prefix}developed.png"
        plot_developed(s, p, k)
        paths.append(p)
    if len(result.steps) > 1:
        p = out_dir / "rgb.png"
        plot_rgb(result, p)
        paths.append(p)
    return paths


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


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
