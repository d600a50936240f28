"""Fixtures for the real-browser tests: one sandbox, one JupyterLab server, one Chromium.

The recipe (tested on this machine):

* the sandbox starts first, in this process, and its ``DATABRICKS_*`` variables go
  into the server's environment, so every kernel it starts talks to it;
* the server (``python -m jupyterlab``, which also serves Notebook 7 and Voila) runs
  on 127.0.0.1 with token auth, serving a temp dir, with its config, data, runtime
  and IPython dirs isolated and the "Jupyter news" announcement disabled;
* Chromium is Debian's ``/usr/bin/chromium`` (``playwright install`` is never needed),
  and every page aborts requests that leave 127.0.0.1.

Browser tests are skipped when Chromium is missing, unless ``E2E_REQUIRED=1`` or
``CI=true``: then they fail, loudly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_widgets.sandbox import Sandbox

from tests.conftest import PROXY_VARS

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TOKEN = "e2e-token"
TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 800}
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1")

# Nothing of the machine's Databricks set-up (or proxies) may reach the kernels.
_SCRUBBED = (
    *PROXY_VARS,
    "JUPYTER_PATH",
    "JUPYTER_CONFIG_PATH",
    "PYTHONSTARTUP",
)


def e2e_required() -> bool:
    return os.environ.get("E2E_REQUIRED") == "1" or os.environ.get("CI") == "true"


def chromium_available() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``e2e`` tests without Chromium, unless they are required (then they fail)."""
    if chromium_available() or e2e_required():
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} not installed (apt-get install chromium); set E2E_REQUIRED=1 to fail instead"
    )
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


# --------------------------------------------------------------------------- artifacts
@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    d = Path(os.environ.get("E2E_ARTIFACTS", "e2e-artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


# --------------------------------------------------------------------------- sandbox
@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The demo workspace in real time (speed 1: the kernels' clocks and it agree)."""
    sb = Sandbox(speed=1.0, seed=0).start()
    try:
        yield sb
    finally:
        sb.stop()


# --------------------------------------------------------------------------- jupyter
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_tail(log: Path, n: int = 4000) -> str:
    try:
        return log.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


def _wait_http_ok(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter exited with {proc.returncode}:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s:\n{_log_tail(log)}")


def _server_env(base: Path, sandbox: Sandbox) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABRICKS_", "JUPYTER_", "ACTIONS_ID_TOKEN")) and k not in _SCRUBBED
    }
    home = base / "home"
    home.mkdir()
    env.update(
        {
            "HOME": str(home),
            "JUPYTER_CONFIG_DIR": str(base / "config"),
            "JUPYTER_DATA_DIR": str(base / "data"),
            "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
            "IPYTHONDIR": str(base / "ipython"),
            "DATABRICKS_CONFIG_FILE": str(home / "missing.databrickscfg"),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(sandbox.env())  # kernels inherit DATABRICKS_HOST/_TOKEN/_JOB_<KEY>
    return env


@pytest.fixture(scope="session")
def jupyter(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Iterator[SimpleNamespace]:
    """One ``jupyter lab`` server for the session (also serves /notebooks and /voila)."""
    base = tmp_path_factory.mktemp("jupyter")
    root = base / "notebooks"
    root.mkdir()
    cfg = base / "config"
    (cfg / "labconfig").mkdir(parents=True)
    (cfg / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    # window.jupyterapp in Lab and in Notebook 7 (a command-line flag only reaches Lab).
    (cfg / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "LabApp": {"expose_app_in_browser": True},
                "JupyterNotebookApp": {"expose_app_in_browser": True},
            }
        )
    )
    env = _server_env(base, sandbox)
    port, log = _free_port(), base / "jupyter.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",
    ]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http_ok(f"{url}/api/status?token={TOKEN}", proc, log, timeout=90)
        yield SimpleNamespace(url=url, token=TOKEN, root=root, log=log)
    finally:
        proc.send_signal(signal.SIGTERM)  # graceful: the server shuts its kernels down
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --------------------------------------------------------------------------- browser
# Module scope: Playwright's sync API keeps an event loop running in the main thread
# while it is open, which would break later tests that use asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not chromium_available():
        pytest.fail(
            f"{CHROMIUM} is missing but browser tests are required (E2E_REQUIRED=1 or CI=true): "
            "apt-get install chromium",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # the default 5 s is tight on a loaded 2-core box
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, artifacts_dir: Path) -> Iterator[Any]:
    """A fresh 1280x800 page; requests leaving 127.0.0.1 are aborted; a screenshot on failure."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.route(lambda u: not u.startswith(LOCAL_PREFIXES), lambda route: route.abort())
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            try:
                pg.screenshot(path=str(artifacts_dir / f"FAILED-{request.node.name}.png"))
            except Exception as exc:  # the page may be gone; the test's own error matters more
                print(f"no failure screenshot: {exc}")
        ctx.close()
