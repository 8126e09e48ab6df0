"""The data generator is reproducible and the loader rejects bad files with clear errors."""

import sys
from pathlib import Path

import numpy as np
import pytest

from gdtf.data import HEIGHT_WEIGHT_CSV, DataFileError, load_height_weight

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
import make_height_weight  # noqa: E402


def test_same_seed_writes_the_same_file(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    make_height_weight.main(["--out", str(first)])
    make_height_weight.main(["--out", str(second)])
    assert first.read_bytes() == second.read_bytes()


def test_committed_file_is_what_the_generator_writes(tmp_path):
    regenerated = tmp_path / "height_weight.csv"
    make_height_weight.main(["--out", str(regenerated)])
    assert regenerated.read_bytes() == HEIGHT_WEIGHT_CSV.read_bytes()


def test_other_seed_gives_other_data():
    assert not np.array_equal(
        make_height_weight.make_height_weight(seed=1), make_height_weight.make_height_weight(seed=2)
    )


def test_generated_data_follow_the_documented_parameters():
    heights, weights = make_height_weight.make_height_weight(n=20_000).T
    assert heights.mean() == pytest.approx(make_height_weight.HEIGHT_MEAN_IN, abs=0.1)
    assert heights.std() == pytest.approx(make_height_weight.HEIGHT_SD_IN, abs=0.1)
    slope, intercept = np.polyfit(heights, weights, 1)
    assert slope == pytest.approx(make_height_weight.SLOPE_LB_PER_IN, abs=0.1)
    residual_sd = np.std(weights - (slope * heights + intercept))
    assert residual_sd == pytest.approx(make_height_weight.WEIGHT_NOISE_SD_LB, abs=0.3)


def test_loader_reads_the_committed_file():
    heights, weights = load_height_weight()
    assert heights.shape == weights.shape == (150,)
    assert heights.dtype == np.float32
    assert 60 < heights.mean() < 78 and 150 < weights.mean() < 230


def write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv.*make_height_weight\.py"):
        load_height_weight(tmp_path / "nowhere.csv")


def test_empty_file(tmp_path):
    with pytest.raises(DataFileError, match="empty"):
        load_height_weight(write(tmp_path, ""))


def test_header_without_rows(tmp_path):
    with pytest.raises(DataFileError, match="no data rows"):
        load_height_weight(write(tmp_path, "height_in,weight_lb\n"))


def test_missing_column_is_named(tmp_path):
    with pytest.raises(DataFileError, match="missing column.*weight_lb"):
        load_height_weight(write(tmp_path, "height_in,mass\n70,180\n"))


def test_non_numeric_value_is_located(tmp_path):
    with pytest.raises(DataFileError, match=r"line 3: weight_lb is 'heavy'"):
        load_height_weight(write(tmp_path, "height_in,weight_lb\n70,180\n71,heavy\n"))


def test_blank_value_is_located(tmp_path):
    with pytest.raises(DataFileError, match=r"line 2: height_in"):
        load_height_weight(write(tmp_path, "height_in,weight_lb\n,180\n"))


def test_malformed_csv(tmp_path):
    with pytest.raises(DataFileError, match="not a valid CSV"):
        load_height_weight(write(tmp_path, 'height_in,weight_lb\n70,180\n"71,190\n'))
