"""What idle watches cost: CPU and requests for N sync and N async waits over 10 jobs.

    .venv/bin/python bench/idle_watches.py            # 300 watches, 30 s of each kind
    .venv/bin/python bench/idle_watches.py --watches 300 --seconds 60 --json bench/results/idle.json

Each wait follows a long-running run (the sandbox on the real clock, one run per job),
so nothing happens but polling. Reported: the process's CPU time per wall second (as a
share of one core), the requests the sandbox served per minute, and threads. The cost
of the sandbox server itself is inside the CPU figure (it is in-process), so the
number is an upper bound on what jobs_widgets spends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from jobs_widgets.core import Jobs, JobsClosedError
from jobs_widgets.core.runtime import Runtime
from jobs_widgets.sandbox import Sandbox

KEYS = ["etl", "train", "report", "nightly", "flaky", "jar", "dbt"]


def _measure(sb: Sandbox, runtime: Runtime, seconds: float) -> dict[str, float]:
    time.sleep(min(10.0, seconds / 3))  # past the first polls, into the steady state
    sb.clear_requests()
    cpu, wall = time.process_time(), time.monotonic()
    time.sleep(seconds)
    used, elapsed = time.process_time() - cpu, time.monotonic() - wall
    return {
        "cpu_share_of_one_core": used / elapsed,
        "requests_per_min": len(sb.requests) * 60.0 / elapsed,
        "threads": threading.active_count(),
        "subscriptions": runtime.hub.watching,
        "listeners": runtime.hub.listeners,
    }


def _sync(jobs: Jobs, targets: list[tuple[str, int]]) -> list[threading.Thread]:
    def follow(key: str, run_id: int) -> None:
        try:
            for _ in jobs(key).watch(run_id):
                pass
        except JobsClosedError:
            return

    threads = [threading.Thread(target=follow, args=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    return threads


def _async(jobs: Jobs, targets: list[tuple[str, int]]) -> list[threading.Thread]:
    ready = threading.Event()

    async def one(key: str, run_id: int) -> None:
        try:
            async for _ in jobs(key).awatch(run_id):
                pass
        except JobsClosedError:
            return

    async def follow_all() -> None:
        tasks = [asyncio.ensure_future(one(*t)) for t in targets]
        ready.set()
        await asyncio.gather(*tasks)

    thread = threading.Thread(target=asyncio.run, args=(follow_all(),), daemon=True)
    thread.start()
    ready.wait(10)
    return [thread]


def run(watches: int, seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {"watches": watches, "seconds": seconds}
    with Sandbox(seed=2) as sb:
        for kind, start in (("sync", _sync), ("async", _async)):
            for key in KEYS:
                sb.engine.script(key, duration_s=10 * 3600)
            runtime = Runtime()
            jobs = Jobs.from_env(config=sb.config(), env=sb.env(), runtime=runtime)
            run_ids = [(key, jobs(key).run_now()) for key in KEYS]
            threads = start(jobs, [run_ids[i % len(run_ids)] for i in range(watches)])
            results[kind] = _measure(sb, runtime, seconds)
            runtime.close()
            for thread in threads:
                thread.join(2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = run(args.watches, args.seconds)
    print(f"{args.watches} idle watches over {len(KEYS)} jobs, {args.seconds:g} s measured each")
    print(
        f"{'kind':<6} {'CPU (share of a core)':>22} {'requests/min':>13} {'subscriptions':>14} {'threads':>8}"
    )
    for kind in ("sync", "async"):
        r = results[kind]
        print(
            f"{kind:<6} {r['cpu_share_of_one_core']:>21.2%} {r['requests_per_min']:>13.1f} "
            f"{r['subscriptions']:>14} {r['threads']:>8}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
