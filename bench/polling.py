"""Polling strategies side by side: requests spent vs. how fast a run's end is noticed.

All strategies watch the SAME seeded workload in the SAME run, against the sandbox
through the real databricks-sdk, in virtual time (a ManualClock shared by the sandbox
and the watcher), so hours of runs take seconds and every number is reproducible.

Strategies
    sdk     databricks-sdk's own waiter ``wait_get_run_job_terminated_or_skipped`` (the
            real function; its module's ``time`` and ``random`` patched to the virtual
            clock and a seeded generator).
    appkit  the AppKit jobs plugin's schedule: first poll at once, then 5 s x1.5 up to
            30 s with +-20% jitter (reference section 4.3).
    hub     jobs_widgets' hub (``JobHandle.watch``), default PollPolicy.

Scenario 1: runs watched one at a time (two workloads: predictable and erratic jobs).
Scenario 2: 50 concurrent runs across 5 jobs, one watcher each (as 50 panels would be).
Scenario 3: the watching process's CPU in real time with 50 subscriptions and with none.

Reproduce: ``python bench/polling.py`` (add ``--json PATH``; ``--runs``, ``--seed``,
``--median``, ``--sigma``, ``--fail``, ``--cancel`` replay any scenario-1 workload;
``--quick`` for a smaller run; ``--skip-cpu`` to skip the real-time scenario 3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import math
import platform
import random
import resource
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from databricks.sdk.service import jobs as sdk_jobs
from jobs_widgets.core import Jobs, ManualClock, PollPolicy, Run, RunState
from jobs_widgets.core.hub import Hub
from jobs_widgets.core.virtual import VirtualTime
from jobs_widgets.sandbox import Behaviour, JobSpec, Sandbox, TaskSpec

POLL_ENDPOINTS = ("runs/get", "runs/list")


# ------------------------------------------------------------------------------ workload
@dataclass(frozen=True)
class PlannedRun:
    duration: float  # the would-be duration (s)
    outcome: str  # SUCCESS | FAILED | CANCELED
    stop_at: float  # seconds after start when a failing/cancelled run ends


def make_workload(
    seed: int, runs: int, median: float, sigma: float, fail: float, cancel: float
) -> list[PlannedRun]:
    rng = random.Random(f"workload/{seed}")
    planned = []
    for _ in range(runs):
        duration = median * math.exp(rng.gauss(0.0, sigma))
        u = rng.random()
        if u < fail:
            planned.append(PlannedRun(duration, "FAILED", rng.uniform(0, duration)))
        elif u < fail + cancel:
            planned.append(PlannedRun(duration, "CANCELED", rng.uniform(0, duration)))
        else:
            planned.append(PlannedRun(duration, "SUCCESS", duration))
    return planned


def bench_job(key: str, median: float, sigma: float, fail: float) -> JobSpec:
    """A one-task job whose invented history follows the workload's distribution."""
    return JobSpec(
        key=key,
        name=f"bench-{key}",
        tasks=[TaskSpec("main", "python_wheel", {"package_name": "bench", "entry_point": "main"})],
        max_concurrent_runs=1000,
        history_runs=30,
        behaviour=Behaviour(
            median_s=median, sigma=sigma, fail_rate=fail, queue_s=(0, 0), setup_s=(0, 0), cleanup_s=(0, 0)
        ),
    )


def start_run(sb: Sandbox, w: Any, key: str, plan: PlannedRun) -> int:
    engine = sb.engine
    if plan.outcome == "FAILED":
        engine.script(key, outcome="FAILED", duration_s=plan.duration, fail_after_s=plan.stop_at)
    else:
        engine.script(key, outcome="SUCCESS", duration_s=plan.duration)
    run_id = int(w.jobs.run_now(sb.jobs[key]).response.run_id)
    if plan.outcome == "CANCELED":
        engine.cancel_run_at(run_id, sb.clock.time() + plan.stop_at)
    return run_id


def truth(sb: Sandbox, run_id: int) -> tuple[RunState, float]:
    run = Run.from_api(sb.engine.api_get_run(run_id))
    record = sb.engine.run(run_id)
    assert record.end is not None, f"run {run_id} has not ended"
    return run.state, record.end


def observe(
    sb: Sandbox, run_id: int, plan: PlannedRun, detected_at: float, seen: RunState, before: int
) -> Observation:
    """One watched run: how long it ran, how late its end was noticed, what it cost."""
    state, end = truth(sb, run_id)
    duration = end - sb.engine.run(run_id).created
    return Observation(plan.outcome, duration, detected_at - end, poll_requests(sb) - before, seen != state)


def poll_requests(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if r.endpoint in POLL_ENDPOINTS)


# ------------------------------------------------------------------------------ scenario 1
@dataclass
class Observation:
    outcome: str
    duration: float
    latency: float
    requests: int
    wrong: bool


@dataclass
class StrategyResult:
    name: str
    observations: list[Observation] = field(default_factory=list)
    overhead_requests: int = 0  # e.g. the hub's one-time history fetch

    def summary(self, cap: float) -> dict[str, Any]:
        obs = self.observations
        requests = sum(o.requests for o in obs) + self.overhead_requests
        hours = sum(o.duration for o in obs) / 3600
        ok = sorted(o.latency for o in obs if o.outcome == "SUCCESS")
        bad = sorted(o.latency for o in obs if o.outcome != "SUCCESS")
        return {
            "runs": len(obs),
            "requests": requests,
            "requests_per_run": requests / len(obs),
            "requests_per_run_hour": requests / hours,
            "succeeded": _latency(ok),
            "failed_or_cancelled": _latency(bad),
            "max_latency": max(o.latency for o in obs),
            "within_cap": all(o.latency <= cap + 1e-6 for o in obs),
            "wrong_final_states": sum(o.wrong for o in obs),
        }


def _latency(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)],
        "max": values[-1],
    }


def _world(jobs: list[JobSpec], seed: int) -> tuple[Sandbox, ManualClock]:
    clock = ManualClock()
    sb = Sandbox(clock=clock, seed=seed, jobs=jobs).start()
    return sb, clock


def strategy_sdk(workload: list[PlannedRun], spec: JobSpec, seed: int) -> StrategyResult:
    sb, clock = _world([spec], seed)
    result = StrategyResult("sdk")
    w = sb.client()
    # Patch only the waiter's module: its `time` and `random` names, not the process's.
    saved = (getattr(sdk_jobs, "time"), getattr(sdk_jobs, "random"))  # noqa: B009
    setattr(sdk_jobs, "time", types.SimpleNamespace(time=clock.time, sleep=clock.advance))  # noqa: B010
    setattr(sdk_jobs, "random", random.Random(f"sdk/{seed}"))  # noqa: B010
    try:
        for plan in workload:
            run_id = start_run(sb, w, spec.key or "", plan)
            before = poll_requests(sb)
            final = w.jobs.wait_get_run_job_terminated_or_skipped(run_id=run_id, timeout=dt.timedelta(days=7))
            seen = Run.from_api(final.as_dict()).state
            result.observations.append(observe(sb, run_id, plan, clock.time(), seen, before))
    finally:
        setattr(sdk_jobs, "time", saved[0])  # noqa: B010
        setattr(sdk_jobs, "random", saved[1])  # noqa: B010
        sb.stop()
    return result


def appkit_delays(rng: random.Random, base: float = 5.0) -> Any:
    """AppKit's nextPollDelay: jittered current interval, then x1.5, capped at 6 x base."""
    current, cap = base, base * 6
    while True:
        yield min(current * (1 + rng.uniform(-0.2, 0.2)), cap)
        current = min(current * 1.5, cap)


def strategy_appkit(workload: list[PlannedRun], spec: JobSpec, seed: int) -> StrategyResult:
    sb, clock = _world([spec], seed)
    result = StrategyResult("appkit")
    w = sb.client()
    rng = random.Random(f"appkit/{seed}")
    try:
        for plan in workload:
            run_id = start_run(sb, w, spec.key or "", plan)
            before = poll_requests(sb)
            delays = appkit_delays(rng)
            while True:
                run = w.jobs.get_run(run_id)
                if run.state.life_cycle_state.value in {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}:
                    break
                clock.advance(next(delays))
            seen = Run.from_api(run.as_dict()).state
            result.observations.append(observe(sb, run_id, plan, clock.time(), seen, before))
    finally:
        sb.stop()
    return result


def strategy_hub(workload: list[PlannedRun], spec: JobSpec, seed: int, policy: PollPolicy) -> StrategyResult:
    sb, clock = _world([spec], seed)
    result = StrategyResult("hub")
    w = sb.client()
    hub = Hub(clock=clock, rng=random.Random(f"hub/{seed}"), policy=policy)
    jobs = Jobs.from_env(client=w, env=sb.env(), hub=hub, clock=clock)
    handle = jobs(spec.key or "")
    try:
        with VirtualTime(clock, hub):
            for plan in workload:
                run_id = start_run(sb, w, spec.key or "", plan)
                before = poll_requests(sb)
                final = list(handle.watch(run_id))[-1]
                result.observations.append(observe(sb, run_id, plan, final.observed_at, final.state, before))
        result.overhead_requests = hub.stats.history
    finally:
        hub.shutdown()
        sb.stop()
    return result


# ------------------------------------------------------------------------------ scenario 2
def scenario2(
    seed: int, median: float, sigma: float, policy: PollPolicy, n_runs: int = 50, n_jobs: int = 5
) -> dict[str, Any]:
    """Requests per minute while ``n_runs`` concurrent runs across ``n_jobs`` jobs are watched.

    The runs start within the first minute (as a loop starting runs with a panel each
    would) and take the workload's run times. Two figures per strategy: the *steady*
    rate while all runs are active (from the last start to the first end), and the
    rate over the whole episode (first start to last end noticed), which adds the
    first look at each run and the final confirmations.
    """
    rng = random.Random(f"scenario2/{seed}")
    specs = [bench_job(f"job{j}", median, sigma, 0.0) for j in range(n_jobs)]
    plans = [
        (
            f"job{i % n_jobs}",
            make_workload(seed * 1000 + i, 1, median, sigma, 0.0, 0.0)[0],
            rng.uniform(0, 60.0),
        )
        for i in range(n_runs)
    ]
    out: dict[str, Any] = {"runs": n_runs, "jobs": n_jobs}
    for name in ("sdk", "appkit", "hub"):
        sb, clock = _world(specs, seed)
        w = sb.client()
        t0 = clock.time()
        try:
            if name == "hub":
                _scenario2_hub(sb, clock, w, plans, policy, seed)
            else:
                _scenario2_per_run(sb, clock, w, plans, name, seed)
            out[name] = _rates(sb, t0, plans)
        finally:
            sb.stop()
    for name in ("sdk", "appkit"):
        for window in ("steady", "episode"):
            out[f"hub_vs_{name}_{window}"] = (
                out["hub"][window]["per_minute"] / out[name][window]["per_minute"]
            )
    return out


def _rates(sb: Sandbox, t0: float, plans: list[tuple[str, PlannedRun, float]]) -> dict[str, Any]:
    times = sorted(r.at - t0 for r in sb.requests if r.endpoint in POLL_ENDPOINTS)
    last_start = max(offset for _, _, offset in plans)
    first_end = min(offset + plan.duration for _, plan, offset in plans)
    steady = [t for t in times if last_start <= t < first_end]
    return {
        "steady": {
            "from_s": last_start,
            "to_s": first_end,
            "requests": len(steady),
            "per_minute": 60 * len(steady) / (first_end - last_start),
        },
        "episode": {"to_s": times[-1], "requests": len(times), "per_minute": 60 * len(times) / times[-1]},
    }


def _scenario2_per_run(
    sb: Sandbox, clock: ManualClock, w: Any, plans: list[tuple[str, PlannedRun, float]], name: str, seed: int
) -> None:
    """Each run polled on its own schedule (the waiter's or AppKit's), interleaved in time."""
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
            continue
        if name == "appkit":
            delay = next(delays)
        else:  # the SDK waiter's schedule: min(attempt, 10) + U[0, 1)
            attempts[run_id] = attempts.get(run_id, 0) + 1
            delay = min(attempts[run_id], 10) + rng.random()
        heapq.heappush(queue, (clock.monotonic() + delay, seq, run_id, delays))
        seq += 1


class _Counter:
    """A listener like a panel: counts runs seen to the end."""

    visible: bool = True
    deadline: float | None = None

    def __init__(self, finished: list[int], total: int, done: threading.Event, lock: threading.Lock) -> None:
        self.finished, self.total, self.done, self.lock = finished, total, done, lock

    def on_update(self, update: Any) -> None:
        if update.is_terminal:
            with self.lock:
                self.finished.append(update.run_id)
                if len(self.finished) == self.total:
                    self.done.set()

    def on_health(self, health: Any) -> None:
        return None

    def on_error(self, error: BaseException) -> None:
        raise error

    def on_timeout(self) -> None:
        return None


def _scenario2_hub(
    sb: Sandbox,
    clock: ManualClock,
    w: Any,
    plans: list[tuple[str, PlannedRun, float]],
    policy: PollPolicy,
    seed: int,
) -> None:
    hub = Hub(clock=clock, rng=random.Random(f"hub2/{seed}"), policy=policy)
    jobs = Jobs.from_env(client=w, env=sb.env(), hub=hub, clock=clock)
    t0 = clock.monotonic()
    done, lock = threading.Event(), threading.Lock()
    finished: list[int] = []
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
            hub.subscribe(jobs(key), run_id, _Counter(finished, len(plans), done, lock))
        driver.start()
        if not done.wait(120):
            raise RuntimeError(f"hub scenario 2 did not finish: {len(finished)} of {len(plans)} runs seen")
    finally:
        driver.stop()
        hub.shutdown()


# ------------------------------------------------------------------------------ scenario 3
_SERVER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {bench!r})
    from polling import bench_job
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

        class Quiet:
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

        subs = []
        for i in range(50):
            handle = jobs(f"job{i % 5}")
            subs.append(hub.subscribe(handle, handle.run_now(), Quiet()))
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


# ------------------------------------------------------------------------------ report
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--median", type=float, default=480.0, help="median run time, seconds")
    parser.add_argument("--sigma", type=float, nargs="*", default=[0.25, 0.6], help="one workload per value")
    parser.add_argument("--fail", type=float, default=0.10)
    parser.add_argument("--cancel", type=float, default=0.05)
    parser.add_argument("--cpu-seconds", type=float, default=60.0)
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--quick", action="store_true", help="60 runs, 15 s of CPU measurement")
    parser.add_argument("--json", default="bench/results/polling.json")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.cpu_seconds = 60, 15.0
    policy = PollPolicy()
    started = time.perf_counter()
    report: dict[str, Any] = {
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "machine": platform.platform(),
        "policy": asdict(policy),
        "scenario1": {},
    }
    for sigma in args.sigma:
        workload = make_workload(args.seed, args.runs, args.median, sigma, args.fail, args.cancel)
        spec = bench_job("bench", args.median, sigma, args.fail)
        results = [
            strategy_sdk(workload, spec, args.seed),
            strategy_appkit(workload, spec, args.seed),
            strategy_hub(workload, spec, args.seed, policy),
        ]
        report["scenario1"][f"sigma={sigma:g}"] = {r.name: r.summary(policy.cap) for r in results}
    report["scenario2"] = scenario2(args.seed, args.median, 0.25, policy)
    if not args.skip_cpu:
        report["scenario3"] = scenario3(args.cpu_seconds, policy)
    report["wall_seconds"] = time.perf_counter() - started
    print_report(report, args)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out} ({report['wall_seconds']:.0f} s)")
    return 0


def print_report(report: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"Scenario 1: {args.runs} runs each, median {args.median:g} s, {args.fail:.0%} failing, {args.cancel:.0%} cancelled, seed {args.seed}"
    )
    for workload, results in report["scenario1"].items():
        sdk = results["sdk"]
        print(f"\n  {workload}")
        print(
            f"  {'strategy':<8} {'req/run':>8} {'req/run-h':>10} {'ok p50':>7} {'ok p95':>7} {'ok max':>7} {'bad p50':>8} {'bad p95':>8} {'bad max':>8} {'wrong':>6}  vs sdk: p95 / req"
        )
        for name, s in results.items():
            ok, bad = s["succeeded"], s["failed_or_cancelled"]
            ratio = f"{ok['p95'] / sdk['succeeded']['p95']:.2f} / {s['requests_per_run_hour'] / sdk['requests_per_run_hour']:.2f}"
            print(
                f"  {name:<8} {s['requests_per_run']:>8.1f} {s['requests_per_run_hour']:>10.0f} "
                f"{ok['p50']:>7.1f} {ok['p95']:>7.1f} {ok['max']:>7.1f} {bad['p50']:>8.1f} {bad['p95']:>8.1f} {bad['max']:>8.1f} "
                f"{s['wrong_final_states']:>6}  {ratio}"
            )
    s2 = report["scenario2"]
    print(
        f"\nScenario 2: {s2['runs']} concurrent runs across {s2['jobs']} jobs, one watcher each (requests/min)"
    )
    print(f"  {'strategy':<8} {'steady':>8} {'episode':>8}")
    for name in ("sdk", "appkit", "hub"):
        print(
            f"  {name:<8} {s2[name]['steady']['per_minute']:>8.1f} {s2[name]['episode']['per_minute']:>8.1f}"
        )
    print(
        f"  hub / sdk = {s2['hub_vs_sdk_steady']:.3f} steady, {s2['hub_vs_sdk_episode']:.3f} episode; "
        f"hub / appkit = {s2['hub_vs_appkit_steady']:.3f} steady, {s2['hub_vs_appkit_episode']:.3f} episode"
    )
    if "scenario3" in report:
        s3 = report["scenario3"]
        busy, idle = s3["with_50_subscriptions"], s3["with_none"]
        print(f"\nScenario 3: {s3['seconds']:g} s real time, real-speed sandbox in another process")
        print(
            f"  50 subscriptions: {busy['cpu_seconds']:.2f} CPU s ({busy['cpu_percent_of_one_core']:.2f}% of a core), {busy['requests']} requests"
        )
        print(
            f"  none:             {idle['cpu_seconds']:.2f} CPU s ({idle['cpu_percent_of_one_core']:.2f}% of a core), {idle['requests']} requests"
        )


if __name__ == "__main__":
    raise SystemExit(main())
