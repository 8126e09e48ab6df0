"""Small helpers shared by the notebooks of *gradient-descent-in-tensorflow*.

The GradientTape code lives in the notebooks, where the reader sees it; this
package only holds what every notebook needs and nobody needs to read:
where figures go, how GIFs are written and shown, data loading, a NaN guard,
the stress mode's seed shift (:func:`seed`) and a quiet, single-numeric-path TensorFlow import.
"""

from gdtf.checks import check_finite, check_finite_history
from gdtf.data import DataFileError, load_height_weight
from gdtf.outputs import (
    GIF_BUDGET_BYTES,
    EmbeddedImage,
    SourceCode,
    output_dir,
    save_fig,
    save_gif,
    show_code,
    show_fig,
    show_image,
)
from gdtf.stress import StressSettingError, seed, seed_shift
from gdtf.tensorflow_setup import import_tensorflow_quietly

__all__ = [
    "EmbeddedImage",
    "DataFileError",
    "check_finite",
    "check_finite_history",
    "import_tensorflow_quietly",
    "load_height_weight",
    "output_dir",
    "save_fig",
    "seed",
    "seed_shift",
    "StressSettingError",
    "SourceCode",
    "save_gif",
    "show_code",
    "show_fig",
    "show_image",
    "GIF_BUDGET_BYTES",
]
