"""Time and quality of ``tammes_spread`` (vector_spread_example/spread.py): the largest smallest angle.

    python benchmarks/tammes_speed.py                # everything below
    python benchmarks/tammes_speed.py --counts 24    # only N = 24 in 3-D
    python benchmarks/tammes_speed.py --skip-32d     # only the 3-D part

1. 3-D, default settings, N = 8, 12 and 24: wall time of one call (tracing included, as in the
   notebook) and the smallest angle reached, against the published Tammes angle. Targets: within
   0.05° of it, in at most 20 s on a 2-core CPU.
2. 32-D, N = 100 (the notebook's faces): the smallest angle of one random draw, the best of many
   random draws, the energy descended at s = 1 only, and tammes_spread with the defaults and with
   cheaper settings. We found no published best (32, 100) code (H. Cohn's table stops at 32
   points; the larger tables of spherical-codes.org were not checked). Upper bounds: Rankin
   (1955), below 90° (at most 2 * 32 = 64 unit vectors in 32-D are pairwise 90° or more apart),
   and Levenshtein's degree-3 LP bound, 88.06° (spherical_codes.ipynb, section 5).

Run on an idle machine: timings on a busy one are upper bounds.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Published Tammes angles (degrees). N = 8: the square antiprism (Schütte and van der Waerden 1951),
# cos = 1 / (2 sqrt 2 + 1), OEIS A381756. N = 12: the icosahedron (Fejes Tóth 1943), OEIS A105199.
# N = 24: the snub cube (Robinson 1961), from its tribonacci-constant coordinates (OEIS A383861).
TRIBONACCI = (1 + (19 + 3 * 33**0.5) ** (1 / 3) + (19 - 3 * 33**0.5) ** (1 / 3)) / 3
SNUB_CUBE_RADIUS = math.sqrt((3 - TRIBONACCI) / (4 * (2 - TRIBONACCI)))  # per unit edge
PUBLISHED = {
    8: math.degrees(math.acos(1 / (2 * math.sqrt(2) + 1))),
    12: math.degrees(math.atan(2)),
    24: math.degrees(2 * math.asin(1 / (2 * SNUB_CUBE_RADIUS))),
}
CHEAPER_32D = {  # a larger rate than the default 0.25 suits 32-D: compare the lines printed
    "one start, rate 8, s <= 2^12": dict(starts=1, first_exponents=(4,), rate=8.0, max_exponent=2.0**12),
    "4 starts, rate 8, s <= 2^16": dict(starts=4, first_exponents=(4, 16), rate=8.0),
}


def _setup():
    sys.path.insert(0, str(REPO_ROOT))
    sys.path.insert(0, str(REPO_ROOT / "vector_spread_example"))
    from gdtf import import_tensorflow_quietly

    return import_tensorflow_quietly()


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def three_d(counts):
    from spread import smallest_angle, tammes_spread

    print("\n3-D, default settings (one call each, tracing included):")
    print(f"  {'N':>3} {'time':>8} {'smallest angle':>15} {'published':>10} {'difference':>11}  target")
    for count in counts:
        vectors, seconds = timed(tammes_spread, count)
        angle = smallest_angle(vectors)
        published = PUBLISHED.get(count)
        if published is None:
            print(f"  {count:>3} {seconds:>6.1f} s {angle:>13.4f}°")
            continue
        difference = round(angle - published, 4) + 0.0  # + 0.0 turns -0.0 into 0.0
        verdict = "met" if abs(difference) <= 0.05 and seconds <= 20 else "MISSED"
        print(
            f"  {count:>3} {seconds:>6.1f} s {angle:>13.4f}° {published:>9.4f}° {difference:>+10.4f}°"
            f"  within 0.05° in 20 s: {verdict}"
        )


def thirty_two_d(draws, with_defaults):
    tf = _setup()
    from spread import best_random_smallest_angle, random_unit_vectors, smallest_angle, tammes_spread

    count, dims = 100, 32
    print(f"\n{dims}-D, N = {count} (Rankin: the answer is below 90°):")
    one_draw = smallest_angle(random_unit_vectors(count, dims, seed=0, dtype=tf.float64))
    print(f"  {'one random draw (seed 0)':<44} {one_draw:8.2f}°")
    best, seconds = timed(best_random_smallest_angle, count, dims, draws)
    print(f"  {f'best of {draws:,} random draws':<44} {best:8.2f}°  ({seconds:.1f} s)")
    energy_only = dict(starts=1, first_exponents=(1,), max_exponent=1.0)
    settings = {"energy descent (s = 1 only, 1 start)": energy_only}
    if with_defaults:
        settings["tammes_spread, defaults"] = {}
    settings |= {f"tammes_spread, {name}": value for name, value in CHEAPER_32D.items()}
    for name, value in settings.items():
        vectors, seconds = timed(tammes_spread, count, dims, **value)
        print(f"  {name:<44} {smallest_angle(vectors):8.2f}°  ({seconds:.1f} s)")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", type=int, nargs="*", default=[8, 12, 24])
    parser.add_argument("--draws", type=int, default=10_000, help="random draws for the 32-D reference")
    parser.add_argument("--skip-32d", action="store_true")
    parser.add_argument("--skip-32d-defaults", action="store_true", help="the slowest line (about a minute)")
    args = parser.parse_args()

    _setup()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}")
    three_d(args.counts)
    if not args.skip_32d:
        thirty_two_d(args.draws, with_defaults=not args.skip_32d_defaults)


if __name__ == "__main__":
    main()
