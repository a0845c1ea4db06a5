"""Audio feature streams: decoding, Kaldi MFCC parity with torchaudio, voice activity, prosody."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from reactdiff.errors import FeatureError
from reactdiff.features.audio import AUDIO_FUNCTIONS, compute_audio_streams, load_audio, num_video_frames
from reactdiff.features.mfcc import deltas, frame_chunks, mfcc26, mfcc78
from reactdiff.features.voice import prosody, voice_activity
from reactdiff.streams import AUDIO_STREAMS

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MEDIA = SHARED / "media"
CONVERSATION = MEDIA / "conversation_16k.wav"
REFERENCE = SHARED / "reference" / "audio" / "conversation_mfcc.npz"
#: The reference holds 751 chunks: the REACT clip length in frames.
REFERENCE_FRAMES = 751


@pytest.fixture(scope="module")
def conversation() -> tuple[np.ndarray, int]:
    return load_audio(CONVERSATION)


def _rttm_speech(path: Path, num_frames: int) -> np.ndarray:
    """Frames whose centre lies inside any speaker turn of an RTTM file."""
    centres = (np.arange(num_frames) + 0.5) / 25.0
    speech = np.zeros(num_frames, dtype=bool)
    for line in path.read_text().splitlines():
        fields = line.split()
        start, duration = float(fields[3]), float(fields[4])
        speech |= (centres >= start) & (centres < start + duration)
    return speech


def test_mfcc_matches_torchaudio_kaldi_reference(conversation):
    samples, sample_rate = conversation
    reference = np.load(REFERENCE, allow_pickle=False)
    ours26 = mfcc26(samples, sample_rate, REFERENCE_FRAMES)
    ours78 = mfcc78(samples, sample_rate, REFERENCE_FRAMES)
    assert ours26.shape == (751, 26) and ours26.dtype == np.float32
    assert ours78.shape == (751, 78) and ours78.dtype == np.float32
    np.testing.assert_allclose(ours26, reference["mfcc26"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(ours78, reference["mfcc78"], rtol=0, atol=1e-3)


def test_mfcc_frames_depend_only_on_their_own_chunk(conversation):
    samples, sample_rate = conversation
    full = mfcc26(samples, sample_rate, 100)
    # Cutting the audio mid-frame 40 leaves frames 0-39 unchanged and zero-pads the rest.
    cut = mfcc26(samples[: 40 * 640 + 100], sample_rate, 100)
    np.testing.assert_array_equal(cut[:40], full[:40])
    assert not np.allclose(cut[40], full[40])
    np.testing.assert_array_equal(cut[41], cut[99])
    with pytest.raises(ValueError, match="multiple of 25"):
        frame_chunks(samples, 16010, 10)


def test_blockwise_analysis_equals_one_pass(conversation, monkeypatch):
    import reactdiff.features.mfcc as mfcc_module

    samples, sample_rate = conversation
    whole26, whole78 = mfcc26(samples, sample_rate, 120), mfcc78(samples, sample_rate, 120)
    monkeypatch.setattr(mfcc_module, "_BLOCK_FRAMES", 7)
    np.testing.assert_allclose(mfcc26(samples, sample_rate, 120), whole26, rtol=0, atol=1e-5)
    np.testing.assert_allclose(mfcc78(samples, sample_rate, 120), whole78, rtol=0, atol=1e-5)


def test_deltas_follow_the_regression_formula():
    ramp = np.arange(10.0)[None, :]
    first = deltas(ramp)
    # Interior of a unit ramp has slope 1; edges repeat the end value, halving the slope.
    np.testing.assert_allclose(first[0, 2:-2], 1.0)
    np.testing.assert_allclose(first[0, [0, -1]], 0.5)
    np.testing.assert_allclose(first[0, [1, -2]], 0.8)
    np.testing.assert_allclose(deltas(np.full((2, 4), 3.0)), 0.0)


def test_wav_decodes_to_the_same_samples_as_soundfile():
    samples, sample_rate = load_audio(CONVERSATION)
    expected, expected_rate = soundfile.read(CONVERSATION, dtype="float32")
    assert sample_rate == expected_rate == 16000
    np.testing.assert_array_equal(samples, expected)


def test_stereo_44k_is_downmixed_and_resampled(tmp_path):
    rate, seconds = 44100, 1.0
    time = np.arange(int(rate * seconds)) / rate
    left = 0.8 * np.sin(2 * np.pi * 440.0 * time)
    right = 0.2 * np.sin(2 * np.pi * 440.0 * time)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, right], axis=1), rate, subtype="PCM_16")
    samples, sample_rate = load_audio(path, sample_rate=16000)
    assert sample_rate == 16000 and samples.dtype == np.float32
    assert samples.size == 16000
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) == 440  # 1 Hz bins for one second
    # Mono is the channel mean: amplitude (0.8 + 0.2) / 2, away from the filter's edge effects.
    np.testing.assert_allclose(np.abs(samples[1000:-1000]).max(), 0.5, atol=5e-3)


def test_container_audio_is_decoded_and_resampled():
    samples, sample_rate = load_audio(MEDIA / "no_face.mp4")
    assert sample_rate == 16000
    # 3.9 s of AAC at 44.1 kHz (stereo), within one AAC frame of the container's duration.
    assert abs(samples.size / 16000 - 3.9) < 0.1
    assert 0.1 < np.abs(samples).max() <= 1.0


def test_bad_inputs_raise_feature_errors_naming_the_file(tmp_path):
    missing = tmp_path / "nowhere.wav"
    with pytest.raises(FeatureError, match="nowhere.wav: audio file not found"):
        load_audio(missing)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(FeatureError, match="garbage.wav: cannot read audio"):
        load_audio(garbage)
    from PIL import Image

    picture = tmp_path / "picture.png"
    Image.new("RGB", (8, 8)).save(picture)
    with pytest.raises(FeatureError, match="picture.png: no audio track"):
        load_audio(picture)
    muted = MEDIA / "face_expressive.mp4"
    with pytest.raises(FeatureError, match="face_expressive.mp4: audio track is silent"):
        load_audio(muted, check_silence=True)
    samples, _ = load_audio(muted)
    assert samples.size > 0 and not samples.any()


def test_voice_activity_agrees_with_the_rttm_speech_turns(conversation):
    samples, sample_rate = conversation
    num_frames = num_video_frames(samples, sample_rate)
    probability = voice_activity(samples, sample_rate, num_frames + 10)
    assert probability.shape == (num_frames + 10, 1) and probability.dtype == np.float32
    assert np.all(probability[num_frames:] == 0)
    speech = _rttm_speech(MEDIA / "conversation_16k.rttm", num_frames)
    detected = probability[:num_frames, 0] >= 0.5
    # Threshold 0.5; measured 98.4% frame agreement on this recording.
    assert (detected == speech).mean() >= 0.95
    assert (detected & speech).sum() / (detected | speech).sum() >= 0.9


def test_voice_activity_is_low_on_noise():
    noise = np.random.default_rng(0).normal(0, 0.01, 16000 * 2).astype(np.float32)
    assert voice_activity(noise, 16000, 50).max() < 0.5


def test_prosody_of_a_tone_has_its_exact_pitch():
    rate = 16000
    time = np.arange(2 * rate) / rate
    # 200 Hz: a whole number of periods per 40 ms frame, so every frame's mean power is exact.
    tone = 0.5 * np.sin(2 * np.pi * 200.0 * time)
    features = prosody(tone, rate, 50)
    assert features.shape == (50, 3) and features.dtype == np.float32
    interior = features[2:-2]
    assert np.all(interior[:, 2] == 1.0)
    np.testing.assert_allclose(interior[:, 1], 200.0, rtol=0.02)
    # Mean power of a sine of amplitude A is A^2 / 2.
    np.testing.assert_allclose(interior[:, 0], np.log(0.125), atol=1e-3)
    silent = prosody(np.zeros(rate), rate, 25)
    assert not silent[:, 1:].any()


def test_prosody_of_speech_is_in_a_human_range(conversation):
    samples, sample_rate = conversation
    features = prosody(samples, sample_rate, 750)
    voiced = features[:, 2] == 1.0
    assert 0.2 < voiced.mean() < 0.9
    pitch = features[voiced, 1]
    # Adult voices: median near 100-300 Hz; allow rare octave errors in the tails.
    assert 100 < np.median(pitch) < 300
    assert np.mean((pitch > 80) & (pitch < 400)) >= 0.95
    assert np.all(features[~voiced, 1] == 0)
    # Speech frames are louder than the pauses between turns.
    speech = _rttm_speech(MEDIA / "conversation_16k.rttm", 750)
    assert np.median(features[speech, 0]) > np.median(features[~speech, 0]) + 2.0


def test_audio_streams_registry_dims_match_outputs(conversation):
    samples, sample_rate = conversation
    streams = compute_audio_streams(samples[: 16000 * 3], sample_rate, 75)
    assert set(AUDIO_FUNCTIONS) == set(AUDIO_STREAMS) == {"mfcc", "mfcc78", "mfcc39", "voice", "prosody"}
    # mfcc78 exists at 25 fps (2 Kaldi windows per frame), mfcc39 at 30 fps (1 window).
    streams.update(compute_audio_streams(samples[: 16000 * 3], sample_rate, 75, ["mfcc39"], fps=30))
    for name, info in AUDIO_STREAMS.items():
        assert streams[name].shape == (75, info.dim) and streams[name].dtype == np.float32, name
        assert np.isfinite(streams[name]).all(), name
    with pytest.raises(ValueError, match="unknown audio stream"):
        compute_audio_streams(samples, sample_rate, 75, ["wav2vec"])


def test_importing_audio_features_stays_light():
    code = "import sys, reactdiff.features.audio; print(sorted(m for m in ('torch', 'av', 'parselmouth') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
