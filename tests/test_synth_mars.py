"""The synthetic corpus in the REACT 2025/2026 MARS layout (/work/shared/spec/REACT2025_DATA.md
sections 1, 2 and 5): files and shapes, 30 fps variable lengths, sessions shared by several dyads,
determinism, resume, the 2026 personality and EEG tables, and the session (one-to-many) structure.
Also pins the bytes of the 2024 presets, which the MARS work must not change."""

from __future__ import annotations

import csv
import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile

from reactdiff.cli import main
from reactdiff.errors import ConfigError
from reactdiff.io import load_json
from reactdiff.synth import SynthConfig, write_dataset
from reactdiff.synth.mars_plan import BIG_FIVE, build_mars_plan
from reactdiff.synth.mars_writer import EEG_COLUMNS, generate_stem
from reactdiff.synth.structure import lag_profile, valence_and_smile

FPS = 30
SPLITS = ("train", "val", "test")
STEM = re.compile(r"^Camera-\d{4}-\d{2}-\d{2}-\d{6}-\d{6}$")
#: A small MARS corpus for the determinism / resume / video tests (seconds to write).
QUICK = ["--preset", "mars-tiny", "--pairs", "2", "2", "2", "--lengths", "40", "70", "--no-progress"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mars") / "tiny"
    write_dataset(root, SynthConfig(preset="mars-tiny", seed=5, personality=True, eeg=True), progress=False)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def _stems(root: Path, split: str, role: str) -> dict[tuple[str, str], Path]:
    """(session, stem) -> facial-attributes file, as a reader walking the folders finds them."""
    folder = root / split / "facial-attributes" / role
    return {(path.parent.name, path.stem): path for path in sorted(folder.glob("session*/*.npy"))}


def test_layout_and_shapes_follow_the_spec(corpus):
    mean_face, std_face = np.load(corpus / "mean_face.npy"), np.load(corpus / "std_face.npy")
    assert mean_face.shape == std_face.shape == (58,) and (std_face > 0).all()
    lengths = []
    for split in SPLITS:
        speakers, listeners = _stems(corpus, split, "speaker"), _stems(corpus, split, "listener")
        assert speakers.keys() == listeners.keys() and speakers  # pairing = same stem, same session
        sessions = {session for session, _ in speakers}
        assert 2 <= len(sessions) <= 3
        for session in sessions:
            assert re.fullmatch(r"session(\d|1\d|2[0-2])", session)
            assert sum(s == session for s, _ in speakers) >= 2  # several dyads per session
        for (session, stem), path in speakers.items():
            assert STEM.match(stem), stem
            pair_lengths = set()
            for role in ("speaker", "listener"):
                attributes = np.load(corpus / split / "facial-attributes" / role / session / f"{stem}.npy", allow_pickle=False)
                assert attributes.dtype == np.float32 and attributes.ndim == 2 and attributes.shape[1] == 25
                num_frames = len(attributes)
                assert set(np.unique(attributes[:, :15])) <= {0.0, 1.0}
                assert np.abs(attributes[:, 15:17]).max() <= 1.0
                assert np.allclose(attributes[:, 17:].sum(axis=1), 1.0, atol=1e-5)
                coefficients = np.load(corpus / split / "coefficients" / role / session / f"{stem}.npy", allow_pickle=False)
                assert coefficients.dtype == np.float32 and coefficients.shape == (num_frames, 1, 58)
                # Raw like the real files: the mean face is in them, "standard" normalisation is sane.
                standard = (coefficients.squeeze(1) - mean_face) / std_face
                assert np.abs(coefficients.squeeze(1).mean(axis=0) - mean_face).mean() < np.abs(mean_face).mean()
                assert np.isfinite(standard).all() and np.abs(standard).max() < 20  # no blown-up drift in short clips
                wav = corpus / split / "audio" / role / session / f"{stem}.wav"
                info = soundfile.info(wav)
                assert info.channels == 1 and info.subtype == "PCM_16"
                assert abs(info.frames / info.samplerate - num_frames / FPS) <= 1 / info.samplerate
                pair_lengths.add(num_frames)
            assert len(pair_lengths) == 1  # speaker and listener of a stem are equally long
            lengths += pair_lengths
    assert min(lengths) >= 90 and max(lengths) <= 450 and len(set(lengths)) > len(lengths) // 2
    assert not list(corpus.rglob("video-face-crop")) and not list(corpus.rglob("*.mp4"))


def test_persons_recur_across_sessions_and_labels_match_the_files(corpus):
    labels = load_json(corpus / "synth_labels.json")
    assert labels["layout"] == "mars" and labels["fps"] == FPS
    for split in SPLITS:
        rows = labels["splits"][split]
        assert {(row["session"], row["stem"]) for row in rows} == set(_stems(corpus, split, "listener"))
    train = labels["splits"]["train"]
    sessions_of = {}
    for row in train:
        sessions_of.setdefault(row["listener_person"], set()).add(row["session"])
    assert max(len(sessions) for sessions in sessions_of.values()) >= 2
    # Splits are subject-independent.
    persons = [{row["listener_person"] for row in labels["splits"][split]} for split in SPLITS]
    assert not (persons[0] & persons[1]) and not (persons[0] & persons[2]) and not (persons[1] & persons[2])


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:  # the loaders allow a BOM
        return list(csv.DictReader(handle))


def test_personality_tables_parse_per_the_spec(corpus):
    labels = load_json(corpus / "synth_labels.json")
    for split in SPLITS:
        for role in ("listener", "speaker"):
            rows = _read_csv(corpus / split / "personality" / f"{role}.csv")
            assert set(("video_name", "session") + BIG_FIVE) <= set(rows[0])
            keys = {(row["session"], Path(row["video_name"]).stem) for row in rows}
            assert keys == set(_stems(corpus, split, role))  # every file has its row
            vector = np.array([[float(row[trait]) for trait in BIG_FIVE] for row in rows], np.float32)
            assert ((vector - 1) / 4).min() >= 0 and ((vector - 1) / 4).max() <= 1
    # Personality is informative: listeners who prefer the reserved mode are less extraverted.
    traits, preferred = labels["traits"], labels["preferred_modes"]
    reserved = [traits[p]["Extraversion"] for p, mode in preferred.items() if mode == 2]
    others = [traits[p]["Extraversion"] for p, mode in preferred.items() if mode != 2]
    if reserved and others:
        assert np.mean(reserved) < np.mean(others)


def _eeg(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Values and mask of the 14 target columns, by the loaders' rules (blank/non-finite -> 0, mask 0)."""
    rows = _read_csv(path)
    values = np.zeros((len(rows), len(EEG_COLUMNS)), np.float32)
    mask = np.zeros_like(values)
    for i, row in enumerate(rows):
        for j, column in enumerate(EEG_COLUMNS):
            try:
                value = float(row[column])
            except ValueError:
                continue
            if math.isfinite(value):
                values[i, j], mask[i, j] = value, 1
    return values, mask


def test_eeg_tables_parse_per_the_spec_and_follow_arousal(corpus):
    expected = ("TP9", "AF7", "AF8", "TP10") + tuple(
        f"{band}_{side}" for side in ("TP9", "TP10") for band in ("Delta", "Theta", "Alpha", "Beta", "Gamma")
    )
    assert EEG_COLUMNS == expected
    alpha, beta, arousal = [], [], []
    for split in SPLITS:
        for role in ("speaker", "listener"):
            for (session, stem), attributes_path in _stems(corpus, split, role).items():
                path = corpus / split / "eeg_processed" / role / session / f"{stem}.csv"
                with open(path, encoding="utf-8") as handle:
                    assert set(expected) <= set(handle.readline().strip().split(","))
                values, mask = _eeg(path)
                attributes = np.load(attributes_path)
                num_frames = len(attributes)
                assert len(values) == math.ceil(num_frames / FPS)  # frame t -> row t // 30
                assert mask.mean() > 0.95
                assert 0.1 < np.abs(values[:, :4][mask[:, :4] > 0]).mean() / 1000 < 10  # raw / eeg_channel_scale
                if role == "listener":
                    rows = np.minimum(np.arange(num_frames) // FPS, len(values) - 1)
                    per_second = np.array([attributes[rows == r, 16].mean() for r in range(len(values))])
                    alpha_column, beta_column = EEG_COLUMNS.index("Alpha_TP9"), EEG_COLUMNS.index("Beta_TP9")
                    valid = (mask[:, alpha_column] > 0) & (mask[:, beta_column] > 0)
                    alpha += list(values[valid, alpha_column])
                    beta += list(values[valid, beta_column])
                    arousal += list(per_second[valid])
    # Weakly related to the listener's arousal, not pure noise.
    assert np.corrcoef(alpha, arousal)[0, 1] < -0.2 and np.corrcoef(beta, arousal)[0, 1] > 0.2


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    assert main(["synth", str(tmp_path / "a"), *QUICK, "--seed", "4", "--eeg"]) == 0
    assert main(["synth", str(tmp_path / "b"), *QUICK, "--seed", "4", "--eeg"]) == 0
    assert main(["synth", str(tmp_path / "c"), *QUICK, "--seed", "5", "--eeg"]) == 0
    first, second, other = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert len([name for name in first if name.endswith(".wav")]) == 12
    assert first == second
    shared = set(first) & set(other)
    assert first["std_face.npy"] == other["std_face.npy"]  # a face-model property
    assert any(first[name] != other[name] for name in shared if name.endswith(".npy")) or set(first) != set(other)


def test_rerun_resumes_adds_extras_and_refuses_other_settings(tmp_path, capsys):
    root = tmp_path / "ds"
    assert main(["synth", str(root), *QUICK]) == 0
    before = _files(root)
    missing = next(root.glob("val/audio/listener/*/*.wav"))
    missing.unlink()
    assert main(["synth", str(root), *QUICK]) == 0
    assert _files(root) == before
    # The 2026 extras may be added to an existing corpus; nothing else changes.
    assert main(["synth", str(root), *QUICK, "--personality", "--eeg"]) == 0
    after = _files(root)
    assert {name: data for name, data in after.items() if name in before and name != "synth_config.json"} == {
        name: data for name, data in before.items() if name != "synth_config.json"
    }
    assert any("eeg_processed" in name for name in after) and any("personality" in name for name in after)
    assert main(["synth", str(root), *QUICK, "--seed", "1"]) == 2
    assert "synth_config.json" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--preset", "tiny", "--personality"], "only the MARS presets"),
        (["--preset", "small", "--eeg"], "only the MARS presets"),
        (["--preset", "tiny", "--lengths", "100", "200"], "lengths"),
        (["--preset", "mars-tiny", "--lengths", "300", "100"], "lengths"),
        (["--preset", "mars-tiny", "--lengths", "10", "100"], "lengths"),
    ],
)
def test_bad_settings_are_clear_errors(tmp_path, capsys, flags, message):
    assert main(["synth", str(tmp_path / "x"), "--no-progress", *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_config_validation_names_the_setting():
    with pytest.raises(ConfigError, match="personality"):
        SynthConfig(preset="react2024", personality=True).validate()
    assert SynthConfig(preset="mars-small", eeg=True).validate().fps == 30
    assert SynthConfig(preset="small").fps == 25


def test_help_lists_the_mars_presets(capsys):
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    out = capsys.readouterr().out
    assert "mars-tiny" in out and "mars-small" in out and "--personality" in out and "--eeg" in out


def test_mars_small_plan_has_the_demo_scale():
    plan = build_mars_plan(SynthConfig(preset="mars-small"))
    frames = [stem.num_frames for stems in plan.stems.values() for stem in stems]
    assert 0.6 * 72 * 751 < sum(frames) < 2 * 72 * 751  # about the 2024 "small" preset's frames
    assert min(frames) >= 300 and max(frames) <= 3000 and max(frames) > 3 * min(frames)
    per_session = {}
    for stems in plan.stems.values():
        for stem in stems:
            per_session[(stem.split, stem.session)] = per_session.get((stem.split, stem.session), 0) + 1
    assert min(per_session.values()) >= 3 and max(per_session.values()) <= 6
    assert len({session for _, session in per_session}) >= 5


@pytest.fixture(scope="module")
def session_reactions():
    """40 train stems of 10 s at 30 fps, generated in memory (no files), with their sessions."""
    config = SynthConfig(preset="mars-small", seed=1, pairs=(40, 1, 1), lengths=(300, 300))
    stems = build_mars_plan(config).stems["train"]
    clips = [generate_stem(config.seed, stem, 8000) for stem in stems]
    speakers = np.stack([speaker.emotion for speaker, _ in clips])
    listeners = np.stack([listener.emotion for _, listener in clips])
    return speakers, listeners, np.array([stem.session for stem in stems])


def test_listeners_lag_their_speakers_by_the_same_seconds_at_30_fps(session_reactions):
    speakers, listeners, _ = session_reactions
    for speaker_signal, listener_signal in zip(valence_and_smile(speakers), valence_and_smile(listeners)):
        lags, correlation = lag_profile(speaker_signal, listener_signal, max_lag=60)
        # 0.2-1 s as in the 25 fps corpus, now 6-30 frames.
        assert 6 <= lags[correlation.argmax()] <= 30
        assert correlation.max() > correlation[lags == 0][0]


def _within_between(features: np.ndarray, sessions: np.ndarray) -> float:
    z = (features - features.mean(axis=0)) / features.std(axis=0)
    distance = np.linalg.norm(z[:, None] - z[None], axis=-1)
    same = (sessions[:, None] == sessions[None]) & ~np.eye(len(sessions), dtype=bool)
    return float(distance[same].mean() / distance[sessions[:, None] != sessions[None]].mean())


def test_listeners_of_a_session_are_alike(session_reactions):
    """MARS appropriateness is the session folder: a listener's reaction (its valence and arousal
    levels) is closer to the other reactions of its session than to other sessions' reactions,
    and shuffling the session labels removes the effect."""
    _, listeners, sessions = session_reactions
    levels = listeners[:, :, 15:17].mean(axis=1)
    ratio = _within_between(levels, sessions)
    rng = np.random.default_rng(0)
    shuffled = [_within_between(levels, rng.permutation(sessions)) for _ in range(200)]
    assert ratio < 0.85 and ratio < np.quantile(shuffled, 0.01)


def test_video_is_rendered_at_30_fps_with_audio(tmp_path):
    import av

    root = tmp_path / "video"
    assert main(["synth", str(root), "--preset", "mars-tiny", "--pairs", "1", "1", "1", "--lengths", "30", "36",
                 "--video", "--video_size", "64", "--no-progress"]) == 0
    videos = sorted(root.glob("*/video-face-crop/*/session*/*.mp4"))
    assert len(videos) == 6
    attributes = root / videos[0].relative_to(root).parts[0] / "facial-attributes" / Path(*videos[0].relative_to(root).parts[2:]).with_suffix(".npy")
    with av.open(str(videos[0])) as container:
        assert len(container.streams.audio) == 1
        assert container.streams.video[0].average_rate == 30
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) == len(np.load(attributes)) and frames[0].shape == (64, 64, 3)


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for name, data in _files(root).items():
        digest.update(name.encode())
        digest.update(data)
    return digest.hexdigest()


def test_the_2024_presets_keep_their_bytes(tmp_path):
    """The MARS work moved every time constant of the generator to seconds; at 25 fps the 2024
    corpus must stay byte for byte what it was (digest taken with the generator before that
    change, on this platform's numpy/scipy)."""
    assert main(["synth", str(tmp_path / "t"), "--preset", "tiny", "--pairs", "1", "1", "1", "--seed", "7",
                 "--no-progress"]) == 0
    assert _digest(tmp_path / "t") == "956f545349394fac4774d652d93b1c3ba2aa7baaa1e6ea8ef2c6a55f1440a141"


def test_the_oracle_reacts_to_a_mars_speaker_of_any_length(corpus):
    from reactdiff.synth.oracle import mars_oracle_reactions, oracle_predictions

    session, stem = next(iter(_stems(corpus, "val", "speaker")))
    speaker = np.load(corpus / "val" / "facial-attributes" / "speaker" / session / f"{stem}.npy")
    emotion, coeffs = mars_oracle_reactions(corpus, "val", session, stem, num_samples=4)
    assert emotion.shape == (4, len(speaker), 25) and coeffs.shape == (4, len(speaker), 58)
    assert set(np.unique(emotion[..., :15])) <= {0.0, 1.0} and np.allclose(emotion[..., 17:].sum(-1), 1, atol=1e-5)
    assert not np.array_equal(emotion[0], emotion[1])  # K different reactions
    again, _ = mars_oracle_reactions(corpus, "val", session, stem, num_samples=4)
    assert np.array_equal(emotion, again)
    # The oracle regenerates the speaker from the stem's stream: the corpus's exact speaker state.
    from reactdiff.synth.behaviour import speaker_behaviour
    from reactdiff.synth.mars_plan import session_script
    from reactdiff.synth.mars_writer import MIN_GENERATED_FRAMES, mars_style, stem_rng

    config = SynthConfig(preset="mars-tiny", seed=5, personality=True, eeg=True)
    item = next(s for s in build_mars_plan(config).stems["val"] if (s.session, s.stem) == (session, stem))
    stored_speaker, _ = generate_stem(5, item, config.sample_rate)
    state = speaker_behaviour(session_script(5, item.script).speaker, mars_style(5, "val", item.speaker_person),
                              stem_rng(5, item), max(item.num_frames, MIN_GENERATED_FRAMES), FPS)
    assert np.array_equal(state.valence, stored_speaker.state.valence)
    assert np.array_equal(stored_speaker.emotion, speaker)
    with pytest.raises(ConfigError, match="MARS"):
        oracle_predictions(corpus, "val")
    with pytest.raises(ConfigError, match="no stem"):
        mars_oracle_reactions(corpus, "val", session, "Camera-nope")
