"""Fuzz the recipe loader with mutated copies of the shipped recipes.

Every input must either load or be refused with one :class:`LithoInputError`
line; anything else is a defect. Inputs run in a supervised child process,
so a crash of the interpreter and an input that takes longer than
``--timeout`` seconds (default 30) are counted too, and the run goes on
after them. Prints the count per outcome and the seed::

    python benchmarks/fuzz_recipes.py --n 100000 --seed 1

Outcomes: ``loaded``, ``refused`` (one clean line), ``bad message`` (a
refusal of several lines or naming an internal type), ``exception`` (any
other exception: a traceback for a user), ``crash`` (the child died) and
``hang``. The exit code is 0 only when the last four are all zero.

Each input is a shipped recipe (mask paths made absolute) with 1-4
mutations: a value replaced by a random TOML value (strings with and
without units, huge/tiny/nan/inf floats, integers beyond 64 bits, arrays,
tables, dates, deep nesting, unicode), a key dropped, a key added (a known
field name or a random one), or the text itself changed (a UTF-8 BOM, a
truncation, a flipped byte, a 500-deep array). Half the inputs go through
``load_recipe`` (TOML text on disk), half through ``recipe_from_dict``. The
input of index ``i`` depends only on ``(seed, i)``, so any outcome can be
replayed with ``--replay i``.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import math
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "recipes"
BAD_OUTCOMES = ("bad message", "exception", "crash", "hang")
# words that must not reach a user's message
INTERNAL_WORDS = ("np.float64(", "np.int64(", "numpy.", "Traceback", "<class ", " object at 0x", "datetime.")


# --------------------------------------------------------------------------- inputs

def seed_recipes() -> list[tuple[str, dict]]:
    """The shipped recipes as dicts, with every mask file made absolute."""
    out = []
    for path in sorted(RECIPES.glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        for table in [raw] + list(raw.get("step", [])):
            mask = table.get("mask")
            if isinstance(mask, dict) and isinstance(mask.get("file"), str):
                mask["file"] = str((path.parent / mask["file"]).resolve())
        out.append((path.name, raw))
    return out


def _vocabulary() -> list[str]:
    """Key names litho knows (so added keys often hit real fields), with their bare spellings."""
    import dataclasses

    from litho import materials, recipe
    from litho.optics.imaging import PROJECTION_KEYS, PROXIMITY_KEYS
    from litho.units import BARE_KEY_UNITS

    words = set(recipe.TOP_LEVEL_KEYS) | set(recipe.MASK_KEYS) | set(recipe.SIMULATION_KEYS)
    words |= set(recipe.EXPOSURE_PROCESS_KEYS) | set(PROJECTION_KEYS) | set(PROXIMITY_KEYS) | set(BARE_KEY_UNITS)
    for cls in (materials.Film, materials.Crosslinker, materials.Developer):
        words |= {f.name for f in dataclasses.fields(cls)}
    words |= {"material", "tool", "gas", "o2_ppm", "shape", "value", "source"}
    return sorted(words)


UNIT_WORDS = ["nm", "um", "µm", "mm", "m", "mJ/cm^2", "J/cm^2", "s", "ms", "min", "deg", "rad", "%", "wt%",
              "ppm", "mW/cm^2", "furlong", "", "nm nm"]
NAMES = ["InP", "InP/ZnSe", "CdSe", "Cs", "EBT", "E", "toluene", "tol", "air", "N2", "N2, 5 ppm O2", "annular",
         "projection", "contact", "proximity", "R", "G", "B", "1/0", "periodic", "isolated", "hg-broadband",
         "flory", "lattice", "nitrene", "beer-lambert", "transfer-matrix"]


def random_float(rng: random.Random) -> float:
    return rng.choice([
        math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-300, 5e-324, 0.0, -0.0, 1.0, -1.0, 0.5, 1e6, 1e7,
        rng.uniform(-10, 10), rng.uniform(0, 1), 10 ** rng.uniform(-12, 12), -(10 ** rng.uniform(-12, 12)),
        1.7976931348623157e308,
    ])


def random_string(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        number = rng.choice(["1e400", "nan", "inf", "-1", "0", "1e-400", "3", "2.5", ".5", "1e308", "-0"])
        return f"{number} {rng.choice(UNIT_WORDS)}".strip()
    if kind == 1:
        return rng.choice(NAMES)
    if kind == 2:
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x2FFF),
                                       rng.randrange(0x1F300, 0x1F6FF)])) for _ in range(rng.randrange(0, 30)))
    if kind == 3:
        return "a" * rng.choice([255, 256, 300, 5000])
    if kind == 4:
        return rng.choice(["", " ", "\t", "../", "/", ".", "/dev/null", "/proc/self/mem", "~", "\\", "a\x00b",
                           "a\nb", "con", "nul.gds"])
    if kind == 5:
        return "é" * rng.choice([100, 128, 200])
    if kind == 6:
        return str(rng.randrange(-10, 1000))
    if kind == 7:
        return rng.choice(["1,2", "[1, 2]", "{a=1}", "true", "0x10", "1_000", "1979-05-27"])
    return rng.choice(NAMES)[: rng.randrange(1, 4)]


class Deep:
    """A marker for an array or inline table nested ``depth`` deep (written straight into the TOML text)."""

    def __init__(self, depth: int, table: bool):
        self.depth, self.table = depth, table

    def value(self):
        inner: object = 1
        for _ in range(self.depth):
            inner = {"a": inner} if self.table else [inner]
        return inner


def random_value(rng: random.Random, depth: int = 0, vocabulary=()):
    kind = rng.randrange(12 if depth < 3 else 7)
    if kind == 0:
        return rng.choice([True, False])
    if kind == 1:
        return rng.choice([0, 1, -1, 2, 3, 64, 65, 2 ** 31, 2 ** 63 - 1, -(2 ** 63), 2 ** 64, 2 ** 100,
                           10 ** 400, rng.randrange(-1000, 1000)])
    if kind in (2, 3):
        return random_float(rng)
    if kind in (4, 5):
        return random_string(rng)
    if kind == 6:
        return rng.choice([datetime.date(1979, 5, 27), datetime.time(7, 32),
                           datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc)])
    if kind in (7, 8):
        return [random_value(rng, depth + 1, vocabulary) for _ in range(rng.choice([0, 1, 2, 2, 3, 4, 5]))]
    if kind in (9, 10):
        keys = [rng.choice(vocabulary) if vocabulary and rng.random() < 0.7 else random_string(rng)
                for _ in range(rng.randrange(0, 4))]
        return {k: random_value(rng, depth + 1, vocabulary) for k in keys}
    return Deep(rng.choice([5, 9, 20, 100, 500, 600]), rng.random() < 0.5)


def _paths(data, prefix=()):
    """Every (container path, key) in a nested dict/list, tables and arrays included."""
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.append((prefix, key))
            out.extend(_paths(value, prefix + (key,)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out.append((prefix, i))
            out.extend(_paths(value, prefix + (i,)))
    return out


def _at(data, path):
    for key in path:
        data = data[key]
    return data


def mutate(raw: dict, rng: random.Random, vocabulary) -> dict:
    """A deep copy of ``raw`` with 1-4 random mutations (values replaced, keys dropped or added)."""
    import copy

    data = copy.deepcopy(raw)
    for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
        paths = _paths(data)
        op = rng.randrange(12)
        leaves = [(c, k) for c, k in paths if not isinstance(_at(data, c)[k], (dict, list))]
        if op >= 10 and leaves:                        # a hostile value of the same kind: the structure stays
            container, key = rng.choice(leaves)
            old = _at(data, container)[key]
            if isinstance(old, bool):
                new = rng.choice([not old, 0, "true"])
            elif isinstance(old, (int, float)):
                new = random_float(rng) if rng.random() < 0.8 else rng.choice([2 ** 64, -1, 0, 10 ** 400])
            else:
                new = random_string(rng) if rng.random() < 0.5 else f"{random_float(rng)!r} {rng.choice(UNIT_WORDS)}"
            _at(data, container)[key] = new
        elif op <= 5 and paths:                        # replace a value
            container, key = rng.choice(paths)
            _at(data, container)[key] = random_value(rng, 0, vocabulary)
        elif op <= 7 and paths:                        # drop a key or element
            container, key = rng.choice(paths)
            del _at(data, container)[key]
        else:                                          # add a key to some table
            tables = [()] + [p + (k,) for p, k in paths if isinstance(_at(data, p + (k,)), dict)]
            table = _at(data, rng.choice(tables))
            name = rng.choice(vocabulary) if rng.random() < 0.8 else random_string(rng)
            table[name] = random_value(rng, 0, vocabulary)
    return data


# --------------------------------------------------------------------------- TOML text

def _key(k) -> str:
    k = str(k)
    if k and all(c.isalnum() and c.isascii() or c in "-_" for c in k):
        return k
    return json.dumps(k, ensure_ascii=False)


def _scalar(v) -> str:
    if isinstance(v, Deep):
        return ("{a = " * v.depth + "1" + "}" * v.depth) if v.table else ("[" * v.depth + "1" + "]" * v.depth)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v).__name__)


def to_toml(data: dict) -> str:
    """TOML text of a recipe dict: scalars, then [tables] (one level), then [[step]] tables (inline below)."""
    lines = []
    for k, v in data.items():
        if not isinstance(v, dict) and not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v)):
            lines.append(f"{_key(k)} = {_scalar(v)}")
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"\n[{_key(k)}]")
            lines.extend(f"{_key(kk)} = {_scalar(vv)}" for kk, vv in v.items())
    for k, v in data.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                lines.append(f"\n[[{_key(k)}]]")
                lines.extend(f"{_key(kk)} = {_scalar(vv)}" for kk, vv in item.items())
    return "\n".join(lines) + "\n"


def _materialise(value):
    """The dict form of a value holding :class:`Deep` markers."""
    if isinstance(value, Deep):
        return value.value()
    if isinstance(value, dict):
        return {k: _materialise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_materialise(v) for v in value]
    return value


def mutate_text(text: str, rng: random.Random) -> bytes:
    """Text-level changes the dict mutations cannot make."""
    data = text.encode("utf-8")
    op = rng.randrange(6)
    if op == 0:
        return b"\xef\xbb\xbf" + data
    if op == 1:
        return data[: rng.randrange(len(data) + 1)]
    if op == 2 and data:
        i = rng.randrange(len(data))
        return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
    if op == 3:
        return data + b"\nzz = " + b"[" * 600 + b"]" * 600 + b"\n"
    if op == 4:
        return data.replace(b"\n", b"\r\n")
    return data


def make_input(seeds, vocabulary, seed: int, index: int):
    """``(route, payload, name)`` of input ``index`` of a seeded run (see :func:`build_input`)."""
    return build_input(random.Random(f"{seed}:{index}"), seeds, vocabulary)


def build_input(rng: random.Random, seeds, vocabulary):
    """``(route, payload, name)`` drawn with ``rng``: route "text" (TOML bytes) or "dict"."""
    name, raw = seeds[rng.randrange(len(seeds))]
    data = mutate(raw, rng, vocabulary)
    if rng.random() < 0.5:
        text = to_toml(data)
        payload = mutate_text(text, rng) if rng.random() < 0.25 else text.encode("utf-8")
        return "text", payload, name
    return "dict", _materialise(data), name


# --------------------------------------------------------------------------- one input

def run_one(route: str, payload, workdir: Path) -> tuple[str, str]:
    """``(outcome, detail)`` of loading one input."""
    from litho.errors import LithoInputError
    from litho.recipe import load_recipe, recipe_from_dict

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if route == "text":
                path = workdir / "fuzz.toml"
                path.write_bytes(payload)
                load_recipe(path)
            else:
                recipe_from_dict(payload, source="fuzz.toml", base_dir=RECIPES)
    except LithoInputError as err:
        text = str(err)
        if not text or "\n" in text or any(w in text for w in INTERNAL_WORDS):
            return "bad message", text[:300]
        return "refused", text[:300]
    except BaseException as err:  # noqa: BLE001 - every other exception is the defect being counted
        if isinstance(err, KeyboardInterrupt):
            raise
        return "exception", f"{type(err).__name__}: {str(err)[:300]}"
    return "loaded", ""


# --------------------------------------------------------------------------- child and supervisor

def child(seed: int, start: int, stop: int) -> None:
    """Run inputs ``start..stop-1``; print ``index<TAB>outcome<TAB>detail`` per input as soon as it ends."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    seeds, vocabulary = seed_recipes(), _vocabulary()
    with tempfile.TemporaryDirectory(prefix="litho-fuzz-") as tmp:
        # warm up (imports, library tables) before the first input's clock starts
        run_one("dict", seeds[0][1], Path(tmp))
        for i in range(start, stop):
            route, payload, _ = make_input(seeds, vocabulary, seed, i)
            print(f"{i}\tstart\t", flush=True)
            outcome, detail = run_one(route, payload, Path(tmp))
            print(f"{i}\t{outcome}\t{detail.replace(chr(10), ' ').replace(chr(9), ' ')}", flush=True)


def supervise(n: int, seed: int, timeout_s: float = 30.0, examples: int = 5, progress: bool = True) -> dict:
    """Run ``n`` inputs in child processes; restart after a crash or a hang. Returns counts and samples."""
    counts: collections.Counter = collections.Counter()
    samples: dict[str, list] = collections.defaultdict(list)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    next_index = 0
    seen: set[str] = set()
    t0 = time.perf_counter()
    while next_index < n:
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(seed), str(next_index), str(n)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True, bufsize=1)
        # a thread reads the child's lines into a queue, so waiting for one can time out
        lines: queue.Queue = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)],
                                  daemon=True)
        reader.start()
        current = None
        hung = False
        while True:
            try:
                line = lines.get(timeout=timeout_s if current is not None else None)
            except queue.Empty:                                # an input ran longer than timeout_s
                proc.kill()
                proc.wait()
                counts["hang"] += 1
                if len(samples["hang"]) < examples:
                    samples["hang"].append((current, f"> {timeout_s:g} s"))
                next_index = current + 1
                current = None
                hung = True
                break
            if line is None:                                   # the child ended
                break
            index, outcome, detail = (line.rstrip("\n").split("\t", 2) + ["", ""])[:3]
            index = int(index)
            if outcome == "start":
                current = index
                continue
            counts[outcome] += 1
            current = None
            next_index = index + 1
            if outcome in BAD_OUTCOMES and len(samples[outcome]) < examples:
                signature = _signature(detail)
                if signature not in seen:        # one sample per kind of failure
                    seen.add(signature)
                    samples[outcome].append((index, detail))
            if progress and next_index % 10000 == 0:
                print(f"  {next_index} inputs, {time.perf_counter() - t0:.0f} s: {dict(counts)}",
                      file=sys.stderr, flush=True)
        code = proc.wait()
        if hung:                                               # killed above: go on after that input
            continue
        if current is not None:                                # died inside an input
            counts["crash"] += 1
            if len(samples["crash"]) < examples:
                samples["crash"].append((current, f"exit code {code}"))
            next_index = current + 1
        elif code != 0 and next_index < n:
            raise RuntimeError(f"the fuzz child failed outside an input (exit code {code})")
    return {"n": n, "seed": seed, "counts": dict(counts), "samples": dict(samples),
            "seconds": time.perf_counter() - t0}


def _signature(detail: str) -> str:
    """A failure's kind: its message without the file, numbers and quoted values."""
    import re

    text = detail.split(".toml: ", 1)[-1]
    text = re.sub(r"'[^']*'|\"[^\"]*\"|[-+0-9.e]+", "_", text)
    return text[:50]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of inputs (default 100000)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: from the clock, printed)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before an input counts as a hang")
    parser.add_argument("--examples", type=int, default=5, help="distinct failures to print per outcome")
    parser.add_argument("--replay", type=int, default=None, metavar="I", help="print and run input I only")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    if args.replay is not None:
        route, payload, name = make_input(seed_recipes(), _vocabulary(), seed, args.replay)
        print(f"input {args.replay} of seed {seed}: {route} mutation of {name}")
        print(payload.decode("utf-8", "replace") if route == "text" else repr(payload)[:4000])
        with tempfile.TemporaryDirectory() as tmp:
            print(run_one(route, payload, Path(tmp)))
        return 0
    print(f"fuzzing the recipe loader: {args.n} inputs, seed {seed}")
    result = supervise(args.n, seed, args.timeout, examples=args.examples)
    counts = result["counts"]
    for outcome in ("loaded", "refused", *BAD_OUTCOMES):
        print(f"  {outcome:<12} {counts.get(outcome, 0):>8}")
    print(f"  seed {seed}, {result['seconds']:.0f} s")
    for outcome, items in result["samples"].items():
        for index, detail in items:
            print(f"  {outcome} at input {index} (replay: --seed {seed} --replay {index}): {detail}")
    return 1 if any(counts.get(o, 0) for o in BAD_OUTCOMES) else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(main())
