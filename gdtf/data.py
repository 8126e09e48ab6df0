"""Loading the height/weight table with errors that say what is wrong and where."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
HEIGHT_WEIGHT_CSV = DATA_DIR / "height_weight.csv"
REQUIRED_COLUMNS = ("height_in", "weight_lb")


class DataFileError(ValueError):
    """A data file exists but cannot be used: the message names the file and the problem."""


def load_height_weight(path: str | Path = HEIGHT_WEIGHT_CSV) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(heights_in, weights_lb)`` as float32 arrays from a two-column CSV.

    Raises ``FileNotFoundError`` for a missing file and :class:`DataFileError`
    for one that is empty, lacks a column, or holds a value that is not a
    finite number (with its line number).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"height/weight data not found: {path} (regenerate it with `python data/make_height_weight.py`)"
        )
    try:
        table = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as error:
        raise DataFileError(f"{path}: not a valid CSV file ({error})") from None

    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise DataFileError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"expected a header with {', '.join(REQUIRED_COLUMNS)}, "
            f"found {', '.join(map(str, table.columns))}"
        )
    if table.empty:
        raise DataFileError(f"{path}: has a header but no data rows")

    columns = []
    for column in REQUIRED_COLUMNS:
        numbers = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(numbers)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataFileError(
                f"{path}, line {row + 2}: {column} is {table[column].iloc[row]!r}, not a finite number"
            )
        columns.append(numbers.astype(np.float32))
    return columns[0], columns[1]
