"""Benchmark feature extraction from a clip: each video stage, the audio streams, and the full set.

Usage: python benchmarks/bench_extract.py [--video FILE] [--audio FILE] [--max-side N]

Every stage runs in a fresh Python process, so its time includes loading its models and its peak
memory (VmHWM, see peak_memory.py) is its own. Video stages on the clip resampled to 25 fps:

- decode: PyAV decoding + 25 fps frame selection + RGB conversion (frames downscaled to --max-side);
- landmarker: MediaPipe face landmarker (VIDEO mode tracking) on every frame, decode excluded;
- expression: face crop + fer TFLite expression model on every tracked face, decode/tracking excluded;
- video streams: ``compute_video_streams`` end to end (all of VIDEO_STREAMS);
- full set: ``extract`` end to end with every video stream and every audio stream.

Audio streams are timed by the audio engineer's ``bench_audio.benchmark_audio`` (same process model).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_audio import benchmark_audio, format_table, hardware_line  # noqa: E402
from peak_memory import peak_rss_mib as _peak_rss_mib  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
STAGES = ("decode", "landmarker", "expression", "video streams", "full set")


class Stopwatch:
    """Accumulates wall and CPU time (all threads of this process) over the timed sections only:
    wall time on a shared machine depends on its load, CPU time much less."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info):
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def _measure(stage: str, video: Path, audio: Path, max_side: int) -> dict:
    """Time one stage in this (fresh) process; model loading counts, untimed inputs do not."""
    import numpy as np

    from reactdiff.features.extract import VIDEO_STREAMS, VideoFeatureConfig, compute_video_streams, extract
    from reactdiff.features.video import iter_frames, probe_video

    num_frames = probe_video(video).num_frames()
    config = VideoFeatureConfig(detection_max_side=max_side)
    watch = Stopwatch()
    if stage == "decode":
        with watch:
            for _ in iter_frames(video, max_side=max_side):
                pass
    elif stage in ("landmarker", "expression"):
        from reactdiff.features.expression import ExpressionModel, crop_face
        from reactdiff.features.face import FaceTracker

        landmarker, expression = Stopwatch(), Stopwatch()
        crops = []
        with landmarker:
            tracker = FaceTracker()
        for index, rgb in enumerate(iter_frames(video, max_side=max_side)):
            with landmarker:
                face = tracker.track(rgb, index * 40)
            if face is not None:
                with expression:
                    crops.append(crop_face(rgb, face.landmarks))
        tracker.close()
        with expression:
            ExpressionModel().predict(np.stack(crops))
        watch = landmarker if stage == "landmarker" else expression
    elif stage == "video streams":
        with watch:
            compute_video_streams(video, num_frames, tuple(VIDEO_STREAMS), config)
    elif stage == "full set":
        from reactdiff.features.audio import audio_streams_at

        with watch:
            # The clip is 25 fps: every audio stream defined there (mfcc39 is for 30 fps and refuses 25).
            extract(video, audio, tuple(VIDEO_STREAMS) + tuple(audio_streams_at(25)), config)
    return {"stage": stage, "seconds": watch.wall, "cpu_seconds": watch.cpu, "media_seconds": num_frames / 25,
            "peak_rss_mib": _peak_rss_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=MEDIA / "face_expressive.mp4")
    parser.add_argument("--audio", type=Path, default=MEDIA / "conversation_16k.wav")
    parser.add_argument("--max-side", type=int, default=640, help="downscale frames whose longer side exceeds this before tracking")
    parser.add_argument("--measure", choices=STAGES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.measure, args.video, args.audio, args.max_side)))
        return

    from reactdiff.features.video import probe_video

    info = probe_video(args.video)
    load_before = os.getloadavg()[0]
    rows = []
    for stage in STAGES:
        command = [sys.executable, __file__, "--measure", stage, "--video", str(args.video), "--audio", str(args.audio),
                   "--max-side", str(args.max_side)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
    print(f"video: {args.video.name}, {info.width}x{info.height} at {info.source_fps:.3f} fps, {info.duration:.1f} s "
          f"-> {info.num_frames()} frames at 25 fps (frames downscaled to longer side <= {args.max_side} before tracking)")
    print(f"audio: {args.audio.name} (cut to the video's {info.num_frames()} frames in the full set)")
    print(hardware_line())
    print(f"load average (1 min) before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    print("| stage | wall s | s per s media | x real time | CPU s (all threads) | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        per_second = row["seconds"] / row["media_seconds"]
        print(
            f"| {row['stage']} | {row['seconds']:.2f} | {per_second:.3f} | {1 / per_second:.1f} | "
            f"{row['cpu_seconds']:.2f} | {row['peak_rss_mib']:.0f} |"
        )
    print()
    print(f"audio streams ({args.audio.name}, benchmarks/bench_audio.py):")
    print(format_table(benchmark_audio(args.audio, repeats=1)))


if __name__ == "__main__":
    main()
