"""One live page connection: camera frames and microphone chunks in, drawn listener frames out.

Wire format (WebSocket ``/ws/live``), little-endian:

- browser -> server, binary: ``b"V"`` + float64 client time (ms) + JPEG bytes of one camera frame
  (its capture time is the client time); ``b"A"`` + float64 client time (ms) + float32 mono
  samples at 16 kHz.
- server -> browser, JSON text: ``{"type": "ready", ...}`` once, then ``{"type": "frames",
  "start": i, "faces": [JPEG data URLs], "client_ms": t}`` for every group of listener frames,
  where ``t`` is the client time of the message whose arrival made them determined (the page
  shows ``now - t`` as the latency); ``{"type": "busy" | "error", "message": ...}`` before closing.
"""

from __future__ import annotations

import base64
import io
import struct

import numpy as np

from reactdiff.constants import FPS
from reactdiff.errors import DataError

HEADER = struct.Struct("<cd")
#: Side of the listener faces sent to the page (pixels).
FACE_SIZE = 192


def live_problem(model) -> str | None:
    """Why ``model`` cannot run live on this server, or None when it can."""
    from reactdiff.streaming.features import LIVE_AUDIO_STREAMS
    from reactdiff.streams import VIDEO_STREAMS

    if not model.online:
        return f"the checkpoint ({model.name}) generates offline; a live session needs an online checkpoint"
    if model.fps != FPS:
        return (f"the checkpoint was trained at {model.fps:g} fps; live features run at {FPS} fps "
                f"(a {model.fps:g} fps checkpoint reacts to uploaded clips on /upload)")
    lacking = [name for name in model.stream_names if name not in VIDEO_STREAMS and name not in LIVE_AUDIO_STREAMS]
    if lacking:
        return f"stream(s) {', '.join(lacking)} have no live form"
    if any(name in VIDEO_STREAMS for name in model.stream_names):
        try:
            import mediapipe  # noqa: F401
        except ImportError:
            return "the video extras (MediaPipe) are not installed: bash scripts/install_extras.sh"
    return None


class LiveWorker:
    """Features + reaction session of one connection (blocking calls: run them off the event loop)."""

    def __init__(self, model, seed: int | None = None):
        from reactdiff.streaming import ReactionSession
        from reactdiff.streaming.features import LiveFeatures

        self.session = ReactionSession(model, num_samples=1, seed=seed, render_size=FACE_SIZE)
        self.features = LiveFeatures(model.stream_names)

    def handle(self, message: bytes) -> list[dict]:
        """One binary message from the page -> the JSON messages to send back."""
        if len(message) < HEADER.size:
            raise DataError("live message", f"{len(message)} bytes is shorter than the {HEADER.size}-byte header")
        kind, client_ms = HEADER.unpack_from(message)
        payload = message[HEADER.size :]
        if kind == b"V":
            self.features.push_video(_decode_jpeg(payload), client_ms / 1000.0)
        elif kind == b"A":
            if len(payload) % 4:
                raise DataError("live message", "audio payload is not float32 samples")
            self.features.push_audio(np.frombuffer(payload, dtype="<f4"))
        else:
            raise DataError("live message", f"unknown message kind {kind!r} (expected b'V' or b'A')")
        chunks = self.session.push(self.features.pop())
        return [{"type": "frames", "start": chunk.start, "faces": [_encode_jpeg(face) for face in chunk.faces],
                 "client_ms": client_ms} for chunk in chunks]

    def close(self) -> None:
        self.features.close()


def _decode_jpeg(data: bytes) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError("live video frame", f"not a decodable image ({exc})") from exc


def _encode_jpeg(frame: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
