"""What a test pays to build its app: `create_app` with werkzeug's URL builders compiled for
every rule (as werkzeug does), next to the suite's set-up (tests/route_builders.py: builders
made once per run), in the same process, alternating.

Every test builds a fresh app, so this is paid ~3,700 times per suite. Prints the median
milliseconds per build of each, and their ratio.

    python bench/app_build_bench.py [--builds 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from werkzeug.routing.rules import Rule

from app import create_app
from tests import route_builders


def build_ms(settings: dict) -> float:
    started = time.perf_counter()
    create_app(settings)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=40)
    builds = parser.parse_args().builds
    folder = Path(tempfile.mkdtemp())
    settings = {
        "TESTING": True,
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
        "STORAGE_LOCAL_ROOT": str(folder / "storage"),
        "WORK_DIR": str(folder / "work"),
    }
    werkzeug_own = Rule._compile_builder
    build_ms(settings)  # imports, first templates: paid once by either
    plain, cached = [], []
    for _ in range(builds):
        Rule._compile_builder = werkzeug_own  # type: ignore[method-assign]
        plain.append(build_ms(settings))
        route_builders.install()
        cached.append(build_ms(settings))
    Rule._compile_builder = werkzeug_own  # type: ignore[method-assign]
    a, b = statistics.median(plain), statistics.median(cached)
    print(f"rules per app: {len(list(create_app(settings).url_map.iter_rules()))}")
    print(f"reference (werkzeug compiles every rule's builders): {a:.1f} ms per app build")
    print(f"the suite's set-up (builders made once per run):     {b:.1f} ms per app build")
    print(f"test_app_build_vs_reference={b / a:.2f}")


if __name__ == "__main__":
    main()
