"""The lock is what runs: the suite's packages are requirements-dev.txt's pins, and everything the
app imports is a production requirement (a production install has no dev extras)."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;]+)\s*(?:;\s*(.+))?$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """{name: version} for the lines of a lock file that apply to this interpreter."""
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match and (match[3] is None or Marker(match[3]).evaluate()):
            found[canonical(match[1])] = match[2]
    return found


def third_party_imports() -> set[str]:
    """Top-level modules imported by the app's code that are neither stdlib nor its own."""
    own = {"app", "commerce", "media"}
    files = [ROOT / "app.py", *ROOT.glob("commerce/**/*.py"), *ROOT.glob("media/**/*.py")]
    names: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in own and n not in sys.stdlib_module_names}


def test_the_suite_runs_on_the_locked_versions():
    locked = pins(ROOT / "requirements-dev.txt")
    assert pins(ROOT / "requirements.txt").items() <= locked.items()
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    drift = {name: (version, installed.get(name)) for name, version in locked.items()}
    assert {n: v for n, v in drift.items() if v[0] != v[1]} == {}


def test_everything_the_app_imports_is_a_production_requirement():
    production = set(pins(ROOT / "requirements.txt"))
    providers = metadata.packages_distributions()
    missing = {
        module: providers.get(module)
        for module in third_party_imports()
        if not any(canonical(dist) in production for dist in providers.get(module, []))
    }
    assert missing == {}
