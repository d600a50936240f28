"""The repository stands on its own: its architecture document is in it, covers every
module, and nothing in it names a file outside its tree."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
#: Paths outside the tree, and the design file the repository used to cite but never held.
OUTSIDE = re.compile(r"/work/|\.\./shared|/home/\w|DESIGN\.md")
TEXT = (".py", ".md", ".toml", ".js", ".mjs", ".json", ".sh", ".cfg", ".ipynb", ".txt", ".yml", ".yaml")


def tracked_text_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    names = [n for n in out.splitlines() if n.endswith(TEXT) or n.startswith(("scripts/", ".ci/"))]
    return [n for n in names if (ROOT / n).is_file() and not n.startswith("e2e-artifacts/")]


def outside_references(name: str) -> list[str]:
    text = (ROOT / name).read_text(errors="replace")
    return [
        f"{name}:{i}: {line.strip()}" for i, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)
    ]


def test_no_file_names_a_path_outside_the_repository() -> None:
    found = [hit for name in tracked_text_files() for hit in outside_references(name)]
    found = [hit for hit in found if not hit.startswith("tests/test_self_contained.py")]
    assert found == []


def test_the_architecture_document_names_every_module() -> None:
    doc = ARCHITECTURE.read_text()
    package = ROOT / "jobs_widgets"
    modules = [p.relative_to(package).as_posix() for p in package.rglob("*.py") if p.name != "__main__.py"]
    modules += [f"js/src/{p.name}" for p in (ROOT / "js" / "src").glob("*.js")]
    missing = [m for m in sorted(modules) if f"`{m}`" not in doc and f"`{Path(m).name}`" not in doc]
    assert missing == [], "describe them in docs/architecture.md"
    assert "[`docs/architecture.md`](docs/architecture.md)" in (ROOT / "README.md").read_text()
