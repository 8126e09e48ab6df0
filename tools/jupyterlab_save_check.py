"""Open notebooks in the pinned JupyterLab, in headless Chromium, save them, and compare the bytes.

A notebook whose metadata differs from what JupyterLab writes (the kernel's display name, say)
is marked modified as soon as it opens, and autosave rewrites it: a reader's `git status` turns
dirty without their touching anything. `tests/test_notebooks.py` checks the metadata and the
nbformat round trip on every test run; this script checks the real thing, once, by hand:

    python tools/jupyterlab_save_check.py                 # every notebook
    python tools/jupyterlab_save_check.py path/to/x.ipynb

It copies each notebook to a temporary folder, starts JupyterLab there on 127.0.0.1, opens the
notebook (a kernel starts), records whether the tab is marked modified, saves with Ctrl+S and
compares the saved file with the committed one. Needs Debian's `chromium` (see `make site-test`).
Exit status 1 if any notebook was marked modified or changed by the save.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tools.run_notebooks import find_notebooks  # noqa: E402
from tools.site_test import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not listen on 127.0.0.1:{port} within {seconds:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[REPO_ROOT])
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--settle", type=float, default=12.0, help="seconds for the kernel to start")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    notebooks = find_notebooks(args.paths)
    root = Path(tempfile.mkdtemp(prefix="gdtf-jupyterlab-"))
    copies = {}
    for index, path in enumerate(notebooks):
        copy = root / f"{index}-{path.name}"
        shutil.copy(path, copy)
        copies[path] = copy
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--IdentityProvider.token=",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    failures = 0
    try:
        wait_for_server(port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            for original, copy in copies.items():
                # A fresh page and a reset workspace: only this notebook's tab is open.
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/lab/tree/{copy.name}?reset")
                page.wait_for_selector(".jp-Notebook", timeout=120_000)
                time.sleep(args.settle)
                modified = page.locator(".jp-mod-dirty").count() > 0
                page.keyboard.press("Control+s")
                time.sleep(4)
                same = copy.read_bytes() == original.read_bytes()
                name = original.relative_to(REPO_ROOT)
                print(
                    f"{name}: marked modified on open: {'yes' if modified else 'no'}; "
                    f"byte-identical after save: {'yes' if same else 'NO'}"
                )
                if modified or not same:
                    failures += 1
                    before = original.read_text(encoding="utf-8").splitlines()
                    after = copy.read_text(encoding="utf-8").splitlines()
                    print("\n".join(list(difflib.unified_diff(before, after, lineterm="", n=0))[:20]))
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
