"""Fuzz the layout reader with mutated copies of the shipped masks (GDSII and OASIS).

Every case is one mutated file: byte flips, bit flips, deletions, insertions,
truncations, corrupted record lengths, corrupted COLROW counts, duplicated or
dropped records. Each is read through the CLI (``litho mask info FILE``) and the
API (``litho.read_mask`` of a layer), in a supervised worker process, and ends
in one of these outcomes:

- ``ok``         read (exit 0 / a Mask)
- ``refused``    one line on stderr and exit 2 / LithoInputError
- ``traceback``  any other exception, or a message that is not one line
- ``crash``      the worker died by a signal (SIGSEGV, SIGABRT, killed for memory)
- ``hang``       no answer within ``--timeout-s`` (default 30 s)

After a crash or a hang the supervisor starts a new worker at the next case,
so one run counts them all. The counts per outcome and the seed are printed
(and, with ``--keep DIR``, the files of every failing case are kept there).

Usage::

    python benchmarks/fuzz_layouts.py --n 10000 --seed 1 --jobs 2
    python benchmarks/fuzz_layouts.py --n 500 --seed 0 --gds-only --worker   # one worker, no supervisor

With ``--worker`` the script runs the cases itself and prints ``start I`` before
and ``done I OUTCOME SECONDS DETAIL`` after each one (tests use this: a crash of
the worker names the case that was running).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import select
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MASKS = ROOT / "masks"
OUTCOMES = ("ok", "refused", "traceback", "crash", "hang")


# ------------------------------------------------------------------------- inputs


def seed_layouts(gds_only: bool) -> list[tuple[str, bytes, str]]:
    """``(name, bytes, suffix)`` of every shipped mask, and of each as OASIS unless ``gds_only``."""
    out = [(p.name, p.read_bytes(), ".gds") for p in sorted(MASKS.glob("*.gds"))]
    if not gds_only:
        import gdstk

        with tempfile.TemporaryDirectory() as tmp:
            for p in sorted(MASKS.glob("*.gds")):
                lib = gdstk.read_gds(str(p))
                target = Path(tmp) / (p.stem + ".oas")
                lib.write_oas(str(target))
                out.append((target.name, target.read_bytes(), ".oas"))
    return out


def _records(data: bytes) -> list[tuple[int, int, int]]:
    """``(offset, length, type)`` of the GDSII records, as far as they parse."""
    out, off = [], 0
    while off + 4 <= len(data):
        length, rtype = struct.unpack_from(">HB", data, off)
        if length < 4:
            break
        out.append((off, length, rtype))
        off += length
    return out


def mutate(data: bytes, suffix: str, rng: random.Random) -> tuple[bytes, str]:
    """One random mutation of ``data``, and a description that reproduces it by hand."""
    d = bytearray(data)
    gds = suffix == ".gds"
    kinds = ["flip", "bitflip", "delete", "insert", "truncate", "multi"]
    if gds:
        kinds += ["reclen", "reclen", "colrow", "colrow", "rectype", "dtype", "duplicate", "drop", "xycount"]
    kind = rng.choice(kinds)
    n = len(d)
    if kind == "flip":
        at, value = rng.randrange(n), rng.randrange(256)
        d[at] = value
        return bytes(d), f"byte {at} = 0x{value:02x}"
    if kind == "bitflip":
        at, bit = rng.randrange(n), rng.randrange(8)
        d[at] ^= 1 << bit
        return bytes(d), f"byte {at} bit {bit} flipped"
    if kind == "delete":
        at, k = rng.randrange(n), rng.choice([1, 1, 2, 4, 8, rng.randrange(1, 64)])
        del d[at:at + k]
        return bytes(d), f"{k} bytes deleted at {at}"
    if kind == "insert":
        at, k = rng.randrange(n), rng.choice([1, 2, 4, rng.randrange(1, 32)])
        d[at:at] = bytes(rng.randrange(256) for _ in range(k))
        return bytes(d), f"{k} random bytes inserted at {at}"
    if kind == "truncate":
        at = rng.randrange(1, n)
        return bytes(d[:at]), f"truncated to {at} bytes"
    if kind == "multi":
        spots = sorted(rng.randrange(n) for _ in range(rng.randrange(2, 12)))
        for at in spots:
            d[at] = rng.randrange(256)
        return bytes(d), f"bytes {spots} randomised"
    records = _records(data)
    if kind == "reclen":
        off, length, _ = rng.choice(records)
        value = rng.choice([0, 1, 2, 3, 5, length + 1, length - 2, length + 2, 0xFFFF, rng.randrange(65536)])
        struct.pack_into(">H", d, off, value)
        return bytes(d), f"record at {off}: length {length} -> {value}"
    if kind == "colrow":
        spots = [r for r in records if r[2] == 0x13] or records
        off, _, _ = rng.choice(spots)
        value = rng.choice([0, 0xFFFF, 0x7FFF, 0x8000, 0xFFFFFFFF, 0x7FFF7FFF, rng.randrange(1 << 32)])
        if off + 8 <= n:
            struct.pack_into(">I", d, off + 4, value & 0xFFFFFFFF)
        return bytes(d), f"COLROW at {off} = 0x{value:08x}"
    if kind == "rectype":
        off, _, rtype = rng.choice(records)
        value = rng.randrange(0x3C) if rng.random() < 0.8 else rng.randrange(256)
        d[off + 2] = value
        return bytes(d), f"record at {off}: type 0x{rtype:02x} -> 0x{value:02x}"
    if kind == "dtype":
        off, _, _ = rng.choice(records)
        value = rng.randrange(8)
        d[off + 3] = value
        return bytes(d), f"record at {off}: data type -> {value}"
    if kind == "duplicate":
        off, length, _ = rng.choice(records)
        d[off:off] = data[off:off + length]
        return bytes(d), f"record at {off} duplicated"
    if kind == "drop":
        off, length, _ = rng.choice(records)
        del d[off:off + length]
        return bytes(d), f"record at {off} dropped"
    # xycount: an XY record shortened or lengthened by whole points
    spots = [r for r in records if r[2] == 0x10] or records
    off, length, _ = rng.choice(spots)
    k = rng.choice([-8, -16, 8, 16, -length + 4])
    new = max(4, min(0xFFFF, length + k)) & ~1
    struct.pack_into(">H", d, off, new)
    if new > length:
        d[off + length:off + length] = bytes(new - length)
    else:
        del d[off + new:off + length]
    return bytes(d), f"XY record at {off}: {length} -> {new} bytes"


def case(seed: int, index: int, layouts) -> tuple[str, bytes, str, str]:
    """Case ``index`` of run ``seed``: ``(seed layout name, bytes, suffix, mutation)``."""
    rng = random.Random(f"{seed}:{index}")
    name, data, suffix = layouts[rng.randrange(len(layouts))]
    mutated, what = mutate(data, suffix, rng)
    return name, mutated, suffix, what


# ------------------------------------------------------------------------- worker


def _one_line(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) == 1 and "Traceback" not in text


def run_case(path: Path) -> tuple[str, str]:
    """Read one file through the CLI and, if it reads, the API; return ``(outcome, detail)``."""
    from litho.cli import main
    from litho.errors import LithoInputError
    from litho.gds import read_mask

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["mask", "info", str(path)])
    except BaseException as exc:  # noqa: BLE001 - anything escaping the CLI is the failure we count
        return "traceback", f"litho mask info raised {type(exc).__name__}: {exc}"
    message = err.getvalue()
    if code == 2 and _one_line(message):
        # the API goes through the same reader and would refuse the same way
        return "refused", message.strip()
    if code != 0 or message.strip():
        return "traceback", f"litho mask info exit {code}, stderr {message[-300:]!r}"
    # the API, on the first layer the file lists (or 1/0)
    layer = (1, 0)
    lines = [line.split() for line in out.getvalue().splitlines()]
    for head, first in zip(lines, lines[1:]):
        if head[:1] == ["layer"] and first and "/" in first[0]:
            layer = tuple(int(v) for v in first[0].split("/"))
            break
    try:
        read_mask(path, layer=layer)
    except LithoInputError as exc:
        if "\n" in str(exc):
            return "traceback", f"read_mask: message of several lines {str(exc)[:200]!r}"
        return "refused", str(exc)
    except BaseException as exc:  # noqa: BLE001
        return "traceback", f"read_mask raised {type(exc).__name__}: {exc}"
    return "ok", ""


def worker(seed: int, start: int, stop: int, gds_only: bool) -> int:
    """Run cases ``start..stop-1``, printing a line before and after each."""
    layouts = seed_layouts(gds_only)
    with tempfile.TemporaryDirectory(prefix="litho-fuzz-") as tmp:
        for i in range(start, stop):
            name, data, suffix, what = case(seed, i, layouts)
            path = Path(tmp) / f"case{i}{suffix}"
            path.write_bytes(data)
            print(f"start\t{i}\t{name}: {what}", flush=True)
            began, began_cpu = time.perf_counter(), time.process_time()
            outcome, detail = run_case(path)
            elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
            # CPU seconds as well as wall: a reader spinning in a loop burns CPU, while wall
            # time also counts other jobs on a loaded machine
            print(f"done\t{i}\t{outcome}\t{elapsed:.3f}\t{' '.join(detail.split())[:400]}\t{cpu:.3f}", flush=True)
            path.unlink()
    return 0


# ------------------------------------------------------------------------- supervisor


def supervise(seed: int, n: int, gds_only: bool, timeout_s: float, keep: Path | None, jobs: int = 1) -> dict:
    """Run ``n`` cases in ``jobs`` workers at a time, restarting after a crash or hang;
    return the counts and the failures."""
    import threading

    began = time.perf_counter()
    bounds = [n * k // jobs for k in range(jobs + 1)]
    results: list = [None] * jobs
    progress: Counter = Counter()

    def run(k):
        results[k] = _supervise_range(seed, bounds[k], bounds[k + 1], n, gds_only, timeout_s, keep, progress)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts: Counter = Counter()
    failures: list[dict] = []
    for got in results:
        counts.update(got["counts"])
        failures.extend(got["failures"])
    return {"seed": seed, "cases": n, "gds_only": gds_only, "counts": {k: counts.get(k, 0) for k in OUTCOMES},
            "slowest_case_s": max(got["slowest"] for got in results),
            "wall_s": round(time.perf_counter() - began, 1), "failures": sorted(failures, key=lambda f: f["case"])}


def _supervise_range(seed, i, stop, n, gds_only, timeout_s, keep, progress) -> dict:
    """Cases ``i..stop-1`` in a worker, a new worker after each crash or hang."""
    counts: Counter = Counter()
    failures: list[dict] = []
    slowest = 0.0
    layouts = None
    while i < stop:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--seed", str(seed),
               "--start", str(i), "--n", str(stop)] + (["--gds-only"] if gds_only else [])
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        running, what = None, ""
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
            if not ready:
                proc.kill()
                proc.wait()
                outcome, detail = "hang", f"no answer within {timeout_s:g} s"
                break
            line = proc.stdout.readline()
            if not line:
                code = proc.wait()
                outcome, detail = "crash", f"worker exit {code}" + (f" (signal {-code})" if code < 0 else "")
                break
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "start":
                running, what = int(parts[1]), parts[2]
            elif parts[0] == "done":
                counts[parts[2]] += 1
                progress[parts[2]] += 1
                done = sum(progress.values())
                if done % 500 == 0:
                    print(f"{done} of {n}: {dict(progress)}", file=sys.stderr, flush=True)
                slowest = max(slowest, float(parts[3]))
                if parts[2] not in ("ok", "refused"):
                    failures.append({"case": int(parts[1]), "input": what, "outcome": parts[2], "detail": parts[4]})
                running = None
                i = int(parts[1]) + 1
        if running is None:       # the worker died between cases (or finished)
            if i >= stop:
                break
            running, what = i, "(between cases)"
        counts[outcome] += 1
        progress[outcome] += 1
        failures.append({"case": running, "input": what, "outcome": outcome, "detail": detail})
        if keep is not None:
            layouts = layouts or seed_layouts(gds_only)
            _, data, suffix, _ = case(seed, running, layouts)
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"case{running}{suffix}").write_bytes(data)
        i = running + 1
        print(f"case {running}: {outcome} ({what}): {detail}", file=sys.stderr, flush=True)
    return {"counts": counts, "failures": failures, "slowest": round(slowest, 3)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10_000, help="number of cases (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--gds-only", action="store_true", help="mutate only the GDSII masks (no OASIS copies)")
    p.add_argument("--timeout-s", type=float, default=30.0, help="a case taking longer counts as a hang")
    p.add_argument("--jobs", type=int, default=1, help="workers running at once (default 1)")
    p.add_argument("--keep", type=Path, help="keep the files of failing cases in this folder")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.seed, args.start, args.n, args.gds_only)
    result = supervise(args.seed, args.n, args.gds_only, args.timeout_s, args.keep, max(1, args.jobs))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"seed {result['seed']}, {result['cases']} mutated layouts "
              f"({'GDSII' if args.gds_only else 'GDSII and OASIS'}), {result['wall_s']} s, "
              f"slowest case {result['slowest_case_s']} s")
        for k, v in result["counts"].items():
            print(f"  {k:<10}{v:>8}")
        for f in result["failures"][:20]:
            print(f"  case {f['case']} {f['outcome']}: {f['input']}: {f['detail'][:200]}")
    bad = sum(result["counts"][k] for k in ("traceback", "crash", "hang"))
    return 1 if bad else 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
