"""Video decoding at 25 fps, the documented REACT approximations, model-file checks, and (with the
optional extras from scripts/install_extras.sh) face tracking on the real clips in shared/media."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from reactdiff.constants import AU_SLICE, EXPRESSION_NAMES, EXPRESSION_SLICE, FPS, VA_SLICE
from reactdiff.errors import FeatureError
from reactdiff.features import emotion_map, models
from reactdiff.features.extract import VIDEO_STREAMS, compute_video_streams, fill_gaps
from reactdiff.features.face import BLENDSHAPE_NAMES
from reactdiff.features.video import iter_frames, probe_video, upright

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MEDIA = SHARED / "media"


def write_counter_video(path: Path, fps: int, frames: int, size: int = 32) -> None:
    """A lossless clip whose frame k is a flat grey of value 7k (k <= 36), to read frame choices back."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv444p"
        for k in range(frames):
            image = np.full((size, size, 3), 7 * k, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def source_indices(path: Path, **kwargs) -> list[int]:
    return [int(round(frame[0, 0, 0] / 7)) for frame in iter_frames(path, **kwargs)]


@pytest.mark.parametrize("source_fps", [30, 24, 10])
def test_resampling_picks_the_nearest_source_frame(tmp_path, source_fps):
    path = tmp_path / f"counter_{source_fps}.mkv"
    frames = 30 if source_fps == 24 else int(source_fps * 1.2)
    write_counter_video(path, source_fps, frames=frames)
    picked = source_indices(path)
    assert len(picked) == int(round(frames / source_fps * FPS))
    # Output frame i shows the source frame nearest to time i / 25 s (the last one past the end).
    expected = [min(int(np.floor(i * source_fps / FPS + 0.5)), frames - 1) for i in range(len(picked))]
    assert picked == expected


def test_num_frames_pads_with_the_last_frame_and_downscaling(tmp_path):
    path = tmp_path / "counter.mkv"
    write_counter_video(path, 25, frames=10, size=64)
    frames = list(iter_frames(path, num_frames=14, max_side=32))
    assert len(frames) == 14 and frames[0].shape == (32, 32, 3)
    assert [int(round(f[0, 0, 0] / 7)) for f in frames] == list(range(10)) + [9] * 4


@pytest.mark.parametrize(
    "name, seconds", [("face_expressive.mp4", 19.685), ("face_short.mp4", 2.4), ("face_then_noface.mov", 6.402)]
)
def test_real_clips_resample_to_duration_times_25(name, seconds):
    info = probe_video(MEDIA / name)
    assert info.duration == pytest.approx(seconds, abs=0.01)
    frames = list(iter_frames(MEDIA / name, max_side=320))
    assert len(frames) == info.num_frames() == int(round(info.duration * FPS))
    assert all(f.dtype == np.uint8 and f.ndim == 3 and max(f.shape[:2]) <= 320 for f in frames)


def test_display_rotation_turns_frames_upright():
    # A 2x3 frame with a marked top-left pixel.
    frame = np.zeros((2, 3, 3), dtype=np.uint8)
    frame[0, 0] = 255
    assert upright(frame, 0) is frame
    clockwise = upright(frame, -90)  # FFmpeg: -90 means "rotate clockwise to display"
    assert clockwise.shape == (3, 2, 3) and clockwise[0, 1, 0] == 255
    counterclockwise = upright(frame, 90)
    assert counterclockwise.shape == (3, 2, 3) and counterclockwise[2, 0, 0] == 255
    assert upright(frame, 180)[1, 2, 0] == 255 and upright(frame, -180)[1, 2, 0] == 255


def test_frame_folder_is_read_in_natural_order(tmp_path):
    from PIL import Image

    for k in range(1, 12):  # 1.png .. 11.png: a plain sort would put 10 and 11 before 2
        Image.fromarray(np.full((8, 8, 3), 7 * k, dtype=np.uint8)).save(tmp_path / f"{k}.png")
    assert probe_video(tmp_path).num_frames() == 11
    assert source_indices(tmp_path) == list(range(1, 12))


def test_unreadable_inputs_name_the_file(tmp_path):
    with pytest.raises(FeatureError, match="missing.mp4: video file not found"):
        probe_video(tmp_path / "missing.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(FeatureError, match="notes.mp4: not a readable video"):
        probe_video(text)
    with pytest.raises(FeatureError, match="conversation_16k.wav: no video track"):
        probe_video(MEDIA / "conversation_16k.wav")


def test_au_mapping_thresholds_each_au_from_its_blendshapes():
    index = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}
    for column, au in enumerate(emotion_map.AU_NAMES):
        shapes, threshold = emotion_map.AU_FROM_BLENDSHAPES[au]
        below = np.zeros((1, len(BLENDSHAPE_NAMES)), dtype=np.float32)
        below[0, index[shapes[-1]]] = threshold - 0.01
        above = below.copy()
        above[0, index[shapes[-1]]] = threshold
        aus_below, aus_above = emotion_map.blendshapes_to_aus(np.concatenate([below, above]))
        assert aus_below[column] == 0 and aus_above[column] == 1, au
        # Only AUs that share this blendshape may fire with it.
        sharing = [i for i, other in enumerate(emotion_map.AU_NAMES) if shapes[-1] in emotion_map.AU_FROM_BLENDSHAPES[other][0]]
        assert set(np.flatnonzero(aus_above)) <= set(sharing)


def test_expression_and_valence_arousal_mapping():
    fer = np.random.default_rng(0).dirichlet(np.ones(7), size=100).astype(np.float32)
    react = emotion_map.fer_to_react(fer)
    assert np.allclose(react.sum(axis=1), 1.0, atol=1e-5)
    assert (react[:, EXPRESSION_NAMES.index("Contempt")] == 0).all()
    assert np.allclose(react[:, EXPRESSION_NAMES.index("Anger")], fer[:, 0] / fer.sum(axis=1))
    one_hot = np.eye(8, dtype=np.float32)
    va = emotion_map.valence_arousal(one_hot)
    assert np.allclose(va, [emotion_map.VALENCE_AROUSAL[name] for name in EXPRESSION_NAMES])
    assert va[EXPRESSION_NAMES.index("Happy"), 0] > 0 > va[EXPRESSION_NAMES.index("Sad"), 0]
    assert np.abs(emotion_map.valence_arousal(react)).max() <= 1.0


def test_fill_gaps_carries_short_gaps_and_relaxes_long_ones():
    present = np.array([0, 0, 1, 0, 0, 1, 0, 0, 0, 0], dtype=bool)
    values = np.arange(10, dtype=np.float32)[:, None]
    filled = fill_gaps(values, present, max_gap=2, neutral=np.array([-1.0], np.float32))[:, 0]
    # Leading frames take the first face; gaps of <= 2 frames carry the last face; then neutral.
    assert filled.tolist() == [2, 2, 2, 2, 2, 5, 5, 5, -1, -1]
    held = fill_gaps(values, present, max_gap=None)[:, 0]
    assert held.tolist() == [2, 2, 2, 2, 2, 5, 5, 5, 5, 5]


def test_model_files_are_verified(tmp_path, monkeypatch):
    model = models.MODEL_FILES["expression"]
    with pytest.raises(FeatureError, match="install_extras.sh"):
        models.verify(model, tmp_path / model.filename)
    wrong_size = tmp_path / "short.tflite"
    wrong_size.write_bytes(b"x" * 10)
    with pytest.raises(FeatureError, match=f"has 10 bytes, expected {model.size}"):
        models.locate("expression", wrong_size)
    wrong_hash = tmp_path / "same_size.tflite"
    wrong_hash.write_bytes(b"\0" * model.size)
    monkeypatch.setenv(model.env_var, str(wrong_hash))
    with pytest.raises(FeatureError, match="SHA-256"):
        models.locate("expression")
    monkeypatch.delenv(model.env_var)
    monkeypatch.setenv("REACTDIFF_HOME", str(tmp_path / "home"))
    with pytest.raises(FeatureError, match=str(tmp_path / "home" / "models" / model.filename)):
        models.locate("expression")


# --- with the optional extras (MediaPipe, ai-edge-litert, model files) -------------------------


@pytest.fixture(scope="module")
def expressive_streams(video_extras):
    num_frames = probe_video(MEDIA / "face_expressive.mp4").num_frames()
    return compute_video_streams(MEDIA / "face_expressive.mp4", num_frames, tuple(VIDEO_STREAMS))


def test_face_clip_streams_are_finite_at_25_fps(expressive_streams):
    assert set(expressive_streams) == set(VIDEO_STREAMS)
    for name, values in expressive_streams.items():
        assert values.shape == (492, VIDEO_STREAMS[name].dim), name
        assert values.dtype == np.float32 and np.isfinite(values).all(), name
    assert expressive_streams["face_present"].min() == 1.0  # the face never leaves this clip
    blendshapes = expressive_streams["blendshapes"]
    assert blendshapes.min() >= 0 and blendshapes.max() <= 1 and blendshapes.std(axis=0).max() > 0.1
    assert np.abs(expressive_streams["head_pose"][:, :3]).max() < np.pi
    coeffs = expressive_streams["3dmm"]
    assert np.array_equal(coeffs[:, :52], blendshapes) and np.array_equal(coeffs[:, 52:], expressive_streams["head_pose"])


def test_approximate_emotion_obeys_react_ranges(expressive_streams):
    emotion = expressive_streams["emotion"]
    assert set(np.unique(emotion[:, AU_SLICE])) <= {0.0, 1.0}
    assert np.abs(emotion[:, VA_SLICE]).max() <= 1.0
    expression = emotion[:, EXPRESSION_SLICE]
    assert expression.min() >= 0 and np.allclose(expression.sum(axis=1), 1.0, atol=1e-4)
    # The clip ends on a broad laugh (after crying at the start): the last 4 s must read as Happy.
    assert np.mean(expression[-100:].argmax(axis=1) == EXPRESSION_NAMES.index("Happy")) > 0.8
    assert np.mean(emotion[-100:, emotion_map.AU_NAMES.index("AU12")]) > 0.8  # lip corner puller
    assert emotion[-100:, 15].mean() > 0.3  # positive valence


def test_short_face_clip(video_extras):
    streams = compute_video_streams(MEDIA / "face_short.mp4", 60, ("blendshapes", "face_present"))
    assert streams["blendshapes"].shape == (60, 52) and streams["face_present"].min() == 1.0


def test_clip_without_a_face_fails_clearly(video_extras):
    with pytest.raises(FeatureError, match=r"no_face.mp4: no face detected in any of its 99 frames"):
        compute_video_streams(MEDIA / "no_face.mp4", 99, ("blendshapes",))


def test_frames_without_a_face_are_marked(video_extras):
    num_frames = probe_video(MEDIA / "face_then_noface.mov").num_frames()
    streams = compute_video_streams(MEDIA / "face_then_noface.mov", num_frames, ("face_present", "blendshapes", "emotion"))
    present = streams["face_present"][:, 0]
    assert present.shape == (160,) and set(np.unique(present)) == {0.0, 1.0}
    # The face is there at the start and gone at the end of the clip.
    assert present[:25].all() and not present[-25:].any()
    first_missing = int(np.argmin(present))
    assert present[first_missing:].sum() == 0
    # Within the 1 s carry-over the last face is kept; past it the face relaxes to neutral.
    assert np.array_equal(streams["blendshapes"][first_missing], streams["blendshapes"][first_missing - 1])
    assert (streams["blendshapes"][first_missing + FPS + 1 :] == 0).all()
    neutral = EXPRESSION_NAMES.index("Neutral")
    assert (streams["emotion"][first_missing + FPS + 1 :, 17 + neutral] == 1).all()


def test_documented_au_table_matches_the_code():
    rows = [line for line in (ROOT / "docs" / "features.md").read_text().splitlines() if re.match(r"\| AU\d+ \|", line)]
    documented = {}
    for row in rows:
        au, _name, shapes, threshold = [cell.strip() for cell in row.strip("|").split("|")]
        documented[au] = (tuple(s.strip() for s in shapes.split("(")[0].split(",")), float(threshold))
    assert documented == emotion_map.AU_FROM_BLENDSHAPES
