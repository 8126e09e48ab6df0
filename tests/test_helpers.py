"""The shared notebook helpers: NaN guards, output locations, image and code display, quiet import."""

import matplotlib

matplotlib.use("Agg")
import base64  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from gdtf import (  # noqa: E402
    check_finite,
    check_finite_history,
    output_dir,
    save_fig,
    save_gif,
    show_code,
    show_fig,
    show_image,
)
from gdtf.tensorflow_setup import unexpected_lines  # noqa: E402


def test_check_finite_passes_finite_values():
    check_finite(3, loss=1.0, grad=np.array([0.5, -2.0]))


@pytest.mark.parametrize(("value", "kind"), [(np.nan, "NaN"), (np.inf, "infinite"), (-np.inf, "infinite")])
def test_check_finite_names_iteration_value_and_kind(value, kind):
    with pytest.raises(FloatingPointError, match=f"iteration 7: grad became {kind}"):
        check_finite(7, loss=1.0, grad=np.array([0.0, value]))


def test_check_finite_reports_missing_gradient():
    with pytest.raises(FloatingPointError, match="iteration 0: grad is None"):
        check_finite(0, grad=None)


def test_check_finite_history_reports_first_bad_row():
    history = np.array([[1.0, 2.0], [1.0, np.inf], [np.nan, np.nan]])
    with pytest.raises(FloatingPointError, match="iteration 1: loss became infinite"):
        check_finite_history(history, columns=("slope", "loss"))
    check_finite_history(history[:1], columns=("slope", "loss"))


def test_output_dir_follows_environment_variable(tmp_path, monkeypatch):
    notebook_dir = tmp_path / "some_notebook"
    notebook_dir.mkdir()
    monkeypatch.chdir(notebook_dir)
    monkeypatch.delenv("GDTF_OUTPUT_DIR", raising=False)
    assert output_dir() == notebook_dir / "images"
    monkeypatch.setenv("GDTF_OUTPUT_DIR", str(tmp_path / "elsewhere"))
    assert output_dir() == tmp_path / "elsewhere" / "some_notebook"
    assert output_dir().is_dir()


def moving_dot_animation():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set(xlim=(0, 9), ylim=(0, 1))
    (dot,) = ax.plot([], [], "o", color="red")

    def update(frame):
        dot.set_data([frame], [0.5])
        return [dot]

    return fig, update


def test_save_gif_writes_a_looping_animation(tmp_path, monkeypatch):
    monkeypatch.setenv("GDTF_OUTPUT_DIR", str(tmp_path))
    fig, update = moving_dot_animation()
    path = save_gif(fig, update, frames=10, name="dot.gif", fps=5)
    with Image.open(path) as gif:
        assert gif.n_frames == 10
        assert gif.info["loop"] == 0
        assert gif.info["duration"] == 200
        first = np.asarray(gif.convert("RGB"))
        gif.seek(9)
        last = np.asarray(gif.convert("RGB"))
    assert not np.array_equal(first, last), "frames must differ: the dot moves"


def test_save_gif_enforces_size_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("GDTF_OUTPUT_DIR", str(tmp_path))
    fig, update = moving_dot_animation()
    with pytest.raises(RuntimeError, match="over its"):
        save_gif(fig, update, frames=10, name="dot.gif", max_bytes=100)


def test_save_fig_writes_png(tmp_path, monkeypatch):
    monkeypatch.setenv("GDTF_OUTPUT_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    path = save_fig(fig, "line.png")
    plt.close(fig)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_image_embeds_a_gif_as_html_data_uri(tmp_path, monkeypatch):
    monkeypatch.setenv("GDTF_OUTPUT_DIR", str(tmp_path))
    fig, update = moving_dot_animation()
    path = save_gif(fig, update, frames=3, name="dot.gif")
    html = show_image(path, "A dot moving right")._repr_html_()
    prefix = '<img src="data:image/gif;base64,'
    assert html.startswith(prefix) and 'alt="A dot moving right" data-file="dot.gif"' in html
    encoded = html[len(prefix) : html.index('"', len(prefix))]
    assert base64.b64decode(encoded) == path.read_bytes()


def test_show_image_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.gif"):
        show_image(tmp_path / "missing.gif", "A file that is not there")
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    with pytest.raises(ValueError, match="notes.txt"):
        show_image(tmp_path / "notes.txt", "A text file, not an image")


def test_show_code_shows_the_functions_source():
    markdown = show_code(check_finite, check_finite_history)._repr_markdown_()
    assert markdown.startswith("```python\ndef check_finite(")
    assert "def check_finite_history(" in markdown and markdown.endswith("\n```")


def test_startup_noise_is_dropped_and_everything_else_kept():
    lines = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795489229.675488    2479 port.cc:153] oneDNN custom operations are on. You may see",
        "",
        "E0000 something really went wrong",
    ]
    assert unexpected_lines(lines) == ["E0000 something really went wrong"]


@pytest.mark.parametrize("onednn", ["0", "1"])
def test_tensorflow_imports_without_stderr(onednn):
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    # TensorFlow's and Keras's own open() calls would warn here (third-party, not what this tests).
    env.pop("PYTHONWARNDEFAULTENCODING", None)
    code = (
        "from gdtf import import_tensorflow_quietly\n"
        "tf = import_tensorflow_quietly()\n"
        "print(tf.reduce_sum([1.0, 2.0]).numpy())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, encoding="utf-8", timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3.0"
    assert result.stderr == ""


def test_a_described_image_says_what_it_shows_in_every_viewer(tmp_path):
    path = tmp_path / "dot.gif"
    Image.new("P", (4, 4)).save(path)
    image = show_image(path, 'The loss falls, then "stalls"')
    assert 'alt="The loss falls, then &quot;stalls&quot;"' in image._repr_html_()
    # Viewers that skip HTML (VS Code's Restricted Mode) show the plain-text fallback instead.
    assert repr(image) == 'Animation: The loss falls, then "stalls" (images/dot.gif)'
    with pytest.raises(ValueError, match="describe the image in words"):
        show_image(path, "dot")
    with pytest.raises(TypeError):
        show_image(path)  # a description is required


def test_show_fig_saves_closes_and_describes(tmp_path, monkeypatch):
    monkeypatch.setenv("GDTF_OUTPUT_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    image = show_fig(fig, "line.png", "A line falling from 1 to 0")
    assert image.path.is_file() and not plt.fignum_exists(fig.number)
    assert repr(image) == "Figure: A line falling from 1 to 0 (images/line.png)"
