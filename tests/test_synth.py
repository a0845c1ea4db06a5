"""The synthetic corpus: REACT layout and value contract, determinism, resume, and the structure
it is built to carry (lagged listeners, distinct reaction modes)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile

from reactdiff.cli import main
from reactdiff.constants import CLIP_FRAMES_STORED, EMOTION_COLUMNS, FPS
from reactdiff.data.check import check_dataset
from reactdiff.data.layout import ReactLayout
from reactdiff.io import load_json
from reactdiff.synth import SynthConfig, write_dataset
from reactdiff.synth.behaviour import REACTION_MODES
from reactdiff.synth.generate import generate_pair
from reactdiff.synth.plan import PairPlan, build_plan, neighbour_matrix
from reactdiff.synth.structure import (
    lag_profile,
    mode_reactions,
    mode_separation,
    reaction_summary,
    sampling_versus_averaging,
    valence_and_smile,
)
from reactdiff.synth.writer import clip_files, write_clip

SMALL = ["--preset", "tiny", "--pairs", "[1,1,1]", "--no-progress"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "tiny"
    write_dataset(root, SynthConfig(preset="tiny", seed=3), progress=False)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_layout_passes_the_data_checker(tiny):
    assert [str(problem) for problem in check_dataset(tiny)] == []
    layout = ReactLayout(tiny)
    assert [len(layout.pairs(split)) for split in ("train", "val", "test")] == [6, 3, 3]
    with open(tiny / "val.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["", "speaker_path", "listener_path"]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]
    clips = layout.clips("train") + layout.clips("val") + layout.clips("test")
    assert {clip.split("/")[0] for clip in clips} == {"NoXI", "RECOLA"}
    assert load_json(tiny / "synth_config.json")["seed"] == 3


def test_files_follow_the_react_2024_naming(tiny):
    row = build_plan(SynthConfig(preset="tiny", seed=3))["val"][0]
    speaker = row.speaker_path
    expected_person = {"Expert_video": "P1", "Novice_video": "P2", "P25": "P1", "P41": "P1", "P45": "P1"}.get(
        row.speaker_person, "P2"
    )
    site, session, person, clip = speaker.split("/")
    assert (tiny / "val" / "Emotion" / site / session / expected_person / f"{clip}.csv").is_file()
    assert (tiny / "val" / "3D_FV_files" / f"{speaker}.npy").is_file()
    assert (tiny / "val" / "Audio_files" / f"{speaker}.wav").is_file()


def test_values_respect_the_contract(tiny):
    layout = ReactLayout(tiny)
    mean_face = np.load(tiny / "mean_face.npy")
    assert mean_face.shape == (58,)
    for clip in layout.clips("test"):
        csv_path = layout.emotion_path("test", clip)
        assert csv_path.read_text().splitlines()[0].split(",") == list(EMOTION_COLUMNS)
        emotion = layout.load_emotion("test", clip)
        assert emotion.shape == (CLIP_FRAMES_STORED, 25) and np.isfinite(emotion).all()
        assert set(np.unique(emotion[:, :15])) <= {0.0, 1.0}
        assert np.abs(emotion[:, 15:17]).max() <= 1.0
        assert np.allclose(emotion[:, 17:].sum(axis=1), 1.0, atol=1e-5) and emotion[:, 17:].min() >= 0
        raw = np.load(layout.coeffs_path("test", clip))
        assert raw.shape == (CLIP_FRAMES_STORED, 58) and raw.dtype == np.float32 and np.isfinite(raw).all()
        # The layout subtracts the mean face; what remains varies over time (motion, expressions).
        assert np.allclose(layout.load_3dmm("test", clip), raw - mean_face, atol=1e-6)
        audio, rate = soundfile.read(layout.audio_path("test", clip), dtype="int16")
        info = soundfile.info(layout.audio_path("test", clip))
        assert rate == 16000 and info.subtype == "PCM_16" and audio.ndim == 1
        assert len(audio) == round(CLIP_FRAMES_STORED / FPS * rate)


def test_speakers_talk_and_listeners_mostly_do_not(tiny):
    layout = ReactLayout(tiny)
    for pair in layout.pairs("train"):
        # Voice activity: share of 40 ms chunks (one per video frame) well above the noise floor.
        voiced = {}
        for role, clip in (("speaker", pair.speaker), ("listener", pair.listener)):
            audio, rate = soundfile.read(layout.audio_path("train", clip))
            chunks = audio[: len(audio) // (rate // FPS) * (rate // FPS)].reshape(-1, rate // FPS)
            voiced[role] = (np.sqrt((chunks**2).mean(axis=1)) > 0.01).mean()
        assert voiced["speaker"] > 0.4 and voiced["listener"] < 0.15
        # Lips part (AU25) while the speaker talks, rarely for the listener.
        speaker_au25 = layout.load_emotion("train", pair.speaker)[:, 13].mean()
        assert speaker_au25 > layout.load_emotion("train", pair.listener)[:, 13].mean()


def test_neighbour_matrices_encode_the_documented_rule(tiny):
    labels = load_json(tiny / "synth_labels.json")["splits"]
    layout = ReactLayout(tiny)
    for split in ("train", "val", "test"):
        matrix = layout.neighbours(split)
        rows = labels[split]
        n = len(rows)
        assert matrix.shape == (2 * n, 2 * n) and (np.diagonal(matrix) == 1).all()
        for k in range(n):
            for j in range(n):
                assert matrix[k, j] == (rows[k]["prototype"] == rows[j]["prototype"])
                same_label = (rows[k]["prototype"], rows[k]["mode"]) == (rows[j]["prototype"], rows[j]["mode"])
                assert matrix[n + k, n + j] == same_label
                assert matrix[k, n + j] == 0 and matrix[n + k, j] == 0


def test_neighbour_matrix_from_labels():
    rows = [
        PairPlan("val", i, "NoXI", "s", str(i + 1), "Expert_video", "Novice_video", prototype, mode)
        for i, (prototype, mode) in enumerate([(0, 0), (0, 1), (1, 1), (0, 0)])
    ]
    matrix = neighbour_matrix(rows).astype(int)
    assert matrix[:4, :4].tolist() == [[1, 1, 0, 1], [1, 1, 0, 1], [0, 0, 1, 0], [1, 1, 0, 1]]
    assert matrix[4:, 4:].tolist() == [[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]]
    assert matrix[:4, 4:].sum() == 0 and matrix[4:, :4].sum() == 0


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    assert main(["synth", str(tmp_path / "a"), *SMALL, "--seed", "7"]) == 0
    assert main(["synth", str(tmp_path / "b"), *SMALL, "--seed", "7"]) == 0
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    # 6 clips x (CSV, 3DMM, WAV) + 3 split lists + 3 neighbour matrices + the mean face
    assert len([name for name in first if name.endswith((".csv", ".wav", ".npy"))]) == 18 + 7
    assert first == second
    row = build_plan(SynthConfig(preset="tiny", pairs=(1, 1, 1), seed=7))["train"][0]
    same, other = generate_pair(7, row, 16000, num_frames=100), generate_pair(8, row, 16000, num_frames=100)
    assert not np.array_equal(same[0].emotion, other[0].emotion)
    assert not np.array_equal(same[1].audio, other[1].audio)


def test_rerun_resumes_and_refuses_other_settings(tmp_path, capsys):
    root = tmp_path / "ds"
    assert main(["synth", str(root), *SMALL]) == 0
    before = _files(root)
    missing = next(root.glob("val/Audio_files/**/*.wav"))
    missing.unlink()
    assert main(["synth", str(root), *SMALL]) == 0
    assert _files(root) == before
    assert main(["synth", str(root), *SMALL, "--seed", "1"]) == 2
    assert "synth_config.json" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [(["--pairs", "[1,2]"], "pairs"), (["--sample_rate", "100"], "sample_rate"), (["--preset", "huge"], "preset")],
)
def test_bad_settings_are_clear_errors(tmp_path, capsys, flags, message):
    assert main(["synth", str(tmp_path / "x"), "--no-progress", *flags]) == 2
    assert message in capsys.readouterr().err


def test_video_is_rendered_with_audio(tmp_path):
    import av

    row = build_plan(SynthConfig(preset="tiny"))["train"][0]
    speaker, _ = generate_pair(0, row, 16000, num_frames=30)  # a short clip keeps the test fast
    config = SynthConfig(preset="tiny", video=True, video_size=64)
    write_clip(tmp_path, "train", row.speaker_path, speaker, config, np.zeros(58, np.float32))
    video = clip_files(tmp_path, "train", row.speaker_path, video=True)["video"]
    with av.open(str(video)) as container:
        assert len(container.streams.audio) == 1
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) == 30 and frames[0].shape == (64, 64, 3)


@pytest.fixture(scope="module")
def reactions():
    return mode_reactions(seed=11, num_speakers=6, draws_per_mode=2)


def test_listeners_follow_speakers_with_a_human_lag(reactions):
    speakers, listener_reactions, _ = reactions
    num_speakers, num_modes, num_draws = listener_reactions.shape[:3]
    listeners = listener_reactions.reshape(-1, *listener_reactions.shape[3:])
    repeated = np.repeat(speakers, num_modes * num_draws, axis=0)
    for speaker_signal, listener_signal in zip(valence_and_smile(repeated), valence_and_smile(listeners)):
        lags, correlation = lag_profile(speaker_signal, listener_signal)
        assert 5 <= lags[correlation.argmax()] <= 25
        assert correlation.max() > correlation[lags == 0][0]


def test_reaction_modes_are_distinct(reactions):
    _, listener_reactions, prototypes = reactions
    num_speakers, num_modes, num_draws = listener_reactions.shape[:3]
    emotion = listener_reactions.reshape(-1, *listener_reactions.shape[3:])
    # The summary's head-motion feature is left at 0 here: these reactions come without 3DMM.
    summaries = np.array([reaction_summary(e, np.zeros((len(e), 58))) for e in emotion])
    modes = np.tile(np.repeat(np.arange(num_modes), num_draws), num_speakers)
    speaker_prototypes = np.repeat(prototypes, num_modes * num_draws)
    separation = mode_separation(summaries, speaker_prototypes, modes)
    shuffled = mode_separation(summaries, speaker_prototypes, np.random.default_rng(0).permutation(modes))
    assert separation["ratio"] > 1.5 > shuffled["ratio"]
    names = [mode.name for mode in REACTION_MODES]
    valence = [emotion[modes == m][:, :, 15].mean() for m in range(num_modes)]
    smiles = [emotion[modes == m][:, :, 7].mean() for m in range(num_modes)]
    assert names[int(np.argmin(valence))] == "reserved" and names[int(np.argmax(smiles))] == "mimicking"


def test_sampling_a_mode_beats_averaging_the_modes(reactions):
    _, listener_reactions, _ = reactions
    # The first 10 s keep the DTW cheap; the modes differ all along the clip.
    scores = sampling_versus_averaging(listener_reactions[..., :250, :], by_group=False)
    sampling, averaging = scores["sampling"], scores["averaging"]
    assert sampling["frcorr"] > averaging["frcorr"] + 0.05
    assert sampling["frdist"] < averaging["frdist"]
    assert sampling["frdiv"] > 0 and averaging["frdiv"] < 1e-9
