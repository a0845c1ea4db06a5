"""The REACT 2025/2026 (MARS) layout: detection, enumeration, appropriate sets, data check, prepare at
30 fps, shards and workers, EEG and personality; on tiny trees written by hand."""

import json
import multiprocessing
import random
import shutil
import tarfile

import numpy as np
import pytest
import soundfile

from react_fixture import emotion_values, make_react_dataset
from reactdiff.cli import main
from reactdiff.data.base import Pair
from reactdiff.data.check import check_dataset
from reactdiff.data.layouts import detect_layout, open_layout
from reactdiff.data.mars import MarsLayout, load_appropriate_sets, save_appropriate_sets
from reactdiff.data.mars_extras import EEG_COLUMNS, read_eeg_csv, read_personality_csv
from reactdiff.data.prepare import PrepareConfig, prepare
from reactdiff.parallel import parse_shard
from reactdiff.errors import ConfigError, DataError
from reactdiff.features.mfcc import frame_chunks, mfcc26, mfcc39, mfcc78
from reactdiff.store import FeatureStore
from reactdiff.streams import StreamInfo

FPS = 30
SAMPLE_RATE = 16000
STEM = "Camera-2024-06-21-103121-103102"


def write_clip(root, split, clip, frames, rng, audio=True):
    """The attribute, coefficient and audio files of one clip (coefficients with singleton dims)."""
    base = root / split
    for folder in ("facial-attributes", "coefficients", "audio"):
        (base / folder / clip).parent.mkdir(parents=True, exist_ok=True)
    np.save(base / "facial-attributes" / f"{clip}.npy", emotion_values(rng, frames))
    np.save(base / "coefficients" / f"{clip}.npy", rng.normal(size=(frames, 1, 58)).astype(np.float32))
    if audio:
        samples = 0.1 * rng.standard_normal(int(frames * SAMPLE_RATE / FPS)).astype(np.float32)
        soundfile.write(base / "audio" / f"{clip}.wav", samples, SAMPLE_RATE, subtype="PCM_16")


def make_mars(root, sessions=None, frames=45, split="val", seed=0, debris=True):
    """A MARS tree: ``sessions`` maps a session to its stems, each under both roles."""
    rng = np.random.default_rng(seed)
    sessions = sessions or {"session0": ["s-a", "s-b"], "session1": [STEM]}
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "mean_face.npy", rng.normal(size=58).astype(np.float32))
    for session, stems in sessions.items():
        for stem in stems:
            for role in ("speaker", "listener"):
                write_clip(root, split, f"{role}/{session}/{stem}", frames, rng)
    if debris:  # what macOS and tar leave in the archives: skipped silently
        attributes = root / split / "facial-attributes"
        first = next(iter(sessions))
        (attributes / "speaker" / first / "._s-a.npy").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
        (attributes / "speaker" / first / ".DS_Store").write_bytes(b"junk")
        (attributes / "__MACOSX" / "speaker").mkdir(parents=True)
        (attributes / "listener" / "PaxHeader").mkdir()
        (attributes / "listener" / "PaxHeader" / "x.npy").write_bytes(b"pax")
    return root


@pytest.fixture
def mars(tmp_path):
    return make_mars(tmp_path / "mars")


# -- detection and enumeration ------------------------------------------------------------------
def test_detect_layout(tmp_path, mars):
    assert detect_layout(mars) == "react2025"
    assert isinstance(open_layout(mars), MarsLayout) and open_layout(mars).fps == 30
    react = make_react_dataset(tmp_path / "react")
    assert detect_layout(react) == "react2024"
    layout = open_layout(react)
    assert (layout.name, layout.fps, layout.has_split("val"), layout.clip_frames("val", layout.clips("val")[0])) == ("react2024", 25, True, 751)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="not a REACT dataset") as error:
        detect_layout(tmp_path / "empty")
    assert error.value.path == tmp_path / "empty"
    with pytest.raises(ConfigError, match="auto, react2024, react2025"):
        open_layout(mars, "react2026")
    with pytest.raises(ConfigError, match="react2024, react2025"):
        prepare(mars, PrepareConfig(layout="mars"), progress=False)


def test_clips_pairs_and_eval_order(tmp_path):
    root = make_mars(tmp_path / "m", {"session2": ["b", "a"], "session10": ["c"], "session1": ["d"]})
    # An unpaired listener-only stem: listed as a clip, in no pair.
    write_clip(root, "val", "listener/session1/lonely", 45, np.random.default_rng(1))
    layout = MarsLayout(root)
    assert layout.has_split("val") and not layout.has_split("train")
    clips = layout.clips("val")
    # Speakers first; sessions lexicographic (session1 < session10 < session2); debris skipped.
    assert clips[:4] == ["speaker/session1/d", "speaker/session10/c", "speaker/session2/a", "speaker/session2/b"]
    assert clips[4:] == ["listener/session1/d", "listener/session1/lonely", "listener/session10/c", "listener/session2/a", "listener/session2/b"]
    pairs = layout.pairs("val")
    assert pairs == [Pair(f"speaker/{s}/{t}", f"listener/{s}/{t}") for s, t in [("session1", "d"), ("session10", "c"), ("session2", "a"), ("session2", "b")]]
    assert layout.eval_order("val") == pairs + [pair.mirrored() for pair in pairs]
    assert layout.unpaired("val") == ["listener/session1/lonely"]


def test_loading_squeezes_and_subtracts_the_mean_face(mars):
    layout = MarsLayout(mars)
    clip = f"speaker/session1/{STEM}"
    raw = np.load(mars / "val" / "coefficients" / f"{clip}.npy")
    coeffs = layout.load_3dmm("val", clip)
    assert coeffs.shape == (45, 58) and coeffs.dtype == np.float32
    np.testing.assert_allclose(coeffs, raw[:, 0, :] - np.load(mars / "mean_face.npy"), rtol=1e-6)
    assert layout.load_emotion("val", clip).shape == (45, 25)
    assert layout.clip_frames("val", clip) == 45
    with pytest.raises(DataError, match="not <role>/<session>/<stem>"):
        layout.emotion_path("val", "speaker/../../etc")
    (mars / "mean_face.npy").unlink()
    with pytest.raises(DataError, match="mean face not found"):
        MarsLayout(mars).load_3dmm("val", clip)


def test_symlink_leaving_the_root_is_refused(tmp_path, mars):
    outside = tmp_path / "outside.npy"
    np.save(outside, np.zeros((45, 25), np.float32))
    target = mars / "val" / "facial-attributes" / "speaker" / "session0" / "s-a.npy"
    target.unlink()
    target.symlink_to(outside)
    with pytest.raises(DataError, match="outside the dataset root"):
        MarsLayout(mars).load_emotion("val", "speaker/session0/s-a")


# -- appropriate sets -------------------------------------------------------------------------------
def test_appropriate_sets_follow_the_spec_rules(tmp_path):
    sessions = {"session0": [f"m{i:02d}" for i in range(11)], "session1": ["a", "b", "c"], "session2": ["solo"]}
    root = make_mars(tmp_path / "m", sessions, frames=5, debris=False)
    layout = MarsLayout(root)
    order, sets = layout.eval_order("val"), layout.appropriate_sets("val")
    assert len(sets) == len(order) == 2 * 15 and all(len(members) == 10 for members in sets)
    for pair, members in zip(order, sets):
        role, session, _ = pair.listener.split("/")
        assert members[0] == pair.listener
        assert all(clip.startswith(f"{role}/{session}/") for clip in members)
        drawn = members[1:]
        if session == "session0":  # 10 others: 9 without replacement
            assert len(set(drawn)) == 9 and pair.listener not in drawn
        elif session == "session1":  # 2 others: 9 with replacement
            assert set(drawn) <= {f"{role}/session1/{s}" for s in "abc"} - {pair.listener} and len(set(drawn)) <= 2
        else:  # none: the paired target repeated
            assert drawn == [pair.listener] * 9
    # Listener inputs get speaker ground truths.
    assert sets[15][0].startswith("speaker/")
    # Deterministic: one random.Random(seed) over the sorted eval order.
    rng = random.Random(1234)
    first_pool = [f"listener/session0/m{i:02d}" for i in range(1, 11)]
    assert sets[0][1:] == rng.sample(first_pool, 9)
    assert layout.appropriate_sets("val") == sets and layout.appropriate_sets("val", seed=7) != sets
    path = tmp_path / "sets.json"
    save_appropriate_sets(path, sets, 1234, order)
    assert load_appropriate_sets(path) == sets
    assert json.loads(path.read_text())["items"][0] == [order[0].speaker, order[0].listener]
    path.write_text('{"sets": 3}')
    with pytest.raises(DataError, match="not an appropriate-sets file"):
        load_appropriate_sets(path)


# -- data check -------------------------------------------------------------------------------------
def test_check_clean_tree_has_no_problems(mars, capsys):
    assert check_dataset(mars, splits=("val",)) == []
    assert main(["data", "check", str(mars), "--splits", "val", "--layout", "react2025"]) == 0
    assert "OK" in capsys.readouterr().out


def _break(root, how):
    """Damage one file of a clean tree; return the path the problem must name and a message part."""
    base = root / "val"
    clip = "speaker/session0/s-a"
    attributes = base / "facial-attributes" / f"{clip}.npy"
    coeffs = base / "coefficients" / f"{clip}.npy"
    if how == "bad npy":
        attributes.write_bytes(b"not numpy at all")
        return attributes, "unreadable"
    if how == "truncated":
        data = attributes.read_bytes()
        attributes.write_bytes(data[: len(data) // 2])
        return attributes, "not fully written"
    if how == "object array":
        np.save(attributes, np.array([{"frames": 45}], dtype=object), allow_pickle=True)
        return attributes, "pickled or object data, which is never loaded"
    if how == "wrong width":
        np.save(attributes, np.zeros((45, 24), np.float32))
        return attributes, "(T, 25)"
    if how == "nan":
        values = np.load(coeffs)
        values[3, 0, 7] = np.nan
        np.save(coeffs, values)
        return coeffs, "NaN/inf"
    if how == "length mismatch":
        np.save(coeffs, np.zeros((40, 58), np.float32))
        return coeffs, "length mismatch"
    if how == "no partner":
        (base / "facial-attributes" / "listener/session0/s-b.npy").unlink()
        return base / "facial-attributes" / "speaker/session0/s-b.npy", "no partner"
    if how == "empty session":
        (base / "facial-attributes" / "listener" / "session9").mkdir()
        return base / "facial-attributes" / "listener" / "session9", "empty session folder"
    if how == "mean face":
        (root / "mean_face.npy").unlink()
        return root / "mean_face.npy", "mean face not found"
    if how == "short audio":
        soundfile.write(base / "audio" / f"{clip}.wav", np.zeros(8000, np.float32), SAMPLE_RATE)
        return base / "audio" / f"{clip}.wav", "short"
    if how == "personality":
        (base / "personality").mkdir()
        (base / "personality" / "listener.csv").write_text("video_name,Extraversion\nx,3\n")
        return base / "personality" / "listener.csv", "lacks column(s) Agreeableness"
    if how == "eeg":
        path = base / "eeg_processed" / "listener" / "session0" / "s-a.csv"
        path.parent.mkdir(parents=True)
        path.write_text("TP9,AF7\n1,2\n")
        return path, "lacks column(s) AF8"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["bad npy", "truncated", "object array", "wrong width", "nan", "length mismatch", "no partner", "empty session", "mean face", "short audio", "personality", "eeg"]
)
def test_check_names_the_broken_file(mars, how):
    path, message = _break(mars, how)
    problems = check_dataset(mars, splits=("val",))
    assert any(problem.path == path and message in problem.message for problem in problems), problems
    assert not any("._" in str(p.path) or "PaxHeader" in str(p.path) or "__MACOSX" in str(p.path) for p in problems)


# -- audio at 30 fps ------------------------------------------------------------------------------
def test_audio_features_at_30_fps():
    rng = np.random.default_rng(0)
    samples = rng.standard_normal(SAMPLE_RATE * 2).astype(np.float32)
    # 16 kHz is no multiple of 30: chunk i starts at floor(i * 16000 / 30) and has 533 samples.
    chunks = frame_chunks(samples, SAMPLE_RATE, 60, fps=30)
    assert chunks.shape == (60, 533)
    np.testing.assert_array_equal(chunks[7], samples[3733 : 3733 + 533])
    # At 25 fps the chunks are unchanged: back to back.
    np.testing.assert_array_equal(frame_chunks(samples, SAMPLE_RATE, 50)[3], samples[1920:2560])
    assert mfcc26(samples, SAMPLE_RATE, 60, fps=30).shape == (60, 26)
    assert mfcc39(samples, SAMPLE_RATE, 60).shape == (60, 39)
    with pytest.raises(ValueError, match="mfcc78 needs 2"):
        mfcc78(samples, SAMPLE_RATE, 60, fps=30)


# -- prepare ----------------------------------------------------------------------------------------
def test_prepare_records_fps_and_lengths(mars):
    # One dyad with coefficients shorter than its attributes: every stream of both clips is cut to 40.
    np.save(mars / "val" / "coefficients" / "listener/session0/s-b.npy", np.zeros((40, 58), np.float32))
    summary = prepare(mars, PrepareConfig(splits=("val",)), progress=False)
    assert summary.computed == 6 * 3
    store = FeatureStore(mars / "features")
    layout = MarsLayout(mars)
    for clip in layout.clips("val"):
        key = f"val/{clip}"
        frames = 40 if "s-b" in clip else 45
        assert store.clip_info(key) == {"fps": 30, "frames": frames}
        assert store.read("emotion", key).shape == (frames, 25)
        assert store.read("mfcc", key).shape == (frames, 26)  # 30 fps MFCC frames == clip length
        np.testing.assert_allclose(store.read("3dmm", key), layout.load_3dmm("val", clip)[:frames])
    assert load_appropriate_sets(mars / "features" / "appropriate_val.json") == layout.appropriate_sets("val")
    assert prepare(mars, PrepareConfig(splits=("val",)), progress=False).computed == 0
    with pytest.raises(ConfigError, match="use mfcc39"):
        prepare(mars, PrepareConfig(splits=("val",), streams=("mfcc78",)), progress=False)


def test_prepare_records_25_fps_for_the_2024_layout(tmp_path):
    root = make_react_dataset(tmp_path / "react")
    prepare(root, PrepareConfig(splits=("val",), streams=("emotion",)), progress=False)
    store = FeatureStore(root / "features")
    key = store.keys("emotion")[0]
    assert store.clip_info(key) == {"fps": 25, "frames": 751}
    with pytest.raises(ConfigError, match="MARS"):
        prepare(root, PrepareConfig(splits=("val",), streams=("eeg",)), progress=False)


def _files(directory):
    # _sources records hold the output files' mtimes: the same inputs and sources, other times.
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.relative_to(directory).parts[0] != "_sources"
    }


def test_two_shards_equal_one_run(mars, tmp_path):
    whole = tmp_path / "whole"
    prepare(mars, PrepareConfig(splits=("val",), store=str(whole)), progress=False)
    sharded = tmp_path / "sharded"
    first = prepare(mars, PrepareConfig(splits=("val",), store=str(sharded), shard="0/2", workers=2), progress=False)
    second = prepare(mars, PrepareConfig(splits=("val",), store=str(sharded), shard="1/2"), progress=False)
    assert first.computed + second.computed == 6 * 3 and first.computed and second.computed
    assert _files(whole) == _files(sharded)
    recorded = lambda store: {  # noqa: E731
        str(p.relative_to(store)): {k: v["sources"] for k, v in json.loads(p.read_text()).items()} for p in (store / "_sources").rglob("*.json")
    }
    assert recorded(whole) == recorded(sharded)


def test_a_worker_error_names_the_file(mars):
    broken = mars / "val" / "coefficients" / "listener/session1" / f"{STEM}.npy"
    broken.write_bytes(b"garbage")
    with pytest.raises(DataError, match="unreadable") as error:
        prepare(mars, PrepareConfig(splits=("val",), workers=2), progress=False)
    assert error.value.path == broken


@pytest.mark.parametrize("shard", ["2/2", "a/b", "1", "-1/2", "0/0"])
def test_shard_setting_is_validated(mars, shard):
    with pytest.raises(ConfigError, match="I/N"):
        parse_shard(shard)
    with pytest.raises(ConfigError, match="shard"):
        prepare(mars, PrepareConfig(shard=shard), progress=False)


def _register_many(directory, prefix):
    store = FeatureStore(directory)
    for index in range(25):
        store.register(StreamInfo(f"{prefix}{index}", 3))


def test_concurrent_registration_loses_nothing(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_register_many, args=(tmp_path, prefix)) for prefix in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert set(FeatureStore(tmp_path).streams) == {f"{p}{i}" for p in "ab" for i in range(25)}


# -- REACT 2026 side data -----------------------------------------------------------------------------
def test_personality_parsing(tmp_path):
    path = tmp_path / "listener.csv"
    header = "video_name,session,Extraversion,Agreeableness,Conscientiousness,Neuroticism,Openness\n"
    path.write_text("\ufeff" + header + "dir/x.mp4,session1,1,2,3,4,5\nx,session2,5,5,5,5,5\n", encoding="utf-8")
    table = read_personality_csv(path)
    np.testing.assert_allclose(table[("session1", "x")], [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(table[("session2", "x")], [1] * 5)
    np.testing.assert_allclose(table[(None, "x")], [0, 0.25, 0.5, 0.75, 1])  # first row of the stem
    path.write_text(header + "x,session1,1,2,three,4,5\n")
    with pytest.raises(DataError, match="line 2"):
        read_personality_csv(path)


def test_eeg_parsing(tmp_path):
    path = tmp_path / "x.csv"
    header = ["time", *EEG_COLUMNS]
    rows = [["0", *[str(1000 * (i + 1)) for i in range(14)]], ["1", "", "abc", "nan", *["2"] * 11]]
    path.write_text("\n".join(",".join(row) for row in [header, *rows]) + "\n")
    values, mask = read_eeg_csv(path)
    np.testing.assert_allclose(values[0, :4], [1, 2, 3, 4])  # raw channels / 1000
    assert values[0, 4] == 5000  # band powers unscaled
    assert values[1, :3].tolist() == [0, 0, 0] and mask[1, :3].tolist() == [0, 0, 0]
    assert mask[1, 3:].all() and values[1, 3] == 0.002


def test_prepare_eeg_and_personality(mars):
    base = mars / "val"
    eeg = base / "eeg_processed" / "listener" / "session0" / "s-a.csv"
    eeg.parent.mkdir(parents=True)
    eeg.write_text(",".join(EEG_COLUMNS) + "\n" + ",".join(["1"] * 14) + "\n" + ",".join(["2000"] * 4 + [""] * 10) + "\n")
    (base / "personality").mkdir()
    header = "video_name,Extraversion,Agreeableness,Conscientiousness,Neuroticism,Openness\n"
    (base / "personality" / "listener.csv").write_text(header + "s-a,5,4,3,2,1\n")
    streams = ("eeg", "eeg_mask", "personality")
    summary = prepare(mars, PrepareConfig(splits=("val",), streams=streams), progress=False)
    store = FeatureStore(mars / "features")
    values, mask = store.read("eeg", "val/listener/session0/s-a"), store.read("eeg_mask", "val/listener/session0/s-a")
    assert values.shape == mask.shape == (45, 14)
    # Frame t reads row floor(t / 30): frames 0-29 row 0, 30-44 row 1.
    np.testing.assert_allclose(values[29, :4], 0.001)
    np.testing.assert_allclose(values[30, :4], 2.0)
    assert mask[30, 4:].sum() == 0 and mask[0].all()
    # No EEG file: zeros with mask 0, as the 2026 loader, and recorded.
    missing = "val/listener/session1/" + STEM
    assert not store.read("eeg_mask", missing).any()
    assert "missing" in store.clip_info(missing)["eeg"]
    np.testing.assert_allclose(store.read("personality", "val/listener/session0/s-a"), [[1, 0.75, 0.5, 0.25, 0]])
    assert not store.has("personality", "val/listener/session0/s-b")  # no row: left out, recorded
    assert "no row" in store.clip_info("val/listener/session0/s-b")["personality"]
    assert any("eeg" in note for note in summary.notes)
    again = prepare(mars, PrepareConfig(splits=("val",), streams=streams), progress=False)
    assert again.computed == 0 and again.notes == summary.notes
    # The baseline's fallback: eeg_processed.tar.gz, read in memory.
    with tarfile.open(base / "eeg_processed.tar.gz", "w:gz") as archive:
        archive.add(base / "eeg_processed", arcname="eeg_processed")
    shutil.rmtree(base / "eeg_processed")
    other = mars / "from_archive"
    prepare(mars, PrepareConfig(splits=("val",), streams=("eeg",), store=str(other)), progress=False)
    np.testing.assert_array_equal(FeatureStore(other).read("eeg", "val/listener/session0/s-a"), values)
    # A split without any EEG: asking for the stream is a mistake, named.
    (base / "eeg_processed.tar.gz").unlink()
    with pytest.raises(DataError, match="no EEG folder"):
        prepare(mars, PrepareConfig(splits=("val",), streams=("eeg",), store=str(mars / "other")), progress=False)


def test_extract_at_30_fps(tmp_path):
    from test_extract import FACE_SHORT, SPEECH

    out = tmp_path / "store"
    args = ["extract", str(FACE_SHORT), "--audio", str(SPEECH), "--out", str(out), "--streams", "mfcc,voice", "--fps", "30"]
    assert main(args) == 0
    store = FeatureStore(out)
    # The 2.4 s clip is 60 frames at 25 fps (the default), 72 at 30.
    assert store.read("mfcc", "face_short").shape == (72, 26) and store.read("voice", "face_short").shape == (72, 1)
    assert store.clip_info("face_short") == {"fps": 30, "frames": 72}
    assert main([*args[:-1], "0"]) == 0  # the video's own rate (30): same inputs, up to date
    assert main([*args[:-1], "25"]) == 0
    assert store.read("mfcc", "face_short").shape == (60, 26) and store.clip_info("face_short")["fps"] == 25
