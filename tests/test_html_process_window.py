"""report.html's process-window section: the sweep beside a run, or how to get one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from litho.html_report import build_html

FIXTURE = Path(__file__).parent / "golden" / "html_report"


def _sweep(recipe: str) -> dict:
    rows = [{"exposure.dose_mj_cm2": d, "exposure.gap_um": 5.0, "step": "R", "in_spec": 15 <= d <= 25}
            for d in (10.0, 15.0, 20.0, 25.0, 30.0)]
    return {"schema_version": "1.0", "recipe": recipe, "axes": [{"name": "exposure.dose_mj_cm2", "values": [10, 30]}],
            "cd_spec_fraction": 0.1, "criteria": {"cd_tolerance_fraction": 0.1, "min_centre_nrt": 0.8,
                                                  "no_missing": True, "no_bridges": True},
            "rows": rows, "exposure_latitude": [{"step": "R", "exposure.gap_um": 5.0, "dose_min_mj_cm2": 15.0,
                                                 "dose_max_mj_cm2": 25.0, "exposure_latitude_pct": 50.0,
                                                 "limited_by_sweep": False}]}


def test_without_a_sweep_the_page_says_how_to_find_the_window(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    page = build_html(run)
    section = page[page.index("<h2>Process window"):page.index("<h2>Figures")]
    assert "one dose" in section and "litho sweep" in section and "--vary exposure.dose=" in section
    assert "litho report run" in section


def test_a_sweep_in_the_run_directory_shows_its_latitude_and_figure(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    recipe = json.loads((run / "report.json").read_text())["recipe"]["path"]
    (run / "sweep").mkdir()
    (run / "sweep" / "sweep.json").write_text(json.dumps(_sweep(recipe)))
    shutil.copyfile(run / "aerial.png", run / "sweep" / "sweep.png")
    page = build_html(run)
    section = page[page.index("<h2>Process window"):page.index("<h2>Figures")]
    assert "15–25 mJ/cm² (50% latitude)" in section and "exposure.gap_um" in section
    assert section.count("<img") == 1 and "Bossung" in section
    assert "not of this run" not in section


def test_a_sweep_of_another_recipe_is_flagged(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    (run / "sweep.json").write_text(json.dumps(_sweep("recipes/other.toml")))
    page = build_html(run)
    assert "not of this run" in page[page.index("<h2>Process window"):]
