"""scripts/_setup.sh: the Node.js it asks for is the one js/package.json and the README name."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def required_node() -> str:
    engines = json.loads((ROOT / "js" / "package.json").read_text())["engines"]["node"]
    match = re.fullmatch(r">=(\d+\.\d+)", engines)
    assert match, f"engines.node should read '>=X.Y', not {engines!r}"
    return match[1]


def check_node(tmp_path: Path, version: str | None) -> subprocess.CompletedProcess[str]:
    """``check_node`` of scripts/_setup.sh with a fake ``node`` (or none) first on the PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("sed", "sort", "head", "bash"):
        real = next(Path(d) / tool for d in ("/usr/bin", "/bin") if (Path(d) / tool).exists())
        (bin_dir / tool).symlink_to(real)
    if version is not None:
        (bin_dir / "node").write_text(f"#!/bin/sh\necho v{version}\n")
        (bin_dir / "npm").write_text("#!/bin/sh\necho 10.0.0\n")
        (bin_dir / "node").chmod(0o755)
        (bin_dir / "npm").chmod(0o755)
    return subprocess.run(
        [str(bin_dir / "bash"), "-c", "source scripts/_setup.sh && check_node && echo node-ok"],
        cwd=ROOT,
        env={"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_package_json_readme_and_setup_name_the_same_node() -> None:
    need = required_node()
    readme = (ROOT / "README.md").read_text()
    assert f"Node.js ≥ {need} with npm" in readme.split("## Quick start", 1)[1].split("##", 1)[0]
    setup = (ROOT / "scripts" / "_setup.sh").read_text()
    assert "20+" not in setup and "js/package.json" in setup  # the version is read, not repeated


@pytest.mark.parametrize("version", ["20.19.0", "20.20.2", "22.1.0", "24.0.0"])
def test_set_up_accepts_a_new_enough_node(tmp_path: Path, version: str) -> None:
    done = check_node(tmp_path, version)
    assert done.returncode == 0, done.stderr
    assert "node-ok" in done.stdout


@pytest.mark.parametrize("version", ["18.20.4", "20.9.0", "20.18.1"])
def test_set_up_stops_early_on_an_old_node_saying_what_it_needs(tmp_path: Path, version: str) -> None:
    done = check_node(tmp_path, version)
    assert done.returncode == 1
    need = required_node()
    assert done.stderr.strip() == (
        f"Node.js {version} is too old: the panel's front end needs Node.js >= {need} with npm "
        "(https://nodejs.org)"
    )


def test_set_up_stops_early_without_node(tmp_path: Path) -> None:
    done = check_node(tmp_path, None)
    assert done.returncode == 1
    assert f"Node.js >= {required_node()} with npm is required" in done.stderr
