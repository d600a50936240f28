"""Many runs at once: scenario 2 (50 concurrent runs on 5 jobs) and scenario 3 (the hub's CPU).

Scenario 2 starts 50 runs across 5 jobs within the first minute (as a loop starting
runs with a panel each would), 10% of them failing at a random moment, and watches
each with one watcher: per-run waiters (the SDK's schedule, AppKit's) or the hub
(auto mode: 50 visible panels are "many runs", so background, batched per job). It
reports every poll request and, per strategy, how late each end was noticed.
"""

from __future__ import annotations

import heapq
import math
import random
import resource
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from jobs_widgets.core import Jobs, ManualClock, PollPolicy
from jobs_widgets.core.hub import Hub
from jobs_widgets.core.virtual import VirtualTime
from jobs_widgets.sandbox import Sandbox

from polling_world import POLL_ENDPOINTS, PlannedRun, bench_job, latency, make_workload, start_run, world

Plan = tuple[str, PlannedRun, float]  # job key, run, start offset (s)


def scenario2(
    seed: int,
    median: float,
    sigma: float,
    fail: float,
    n_runs: int = 50,
    n_jobs: int = 5,
    policy: PollPolicy | None = None,
    strategies: tuple[str, ...] = ("sdk", "appkit", "hub"),
) -> dict[str, Any]:
    rng = random.Random(f"scenario2/{seed}")
    specs = [bench_job(f"job{j}", median, sigma, fail) for j in range(n_jobs)]
    plans: list[Plan] = [
        (
            f"job{i % n_jobs}",
            make_workload(seed * 1000 + i, 1, median, sigma, fail, 0.0)[0],
            rng.uniform(0, 60.0),
        )
        for i in range(n_runs)
    ]
    out: dict[str, Any] = {"runs": n_runs, "jobs": n_jobs, "median": median, "sigma": sigma, "fail": fail}
    for name in strategies:
        sb, clock = world(specs, seed)
        w = sb.client()
        t0 = clock.time()
        seen: dict[int, float] = {}
        try:
            if name == "hub":
                _hub(sb, clock, w, plans, seed, seen, policy or PollPolicy())
            else:
                _per_run(sb, clock, w, plans, name, seed, seen)
            out[name] = _measure(sb, t0, seen)
        finally:
            sb.stop()
    if "hub" in out and "sdk" in out:
        out["hub_vs_sdk_requests"] = out["hub"]["requests"] / out["sdk"]["requests"]
        out["hub_vs_sdk_p95"] = out["hub"]["detection"]["p95"] / out["sdk"]["detection"]["p95"]
    return out


def _measure(sb: Sandbox, t0: float, seen: dict[int, float]) -> dict[str, Any]:
    times = sorted(r.at - t0 for r in sb.requests if r.endpoint in POLL_ENDPOINTS)
    delays = []
    for run_id, at in seen.items():
        end = sb.engine.run(run_id).end
        assert end is not None
        delays.append(at - end)
    return {
        "requests": len(times),
        "per_minute": 60 * len(times) / times[-1],
        "episode_s": times[-1],
        "seen": len(seen),
        "detection": latency(delays),
    }


def _per_run(
    sb: Sandbox, clock: ManualClock, w: Any, plans: list[Plan], name: str, seed: int, seen: dict[int, float]
) -> None:
    """Each run polled on its own schedule (the waiter's or AppKit's), interleaved in time."""
    from polling import appkit_delays

    rng = random.Random(f"{name}/{seed}")
    t0 = clock.monotonic()
    queue: list[tuple[float, int, int, Any]] = []
    pending = sorted((offset, key, plan) for key, plan, offset in plans)
    seq = 0
    attempts: dict[int, int] = {}
    while pending or queue:
        next_start = t0 + pending[0][0] if pending else math.inf
        next_poll = queue[0][0] if queue else math.inf
        if next_start <= next_poll:
            _, key, plan = pending.pop(0)
            clock.advance_to(next_start)
            run_id = start_run(sb, w, key, plan)
            delays = appkit_delays(rng) if name == "appkit" else None
            heapq.heappush(queue, (clock.monotonic(), seq, run_id, delays))
            seq += 1
            continue
        when, _, run_id, delays = heapq.heappop(queue)
        clock.advance_to(when)
        run = w.jobs.get_run(run_id)
        if run.state.life_cycle_state.value in {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}:
            seen[run_id] = clock.time()
            continue
        if name == "appkit":
            delay = next(delays)
        else:  # the SDK waiter's schedule: min(attempt, 10) + U[0, 1)
            attempts[run_id] = attempts.get(run_id, 0) + 1
            delay = min(attempts[run_id], 10) + rng.random()
        heapq.heappush(queue, (clock.monotonic() + delay, seq, run_id, delays))
        seq += 1


class _Quiet:
    visible: bool = True
    deadline: float | None = None

    def on_update(self, update: Any) -> None:
        return None

    def on_health(self, health: Any) -> None:
        return None

    def on_error(self, error: BaseException) -> None:
        return None

    def on_timeout(self) -> None:
        return None


class _Counter(_Quiet):
    """A listener like a visible panel: notes when each run's end was seen."""

    def __init__(self, clock: ManualClock, seen: dict[int, float], total: int, done: threading.Event) -> None:
        self.clock, self.seen, self.total, self.done = clock, seen, total, done

    def on_update(self, update: Any) -> None:
        if update.is_terminal:
            self.seen[update.run_id] = self.clock.time()
            if len(self.seen) == self.total:
                self.done.set()

    def on_error(self, error: BaseException) -> None:
        raise error


def _hub(
    sb: Sandbox,
    clock: ManualClock,
    w: Any,
    plans: list[Plan],
    seed: int,
    seen: dict[int, float],
    policy: PollPolicy,
) -> None:
    hub = Hub(clock=clock, rng=random.Random(f"hub2/{seed}"), policy=policy)
    jobs = Jobs.from_env(client=w, env=sb.env(), hub=hub, clock=clock)
    t0 = clock.monotonic()
    done = threading.Event()
    driver = VirtualTime(clock, hub)
    try:
        for offset, key, plan in sorted((offset, key, plan) for key, plan, offset in plans):
            # Let the hub work up to this start, then start the run and show "a panel".
            while True:
                hub.wait_idle(5)
                deadline = clock.next_deadline()
                if deadline is None or deadline > t0 + offset:
                    break
                clock.advance_to(deadline)
            clock.advance_to(t0 + offset)
            run_id = start_run(sb, w, key, plan)
            hub.subscribe(jobs(key), run_id, _Counter(clock, seen, len(plans), done))
        driver.start()
        if not done.wait(120):
            raise RuntimeError(f"hub scenario 2 did not finish: {len(seen)} of {len(plans)} runs seen")
    finally:
        driver.stop()
        hub.shutdown()


_SERVER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {bench!r})
    from polling_world import bench_job
    from jobs_widgets.sandbox import Sandbox
    sb = Sandbox(seed=0, jobs=[bench_job(f"job{{j}}", 480.0, 0.25, 0.0) for j in range(5)]).start()
    print(sb.host, sb.token, flush=True)
    for line in sys.stdin:
        break
    sb.stop()
    """
)


def scenario3(seconds: float, policy: PollPolicy) -> dict[str, Any]:
    """CPU of the watching process (real time, real-speed sandbox in another process)."""
    from jobs_widgets.core.sdk import make_client

    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER.format(bench=str(Path(__file__).parent))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        host, token = proc.stdout.readline().split()
        w = make_client(host, token)
        env = {f"DATABRICKS_JOB_JOB{j}": str(1001 + j) for j in range(5)}
        hub = Hub(policy=policy)
        jobs = Jobs.from_env(client=w, env=env, hub=hub)
        subs = []
        for i in range(50):
            handle = jobs(f"job{i % 5}")
            subs.append(hub.subscribe(handle, handle.run_now(), _Quiet()))
        time.sleep(3)  # let the first polls and history loads settle
        busy = _measure_cpu(hub, seconds)
        for sub in subs:
            sub.close()
        hub.wait_idle(10)
        time.sleep(1)
        idle = _measure_cpu(hub, seconds)
        hub.shutdown()
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return {"seconds": seconds, "with_50_subscriptions": busy, "with_none": idle}


def _measure_cpu(hub: Hub, seconds: float) -> dict[str, float]:
    r0, t0, n0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic(), hub.stats.requests
    time.sleep(seconds)
    r1, t1, n1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic(), hub.stats.requests
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"cpu_seconds": cpu, "cpu_percent_of_one_core": 100 * cpu / (t1 - t0), "requests": n1 - n0}
