"""``jobs-widgets demo`` (what ``./scripts/demo`` runs): what it prints, where it writes, how it stops."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest
from jobs_widgets.demo import _summary
from jobs_widgets.sandbox import Sandbox


# --------------------------------------------------------------------------- headless summary
def test_the_summary_says_how_each_repair_ended() -> None:
    with Sandbox(manual=True, seed=1) as sb:
        w = sb.client()
        # train fails for a learning rate above 1, and its repair (same parameters) fails again
        bad = w.jobs.run_now(sb.jobs["train"], python_named_params={"learning_rate": "5"}).response.run_id
        sb.engine.script("flaky", outcome="FAILED")  # a one-off failure: its repair succeeds
        flaky = w.jobs.run_now(sb.jobs["flaky"]).response.run_id
        sb.advance(3600)
        w.jobs.repair_run(bad, rerun_all_failed_tasks=True)
        w.jobs.repair_run(flaky, rerun_all_failed_tasks=True)
        assert re.search(r"repair 700\d re-ran sync: still running", _summary(sb))
        sb.advance(3600)
        summary = _summary(sb)
    lines = summary.splitlines()
    train = next(i for i, line in enumerate(lines) if f"run {bad}" in line)
    assert "FAILED" in lines[train] and "ConvergenceError" in lines[train]
    assert re.fullmatch(
        r"\s+repair 700\d re-ran train_model: ended FAILED \(train_model: ConvergenceError.*",
        lines[train + 1],
    )
    sync = next(i for i, line in enumerate(lines) if f"run {flaky}" in line)
    assert re.fullmatch(r"\s+repair 700\d re-ran sync: ended SUCCESS", lines[sync + 1])


# --------------------------------------------------------------------------- interactive
def _server_info(runtime: Path, proc: subprocess.Popen[bytes], deadline_s: float = 90.0) -> dict[str, Any]:
    """JupyterLab's ``jpserver-<pid>.json`` (url, token), once it is serving."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the demo exited early"
        for path in runtime.glob("jpserver-*.json"):
            info: dict[str, Any] = json.loads(path.read_text() or "{}")
            if info.get("url"):
                try:
                    urllib.request.urlopen(
                        f"{info['url']}api/status?token={info['token']}", timeout=5
                    ).close()
                    return info
                except OSError:
                    pass
        time.sleep(0.25)
    raise AssertionError("JupyterLab did not start")


def _api(info: dict[str, Any], path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{info['url']}{path}?token={info['token']}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return resp.read().decode()


def _wait_ready(connection_file: Path) -> None:
    """Until the kernel answers (stopped while starting, a kernel prints a KeyboardInterrupt)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=90)
    finally:
        client.stop_channels()


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_interactive_demo_stops_jupyterlab_and_its_kernels_and_writes_only_under_dot_demo(
    stop: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABRICKS_", "JOBS_WIDGETS_", "JUPYTER_", "IPYTHON"))
    }
    env["HOME"] = str(home)  # a user's home: the demo must leave it alone
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as out_fh, err.open("wb") as err_fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobs_widgets", "demo", "--no-browser"],
            cwd=tmp_path,
            env=env,
            stdout=out_fh,
            stderr=err_fh,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # like a terminal's own process group: a signal reaches only the demo
        )
    demo = psutil.Process(proc.pid)
    try:
        deadline = time.monotonic() + 60
        while not (lab := [p for p in demo.children() if "serve_lab" in " ".join(p.cmdline())]):
            assert time.monotonic() < deadline and proc.poll() is None, "JupyterLab did not start"
            time.sleep(0.1)
        runtime = Path(lab[0].environ()["JUPYTER_RUNTIME_DIR"])
        info = _server_info(runtime, proc)
        for _ in range(2):  # two notebooks open: two kernels
            _api(info, "api/kernels", {"name": "python3"})
        for kernel in json.loads(_api(info, "api/kernels")):
            _wait_ready(runtime / f"kernel-{kernel['id']}.json")
        kernels = [p for p in demo.children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
        assert len(kernels) == 2
        page = _api(info, "lab")
        config = json.loads(
            re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)[
                1
            ]  # type: ignore[index]
        )
        assert config["news"] == {"disabled": True}  # no "Jupyter news" pop-up
        assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]
        started = [demo, *demo.children(recursive=True)]
        assert len(started) >= 4  # the demo, JupyterLab, two kernels

        t0 = time.monotonic()
        os.kill(proc.pid, getattr(signal, stop))
        assert proc.wait(timeout=60) == 0
        _, alive = psutil.wait_procs(started, timeout=30)
        took = time.monotonic() - t0
        assert alive == [], [p.cmdline() for p in alive]
        print(f"{stop}: demo, JupyterLab and 2 kernels gone {took:.1f} s after the signal")
    finally:
        if proc.poll() is None:
            for p in demo.children(recursive=True):
                p.kill()
            proc.kill()
            proc.wait()
    stdout, stderr = out.read_text(), err.read_text()
    assert "Stopping JupyterLab and its kernels" in stdout
    assert "deprecated" not in stderr.lower(), stderr
    assert "Traceback" not in stderr, stderr
    assert "without encryption" not in stderr  # kernels talk over IPC sockets in .demo/, not TCP
    # Everything under ./.demo: notebooks, JupyterLab's settings and runtime, the kernels' IPython dir.
    assert (tmp_path / ".demo" / "01_quickstart.ipynb").exists()
    assert (tmp_path / ".demo" / ".ipython").is_dir()
    assert sorted(p.name for p in home.iterdir()) == []  # no ~/.jupyter, ~/.local/share/jupyter, ~/.ipython
    assert not runtime.exists()  # connection files and sockets: removed with the demo
