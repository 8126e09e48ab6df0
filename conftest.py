"""Test-session set-up shared by nbval and the unit tests."""

import os
import shutil
import tempfile

import pytest

from gdtf.stress import StressSettingError, check_settings

_output_dir = None


def pytest_configure(config):
    # Notebooks executed by nbval save their figures and GIFs under this
    # temporary folder instead of over the committed ones (see gdtf.outputs),
    # so `git status` stays clean after `make test`. Kernels inherit the variable.
    global _output_dir
    try:
        check_settings()  # a bad GDTF_SEED_SHIFT stops here, in one line, before any kernel starts
    except StressSettingError as error:
        pytest.exit(str(error), returncode=2)
    if "GDTF_OUTPUT_DIR" not in os.environ:
        _output_dir = tempfile.mkdtemp(prefix="gdtf-test-outputs-")
        os.environ["GDTF_OUTPUT_DIR"] = _output_dir
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # `make test` sets PYTHONWARNDEFAULTENCODING=1, and pyproject.toml turns an EncodingWarning from
    # this project's code into an error in every unit test. Notebook kernels must not inherit it:
    # TensorFlow's and Keras's own open() calls would print warnings into cells. Notebook code is
    # held to the same rule statically (ruff's PLW1514 in `make lint`).
    os.environ.pop("PYTHONWARNDEFAULTENCODING", None)
    os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_unconfigure(config):
    if _output_dir:
        shutil.rmtree(_output_dir, ignore_errors=True)
