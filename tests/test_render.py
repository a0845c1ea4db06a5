"""Rendering: faces react to the emotion vector the expected way, videos come back with the right
frames, rate and audio, and bad predictions files give clear errors."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from reactdiff.cli import main
from reactdiff.constants import EMOTION_COLUMNS
from reactdiff.render import mesh
from reactdiff.render.face2d import render_faces
from reactdiff.render.faceverse import FaceVerseModel, FaceVerseRenderer
from reactdiff.render.grid import GAP, compose_grid, footage_panel, rendered_panel
from reactdiff.render.plots import plot_reaction
from reactdiff.render.renderers import get_renderer
from reactdiff.render.video import read_video_frames, write_video
from react_fixture import make_react_dataset


def expression(frames: int = 3, **values: float) -> np.ndarray:
    """A constant (frames, 25) emotion sequence: Neutral unless other columns are given."""
    vector = np.zeros(len(EMOTION_COLUMNS))
    vector[EMOTION_COLUMNS.index("Neutral")] = 1.0
    for name, value in values.items():
        vector[EMOTION_COLUMNS.index(name)] = value
    return np.tile(vector, (frames, 1))


NEUTRAL = expression()
SMILE = expression(AU6=1, AU12=1, Happy=1, Neutral=0, Valence=0.8)
FROWN = expression(AU4=1, AU15=1, Sad=1, Neutral=0, Valence=-0.7)


def lip_geometry(frame: np.ndarray) -> tuple[float, float, int]:
    """(corner row - centre row, centre row, width) of the lips, found by their red colour in the
    lower face. Rows grow downwards, so a negative first value means the corners are higher."""
    size = frame.shape[0]
    red, green = frame[..., 0].astype(int), frame[..., 1].astype(int)
    lips = (red - green > 60) & (red > 150)
    lips[: int(0.53 * size)] = False  # below the cheeks (blush is reddish too)
    lips[int(0.8 * size) :] = False
    rows, columns = np.nonzero(lips)
    left, right = columns.min(), columns.max()
    middle = (left + right) // 2
    corner_rows = rows[(columns <= left + 3) | (columns >= right - 3)]
    centre_rows = rows[np.abs(columns - middle) <= 3]
    return float(corner_rows.mean() - centre_rows.mean()), float(centre_rows.mean()), int(right - left)


def test_face2d_is_deterministic_uint8_frames():
    frames = render_faces(SMILE, size=64)
    assert frames.shape == (3, 64, 64, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames, render_faces(SMILE, size=64))


def test_smile_lifts_and_widens_the_mouth_corners_and_a_frown_drops_them():
    neutral_lift, _, neutral_width = lip_geometry(render_faces(NEUTRAL)[1])
    smile_lift, _, smile_width = lip_geometry(render_faces(SMILE)[1])
    frown_lift, _, _ = lip_geometry(render_faces(FROWN)[1])
    # At 256 px the smile lifts the corners by ~10 px relative to the lip centre.
    assert smile_lift < neutral_lift - 4
    assert smile_width > neutral_width + 5
    assert frown_lift > neutral_lift + 4


def test_head_rotation_comes_from_3dmm_columns_52_to_54():
    coeffs = np.zeros((3, 58))
    still = render_faces(NEUTRAL, coeffs, size=96)
    np.testing.assert_array_equal(still, render_faces(NEUTRAL, None, size=96))
    coeffs[:, 53] = 0.4  # yaw: the face turns, features slide sideways
    turned = render_faces(NEUTRAL, coeffs, size=96)
    assert np.abs(turned.astype(int) - still.astype(int)).mean() > 1.0
    coeffs[:, :52] = 5.0  # expression coefficients do not move the 2-D face's head
    np.testing.assert_array_equal(turned, render_faces(NEUTRAL, coeffs, size=96))


def test_binary_aus_are_eased_in_over_a_few_frames():
    emotion = expression(frames=12)
    emotion[6:, EMOTION_COLUMNS.index("AU12")] = 1.0
    frames = render_faces(emotion, size=96).astype(int)
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    assert steps[:2].max() == 0.0  # nothing changes far from the switch
    assert (steps[3:9] > 0).sum() >= 3  # the switch is spread over several frames


@pytest.mark.parametrize("bad", [np.zeros((5, 24)), np.full((5, 25), np.nan), np.zeros((0, 25))])
def test_face2d_rejects_bad_emotion(bad):
    with pytest.raises(ValueError, match="emotion"):
        render_faces(bad)


def test_mp4_has_the_frames_rate_and_audio_duration(tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (30, 63, 65, 3), dtype=np.uint8)
    sample_rate = 16000
    tone = (0.3 * np.sin(np.arange(sample_rate // 2) / sample_rate * 2 * np.pi * 440)).astype(np.float32)
    path = write_video(tmp_path / "clip.mp4", frames, audio=(tone, sample_rate))
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.average_rate == 25
        assert (video.width, video.height) == (66, 64)  # padded to even sizes for yuv420p
        assert sum(1 for _ in container.decode(video=0)) == 30
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        seconds = sum(frame.samples for frame in container.decode(audio=0)) / audio.sample_rate
    # Half a second of audio is padded to the 1.2 s of video (AAC adds < 50 ms of priming).
    assert 1.2 <= seconds < 1.25
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically: no temporary left behind


def test_gif_and_video_round_trip(tmp_path):
    emotion = expression(frames=4)
    emotion[:, EMOTION_COLUMNS.index("Valence")] = np.linspace(-1, 1, 4)  # every frame differs
    frames = render_faces(emotion, size=48)
    gif = write_video(tmp_path / "clip.gif", frames)
    with Image.open(gif) as image:
        assert image.n_frames == 4 and image.info["duration"] == 40
    mp4 = write_video(tmp_path / "clip.mp4", frames)
    decoded = read_video_frames(mp4)
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 6  # lossy, but the same picture


ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.mark.skipif(not (SHARED / "media" / "face_short.mp4").is_file(), reason="shared media not present")
def test_speaker_footage_is_resampled_to_25_fps_and_cropped_square():
    # face_short.mp4: 2.4 s at 30 fps, 640x360 -> 60 frames at 25 fps, centre-cropped to 64x64.
    frames = read_video_frames(SHARED / "media" / "face_short.mp4", size=(64, 64))
    assert frames.shape == (60, 64, 64, 3)
    assert read_video_frames(SHARED / "media" / "face_short.mp4", size=(64, 64), max_frames=10).shape[0] == 10


def test_chunked_panel_matches_whole_clip_render_and_grid_layout():
    emotion = np.random.default_rng(1).random((30, 25))
    panel = rendered_panel("Listener 1", render_faces, emotion, size=40)
    np.testing.assert_array_equal(panel.frames(10, 20), render_faces(emotion, size=40)[10:20])
    footage = np.zeros((3, 40, 40, 3), np.uint8)
    grid = list(compose_grid([footage_panel("Speaker", footage), panel], num_frames=5, panel_size=40, chunk=2))
    assert len(grid) == 5
    height, width, _ = grid[0].shape
    assert height % 2 == 0 and width % 2 == 0 and width >= 2 * 40


def write_predictions(path: Path, emotion: np.ndarray, coeffs: np.ndarray | None = None, pairs=None) -> Path:
    """Write a predictions file without validation (so tests can plant bad values)."""
    pairs = pairs or [("NoXI/s/Expert_video/1", "NoXI/s/Novice_video/1")] * emotion.shape[0]
    arrays = {
        "emotion": emotion.astype(np.float32),
        "speaker_path": np.array([p[0] for p in pairs]),
        "listener_path": np.array([p[1] for p in pairs]),
        "meta": np.array('{"split": "val"}'),
    }
    if coeffs is not None:
        arrays["coeffs_3dmm"] = coeffs.astype(np.float32)
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "emotion, problem",
    [
        (np.zeros((2, 3, 10, 24)), "shape"),
        (np.where(np.arange(25) == 3, np.nan, 0.0) * np.ones((2, 3, 10, 25)), "NaN"),
    ],
)
def test_render_reports_bad_predictions_files(tmp_path, capsys, emotion, problem):
    path = write_predictions(tmp_path / "bad.npz", emotion)
    status = main(["render", "--predictions", str(path), "--speaker-video", "x.mp4", "--index", "0"])
    assert status == 2
    error = capsys.readouterr().err
    assert str(path) in error and problem in error


def test_render_reports_index_out_of_range(tmp_path, capsys):
    path = write_predictions(tmp_path / "ok.npz", np.zeros((2, 3, 10, 25)))
    assert main(["render", "--predictions", str(path), "--speaker-video", "x.mp4", "--index", "5"]) == 2
    assert "out of range" in capsys.readouterr().err


def test_render_command_on_a_dataset_row(tmp_path):
    root = make_react_dataset(tmp_path / "react")
    from reactdiff.data.layout import ReactLayout

    pairs = ReactLayout(root).eval_order("val")
    rng = np.random.default_rng(0)
    emotion = (rng.random((len(pairs), 2, 750, 25)) < 0.3).astype(np.float32)
    coeffs = rng.normal(scale=0.1, size=(len(pairs), 2, 750, 58)).astype(np.float32)
    predictions = write_predictions(tmp_path / "pred.npz", emotion, coeffs, [(p.speaker, p.listener) for p in pairs])
    out = tmp_path / "out" / "row1.mp4"
    status = main(["render", "--predictions", str(predictions), "--data", str(root), "--index", "1",
                   "--out", str(out), "--max_frames", "12", "--panel_size", "48"])
    assert status == 0
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 12
        # Four 48-px panels in a row: speaker, real listener, two generated reactions.
        assert container.streams.video[0].width == 4 * 48 + 5 * GAP
    with av.open(str(out)) as container:
        rate = container.streams.audio[0].sample_rate
        seconds = sum(frame.samples for frame in container.decode(audio=0)) / rate
    assert 12 / 25 <= seconds < 12 / 25 + 0.05  # the speaker's 30 s wav is cut to the 12 frames
    assert (out.parent / "row1.render.json").is_file()


def test_plot_writes_four_figures(tmp_path):
    reactions = np.random.default_rng(0).random((3, 50, 25))
    speaker, real_listener = np.random.default_rng(1).random((2, 50, 25))
    paths = plot_reaction(tmp_path / "plots", reactions, speaker, real_listener)
    assert [p.name for p in paths] == ["au_raster.png", "valence_arousal.png", "expressions.png", "diversity.png"]
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 300


def test_mesh_falls_back_to_face2d_with_a_notice(monkeypatch, capsys):
    monkeypatch.setattr(mesh, "mesh_available", lambda: False)
    assert get_renderer("mesh") is render_faces
    assert "2-D face" in capsys.readouterr().err


@pytest.mark.skipif(not mesh.mesh_available(), reason="py-feat not installed (scripts/install_mesh_extra.sh)")
def test_mesh_renderer_smile_moves_the_mesh():
    model = mesh.load_mesh_model()
    # Each REACT AU drives the same-numbered py-feat AU.
    assert model.react_to_feat[EMOTION_COLUMNS.index("AU12"), model.au_columns.index("AU12")] == 1.0
    neutral = mesh.render_mesh_faces(NEUTRAL, size=96)
    smile = mesh.render_mesh_faces(SMILE, size=96)
    assert neutral.shape == (3, 96, 96, 3) and neutral.dtype == np.uint8
    np.testing.assert_array_equal(smile, mesh.render_mesh_faces(SMILE, size=96))
    lower_face = (slice(None), slice(55, 85))
    assert np.abs(smile[lower_face].astype(int) - neutral[lower_face].astype(int)).mean() > 1.0


def tiny_faceverse(path: Path, one_based: bool = True) -> Path:
    """A FaceVerse-v2-structured model: a curved 12x12 grid; expression 0 drops the lower half."""
    n = 12
    x, y = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1.3, 1.3, n))
    z = np.sqrt(np.clip(2.0 - x**2 - (y / 1.3) ** 2, 0, None))
    vertices = np.stack([x.ravel(), y.ravel(), z.ravel()], 1)
    triangles = []
    for row in range(n - 1):
        for column in range(n - 1):
            a = row * n + column
            triangles += [[a, a + 1, a + n], [a + 1, a + n + 1, a + n]]
    expression_basis = np.zeros((3 * len(vertices), 52))
    expression_basis[1::3, 0] = -0.2 * (vertices[:, 1] < 0)
    model = {
        "meanshape": vertices.reshape(1, -1),
        "exBase": expression_basis,
        "idBase": np.zeros((3 * len(vertices), 150)),
        "tri": np.array(triangles) + int(one_based),
        "meantex": np.full((1, 3 * len(vertices)), 200.0),
        "exp_name_list": [f"exp{i}" for i in range(52)],
    }
    if path.suffix == ".npz":
        np.savez(path, **{k: v for k, v in model.items() if k != "exp_name_list"})
    else:
        np.save(path, model, allow_pickle=True)
    return path


def test_faceverse_renderer_on_a_tiny_model(tmp_path):
    mean_face = np.zeros(58)
    mean_face[0] = 0.25
    np.save(tmp_path / "mean_face.npy", mean_face)
    renderer = FaceVerseRenderer(tiny_faceverse(tmp_path / "fv.npy"), tmp_path / "mean_face.npy")
    coeffs = np.zeros((2, 58))
    coeffs[1, 0] = 1.0  # expression 0 (1.25 with the mean face added back) drops the lower face
    frames = renderer(np.zeros((2, 25)), coeffs, size=64)
    assert frames.shape == (2, 64, 64, 3)
    face = np.abs(frames.astype(int) - frames[0, 0, 0].astype(int)).max(axis=-1) > 20
    face_rows = [np.nonzero(face[t].any(axis=1))[0] for t in range(2)]
    assert face_rows[1].max() >= face_rows[0].max() + 2  # the chin moved down by 0.2 units (~4 px)
    assert face_rows[1].min() == face_rows[0].min()  # the forehead stayed
    npz = FaceVerseModel.load(tiny_faceverse(tmp_path / "fv.npz", one_based=False))
    np.testing.assert_array_equal(npz.triangles, renderer.model.triangles)  # 1-based tri detected


def test_faceverse_refuses_code_in_a_pickled_model(tmp_path):
    import os

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo should-not-run",))

    path = tmp_path / "evil.npy"
    np.save(path, np.array([Payload()], dtype=object), allow_pickle=True)
    from reactdiff.errors import DataError

    with pytest.raises(DataError, match="refusing"):
        FaceVerseModel.load(path)


def test_faceverse_renderer_needs_its_model_and_the_mean_face(tmp_path):
    from reactdiff.errors import ConfigError

    with pytest.raises(ConfigError, match="faceverse_model"):
        get_renderer("faceverse")
    with pytest.raises(ConfigError, match="mean_face"):
        get_renderer("faceverse", tiny_faceverse(tmp_path / "fv.npy"))
