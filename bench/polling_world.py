"""The bench's world: workloads, the sandbox jobs that carry an independent history, and summaries.

Kept apart from the strategies (``polling.py``) and the many-runs scenarios
(``polling_many.py``) so each reads on its own.

*History is not the workload.* The runs the hub learns from before it watches anything
are the sandbox's invented past runs, drawn from the job's ``Behaviour`` under the
sandbox seed (``seed + HISTORY_SEED_OFFSET``); the measured runs are drawn from
``random.Random(f"workload/{seed}")``. The *mismatch* workload's history has half the
measured median (the job got twice as slower since). The invented history holds
successes and failures (no cancellations); the hub adds every run it sees end.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass, field
from typing import Any

from jobs_widgets.core import ManualClock, Run, RunState
from jobs_widgets.sandbox import Behaviour, JobSpec, Sandbox, TaskSpec

POLL_ENDPOINTS = ("runs/get", "runs/list")
HISTORY_SEED_OFFSET = 7919
HISTORY_RUNS = 30


@dataclass(frozen=True)
class Workload:
    """A scenario-1 workload: run times lognormal(median, sigma); fail/cancel shares."""

    name: str
    median: float
    sigma: float
    fail: float
    cancel: float
    history_median: float | None = None  # None: the history follows the same distribution
    tasks: int = 1  # >1: a chain of equal tasks (the run's time split evenly)
    runs_share: float = 1.0  # long workloads watch fewer runs (the run count is scaled)

    def describe(self) -> str:
        text = f"median {_span(self.median)}, sigma {self.sigma:g}, {self.fail:.0%} fail, {self.cancel:.0%} cancelled"
        if self.history_median is not None:
            text += f"; history median {_span(self.history_median)} (the job got {self.median / self.history_median:g}x slower)"
        if self.tasks > 1:
            text += f"; a chain of {self.tasks} tasks"
        return text


DEFAULT_WORKLOADS = (
    Workload("predictable", 480, 0.25, 0.10, 0.05),
    Workload("erratic", 480, 0.6, 0.10, 0.05),
    Workload("short", 60, 0.15, 0.05, 0.05),
    Workload("shaky", 900, 0.8, 0.25, 0.05),
    Workload("long", 2 * 3600, 0.4, 0.20, 0.05, runs_share=0.2),
    Workload("mismatch", 960, 0.25, 0.10, 0.05, history_median=480),
    Workload("multitask", 600, 0.3, 0.10, 0.05, tasks=3),
)


def _span(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


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


def bench_job(key: str, median: float, sigma: float, fail: float, tasks: int = 1) -> JobSpec:
    """A job whose invented history (``HISTORY_RUNS`` past runs) follows ``median``/``sigma``."""
    chain = [
        TaskSpec(
            f"t{i}",
            "python_wheel",
            {"package_name": "bench", "entry_point": "main"},
            depends_on=[f"t{i - 1}"] if i else [],
        )
        for i in range(tasks)
    ]
    return JobSpec(
        key=key,
        name=f"bench-{key}",
        tasks=chain,
        max_concurrent_runs=1000,
        history_runs=HISTORY_RUNS,
        behaviour=Behaviour(
            median_s=median, sigma=sigma, fail_rate=fail, queue_s=(0, 0), setup_s=(0, 0), cleanup_s=(0, 0)
        ),
    )


def workload_job(w: Workload) -> JobSpec:
    return bench_job("bench", w.history_median or w.median, w.sigma, w.fail, w.tasks)


def world(jobs: list[JobSpec], seed: int) -> tuple[Sandbox, ManualClock]:
    """A sandbox on a manual clock whose invented history is drawn under its own seed."""
    clock = ManualClock()
    sb = Sandbox(clock=clock, seed=seed + HISTORY_SEED_OFFSET, jobs=jobs).start()
    return sb, clock


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


def poll_requests(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if r.endpoint in POLL_ENDPOINTS)


@dataclass
class Observation:
    outcome: str
    duration: float
    latency: float
    requests: int
    wrong: bool


def observe(
    sb: Sandbox, run_id: int, plan: PlannedRun, detected_at: float, seen: RunState, before: int
) -> Observation:
    """One watched run: how long it ran, how late its end was noticed, what it cost."""
    run = Run.from_api(sb.engine.api_get_run(run_id))
    record = sb.engine.run(run_id)
    assert record.end is not None, f"run {run_id} has not ended"
    duration = record.end - record.created
    return Observation(
        plan.outcome, duration, detected_at - record.end, poll_requests(sb) - before, seen != run.state
    )


@dataclass
class StrategyResult:
    name: str
    observations: list[Observation] = field(default_factory=list)
    overhead_requests: int = 0  # e.g. the hub's one-time history fetch
    planned: int = 0

    def summary(self, cap: float, first: int | None = None) -> dict[str, Any]:
        obs = self.observations[:first] if first else self.observations
        requests = sum(o.requests for o in obs) + self.overhead_requests
        hours = sum(o.duration for o in obs) / 3600
        ok = sorted(o.latency for o in obs if o.outcome == "SUCCESS")
        bad = sorted(o.latency for o in obs if o.outcome != "SUCCESS")
        every = sorted(o.latency for o in obs)
        return {
            "runs": len(obs),
            "missed": (min(first, self.planned) if first else self.planned) - len(obs),
            "requests": requests,
            "requests_per_run": requests / len(obs),
            "requests_per_run_hour": requests / hours,
            "succeeded": latency(ok),
            "failed_or_cancelled": latency(bad),
            "all_ends": {"mean": statistics.fmean(every), **latency(every)},
            "max_latency": every[-1],
            "within_cap": all(o.latency <= cap + 1e-6 for o in obs),
            "wrong_final_states": sum(o.wrong for o in obs),
        }


def latency(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)],
        "max": values[-1],
    }
