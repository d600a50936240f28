"""The demo: the embedded sandbox, driven end to end.

* ``jobs-widgets demo``: starts the sandbox and opens JupyterLab on
  ``01_quickstart.ipynb`` with the kernel pointed at it (``%jobs sandbox start``
  in the notebook attaches to it; kernel restarts keep it).
* ``jobs-widgets demo --headless``: executes the quickstart notebook in a kernel
  against a sped-up sandbox and prints a summary of every run it drove.
* ``jobs-widgets demo --scripted``: the same kind of story told with plain
  databricks-sdk calls, no notebook.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jobs_widgets.sandbox import Sandbox

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from jobs_widgets.sandbox import RunRecord

_Print = Callable[[str], None]
DEMO_SEED = 1  # a seed whose etl runs and a second train run succeed: the tour tells one story
QUICKSTART = "01_quickstart.ipynb"


def notebooks_dir() -> Path:
    """The notebooks: the checkout's ``notebooks/`` if there is one, else the packaged copy."""
    checkout = Path(__file__).resolve().parent.parent / "notebooks"
    if (checkout / QUICKSTART).exists():
        return checkout
    return Path(__file__).resolve().parent / "_notebooks"


def stage_quickstart(sb: Sandbox) -> None:
    """Give the quickstart's "Cancel a run" section a run that is still going when cancelled.

    The report job is quick (15 simulated s: under a second of wall time at 20x), so
    without this whether the cancel cell finds it running depends on how fast the
    machine executes the cells in between. Only the next report run is long.
    """
    sb.engine.script("report", duration_s=600)


# ------------------------------------------------------------------------- headless
def run_headless(speed: float = 20.0, out: _Print = print) -> int:
    """Execute the quickstart in a real kernel against a sandbox; print what each run did."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    # nbformat leaves read/write unannotated; these are the signatures used here.
    read = cast("Callable[[Path, int], NotebookNode]", nbformat.read)
    write = cast("Callable[[NotebookNode, Path], None]", nbformat.write)
    source = notebooks_dir() / QUICKSTART
    nb = read(source, 4)
    workdir = Path(tempfile.mkdtemp(prefix="jobs-widgets-demo-"))
    with Sandbox(speed=speed, seed=DEMO_SEED) as sb:
        stage_quickstart(sb)
        out(f"Sandbox workspace at {sb.host} ({speed:g}x real time). Executing {source.name} ...")
        env = {**os.environ, **sb.attach_env()}
        started = time.perf_counter()
        # IPC sockets in the private work dir: nothing listens on TCP, and ipykernel has
        # nothing to warn about (it warns on every unencrypted TCP kernel).
        kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(workdir / "kernel"))
        client = NotebookClient(
            nb, km=kernel, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
        )
        try:
            client.execute(env=env)
        except CellExecutionError as exc:
            out(f"A cell failed:\n{exc}")
            return 1
        finally:
            if kernel.has_kernel:  # we own the kernel manager, so nbclient leaves it running
                kernel.shutdown_kernel(now=False)
            executed = workdir / source.name
            write(nb, executed)
        took = time.perf_counter() - started
        _settle(sb, deadline_s=30.0)  # let runs the notebook left going (a repair) finish
        cells = [c for c in nb.cells if c.cell_type == "code"]
        out(f"Executed {len(cells)} code cells in {took:.1f} s; the executed notebook: {executed}\n")
        out(_summary(sb))
    return 0


def _settle(sb: Sandbox, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        active = [
            r
            for key in sb.jobs
            for r in sb.engine.runs_of(key)
            if r.trigger == "ONE_TIME" and not r.is_terminal
        ]
        if not active:
            return
        time.sleep(0.2)


def _summary(sb: Sandbox) -> str:
    from jobs_widgets._render import duration

    rows = []
    for key in sb.jobs:
        for run in sb.engine.runs_of(key):
            if run.trigger != "ONE_TIME":
                continue  # invented history
            outcome = run.result or run.life
            took = duration((run.end - run.created) if run.end else None) or "(running)"
            params = dict(
                run.overriding.get("notebook_params")
                or run.overriding.get("python_named_params")
                or run.overriding.get("sql_params")
                or {}
            )
            params.update(
                {p["name"]: p["value"] for p in run.job_parameters if p.get("value") != p.get("default")}
            )
            shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "-"
            note = ""
            failed = [t for t in run.attempts if t.result == "FAILED"]
            if failed:
                note = f"  <- {failed[0].spec.task_key}: {failed[0].output.get('error', '')}"
            line = f"  {key:<8} run {run.run_id:<6} {outcome:<11} {took:>8}  params: {shown}{note}"
            rows.append((run.created, "\n".join([line, *_repair_lines(run)])))
    lines = ["Runs this demo drove:"] + [line for _, line in sorted(rows)]
    if not rows:
        lines.append("  (none)")
    return "\n".join(lines)


def _repair_lines(run: RunRecord) -> list[str]:
    """One line per repair of ``run``: which tasks it re-ran and how it ended."""
    attempts = {t.run_id: t for t in run.attempts}
    lines = []
    for index, repair in enumerate(run.repairs):
        tasks = [attempts[i] for i in repair.get("task_run_ids", []) if i in attempts]
        failed = next((t for t in tasks if t.result == "FAILED"), None)
        if index == len(run.repairs) - 1 and run.is_terminal:
            ended = f"ended {run.result or run.life}"  # the last repair's end is the run's
        elif any(t.result is None for t in tasks):
            ended = "still running"
        else:
            ended = "ended FAILED" if failed is not None else "ended SUCCESS"
        if failed is not None and ended.startswith("ended"):
            ended += f" ({failed.spec.task_key}: {failed.output.get('error', '')})"
        rerun = ", ".join(t.spec.task_key for t in tasks) or "no task"
        lines.append(f"{'':11}repair {repair.get('id')} re-ran {rerun}: {ended}")
    return lines


# ------------------------------------------------------------------------- interactive
DEMO_DIR = ".demo"
#: The news/update pop-up plugin; off in the demo (its server side is off too, see ``lab_command``).
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"
#: notebook_shim lists every ServerApp trait at start-up, which reads the deprecated
#: ``ServerApp.token`` (the demo sets no token option): noise, not advice for the user.
_DEPRECATION_NOISE = "ServerApp.token config is deprecated"
_LAB_LAUNCHER = "from jobs_widgets.demo import serve_lab; serve_lab()"


#: A Unix socket path must fit in 108 bytes: ``<runtime>/kernel-<uuid>-ipc-<n>`` has to.
_IPC_PATH_ROOM = 100 - len("/kernel-00000000-0000-0000-0000-000000000000-ipc-00000")


def jupyter_env(workdir: Path, runtime: Path) -> dict[str, str]:
    """Where JupyterLab and its kernels keep their state; never ``~/.jupyter`` or ``~/.ipython``.

    Config (with a page config that turns the news pop-up off), data, and the kernels'
    IPython directory live in hidden folders of ``workdir`` (the file browser does not
    show them); runtime files (connection files, kernel sockets, ``jpserver-<pid>.json``)
    in ``runtime``, a private temporary folder: short enough a path for IPC sockets.
    """
    jupyter = workdir / ".jupyter"
    env = {
        "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
        "JUPYTER_DATA_DIR": str(jupyter / "data"),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "IPYTHONDIR": str(workdir / ".ipython"),
    }
    labconfig = jupyter / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": {ANNOUNCEMENTS: True}}))
    return env


def lab_command(workdir: Path, runtime: Path, *, open_browser: bool = True) -> list[str]:
    """JupyterLab on the quickstart, serving ``workdir``, with no news feed and no update check."""
    cmd = [
        sys.executable,
        "-c",
        _LAB_LAUNCHER,
        str(workdir / QUICKSTART),
        f"--ServerApp.root_dir={workdir}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        # No search for language servers: it runs `npm prefix -g` (which logs into ~/.npm).
        "--LanguageServerManager.autodetect=False",
    ]
    if len(str(runtime)) <= _IPC_PATH_ROOM:
        # IPC sockets next to the connection files: no kernel listens on TCP, and
        # ipykernel has nothing to warn about (it warns on every unencrypted TCP kernel).
        cmd.append("--KernelManager.transport=ipc")
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def serve_lab() -> None:
    """``python -m jupyterlab`` without the deprecated-token noise (run by :func:`lab_command`)."""
    import warnings

    show = warnings.showwarning

    def showwarning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        # A filter would not do: voila (when installed) puts its own filter first at import.
        if not str(message).startswith(_DEPRECATION_NOISE):
            show(message, category, *args, **kwargs)

    warnings.showwarning = showwarning
    from jupyterlab.labapp import main as lab_main

    raise SystemExit(lab_main())


class _Stop(Exception):
    """SIGTERM or SIGHUP arrived: stop as on Ctrl-C."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _stop_lab(proc: subprocess.Popen[bytes], grace_s: float = 20.0) -> None:
    """SIGTERM: JupyterLab shuts its kernels down and exits; after ``grace_s``, kill it.

    Killed kernels' parent is gone, and ipykernel's parent poller ends them too.
    """
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except (subprocess.TimeoutExpired, KeyboardInterrupt, _Stop):  # too slow, or asked twice
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_interactive(speed: float = 1.0, out: _Print = print, *, open_browser: bool = True) -> int:
    """Start the sandbox and JupyterLab on the quickstart; serve until Ctrl-C, SIGTERM or SIGHUP.

    Everything the demo writes lives in ``./.demo/``: the notebooks, and JupyterLab's
    config, settings, runtime files and the kernels' IPython directory.
    """
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        out("The interactive demo needs JupyterLab: pip install 'jobs-widgets[demo]' (or use --headless).")
        return 2
    workdir = Path.cwd() / DEMO_DIR
    workdir.mkdir(exist_ok=True)
    for notebook in sorted(notebooks_dir().glob("*.ipynb")):
        target = workdir / notebook.name
        if not target.exists():
            shutil.copy(notebook, target)
    stops = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {sig: signal.signal(sig, _raise_stop) for sig in stops}
    try:
        return _serve(workdir, speed, out, open_browser=open_browser)
    except (KeyboardInterrupt, _Stop):  # before JupyterLab started, or while it was being stopped
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(workdir: Path, speed: float, out: _Print, *, open_browser: bool) -> int:
    with Sandbox(speed=speed, seed=DEMO_SEED) as sb:
        stage_quickstart(sb)
        runtime = Path(tempfile.mkdtemp(prefix="jobs-widgets-lab-"))
        env = {**os.environ, **sb.attach_env(), **jupyter_env(workdir, runtime)}
        out(f"Sandbox workspace at {sb.host} ({speed:g}x real time); notebooks in {workdir}")
        out("Opening JupyterLab on 01_quickstart.ipynb. Ctrl-C here stops JupyterLab and the sandbox.")
        # Its own session: a Ctrl-C reaches only this process, which stops JupyterLab
        # without its "Shutdown this Jupyter server (y/[n])?" prompt.
        cmd = lab_command(workdir, runtime, open_browser=open_browser)
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)  # noqa: S603 - our own interpreter
        try:
            return proc.wait()
        except (KeyboardInterrupt, _Stop) as stop:
            why = "Ctrl-C" if isinstance(stop, KeyboardInterrupt) else str(stop)
            out(f"\nStopping JupyterLab and its kernels ({why}) ...")
            return 0
        finally:
            _stop_lab(proc)
            shutil.rmtree(runtime, ignore_errors=True)


# ------------------------------------------------------------------------- scripted
def _follow(
    w: Any,
    run_id: int,
    out: _Print,
    *,
    deadline_s: float = 120.0,
    on_state: Callable[[str], None] | None = None,
) -> Any:
    """Poll one run with the SDK, printing each state change, until it ends."""
    last = None
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        run = w.jobs.get_run(run_id)
        life = run.state.life_cycle_state.value if run.state and run.state.life_cycle_state else "?"
        result = run.state.result_state.value if run.state and run.state.result_state else ""
        label = f"{life} {result}".strip()
        if label != last:
            tasks = ", ".join(
                f"{t.task_key}={(t.state.result_state or t.state.life_cycle_state).value}"
                for t in run.tasks
                if t.state
            )
            out(f"  run {run_id}: {label:<22} [{tasks}]")
            last = label
            if on_state is not None:
                on_state(life)
        if life in {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}:
            return run
        time.sleep(0.25)
    raise TimeoutError(f"run {run_id} did not finish within {deadline_s:g} s")


def run_scripted(speed: float = 10.0, out: _Print = print) -> int:
    """A short story on the sandbox, told through databricks-sdk calls."""
    with Sandbox(speed=speed, seed=DEMO_SEED) as sb:
        w = sb.client()
        out(f"Sandbox workspace at {sb.host} (speed {speed:g}x); jobs:")
        for job in w.jobs.list():
            out(f"  {job.job_id}  {job.settings.name if job.settings else ''}")

        out("\n1. orders-etl with notebook parameters, followed to the end:")
        sb.engine.script("etl", outcome="SUCCESS")
        run_id = w.jobs.run_now(
            sb.jobs["etl"], notebook_params={"date": "2026-01-31", "env": "dev"}
        ).response.run_id
        run = _follow(w, run_id, out)
        out(f"  took {run.run_duration / 1000:.1f} simulated s; page: {run.run_page_url}")

        out(
            "\n2. churn-model-training with too high a learning rate; its error comes from the task's output:"
        )
        run_id = w.jobs.run_now(sb.jobs["train"], python_named_params={"learning_rate": "5"}).response.run_id
        run = _follow(w, run_id, out)
        output = w.jobs.get_run_output(run.tasks[0].run_id)
        out(f"  state message: {run.state.state_message}")
        out(f"  error: {output.error}")

        out("\n3. weekly-revenue-report, cancelled while it runs:")
        sb.engine.script("report", duration_s=600)
        run_id = w.jobs.run_now(sb.jobs["report"], sql_params={"region": "emea"}).response.run_id

        def cancel_when_running(life: str) -> None:
            if life == "RUNNING":
                out(f"  -> cancelling run {run_id}")
                w.jobs.cancel_run(run_id)

        _follow(w, run_id, out, on_state=cancel_when_running)
        out(f"\nDone: {len(sb.requests)} API requests served.")
    return 0


def main(
    *, headless: bool = False, speed: float | None = None, scripted: bool = False, open_browser: bool = True
) -> int:
    """Entry point of ``jobs-widgets demo``."""
    if scripted:
        return run_scripted(speed=speed or 10.0)
    if headless:
        return run_headless(speed=speed or 20.0)
    return run_interactive(speed=speed or 1.0, open_browser=open_browser)
