"""The polling bench's own invariants, read from its JSON (a small, fast run), not from prose.

Whatever the numbers, every strategy sees every run end with the right final state;
the hub in foreground sees every end within ``foreground_max``, in background within
``cap``; the JSON has the layout the README and issue 12 name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jobs_widgets.core import PollPolicy

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = ("sdk", "appkit", "fixed10", "hub_fg", "hub_bg")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "polling.json"
    args = ["--runs", "12", "--skip-cpu", "--workloads", "predictable,mismatch,multitask", "--seed", "4"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "polling.py"), *args, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    data: dict[str, Any] = json.loads(out.read_text())
    return data


@pytest.mark.timeout(120)
def test_every_end_is_seen_right_and_within_the_stated_bound(report: dict[str, Any]) -> None:
    policy = PollPolicy()
    slack = 1 + policy.jitter
    assert report["seed"] == 4 and report["history_seed"] != report["seed"]
    assert set(report["scenario1"]) == {"predictable", "mismatch", "multitask"}
    for name, workload in report["scenario1"].items():
        for strategy in STRATEGIES:
            s = workload[strategy]
            assert s["missed"] == 0 and s["runs"] == workload["runs"], (name, strategy)
            assert s["wrong_final_states"] == 0, (name, strategy)
            assert s["requests_per_run_hour"] > 0
            for kind in ("succeeded", "failed_or_cancelled"):
                assert set(s[kind]) >= {"p50", "p95", "max"}
                assert 0 <= s[kind]["p50"] <= s[kind]["p95"] <= s[kind]["max"] <= s["max_latency"] + 1e-9
            assert 0 <= s["all_ends"]["mean"] <= s["max_latency"] and s["all_ends"]["p95"] <= s["max_latency"]
        assert workload["hub_bg"]["within_cap"] and workload["hub_bg"]["max_latency"] <= policy.cap + 1e-6
        assert workload["hub_fg"]["max_latency"] <= policy.foreground_max * slack + 1e-6, name
        # Foreground spends requests to be fast; background saves them.
        assert workload["hub_bg"]["requests_per_run_hour"] < workload["hub_fg"]["requests_per_run_hour"]
    assert "first10" in report["scenario1"]["mismatch"]["hub_fg"]
    assert "hub_fg_runlevel" in report["scenario1"]["multitask"]


@pytest.mark.timeout(120)
def test_many_runs_are_all_seen_for_fewer_requests(report: dict[str, Any]) -> None:
    for s2 in (report["scenario2"], report["scenario2_failing"]):
        for name in ("sdk", "appkit", "hub"):
            assert s2[name]["seen"] == s2["runs"] == s2[name]["detection"]["n"]
            assert s2[name]["detection"]["max"] <= PollPolicy().cap + 1e-6
        assert s2["hub"]["requests"] < 0.2 * s2["sdk"]["requests"]
