"""Import TensorFlow with oneDNN off by default and without its C++ start-up lines on stderr.

TensorFlow's CPU numerics depend on the machine: on recent Intel and AMD processors it switches
oneDNN's kernels on by default, elsewhere they are off, and the two paths round differently.
Unless you choose (``TF_ENABLE_ONEDNN_OPTS=1`` before starting Jupyter), the notebooks run with
oneDNN off, the kernels every CPU has. (Results can still differ in the last bits between
machines.) Every claim in the notebooks is tested under both settings.

Whatever the setting, TensorFlow's C++ core may print a few informational lines while it loads,
before it reads ``TF_CPP_MIN_LOG_LEVEL``; they would land in the notebook as stderr output. This
module catches the stderr of the import itself and passes on every line that is not one of those
known start-up lines, so a real error is never hidden.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

from gdtf.stress import intra_op_threads

# Lines TensorFlow prints while loading, whose content is an announcement and not a problem.
STARTUP_NOISE = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(r"^I\d{4} [\d:.]+\s+\d+ port\.cc:\d+\] oneDNN custom operations are on\."),
    re.compile(r"^I\d{4} [\d:.]+\s+\d+ cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"),
    re.compile(r"^To enable the following instructions: .* in other operations, rebuild TensorFlow"),
)


def import_tensorflow_quietly():
    """Set the environment (without overriding your own choices), import TensorFlow and return it.

    The stress mode's thread count (``GDTF_INTRA_OP_THREADS``, see :mod:`gdtf.stress`) is applied
    here, before TensorFlow starts its thread pools; a bad value raises before anything runs.
    """
    threads = intra_op_threads()
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        captured.seek(0)
        lines = captured.read().decode(errors="replace").splitlines()
    for line in unexpected_lines(lines):
        print(line, file=sys.stderr)
    if threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    return tf


def unexpected_lines(lines: list[str]) -> list[str]:
    """The non-empty lines that are not one of TensorFlow's known start-up announcements."""
    return [line for line in lines if line.strip() and not any(p.search(line) for p in STARTUP_NOISE)]
