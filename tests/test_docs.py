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


def test_api_page_documents_the_public_names(html):
    import dcprune

    page = (html / "api.html").read_text(encoding="utf-8")
    for name in dcprune.__all__:
        obj = getattr(dcprune, name)
        if callable(obj) and getattr(obj, "__doc__", None):
            assert f'id="dcprune.{name}"' in page, f"dcprune.{name} is exported but not on the API page"
