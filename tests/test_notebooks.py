"""The committed notebooks as a reader sees them without running anything (GitHub, nbviewer, HTML).

nbval re-runs each notebook; these tests check the committed files themselves: valid nbformat,
executed in order, no stderr or error outputs, no machine-specific paths, a size a browser can
load, and every animation visible in nbconvert's HTML export (what nbviewer serves).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

REPO_ROOT = Path(__file__).resolve().parents[1]
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


def test_html_export_shows_every_animation(notebook):
    path, nb = notebook
    html, _ = HTMLExporter().from_notebook_node(nb)
    fallbacks = html.count(TEXT_FALLBACK)
    assert fallbacks == 0, f"{notebook_id(path)}: {fallbacks} image(s) shown as text in the HTML export"
    images = re.findall(r"<img\b[^>]*>", html)
    gif_tags = [tag for tag in images if 'src="data:image/gif;base64,R0lGOD' in tag]
    shown = [re.search(r'alt="([^"]+)"', tag).group(1) for tag in gif_tags]
    committed = sorted(p.name for p in (path.parent / "images").glob("*.gif"))
    assert sorted(shown) == committed, (
        f"{notebook_id(path)}: GIFs embedded in the HTML export {sorted(shown)}, GIFs in images/ {committed}"
    )
