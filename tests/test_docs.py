"""The Sphinx documentation builds with warnings as errors and carries the numbered theory.

Code cites the theory as "docs/theory.rst §N" for N = 1..14, so every one of those sections must
exist, under its label ``theory-sN`` and a heading that starts with "§N " (that every citation
names one of them is tests/test_citations.py). The API page documents every public name, the
tutorial's doctests pass (``sphinx -b doctest``), the gallery shows every committed figure, and
the index lists the pages.

DCPRUNE_DOCS_QUICK=1 skips the tutorial's Monte Carlo blocks (they compile Numba kernels on first
use: about a minute on a cold cache, seconds on a warm one).
"""

import re
from pathlib import Path

import pytest

sphinx_build = pytest.importorskip(
    "sphinx.cmd.build", reason="Sphinx is not installed (install the docs extra: pip install -e '.[docs]')"
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GALLERY = ROOT / "paper_figures" / "gallery"
FIGURES = ("fig3a", "fig3b", "fig7a", "fig7b", "fig2", "fig4", "lemma1", "compression", "retraining")
PAGES = ("tutorial", "data", "gallery", "theory", "glossary", "api")
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


@pytest.fixture(scope="module")
def doctest_output(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs_doctest")
    status = sphinx_build.build_main(["-W", "-b", "doctest", "-q", str(DOCS), str(out)])
    return status, (out / "output.txt").read_text(encoding="utf-8")


def test_tutorial_doctests_pass(doctest_output):
    status, output = doctest_output
    assert "Document: tutorial" in output, "the doctest build ran no block of docs/tutorial.rst"
    assert status == 0 and "0 failures in tests" in output, f"a tutorial doctest failed:\n{output}"
    ran = int(re.search(r"^\s*(\d+) tests$", output, re.M).group(1))
    assert ran >= 20, f"only {ran} doctests ran in docs/tutorial.rst"


def test_tutorial_covers_the_claims():
    text = (DOCS / "tutorial.rst").read_text(encoding="utf-8")
    for claim in ("(a)", "(b)", "(c)", "(d)", "(e)"):
        assert re.search(rf"^{re.escape(claim)} .+\n-+$", text, re.M), f"docs/tutorial.rst has no section {claim}"
    assert "dcprune.montecarlo.simulate(" in text
    # Every example is a ``.. doctest::`` block, the only kind the doctest build runs (conf.py:
    # doctest_test_doctest_blocks = ""): no bare ">>>" paragraph, no literal block of code.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">>>") and (i == 0 or not lines[i - 1].strip()):
            j = i - 1
            while j >= 0 and (not lines[j].strip() or lines[j].strip().startswith(":")):
                j -= 1
            assert lines[j] == ".. doctest::", f"docs/tutorial.rst line {i + 1}: an example outside .. doctest::"
    assert ".. code-block::" not in text


def test_gallery_shows_every_committed_figure(html):
    page = (html / "gallery.html").read_text(encoding="utf-8")
    source = (DOCS / "gallery.rst").read_text(encoding="utf-8")
    for name in FIGURES:
        assert (GALLERY / f"{name}.png").is_file(), f"paper_figures/gallery/{name}.png is not committed"
        assert f".. image:: ../paper_figures/gallery/{name}.png" in source, f"docs/gallery.rst does not show {name}"
        assert f'src="_images/{name}.png"' in page, f"the built gallery has no image {name}.png"
        assert f"dcprune figure {name} --out" in source, f"docs/gallery.rst does not say how to rebuild {name}"
    assert not list(DOCS.rglob("*.png")), "figures are shown from paper_figures/gallery, not copied into docs/"


def test_index_lists_the_pages(html):
    page = (html / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'toctree-l1"><a class="reference internal" href="([^"#]+)\.html"', page)
    assert list(dict.fromkeys(listed)) == list(PAGES), f"the index's table of contents lists {listed}"
