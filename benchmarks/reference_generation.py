"""Benchmark: time and peak memory of writing the reference extract, at scale 1 and 15.

Each scale runs in a fresh subprocess (so peak memory is that run's own `ru_maxrss`), writing into a
temporary folder that is removed afterwards. Prints seconds, peak resident memory, rows written and
the ratios to scale 1 measured in the same run; exits 1 if scale 1 takes 30 s or more or any scale
peaks at 8 GB or more (the budgets in the brief).

    python benchmarks/reference_generation.py              # scales 1 and 15
    python benchmarks/reference_generation.py --scales 1 5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECONDS_BUDGET_SCALE_1 = 30.0
MEMORY_BUDGET_BYTES = 8 * 1024**3

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from outcomes.reference import write_reference_extract
started = time.perf_counter()
folder = write_reference_extract({out!r}, scale={scale!r})
seconds = time.perf_counter() - started
rows = json.loads((folder / "truth.json").read_text())["row_counts"]
size = sum(p.stat().st_size for p in folder.iterdir())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
print(json.dumps({{"seconds": seconds, "peak_bytes": peak, "rows": rows, "bytes_on_disk": size}}))
"""


def run_scale(scale: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="outcomes-bench-") as tmp:
        code = CHILD.format(root=str(ROOT), out=str(Path(tmp) / "extract"), scale=scale)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        if done.returncode:
            sys.stderr.write(done.stderr)
            raise SystemExit(f"scale {scale}: generation failed (exit {done.returncode})")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 15.0])
    args = parser.parse_args(argv)
    scales = sorted(set(args.scales) | {1.0})
    results = {}
    for scale in scales:
        print(f"scale {scale:g}: generating...", flush=True)
        results[scale] = run_scale(scale)
    base = results[1.0]
    print()
    print(f"{'scale':>6} {'seconds':>9} {'x scale 1':>10} {'peak MiB':>10} {'x scale 1':>10} {'rows':>12} {'rows/s':>11} {'MiB on disk':>12}")
    ok = True
    for scale, r in results.items():
        rows = sum(r["rows"].values())
        print(
            f"{scale:>6g} {r['seconds']:>9.1f} {r['seconds'] / base['seconds']:>10.2f} {r['peak_bytes'] / 2**20:>10.0f} "
            f"{r['peak_bytes'] / base['peak_bytes']:>10.2f} {rows:>12,} {rows / r['seconds']:>11,.0f} {r['bytes_on_disk'] / 2**20:>12.0f}"
        )
        if r["peak_bytes"] >= MEMORY_BUDGET_BYTES:
            print(f"  scale {scale:g}: peak memory over the 8 GiB budget")
            ok = False
    if base["seconds"] >= SECONDS_BUDGET_SCALE_1:
        print(f"  scale 1 took {base['seconds']:.1f} s: over the {SECONDS_BUDGET_SCALE_1:.0f} s budget")
        ok = False
    print()
    print("budgets (scale 1 under 30 s; every scale under 8 GiB peak):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
