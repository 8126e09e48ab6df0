"""Open every page of the reading site in headless Chromium and check what a reader gets
(``make site-test``, after ``make site``).

    python tools/site_test.py               # the site in site/
    python tools/site_test.py --site DIR    # another build of tools/site.py

The site is served from a loopback HTTP server this script starts (127.0.0.1, a free port;
folders are not listed, as on GitHub Pages). Chromium is the Debian package
(``apt-get install chromium``; another Chromium-based browser with ``CHROMIUM=path``), driven
by Playwright; no browser is downloaded. Every request
that leaves the server is blocked and counted as a failure: the site must work offline.

It fails unless, on every page:

- every ``<img>`` decodes (``naturalWidth`` > 0) and every GIF has more than one frame
  (counted by the browser's own decoder, WebCodecs ``ImageDecoder``);
- every link inside the site resolves: a same-page ``#id`` to an element of the page, a link
  to another page to that page (and its ``#id`` to an element there), any other file to a file;
- MathJax loaded (notebook pages), typeset every formula it found without a TeX error (no
  ``merror``, no undefined macro), and left no raw TeX in the Markdown's text (``$$``, a ``$``
  before anything but a space or digit, ``\\begin{``, ``\\(``, ``\\[``);
- the console shows no error, no script throws, and no request fails.

Every page has a notebook found by ``tools/run_notebooks.py`` behind it and vice versa. One
full-page screenshot per page is saved to a temporary folder, whose path is printed.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import threading
import time
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parents[1]
# Debian's package; elsewhere name another Chromium-based browser: CHROMIUM=/path/to/chrome
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
PAGE_TIMEOUT_MS = 60_000
MATHJAX_TIMEOUT_MS = 60_000

# Run in each page once it has loaded: decode every image, count GIF frames, list links and
# ids, wait for MathJax to finish and count what it typeset. Returns plain JSON.
INSPECT_PAGE = """
async (mathjaxTimeoutMs) => {
  const short = (src) => src.startsWith("data:") ? src.slice(0, 30) + "..." : src;
  const images = [];
  for (const img of Array.from(document.images)) {
    let decodeError = null;
    try { await img.decode(); } catch (error) { decodeError = String(error); }
    let frames = null, gifError = null;
    try {
      const bytes = await (await fetch(img.currentSrc || img.src)).arrayBuffer();
      const magic = String.fromCharCode(...new Uint8Array(bytes.slice(0, 4)));
      if (magic === "GIF8") {
        const decoder = new ImageDecoder({data: bytes, type: "image/gif"});
        await decoder.tracks.ready;
        await decoder.completed;
        frames = decoder.tracks.selectedTrack.frameCount;
        decoder.close();
      }
    } catch (error) { gifError = String(error); }
    images.push({src: short(img.getAttribute("src") || ""), alt: img.alt,
                 width: img.naturalWidth, decodeError, frames, gifError});
  }
  const links = Array.from(document.querySelectorAll("a[href]")).map((a) => {
    const raw = a.getAttribute("href");
    let url = null;
    try { url = new URL(raw, location.href); } catch (error) { return {raw, bad: true}; }
    // A fragment matches an id as written or percent-decoded (HTML's indicated element).
    const hashRaw = url.hash.slice(1);
    let hash = hashRaw;
    try { hash = decodeURIComponent(hashRaw); } catch (error) { /* keep it as written */ }
    return {raw, origin: url.origin, path: decodeURIComponent(url.pathname), hashRaw, hash};
  });
  const ids = Array.from(document.querySelectorAll("[id]")).map((e) => e.id)
    .concat(Array.from(document.querySelectorAll("a[name]")).map((e) => e.name));
  let math = null;
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    const timeout = new Promise((resolve) => setTimeout(() => resolve("timeout"), mathjaxTimeoutMs));
    if (await Promise.race([MathJax.startup.promise.then(() => "done"), timeout]) === "timeout") {
      math = {timedOut: true};
    } else {
      const items = Array.from(MathJax.startup.document.math);
      const texErrors = [];
      for (const item of items) {
        let error = null;
        item.root.walkTree((node) => {
          if (error) return;
          if (node.isKind("merror")) error = node.attributes.get("data-mjx-error") || "error";
          if (node.isKind("mtext") && node.attributes.get("mathcolor") === "red") {
            error = "undefined macro";
          }
        });
        if (error) texErrors.push(`${error}: ${item.math}`);
      }
      const unrendered = items.filter((item) => !(item.typesetRoot && item.typesetRoot.isConnected));
      // The Markdown's text without code (MathJax leaves code alone) and typeset math.
      const markdown = Array.from(document.querySelectorAll(".jp-RenderedMarkdown")).map((e) => {
        const copy = e.cloneNode(true);
        copy.querySelectorAll("pre, code, mjx-container, script").forEach((x) => x.remove());
        return copy.textContent;
      }).join("\\n");
      const leftover = markdown.match(/\\$\\$|\\$[^\\s\\d$][^$]{0,20}|\\\\begin\\{|\\\\\\(|\\\\\\[/g) || [];
      math = {version: MathJax.version, typeset: items.length, texErrors,
              unrendered: unrendered.length, leftover: leftover.slice(0, 5)};
    }
  }
  return {images, links, ids, math, title: document.title};
}
"""


class QuietHandler(SimpleHTTPRequestHandler):
    """Serve files; answer 404 for a folder without index.html (GitHub Pages lists none)."""

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND, "no folder listings")
        return None

    def log_message(self, format, *args):  # the browser's own report says what failed
        pass


def start_server(root: Path) -> tuple[ThreadingHTTPServer, str]:
    """A loopback HTTP server for ``root`` on a free port, in a daemon thread."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def image_problems(images: list[dict]) -> list[str]:
    """One line per image that does not decode or GIF with fewer than two frames."""
    problems = []
    for image in images:
        if image["width"] <= 0 or image["decodeError"]:
            problems.append(f"image does not decode: {image['src']} ({image['decodeError']})")
        if image["gifError"]:
            problems.append(f"GIF frames not readable: {image['src']} ({image['gifError']})")
        elif image["frames"] is not None and image["frames"] < 2:
            problems.append(f"GIF has {image['frames']} frame: {image['src']}")
    return problems


def math_problems(math: dict | None, notebook_page: bool) -> list[str]:
    """What went wrong with the formulas of a page (MathJax must run on notebook pages)."""
    if math is None:
        return ["MathJax did not load"] if notebook_page else []
    if math.get("timedOut"):
        return [f"MathJax did not finish within {MATHJAX_TIMEOUT_MS / 1000:.0f} s"]
    problems = [f"TeX error, {error}" for error in math["texErrors"]]
    if math["unrendered"]:
        problems.append(f"{math['unrendered']} formula(s) without typeset output")
    if math["leftover"]:
        problems.append(f"raw TeX left in the Markdown: {math['leftover']}")
    return problems


def link_problems(
    page: str, links: list[dict], origin: str, ids: dict[str, set[str]], site: Path
) -> list[str]:
    """One line per link inside the site that does not resolve: a missing page, element id or
    file. ``ids`` maps every page (site path) to the element ids it has."""
    problems = []
    for link in links:
        if link.get("bad"):
            problems.append(f"malformed link {link['raw']!r}")
            continue
        if link["origin"] != origin:
            continue  # an external address: not reachable offline, not checked here
        target = link["path"].lstrip("/") or "index.html"
        if target.endswith("/"):
            target += "index.html"
        if target in ids:
            if link["hash"] and not {link["hash"], link["hashRaw"]} & ids[target]:
                where = "on this page" if target == page else f"on {target}"
                problems.append(f"link {link['raw']!r}: no element with id {link['hash']!r} {where}")
        elif not (site / PurePosixPath(target)).is_file():
            problems.append(f"link {link['raw']!r}: {target} is not in the site")
        elif link["hash"] and target.endswith(".html"):
            problems.append(f"link {link['raw']!r}: {target} is not a page the test opened")
    return problems


def expected_pages(manifest: dict) -> list[str]:
    """Notebooks on disk without a page, or pages without a notebook (a stale site)."""
    sys.path.insert(0, str(REPO_ROOT))
    from tools.run_notebooks import find_notebooks

    on_disk = {path.relative_to(REPO_ROOT).as_posix() for path in find_notebooks([REPO_ROOT])}
    built = set(manifest["notebooks"].values())
    return [f"notebook without a page (run make site): {name}" for name in sorted(on_disk - built)] + [
        f"page of a notebook that no longer exists (run make site): {name}"
        for name in sorted(built - on_disk)
    ]


def watch(page, base: str, issues: list[str]) -> None:
    """Record on ``issues`` what goes wrong while ``page`` loads: console errors, uncaught
    script errors, failed requests and HTTP errors; block (and record) requests that leave
    the site's server at ``base``."""

    def route(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            issues.append(f"request outside the site: {route.request.url[:120]}")
            route.abort()

    def console(message):
        if message.type == "error":
            issues.append(f"console error: {message.text}")

    def response(response):
        if response.status >= 400:
            issues.append(f"HTTP {response.status}: {response.url}")

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: issues.append(f"script error: {error}"))
    page.on("requestfailed", lambda request: issues.append(f"request failed: {request.url[:120]}"))
    page.on("response", response)


def check_site(site: Path, screenshots: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Open every page; return ``{page: problems}`` and one summary line per page."""
    from playwright.sync_api import sync_playwright

    manifest = json.loads((site / "site.json").read_text(encoding="utf-8"))
    problems: dict[str, list[str]] = {"(site)": expected_pages(manifest)}
    summary, results = [], {}
    server, base = start_server(site)
    origin = base.rstrip("/")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=VIEWPORT)
            for page_path in manifest["pages"]:
                issues = problems.setdefault(page_path, [])
                page = context.new_page()
                watch(page, base, issues)
                start = time.perf_counter()
                page.goto(base + page_path, wait_until="load", timeout=PAGE_TIMEOUT_MS)
                result = page.evaluate(INSPECT_PAGE, MATHJAX_TIMEOUT_MS)
                shot = screenshots / (page_path.replace("/", "__").removesuffix(".html") + ".png")
                page.screenshot(path=str(shot), full_page=True)
                page.close()
                results[page_path] = result
                issues += image_problems(result["images"])
                issues += math_problems(result["math"], page_path in manifest["notebooks"])
                gifs = [image["frames"] for image in result["images"] if image["frames"]]
                math = result["math"] or {}
                summary.append(
                    f"  {page_path}: {len(result['images'])} images ({len(gifs)} GIFs, "
                    f"{min(gifs, default=0)}-{max(gifs, default=0)} frames), "
                    f"{len(result['links'])} links, {math.get('typeset', 0)} formulas, "
                    f"{time.perf_counter() - start:.1f} s"
                )
            browser.close()
    finally:
        server.shutdown()
    ids = {page: set(result["ids"]) for page, result in results.items()}
    for page_path, result in results.items():
        problems[page_path] += link_problems(page_path, result["links"], origin, ids, site)
    return problems, summary


def summary_pages(summary: list[str]) -> list[str]:
    """The page names of the summary lines (``  page: ...``)."""
    return [line.strip().split(":", 1)[0] for line in summary]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO_ROOT / "site", help="built site (default: site/)")
    args = parser.parse_args(argv)
    if not (args.site / "site.json").is_file():
        print(f"no site in {args.site}: build it first with `make site`", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).is_file():
        print(
            f"{CHROMIUM} missing: install Debian's chromium (apt-get install chromium)"
            " or name another Chromium-based browser in CHROMIUM=",
            file=sys.stderr,
        )
        return 2
    screenshots = Path(tempfile.mkdtemp(prefix="site-screenshots-"))
    start = time.perf_counter()
    problems, summary = check_site(args.site.resolve(), screenshots)
    print("\n".join(summary))
    # One line per problem: a failing image is reported by its load and again by the fetch
    # that counts its frames.
    failed = {page: list(dict.fromkeys(lines)) for page, lines in problems.items() if lines}
    for page, lines in failed.items():
        print(f"FAILED {page}:", file=sys.stderr)
        for line in lines:
            print(f"  {line}", file=sys.stderr)
    print(f"screenshots: {screenshots}")
    print(f"{len(summary)} pages checked in {time.perf_counter() - start:.0f} s")
    passed = sum(1 for page in summary_pages(summary) if not problems.get(page))
    print(f"site-test: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
