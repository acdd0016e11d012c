"""House rules `make lint` checks that no linter knows: every function under service/ reads at
once (at most 80 lines), and no SQL sits in a routes.py or pages.py (it belongs in db/<feature>.py,
called from a workflow). Prints each breach with its place; exits 1 if there is any."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 80
SQL = re.compile(r"\b(select [a-z_*]|insert into|update [a-z_]+ set|delete from)", re.IGNORECASE)


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - start + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} is {length} lines")
    return found


def sql_in_edges(path: Path) -> list[str]:
    if path.name not in ("routes.py", "pages.py"):
        return []
    return [
        f"{path.relative_to(ROOT)}:{n} SQL in {path.name}: {line.strip()[:60]}"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SQL.search(line)
    ]


def main() -> int:
    problems: list[str] = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        problems += long_functions(path) + sql_in_edges(path)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
