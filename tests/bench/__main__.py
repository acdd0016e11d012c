"""make bench: run every tests/bench/bench_*.py module's `main()` (or only those named)."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    for name in names:
        module = importlib.import_module(f"tests.bench.{name}")
        if getattr(module, "ONLY_WHEN_NAMED", False) and not argv:
            print(f"\n## {name}: runs only when named (make bench ONLY={name.removeprefix('bench_')})")
            continue
        result = module.main()
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
