"""The reading site's pure parts (tools/site.py, tools/site_test.py): no browser needed.

``make site-test`` is the end-to-end check in headless Chromium.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tools.site import (  # noqa: E402
    clear_output_folder,
    export_notebook,
    index_html,
    make_exporter,
    notebook_title,
    rewrite_links,
    rewrite_url,
)
from tools.site_test import image_problems, link_problems, math_problems  # noqa: E402

PAGE = PurePosixPath("vector_spread_example/vector_spread_example.html")
EXISTING = {"vector_spread_example/spread.py", "LICENSE", "vector_spread_example/images/a.gif"}


def exists(target: PurePosixPath) -> bool:
    return str(target) in EXISTING


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("spherical_codes.ipynb", "spherical_codes.html"),  # same folder
        ("../gradient_tape_basics/basics.ipynb", "../gradient_tape_basics/basics.html"),
        (
            "../gradient_tape_basics/basics.ipynb#14.-Performance",
            "../gradient_tape_basics/basics.html#14.-Performance",
        ),
        ("my%20notes.ipynb#a", "my%20notes.html#a"),  # percent-encoding kept
        ("../README.md", "../index.html"),
        ("spread.py", "spread.py.txt"),  # shown as text, not downloaded
        ("../LICENSE", "../LICENSE.txt"),
        ("images/a.gif", "images/a.gif"),  # browsers show images as they are
        ("missing.py", "missing.py"),  # left for the browser test to report
        ("#3.-Loss", "#3.-Loss"),
        ("https://example.org/x.ipynb", "https://example.org/x.ipynb"),
        ("/abs/x.ipynb", "/abs/x.ipynb"),
        ("../../outside.ipynb", "../../outside.ipynb"),  # leaves the repository
    ],
)
def test_rewrite_url_points_notebook_links_at_pages(url, expected):
    assert rewrite_url(url, PAGE, is_file=exists) == expected


def test_rewrite_url_from_the_index_at_the_root():
    assert rewrite_url("a/x.ipynb", PurePosixPath("index.html"), is_file=exists) == "a/x.html"


def test_rewrite_links_changes_attributes_only_and_lists_linked_files():
    markup = (
        "<p><a href=\"other.ipynb#part\">other</a> <a href='spread.py'>code</a>"
        ' <img src="images/a.gif" alt="a"> <img src="data:image/gif;base64,R0lG" alt="b"></p>'
        '<pre>&lt;a href=&quot;kept.ipynb&quot;&gt;</pre> <a href="#top">top</a>'
    )
    rewritten, files = rewrite_links(markup, PAGE, is_file=exists)
    assert '<a href="other.html#part">' in rewritten
    assert '<a href="spread.py.txt">' in rewritten
    assert 'src="images/a.gif"' in rewritten and 'src="data:image/gif;base64,R0lG"' in rewritten
    assert "href=&quot;kept.ipynb&quot;" in rewritten  # code shown to the reader is not touched
    assert files == {
        PurePosixPath("vector_spread_example/spread.py"),
        PurePosixPath("vector_spread_example/images/a.gif"),
    }


README = """# The project

| notebook | what it teaches |
| --- | --- |
| [`a/first.ipynb`](a/first.ipynb) | One. |

![an animation](a/images/anim.gif)
"""


def test_index_links_readme_table_to_pages_and_lists_the_rest():
    pages = {PurePosixPath("a/first.html"): "First", PurePosixPath("b/new.html"): "A new notebook"}
    page, files = index_html(README, pages)
    assert '<a href="a/first.html">' in page and 'first.ipynb"' not in page
    assert "<title>The project</title>" in page
    table, more = page.split('id="more-notebooks"', 1)
    assert '<a href="b/new.html">A new notebook</a>' in more and "first.html" not in more
    assert "</table>" in table and "anim.gif" in more  # listed right after the table
    assert files == {PurePosixPath("a/images/anim.gif")}


def test_index_has_no_more_notebooks_section_when_readme_links_all():
    page, _ = index_html(README, {PurePosixPath("a/first.html"): "First"})
    assert "more-notebooks" not in page


def test_notebook_title_is_the_first_h1_without_markup():
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("Intro\n\n# The *tape* `itself`\n\n## Part")]
    )
    assert notebook_title(notebook, "fallback") == "The tape itself"
    assert notebook_title(nbformat.v4.new_notebook(), "fallback") == "fallback"


def test_exported_page_loads_nothing_from_outside_the_site(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title\n\nA formula $x^2$ and [next](../b/next.ipynb#part)."),
            nbformat.v4.new_code_cell("1 + 1", outputs=[]),
        ]
    )
    source = tmp_path / "nb.ipynb"
    nbformat.write(notebook, source)
    markup, title = export_notebook(make_exporter(), source, PurePosixPath("a/nb.html"))
    assert title == "Title"
    assert '<script defer="" src="../_static/mathjax/tex-chtml-full.js">' in markup
    assert '<a href="../index.html">' in markup
    for tag in ("<script src=", "<link href=", "<link rel=", "@import"):
        for piece in markup.split(tag)[1:]:
            assert not piece.lstrip("\"'").startswith(("http", "//")), f"external {tag}{piece[:80]}"
    assert "cdnjs" not in markup and "require.js" not in markup
    assert rewrite_links(markup, PurePosixPath("a/nb.html"))[0].count('href="../b/next.html#part"') == 1


def test_build_names_a_notebook_that_cannot_be_exported(tmp_path, monkeypatch):
    import tools.site as site

    monkeypatch.setattr(site, "REPO_ROOT", tmp_path)
    (tmp_path / "a").mkdir()
    broken = tmp_path / "a" / "half_written.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(site.SiteBuildError, match=r"a/half_written.ipynb not exported: NotJSONError"):
        site.build(tmp_path / "site", [broken])


def test_clear_output_folder_refuses_a_folder_it_did_not_build(tmp_path):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match="site.json"):
        clear_output_folder(tmp_path)
    assert (tmp_path / "keep.txt").is_file()
    (tmp_path / "site.json").write_text("{}", encoding="utf-8")
    clear_output_folder(tmp_path)
    assert list(tmp_path.iterdir()) == []


def link(raw, path, hash_="", hash_raw=None, origin="http://127.0.0.1:1"):
    return {"raw": raw, "origin": origin, "path": path, "hash": hash_, "hashRaw": hash_raw or hash_}


def test_link_problems_name_missing_pages_ids_and_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "spread.py.txt").write_text("x", encoding="utf-8")
    ids = {"index.html": {"top"}, "a/x.html": {"intro", "3.-Loss-$(%5Ceta)$"}}
    links = [
        link("#top", "/index.html", "top"),
        link("a/x.html#intro", "/a/x.html", "intro"),
        link("a/x.html#3", "/a/x.html", "3.-Loss-$(\\eta)$", "3.-Loss-$(%5Ceta)$"),  # id as written
        link("a/spread.py.txt", "/a/spread.py.txt"),
        link("https://example.org", "/", origin="https://example.org"),  # external: not checked
        link("#gone", "/index.html", "gone"),
        link("a/x.html#gone", "/a/x.html", "gone"),
        link("a/y.html", "/a/y.html"),
        link("a/", "/a/"),
    ]
    problems = link_problems("index.html", links, "http://127.0.0.1:1", ids, tmp_path)
    assert problems == [
        "link '#gone': no element with id 'gone' on this page",
        "link 'a/x.html#gone': no element with id 'gone' on a/x.html",
        "link 'a/y.html': a/y.html is not in the site",
        "link 'a/': a/index.html is not in the site",
    ]


def test_image_and_math_problems():
    images = [
        {"src": "ok.gif", "width": 800, "decodeError": None, "frames": 10, "gifError": None},
        {"src": "still.gif", "width": 800, "decodeError": None, "frames": 1, "gifError": None},
        {"src": "broken.png", "width": 0, "decodeError": "EncodingError", "frames": None, "gifError": None},
    ]
    assert image_problems(images) == [
        "GIF has 1 frame: still.gif",
        "image does not decode: broken.png (EncodingError)",
    ]
    assert math_problems(None, notebook_page=True) == ["MathJax did not load"]
    assert math_problems(None, notebook_page=False) == []
    good = {"typeset": 3, "texErrors": [], "unrendered": 0, "leftover": []}
    assert math_problems(good, notebook_page=True) == []
    bad = {**good, "texErrors": ["Undefined control sequence \\foo: \\foo"], "leftover": ["$$"]}
    assert math_problems(bad, notebook_page=True) == [
        "TeX error, Undefined control sequence \\foo: \\foo",
        "raw TeX left in the Markdown: ['$$']",
    ]
