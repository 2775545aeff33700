"""Check the package's import structure: no cycles, no private names across modules.

    python tools/check_imports.py            (from the project root; exit status 1 on a finding)

Every ``from .x import y`` in the package counts, at module level or inside a function (a
function-level import hides a cycle from Python's import machinery, not from the design).
A name is private when it starts with one underscore; importing one from another module is a
finding. The test suite runs this check (tests/test_imports.py).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bayesml"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts) or "__init__"


def resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    """The package-relative module an ``ImportFrom`` names."""
    base = current.split(".") if current != "__init__" else []
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    target = base + (module.split(".") if module else [])
    return ".".join(target) or "__init__"


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """Module → modules it imports (within the package), and private-name findings."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    private: list[str] = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level >= 1):
                continue
            target = resolve(name, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{target}.{alias.name}" if target != "__init__" else alias.name
                dest = sub if sub in modules else target
                if dest not in modules or dest == name:
                    continue
                graph[name].add(dest)
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    private.append(f"{name} imports {dest}.{alias.name}")
    return graph, private


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle found by depth-first search from each module (deduplicated)."""
    found: set[tuple[str, ...]] = set()
    out = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in path:
                cyc = path[path.index(nxt) :]
                k = cyc.index(min(cyc))
                key = tuple(cyc[k:] + cyc[:k])
                if key not in found:
                    found.add(key)
                    out.append([*key, key[0]])
            else:
                visit(nxt, [*path, nxt])

    for m in sorted(graph):
        visit(m, [m])
    return out


def main() -> int:
    graph, private = import_graph()
    found = cycles(graph)
    for c in found:
        print("cycle:", " -> ".join(c))
    for p in private:
        print("private:", p)
    if not found and not private:
        print(f"{len(graph)} modules, {sum(len(v) for v in graph.values())} imports: no cycle, "
              "no private name across modules")  # fmt: skip
    return 1 if found or private else 0


if __name__ == "__main__":
    sys.exit(main())
