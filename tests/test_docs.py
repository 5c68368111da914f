"""The Sphinx documentation builds with warnings as errors and carries the numbered theory.

Code cites the theory as "docs/theory.rst §N" for N = 1..14, so every one of those sections must
exist, under its label ``theory-sN`` and a heading that starts with "§N ".
"""

import re
from pathlib import Path

import pytest

sphinx_build = pytest.importorskip(
    "sphinx.cmd.build", reason="Sphinx is not installed (install the docs extra: pip install -e '.[docs]')"
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
SECTIONS = range(1, 15)

# Sphinx 9's own napoleon uses a deprecated autodoc interface: Sphinx's problem, not the docs'.
pytestmark = pytest.mark.filterwarnings("ignore:The mapping interface for autodoc options:PendingDeprecationWarning")


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs_html")
    status = sphinx_build.build_main(["-W", "-b", "html", "-q", str(DOCS), str(out)])
    assert status == 0, "the Sphinx build failed or warned (run: python -m sphinx -W --keep-going -b html docs OUT)"
    return out


def test_theory_sections_built(html):
    page = (html / "theory.html").read_text(encoding="utf-8")
    for n in SECTIONS:
        assert f'id="theory-s{n}"' in page, f"theory section §{n} has no label theory-s{n}"
    headings = re.findall(r"<h2>§(\d+) ", page)
    assert [int(h) for h in headings] == list(SECTIONS), f"theory headings out of order or missing: {headings}"


def test_theory_source_labels_and_headings():
    text = (DOCS / "theory.rst").read_text(encoding="utf-8")
    for n in SECTIONS:
        label = re.search(rf"^\.\. _theory-s{n}:\n\n(.+)\n(-+)$", text, re.M)
        assert label, f"theory.rst: no '.. _theory-s{n}:' label directly before a section heading"
        heading, underline = label.groups()
        assert heading.startswith(f"§{n} "), f"the heading after theory-s{n} is {heading!r}"
        assert len(underline) >= len(heading)


def test_docs_point_inside_the_repository():
    for path in DOCS.rglob("*"):
        if path.suffix in (".rst", ".py", ".txt", ".md"):
            text = path.read_text(encoding="utf-8")
            for outside in ("THEORY.md", "STYLE.md", "../shared"):
                assert outside not in text, f"{path.relative_to(DOCS)} refers to {outside}, outside the repository"


# Beyond dcprune.__all__: the Monte Carlo entry point and its result, the closed forms, and the
# types a contributor implements to add a family, a rule or a quantity (README "Layout").
API_EXTRAS = (
    "dcprune.montecarlo.simulate",
    "dcprune.montecarlo.Simulation",
    "dcprune.families.base.Family",
    "dcprune.rules.Rule",
    "dcprune.quantities.Quantity",
)
API_MODULES = ("dcprune", "dcprune.montecarlo", "dcprune.exact")


def documented_objects(page: str) -> set[str]:
    """The ids of the autodoc entries of a built page that carry a description.

    An entry is ``<dt class="sig sig-object py" id="NAME">...</dt><dd>...</dd>``; one whose
    ``<dd>`` is empty (no docstring, no text in api.rst) does not count as documented.
    """
    out = set()
    for m in re.finditer(r'<dt class="sig sig-object py" id="([^"]+)">.*?</dt>\s*<dd>(.*?)</dd>', page, re.S):
        if re.sub(r"<[^>]+>", "", m.group(2)).strip():
            out.add(m.group(1))
    return out


def test_documented_objects_finds_described_entries_only():
    page = (
        '<dt class="sig sig-object py" id="dcprune.A"><span>A</span></dt>\n<dd><p>Text.</p></dd>'
        '<dt class="sig sig-object py" id="dcprune.B"><span>B</span></dt>\n<dd></dd>'
    )
    assert documented_objects(page) == {"dcprune.A"}


def test_api_page_documents_every_public_name(html):
    import dcprune

    documented = documented_objects((html / "api.html").read_text(encoding="utf-8"))
    missing = [name for name in dcprune.__all__ if f"dcprune.{name}" not in documented]
    assert not missing, f"exported by dcprune.__all__ but not documented on docs/api.rst: {missing}"
    missing = [name for name in API_EXTRAS if name not in documented]
    assert not missing, f"not documented on docs/api.rst: {missing}"


def test_api_page_documents_the_submodules(html):
    page = (html / "api.html").read_text(encoding="utf-8")
    for module in API_MODULES:
        assert f'id="module-{module}"' in page, f"docs/api.rst has no automodule:: {module}"
