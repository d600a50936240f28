"""Shared fixtures: a clean environment for every test, and sandboxes to talk to.

Every test runs with all ``DATABRICKS_*`` variables, proxies and the user's
``~/.databrickscfg`` out of the way, so nothing can reach a real workspace and the
machine's own configuration cannot change a result.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from jobs_widgets.core.clock import ManualClock
from jobs_widgets.sandbox import Sandbox

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
_SDK_ENV_NAMES = [
    "DATABRICKS_HOST",
    "DATABRICKS_TOKEN",
    "DATABRICKS_CONFIG_PROFILE",
    "DATABRICKS_CONFIG_FILE",
    "DATABRICKS_CLIENT_ID",
    "DATABRICKS_CLIENT_SECRET",
    "DATABRICKS_USERNAME",
    "DATABRICKS_PASSWORD",
    "DATABRICKS_AUTH_TYPE",
    "DATABRICKS_RUNTIME_VERSION",
    "DATABRICKS_WORKSPACE_ID",
    *PROXY_VARS,
]

# Property tests check behaviour, not speed. On a fresh checkout (.hypothesis/ is git-ignored)
# the first st.text() draw builds Hypothesis's UTF-8 tables (~1 s), which alone trips the
# too_slow health check; a busy CI machine can also push an example past the 200 ms deadline.
settings.register_profile("jobs-widgets", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("jobs-widgets")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the machine's Databricks configuration, proxies, or job variables."""
    for name in list(os.environ):
        if name.startswith("DATABRICKS_") or name in _SDK_ENV_NAMES or name.startswith("ACTIONS_ID_TOKEN"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(home / "missing.databrickscfg"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(autouse=True)
def fresh_process_runtime() -> Iterator[None]:
    """Each test starts without the process-wide runtime another test left running (and ends it)."""
    yield
    runtime = sys.modules.get("jobs_widgets.core.runtime")
    if runtime is not None:
        runtime.close_runtime()


@pytest.fixture
def manual_sandbox() -> Iterator[Sandbox]:
    """The demo workspace on a manual clock: time moves only with ``sb.advance``."""
    with Sandbox(clock=ManualClock(), seed=0) as sb:
        yield sb


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The demo workspace in real time."""
    with Sandbox(seed=0) as sb:
        yield sb
