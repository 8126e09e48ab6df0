"""Where figures and animations are written, and how.

Every notebook writes into ``images/`` beside itself, so the committed figures
and GIFs sit next to the notebook that made them. When the environment
variable ``GDTF_OUTPUT_DIR`` is set (the test suite sets it to a temporary
directory), files go to ``$GDTF_OUTPUT_DIR/<notebook folder>/`` instead, so a
test run never overwrites the committed files.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

import numpy as np

OUTPUT_ENV_VAR = "GDTF_OUTPUT_DIR"


def output_dir() -> Path:
    """Return (and create) the folder figures are saved into.

    Notebooks run with their own folder as the working directory (Jupyter,
    nbval and ``make run`` all do this), so the folder is derived from it.
    """
    notebook_dir = Path.cwd()
    override = os.environ.get(OUTPUT_ENV_VAR)
    folder = Path(override) / notebook_dir.name if override else notebook_dir / "images"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_fig(fig, name: str, dpi: int = 100) -> Path:
    """Save a matplotlib figure as ``name`` (e.g. ``"loss.png"``) in :func:`output_dir`."""
    path = output_dir() / name
    # Pin the metadata so regenerated PNGs are byte-identical when nothing changed.
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path


def save_gif(
    fig, update, frames: int, name: str, fps: int = 10, dpi: int = 80, max_bytes: int | None = None
) -> Path:
    """Render an animation to a looping GIF with Pillow (no external programs).

    ``update(frame)`` moves the figure to frame ``frame`` and returns the
    artists it changed. Everything else is drawn once and reused (blitting):
    about twenty times faster than ``FuncAnimation.save``, which redraws axes,
    ticks and contours for every frame. The figure is closed afterwards.

    ``max_bytes`` turns a size budget into a hard check: a GIF that grew past
    it raises instead of being committed silently.
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    moving = update(0)
    for artist in moving:
        artist.set_animated(True)  # left out of the full draw below
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)

    pixels = []
    for frame in range(frames):
        canvas.restore_region(background)
        for artist in update(frame):
            fig.draw_artist(artist)
        pixels.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)

    # One palette for every frame (taken from the last, where most is drawn):
    # unchanged regions then have identical bytes, and Pillow stores only the
    # part of each frame that differs from the one before.
    palette = Image.fromarray(pixels[-1]).quantize(colors=255, dither=Image.Dither.NONE)
    images = [Image.fromarray(p).quantize(palette=palette, dither=Image.Dither.NONE) for p in pixels]

    path = output_dir() / name
    images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise RuntimeError(f"{name} is {size / 1e6:.2f} MB, over its {max_bytes / 1e6:.2f} MB budget")
    return path


# One size budget for every committed GIF: a single notebook output stays under ~500 KB, the
# limit past which renderers (GitHub, nbviewer) start to struggle. save_gif raises past it.
GIF_BUDGET_BYTES = 480_000


class EmbeddedImage:
    """A saved image, embedded in the notebook as an HTML ``<img>`` with a base64 data URI.

    JupyterLab, classic Jupyter, nbviewer and nbconvert's HTML export show HTML outputs, and a
    data URI keeps the image inside the ``.ipynb``. GIFs need this: nbconvert (and so nbviewer)
    has no ``image/gif`` in its display priority and would print the text fallback instead of
    the animation. ``description`` is the image's alt text (what a screen reader says) and the
    plain-text fallback, which viewers that skip HTML (VS Code's Restricted Mode) show instead.
    """

    MIME_TYPES = {".gif": "image/gif", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

    def __init__(self, path: Path, description: str, width: int | None = None):
        self.path = Path(path)
        if self.path.suffix.lower() not in self.MIME_TYPES:
            raise ValueError(f"{self.path}: can only embed {', '.join(self.MIME_TYPES)} images")
        if not self.path.is_file():
            raise FileNotFoundError(f"image to embed not found: {self.path}")
        if not isinstance(description, str) or len(description.strip()) < 10:
            raise ValueError(f"{self.path.name}: describe the image in words, got {description!r}")
        self.description = description.strip()
        self.width = width

    @property
    def kind(self) -> str:
        return "Animation" if self.path.suffix.lower() == ".gif" else "Figure"

    def _repr_html_(self) -> str:
        mime = self.MIME_TYPES[self.path.suffix.lower()]
        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        size = f' width="{self.width}"' if self.width else ""
        alt = html.escape(self.description, quote=True)
        name = html.escape(self.path.name, quote=True)
        return f'<img src="data:{mime};base64,{data}" alt="{alt}" data-file="{name}"{size}/>'

    def __repr__(self) -> str:
        return f"{self.kind}: {self.description} (images/{self.path.name})"


def show_image(path: Path, description: str, width: int | None = None) -> EmbeddedImage:
    """Show a saved PNG or GIF (animated) in the notebook and in static viewers of it.

    ``description`` says in words what the image shows (alt text and plain-text fallback).
    """
    return EmbeddedImage(path, description, width)


def show_fig(fig, name: str, description: str, dpi: int = 100) -> EmbeddedImage:
    """Save a matplotlib figure as ``name`` (see :func:`save_fig`), close it and show it, described.

    Use it instead of ``plt.show()``: the inline backend's PNG output has no alt text.
    """
    import matplotlib.pyplot as plt

    path = save_fig(fig, name, dpi=dpi)
    plt.close(fig)
    return EmbeddedImage(path, description)


class SourceCode:
    """The source of a function or class, shown as a highlighted Python block in every viewer."""

    def __init__(self, *objects):
        import inspect

        self.source = "\n\n".join(inspect.getsource(obj).rstrip() for obj in objects)

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.source}\n```"

    def __repr__(self) -> str:
        return self.source


def show_code(*objects) -> SourceCode:
    """Show the code of functions kept in a module beside the notebook, where the notebook teaches them.

    The module stays the one source of truth (tests and benchmarks import it); the reader still sees
    every line that runs.
    """
    return SourceCode(*objects)
