"""The live session: causal, refuses offline checkpoints, streamed reactions equal the offline
online-mode generation; incremental features equal whole-clip ``extract``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from online_checkpoint import WINDOW, tiny_online_checkpoint

from reactdiff.errors import ConfigError, DataError
from reactdiff.pipeline import ReactionModel
from reactdiff.streaming import ReactionSession

#: shared/ beside the repository (CI lays a copy there too), as in tests/conftest.py.
MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
needs_media = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"real media not found at {MEDIA}")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return ReactionModel.from_checkpoint(tiny_online_checkpoint(tmp_path_factory))


def speaker(model, frames: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal((frames, int(model.streams[name]["dim"]))).astype(np.float32) for name in model.stream_names}


def stream(session, clip, sizes):
    chunks, start = [], 0
    for size in sizes:
        chunks += session.push({name: value[start : start + size] for name, value in clip.items()})
        start += size
    assert start == len(next(iter(clip.values())))
    return chunks


def joined(chunks, key, frames):
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert all(a.stop == b.start for a, b in zip(chunks, chunks[1:]))  # no gap, no repeat
    return np.concatenate([c.__dict__[key] for c in chunks], axis=1)[:, :frames]


@pytest.mark.parametrize("window_api, sampling", [
    (True, {}),
    (False, {}),
    (True, {"sampler": "ddpm"}),  # fresh noise at every step, drawn window by window in both
    (True, {"eta": 0.5}),
    (True, {"decoder_dropout": True}),  # the reference's defect, its masks drawn from the same generator
])
def test_streamed_reactions_equal_the_offline_online_generation(model, window_api, sampling):
    frames = 4 * WINDOW + 3
    clip = speaker(model, frames)
    offline = model.generate(clip, num_samples=3, seed=7, **sampling)
    session = ReactionSession(model, num_samples=3, seed=7, window_api=window_api, **sampling)
    chunks = stream(session, clip, [1, 6, WINDOW + 2, 3, frames - WINDOW - 12])
    for key in ("emotion", "coeffs_3dmm"):
        # Bit for bit: offline generation of an online checkpoint runs the session's code path in
        # the session's shapes (reactdiff.methods.reactdiff.online).
        np.testing.assert_array_equal(joined(chunks, key, frames), offline[key])


def test_batched_offline_online_generation_is_the_session_of_each_speaker(model):
    """Rows of a batch are independent sessions: row b equals generating speaker b alone with the
    noise windows the batch drew for it (the first row: exactly the single-speaker call)."""
    frames = 3 * WINDOW
    clips = [speaker(model, frames, seed=s) for s in (0, 1)]
    batch = model.generate_batch(clips, num_samples=2, seed=3)
    alone = model.generate(clips[0], num_samples=2, seed=3)
    np.testing.assert_array_equal(batch["coeffs_3dmm"][0], alone["coeffs_3dmm"])
    assert not np.array_equal(batch["coeffs_3dmm"][1], batch["coeffs_3dmm"][0])


def test_listener_frames_come_as_soon_as_determined_and_never_change(model):
    clip = speaker(model, 3 * WINDOW)
    session = ReactionSession(model, num_samples=2, seed=0)
    first = session.push({name: value[:0] for name, value in clip.items()})
    assert [(c.start, c.stop) for c in first] == [(0, WINDOW)]  # window 0 depends on no speaker frame
    assert session.push({name: value[: WINDOW - 1] for name, value in clip.items()}) == []
    second = session.push({name: value[WINDOW - 1 : WINDOW] for name, value in clip.items()})
    assert [(c.start, c.stop) for c in second] == [(WINDOW, 2 * WINDOW)]
    assert session.first_dependent(0) == WINDOW and session.first_dependent(WINDOW - 1) == WINDOW
    # Later speaker frames cannot change frames already emitted: an altered future gives the same past.
    changed = {name: np.concatenate([value[:WINDOW], value[WINDOW:] + 3.0]) for name, value in clip.items()}
    other = ReactionSession(model, num_samples=2, seed=0)
    again = stream(other, changed, [WINDOW, 2 * WINDOW])
    np.testing.assert_array_equal(again[1].coeffs_3dmm, second[0].coeffs_3dmm)
    assert not np.array_equal(again[2].coeffs_3dmm, again[1].coeffs_3dmm)


def test_session_renders_faces_and_checks_its_input(model):
    session = ReactionSession(model, render_size=32)
    chunk = session.push(speaker(model, 0))[0]
    assert chunk.faces.shape == (WINDOW, 32, 32, 3) and chunk.faces.dtype == np.uint8
    with pytest.raises(DataError, match="missing stream"):
        session.push({"mfcc": np.zeros((2, 26))})
    wrong = speaker(model, 2)
    wrong["mfcc"] = np.zeros((4, 13), np.float32)
    with pytest.raises(DataError, match=r"expects \(n, 26\)"):
        session.push(wrong)
    bad = speaker(model, 2)
    bad[model.stream_names[0]][0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        session.push(bad)


def test_offline_checkpoints_are_refused(model):
    import dataclasses

    offline_config = dataclasses.replace(model.config, diffusion=dataclasses.replace(model.config.diffusion, online=False, lookahead_windows=1))
    offline = ReactionModel(model.method, offline_config, model.model, model.streams)
    with pytest.raises(ConfigError, match="online checkpoint"):
        ReactionSession(offline)


def test_resampler_picks_the_nearest_frame_like_iter_frames():
    from reactdiff.streaming.features import FrameResampler

    resampler = FrameResampler()
    picked = []
    for index in range(60):  # 30 fps source
        picked += resampler.push(index, index / 30)
    picked += resampler.finish(50)
    expected = [int(np.argmin(np.abs(np.arange(60) / 30 - i / 25))) for i in range(50)]
    # Ties (none at 30 -> 25 fps) would go to the earlier frame, as iter_frames does.
    assert picked == expected
    with pytest.raises(DataError, match="increase"):
        resampler.push(0, 0.0)


@needs_media
def test_live_audio_streams_equal_extract_on_real_audio():
    from reactdiff.features.audio import compute_audio_streams, load_audio
    from reactdiff.streaming.features import LiveAudioFeatures

    samples, rate = load_audio(MEDIA / "conversation_16k.wav", 16000)
    samples = samples[16000 * 3 : 16000 * 9 + 123]  # speech from 3 s on (the rttm); a partial last frame
    frames = -(-len(samples) // 640)
    offline = compute_audio_streams(samples, rate, frames, ("mfcc", "voice"))
    live = LiveAudioFeatures(("mfcc", "voice"))
    rows = [live.push(samples[start : start + 700]) for start in range(0, len(samples), 700)]
    rows.append(live.finish(frames))
    for name in ("mfcc", "voice"):
        streamed = np.concatenate([row[name] for row in rows])
        # Tolerance: exact for MFCC (each chunk on its own); VAD float32 network, same windows and state.
        np.testing.assert_allclose(streamed, offline[name], rtol=0, atol=1e-6, err_msg=name)
    assert offline["voice"].max() > 0.5  # the clip has speech: the comparison is not of zeros
    with pytest.raises(ConfigError, match="16000 Hz"):
        live.push(samples[:10], 44100)
    with pytest.raises(ConfigError, match="no live form"):
        LiveAudioFeatures(("prosody",))


@needs_media
def test_live_features_equal_extract_on_a_real_clip(video_extras):
    """Camera frames at the clip's own 30 fps with timestamps, microphone chunks of another size."""
    import av

    from reactdiff.features import extract
    from reactdiff.features.audio import load_audio
    from reactdiff.streaming.features import LiveFeatures

    video, audio = MEDIA / "face_short.mp4", MEDIA / "conversation_16k.wav"
    streams = ("emotion", "3dmm", "mfcc", "voice")
    offline = extract(video, audio, streams=streams)
    frames = len(offline["mfcc"])
    samples, _ = load_audio(audio, 16000)
    rows = []
    with LiveFeatures(streams) as live, av.open(str(video)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            live.push_video(frame.to_ndarray(format="rgb24"), frame.time)
            live.push_audio(samples[index * 533 : (index + 1) * 533])
            rows.append(live.pop())
        live.push_audio(samples[(index + 1) * 533 : frames * 640])
        live.finish(frames)
        rows.append(live.pop())
    for name in streams:
        streamed = np.concatenate([row[name] for row in rows])
        # The face is found in the first frame, so no frame precedes the first detection (the one
        # place live features differ from extract on purpose). Measured: identical.
        np.testing.assert_allclose(streamed, offline[name], rtol=0, atol=1e-5, err_msg=name)


def test_batched_windows_option_trades_bit_equality_for_speed(model):
    clip = speaker(model, 4 * WINDOW)
    exact = model.generate(clip, num_samples=2, seed=5)
    batched = model.generate(clip, num_samples=2, seed=5, batched_windows=True)
    # The same model and noise in other batch shapes: equal up to the last bits of float32 rounding.
    np.testing.assert_allclose(batched["coeffs_3dmm"], exact["coeffs_3dmm"], rtol=0, atol=1e-5)


def test_reference_decoder_dropout_is_off_by_default_and_reproducible(model):
    clip = speaker(model, 3 * WINDOW)
    default = model.generate(clip, num_samples=2, seed=4)
    dropout = model.generate(clip, num_samples=2, seed=4, decoder_dropout=True)
    np.testing.assert_array_equal(dropout["coeffs_3dmm"], model.generate(clip, num_samples=2, seed=4, decoder_dropout=True)["coeffs_3dmm"])
    assert not np.array_equal(dropout["coeffs_3dmm"], default["coeffs_3dmm"])
    np.testing.assert_array_equal(default["coeffs_3dmm"], model.generate(clip, num_samples=2, seed=4, decoder_dropout=False)["coeffs_3dmm"])
    assert not model.model.autoencoder.training  # left in eval mode afterwards
