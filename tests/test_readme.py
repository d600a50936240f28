"""Every command and code sample in README.md, run against the sandbox.

Python samples run as written (the sandbox supplies DATABRICKS_* and the process hub
gets the sandbox's sped-up clock so waiting takes seconds); magic samples run in a
real IPython shell; shell commands run for real, with fast flags for the benchmarks.
A new README command without a check here fails this test.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jobs_widgets.core.runtime as runtime_module
import pytest
from jobs_widgets.core.runtime import Runtime
from jobs_widgets.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.DOTALL)
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def python_blocks() -> list[str]:
    return [code for lang, code in BLOCKS if lang == "python" and not code.lstrip().startswith("%")]


def magic_blocks() -> list[str]:
    return [code for lang, code in BLOCKS if lang == "python" and code.lstrip().startswith("%")]


def shell_commands() -> list[str]:
    commands = []
    for lang, code in BLOCKS:
        if lang != "bash":
            continue
        for line in code.splitlines():
            command = line.split("  #")[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(speed=20, seed=1) as sb:
        for name, value in sb.env().items():
            monkeypatch.setenv(name, value)
        runtime = Runtime(clock=sb.clock)  # the process-wide runtime, on the sped-up sandbox's clock
        monkeypatch.setattr(runtime_module, "_default", runtime)
        yield sb
        runtime.close()


def test_readme_has_the_two_quick_start_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [c for lang, code in BLOCKS if lang == "bash" and code in quick for c in code.splitlines()]
    assert [c.split("#")[0].strip() for c in commands] == ["./scripts/demo", "./scripts/test"]
    assert "exec ./scripts/test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_python_samples(index: int, sandbox_env: Sandbox) -> None:
    code = python_blocks()[index]
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(code, f"README python block {index}", "exec"), namespace)


def test_magic_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("JOBS_WIDGETS_DEMO_SPEED", "50")
    shell = InteractiveShell.instance()
    try:
        for block in magic_blocks():
            result = shell.run_cell(block)
            assert result.success, result.error_in_exec or result.error_before_exec
        assert shell.user_ns["r"].state.label == "Succeeded"
        assert shell.user_ns["bad"].state.label == "Failed"
    finally:
        shell.run_line_magic("unload_ext", "jobs_widgets")


def run(
    args: list[str], timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or dict(os.environ),
        check=False,
    )


def check_command(command: str) -> None:
    words = shlex.split(command)
    if words[:1] == ["./scripts/demo"]:
        # No browser here: the same script, in its headless form.
        done = run(["bash", "scripts/demo", "--headless"], timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "Runs this demo drove:" in done.stdout
    elif words[:1] == ["./scripts/test"]:
        # This test suite is that command running (and .ci/run calls it).
        assert os.access(ROOT / "scripts" / "test", os.X_OK)
    elif words[:2] == [".venv/bin/jobs-widgets", "sandbox"]:
        proc = subprocess.Popen(
            [str(BIN / "jobs-widgets"), *words[1:]],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            exports = [proc.stdout.readline() for _ in range(3)]
            assert any(line.startswith("export DATABRICKS_HOST=") for line in exports), exports
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0
    elif words[:3] == ["cd", "js", "&&"]:
        rest = command.split("&&", 1)[1].strip()
        scripts = json.loads((ROOT / "js" / "package.json").read_text())["scripts"]
        if rest == "npm run dev":
            assert "--watch" in scripts["dev"] or "watch" in scripts["dev"]
        else:
            done = run(["bash", "-c", f"cd js && {rest}"], timeout=300)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    elif words[0] == ".venv/bin/python" and words[1].startswith("bench/"):
        fast = {
            "bench/sandbox.py": ["--requests", "200", "--json", "/dev/null"],
            "bench/polling.py": [
                *("--quick", "--skip-cpu", "--runs", "20", "--workloads", "predictable"),
                *("--skip-many", "--json", "/dev/null"),
            ],
            "bench/import_cost.py": ["--repeat", "1", "--json", "/dev/null"],
            "bench/soak.py": ["--runs", "20", "--json", "/dev/null"],
            "bench/idle_watches.py": ["--watches", "20", "--seconds", "2"],
            "bench/task_views.py": ["--rounds", "1"],
        }[words[1]]
        done = run([sys.executable, words[1], *fast], timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    else:
        raise AssertionError(f"README command without a check: {command}")


@pytest.mark.timeout(900)  # scripts/demo installs (pip, npm build) before its 600 s run
@pytest.mark.parametrize("command", shell_commands())
def test_shell_commands(command: str) -> None:
    if command.startswith("./scripts/test"):
        check_command("./scripts/test")
        return
    check_command(command)
