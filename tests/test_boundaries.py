"""The layer rule of docs/architecture.md section 1, checked in fresh interpreters."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import jobs_widgets

PACKAGE = Path(jobs_widgets.__file__).parent
UI_MODULES = ("IPython", "ipywidgets", "traitlets", "anywidget", "ipykernel", "comm")


def loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_core_loads_no_ui_modules() -> None:
    loaded = roots(
        loaded_after(
            "import jobs_widgets.core; from jobs_widgets.core import Jobs, JobHandle; from jobs_widgets.core.hub import get_hub"
        )
    )
    assert not loaded & set(UI_MODULES)
    assert "databricks" not in loaded


def test_package_import_loads_no_sdk_and_no_pydantic() -> None:
    loaded = loaded_after("import jobs_widgets")
    assert not {m for m in loaded if m.startswith("databricks")}
    assert "pydantic" not in roots(loaded)


def test_sandbox_imports_only_stdlib_and_core() -> None:
    loaded = roots(loaded_after("import jobs_widgets.sandbox"))
    assert not loaded & {*UI_MODULES, "databricks", "requests"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_only_core_sdk_imports_databricks_sdk() -> None:
    importers = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name.startswith("databricks") for name in _imports(path))
    }
    assert importers == {"core/sdk.py"}


def test_core_and_sandbox_never_import_the_ui_layers() -> None:
    for folder in ("core", "sandbox"):
        for path in (PACKAGE / folder).rglob("*.py"):
            names = _imports(path)
            assert not {n for n in names if n.split(".")[0] in UI_MODULES}, path
            assert not {n for n in names if n in {"jobs_widgets.widget", "jobs_widgets.magics"}}, path
