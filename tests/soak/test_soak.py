"""The fault soak (bench/soak.py) in a bounded size: no duplicates, no lies, no crashes, no leaks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.soak

SPEC = importlib.util.spec_from_file_location(
    "soak", Path(__file__).resolve().parents[2] / "bench" / "soak.py"
)
assert SPEC is not None and SPEC.loader is not None
soak_module = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(soak_module)


def test_bounded_fault_soak() -> None:
    result = soak_module.soak(runs=100, seed=11, concurrency=16)
    assert result["runs_started"] == 100
    assert result["runs_recorded_by_sandbox"] == 100
    assert result["duplicate_runs"] == 0
    assert result["run_now_requests"] > 100  # some POSTs were retried...
    assert result["run_now_answers_lost"] > 0  # ...after the sandbox had already started the run
    assert result["final_states_reported"] == 100
    assert result["final_state_mismatches"] == 0, result["mismatch_examples"]
    assert result["unhandled_exceptions"] == 0, result["unhandled_examples"]
    assert result["degraded_periods"] > 0 and result["recoveries"] > 0
    assert result["threads_left_after_shutdown"] == 0, result["thread_names_left"]
    assert result["asyncio_tasks_left"] == 0
    faults = result["faults_injected"]
    assert {"500", "429", "drop", "latency"} <= set(faults)
