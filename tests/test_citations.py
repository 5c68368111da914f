"""Every citation of the theory resolves, and nothing points outside the repository.

Code, README and docs cite the theory as "docs/theory.rst §N", "§N–M" (a range) or, in a file
that cites docs/theory.rst (and everywhere in README.md and docs/), a bare "§N". Each N must be
a section of docs/theory.rst, i.e. have a label ``.. _theory-sN:`` there. No file may refer to
the documents that lived outside the repository before docs/theory.rst existed (only this test
names them).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THEORY = ROOT / "docs" / "theory.rst"
THIS = Path(__file__).resolve()

# "§3", "§ 3", "§3–5", "§3-5", "§1–§14"
SECTION = re.compile(r"§\s?(\d+)(?:\s?[–-]\s?§?(\d+))?")
CITES_THEORY = "docs/theory.rst"
# The documents that lived outside the repository (this file is the only one that may name them;
# the folder's path is assembled so that not even this file spells a pointer outside).
OUTSIDE = ("/".join(("..", "shared")), "STYLE.md", "THEORY.md")
SKIP_DIRS = {"__pycache__", "build", "dist", "_build", "node_modules"}
BINARY = {".png", ".pdf", ".npy", ".npz", ".pyc", ".so", ".nbi", ".nbc", ".gz", ".zip"}


def theory_sections() -> set[int]:
    return {int(n) for n in re.findall(r"^\.\. _theory-s(\d+):$", THEORY.read_text(encoding="utf-8"), re.M)}


def repository_files():
    """Files of the checkout, without version control, caches and build output."""
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if not path.is_file() or any(p.startswith(".") or p in SKIP_DIRS or p.endswith(".egg-info")
                                     for p in rel.parts[:-1]):
            continue
        yield path


def cited_sections(text: str, cites_theory: bool):
    """``(line, first, last)`` of every section citation in ``text`` (``last`` is ``first`` for one
    section). In a text that does not cite docs/theory.rst only "docs/theory.rst §N" counts, which
    it cannot contain, so nothing is returned."""
    if not cites_theory:
        return []
    out = []
    for m in SECTION.finditer(text):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        out.append((text.count("\n", 0, m.start()) + 1, first, last))
    return out


def citing_files():
    """``(path, text, cites_theory)`` for the Python files, README.md and the docs (not this
    file, whose examples cite sections that do not exist on purpose)."""
    for path in repository_files():
        if path.resolve() == THIS:
            continue
        rel = path.relative_to(ROOT)
        in_docs = rel.parts[0] == "docs" and path.suffix in (".rst", ".py", ".md", ".txt")
        if path.suffix == ".py" or rel == Path("README.md") or in_docs:
            text = path.read_text(encoding="utf-8")
            yield path, text, in_docs or rel == Path("README.md") or CITES_THEORY in text


def test_theory_has_sections_1_to_14():
    assert theory_sections() == set(range(1, 15))


def test_cited_sections_reads_sections_and_ranges():
    text = "See docs/theory.rst §2 and §6.\nThe fit (§3–5), all of it (§1–§14), §15 - 2"
    assert cited_sections(text, True) == [(1, 2, 2), (1, 6, 6), (2, 3, 5), (2, 1, 14), (2, 15, 2)]
    assert cited_sections("a bare §7 in a file that cites nothing", False) == []


def test_every_citation_is_a_section_of_the_theory():
    sections = theory_sections()
    bad, seen = [], 0
    for path, text, cites in citing_files():
        for line, first, last in cited_sections(text, cites):
            seen += 1
            if first not in sections or last not in sections or last < first:
                span = f"§{first}" if first == last else f"§{first}–{last}"
                bad.append(f"{path.relative_to(ROOT)}:{line}: {span}")
    assert seen > 50, f"only {seen} citations found: is the search broken?"
    assert not bad, f"citations of sections docs/theory.rst does not have ({sorted(sections)}):\n" + "\n".join(bad)


def test_nothing_points_outside_the_repository():
    bad = []
    for path in repository_files():
        if path.resolve() == THIS or path.suffix in BINARY:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for outside in OUTSIDE:
            for m in re.finditer(re.escape(outside), text):
                bad.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {outside}")
    assert not bad, "references to files outside the repository:\n" + "\n".join(bad)
