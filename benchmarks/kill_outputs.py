"""Kill ``litho simulate`` at random moments and check that -o is never half-filled.

    python benchmarks/kill_outputs.py [N] [RECIPE]     # default 50 kills

Each trial starts the real command in a child process, sends SIGKILL after a
random delay, and then looks at ``-o``: it must be absent or a whole run
(``.litho-output``, report.json, predicted.gds). A later run's check must remove
every temporary the killed ones left behind. Prints the count per outcome.
"""

from __future__ import annotations

import collections
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    recipe = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "recipes" / "ebt_cdse_254nm.toml")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    rng = random.Random(1)
    counts = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for trial in range(n):
            out = tmp / f"out{trial % 5}"  # re-used: a kill may also hit the swap of an earlier run
            proc = subprocess.Popen([sys.executable, "-m", "litho", "simulate", recipe, "-o", str(out)],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.5, 9.0))  # a whole run with figures takes ~6 s here
            proc.kill()
            proc.wait()
            if not out.exists():
                counts["no output"] += 1
            elif {".litho-output", "report.json", "predicted.gds"} <= {p.name for p in out.iterdir()}:
                counts["whole run"] += 1
            else:
                counts["HALF-FILLED"] += 1
                print(f"half-filled: {sorted(p.name for p in out.iterdir())}")
        left = [p.name for p in tmp.iterdir() if ".litho-" in p.name]
        counts["temporaries left by kills"] = len(left)
        sys.path.insert(0, str(ROOT / "src"))
        from litho.outputs import check_output_dir

        check_output_dir(tmp / "next")
        counts["temporaries after the next run"] = len([p for p in tmp.iterdir() if ".litho-" in p.name])
    for k, v in counts.items():
        print(f"{k:32} {v}")
    return 1 if counts["HALF-FILLED"] or counts["temporaries after the next run"] else 0


if __name__ == "__main__":
    sys.exit(main())
