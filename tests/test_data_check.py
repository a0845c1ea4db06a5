"""`reactdiff data check`: every validation rule, each on a broken fixture; errors name the file."""

import numpy as np
import pytest

from reactdiff.cli import main
from reactdiff.data.check import check_dataset
from reactdiff.data.layout import ReactLayout
from react_fixture import emotion_values, make_react_dataset, write_emotion_csv


@pytest.fixture()
def root(tmp_path):
    return make_react_dataset(tmp_path / "data")


def _first_clip(root, split="val"):
    layout = ReactLayout(root)
    return layout, layout.clips(split)[0]


def _problems(root):
    return [str(problem) for problem in check_dataset(root)]


def test_clean_dataset_passes(root, capsys):
    assert _problems(root) == []
    assert main(["data", "check", str(root)]) == 0
    assert "OK" in capsys.readouterr().out


def _break_emotion(root, change):
    layout, clip = _first_clip(root)
    values = emotion_values(np.random.default_rng(1))
    change(values)
    path = layout.emotion_path("val", clip)
    write_emotion_csv(path, values)
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda v: v.__setitem__((3, 2), np.nan), "NaN/inf"),
        (lambda v: v.__setitem__((3, 2), 1.5), "AU occurrence outside [0, 1]"),
        (lambda v: v.__setitem__((4, 15), -1.2), "valence/arousal outside [-1, 1]"),
        (lambda v: v.__setitem__((5, 17), 3.0), "expression probabilities do not sum to 1"),
    ],
)
def test_emotion_value_rules(root, change, message):
    path = _break_emotion(root, change)
    problems = _problems(root)
    assert any(p.startswith(str(path)) and message in p for p in problems), problems


def test_emotion_shape_and_missing_and_unreadable(root):
    layout = ReactLayout(root)
    clips = layout.clips("val")
    short = layout.emotion_path("val", clips[0])
    write_emotion_csv(short, emotion_values(np.random.default_rng(2), frames=100))
    narrow = layout.emotion_path("val", clips[1])
    write_emotion_csv(narrow, emotion_values(np.random.default_rng(2))[:, :20])
    garbage = layout.emotion_path("val", clips[2])
    garbage.write_text("header\nnot,numbers\n")
    missing = layout.emotion_path("val", clips[3])
    missing.unlink()
    problems = "\n".join(_problems(root))
    assert f"{short}: 100 frames" in problems
    assert f"{narrow}: expected 25 columns" in problems
    assert f"{garbage}: unreadable Emotion CSV" in problems
    assert f"{missing}: Emotion CSV missing" in problems


def test_3dmm_rules(root):
    layout = ReactLayout(root)
    clips = layout.clips("test")
    wrong = layout.coeffs_path("test", clips[0])
    np.save(wrong, np.zeros((751, 57), np.float32))
    nan = layout.coeffs_path("test", clips[1])
    values = np.zeros((751, 58), np.float32)
    values[10, 3] = np.inf
    np.save(nan, values)
    missing = layout.coeffs_path("test", clips[2])
    missing.unlink()
    problems = "\n".join(_problems(root))
    assert f"{wrong}: expected shape (T, 58)" in problems
    assert f"{nan}: NaN/inf" in problems
    assert f"{missing}: 3DMM coefficient file missing" in problems


def test_audio_and_mean_face_rules(root):
    layout, clip = _first_clip(root, "train")
    broken = layout.audio_path("train", clip)
    broken.write_bytes(b"RIFF0000WAVEjunk")
    missing = layout.audio_path("train", layout.clips("train")[1])
    missing.unlink()
    np.save(root / "mean_face.npy", np.zeros(12, np.float32))
    problems = "\n".join(_problems(root))
    assert f"{broken}: unreadable audio" in problems
    assert f"{missing}: audio WAV missing" in problems
    assert f"{root / 'mean_face.npy'}: mean face must have 58 values" in problems


def test_split_csv_rules(root):
    (root / "train.csv").write_text(",speaker_path,listener_path\n0,a/b/c/1,a/b/c/1\n1,x/y/z/1,x/y/w/1\n2,x/y/z/1,x/y/w/1\n")
    (root / "test.csv").write_text("index,who\n0,1\n")
    problems = "\n".join(_problems(root))
    assert f"{root / 'train.csv'}: row 0: speaker and listener are the same clip" in problems
    assert f"{root / 'train.csv'}: row 2: duplicate pair" in problems
    assert f"{root / 'test.csv'}: header must name speaker_path and listener_path" in problems


@pytest.mark.parametrize(
    "matrix, message",
    [
        (np.eye(5, dtype=np.int64), "shape (5, 5), expected (4, 4)"),
        (np.eye(4) * 2, "values must be 0 or 1"),
        (np.eye(4, dtype=np.int64) - np.diag([0, 0, 1, 0]), "diagonal must be 1"),
    ],
)
def test_neighbour_matrix_rules(root, matrix, message, capsys):
    path = root / "neighbour_emotion_val.npy"
    np.save(path, matrix)
    assert any(p.startswith(str(path)) and message in p for p in _problems(root))
    assert main(["data", "check", str(root)]) == 1
    assert str(path) in capsys.readouterr().out
