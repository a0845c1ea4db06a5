"""Hostile and clumsy input on the data side (issue 18): nothing gets in, nothing is lost.

Every case runs the CLI in-process (``reactdiff.cli.main``), so an unexpected exception fails the
test instead of printing a traceback. The classes (``pytest --collect-only`` counts them):

- ``test_refused``: ``data check`` lists the problem under the file (exit 1) and ``prepare`` stops
  with one line naming the file (exit 2); the bad clip's stream is not in the store, and nothing is
  written outside the dataset root. Also an empty dataset, bad neighbour matrices (``evaluate``),
  and, through the API, clip paths and store keys that would leave their root.
- ``test_rightly_accepted``: unusual but valid input passes both, with the right values stored.
- ``test_never_stale``: a source changed in ways an mtime check misses is recomputed, and the
  ground truth is never read from a stale store.
- ``test_extract_*``: clip keying of ``reactdiff extract`` (no wrong "up to date", nothing lost).
- ``test_predictions_refused``: ``evaluate`` stops with one line naming the predictions file.
- ``test_evaluate_*``: predictions outside the data's ranges are scored with a warning.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from reactdiff.cli import main
from reactdiff.constants import CLIP_FRAMES, CLIP_FRAMES_STORED, EMOTION_COLUMNS
from reactdiff.data.layout import ReactLayout
from reactdiff.store import FeatureStore
from react_fixture import emotion_values, write_emotion_csv

SPLIT = "val"
PROGRESS = re.compile(r"\d+%\|")
PREPARE = ["--splits", SPLIT, "--streams", "emotion", "3dmm", "mfcc"]


# -- fixtures and helpers ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    from react_fixture import make_react_dataset

    return make_react_dataset(tmp_path_factory.mktemp("pristine") / "data")


class World:
    """A private copy of the dataset at ``<tmp>/a/b/data``: four ``..`` from a clip folder lead to
    ``<tmp>/a/elsewhere``, where a complete, valid clip waits to be read if a check is missing."""

    def __init__(self, pristine: Path, tmp_path: Path):
        self.tmp = tmp_path
        self.root = tmp_path / "a" / "b" / "data"
        shutil.copytree(pristine, self.root)
        self.layout = ReactLayout(self.root)
        self.clip = self.layout.clips(SPLIT)[0]
        self.key = f"{SPLIT}/{self.clip}"
        self.outside = tmp_path / "a" / "elsewhere"
        for path, suffix in (
            (self.layout.emotion_path(SPLIT, self.clip), ".csv"),
            (self.layout.coeffs_path(SPLIT, self.clip), ".npy"),
            (self.layout.audio_path(SPLIT, self.clip), ".wav"),
        ):
            target = self.outside / "x" / f"1{suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)

    @property
    def store(self) -> FeatureStore:
        return FeatureStore(self.root / "features")

    def snapshot_outside(self) -> dict[str, tuple[int, int]]:
        """Every file under the test folder but outside the root, with size and mtime."""
        return {
            str(p): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in self.tmp.rglob("*")
            if p.is_file() and self.root not in p.parents
        }

    def set_listener(self, clip_path: str) -> Path:
        """Point the first row's listener of the split list at ``clip_path``."""
        csv_path = self.root / f"{SPLIT}.csv"
        rows = list(csv.reader(open(csv_path, newline="")))
        rows[1][2] = clip_path
        with open(csv_path, "w", newline="") as handle:
            csv.writer(handle).writerows(rows)
        return csv_path


@pytest.fixture()
def world(pristine, tmp_path):
    return World(pristine, tmp_path)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, command: str, *names: str) -> None:
    assert code == 2, err
    # Besides the error, stderr may hold only progress-bar updates (tqdm, "\r"-separated).
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and not PROGRESS.search(line)]
    assert len(lines) == 1 and lines[0].startswith(f"reactdiff {command}: error: "), err
    for name in names:
        assert name in lines[0], (name, err)
    assert "Traceback" not in err


# -- breaking a dataset ----------------------------------------------------------------------------
def _emotion(world):
    return world.layout.emotion_path(SPLIT, world.clip)


def _coeffs(world):
    return world.layout.coeffs_path(SPLIT, world.clip)


def _audio(world):
    return world.layout.audio_path(SPLIT, world.clip)


def _write_rows(path: Path, header: list[str], rows: np.ndarray) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows.tolist())


def emotion_26th_column(world):
    values = emotion_values(np.random.default_rng(1))
    indexed = np.concatenate([np.arange(len(values))[:, None], values], axis=1)
    _write_rows(_emotion(world), list(EMOTION_COLUMNS), indexed)  # header names 25, rows hold 26
    return _emotion(world), "does not name a leading index column", "emotion"


def emotion_value(value):
    def change(world):
        values = emotion_values(np.random.default_rng(1))
        values[7, 3] = value
        write_emotion_csv(_emotion(world), values)
        return _emotion(world), "NaN/inf", "emotion"

    return change


def emotion_zero_bytes(world):
    _emotion(world).write_bytes(b"")
    return _emotion(world), "no frames", "emotion"


def coeffs_array(array, message):
    def change(world):
        np.save(_coeffs(world), array, allow_pickle=True)  # the object case needs a pickle to exist
        return _coeffs(world), message, "3dmm"

    return change


def coeffs_bytes(make, message):
    def change(world):
        _coeffs(world).write_bytes(make(_coeffs(world)))
        return _coeffs(world), message, "3dmm"

    return change


def _npz_bytes(_path):
    import io

    buffer = io.BytesIO()
    np.savez(buffer, coeffs=np.zeros((CLIP_FRAMES_STORED, 58), np.float32))
    return buffer.getvalue()


def coeffs_nan(world):
    values = np.load(_coeffs(world))
    values[10, 5] = np.nan
    np.save(_coeffs(world), values)
    return _coeffs(world), "NaN/inf", "3dmm"


SHAPE = (CLIP_FRAMES_STORED, 58)
STRUCTURED = np.zeros(SHAPE[0], dtype=[("a", "f4", (29,)), ("b", "f4", (29,))])


def wav_samples(count):
    def change(world):
        soundfile.write(_audio(world), 0.1 * np.ones(count, np.float32), 16000, subtype="PCM_16")
        return _audio(world), "short", None

    return change


def wav_nan(world):
    samples = 0.1 * np.random.default_rng(3).standard_normal(16000 * 31).astype(np.float32)
    samples[16000 * 4] = np.nan
    soundfile.write(_audio(world), samples, 16000, subtype="FLOAT")
    return _audio(world), "NaN/inf samples", None


def wav_truncated(world):
    data = _audio(world).read_bytes()
    _audio(world).write_bytes(data[: len(data) // 2])
    return _audio(world), "truncated", None


def wav_zero_bytes(world):
    _audio(world).write_bytes(b"")
    return _audio(world), "unreadable audio", None


def mean_face(make, message):
    def change(world):
        path = world.root / "mean_face.npy"
        make(path)
        return path, message, "3dmm"

    return change


def _nan_mean_face(path):
    mean = np.load(path)
    mean[3] = np.nan
    np.save(path, mean)


def traversal(clip_path):
    def change(world):
        return world.set_listener(clip_path), "line 2", None

    return change


def symlinked_file(world):
    path = _emotion(world)
    path.unlink()
    path.symlink_to(world.outside / "x" / "1.csv")
    return path, "outside the dataset root", "emotion"


def symlinked_folder(world):
    folder = world.root / SPLIT / "3D_FV_files" / world.clip.split("/")[0]
    escaped = world.outside / "3d"
    shutil.move(folder, escaped)
    folder.symlink_to(escaped, target_is_directory=True)
    return folder, "outside the dataset root", "3dmm"


def symlinked_split_list(world):
    path = world.root / f"{SPLIT}.csv"
    moved = world.outside / f"{SPLIT}.csv"
    shutil.move(path, moved)
    path.symlink_to(moved)
    return path, "outside the dataset root", None


REFUSED = {
    "emotion-26th-column-without-index-header": emotion_26th_column,
    "emotion-nan": emotion_value(np.nan),
    "emotion-inf": emotion_value(np.inf),
    "emotion-zero-bytes": emotion_zero_bytes,
    "3dmm-complex": coeffs_array(np.zeros(SHAPE, np.complex64), "dtype complex64"),
    "3dmm-bool": coeffs_array(np.zeros(SHAPE, bool), "dtype bool"),
    "3dmm-datetime": coeffs_array(np.zeros(SHAPE, "datetime64[s]"), "dtype datetime64"),
    "3dmm-strings": coeffs_array(np.full(SHAPE, "1.0"), "dtype <U3"),
    "3dmm-structured": coeffs_array(STRUCTURED, "dtype"),
    "3dmm-object": coeffs_array(np.full(SHAPE, 1.0, dtype=object), "pickled or object"),
    "3dmm-nan": coeffs_nan,
    "3dmm-zero-bytes": coeffs_bytes(lambda path: b"", "empty file (0 bytes)"),
    "3dmm-npz-saved-as-npy": coeffs_bytes(_npz_bytes, "is a .npz archive"),
    "3dmm-truncated": coeffs_bytes(lambda path: path.read_bytes()[:1000], "unreadable .npy"),
    "wav-100-samples": wav_samples(100),
    "wav-5-seconds": wav_samples(5 * 16000),
    "wav-truncated": wav_truncated,
    "wav-nan-samples": wav_nan,
    "wav-zero-bytes": wav_zero_bytes,
    "mean-face-nan": mean_face(_nan_mean_face, "NaN/inf"),
    "mean-face-zero-bytes": mean_face(lambda path: path.write_bytes(b""), "empty file (0 bytes)"),
    "traversal-dotdot": traversal("../../../../elsewhere/x/1"),
    "traversal-inside-then-out": traversal("NoXI/../../../../../elsewhere/x/1"),
    "traversal-backslashes": traversal("..\\..\\..\\..\\elsewhere\\x\\1"),
    "traversal-leading-slash": traversal("/../../../../elsewhere/x/1"),
    "symlinked-file-leaving-root": symlinked_file,
    "symlinked-folder-leaving-root": symlinked_folder,
    "symlinked-split-list-leaving-root": symlinked_split_list,
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused(world, case, capsys):
    path, message, stream = REFUSED[case](world)
    before = world.snapshot_outside()

    code, out, err = run(capsys, "data", "check", world.root)
    assert code == 1, out + err
    assert any(line.startswith(str(path)) and message in line for line in out.splitlines()), out

    code, out, err = run(capsys, "prepare", world.root, *PREPARE)
    assert_one_line_error(code, err, "prepare", str(path), message if "line" not in message else "line 2")
    if stream is not None:
        assert not world.store.has(stream, world.key), "the bad clip reached the store"
    assert world.snapshot_outside() == before, "something outside the dataset root was written"


def test_empty_dataset_is_an_error(tmp_path, capsys):
    root = tmp_path / "empty"
    root.mkdir()
    # Neither split lists (REACT 2024) nor <split>/facial-attributes (MARS): no layout to read.
    code, _out, err = run(capsys, "prepare", root)
    assert_one_line_error(code, err, "prepare", str(root), "not a REACT dataset")
    code, _out, err = run(capsys, "data", "check", root)
    assert_one_line_error(code, err, "data", str(root), "not a REACT dataset")


@pytest.mark.parametrize("make", ["zero-bytes", "strings"])
def test_bad_neighbour_matrix(world, make, capsys):
    path = world.root / f"neighbour_emotion_{SPLIT}.npy"
    if make == "zero-bytes":
        path.write_bytes(b"")
        message = "empty file (0 bytes)"
    else:
        np.save(path, np.full((4, 4), "1"))
        message = "dtype <U1"
    code, out, _err = run(capsys, "data", "check", world.root)
    assert code == 1 and any(line.startswith(str(path)) and message in line for line in out.splitlines()), out
    code, _out, err = run(capsys, "evaluate", "--data", world.root, "--baseline", "gt", "--num_samples", "1", "--out", world.tmp / "report")
    assert_one_line_error(code, err, "evaluate", str(path), message)


def test_layout_refuses_clip_paths_leaving_the_root(world):
    """What render and plot open from a predictions row goes through the same checks."""
    from reactdiff.errors import DataError

    for clip in ("../../../../elsewhere/x/1", "NoXI/../../../../../elsewhere/x/1"):
        with pytest.raises(DataError, match="leaves the dataset root"):
            world.layout.load_emotion(SPLIT, clip)


def test_store_keys_stay_inside_the_store(tmp_path):
    from reactdiff.streams import StreamInfo
    from reactdiff.errors import DataError

    store = FeatureStore(tmp_path / "store")
    store.register(StreamInfo("mfcc", 26, kind="audio"))
    for key in ("../evil", "a/../../evil", "/etc/evil", "a//b", ""):
        with pytest.raises(DataError, match="not a relative path inside the store"):
            store.write("mfcc", key, np.zeros((3, 26)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    # A link planted inside the store cannot redirect a write either.
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "store" / "mfcc").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(DataError, match="outside the store"):
        store.write("mfcc", "clip", np.zeros((3, 26)))
    assert not any((tmp_path / "elsewhere").iterdir())


# -- rightly accepted ----------------------------------------------------------------------------------
def emotion_named_index(world):
    values = emotion_values(np.random.default_rng(5))
    indexed = np.concatenate([np.arange(len(values))[:, None], values], axis=1)
    _write_rows(_emotion(world), [""] + list(EMOTION_COLUMNS), indexed)  # pandas' to_csv(index=True)
    return "emotion", values


def coeffs_int16(world):
    values = np.random.default_rng(6).integers(-3, 3, SHAPE).astype(np.int16)
    np.save(_coeffs(world), values)
    return "3dmm", values - world.layout.mean_face


def wav_slightly_short(world):
    # 0.1 s short of the clip's 751 frames: rounding of a cut, within the tolerance.
    samples = 0.1 * np.random.default_rng(7).standard_normal(int((CLIP_FRAMES_STORED / 25 - 0.1) * 16000))
    soundfile.write(_audio(world), samples.astype(np.float32), 16000, subtype="PCM_16")
    return None, None


ACCEPTED = {
    "emotion-index-column-named-in-header": emotion_named_index,
    "3dmm-int16": coeffs_int16,
    "wav-0.1-s-short": wav_slightly_short,
}


@pytest.mark.parametrize("case", list(ACCEPTED) + ["dataset-root-is-a-symlink"])
def test_rightly_accepted(world, case, capsys):
    root = world.root
    if case == "dataset-root-is-a-symlink":
        root = world.tmp / "link"
        root.symlink_to(world.root, target_is_directory=True)
        stream, expected = "emotion", world.layout.load_emotion(SPLIT, world.clip)
    else:
        stream, expected = ACCEPTED[case](world)
    code, out, err = run(capsys, "data", "check", root)
    assert code == 0, out + err
    code, out, err = run(capsys, "prepare", root, *PREPARE)
    assert code == 0, err
    if stream is not None:
        np.testing.assert_allclose(world.store.read(stream, world.key), expected, rtol=1e-6)


# -- never stale -----------------------------------------------------------------------------------------
def _rewrite_keeping_mtime(path: Path, write) -> None:
    """Edit a file in place and give it back its old modification time (what an mtime check misses)."""
    stat = path.stat()
    write(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_mtime_ns == stat.st_mtime_ns


def edit_coeffs(world):
    values = np.full(SHAPE, 2.0, np.float32)
    _rewrite_keeping_mtime(_coeffs(world), lambda p: np.save(p, values))
    return "3dmm", values - world.layout.mean_face


def edit_emotion(world):
    values = emotion_values(np.random.default_rng(9))
    _rewrite_keeping_mtime(_emotion(world), lambda p: write_emotion_csv(p, values))
    return "emotion", values


def edit_mean_face(world):
    mean = np.full(58, 0.5, np.float32)
    _rewrite_keeping_mtime(world.root / "mean_face.npy", lambda p: np.save(p, mean))
    return "3dmm", np.load(_coeffs(world)).reshape(CLIP_FRAMES_STORED, 58) - mean


def edit_audio(world):
    path = _audio(world)
    info = soundfile.info(str(path))
    silence_then_tone = np.zeros(info.frames, np.float32)
    silence_then_tone[info.frames // 2 :] = 0.3
    _rewrite_keeping_mtime(path, lambda p: soundfile.write(p, silence_then_tone, info.samplerate, subtype="PCM_16"))
    return "mfcc", None


def replace_store_file(world):
    path = world.store.path("emotion", world.key)
    np.save(path, np.zeros((CLIP_FRAMES_STORED, 25), np.float32))  # by hand, not through the store
    return "emotion", world.layout.load_emotion(SPLIT, world.clip)


STALE = {
    "3dmm-edited-in-place-old-mtime": edit_coeffs,
    "emotion-edited-in-place-old-mtime": edit_emotion,
    "mean-face-edited-in-place-old-mtime": edit_mean_face,
    "wav-edited-in-place-old-mtime": edit_audio,
    "store-file-replaced-by-hand": replace_store_file,
}


@pytest.mark.parametrize("case", STALE)
def test_never_stale(world, case, capsys):
    assert run(capsys, "prepare", world.root, *PREPARE)[0] == 0
    before = np.array(world.store.read("mfcc", world.key))
    stream, expected = STALE[case](world)
    code, out, err = run(capsys, "prepare", world.root, *PREPARE)
    assert code == 0, err
    assert "0 stream files written" not in out, out
    stored = np.asarray(world.store.read(stream, world.key))
    if expected is not None:
        np.testing.assert_allclose(stored, expected, rtol=1e-6)
    else:
        assert not np.allclose(stored, before), "audio stream not recomputed"
    # And a third run has nothing left to do.
    code, out, _err = run(capsys, "prepare", world.root, *PREPARE)
    assert code == 0 and "0 stream files written" in out, out


def test_evaluation_never_reads_a_stale_store(world):
    """Ground truth comes from the store only while the store matches the files."""
    from reactdiff.data.groundtruth import load_split_emotion

    assert main(["prepare", str(world.root), *PREPARE]) == 0
    edit_emotion(world)  # edited in place, old mtime kept, store not re-prepared
    _speaker, listener, pairs = load_split_emotion(world.root, SPLIT)
    row = [pair.listener for pair in pairs].index(world.clip)
    np.testing.assert_allclose(listener[row], world.layout.load_emotion(SPLIT, world.clip)[:CLIP_FRAMES])


def test_training_data_never_comes_from_a_stale_store(world):
    from reactdiff.data.dataset import ReactPairDataset
    from reactdiff.errors import DataError

    assert main(["prepare", str(world.root), *PREPARE]) == 0
    ReactPairDataset(world.root, SPLIT, ("emotion", "3dmm"))
    edit_coeffs(world)  # edited in place, old mtime kept, store not re-prepared
    with pytest.raises(DataError, match="stale: its dataset file changed since it was prepared"):
        ReactPairDataset(world.root, SPLIT, ("emotion", "3dmm"))
    assert main(["prepare", str(world.root), *PREPARE]) == 0
    ReactPairDataset(world.root, SPLIT, ("emotion", "3dmm"))


# -- extract: clip keying ----------------------------------------------------------------------------
def _tiny_video(path: Path, seconds: float = 2.4) -> Path:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        for index in range(int(seconds * 25)):
            frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), index, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _tone(path: Path, hertz: float, seconds: float = 2.4) -> Path:
    t = np.arange(int(seconds * 16000)) / 16000
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * hertz * t)).astype(np.float32), 16000)
    return path


def test_extract_same_file_name_from_two_folders_is_not_up_to_date(tmp_path, capsys):
    out = tmp_path / "store"
    first = _tiny_video(tmp_path / "a" / "clip.mp4")
    second = _tiny_video(tmp_path / "b" / "clip.mp4")
    low, high = _tone(tmp_path / "low.wav", 220), _tone(tmp_path / "high.wav", 1760)
    assert run(capsys, "extract", first, "--audio", low, "--out", out, "--streams", "mfcc")[0] == 0
    kept = np.array(FeatureStore(out).read("mfcc", "clip"))

    code, out_text, err = run(capsys, "extract", second, "--audio", high, "--out", out, "--streams", "mfcc")
    assert_one_line_error(code, err, "extract", str(first.resolve()), str(second), "--key")
    np.testing.assert_array_equal(FeatureStore(out).read("mfcc", "clip"), kept)  # nothing lost

    code, out_text, _err = run(capsys, "extract", second, "--audio", high, "--out", out, "--streams", "mfcc", "--key", "clip_b")
    assert code == 0 and out_text.startswith("extracted")
    assert not np.allclose(FeatureStore(out).read("mfcc", "clip_b"), kept)
    code, out_text, _err = run(capsys, "extract", first, "--audio", low, "--out", out, "--streams", "mfcc")
    assert code == 0 and out_text.startswith("up to date")


def test_extract_recomputes_an_input_edited_in_place(tmp_path, capsys):
    out = tmp_path / "store"
    video, audio = _tiny_video(tmp_path / "clip.mp4"), _tone(tmp_path / "voice.wav", 220)
    assert run(capsys, "extract", video, "--audio", audio, "--out", out, "--streams", "mfcc")[0] == 0
    before = np.array(FeatureStore(out).read("mfcc", "clip"))
    _rewrite_keeping_mtime(audio, lambda p: _tone(p, 1760))
    code, out_text, _err = run(capsys, "extract", video, "--audio", audio, "--out", out, "--streams", "mfcc")
    assert code == 0 and out_text.startswith("extracted"), out_text
    assert not np.allclose(FeatureStore(out).read("mfcc", "clip"), before)


def test_extract_key_leaving_the_store_is_refused(tmp_path, capsys):
    out = tmp_path / "deep" / "store"
    video, audio = _tiny_video(tmp_path / "clip.mp4"), _tone(tmp_path / "voice.wav", 220)
    before = set(tmp_path.rglob("*"))
    code, _out, err = run(capsys, "extract", video, "--audio", audio, "--out", out, "--streams", "mfcc", "--key", "../../evil")
    assert_one_line_error(code, err, "extract", "../../evil", "inside the store")
    assert set(tmp_path.rglob("*")) == before, "refused before anything was written"


# -- predictions files ---------------------------------------------------------------------------------
K = 2  # reactions per speaker: evaluate needs at least two


def _predictions(world, **overrides) -> dict:
    """The arrays of a valid predictions file for the split, with ``overrides`` (None: left out)."""
    pairs = world.layout.eval_order(SPLIT)
    arrays = {
        "emotion": np.full((len(pairs), K, CLIP_FRAMES, 25), 0.5, np.float32),
        "speaker_path": np.array([p.speaker for p in pairs]),
        "listener_path": np.array([p.listener for p in pairs]),
        "meta": np.asarray(json.dumps({"split": SPLIT})),
    }
    arrays.update(overrides)
    return {name: value for name, value in arrays.items() if value is not None}


def _save_npz(path: Path, arrays: dict) -> None:
    with open(path, "wb") as handle:  # a handle: np.savez would append .npz to a path
        np.savez(handle, **arrays)


def _text(world, path):
    path.write_text("emotion,speaker_path\n0.1,a\n")


def _empty(world, path):
    path.write_bytes(b"")


def _truncated(world, path):
    _save_npz(path, _predictions(world))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _npy_renamed(world, path):
    with open(path, "wb") as handle:
        np.save(handle, np.zeros((4, K, CLIP_FRAMES, 25), np.float32))


def _object_emotion(world, path):
    _save_npz(path, _predictions(world, emotion=np.full((4, K, CLIP_FRAMES, 25), 0.5, dtype=object)))


def _override(**overrides):
    def make(world, path):
        _save_npz(path, _predictions(world, **overrides))

    return make


def _escaping_row(world, path):
    arrays = _predictions(world)
    arrays["listener_path"] = arrays["listener_path"].astype("<U64")
    arrays["listener_path"][1] = "../../../../elsewhere/x/1"
    _save_npz(path, arrays)


PREDICTIONS = {
    "text": (_text, "not a numpy file"),
    "empty": (_empty, "empty file (0 bytes)"),
    "truncated": (_truncated, "not a complete zip archive"),
    "npy-renamed-npz": (_npy_renamed, "is a single .npy array"),
    "object-array": (_object_emotion, "pickled or object"),
    "meta-not-json": (_override(meta=np.asarray("{split: val")), "'meta' is not valid JSON"),
    "meta-not-an-object": (_override(meta=np.asarray("[1, 2]")), "'meta' must be a JSON object"),
    "emotion-complex": (_override(emotion=np.zeros((4, K, CLIP_FRAMES, 25), np.complex64)), "dtype complex64"),
    "emotion-strings": (_override(emotion=np.full((4, K, CLIP_FRAMES, 25), "0.5")), "dtype <U3"),
    "paths-not-strings": (_override(speaker_path=np.arange(4)), "'speaker_path' must be a 1-D array of strings"),
    "missing-emotion": (_override(emotion=None), "missing array 'emotion'"),
    "emotion-nan": (_override(emotion=np.full((4, K, CLIP_FRAMES, 25), np.nan, np.float32)), "NaN/inf"),
    "row-path-leaving-root": (_escaping_row, "row 1"),
}


@pytest.mark.parametrize("case", PREDICTIONS)
def test_predictions_refused(world, case, capsys):
    make, message = PREDICTIONS[case]
    path = world.tmp / "predictions.npz"
    make(world, path)
    code, _out, err = run(capsys, "evaluate", "--data", world.root, "--predictions", path, "--out", world.tmp / "report")
    assert_one_line_error(code, err, "evaluate", str(path), message)
    assert not (world.tmp / "report").exists()


# -- evaluate: values outside the data's ranges ---------------------------------------------------------------
def test_evaluate_warns_on_predictions_outside_the_data_ranges(world, capsys):
    path = world.tmp / "sevens.npz"
    _save_npz(path, _predictions(world, emotion=np.full((4, K, CLIP_FRAMES, 25), 7.0, np.float32)))
    code, out, err = run(capsys, "evaluate", "--data", world.root, "--predictions", path, "--out", world.tmp / "report")
    assert code == 0, err
    warnings = [line for line in out.splitlines() if line.startswith("WARNING: sevens: predictions out of range")]
    assert len(warnings) == 3 and "100.0% of AU occurrence values lie outside [0, 1]" in warnings[0], out
    assert "valence/arousal values lie outside [-1, 1]" in warnings[1]
    report = json.loads((world.tmp / "report" / "sevens_metrics.json").read_text())
    assert any("AU occurrence values lie outside [0, 1]" in warning for warning in report["warnings"])
    assert "predictions out of range" in (world.tmp / "report" / "sevens_metrics.md").read_text()


def test_evaluate_does_not_warn_on_the_ground_truth(world, capsys):
    from reactdiff.data.groundtruth import load_split_emotion

    _speaker, listener, _pairs = load_split_emotion(world.root, SPLIT)
    path = world.tmp / "truth.npz"
    _save_npz(path, _predictions(world, emotion=np.repeat(listener[:, None], K, axis=1)))
    code, out, err = run(capsys, "evaluate", "--data", world.root, "--predictions", path, "--out", world.tmp / "report")
    assert code == 0, err
    assert "WARNING" not in out
    report = json.loads((world.tmp / "report" / "truth_metrics.json").read_text())
    assert report["warnings"] == []
