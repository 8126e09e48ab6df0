"""Build the reading site (``make site``): every notebook as an HTML page, an index from the README.

    python tools/site.py                 # into site/ (ignored by git)
    python tools/site.py --out /tmp/x    # elsewhere

What lands in the site folder:

- ``index.html``: the README rendered, its links to notebooks pointing at their pages; a
  notebook on disk that the README does not link yet is listed under "More notebooks";
- ``<folder>/<notebook>.html`` for every notebook ``tools/run_notebooks.py`` finds, exported
  by nbconvert's ``lab`` template with its committed outputs (the GIFs are data URIs already);
  links to ``x.ipynb`` or ``../folder/x.ipynb`` (with or without ``#anchor``) point at pages;
- every repository file a page links to or shows, so relative links keep working: images
  at their own path (``images/anim_1.gif``), other files with ``.txt`` appended
  (``spread.py.txt``) so that a click shows them as text;
- ``_static/mathjax/``: MathJax 3.2 from the pinned ``django-static-mathjax`` package (a
  plain copy of MathJax's release), so formulas typeset without a CDN, offline too;
- ``site.json``: the pages and the notebooks they come from, for ``tools/site_test.py``.

Nothing is downloaded: the pages load nothing from outside the site (require.js and the
mermaid loader of the template are dropped: no notebook uses widgets or mermaid diagrams).
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import json
import posixpath
import re
import shutil
import sys
import time
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import jinja2
import nbformat
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from pygments.formatters import HtmlFormatter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_notebooks import REPO_ROOT, find_notebooks  # noqa: E402

DEFAULT_OUT = REPO_ROOT / "site"
MANIFEST = "site.json"
INDEX = "index.html"
MATHJAX_DIR = "_static/mathjax"
# MathJax's one-file TeX-to-HTML build with every TeX extension; it loads its fonts (and, when
# a reader asks for them in its menu, accessibility parts) from beside itself.
MATHJAX_SCRIPT = "tex-chtml-full.js"
# What of MathJax's es5/ folder the site leaves out: other builds (SVG output, MathML input,
# Node) and latest.js, which would load MathJax from a CDN.
MATHJAX_UNUSED = [
    "*svg*",
    "mml-chtml.js",
    "tex-mml-chtml.js",
    "tex-chtml.js",
    "*-speech.js",
    "node-main.js",
    "latest.js",
    "liteDOM.js",
    "asciimath.js",
]

# One href="..." or src="..." attribute, either quote. Code cells and text outputs are
# HTML-escaped (href=&quot;...), so only real attributes match.
ATTRIBUTE = re.compile(r"""(\s(?:href|src)=)(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)

# nbconvert's lab template with three changes: no require.js and no mermaid loader (both
# from a CDN, neither needed), MathJax 3 from the site itself (nbconvert's delimiters and AMS
# numbering, plus MathJax's "safe" filter as nbconvert's ",Safe"), and a link to the index.
PAGE_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  tex: {
    inlineMath: [["$", "$"], ["\\(", "\\)"]],
    displayMath: [["$$", "$$"], ["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams"
  },
  loader: {load: ["ui/safe"]}
};
</script>
<script src="{{ resources.site_mathjax_url }}" defer></script>
<style type="text/css">
.site-nav { max-width: 1200px; margin: 0 auto; padding: 8px 16px; font-family: sans-serif; }
/* Code shown as a Markdown output (gdtf.show_code): the lab template makes output <pre>
   inherit the surrounding font, which is proportional in Markdown. */
.jp-RenderedMarkdown.jp-OutputArea-output pre {
  font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size);
}
</style>
{%- endblock html_head_js_mathjax -%}
{%- block body_header -%}
{{ super() }}
<nav class="site-nav"><a href="{{ resources.site_index_url }}">&larr; All notebooks</a></nav>
{%- endblock body_header -%}
"""

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; line-height: 1.5; color: #1f2328;
       max-width: 980px; margin: 0 auto; padding: 16px 24px 48px; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #d0d7de; padding: 6px 12px; vertical-align: top; text-align: left; }}
img {{ max-width: 100%; }}
pre {{ background: #f6f8fa; padding: 12px; overflow-x: auto; }}
code {{ font-size: 90%; }}
a.anchor-link {{ display: none; }}
{pygments_css}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


class SiteBuildError(RuntimeError):
    """A notebook that cannot be turned into a page (named in the message)."""


def page_for(notebook: PurePosixPath) -> PurePosixPath:
    """The page of a notebook, at the notebook's own path: ``a/b.ipynb`` -> ``a/b.html``."""
    return notebook.with_suffix(".html")


def is_local(url: str) -> bool:
    """Whether a link or image address points inside the site (a relative path, no scheme)."""
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc or url.startswith("/"))


def resolve(url: str, page: PurePosixPath) -> PurePosixPath | None:
    """The repository path a relative address on ``page`` names, or None (pure ``#anchor``,
    external address, or one that leaves the repository)."""
    if not is_local(url):
        return None
    path = unquote(urlsplit(url).path)
    if not path:
        return None
    target = posixpath.normpath(posixpath.join(str(page.parent), path))
    if target == ".." or target.startswith("../"):
        return None
    return PurePosixPath(target)


# Files a browser shows as they are; a linked file of any other kind (``spread.py``,
# ``SOURCES.md``, ``LICENSE``) is copied with ``.txt`` appended, so that a click shows it as
# text instead of downloading it (and no copied ``test_*.py`` lands where pytest collects).
SHOWN_AS_IS = {".html", ".png", ".gif", ".jpg", ".jpeg", ".svg", ".webp", ".json", ".txt", ".pdf"}


def site_path(target: PurePosixPath) -> PurePosixPath:
    """Where a repository file lives in the site: a notebook as its page, the README as the
    index, a text file with ``.txt`` appended, images and the like at their own path."""
    if target.suffix == ".ipynb":
        return page_for(target)
    if str(target) == "README.md":
        return PurePosixPath(INDEX)
    if target.suffix.lower() in SHOWN_AS_IS:
        return target
    return target.with_name(target.name + ".txt")


def repository_file(target: PurePosixPath) -> bool:
    """Whether ``target`` is a file of the repository outside hidden folders (.git, .venv)."""
    hidden = any(part.startswith(".") for part in target.parts)
    return not hidden and (REPO_ROOT / target).is_file()


def generated(target: PurePosixPath) -> bool:
    """Whether a site path is made by the build (a page, the index, MathJax), not copied."""
    return target.suffix in (".ipynb", ".html") or str(target) == "README.md" or target.parts[0] == "_static"


def rewrite_url(url: str, page: PurePosixPath, is_file=repository_file) -> str:
    """Point a relative address on ``page`` (a site path) at the file's place in the site.

    ``../x/y.ipynb#part`` becomes ``../x/y.html#part``, ``../README.md`` becomes
    ``../index.html``, ``spread.py`` becomes ``spread.py.txt``. Anchors, external addresses,
    images and addresses of files that do not exist (``is_file`` is false; notebooks and the
    README excepted, so a link to a missing notebook names its missing page) stay as they are.
    """
    target = resolve(url, page)
    always = target is not None and (target.suffix == ".ipynb" or str(target) == "README.md")
    if target is None or not (always or is_file(target)):
        return url
    new_target = site_path(target)
    if new_target == target:
        return url
    parts = urlsplit(url)
    relative = posixpath.relpath(str(new_target), str(page.parent) or ".")
    return urlunsplit(("", "", quote(relative), parts.query, parts.fragment))


def rewrite_links(markup: str, page: PurePosixPath, is_file=repository_file) -> tuple[str, set]:
    """Rewrite every ``href``/``src`` of a page with :func:`rewrite_url`.

    Returns the new markup and the repository paths of the other files it links to or shows
    (notebooks and the README excluded); the build copies them into the site.
    """
    files: set[PurePosixPath] = set()

    def replace(match: re.Match) -> str:
        quoted = match.group(2) if match.group(2) is not None else match.group(3)
        url = html.unescape(quoted)
        if url.startswith("data:"):
            return match.group(0)
        target = resolve(url, page)
        if target is not None and not generated(target):
            files.add(target)
        new_url = rewrite_url(url, page, is_file)
        if new_url == url:
            return match.group(0)
        return f'{match.group(1)}"{html.escape(new_url, quote=True)}"'

    return ATTRIBUTE.sub(replace, markup), files


def linked_pages(markup: str, page: PurePosixPath) -> set[PurePosixPath]:
    """The ``.html`` pages (site paths) that ``href`` attributes of ``markup`` point at."""
    found = set()
    for match in ATTRIBUTE.finditer(markup):
        if not match.group(1).strip().lower().startswith("href"):
            continue
        url = html.unescape(match.group(2) if match.group(2) is not None else match.group(3))
        target = resolve(url, page)
        if target is not None and target.suffix == ".html":
            found.add(target)
    return found


def notebook_title(notebook, fallback: str) -> str:
    """The text of the notebook's first level-1 Markdown heading, else ``fallback``."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("# "):
                return re.sub(r"[*_`]", "", line[2:]).strip()
    return fallback


def index_html(readme_markdown: str, pages: dict[PurePosixPath, str]) -> tuple[str, set]:
    """The index page: the README as HTML, its notebook links pointing at the pages, and, after
    its notebook table, a "More notebooks" list of the pages (``{page: title}``) it does not
    link yet.
    Returns the page and the repository files it links to or shows (see :func:`rewrite_links`)."""
    body, files = rewrite_links(markdown2html_mistune(readme_markdown), PurePosixPath(INDEX))
    unlinked = sorted(set(pages) - linked_pages(body, PurePosixPath(INDEX)))
    if unlinked:
        items = "\n".join(
            f'<li><a href="{html.escape(str(page), quote=True)}">{html.escape(pages[page])}</a>'
            f" (<code>{html.escape(str(page.with_suffix('.ipynb')))}</code>)</li>"
            for page in unlinked
        )
        more = f'\n<h2 id="more-notebooks">More notebooks</h2>\n<ul>\n{items}\n</ul>\n'
        # Right after the README's notebook table (its first table), else at the end.
        at = body.find("</table>")
        at = len(body) if at < 0 else at + len("</table>")
        body = body[:at] + more + body[at:]
    title_match = re.search(r"^# (.+)$", readme_markdown, re.MULTILINE)
    title = title_match.group(1).strip() if title_match else "Notebooks"
    page = INDEX_TEMPLATE.format(
        title=html.escape(title),
        pygments_css=HtmlFormatter().get_style_defs(".highlight"),
        body=body,
    )
    return page, files


def make_exporter() -> HTMLExporter:
    """nbconvert's HTML exporter with the ``lab`` template and :data:`PAGE_TEMPLATE` on top."""
    return HTMLExporter(
        template_name="lab",
        template_file="site.html.j2",
        extra_loaders=[jinja2.DictLoader({"site.html.j2": PAGE_TEMPLATE})],
    )


def export_notebook(exporter: HTMLExporter, source: Path, page: PurePosixPath) -> tuple[str, str]:
    """``(html, title)`` of one notebook's page, links not yet rewritten."""
    notebook = nbformat.read(source, as_version=4)
    title = notebook_title(notebook, page.stem)
    notebook.metadata["title"] = title  # the page's <title>; the file on disk is not touched
    up = posixpath.relpath(".", str(page.parent))
    resources = {
        "metadata": {"name": page.stem},
        "site_mathjax_url": f"{up}/{MATHJAX_DIR}/{MATHJAX_SCRIPT}",
        "site_index_url": f"{up}/{INDEX}",
    }
    markup, _ = exporter.from_notebook_node(notebook, resources=resources)
    return markup, title


def mathjax_source() -> Path:
    """MathJax 3's browser builds (``es5/``) as the pinned ``django-static-mathjax`` ships them
    (found without importing the package, which is a Django app)."""
    spec = importlib.util.find_spec("mathjax")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        es5 = Path(folder) / "static" / "mathjax" / "es5"
        if (es5 / MATHJAX_SCRIPT).is_file():
            return es5
    raise FileNotFoundError(f"{MATHJAX_SCRIPT} not found: install django-static-mathjax (requirements.txt)")


def clear_output_folder(out: Path) -> None:
    """Empty ``out`` for a fresh build; refuse a non-empty folder this script did not build."""
    if out.exists():
        if any(out.iterdir()) and not (out / MANIFEST).is_file():
            raise FileExistsError(f"{out} is not empty and has no {MANIFEST}: not a site built here")
        shutil.rmtree(out)
    out.mkdir(parents=True)


def copy_linked_files(files: set[PurePosixPath], out: Path) -> list[str]:
    """Copy the repository files pages link to or show to their :func:`site_path`; return
    those that are not repository files (the browser test reports the pages linking them)."""
    missing = []
    for target in sorted(files):
        if not repository_file(target):
            missing.append(str(target))
            continue
        destination = out / site_path(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / target, destination)
    return missing


def build(out: Path, notebooks: list[Path]) -> dict:
    """Build the whole site into ``out``; return the manifest written to ``site.json``."""
    clear_output_folder(out)
    exporter = make_exporter()
    titles: dict[PurePosixPath, str] = {}
    sources: dict[str, str] = {}
    files: set[PurePosixPath] = set()
    for source in notebooks:
        notebook = PurePosixPath(source.relative_to(REPO_ROOT).as_posix())
        page = page_for(notebook)
        start = time.perf_counter()
        try:
            markup, titles[page] = export_notebook(exporter, source, page)
        except Exception as error:  # unreadable JSON, invalid notebook, template error
            raise SiteBuildError(f"{notebook} not exported: {type(error).__name__}: {error}") from error
        markup, linked = rewrite_links(markup, page)
        files |= linked
        (out / page).parent.mkdir(parents=True, exist_ok=True)
        (out / page).write_text(markup, encoding="utf-8")
        sources[str(page)] = str(notebook)
        size = len(markup.encode()) / 1e6
        print(f"  {page}: {size:.1f} MB in {time.perf_counter() - start:.1f} s", flush=True)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    index, linked = index_html(readme, titles)
    files |= linked
    (out / INDEX).write_text(index, encoding="utf-8")
    shutil.copytree(mathjax_source(), out / MATHJAX_DIR, ignore=shutil.ignore_patterns(*MATHJAX_UNUSED))
    missing = copy_linked_files(files, out)
    manifest = {
        "index": INDEX,
        "pages": [INDEX, *sorted(sources)],
        "notebooks": sources,
        "mathjax": f"{MATHJAX_DIR}/{MATHJAX_SCRIPT}",
        "not_copied": missing,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="site folder (default: site/)")
    args = parser.parse_args(argv)
    notebooks = find_notebooks([REPO_ROOT])
    if not notebooks:
        print(f"no notebooks found under {REPO_ROOT}", file=sys.stderr)
        return 1
    start = time.perf_counter()
    try:
        manifest = build(args.out.resolve(), notebooks)
    except (FileExistsError, FileNotFoundError, SiteBuildError) as error:
        print(f"site not built: {error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    print(f"{len(manifest['pages'])} pages in {args.out} ({elapsed:.1f} s); open {args.out / INDEX}")
    for path in manifest["not_copied"]:
        print(f"  linked but not in the repository (or not a file): {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
