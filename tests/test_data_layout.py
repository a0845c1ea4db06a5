"""The REACT layout reader, on hand-made fixtures of both conventions, shapes and video forms."""

import numpy as np
import pytest

from reactdiff.data.layout import Pair, ReactLayout, renamed_person_path
from reactdiff.errors import DataError
from react_fixture import make_react_dataset


@pytest.mark.parametrize("convention", ["2023", "2024"])
@pytest.mark.parametrize("coeffs_shape", ["flat", "4d"])
def test_reader_both_conventions_and_shapes(tmp_path, convention, coeffs_shape):
    root = make_react_dataset(tmp_path / "data", convention=convention, coeffs_shape=coeffs_shape)
    layout = ReactLayout(root)
    pairs = layout.pairs("val")
    assert pairs[0] == Pair("NoXI/001_2016-03-17_Paris/Expert_video/1", "NoXI/001_2016-03-17_Paris/Novice_video/1")
    for clip in layout.clips("val"):
        emotion = layout.load_emotion("val", clip)
        coeffs = layout.load_3dmm("val", clip)
        assert emotion.shape == (751, 25) and emotion.dtype == np.float32
        assert coeffs.shape == (751, 58)
        # Mean-face normalisation is a subtraction only: the fixture's offsets have scale 0.1.
        assert abs(coeffs.mean()) < 0.05 and 0.05 < coeffs.std() < 0.2


def test_eval_order_is_pairs_then_mirrored(tmp_path):
    layout = ReactLayout(make_react_dataset(tmp_path / "data"))
    pairs, order = layout.pairs("test"), layout.eval_order("test")
    assert order[: len(pairs)] == pairs
    assert order[len(pairs) :] == [Pair(p.listener, p.speaker) for p in pairs]
    assert layout.neighbours("test").shape == (len(order), len(order))


def test_person_renames():
    assert renamed_person_path("NoXI/s/Expert_video/3") == "NoXI/s/P1/3"
    assert renamed_person_path("RECOLA/group-2/P42/1") == "RECOLA/group-2/P2/1"
    assert renamed_person_path("UDIVA/talk/001/FC1/1") == "UDIVA/talk/001/FC1/1"


@pytest.mark.parametrize("video", ["mp4", "png"])
def test_video_forms(tmp_path, video):
    layout = ReactLayout(make_react_dataset(tmp_path / "data", video=video))
    path = layout.video_path("train", layout.clips("train")[0])
    assert path is not None and (path.suffix == ".mp4" if video == "mp4" else path.is_dir())


def test_mean_face_is_a_setting(tmp_path):
    root = make_react_dataset(tmp_path / "data")
    moved = tmp_path / "elsewhere.npy"
    (root / "mean_face.npy").rename(moved)
    clip = ReactLayout(root).clips("val")[0]
    with pytest.raises(DataError, match="mean_face.npy"):
        ReactLayout(root).load_3dmm("val", clip)
    assert ReactLayout(root, mean_face=moved).load_3dmm("val", clip).shape == (751, 58)


def test_missing_files_name_the_path(tmp_path):
    root = make_react_dataset(tmp_path / "data")
    layout = ReactLayout(root)
    clip = layout.clips("val")[0]
    layout.emotion_path("val", clip).unlink()
    with pytest.raises(DataError) as excinfo:
        layout.load_emotion("val", clip)
    assert "Emotion" in str(excinfo.value) and "P1" in str(excinfo.value)
    (root / "val.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="val.csv: header"):
        layout.pairs("val")
