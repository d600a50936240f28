"""What ``%load_ext jobs_widgets`` costs over a bare IPython start, next to importing databricks-sdk.

Each measurement runs in a fresh interpreter (warm ``.pyc`` files), ``--repeat`` times:

* ``load_ext``: wall time of ``%load_ext jobs_widgets`` in an InteractiveShell that is
  already up, and the ``python -X importtime`` cumulative time of the modules it adds;
* ``databricks.sdk``: the same two figures for ``import databricks.sdk`` (the anchor:
  what a naive extension would pay at load);
* which heavy packages are loaded after ``%load_ext`` (expected: none of databricks,
  pydantic, anywidget, ipywidgets).

Reproduce: ``python bench/import_cost.py [--repeat N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

SHELL = "from IPython.core.interactiveshell import InteractiveShell; ip = InteractiveShell.instance()"
LOAD = f"""
import json, sys, time
{SHELL}
before = set(sys.modules)
t0 = time.perf_counter()
ip.run_line_magic("load_ext", "jobs_widgets")
elapsed = time.perf_counter() - t0
added = sorted(set(sys.modules) - before)
heavy = sorted({{m.split(".")[0] for m in added}} & {{"databricks", "pydantic", "anywidget", "ipywidgets", "requests"}})
print(json.dumps({{"ms": elapsed * 1000, "modules": len(added), "heavy": heavy}}))
"""
SDK = """
import json, sys, time
before = set(sys.modules)
t0 = time.perf_counter()
import databricks.sdk
elapsed = time.perf_counter() - t0
print(json.dumps({"ms": elapsed * 1000, "modules": len(set(sys.modules) - before), "heavy": []}))
"""
_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _run(code: str, importtime: bool = False) -> tuple[dict[str, Any], str]:
    args = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code]
    done = subprocess.run(args, capture_output=True, text=True, check=True, env=_env())
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}


def _importtime_ms(stderr: str, roots: tuple[str, ...]) -> float:
    """Cumulative microseconds of the top-level imports of ``roots`` (first level only)."""
    total = 0
    for match in _LINE.finditer(stderr):
        _, cumulative, indent, name = match.groups()
        if name.split(".")[0] in roots and len(indent) <= 1:
            total += int(cumulative)
    return total / 1000


def measure(repeat: int) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for label, code, roots in (
        ("load_ext", LOAD, ("jobs_widgets",)),
        ("databricks.sdk", SDK, ("databricks",)),
    ):
        walls, modules, heavy = [], 0, []
        for _ in range(repeat):
            result, _ = _run(code)
            walls.append(result["ms"])
            modules, heavy = result["modules"], result["heavy"]
        _, stderr = _run(code, importtime=True)
        rows[label] = {
            "wall_ms_median": statistics.median(walls),
            "wall_ms_max": max(walls),
            "importtime_ms": _importtime_ms(stderr, roots),
            "modules_added": modules,
            "heavy_packages_loaded": heavy,
        }
    rows["ratio_load_ext_to_sdk"] = (
        rows["load_ext"]["wall_ms_median"] / rows["databricks.sdk"]["wall_ms_median"]
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", default="bench/results/import_cost.json")
    args = parser.parse_args()
    rows = measure(args.repeat)
    print(f"Fresh interpreter each time, median of {args.repeat} ({platform.python_version()})")
    print(
        f"{'what':<16} {'wall ms':>8} {'max ms':>8} {'importtime ms':>14} {'modules':>8}  heavy packages loaded"
    )
    for label in ("load_ext", "databricks.sdk"):
        r = rows[label]
        heavy = ", ".join(r["heavy_packages_loaded"]) or "none"
        print(
            f"{label:<16} {r['wall_ms_median']:>8.1f} {r['wall_ms_max']:>8.1f} {r['importtime_ms']:>14.1f} "
            f"{r['modules_added']:>8}  {heavy}"
        )
    print(
        f"%load_ext costs {rows['ratio_load_ext_to_sdk']:.3f}x of importing databricks.sdk (target: under 50 ms)"
    )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"python": platform.python_version(), "rows": rows}, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
