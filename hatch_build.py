"""Hatch build hook: make sure the panel's front end is built into the package.

The front end lives in ``js/`` and is bundled by esbuild into
``jobs_widgets/static/widget.{js,css}`` (gitignored, shipped as artifacts). A wheel
build runs ``npm ci`` + ``npm run build`` when the bundle is missing or older than its
sources; an editable install tries the same but only warns if npm is unavailable.
Set ``JOBS_WIDGETS_SKIP_JS=1`` to skip (the bundle must then already exist).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = Path(__file__).parent
JS = ROOT / "js"
OUTPUTS = [ROOT / "jobs_widgets" / "static" / "widget.js", ROOT / "jobs_widgets" / "static" / "widget.css"]


def _stale() -> bool:
    if not all(p.exists() for p in OUTPUTS):
        return True
    built = min(p.stat().st_mtime for p in OUTPUTS)
    sources = [p for p in (JS / "src").rglob("*") if p.is_file()] + [JS / "package.json", JS / "build.mjs"]
    return any(p.exists() and p.stat().st_mtime > built for p in sources)


def build_frontend() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is needed to build the JobPanel front end (js/); install Node.js >= 20.19 (js/package.json engines)"
        )
    if not (JS / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True)  # noqa: S603
    subprocess.run([npm, "run", "build"], cwd=JS, check=True)  # noqa: S603


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if os.environ.get("JOBS_WIDGETS_SKIP_JS") == "1" or self.target_name != "wheel":
            return
        if not JS.exists() or not _stale():
            return
        if version == "editable":
            try:
                build_frontend()
            except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
                self.app.display_warning(
                    f"jobs_widgets: front end not built ({exc}); run `npm run build` in js/"
                )
            return
        build_frontend()
