"""report.html (litho.html_report, litho report, litho simulate --html), checked in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from litho.cli import main
from litho.html_report import build_html, warnings_of, write_html_report
from report_runs import run

GOLDEN = Path(__file__).parent / "golden"
FIXTURE = GOLDEN / "html_report"           # a fixed run directory: report, provenance, one figure
SCREENSHOT = GOLDEN / "html_report.png"    # the fixture's page in Chromium, 900 x 700, halved
WINDOW = (900, 700)
# Screenshot tolerance: mean |difference| of the 0..1 RGB values, and share of clearly changed pixels.
MEAN_TOLERANCE, CHANGED_TOLERANCE = 0.02, 0.03


def test_page_is_self_contained_and_shows_the_run():
    text = build_html(FIXTURE)
    assert "<script" not in text.lower()
    assert not re.search(r'(src|href)="(?!data:)', text), "every resource must be inline"
    assert text.count('src="data:image/png;base64,') == 1
    assert "small contact print" in text and "0.948" in text and "-0.271" in text
    assert "litho simulate recipe.toml -o out --html" in text and "2026-01-01T00:00:00Z" in text
    assert "f" * 64 in text and 'dose = &quot;20 mJ/cm^2&quot;' in text


def test_two_step_run_has_a_row_and_figures_per_step_and_the_contamination_table():
    out, result = run("two steps")
    path = write_html_report(out, out.parent / "two.html")
    text = path.read_text()
    for name in ("R", "G"):
        assert f'</span>{name}</td>' in text
    assert "Colour cross-contamination" in text
    assert text.count("data:image/png;base64,") == len(list(out.glob("*.png")))


def test_warnings_name_missing_pixels_and_bridges():
    report = {"summary": {"R": {"pixels": 4, "missing_pixels": 1, "bridges": 2, "residue_max_nrt": 0.0}}}
    lines = warnings_of(report)
    assert any("1 of 4 pixels did not print" in w for w in lines)
    assert any("2 printed shapes bridge" in w for w in lines)
    assert warnings_of({"summary": {"R": {"pixels": 4, "missing_pixels": 0, "bridges": 0}}}) == []


def test_litho_report_writes_the_page_and_refuses_a_directory_without_a_report(tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").read_text() == build_html(run_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "report.json: no such file" in err[0]


def test_simulate_html_writes_report_html_with_the_run(tmp_path, small_recipe_text):
    recipe = tmp_path / "r.toml"
    recipe.write_text(small_recipe_text)
    out = tmp_path / "out"
    assert main(["simulate", str(recipe), "-o", str(out), "--html", "--no-figures", "-q",
                 "--no-convergence-check"]) == 0
    text = (out / "report.html").read_text()
    assert "small contact print" in text and "sha256" in text
    assert {"report.json", "provenance.json", "predicted.lyp"} <= {p.name for p in out.iterdir()}


# --------------------------------------------------------------------------- in the browser

def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on PATH (Debian: apt-get install chromium); the page is not checked in a browser")


def _browse(page: Path, *extra: str) -> tuple[str, list[str]]:
    """Open ``page`` headless; return (stdout, the console messages Chromium logged)."""
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": "disabled:"}
    done = subprocess.run([_chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                           "--enable-logging=stderr", "--v=0", "--force-device-scale-factor=1",
                           f"--window-size={WINDOW[0]},{WINDOW[1]}", *extra, page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120, env=env)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def test_console_messages_are_caught(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><script>console.error("broken")</script></body></html>')
    _, console = _browse(bad, "--dump-dom")
    assert any("broken" in line for line in console)


def _halved(image: np.ndarray) -> np.ndarray:
    h, w = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    rgb = image[:h, :w, :3].astype(float)
    return rgb.reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3))


def test_page_renders_without_console_messages_and_matches_the_golden_screenshot(tmp_path):
    import matplotlib.image as mpimg

    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    page = write_html_report(run_dir)
    shot = tmp_path / "shot.png"
    _, console = _browse(page, f"--screenshot={shot}")
    assert console == [], console
    assert shot.exists(), "Chromium wrote no screenshot"
    image = _halved(mpimg.imread(shot))
    if not SCREENSHOT.exists():
        mpimg.imsave(SCREENSHOT, np.clip(image, 0, 1))
        pytest.skip(f"golden screenshot written to {SCREENSHOT}; check it and commit it")
    golden = _halved(np.repeat(np.repeat(mpimg.imread(SCREENSHOT)[..., :3], 2, axis=0), 2, axis=1))
    assert golden.shape == image.shape, f"screenshot {image.shape} vs golden {golden.shape}"
    difference = np.abs(golden - image)
    assert difference.mean() < MEAN_TOLERANCE, difference.mean()
    assert (difference.max(axis=2) > 0.25).mean() < CHANGED_TOLERANCE
