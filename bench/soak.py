"""Fault soak: many runs, faults on every endpoint, watched by iterators and panels together.

Runs are started through ``JobHandle.run_now`` (each with its own idempotency token, as
a user retrying a failed click would reuse) against the sandbox in virtual time, while
every endpoint misbehaves: 10% 5xx (500/502/503/504), 5% 429 with ``Retry-After``, 2%
dropped connections after the work was done, 1% answers slower than the client's
timeout; with ``--network`` also 0.3% answers that hang and 0.3% that drip. Half the runs are
followed by ``watch`` iterators, half by ``JobPanel``s. The client is the product's: one
attempt per request, every retry the hub's (or ``run_now``'s, with the same token).

Reported: runs started vs. runs the sandbox recorded (duplicates must be 0), final
states reported vs. the sandbox's truth (mismatches 0), unhandled exceptions (0),
degraded periods detected and recovered, and threads / asyncio tasks alive after
shutdown beyond the baseline (0).

Reproduce: ``python bench/soak.py`` (500 runs; ``--runs N``, ``--seed S``, ``--json PATH``).
The test suite runs a bounded size (``tests/soak``).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jobs_widgets.core import Jobs, JobsApiError, ManualClock, Run, RunState
from jobs_widgets.core.hub import Hub
from jobs_widgets.core.sdk import make_client
from jobs_widgets.core.virtual import VirtualTime
from jobs_widgets.sandbox import Sandbox

FAULTS = [
    "*:500:0.04",
    "*:502:0.0209",
    "*:503:0.0313",
    "*:504:0.0107",
    "*:429:0.0562:3",
    "*:drop:0.0237",
    "*:latency:0.0122:0.8",
]  # conditional probabilities: about 10% 5xx, 5% 429, 2% drops, 1% slow of all requests
NETWORK_FAULTS = ["*:hang:0.003", "*:drip:0.003:0.05"]  # --network: calls stuck in a socket or dripping
HTTP_TIMEOUT = 0.5  # seconds; the "slow" fault answers after 0.8 s
READ_DEADLINE = 1.5  # total seconds per GET (the product's default is 10 s; shorter keeps the soak short)
WRITE_DEADLINE = 2.5
KEYS = ("etl", "train", "report", "nightly", "flaky", "jar", "dbt")


class _ErrorLog(logging.Handler):
    """Counts errors jobs_widgets logged (a listener or background failure)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def soak(
    runs: int = 500, seed: int = 0, concurrency: int = 24, deadline_s: float = 900.0, network: bool = False
) -> dict[str, Any]:
    from jobs_widgets.widget import JobPanel

    errors = _ErrorLog()
    logging.getLogger("jobs_widgets").addHandler(errors)
    thread_errors: list[str] = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: thread_errors.append(f"{args.exc_type.__name__}: {args.exc_value}")
    gc.collect()
    baseline = {t.ident for t in threading.enumerate()}
    clock = ManualClock()
    started_at = time.perf_counter()
    outcome: dict[str, Any] = {"runs": runs, "seed": seed}
    try:
        faults = FAULTS + (NETWORK_FAULTS if network else [])
        outcome["faults"] = faults
        with Sandbox(clock=clock, seed=seed, faults=faults) as sb:
            # The product's client: one attempt per request (every retry is ours), each
            # request ending by a total deadline (hung and dripping answers included).
            client = make_client(
                sb.host,
                sb.token,
                http_timeout_seconds=HTTP_TIMEOUT,
                read_deadline=READ_DEADLINE,
                write_deadline=WRITE_DEADLINE,
            )
            hub = Hub(clock=clock, rng=random.Random(seed))
            jobs = Jobs.from_env(config=sb.config(), client=client, env=sb.env(), hub=hub, clock=clock)
            reported: dict[int, RunState] = {}
            started: dict[int, int] = {}
            worker_errors: list[str] = []
            start_failures = 0
            lock = threading.Lock()

            def one(index: int) -> None:
                nonlocal start_failures
                key = KEYS[index % len(KEYS)]
                handle = jobs(key)
                token = f"soak-{seed}-{index}"
                run_id = None
                for _ in range(10):  # the user clicks Run again: same token, never a second run
                    try:
                        run_id = handle.run_now(idempotency_token=token)
                        break
                    except JobsApiError as exc:
                        if not exc.transient:
                            raise
                        with lock:
                            start_failures += 1
                if run_id is None:
                    raise RuntimeError(f"run {index} could not be started")
                with lock:
                    started[index] = run_id
                if index % 2 == 0:
                    final = list(handle.watch(run_id))[-1].state
                else:
                    panel = JobPanel(handle, run_id=run_id)
                    deadline = time.monotonic() + deadline_s
                    while time.monotonic() < deadline:
                        shown: dict[str, Any] = dict(panel.run or {})
                        if shown.get("run_id") == run_id and shown.get("is_terminal"):
                            break
                        time.sleep(0.01)
                    shown = dict(panel.run or {})
                    panel.close()
                    final = RunState(shown.get("state", "UNKNOWN"))
                with lock:
                    reported[run_id] = final

            def guarded(index: int) -> None:
                try:
                    one(index)
                except Exception as exc:
                    with lock:
                        worker_errors.append(f"run {index}: {type(exc).__name__}: {exc}")

            with VirtualTime(clock, hub), ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(guarded, range(runs)))
            hub_stats = hub.stats
            hub.shutdown()
            truth = {run_id: Run.from_api(sb.engine.api_get_run(run_id)).state for run_id in started.values()}
            recorded = [r for key in KEYS for r in sb.engine.runs_of(key) if r.trigger == "ONE_TIME"]
            by_token = Counter(r.token for r in recorded)
            requests = sb.requests
            injected = Counter(r.fault for r in requests if r.fault)
            outcome.update(
                {
                    "runs_started": len(started),
                    "runs_recorded_by_sandbox": len(recorded),
                    "duplicate_runs": sum(n - 1 for n in by_token.values() if n > 1)
                    + (len(recorded) - len(by_token)),
                    "final_states_reported": len(reported),
                    "final_state_mismatches": sum(
                        1 for rid, state in reported.items() if truth.get(rid) != state
                    ),
                    "mismatch_examples": [
                        (rid, state.value, truth[rid].value)
                        for rid, state in reported.items()
                        if truth.get(rid) != state
                    ][:5],
                    "outcomes": dict(Counter(state.value for state in truth.values())),
                    "run_now_transient_failures_retried": start_failures,
                    "run_now_requests": sum(1 for r in requests if r.endpoint == "run-now"),
                    # the sandbox started the run but the answer never arrived: only the
                    # idempotency token keeps the retry from starting a second run
                    "run_now_answers_lost": sum(
                        1 for r in requests if r.endpoint == "run-now" and r.fault in {"drop", "latency"}
                    ),
                    "unhandled_exceptions": len(worker_errors) + len(thread_errors) + len(errors.records),
                    "unhandled_examples": (worker_errors + thread_errors + errors.records)[:5],
                    "degraded_periods": hub_stats.degraded_periods,
                    "recoveries": hub_stats.recoveries,
                    "requests": len(requests),
                    "faults_injected": dict(injected),
                    "fault_share": {k: round(v / len(requests), 4) for k, v in injected.items()},
                    "virtual_hours": clock.monotonic() / 3600,
                }
            )
        gc.collect()
        time.sleep(0.3)
        leftover = [t.name for t in threading.enumerate() if t.ident not in baseline and t.is_alive()]
        outcome["threads_left_after_shutdown"] = len(leftover)
        outcome["thread_names_left"] = leftover
        loop = hub.runtime._loop
        outcome["asyncio_tasks_left"] = 0 if (loop is None or loop.is_closed()) else len(hub.runtime._tasks)
    finally:
        threading.excepthook = previous_hook
        logging.getLogger("jobs_widgets").removeHandler(errors)
    outcome["wall_seconds"] = time.perf_counter() - started_at
    return outcome


def print_report(result: dict[str, Any]) -> None:
    rows = [
        ("runs started (run_now)", result["runs_started"]),
        ("runs recorded by the sandbox", result["runs_recorded_by_sandbox"]),
        ("duplicate runs", result["duplicate_runs"]),
        ("final states reported", result["final_states_reported"]),
        ("final-state mismatches with the sandbox", result["final_state_mismatches"]),
        ("unhandled exceptions", result["unhandled_exceptions"]),
        ("degraded periods detected", result["degraded_periods"]),
        ("... recovered", result["recoveries"]),
        ("threads alive after shutdown (beyond baseline)", result["threads_left_after_shutdown"]),
        ("asyncio tasks alive after shutdown", result["asyncio_tasks_left"]),
        ("run-now requests sent (SDK retries included)", result["run_now_requests"]),
        ("... run started but the answer was lost (drop/timeout)", result["run_now_answers_lost"]),
        (
            "run_now transient failures, retried with the same token",
            result["run_now_transient_failures_retried"],
        ),
        ("API requests served", result["requests"]),
    ]
    print(
        f"Fault soak: {result['runs']} runs, seed {result['seed']}, {result['virtual_hours']:.1f} virtual hours, {result['wall_seconds']:.0f} s wall"
    )
    for label, value in rows:
        print(f"  {label:<58} {value}")
    print(f"  faults injected (share of requests): {result['fault_share']}")
    print(f"  outcomes: {result['outcomes']}")
    for key in ("mismatch_examples", "unhandled_examples", "thread_names_left"):
        if result.get(key):
            print(f"  {key}: {result[key]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--json", default="bench/results/soak.json")
    parser.add_argument(
        "--network", action="store_true", help="also hang and drip 0.3%% of answers each (stuck sockets)"
    )
    args = parser.parse_args()
    started = time.monotonic()
    result = soak(args.runs, args.seed, args.concurrency, network=args.network)
    result["wall_s"] = round(time.monotonic() - started, 1)
    print_report(result)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"written to {out}")
    bad = result["duplicate_runs"] or result["final_state_mismatches"] or result["unhandled_exceptions"]
    return 1 if bad or result["threads_left_after_shutdown"] or result["runs_started"] != args.runs else 0


if __name__ == "__main__":
    raise SystemExit(main())
