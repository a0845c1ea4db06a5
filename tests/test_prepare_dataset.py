"""`reactdiff prepare` (skip, resume, atomicity) and the Dataset over its store."""

import numpy as np
import pytest
import torch

import reactdiff.io
from reactdiff.cli import main
from reactdiff.data.dataset import ReactPairDataset
from reactdiff.data.layout import ReactLayout
from reactdiff.data.prepare import PrepareConfig, prepare
from reactdiff.store import FeatureStore, StreamInfo
from reactdiff.errors import DataError
from react_fixture import make_react_dataset

STREAMS = ("emotion", "3dmm")


@pytest.fixture()
def root(tmp_path):
    return make_react_dataset(tmp_path / "data", convention="2024", coeffs_shape="4d")


def _snapshot(store_dir):
    return {p.relative_to(store_dir): p.read_bytes() for p in sorted(store_dir.rglob("*.npy"))}


def test_prepare_writes_streams_and_skips_up_to_date(root, capsys):
    assert main(["prepare", str(root), "--streams", *STREAMS]) == 0
    first = capsys.readouterr().out
    store = FeatureStore(root / "features")
    layout = ReactLayout(root)
    clip = layout.clips("val")[0]
    np.testing.assert_array_equal(store.read("emotion", f"val/{clip}"), layout.load_emotion("val", clip))
    np.testing.assert_allclose(store.read("3dmm", f"val/{clip}"), layout.load_3dmm("val", clip))
    assert "24 stream files written" in first
    assert (root / "features" / "prepare_config.json").is_file()
    assert main(["prepare", str(root), "--streams", *STREAMS]) == 0
    assert "0 stream files written, 24 up to date" in capsys.readouterr().out


def test_prepare_recomputes_when_source_changes(root):
    config = PrepareConfig(streams=STREAMS)
    prepare(root, config, progress=False)
    layout = ReactLayout(root)
    clip = layout.clips("train")[0]
    coeffs_path = layout.coeffs_path("train", clip)
    np.save(coeffs_path, np.ones((751, 58), np.float32))
    summary = prepare(root, config, progress=False)
    assert summary.computed == 1
    np.testing.assert_allclose(FeatureStore(root / "features").read("3dmm", f"train/{clip}")[0], 1 - layout.mean_face)


def test_interrupted_prepare_resumes_without_corrupt_output(root, monkeypatch):
    reference_root = root.parent / "reference"
    import shutil

    shutil.copytree(root, reference_root)
    prepare(reference_root, PrepareConfig(streams=STREAMS), progress=False)
    expected = _snapshot(reference_root / "features")

    # Crash in the middle of writing the 7th file: half its bytes are on disk when it dies.
    real_save = np.save
    calls = {"n": 0}

    def crashing_save(handle, array):
        calls["n"] += 1
        if calls["n"] == 7:
            handle.write(b"\x93NUMPY partial")
            raise KeyboardInterrupt
        real_save(handle, array)

    monkeypatch.setattr(reactdiff.io.np, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        prepare(root, PrepareConfig(streams=STREAMS), progress=False)
    monkeypatch.setattr(reactdiff.io.np, "save", real_save)
    store_dir = root / "features"
    assert len(_snapshot(store_dir)) == 6
    assert not [p for p in store_dir.rglob("*") if p.name.startswith(".")], "temporary files left behind"
    summary = prepare(root, PrepareConfig(streams=STREAMS), progress=False)
    assert summary.computed == 24 - 6
    assert _snapshot(store_dir) == expected


def test_dataset_eval_and_train_items(root):
    prepare(root, PrepareConfig(streams=STREAMS), progress=False)
    val = ReactPairDataset(root, "val", STREAMS)
    layout = ReactLayout(root)
    assert len(val) == len(layout.eval_order("val"))
    item = val[len(val) - 1]
    mirrored = layout.eval_order("val")[-1]
    assert item["speaker"]["emotion"].shape == (750, 25)
    assert item["listener"]["3dmm"].shape == (750, 58)
    torch.testing.assert_close(item["speaker"]["emotion"], torch.from_numpy(layout.load_emotion("val", mirrored.speaker)[:750]))
    train = ReactPairDataset(root, "train", STREAMS, train=True, crop_frames=100)
    torch.manual_seed(0)
    a = train[0]
    assert a["speaker"]["emotion"].shape == (100, 25)
    # Speaker and listener crops are aligned in time: both come from the same window.
    full = layout.load_emotion("train", layout.pairs("train")[0].speaker)
    starts = [s for s in range(651) if np.array_equal(full[s : s + 100], a["speaker"]["emotion"].numpy())]
    assert starts, "crop is not a window of the clip"


def test_dataset_names_missing_stream(root):
    prepare(root, PrepareConfig(streams=("emotion",)), progress=False)
    with pytest.raises(DataError, match="stream '3dmm' is not in the store"):
        ReactPairDataset(root, "val", ("emotion", "3dmm"))


def test_store_refuses_redefinition(tmp_path):
    store = FeatureStore(tmp_path)
    store.register(StreamInfo("mfcc", 26, kind="audio"))
    store.register(StreamInfo("mfcc", 26, kind="audio"))
    with pytest.raises(DataError, match="refusing to redefine"):
        store.register(StreamInfo("mfcc", 13, kind="audio"))
    with pytest.raises(DataError, match="NaN"):
        store.write("mfcc", "clip", np.full((3, 26), np.nan))
