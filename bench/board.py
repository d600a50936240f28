"""What a jobs board costs the workspace: requests per minute over 20 jobs, visible vs hidden.

    .venv/bin/python bench/board.py                      # 20 jobs, 30 s visible then 30 s hidden
    .venv/bin/python bench/board.py --jobs 20 --seconds 60 --json bench/results/board.json

A ``JobsBoard`` (default 10 s interval) over N jobs of the sandbox on the real clock, a
few of them running. The requests are counted from the sandbox's request log, by
endpoint: the board is one ``runs/list`` per job per tick while visible (plus one
``jobs/get`` per job, once) and must send nothing while hidden (the front end reports
visibility as the panel does; here the bench sends the same message).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections import Counter
from pathlib import Path

from jobs_widgets import JobsBoard
from jobs_widgets.core import Jobs
from jobs_widgets.core.runtime import Runtime
from jobs_widgets.sandbox import Sandbox
from jobs_widgets.sandbox.demo import demo_jobs


def _specs(count: int) -> list[object]:
    base = demo_jobs()
    return [
        dataclasses.replace(base[i % len(base)], key=f"{base[i % len(base)].key}{i // len(base) or ''}")
        for i in range(count)
    ]


def _phase(sb: Sandbox, seconds: float) -> dict[str, object]:
    sb.clear_requests()
    time.sleep(seconds)
    counts = Counter(r.endpoint.rsplit("/api/", 1)[-1] for r in sb.requests)
    total = sum(counts.values())
    return {
        "seconds": seconds,
        "requests": total,
        "per_minute": round(total * 60 / seconds, 1),
        "by_endpoint": dict(counts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with Sandbox(seed=1, jobs=_specs(args.jobs)) as sb:  # type: ignore[arg-type]
        runtime = Runtime()
        jobs = Jobs.from_env(config=sb.config(), env=sb.env(), runtime=runtime)
        for key in jobs.keys()[:5]:  # a few runs in flight: the board has something to show
            sb.engine.script(key, duration_s=3600)
            jobs(key).run_now()
        board = JobsBoard(jobs=jobs, interval=args.interval)
        deadline = time.monotonic() + 30
        while not all(row["loaded"] for row in board.jobs) and time.monotonic() < deadline:
            time.sleep(0.05)
        visible = _phase(sb, args.seconds)
        board._on_frontend_msg(board, {"kind": "visibility", "visible": False}, [])
        time.sleep(0.5)  # a look in flight ends
        hidden = _phase(sb, args.seconds)
        board.close()
        jobs.close()
        runtime.close()
    result = {"jobs": args.jobs, "interval_s": args.interval, "visible": visible, "hidden": hidden}
    print(f"{'board over':<12}{args.jobs} jobs, one look every {args.interval:g} s")
    for name in ("visible", "hidden"):
        phase = result[name]
        print(f"{name:<12}{phase['per_minute']:>8} requests/min  {phase['by_endpoint']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
