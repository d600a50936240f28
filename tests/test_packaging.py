"""The wheel: built with the front end and notebooks inside, installed in a fresh venv, and run."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Builds a wheel and pip-installs it into a fresh venv: a cold pip cache needs minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def test_wheel_contains_the_front_end_and_runs_the_headless_demo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel = next(dist.glob("jobs_widgets-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "jobs_widgets/static/widget.js",
        "jobs_widgets/static/widget.css",
        "jobs_widgets/_notebooks/01_quickstart.ipynb",
        "jobs_widgets/py.typed",
    ):
        assert required in names, required
    assert not any(name.startswith(("tests/", "js/")) for name in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{wheel}[demo]"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "JOBS_WIDGETS_"))}
    demo = subprocess.run(
        [str(env_dir / "bin" / "jobs-widgets"), "demo", "--headless"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
        env=clean_env,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "Runs this demo drove:" in demo.stdout and "CANCELED" in demo.stdout
    assert "WARNING" not in demo.stdout + demo.stderr, demo.stderr[-2000:]  # a clean first impression
