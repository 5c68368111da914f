"""The house rules of the source tree, checked on the code itself.

- no module imports another module's underscore (private) names, nor reaches into them as
  attributes of an imported module;
- no module above the size limit (:data:`LONG_MODULES` names the justified exceptions);
- the public names are the ones ``dcprune.__all__`` lists, and the README lists them all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dcprune

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dcprune"
SOURCES = sorted(p for d in ("dcprune", "tests", "validation", "paper_figures") for p in (ROOT / d).rglob("*.py"))

# Lines a module may have; a longer one is two ideas.
MAX_LINES = 500
# Justified exceptions.
LONG_MODULES: dict[str, str] = {
    # The sympy closed forms share private validation and assembly helpers (_exact, _assemble,
    # _decide, ...); splitting the module would make them public API for no reader's benefit.
    "dcprune/exact.py": "sympy closed forms and their shared private helpers",
}


def _module_name(path: Path) -> str | None:
    """``dcprune.a.b`` for a file of the package, ``None`` elsewhere."""
    try:
        rel = path.relative_to(ROOT)
    except ValueError:
        return None
    if rel.parts[0] != "dcprune":
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    here = _module_name(path) or ""
    package = here.split(".") if path.name == "__init__.py" else here.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(path: Path) -> list[str]:
    """``file:line name`` for every import of another dcprune module's private name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(path, node)
            if not source.startswith("dcprune"):
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {source}.{alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("dcprune"):
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in modules):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_the_checker_sees_private_imports(tmp_path):
    # Must be able to fail: a planted private import is found.
    planted = PACKAGE / "families" / "planted_for_test.py"
    planted.write_text("from .base import _hidden\nfrom ..results import json_number\nfrom .. import rules\n"
                       "rules._secret\n")
    try:
        found = private_imports(planted)
    finally:
        planted.unlink()
    assert [f.split()[1] for f in found] == ["dcprune.families.base._hidden", "rules._secret"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_imports(path):
    assert private_imports(path) == []


def test_modules_are_small():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert set(long) <= set(LONG_MODULES), long


def test_public_names_are_listed_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in dcprune.__all__ if f"`{name}`" not in readme]
    assert missing == []
    for name in dcprune.__all__:
        assert hasattr(dcprune, name), name
