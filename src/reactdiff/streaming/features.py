"""Incremental feature extraction: the speaker streams of :func:`reactdiff.features.extract`,
computed frame by frame from camera frames (with timestamps) and audio chunks as they arrive.

- Video: frames are resampled to 25 fps by nearest timestamp exactly as
  :func:`reactdiff.features.video.iter_frames` does (an output frame is decided once the next
  source frame shows which one is nearer, or at once when the frame's own time has reached it). The face
  landmarker runs in VIDEO mode on each 25 fps frame with the same timestamps as ``extract``, the
  expression model on each face crop as it comes (one at a time instead of one batch per clip).
- Gaps: a face-less frame takes the last face for up to ``max_gap_seconds``, then relaxes to
  neutral, as ``extract`` does. Differs from ``extract`` on purpose: frames *before the first
  detection* are neutral (blendshapes 0, head pose 0, expression Neutral); ``extract`` copies the
  first face backwards, which a live stream cannot know yet.
- Audio (mono float32 at 16 kHz, any chunk size): MFCCs per 640-sample chunk (each chunk is
  analysed on its own, so they are exactly ``extract``'s); voice activity with silero-vad's
  recurrent state carried from one 512-sample window to the next (a network per session, so
  sessions do not share state), a frame's probability once its last sample is scored.
  ``prosody`` (Praat's pitch over the whole clip) has no incremental form here: ConfigError.

:class:`LiveFeatures` pairs both and hands out rows of every requested stream for the frames
where all of them are known.
"""

from __future__ import annotations

import warnings
from typing import Iterable

import numpy as np

from reactdiff.constants import FPS
from reactdiff.errors import ConfigError, DataError

#: Audio rate the live streams take (ReactDiff's MFCC: 640 samples per 25 fps frame).
SAMPLE_RATE = 16000
CHUNK = SAMPLE_RATE // FPS
#: Audio streams with an incremental form.
LIVE_AUDIO_STREAMS = ("mfcc", "mfcc78", "voice")


class FrameResampler:
    """Source frames with timestamps (seconds) -> 25 fps frames, nearest timestamp, as ``iter_frames``."""

    def __init__(self, fps: int = FPS):
        self.fps = fps
        self.emitted = 0
        self._start = None
        self._previous = None  # (time, frame)

    def push(self, frame, time_s: float) -> list:
        """The 25 fps frames decided by this arrival (the previous source frame, 0 or more times)."""
        if self._start is None:
            self._start = time_s
        time_s -= self._start
        out = []
        if self._previous is not None:
            previous_time, previous_frame = self._previous
            if time_s <= previous_time:
                raise DataError("live video", f"frame timestamps must increase ({time_s + self._start:.3f} s after {previous_time + self._start:.3f} s)")
            boundary = (previous_time + time_s) / 2
            while self.emitted / self.fps < boundary:
                out.append(previous_frame)
                self.emitted += 1
        # Output times up to this frame's own time are decided now: any later frame is further
        # away (a 25 fps camera's frame is emitted on arrival, not one frame later).
        while self.emitted / self.fps <= time_s:
            out.append(frame)
            self.emitted += 1
        self._previous = (time_s, frame)
        return out

    def finish(self, total: int | None = None) -> list:
        """The last source frame, repeated up to ``total`` frames (default: none more)."""
        if self._previous is None:
            return []
        total = self.emitted if total is None else total
        out = [self._previous[1]] * max(0, total - self.emitted)
        self.emitted += len(out)
        return out


class LiveVideoFeatures:
    """Video streams frame by frame; use as a context manager (or call :meth:`close`)."""

    def __init__(self, streams: Iterable[str], config=None):
        from reactdiff.features.expression import FER_CLASSES, ExpressionModel
        from reactdiff.features.extract import VideoFeatureConfig
        from reactdiff.features.face import NUM_BLENDSHAPES, FaceTracker
        from reactdiff.streams import VIDEO_STREAMS

        self.streams = tuple(streams)
        unknown = [name for name in self.streams if name not in VIDEO_STREAMS]
        if unknown:
            raise ConfigError(f"unknown video stream(s) {', '.join(unknown)}; choose from {', '.join(VIDEO_STREAMS)}")
        self.config = config = config or VideoFeatureConfig()
        self.expression = ExpressionModel(config.expression_model_path or None, num_threads=1) if "emotion" in self.streams else None
        self.tracker = FaceTracker(config.face_landmarker_path or None, config.min_detection_confidence, config.min_tracking_confidence)
        self.resampler = FrameResampler()
        self.max_gap = int(round(config.max_gap_seconds * FPS))
        self.neutral_fer = np.eye(len(FER_CLASSES), dtype=np.float32)[FER_CLASSES.index("neutral")]
        self.neutral_blendshapes = np.zeros(NUM_BLENDSHAPES, np.float32)
        # The last face seen (blendshapes, rotation, translation, fer) and the frame it was seen in.
        self.last_face = None
        self.last_index = -1
        self.frames = 0

    def push(self, rgb: np.ndarray, time_s: float) -> dict[str, np.ndarray]:
        """One camera frame (RGB uint8) at ``time_s``; returns rows for the 25 fps frames it decided."""
        return self._rows(self.resampler.push(self._scaled(rgb), time_s))

    def finish(self, total: int | None = None) -> dict[str, np.ndarray]:
        return self._rows(self.resampler.finish(total))

    def _scaled(self, rgb: np.ndarray) -> np.ndarray:
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise DataError("live video", f"frames must be RGB uint8 (H, W, 3), got {rgb.dtype} {rgb.shape}")
        from reactdiff.features.video import _scaled_size

        width, height = _scaled_size(rgb.shape[1], rgb.shape[0], self.config.detection_max_side)
        if (width, height) != (rgb.shape[1], rgb.shape[0]):
            import cv2

            rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
        return rgb

    def _rows(self, frames: list) -> dict[str, np.ndarray]:
        from reactdiff.features import emotion_map
        from reactdiff.features.expression import crop_face

        rows = {name: [] for name in self.streams}
        for rgb in frames:
            index = self.frames
            self.frames += 1
            face = self.tracker.track(rgb, index * 1000 // FPS)
            present = face is not None
            if present:
                fer = self.expression.predict(crop_face(rgb, face.landmarks, self.config.face_margin)[None])[0] if self.expression else None
                self.last_face = (face.blendshapes, face.rotation, face.translation, fer)
                self.last_index = index
            if self.last_face is None:  # nothing seen yet: neutral, facing the camera
                blend, rotation, translation, fer = self.neutral_blendshapes, np.zeros(3, np.float32), np.zeros(3, np.float32), self.neutral_fer
            else:
                blend, rotation, translation, fer = self.last_face
                if index - self.last_index > self.max_gap:  # a long gap relaxes the face, holds the pose
                    blend, fer = self.neutral_blendshapes, self.neutral_fer
            if "blendshapes" in rows:
                rows["blendshapes"].append(blend)
            if "head_pose" in rows:
                rows["head_pose"].append(np.concatenate([rotation, translation]))
            if "face_present" in rows:
                rows["face_present"].append(np.array([float(present)], np.float32))
            if "emotion" in rows:
                rows["emotion"].append(emotion_map.emotion_vector(blend[None], fer[None])[0])
            if "3dmm" in rows:
                rows["3dmm"].append(emotion_map.coeffs_3dmm(blend[None], rotation[None], translation[None])[0])
        from reactdiff.streams import VIDEO_STREAMS

        return {name: np.asarray(values, np.float32).reshape(len(frames), VIDEO_STREAMS[name].dim) for name, values in rows.items()}

    def close(self) -> None:
        self.tracker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _silero_session_model():
    """A silero-vad network of this session's own (its recurrent state lives in the module)."""
    import torch

    threads = torch.get_num_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from silero_vad import load_silero_vad

        model = load_silero_vad(onnx=False)
    torch.set_num_threads(threads)
    model.reset_states()
    return model


class LiveAudioFeatures:
    """Audio streams chunk by chunk: mono float32 samples at 16 kHz in, rows per 25 fps frame out."""

    def __init__(self, streams: Iterable[str]):
        self.streams = tuple(streams)
        unknown = [name for name in self.streams if name not in LIVE_AUDIO_STREAMS]
        if unknown:
            raise ConfigError(f"audio stream(s) {', '.join(unknown)} have no live form; live audio streams: {', '.join(LIVE_AUDIO_STREAMS)}")
        self.samples = np.zeros(0, np.float32)  # not yet turned into frames
        self.frames = 0
        self.vad = _silero_session_model() if "voice" in self.streams else None
        self.vad_pending = np.zeros(0, np.float32)  # samples not yet scored
        self.scores = np.zeros(0, np.float64)  # per-sample speech score of samples not yet framed

    def push(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> dict[str, np.ndarray]:
        if sample_rate != SAMPLE_RATE:
            raise ConfigError(f"live audio must be {SAMPLE_RATE} Hz mono (got {sample_rate} Hz); resample before pushing")
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if not np.isfinite(samples).all():
            raise DataError("live audio", "samples hold NaN or infinite values")
        self.samples = np.concatenate([self.samples, samples])
        if self.vad is not None:
            self._score(samples)
        return self._rows(final=False)

    def finish(self, total: int | None = None) -> dict[str, np.ndarray]:
        """Flush: the tail is zero-padded (as ``extract`` pads a partial last chunk); ``total``
        frames in all (default: every frame the audio touches)."""
        total = self.frames + -(-len(self.samples) // CHUNK) if total is None else total
        missing = max(0, total - self.frames) * CHUNK - len(self.samples)
        if self.vad is not None:
            real = len(self.scores) + len(self.vad_pending)
            if len(self.vad_pending):  # audio_forward zero-pads the last window
                self._score(np.zeros(-len(self.vad_pending) % 512, np.float32))
            # Scores of padding samples are not the audio's: frames past the end average in zeros.
            self.scores = self.scores[:real]
            self.scores = np.concatenate([self.scores, np.zeros(max(0, total * CHUNK - self.frames * CHUNK - len(self.scores)))])
        self.samples = np.concatenate([self.samples, np.zeros(max(0, missing), np.float32)])
        return self._rows(final=True, total=total)

    def _score(self, samples: np.ndarray) -> None:
        import torch

        self.vad_pending = np.concatenate([self.vad_pending, samples])
        windows = len(self.vad_pending) // 512
        if not windows:
            return
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # see reactdiff.features.voice: tiny windows, threads only add overhead
        try:
            with torch.inference_mode():
                scores = [float(self.vad(torch.from_numpy(self.vad_pending[i * 512 : (i + 1) * 512].copy())[None], SAMPLE_RATE))
                          for i in range(windows)]
        finally:
            torch.set_num_threads(threads)
        self.scores = np.concatenate([self.scores, np.repeat(np.asarray(scores, np.float64), 512)])
        self.vad_pending = self.vad_pending[windows * 512 :]

    def _rows(self, final: bool, total: int | None = None) -> dict[str, np.ndarray]:
        from reactdiff.features.mfcc import kaldi_mfcc, mfcc78

        count = len(self.samples) // CHUNK
        if self.vad is not None:
            count = min(count, len(self.scores) // CHUNK)
        if total is not None:
            count = min(count, total - self.frames)
        chunks = self.samples[: count * CHUNK].reshape(count, CHUNK).astype(np.float64)
        rows = {}
        if "mfcc" in self.streams:
            rows["mfcc"] = (kaldi_mfcc(chunks, SAMPLE_RATE, frame_length_ms=40.0, frame_shift_ms=40.0, num_ceps=26, num_mel_bins=26)[:, 0, :]
                            if count else np.zeros((0, 26), np.float32))
        if "mfcc78" in self.streams:
            rows["mfcc78"] = mfcc78(chunks.reshape(-1), SAMPLE_RATE, count) if count else np.zeros((0, 78), np.float32)
        if "voice" in self.streams:
            rows["voice"] = self.scores[: count * CHUNK].reshape(count, CHUNK).mean(axis=1).astype(np.float32)[:, None]
            self.scores = self.scores[count * CHUNK :]
        self.samples = self.samples[count * CHUNK :]
        self.frames += count
        return {name: np.asarray(rows[name], np.float32) for name in self.streams}


class LiveFeatures:
    """Video and audio streams together: rows of every requested stream, for the frames all of them know."""

    def __init__(self, streams: Iterable[str], video_config=None):
        from reactdiff.streams import VIDEO_STREAMS

        self.streams = tuple(streams)
        video = [name for name in self.streams if name in VIDEO_STREAMS]
        audio = [name for name in self.streams if name not in VIDEO_STREAMS]
        self.audio = LiveAudioFeatures(audio) if audio else None
        self.video = LiveVideoFeatures(video, video_config) if video else None
        self._rows = {name: [] for name in self.streams}
        self._counts = {"video": 0, "audio": 0}
        self.frames_out = 0

    def push_video(self, rgb: np.ndarray, time_s: float) -> None:
        if self.video is not None:
            self._add(self.video.push(rgb, time_s), "video")

    def push_audio(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
        if self.audio is not None:
            self._add(self.audio.push(samples, sample_rate), "audio")

    def finish(self, total: int | None = None) -> None:
        if self.video is not None:
            self._add(self.video.finish(total), "video")
        if self.audio is not None:
            total = total if total is not None else (self.video.frames if self.video is not None else None)
            self._add(self.audio.finish(total), "audio")

    def _add(self, rows: dict[str, np.ndarray], source: str) -> None:
        for name, value in rows.items():
            self._rows[name].append(value)
        self._counts[source] += len(next(iter(rows.values()))) if rows else 0

    def pop(self) -> dict[str, np.ndarray]:
        """Rows ``{stream: (n, D)}`` of the frames every stream now knows (each frame once)."""
        known = [self._counts[source] for source, part in (("video", self.video), ("audio", self.audio)) if part is not None]
        ready = min(known) - self.frames_out
        out = {}
        for name, parts in self._rows.items():
            joined = np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)
            out[name], rest = joined[:ready], joined[ready:]
            self._rows[name] = [rest] if len(rest) else []
        self.frames_out += ready
        return out

    def close(self) -> None:
        if self.video is not None:
            self.video.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
