"""``reactdiff.features.extract`` and ``reactdiff extract``: streams from a user's clip into a
FeatureStore, resuming, and the clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reactdiff.cli import main
from reactdiff.store import FeatureStore
from reactdiff.errors import ConfigError, FeatureError
from reactdiff.features.extract import extract

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MEDIA = SHARED / "media"
FACE_SHORT = MEDIA / "face_short.mp4"  # 2.4 s at 30 fps -> 60 frames at 25 fps
SPEECH = MEDIA / "conversation_16k.wav"


def write_video(path: Path, seconds: float, fps: int = 25, with_audio: bool = False) -> None:
    """A small synthetic clip (no face), optionally with a 440 Hz tone as its audio track."""
    import av

    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=fps)
        video.width = video.height = 32
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=16000) if with_audio else None
        for k in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), k % 255, dtype=np.uint8), format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            t = np.arange(int(seconds * 16000)) / 16000
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            for start in range(0, tone.shape[1], 1024):
                chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start : start + 1024]), format="flt", layout="mono")
                chunk.sample_rate = 16000
                for packet in audio.encode(chunk):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)


def test_audio_streams_follow_the_video_frame_count():
    features = extract(FACE_SHORT, audio_path=SPEECH, streams=("mfcc", "prosody"))
    assert list(features) == ["mfcc", "prosody"]
    assert features["mfcc"].shape == (60, 26) and features["prosody"].shape == (60, 3)
    assert all(np.isfinite(v).all() and v.dtype == np.float32 for v in features.values())


def test_audio_is_taken_from_the_video_track_by_default(tmp_path):
    clip = tmp_path / "tone.mp4"
    write_video(clip, 2.2, with_audio=True)
    features = extract(clip, streams=("mfcc",))
    assert features["mfcc"].shape == (55, 26) and np.isfinite(features["mfcc"]).all()


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(FeatureError, match="face_expressive.mp4: audio track is silent"):
        extract(MEDIA / "face_expressive.mp4", streams=("mfcc",))
    mute = tmp_path / "mute.mp4"
    write_video(mute, 2.2)
    with pytest.raises(FeatureError, match=r"mute.mp4: no audio track for audio stream\(s\) mfcc"):
        extract(mute, streams=("mfcc",))
    short = tmp_path / "short.mp4"
    write_video(short, 1.0)
    with pytest.raises(FeatureError, match="short.mp4: clip is 1.00 s .25 frames at 25 fps., shorter than one 50-frame window"):
        extract(short, audio_path=SPEECH, streams=("mfcc",))
    with pytest.raises(FeatureError, match="missing.wav: audio file not found"):
        extract(FACE_SHORT, audio_path=tmp_path / "missing.wav", streams=("mfcc",))
    with pytest.raises(ConfigError, match="unknown stream.s. smile"):
        extract(FACE_SHORT, audio_path=SPEECH, streams=("smile",))


def test_cli_reports_errors_with_exit_code_2(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "absent.mp4"), "--out", str(tmp_path / "store"), "--streams", "mfcc"]) == 2
    assert "absent.mp4: video file not found" in capsys.readouterr().err


def test_cli_audio_streams_without_the_video_extras(tmp_path, capsys):
    out = tmp_path / "store"
    args = ["extract", str(FACE_SHORT), "--audio", str(SPEECH), "--out", str(out), "--streams", "mfcc,voice"]
    assert main(args) == 0
    store = FeatureStore(out)
    assert store.read("mfcc", "face_short").shape == (60, 26)
    assert store.read("voice", "face_short").shape == (60, 1)
    assert json.loads((out / "extract_config.json").read_text())["streams"] == ["mfcc", "voice"]


def test_cli_writes_a_feature_store_and_resumes(video_extras, tmp_path, capsys):
    out = tmp_path / "store"
    args = ["extract", str(FACE_SHORT), "--audio", str(SPEECH), "--out", str(out), "--key", "me"]
    args += ["--streams", "emotion", "3dmm", "face_present", "mfcc", "--video.max_gap_seconds", "0.5"]
    assert main(args) == 0
    assert "extracted" in capsys.readouterr().out
    store = FeatureStore(out)
    shapes = {name: store.read(name, "me").shape for name in ("emotion", "3dmm", "face_present", "mfcc")}
    assert shapes == {"emotion": (60, 25), "3dmm": (60, 58), "face_present": (60, 1), "mfcc": (60, 26)}
    infos = store.streams
    assert infos["emotion"].approximate and infos["3dmm"].approximate and not infos["mfcc"].approximate
    assert "APPROXIMATE" in infos["3dmm"].description
    config = json.loads((out / "extract_config.json").read_text())
    assert config["video"]["max_gap_seconds"] == 0.5
    # A second run finds everything up to date and rewrites nothing.
    mtime = store.path("emotion", "me").stat().st_mtime_ns
    assert main(args) == 0
    assert "up to date" in capsys.readouterr().out
    assert store.path("emotion", "me").stat().st_mtime_ns == mtime


def test_cli_no_face_error(video_extras, tmp_path, capsys):
    args = ["extract", str(MEDIA / "no_face.mp4"), "--out", str(tmp_path / "store"), "--streams", "blendshapes"]
    assert main(args) == 2
    assert "no_face.mp4: no face detected" in capsys.readouterr().err


def test_cli_workers_and_shards_give_the_same_store(video_extras, tmp_path):
    """Clips extracted by a pool of workers, or by two shard commands into one store, are the bytes
    one process writes."""
    clips = [str(MEDIA / "face_expressive.mp4"), str(MEDIA / "face_short.mp4")]
    streams = ["--streams", "blendshapes", "head_pose"]
    assert main(["extract", *clips, "--out", str(tmp_path / "one"), *streams]) == 0
    assert main(["extract", *clips, "--out", str(tmp_path / "pool"), "--workers", "2", *streams]) == 0
    for shard in ("0/2", "1/2"):
        assert main(["extract", *clips, "--out", str(tmp_path / "shards"), "--shard", shard, *streams]) == 0
    for other in ("pool", "shards"):
        for key in ("face_expressive", "face_short"):
            for stream in ("blendshapes", "head_pose"):
                expected = FeatureStore(tmp_path / "one").read(stream, key, mmap=False)
                np.testing.assert_array_equal(FeatureStore(tmp_path / other).read(stream, key, mmap=False), expected)
    assert main(["extract", *clips, "--out", str(tmp_path / "bad"), "--workers", "0", *streams]) == 2
