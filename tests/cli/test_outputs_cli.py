"""Outputs, signals and pipes of the ``litho`` command (issue 9, items 9, 10 and 13).

Signal, pipe and kill tests run the real command in a subprocess.
"""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from litho.cli import main
from litho.outputs import MARKER
from conftest import MASKS, RECIPES, ROOT

SRC = str(ROOT / "src")
RECIPE = RECIPES / "ebt_cdse_254nm.toml"


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=SRC, **extra)
    return env


def _litho(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "litho", *map(str, args)], env=_env(), **kw)


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err and "Exception ignored" not in err, err


# --------------------------------------------------------------------------- -o before any work

COMMANDS = {
    "simulate": lambda o: ["simulate", RECIPE, "-o", o],
    "aerial": lambda o: ["aerial", RECIPE, "-o", o],
    "min-feature": lambda o: ["min-feature", RECIPE, "-o", o],
    "sweep": lambda o: ["sweep", RECIPE, "--vary", "exposure.dose=1:2:2", "-o", o],
    "contrast": lambda o: ["contrast", RECIPE, "-o", o],
    "calibrate": lambda o: ["calibrate", RECIPE, RECIPES / "data" / "missing.csv", "--fit", "x", "-o", o],
    "kernels": lambda o: ["kernels", "--wavelength-nm", "365", "--na", "0.5", "--sigma", "0.5", "-o", o],
    "mask": lambda o: ["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", "2", "--rows", "2",
                       "-o", o + ".gds" if o else o],
}


@pytest.fixture
def no_work(monkeypatch):
    """Make every expensive first step fail loudly: a bad -o must be refused before any of them."""
    import litho.layout
    import litho.optics
    import litho.recipe

    def forbidden(*a, **k):
        raise AssertionError("computed before checking -o")

    monkeypatch.setattr(litho.recipe, "load_recipe", forbidden)
    monkeypatch.setattr(litho.optics, "socs_kernels", forbidden)
    monkeypatch.setattr(litho.layout, "pixel_array", forbidden)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("kind", ["under a file", "dangling link", "missing parent", "empty", "sys"])
def test_bad_output_is_refused_before_any_work(tmp_path, capsys, no_work, command, kind):
    (tmp_path / "file").write_text("x")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    out = {"under a file": str(tmp_path / "file" / "x"), "dangling link": str(tmp_path / "dangling"),
           "missing parent": str(tmp_path / "nonexistent" / "dir" / "x"), "empty": "",
           "sys": "/sys/litho-x"}[kind]
    if command == "mask" and kind == "dangling link":
        os.symlink(tmp_path / "nowhere.gds", tmp_path / "dangling.gds")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main([str(a) for a in COMMANDS[command](out)])
    stdout, err = capsys.readouterr()
    assert code == 2, (stdout, err)
    assert err.count("\n") == 1 and err.startswith(f"litho {command.split()[0]}: -o"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_mask_preview_in_a_missing_folder_writes_no_gds(tmp_path, capsys):
    code = main(["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", "2", "--rows", "2",
                 "-o", str(tmp_path / "x.gds"), "--preview", str(tmp_path / "p" / "x.png")])
    assert code == 2 and "--preview" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_rerun_replaces_earlier_figures(tmp_path, write_recipe, capsys):
    recipe = write_recipe()
    out = tmp_path / "d"
    assert main(["simulate", str(recipe), "-o", str(out), "-q"]) == 0
    assert (out / "aerial.png").exists()
    assert main(["simulate", str(recipe), "-o", str(out), "-q", "--no-figures"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "predicted.gds", "predicted.lyp", "provenance.json",
                                                    "report.json", "timing.json"]


def test_identical_runs_give_identical_report_and_gds_bytes(tmp_path, write_recipe, capsys):
    recipe = write_recipe()
    for name in ("a", "b"):
        assert main(["simulate", str(recipe), "-o", str(tmp_path / name), "-q", "--no-figures"]) == 0
    for name in ("report.json", "predicted.gds"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert "runtime_s" not in (tmp_path / "a" / "report.json").read_text()
    assert "runtime_s" in (tmp_path / "a" / "timing.json").read_text()


# --------------------------------------------------------------------------- signals and pipes


# The console script's own first lines, with a "ready" line once litho's entry module is imported:
# from then on (heavy imports included) an interrupt is litho's to handle. The interpreter's
# start-up before that (site, .pth files) is Python's own.
_READY_THEN_RUN = ("import sys, litho.__main__ as entry; print('ready', flush=True); "
                   "sys.exit(entry.main(sys.argv[1:]))")


@pytest.mark.parametrize("delay_s", [0.0, 0.3, 1.0])
def test_sigint_at_any_moment_is_one_line_and_exit_130(tmp_path, delay_s):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", _READY_THEN_RUN, "simulate", str(RECIPE), "-o", str(out)],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    time.sleep(delay_s)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    _no_traceback(err)
    if proc.returncode == 0:  # finished before the signal arrived
        return
    assert proc.returncode == 130, err
    assert err == "litho: interrupted\n" or err.endswith(": interrupted\n") and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_sigterm_removes_the_temporary_directory(tmp_path):
    out = tmp_path / "out"
    proc = _litho("simulate", RECIPE, "-o", out, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.readline()  # the run has started
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    _no_traceback(err)
    assert proc.returncode in (0, 143), err
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert leftovers == []


@pytest.mark.parametrize("args", [["materials"], ["mask", "info", MASKS / "stripe_1000ppi.gds"],
                                  ["simulate", RECIPE, "-o", "{out}", "--no-figures"]])
def test_closed_stdout_ends_quietly(tmp_path, args):
    args = [str(a).replace("{out}", str(tmp_path / "out")) for a in args]
    proc = _litho(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    _no_traceback(err)
    assert proc.returncode == 0, err
    assert err == ""
    if "simulate" in args:
        assert (tmp_path / "out" / "report.json").exists()  # the run still did its work


def test_head_of_materials(tmp_path):
    done = subprocess.run(f"{sys.executable} -m litho materials | head -c 10", shell=True, env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert len(done.stdout) == 10
    _no_traceback(done.stderr)
    assert done.stderr == ""


def test_sigkill_never_leaves_a_half_filled_output(tmp_path):
    """Kill a real run at random moments: -o is absent or whole; leftovers are stale temporaries."""
    rng = random.Random(9)
    for trial in range(3):
        out = tmp_path / f"out{trial}"
        proc = _litho("simulate", RECIPE, "-o", out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.0))
        proc.kill()
        proc.wait()
        if out.exists():
            names = {p.name for p in out.iterdir()}
            assert {MARKER, "report.json", "predicted.gds"} <= names, names
    from litho.outputs import check_output_dir

    check_output_dir(tmp_path / "next")  # a later run cleans up after killed ones
    assert all(p.name.startswith("out") for p in tmp_path.iterdir())


# --------------------------------------------------------------------------- kernel cache


def test_unusable_kernel_cache_is_one_line_and_the_run_goes_on(tmp_path):
    (tmp_path / "file").write_text("x")
    for cache in (tmp_path / "file", tmp_path / "file" / "below"):
        done = subprocess.run([sys.executable, "-m", "litho", "kernels", "--wavelength-nm", "365", "--na", "0.5",
                               "--sigma", "0.3", "--size-um", "2", "--show", "1"],
                              env=_env(LITHO_KERNEL_CACHE=str(cache)), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("litho: kernel cache"), done.stderr
