"""The packages' modules import one another without cycles (a cycle hides a misplaced rule)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"mission_control": ROOT / "core" / "mission_control",
            "ground": ROOT / "ground" / "ground",
            "command_sender": ROOT / "command-sender" / "command_sender",
            "spacecraft": ROOT / "spacecraft" / "spacecraft",
            "registry_api": ROOT / "registry-api" / "registry_api"}


def _module_name(package: str, folder: Path, path: Path) -> str:
    parts = [package, *path.relative_to(folder).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(package: str, folder: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports at module level."""
    modules = {_module_name(package, folder, p): p for p in folder.rglob("*.py")
               if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        base = name.split(".") if is_package else name.split(".")[:-1]
        found: set[str] = set()
        for node in ast.parse(path.read_text()).body:  # module level only
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    prefix = ".".join(base[:len(base) - node.level + 1])
                    target = f"{prefix}.{node.module}" if node.module else prefix
                else:
                    target = node.module or ""
                candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            found.update(c for c in candidates if c in modules and c != name)
        graph[name] = found
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return visiting[visiting.index(node):] + [node]
        if node in done:
            return None
        visiting.append(node)
        for child in sorted(graph[node]):
            if found := visit(child):
                return found
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if found := visit(node):
            return found
    return None


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_modules_import_each_other_without_cycles(package):
    assert _cycle(_imports(package, PACKAGES[package])) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_status_rules_import_nothing_of_ours():
    graph = _imports("mission_control", PACKAGES["mission_control"])
    assert graph["mission_control.status"] == set()
    assert "mission_control.lifecycle" not in graph["mission_control.models"]
