"""Small helpers shared by the notebooks of *gradient-descent-in-tensorflow*.

The GradientTape code lives in the notebooks, where the reader sees it; this
package only holds what every notebook needs and nobody needs to read:
where figures go, how GIFs are written, data loading, and a NaN guard.
"""

from gdtf.checks import check_finite, check_finite_history
from gdtf.data import DataFileError, load_height_weight
from gdtf.outputs import output_dir, save_fig, save_gif, show_image

__all__ = [
    "DataFileError",
    "check_finite",
    "check_finite_history",
    "load_height_weight",
    "output_dir",
    "save_fig",
    "save_gif",
    "show_image",
]
