"""Generate the synthetic height/weight data used by the linear-regression notebook.

No openly licensed table of 150 adult-male heights and weights can be fetched
offline, so the data are simulated from published adult-male figures:

* height ~ Normal(mean=69.1 in, sd=2.9 in)  (US adult men, CDC NHANES 2015-2018:
  mean about 69 in, SD about 2.9 in)
* weight = 6.0 * height - 225 + Normal(0, 10) lbs  (a linear trend of about
  6 lbs per inch through a mean weight near 190 lbs, residual SD about 10 lbs)

Values are rounded to 0.1 in and 0.1 lbs. The seed fixes every number, so the
committed ``height_weight.csv`` is exactly what this script writes::

    python data/make_height_weight.py            # rewrites data/height_weight.csv
    python data/make_height_weight.py --out x.csv --seed 7 --n 500
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DEFAULT_SEED = 1234
DEFAULT_N = 150
HEIGHT_MEAN_IN = 69.1
HEIGHT_SD_IN = 2.9
SLOPE_LB_PER_IN = 6.0
INTERCEPT_LB = -225.0
WEIGHT_NOISE_SD_LB = 10.0
DEFAULT_OUT = Path(__file__).with_name("height_weight.csv")


def make_height_weight(n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Return an (n, 2) array of [height_in, weight_lb] rows, rounded to 0.1."""
    if n < 2:
        raise ValueError(f"need at least 2 samples to fit a line, got n={n}")
    rng = np.random.default_rng(seed)
    heights = rng.normal(HEIGHT_MEAN_IN, HEIGHT_SD_IN, size=n)
    noise = rng.normal(0.0, WEIGHT_NOISE_SD_LB, size=n)
    weights = SLOPE_LB_PER_IN * heights + INTERCEPT_LB + noise
    return np.round(np.column_stack([heights, weights]), 1)


def write_csv(rows: np.ndarray, path: Path) -> None:
    lines = ["height_in,weight_lb"] + [f"{h:.1f},{w:.1f}" for h, w in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="number of people")
    args = parser.parse_args(argv)
    write_csv(make_height_weight(args.n, args.seed), args.out)
    print(f"wrote {args.n} rows to {args.out}")


if __name__ == "__main__":
    main()
