"""report.html: one self-contained page that shows what a run printed, how faithfully, and
where its process window is (from a ``litho sweep`` written beside the run).

The page is built from the files of a run's output directory (report.json,
provenance.json, timing.json and whatever figures the run wrote), so
``litho report OUT_DIR`` can write it for any run, and ``litho simulate
--html`` writes it with the run. Figures are embedded as base64 data, the
style sheet is inline and there is no script: the file can be mailed,
archived or opened offline and shows the same.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from .errors import LithoInputError
from .outputs import atomic_file

#: What each figure a run writes shows (by file stem, without a step prefix).
FIGURE_CAPTIONS = {
    "rgb": "The finished array in colour, with a close-up of one pixel of each colour (dotted: the mask).",
    "aerial": "Aerial image at the film top (clear field = 1) with the mask outline; a close-up on one pixel and "
              "the cut through it: intensity, dose at the film bottom, h/h0, design edges dotted.",
    "thickness": "Remaining thickness h/h0 after development, with the close-up and the same cut.",
    "developed": "Printed contours coloured by their edge-placement error (+ outside the design) over the "
                 "designed pixels (dashed), with the close-up and the same cut.",
}
#: Where report.html looks for a sweep of the same recipe: the run's directory, or its sweep/ folder.
SWEEP_PLACES = (".", "sweep")
_FIGURE_SUFFIXES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
# Headline columns of the summary table: (report.json summary key, heading, format).
_SUMMARY_COLUMNS = (
    ("pixels", "pixels", "d"), ("missing_pixels", "missing", "d"), ("bridges", "bridges", "d"),
    ("iou_mean", "IoU mean", ".3f"), ("cd_x_error_mean_um", "CD error x (µm)", "+.3f"),
    ("cd_y_error_mean_um", "CD error y (µm)", "+.3f"), ("epe_rms_um", "EPE rms (µm)", ".3f"),
    ("epe_max_abs_um", "EPE max |·| (µm)", ".3f"), ("residue_max_nrt", "residue max (h/h0)", ".2f"),
    ("plqy_retention_mean_in_print", "PLQY retention", ".2f"),
)
# A film left on earlier pixels above this h/h0 is worth a warning (a visible colour mix).
CONTAMINATION_WARNING_NRT = 0.05
RESIDUE_WARNING_NRT = 0.1

_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px;color:#1a1a1a;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc}
h3{font-size:14px;margin:18px 0 6px}p.lead{color:#555;margin:0 0 12px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #d0d0d0;padding:3px 8px;text-align:right}th{background:#f2f2f2}
td.l,th.l{text-align:left}.sw{display:inline-block;width:11px;height:11px;margin-right:6px;
vertical-align:-1px;border:1px solid #444}
.warn{background:#fff4e0;border-left:4px solid #e08a00;padding:6px 10px;margin:4px 0;font-size:13px}
.ok{background:#eef8ee;border-left:4px solid #3a9a3a;padding:6px 10px;font-size:13px}
figure{display:block;margin:10px 0 14px}
figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:12px;color:#444;max-width:900px}
pre{background:#f7f7f7;border:1px solid #ddd;padding:8px;font-size:12px;overflow-x:auto}
code{font-size:12px}
"""


def _read_json(path: Path, required: bool):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        if required:
            raise LithoInputError(f"{path}: no such file; give the output directory of litho simulate") from None
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LithoInputError(f"{path}: not a readable litho report ({err})") from None


def _fmt(value, spec: str) -> str:
    if value is None:
        return "n/a"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return html.escape(str(value))


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def warnings_of(report: dict) -> list[str]:
    """Plain-text warnings a reader should see first (empty when the run looks clean)."""
    from .convergence import warning_line

    out = []
    line = warning_line(report.get("convergence") or {})
    if line:
        out.append(line.removeprefix("warning: "))
    for name, row in report.get("summary", {}).items():
        if row.get("missing_pixels"):
            out.append(f"step {name}: {row['missing_pixels']} of {row['pixels']} pixels did not print "
                       f"(less than 10% of the pixel area)")
        if row.get("bridges"):
            out.append(f"step {name}: {row['bridges']} printed shapes bridge two or more pixels")
        if (row.get("residue_max_nrt") or 0) > RESIDUE_WARNING_NRT:
            out.append(f"step {name}: residue up to h/h0 = {row['residue_max_nrt']:.2f} more than 1 µm "
                       f"from every pixel")
    for row in report.get("colour_contamination", []):
        if (row.get("later_film_on_earlier_pixels_max_nrt") or 0) > CONTAMINATION_WARNING_NRT:
            out.append(f"{row['later_step']} film left on {row['earlier_step']} pixels: up to h/h0 = "
                       f"{row['later_film_on_earlier_pixels_max_nrt']:.3f}")
    return out


def _figures(out_dir: Path, step_names: list[str]) -> list[tuple[str, str, str]]:
    """(file name, data URI, caption) of every figure in ``out_dir``: the finished array first, then by step."""
    # a sweep's figure (sweep.png) has its own place, in the process-window section
    files = [p for p in sorted(out_dir.iterdir())
             if p.suffix.lower() in _FIGURE_SUFFIXES and p.is_file() and p.stem != "sweep"]

    def order(p: Path):
        stem = p.stem
        for k, name in enumerate(step_names):
            if stem.startswith(f"{name}_"):
                return (1 + k, list(FIGURE_CAPTIONS).index(stem[len(name) + 1:])
                        if stem[len(name) + 1:] in FIGURE_CAPTIONS else 99, stem)
        return (0 if stem in FIGURE_CAPTIONS else len(step_names) + 1,
                list(FIGURE_CAPTIONS).index(stem) if stem in FIGURE_CAPTIONS else 99, stem)

    out = []
    for p in sorted(files, key=order):
        stem = p.stem
        step = next((n for n in step_names if stem.startswith(f"{n}_")), None)
        base = stem[len(step) + 1:] if step else stem
        caption = FIGURE_CAPTIONS.get(base, base.replace("_", " ").capitalize() + ".")
        if step:
            caption = f"Step {step}: {caption[0].lower()}{caption[1:]}"
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        out.append((p.name, f"data:{_FIGURE_SUFFIXES[p.suffix.lower()]};base64,{data}", caption))
    return out


def find_sweep(out_dir: Path) -> tuple[Path | None, dict | None]:
    """(folder, sweep.json contents) of a ``litho sweep`` written into ``out_dir`` or ``out_dir/sweep``."""
    for place in SWEEP_PLACES:
        folder = (out_dir / place).resolve()
        document = _read_json(folder / "sweep.json", required=False) if (folder / "sweep.json").is_file() else None
        if isinstance(document, dict) and "rows" in document:
            return folder, document
    return None, None


def _latitude_text(entry: dict) -> str:
    lat = entry.get("exposure_latitude_pct")
    if lat is None:
        return "no dose in spec"
    bound = "≥ " if entry.get("limited_by_sweep") else ""
    return (f"{_fmt(entry.get('dose_min_mj_cm2'), 'g')}–{_fmt(entry.get('dose_max_mj_cm2'), 'g')} mJ/cm² "
            f"({bound}{lat:.0f}% latitude)")


def process_window_html(out_dir: Path, report: dict) -> str:
    """The process-window section: the sweep found beside the run (its latitude per step and setting,
    and its figure), or, without one, where this run's dose sits and the command that finds the window."""
    folder, sweep = find_sweep(out_dir)
    parts = ["<h2>Process window</h2>"]
    if sweep is None:
        recipe = report.get("recipe", {})
        doses = [s.get("exposure", {}).get("dose_mj_cm2") for s in report["steps"]]
        dose = next((d for d in doses if isinstance(d, (int, float))), None)
        vary = (f"exposure.dose={_fmt(0.5 * dose, 'g')}:{_fmt(2.0 * dose, 'g')}:7" if dose else "exposure.dose=a:b:7")
        exposure = report["steps"][0].get("exposure", {})
        gap = (exposure.get("optics") or {}).get("gap_um")
        if exposure.get("tool") == "proximity" and isinstance(gap, (int, float)) and gap > 0:
            vary += f" --vary exposure.gap={_fmt(0.5 * gap, 'g')},{_fmt(gap, 'g')},{_fmt(2 * gap, 'g')}"
        elif exposure.get("tool") == "projection":
            vary += " --vary exposure.defocus=-1,0,1"
        parts.append(
            '<div class=warn>This run is one dose and one setting: it shows how this point prints, not how far '
            f"it may move. In spec means {_esc(_criteria_text())}; here {_esc(_in_spec_text(report))}. "
            "To see the window, sweep the dose (and the gap or focus) into this run's directory and write "
            "the page again (from the folder that holds the run's directory):<br>"
            f"<code>litho sweep {_esc(recipe.get('path') or 'RECIPE')} --vary {vary} "
            f"-o {_esc(out_dir.name)}/sweep</code> then <code>litho report {_esc(out_dir.name)}</code>"
            "</div>")
        return "".join(parts)
    axes = [a["name"] for a in sweep.get("axes", [])]
    run_recipe = report.get("recipe", {}).get("path")
    if run_recipe and sweep.get("recipe") and Path(str(sweep["recipe"])).name != Path(str(run_recipe)).name:
        parts.append(f"<div class=warn>This sweep is of <code>{_esc(sweep['recipe'])}</code>, not of this run's "
                     f"recipe <code>{_esc(run_recipe)}</code>.</div>")
    parts.append(f"<p>From <code>litho sweep</code> in <code>{_esc(folder.name)}/</code>: "
                 f"{len(sweep['rows'])} rows (points × steps) over {_esc(', '.join(axes))}; in spec means "
                 f"{_esc(_criteria_text(sweep.get('criteria')))}.</p>")
    latitudes = sweep.get("exposure_latitude") or []
    if latitudes:
        others = [k for k in latitudes[0] if k not in ("step", "dose_min_mj_cm2", "dose_max_mj_cm2",
                                                        "exposure_latitude_pct", "limited_by_sweep")]
        parts.append("<table><tr><th class=l>step</th>" + "".join(f"<th>{_esc(o)}</th>" for o in others)
                     + "<th class=l>in-spec doses</th></tr>")
        for entry in latitudes:
            parts.append(f"<tr><td class=l>{_esc(entry['step'])}</td>"
                         + "".join(f"<td>{_fmt(entry.get(o), 'g')}</td>" for o in others)
                         + f"<td class=l>{_esc(_latitude_text(entry))}</td></tr>")
        parts.append("</table>")
    else:
        in_spec = sum(1 for r in sweep["rows"] if r.get("in_spec"))
        parts.append(f"<p>{in_spec} of {len(sweep['rows'])} points in spec (no dose axis: no exposure latitude).</p>")
    for fig in sorted(folder.glob("sweep.*")):
        if fig.suffix.lower() in _FIGURE_SUFFIXES:
            data = base64.b64encode(fig.read_bytes()).decode("ascii")
            parts.append(f'<figure><img src="data:{_FIGURE_SUFFIXES[fig.suffix.lower()]};base64,{data}" '
                         f'alt="{_esc(fig.name)}"><figcaption><code>{_esc(fig.name)}</code>: per step, Bossung '
                         "curves (CD vs dose, ±10% band), the dose × gap/focus matrix with the largest in-spec "
                         "window, and exposure latitude vs depth of focus or gap latitude.</figcaption></figure>")
            break
    return "".join(parts)


def _criteria_text(criteria: dict | None = None) -> str:
    """What "in spec" means, in words (sweep.json's ``criteria``, or litho's defaults)."""
    from .spec import Criteria

    c = criteria or Criteria().as_dict()
    return (f"no missing pixel, no bridge, CD within {100 * c['cd_tolerance_fraction']:g}% of the design and "
            f"h/h0 ≥ {c['min_centre_nrt']:g} over each pixel's centre")


def _in_spec_text(report: dict) -> str:
    """Which steps of the run are in spec, in words."""
    from .spec import Criteria, field_failure

    words = []
    for step in report["steps"]:
        pixels = step.get("pixels") or []
        bridges = step.get("metrics", {}).get("bridges", 0)
        k, reason = field_failure(pixels, bridges, Criteria()) if pixels else (-1, "no pixels")
        where = f"pixel {k}: " if k >= 0 else ""
        words.append(f"{step['name']}: " + ("in spec" if not reason else f"out of spec ({where}{reason})"))
    return "; ".join(words)


def summary_table_html(report: dict) -> str:
    """The summary table: one row per step and colour (report.json ``summary``)."""
    from .report import step_colour

    summary = report.get("summary") or {}
    parts = ["<table><tr><th class=l>step</th><th class=l>exposure</th>"]
    parts += [f"<th>{_esc(head)}</th>" for _, head, _ in _SUMMARY_COLUMNS]
    parts.append("</tr>")
    for k, step in enumerate(report["steps"]):
        row = summary.get(step["name"], {})
        colour = step_colour(step["name"], step["mask"]["layer"], k)
        exposure = step.get("exposure", {})
        wavelengths = ", ".join(f"{line['wavelength_nm']:g}" for line in exposure.get("lines", []))
        parts.append(f'<tr><td class=l><span class=sw style="background:{colour}"></span>{_esc(step["name"])}</td>'
                     f"<td class=l>{_esc(exposure.get('tool'))}, {_fmt(exposure.get('dose_mj_cm2'), 'g')} mJ/cm², "
                     f"{wavelengths} nm</td>")
        parts += [f"<td>{_fmt(row.get(key), spec)}</td>" for key, _, spec in _SUMMARY_COLUMNS]
        parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)


def build_html(out_dir: str | Path) -> str:
    """The report.html text of the run in ``out_dir`` (which holds its report.json).

    Raises
    ------
    LithoInputError
        ``out_dir`` has no readable report.json.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise LithoInputError(f"{out_dir}: not a directory; give the output directory of litho simulate")
    report = _read_json(out_dir / "report.json", required=True)
    if not isinstance(report, dict) or "steps" not in report:
        raise LithoInputError(f"{out_dir / 'report.json'}: not a litho simulate report (no steps)")
    prov = _read_json(out_dir / "provenance.json", required=False) or {}
    timing = _read_json(out_dir / "timing.json", required=False) or {}
    recipe = report.get("recipe", {})
    steps = report["steps"]
    names = [s["name"] for s in steps]
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>litho report: {_esc(recipe.get('name'))}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{_esc(recipe.get('name'))}</h1>"]
    if recipe.get("description"):
        parts.append(f'<p class="lead">{_esc(recipe["description"])}</p>')
    sim = report.get("simulation", {})
    parts.append(f'<p class="lead">grid {sim.get("grid_shape", ["?", "?"])[1]} × {sim.get("grid_shape", ["?", "?"])[0]} '
                 f'samples at {_fmt(sim.get("pixel_um"), "g")} µm, {_esc(sim.get("window"))} window; '
                 f'printed where h/h0 ≥ {_fmt(sim.get("threshold_nrt"), "g")}; '
                 f'litho {_esc(report.get("litho_version"))}, report schema {_esc(report.get("schema_version"))}</p>')

    parts.append("<h2>Summary</h2>" + summary_table_html(report))

    parts.append("<h2>Warnings</h2>")
    found = warnings_of(report)
    parts += [f'<div class=warn>{_esc(w)}</div>' for w in found] or ['<div class=ok>none</div>']

    parts.append(process_window_html(out_dir, report))

    contamination = report.get("colour_contamination") or []
    if contamination:
        parts.append("<h3>Colour cross-contamination and solvent resistance</h3><table><tr>"
                     "<th class=l>later film</th><th class=l>on pixels of</th><th>mean h/h0</th><th>max h/h0</th>"
                     "<th>area fraction</th><th>earlier pixels survive developer</th></tr>")
        for row in contamination:
            parts.append(f"<tr><td class=l>{_esc(row['later_step'])}</td><td class=l>{_esc(row['earlier_step'])}</td>"
                         f"<td>{_fmt(row.get('later_film_on_earlier_pixels_mean_nrt'), '.3f')}</td>"
                         f"<td>{_fmt(row.get('later_film_on_earlier_pixels_max_nrt'), '.3f')}</td>"
                         f"<td>{_fmt(row.get('contaminated_area_fraction'), '.3f')}</td>"
                         f"<td>{_fmt(row.get('earlier_pixels_solvent_resistance'), '.3f')}</td></tr>")
        parts.append("</table>")

    figures = _figures(out_dir, names)
    if figures:
        parts.append("<h2>Figures</h2>")
        for name, uri, caption in figures:
            parts.append(f'<figure><img src="{uri}" alt="{_esc(name)}"><figcaption><code>{_esc(name)}</code>: '
                         f"{_esc(caption)}</figcaption></figure>")

    parts.append("<h2>Steps</h2>")
    for step in steps:
        m = step.get("metrics", {})
        parts.append(f"<h3>{_esc(step['name'])}</h3><table>")
        rows = [("mask", f"{step['mask'].get('file')} layer {'/'.join(map(str, step['mask'].get('layer', [])))}"),
                ("film", f"{step.get('film', {}).get('name')}, {_fmt(step.get('film', {}).get('thickness_nm'), 'g')} nm"),
                ("crosslinker", step.get("crosslinker", {}).get("name")),
                ("developer", step.get("developer", {}).get("name")),
                ("overlay applied (µm)", step.get("overlay", {}).get("applied_um")),
                ("overlay measured (µm)", step.get("overlay", {}).get("measured_um"))]
        rows += [(key, _fmt(value, "g") if isinstance(value, (int, float)) else value) for key, value in m.items()]
        parts += [f"<tr><th class=l>{_esc(k)}</th><td class=l>{_esc(v)}</td></tr>" for k, v in rows]
        parts.append("</table>")

    parts.append("<h2>Recipe</h2>")
    if prov.get("recipe_text"):
        parts.append(f"<p>As read from <code>{_esc(recipe.get('path'))}</code>:</p><pre>{_esc(prov['recipe_text'])}</pre>")
    else:
        parts.append(f"<pre>{_esc(json.dumps(recipe.get('input', {}), indent=2))}</pre>")

    parts.append("<h2>Provenance</h2><table>")
    command = prov.get("command")
    prov_rows = [("litho version", report.get("litho_version")),
                 ("command", " ".join(command) if command else "not recorded"),
                 ("date (UTC)", prov.get("date_utc", "not recorded")),
                 ("run time (s)", _fmt(timing.get("runtime_s"), ".1f") if timing else "not recorded"),
                 ("seed", report.get("recipe", {}).get("seed"))]
    parts += [f"<tr><th class=l>{_esc(k)}</th><td class=l>{_esc(v)}</td></tr>" for k, v in prov_rows]
    for item in prov.get("inputs", []):
        parts.append(f"<tr><th class=l>{_esc(item.get('role'))}</th><td class=l><code>{_esc(item.get('path'))}"
                     f"</code><br>sha256 {_esc(item.get('sha256'))}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"


def write_html_report(out_dir: str | Path, path: str | Path | None = None) -> Path:
    """Write report.html (default: ``out_dir/report.html``) atomically; return its path."""
    out_dir = Path(out_dir)
    text = build_html(out_dir)
    path = Path(path) if path is not None else out_dir / "report.html"
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
