"""The committed notebooks as a reader sees them without running anything (GitHub, nbviewer, HTML).

nbval re-runs each notebook; these tests check the committed files themselves: valid nbformat,
executed in order, no stderr or error outputs, no machine-specific paths, a size a browser can
load, and every animation visible in nbconvert's HTML export (what nbviewer serves).
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tools.run_notebooks import pinned_kernelspec  # noqa: E402

NOTEBOOKS = sorted(
    path
    for path in REPO_ROOT.rglob("*.ipynb")
    if not any(part.startswith(".") for part in path.relative_to(REPO_ROOT).parts)
)
MAX_BYTES = 3_000_000
TEXT_FALLBACK = "IPython.core.display.Image object"


def notebook_id(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=notebook_id)
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4, NOTEBOOKS


def test_valid_nbformat(notebook):
    path, nb = notebook
    nbformat.validate(nb)  # raises ValidationError naming the problem


def test_executed_top_to_bottom(notebook):
    path, nb = notebook
    counts = [cell.execution_count for cell in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{notebook_id(path)}: execution counts {counts} are not 1..n: run it top to bottom in a fresh kernel"
    )


def test_no_stderr_or_error_outputs(notebook):
    path, nb = notebook
    bad = [
        (index, output.get("name") or output.get("ename"))
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error" or (output.output_type == "stream" and output.name == "stderr")
    ]
    assert not bad, f"{notebook_id(path)}: stderr or error outputs in cells {bad}"


def test_no_machine_specific_paths(notebook):
    path, nb = notebook
    text = nbformat.writes(nb)
    for marker in (str(REPO_ROOT), "/home/", "/Users/", "site-packages"):
        assert marker not in text, f"{notebook_id(path)} contains {marker!r}"


def test_size(notebook):
    path, _ = notebook
    size = path.stat().st_size
    assert size <= MAX_BYTES, f"{notebook_id(path)} is {size / 1e6:.2f} MB, over {MAX_BYTES / 1e6:.0f} MB"


@pytest.fixture(scope="module")
def html_export(notebook):
    path, nb = notebook
    html, _ = HTMLExporter().from_notebook_node(nb)
    return html


def image_tags(html: str) -> list[str]:
    return re.findall(r"<img\b[^>]*>", html)


def attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag)
    return found.group(1) if found else None


def test_html_export_shows_every_animation(notebook, html_export):
    path, _ = notebook
    fallbacks = html_export.count(TEXT_FALLBACK)
    assert fallbacks == 0, f"{notebook_id(path)}: {fallbacks} image(s) shown as text in the HTML export"


def test_every_gif_in_images_is_shown_by_a_notebook_of_its_folder():
    for folder in sorted({path.parent for path in NOTEBOOKS}):
        shown = set()
        for path in NOTEBOOKS:
            if path.parent == folder:
                html, _ = HTMLExporter().from_notebook_node(nbformat.read(path, as_version=4))
                gifs = [tag for tag in image_tags(html) if 'src="data:image/gif;base64,R0lGOD' in tag]
                shown |= {attribute(tag, "data-file") or attribute(tag, "alt") for tag in gifs}
        committed = {p.name for p in (folder / "images").glob("*.gif")}
        assert shown == committed, (
            f"{folder.name}: GIFs embedded by its notebooks {sorted(shown)}, "
            f"GIFs in images/ {sorted(committed)}"
        )


NO_DESCRIPTION = "No description has been provided for this image"
FILE_NAME = re.compile(r"^[\w.-]+\.(gif|png|jpe?g)$", re.IGNORECASE)


def test_every_image_has_a_description(notebook, html_export):
    """What a screen reader says, and what viewers that skip images or HTML show instead."""
    path, _ = notebook
    undescribed = [
        (attribute(tag, "alt") or "")[:60]
        for tag in image_tags(html_export)
        if len((alt := attribute(tag, "alt") or "").strip()) < 10
        or alt == NO_DESCRIPTION
        or FILE_NAME.match(alt)
    ]
    assert not undescribed, (
        f"{notebook_id(path)}: {len(undescribed)} image(s) without a description {undescribed}: "
        "show figures with gdtf.show_fig(fig, name, description) and GIFs with show_image(path, description)"
    )


MAX_OUTPUT_BYTES = 500_000


def test_no_single_output_is_too_large_for_a_renderer(notebook):
    path, nb = notebook
    large = [
        (index, round(size / 1e3))
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if (size := len(json.dumps(output))) > MAX_OUTPUT_BYTES
    ]
    assert not large, f"{notebook_id(path)}: outputs over {MAX_OUTPUT_BYTES / 1e3:.0f} KB (cell, KB): {large}"


def test_opening_in_jupyterlab_does_not_rewrite_the_notebook(notebook):
    """JupyterLab copies the running kernel's spec into the metadata and autosave writes the file
    with nbformat: a committed notebook must already be exactly what that would save."""
    path, nb = notebook
    assert nb.metadata.get("kernelspec") == pinned_kernelspec(), (
        f"{notebook_id(path)}: kernelspec {nb.metadata.get('kernelspec')} is not {pinned_kernelspec()}: "
        "re-run it with tools/run_notebooks.py"
    )
    saved = io.StringIO()
    nbformat.write(nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT), saved)
    assert saved.getvalue() == path.read_text(encoding="utf-8"), (
        f"{notebook_id(path)}: nbformat would save it differently; write it with nbformat.write"
    )


# One anchor style everywhere: an explicit `<a id="short-id"></a>` in the heading cell, linked as
# `[text](#short-id)`. It works in JupyterLab, VS Code, nbviewer and nbconvert's HTML (GitHub's
# notebook view follows no in-notebook link at all); Jupyter's generated heading ids do not
# survive every viewer, or a renamed heading.
ANCHOR = re.compile(r'<a\s+id="([^"]+)"\s*>\s*</a>')
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(nb) -> set[str]:
    return {a for cell in nb.cells if cell.cell_type == "markdown" for a in ANCHOR.findall(cell.source)}


def links(nb) -> list[str]:
    return [link for cell in nb.cells if cell.cell_type == "markdown" for link in LINK.findall(cell.source)]


def test_every_notebook_has_a_contents_list(notebook):
    path, nb = notebook
    first_cells = [cell.source for cell in nb.cells[:6] if cell.cell_type == "markdown"]
    in_page = [link for source in first_cells for link in LINK.findall(source) if link.startswith("#")]
    assert len(in_page) >= 3, f"{notebook_id(path)}: no contents list (links to its sections) near the top"


def test_every_link_to_a_notebook_or_section_resolves(notebook):
    path, nb = notebook
    broken = []
    for link in links(nb):
        if re.match(r"^[a-z]+:", link):  # http(s), mailto: not checked offline
            continue
        target, _, fragment = link.partition("#")
        target_path = (path.parent / target).resolve() if target else path
        if not target_path.exists():
            broken.append(f"{link} (no such file)")
            continue
        if fragment:
            target_nb = nb if not target else nbformat.read(target_path, as_version=4)
            if fragment not in anchors(target_nb):
                broken.append(f'{link} (no <a id="{fragment}"></a> there)')
    assert not broken, f"{notebook_id(path)}: broken links: {broken}"
