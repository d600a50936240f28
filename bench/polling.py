"""Polling strategies side by side: requests spent vs. how fast every kind of run end is noticed.

All strategies watch the SAME seeded runs in the SAME process, against the sandbox
through the real databricks-sdk, in virtual time (a ManualClock shared by the sandbox
and the watcher), so hours of runs take seconds and every number is reproducible. The
hub's prior knowledge is the sandbox's invented history, drawn under a different seed
from the measured runs (see ``polling_world.py``); it learns from every run it sees end.

Strategies
    sdk        databricks-sdk's own waiter ``wait_get_run_job_terminated_or_skipped`` (the
               real function; its module's ``time`` and ``random`` patched to the virtual
               clock and a seeded generator).
    appkit     the AppKit jobs plugin's schedule: first poll at once, then 5 s x1.5 up to
               30 s with +-20% jitter (reference section 4.3).
    fixed10    a plain loop: one ``runs/get`` every 10 s.
    hub_fg     jobs_widgets' hub (``JobHandle.watch``), mode foreground (a visible panel,
               a blocking wait); ``hub_fg_runlevel``: the same without task awareness
               (multi-task workload only).
    hub_bg     the hub in mode background (hidden panels, detached watches).

Scenario 1: runs watched one at a time, on several workloads (``polling_world.py``).
Scenario 2: 50 concurrent runs across 5 jobs (``polling_many.py``): requests and
detection latency. Scenario 3: the hub's CPU with 50 subscriptions and with none.

Reproduce: ``python bench/polling.py`` (``--seed``, ``--runs``, ``--json PATH``;
``--median/--sigma/--fail/--cancel`` replace the workloads by one per ``--sigma``;
``--mode foreground|background`` measures one hub mode; ``--workloads a,b`` a subset;
``--quick`` for a smaller run; ``--skip-cpu`` to skip the real-time scenario 3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import sys
import time
import types
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from databricks.sdk.service import jobs as sdk_jobs
from jobs_widgets.core import Jobs, PollPolicy, Run
from jobs_widgets.core.hub import Hub
from jobs_widgets.core.virtual import VirtualTime
from jobs_widgets.sandbox import JobSpec

from polling_many import scenario2, scenario3
from polling_world import (
    DEFAULT_WORKLOADS,
    HISTORY_SEED_OFFSET,
    PlannedRun,
    StrategyResult,
    Workload,
    make_workload,
    observe,
    poll_requests,
    start_run,
    workload_job,
    world,
)

TERMINAL_LIFE_CYCLE = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}


def strategy_sdk(workload: list[PlannedRun], spec: JobSpec, seed: int) -> StrategyResult:
    sb, clock = world([spec], seed)
    result = StrategyResult("sdk", planned=len(workload))
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


def fixed_delays(seconds: float) -> Any:
    while True:
        yield seconds


def strategy_loop(name: str, workload: list[PlannedRun], spec: JobSpec, seed: int) -> StrategyResult:
    """A plain ``runs/get`` loop: AppKit's schedule, or every 10 s."""
    sb, clock = world([spec], seed)
    result = StrategyResult(name, planned=len(workload))
    w = sb.client()
    rng = random.Random(f"{name}/{seed}")
    try:
        for plan in workload:
            run_id = start_run(sb, w, spec.key or "", plan)
            before = poll_requests(sb)
            delays = appkit_delays(rng) if name == "appkit" else fixed_delays(10.0)
            while True:
                run = w.jobs.get_run(run_id)
                if run.state.life_cycle_state.value in TERMINAL_LIFE_CYCLE:
                    break
                clock.advance(next(delays))
            seen = Run.from_api(run.as_dict()).state
            result.observations.append(observe(sb, run_id, plan, clock.time(), seen, before))
    finally:
        sb.stop()
    return result


def strategy_hub(
    name: str, workload: list[PlannedRun], spec: JobSpec, seed: int, policy: PollPolicy
) -> StrategyResult:
    sb, clock = world([spec], seed)
    result = StrategyResult(name, planned=len(workload))
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


def hub_policies(mode: str | None) -> dict[str, PollPolicy]:
    names = {"foreground": "hub_fg", "background": "hub_bg"}
    return {names[m]: PollPolicy(mode=m) for m in ([mode] if mode else list(names))}


def run_workload(wl: Workload, runs: int, seed: int, mode: str | None) -> dict[str, Any]:
    count = max(10, round(runs * wl.runs_share))
    plans = make_workload(seed, count, wl.median, wl.sigma, wl.fail, wl.cancel)
    spec = workload_job(wl)
    results = [
        strategy_sdk(plans, spec, seed),
        strategy_loop("appkit", plans, spec, seed),
        strategy_loop("fixed10", plans, spec, seed),
    ]
    for name, policy in hub_policies(mode).items():
        results.append(strategy_hub(name, plans, spec, seed, policy))
        if wl.tasks > 1:
            runlevel = PollPolicy(mode=policy.mode, task_aware=False)
            results.append(strategy_hub(f"{name}_runlevel", plans, spec, seed, runlevel))
    cap = PollPolicy().cap
    out: dict[str, Any] = {"workload": wl.describe(), "runs": count}
    for r in results:
        out[r.name] = r.summary(cap)
        if wl.history_median is not None:
            out[r.name]["first10"] = r.summary(cap, first=10)
    return out


def frontier(seed: int, runs: int) -> dict[str, Any]:
    """Requests vs latency where the modes' bounds do not decide it.

    ``multitask``: the hub with the foreground rule but wide bounds (1-30 s), task-aware
    and run-level, at several scales: the two curves of all-ends mean vs requests.
    ``many``: scenario 2 at several per-process budgets (requests vs detection p95).
    """
    wl = next(w for w in DEFAULT_WORKLOADS if w.name == "multitask")
    plans = make_workload(seed, runs, wl.median, wl.sigma, wl.fail, wl.cancel)
    spec = workload_job(wl)
    curves: dict[str, list[dict[str, float]]] = {"task_aware": [], "run_level": []}
    for scale in (0.15, 0.3, 0.6, 1.2):
        for name, aware in (("task_aware", True), ("run_level", False)):
            policy = PollPolicy(
                mode="foreground",
                min_interval=1.0,
                foreground_max=30.0,
                foreground_scale=scale,
                task_aware=aware,
            )
            r = strategy_hub(name, plans, spec, seed, policy).summary(policy.cap)
            point = {"scale": scale, "requests_per_run_hour": r["requests_per_run_hour"]}
            curves[name].append({**point, "all_ends_mean": r["all_ends"]["mean"], "max": r["max_latency"]})
    many = {}
    for budget in (10.0, 20.0, 30.0):
        s2 = scenario2(
            seed, 480.0, 0.25, 0.0, policy=PollPolicy(budget_per_minute=budget), strategies=("hub",)
        )
        many[f"budget={budget:g}"] = {"requests": s2["hub"]["requests"], "detection": s2["hub"]["detection"]}
    return {"multitask": curves, "many": many}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--median", type=float, help="median run time, seconds (one custom workload)")
    parser.add_argument("--sigma", type=float, nargs="*", help="custom workloads: one per value")
    parser.add_argument("--fail", type=float, help="custom workloads: share of failing runs")
    parser.add_argument("--cancel", type=float, help="custom workloads: share of cancelled runs")
    parser.add_argument("--mode", choices=["foreground", "background"], help="measure one hub mode")
    parser.add_argument(
        "--workloads", help="comma-separated subset of: " + ",".join(w.name for w in DEFAULT_WORKLOADS)
    )
    parser.add_argument("--cpu-seconds", type=float, default=60.0)
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--skip-many", action="store_true", help="skip scenario 2")
    parser.add_argument("--frontier", action="store_true", help="also measure requests-vs-latency curves")
    parser.add_argument(
        "--quick", action="store_true", help="at most 60 runs of three workloads, 15 s of CPU measurement"
    )
    parser.add_argument("--json", default="bench/results/polling.json")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.cpu_seconds = min(args.runs, 60), 15.0
    workloads = list(DEFAULT_WORKLOADS)
    if any(v is not None for v in (args.median, args.sigma, args.fail, args.cancel)):
        median, fail, cancel = args.median or 480.0, args.fail or 0.10, args.cancel or 0.05
        sigmas = args.sigma or [0.25]
        workloads = [Workload(f"sigma={s:g}", median, s, fail, cancel) for s in sigmas]
    elif args.workloads or args.quick:
        wanted = set((args.workloads or "predictable,erratic,mismatch").split(","))
        workloads = [w for w in workloads if w.name in wanted]
    policy = PollPolicy()
    started = time.perf_counter()
    report: dict[str, Any] = {
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "machine": platform.platform(),
        "seed": args.seed,
        "history_seed": args.seed + HISTORY_SEED_OFFSET,
        "policy": asdict(policy),
        "scenario1": {},
    }
    for wl in workloads:
        report["scenario1"][wl.name] = run_workload(wl, args.runs, args.seed, args.mode)
        print_workload(wl.name, report["scenario1"][wl.name])
    if not args.skip_many:
        report["scenario2"] = scenario2(args.seed, 480.0, 0.25, 0.0)
        print_many(report["scenario2"])
        report["scenario2_failing"] = scenario2(args.seed, 480.0, 0.25, 0.10)
        print_many(report["scenario2_failing"])
    if args.frontier:
        report["frontier"] = frontier(args.seed, args.runs)
        print(json.dumps(report["frontier"], indent=1))
    if not args.skip_cpu:
        report["scenario3"] = scenario3(args.cpu_seconds, policy)
        print_cpu(report["scenario3"])
    report["wall_seconds"] = time.perf_counter() - started
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out} ({report['wall_seconds']:.0f} s)")
    return 0


def print_workload(name: str, results: dict[str, Any]) -> None:
    sdk = results["sdk"]
    print(f"\n{name}: {results['workload']}; {results['runs']} runs")
    print(
        f"  {'strategy':<16} {'req/run-h':>9} {'ok p50':>7} {'ok p95':>7} {'bad p50':>8} {'bad p95':>8}"
        f" {'mean':>6} {'all p95':>7} {'max':>6} {'wrong':>5} {'miss':>4}  x sdk: req ok95 bad95 mean all95"
    )
    for strategy, s in results.items():
        if not isinstance(s, dict):
            continue
        ok, bad, every = s["succeeded"], s["failed_or_cancelled"], s["all_ends"]
        ratios = " ".join(
            f"{a / b:.2f}" if b else "-"
            for a, b in (
                (s["requests_per_run_hour"], sdk["requests_per_run_hour"]),
                (ok["p95"], sdk["succeeded"]["p95"]),
                (bad["p95"], sdk["failed_or_cancelled"]["p95"]),
                (every["mean"], sdk["all_ends"]["mean"]),
                (every["p95"], sdk["all_ends"]["p95"]),
            )
        )
        print(
            f"  {strategy:<16} {s['requests_per_run_hour']:>9.0f} {ok['p50']:>7.1f} {ok['p95']:>7.1f}"
            f" {bad['p50']:>8.1f} {bad['p95']:>8.1f} {every['mean']:>6.1f} {every['p95']:>7.1f}"
            f" {s['max_latency']:>6.1f} {s['wrong_final_states']:>5} {s['missed']:>4}  {ratios}"
        )


def print_many(s2: dict[str, Any]) -> None:
    print(
        f"\nScenario 2: {s2['runs']} concurrent runs across {s2['jobs']} jobs ({s2['fail']:.0%} failing), one watcher each"
    )
    print(f"  {'strategy':<8} {'requests':>8} {'req/min':>8} {'det p50':>8} {'det p95':>8} {'max':>6}")
    for name in ("sdk", "appkit", "hub"):
        r = s2[name]
        print(
            f"  {name:<8} {r['requests']:>8} {r['per_minute']:>8.1f} {r['detection']['p50']:>8.1f}"
            f" {r['detection']['p95']:>8.1f} {r['detection']['max']:>6.1f}"
        )
    print(f"  hub / sdk: requests {s2['hub_vs_sdk_requests']:.3f}, detection p95 {s2['hub_vs_sdk_p95']:.2f}")


def print_cpu(s3: dict[str, Any]) -> None:
    busy, idle = s3["with_50_subscriptions"], s3["with_none"]
    print(f"\nScenario 3: {s3['seconds']:g} s real time, real-speed sandbox in another process")
    for label, m in (("50 subscriptions", busy), ("none", idle)):
        print(
            f"  {label:<17} {m['cpu_seconds']:.2f} CPU s ({m['cpu_percent_of_one_core']:.2f}% of a core), {m['requests']} requests"
        )


if __name__ == "__main__":
    raise SystemExit(main())
