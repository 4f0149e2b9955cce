"""Fuzzing in CI: the recipe loader and the command-line options (issue 9).

Each fuzz runs in its own Python subprocess, so a crash of the interpreter
(a segfault, an abort) fails the test instead of taking pytest down. The
recipe fuzz draws >= 1,000 mutated copies of the shipped recipes with
hypothesis (the mutation engine is ``benchmarks/fuzz_recipes.py``, whose
script runs 10^5 of them); every example must load or be refused with one
:class:`LithoInputError` line. The option fuzz gives each command's numeric
and path options hostile values and stops every command where its work
would start: an option is refused with one line and exit 2, or it is a
finite number litho accepts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE_EXAMPLES = 1000
OPTION_EXAMPLES = 250


def _run_child(code: str, timeout_s: float) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout_s, env=env, cwd=ROOT)
    assert proc.returncode == 0, (f"fuzz child failed (exit {proc.returncode})\n"
                                  f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


RECIPE_CHILD = f"""
import json, sys, tempfile
from pathlib import Path
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
import fuzz_recipes as fz
from hypothesis import HealthCheck, given, settings, strategies as st

seeds, vocabulary = fz.seed_recipes(), fz._vocabulary()
workdir = Path(tempfile.mkdtemp(prefix="litho-fuzz-"))
counts = {{}}

@settings(max_examples={RECIPE_EXAMPLES}, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.randoms(use_true_random=False))
def fuzz(rng):
    route, payload, name = fz.build_input(rng, seeds, vocabulary)
    outcome, detail = fz.run_one(route, payload, workdir)
    counts[outcome] = counts.get(outcome, 0) + 1
    assert outcome in ("loaded", "refused"), (outcome, detail, name, route, payload)

fuzz()
print(json.dumps(counts))
"""


def test_recipe_loader_fuzz_loads_or_refuses_in_one_line():
    counts = _run_child(RECIPE_CHILD, timeout_s=600)
    assert sum(counts.values()) >= RECIPE_EXAMPLES, counts
    assert set(counts) <= {"loaded", "refused"}, counts
    # the mutations reach deep enough that some inputs still load
    assert counts.get("loaded", 0) > 0 and counts.get("refused", 0) > 0, counts


OPTION_CHILD = f"""
import contextlib, io, json, math, re, sys, tempfile
from pathlib import Path
from hypothesis import HealthCheck, given, settings, strategies as st
import litho.calibration, litho.development, litho.layout, litho.optics, litho.process
import litho.resolution, litho.sweep
from litho.cli import main

ROOT = Path({str(ROOT)!r})
CONTACT = str(ROOT / "recipes" / "ebt_cdse_254nm.toml")
PROJECTION = str(ROOT / "recipes" / "projection_stripe_3000ppi_365nm.toml")
DATA = str(ROOT / "recipes" / "data" / "ebt_cdse_254nm_contrast.csv")
OPTICS = ["--wavelength-nm", "365", "--na", "0.5"]
MASK = ["--columns", "2", "--rows", "2"]


class Reached(BaseException):
    "The command got past its options to the start of its work."


def stop(*args, **kwargs):
    raise Reached


# every command's work starts in one of these; stopping there keeps the fuzz to parsing and checking
for module, name in [(litho.process, "simulate"), (litho.optics, "spectral_images"),
                     (litho.resolution, "search_all"), (litho.sweep, "sweep"),
                     (litho.development, "contrast_curve"), (litho.calibration, "calibrate"),
                     (litho.optics, "socs_kernels"), (litho.layout, "pixel_array")]:
    setattr(module, name, stop)

# (argv before the value, flag, argv after the value); None as flag: the value is a positional path
CASES = [
    (["simulate", CONTACT], "--pixel-um", []),
    (["simulate"], None, []),
    (["aerial", CONTACT], "--pixel-um", []),
    (["aerial", CONTACT], "--gap-um", []),
    (["aerial", PROJECTION], "--defocus-um", []),
    (["aerial"], None, []),
    (["min-feature", CONTACT], "--subpixel-gap-um", []),
    (["sweep", CONTACT, "--vary", "exposure.dose=3"], "--pixel-um", []),
    (["sweep", CONTACT], "--vary", []),
    (["contrast", CONTACT], "--doses", []),
    (["contrast"], None, []),
    (["calibrate", CONTACT, DATA, "--fit", "quantum_yield"], "--step", []),
    (["calibrate", CONTACT], None, ["--fit", "quantum_yield"]),
    (["kernels", "--na", "0.5"], "--wavelength-nm", []),
    (["kernels", "--wavelength-nm", "365"], "--na", []),
    (["kernels", *OPTICS], "--sigma", []),
    (["kernels", *OPTICS], "--tolerance", []),
    (["kernels", *OPTICS], "--source-step-sigma", []),
    (["kernels", *OPTICS], "--defocus-um", []),
    (["kernels", *OPTICS], "--pixel-um", []),
    (["kernels", *OPTICS], "--size-um", []),
    (["kernels", *OPTICS], "--show", []),
    (["kernels", *OPTICS], "--zernike", []),
    (["kernels", *OPTICS, "--source", "annular", "--sigma-in", "0.3"], "--sigma-out", []),
    (["mask", "stripe", "--subpixel-gap-um", "1", *MASK], "--ppi", []),
    (["mask", "stripe", "--subpixel-gap-um", "1", *MASK], "--pitch-um", []),
    (["mask", "stripe", "--ppi", "1000", *MASK], "--subpixel-gap-um", []),
    (["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "1", "--rows", "2"], "--columns", []),
    (["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "1", *MASK], "--db-unit-um", []),
    (["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "1", *MASK], "--subpixel-um", ["5"]),
]

specials = st.sampled_from(["nan", "-nan", "inf", "-inf", "infinity", "1e300", "-1e300", "1e-300", "1e400",
                            "-1e-400", "0", "-0", "1", "-1", "100", "101", "0.001", "1e9", "2e19",
                            "99999999999999999999999999999", "0x10", "1_000", "", " ", "-", "--", ",", "1,,2",
                            "-2,0,2", "5,a", "1:2:3", "1:inf:5", "nan:1:5", "0:1:5", "1:2:1e9",
                            "exposure.dose=nan", "exposure.dose=1:inf:3", "exposure.gap=-1,1e400",
                            "9=inf", "0=0.1", "231=1e9", "a" * 300, "é" * 200, "/proc/self/mem", "/dev/zero",
                            "/", ".", "no/such/dir/x.toml", "-5"])
floats = st.floats(allow_nan=True, allow_infinity=True)
values = st.one_of(specials, floats.map(repr), floats.map(lambda x: format(x, "g")),
                   st.integers(min_value=-10 ** 30, max_value=10 ** 30).map(str),
                   st.lists(floats.map(repr), min_size=1, max_size=4).map(",".join),
                   st.text(max_size=12).filter(lambda t: "\\x00" not in t))
counts = {{}}
out_root = Path(tempfile.mkdtemp(prefix="litho-optfuzz-"))


def numbers_in(text):
    found = []
    for token in re.split(r"[,:=\\s]+", text):
        try:
            found.append(float(token))
        except ValueError:
            pass
    return found


@settings(max_examples={OPTION_EXAMPLES}, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.sampled_from(CASES), values)
def fuzz(case, value):
    before, flag, after = case
    out = out_root / "out"
    argv = [*before, *([flag] if flag else []), value, *after]
    if argv[0] == "mask" and argv[1] != "info":
        argv += ["-o", str(out / "m.gds")]
    elif argv[0] != "mask":
        argv += ["-o", str(out)]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except Reached:
            code = "reached"
    text = err.getvalue()
    assert "Traceback" not in text, (argv, text)
    if code == "reached":
        # accepted: every number written must be finite (nan/inf never reach the work)
        assert flag is not None or Path(value).is_file(), (argv, "a path that is not a file reached the work")
        assert all(math.isfinite(x) for x in numbers_in(value)), (argv, "non-finite value accepted")
    else:
        assert code == 2, (argv, code, text)
        assert text.count("\\n") == 1 and text.startswith("litho"), (argv, text)
    assert not out.exists(), (argv, "output written")
    counts["accepted" if code == "reached" else "refused"] = counts.get(
        "accepted" if code == "reached" else "refused", 0) + 1


fuzz()
print(json.dumps(counts))
"""


def test_cli_option_fuzz_refuses_hostile_values_before_any_work():
    counts = _run_child(OPTION_CHILD, timeout_s=600)
    assert sum(counts.values()) >= OPTION_EXAMPLES, counts
    assert counts.get("refused", 0) > 0, counts
