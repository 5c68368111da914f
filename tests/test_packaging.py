"""What ``pip install .`` ships: the ``dcprune`` package alone and whole, found without any
``sys.path`` edits, and ``import dcprune`` stays light."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import setuptools

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".git", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis"}


def _sources(pattern="*.py"):
    return [path for path in ROOT.rglob(pattern)
            if not SKIP & set(path.relative_to(ROOT).parts) and ".egg-info" not in str(path)]


def _packages():
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    return set(setuptools.find_packages(str(ROOT), include=find["include"]))


def test_only_dcprune_is_installed():
    packages = _packages()
    assert {name.split(".")[0] for name in packages} == {"dcprune"}
    assert {"dcprune.figures", "dcprune.montecarlo", "dcprune.validate"} <= packages
    # paper_figures, tests and validation hold scripts, not packages.
    assert not [p for p in _sources("__init__.py") if p.parts[len(ROOT.parts)] != "dcprune"]


def test_every_module_of_dcprune_ships():
    """Every directory under dcprune with Python files is a package (else the wheel leaves it
    out), and nothing else lives there (else the wheel would need package data)."""
    packages = _packages()
    files = [p for p in (ROOT / "dcprune").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert [p for p in files if p.suffix != ".py"] == []
    dirs = {".".join(p.parent.relative_to(ROOT).parts) for p in files}
    assert dirs <= packages, dirs - packages


def test_no_sys_path_edits():
    edit = re.compile(r"sys\.path\s*(\.\s*(insert|append|extend)\b|\+?=|\[)")
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in _sources()
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if edit.search(line)]
    assert offenders == []


def test_import_dcprune_leaves_figures_and_validation_unloaded():
    code = ("import sys, dcprune; print(sorted(m for m in sys.modules "
            "if m.startswith(('dcprune.figures', 'dcprune.validate'))))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
