"""Tiles on a Dask cluster: a scheduler and two workers on loopback, started and torn down here."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT, SMALL_RECIPE

pytest.importorskip("distributed")

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
RECIPE = SMALL_RECIPE.replace("pixel_um = 0.2\n", "pixel_um = 0.2\nguard_um = 30\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask(*argv) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "distributed.cli." + argv[0], *argv[1:]], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.fixture
def cluster():
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; always killed afterwards."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_dask("dask_scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0")]
    try:
        from distributed import Client

        deadline = time.monotonic() + 30
        for _ in range(2):
            procs.append(_dask("dask_worker", address, "--nthreads", "1", "--nworkers", "1",
                               "--dashboard-address", ":0", "--host", "127.0.0.1"))
        while True:
            try:
                with Client(address, timeout="2s") as client:
                    if len(client.scheduler_info()["workers"]) == 2:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the loopback Dask cluster did not start")
            time.sleep(0.5)
        yield address, procs
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _simulate(tmp_path, name, *extra, wait=True):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(RECIPE)
    cmd = [sys.executable, "-m", "litho", "simulate", str(recipe), "-o", str(tmp_path / name), "--tile", "40",
           "--no-figures", "-q", *extra]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if wait:
        out, err = proc.communicate(timeout=300)
        return proc.returncode, out, err
    return proc


def _wait_until_tiles_run(address, run) -> None:
    """Return once the scheduler has a tile task on a worker (the run is mid-way), not after a guess."""
    from distributed import Client

    deadline = time.monotonic() + 120
    with Client(address, timeout="10s") as client:
        while not any(client.processing().values()):
            if run.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the run finished or stalled before any tile reached a worker")
            time.sleep(0.02)


def _outputs(folder):
    return {name: (folder / name).read_bytes() for name in ("report.json", "pixels.csv")}


def test_a_tiled_panel_on_two_workers_survives_losing_one(cluster, tmp_path):
    address, procs = cluster
    code, _, err = _simulate(tmp_path, "local", "--scheduler", "sync")
    assert code == 0, err
    run = _simulate(tmp_path, "cluster", "--scheduler", address, wait=False)
    _wait_until_tiles_run(address, run)   # the tiles are being computed, one on each worker
    _stop(procs[1])         # one worker dies mid-run; the scheduler gives its tile to the other
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert _outputs(tmp_path / "cluster") == _outputs(tmp_path / "local")


def test_an_unreachable_scheduler_is_one_line_within_10_s(tmp_path):
    start = time.monotonic()
    code, out, err = _simulate(tmp_path, "never", "--scheduler", f"tcp://127.0.0.1:{_free_port()}")
    assert code == 2 and time.monotonic() - start < 10 + 5    # + the interpreter's start-up
    assert len(err.strip().splitlines()) == 1 and "cannot reach the Dask scheduler" in err
    assert not (tmp_path / "never").exists()


def test_a_cluster_whose_workers_all_die_is_one_line_and_no_output(cluster, tmp_path, monkeypatch):
    address, procs = cluster
    run = _simulate(tmp_path, "lost", "--scheduler", address, wait=False)
    _wait_until_tiles_run(address, run)
    for proc in procs[1:]:
        _stop(proc)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 2, err
    assert len(err.strip().splitlines()) == 1 and "worker" in err
    assert not (tmp_path / "lost").exists()


def test_min_feature_sizes_run_on_the_cluster_with_the_answer_of_one_by_one(cluster):
    """The sizes of a min-feature search are Dask tasks: on the cluster's workers they give the
    trials and the file of the search run in this process one size after another."""
    import litho
    from litho.report import result_file
    from litho.resolution import min_feature

    address, _ = cluster
    recipe = litho.load_recipe(ROOT / "recipes" / "rgb_stripe_1000ppi.toml")
    raw = {k: v for k, v in recipe.raw.items() if k != "step"}
    raw["exposure"] = dict(raw["exposure"], direction_rings=1)
    raw["mask"] = dict(raw["mask"], layer="R")
    recipe = litho.recipe_from_dict(raw, base_dir=ROOT / "recipes")
    runs = [min_feature(recipe, "square", size_range_um=(2.0, 4.0), points_per_decade=4, scheduler=s)
            for s in ("sync", address)]
    assert len(runs[1].trials) >= 4
    assert result_file(runs[0].as_dict()) == result_file(runs[1].as_dict())
