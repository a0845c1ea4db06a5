"""Live reaction cost: compute per 25 fps frame and end-to-end latency, per online checkpoint.

    python benchmarks/bench_stream.py --checkpoint RUN_A [RUN_B ...] [--seconds 10]
                                      [--video face.mp4] [--audio speech.wav] [--samples 1]

A speaker clip is replayed as a live camera and microphone at 25 fps through the same path as
``reactdiff serve``'s live page: ``LiveFeatures`` (face landmarker + expression model per frame,
MFCC and voice activity per 40 ms chunk) -> ``ReactionSession`` (one listener window per completed
speaker window) -> the 2-D face renderer (reaction 0, 192 px, as the page). Each stage is timed
per frame.

Latency is simulated on a real-time clock from the measured compute: speaker frame s arrives at
s / 25 s; the server processes frames in order, one at a time (a frame waits while an earlier one
is still being processed); the latency of frame s is the time from its arrival until the listener
frame that first depends on it (``session.first_dependent(s)``) is rendered. It splits into

- window: listener window v + 1 is determined only when speaker window v is complete, so frame s
  waits (W - 1 - s mod W) frames for the rest of its window (on average (W - 1) / 2 frames),
- compute: processing (and any queueing) from then on.

Both are reported twice: with wall-clock stage times (what this machine gave, inflated when other
jobs share its cores) and with this process's CPU time per stage (what the work costs on a core of
its own). Transport between a browser and the server is not included (the live page shows it).
Prints a markdown table and a hardware line.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"  # shared/ beside the repository
FPS = 25


def run(checkpoint: Path, video: Path, audio: Path, seconds: float, samples: int) -> dict:
    from reactdiff.features.audio import load_audio
    from reactdiff.features.video import iter_frames
    from reactdiff.pipeline import ReactionModel
    from reactdiff.render.face2d import render_faces
    from reactdiff.streaming import ReactionSession
    from reactdiff.streaming.features import CHUNK, LiveFeatures

    model = ReactionModel.from_checkpoint(checkpoint)
    frames = int(seconds * FPS)
    camera = [rgb for _, rgb in zip(range(frames), iter_frames(video, FPS, max_side=640))]
    if len(camera) < frames:
        raise SystemExit(f"{video} has fewer than {frames} frames")
    sound, _ = load_audio(audio, 16000)
    # Warm-up (not timed): lazy initialisations (TFLite delegates, torch kernels, the first face
    # detection's graph) are paid once per server, before any live session.
    with LiveFeatures(model.stream_names) as features:
        warm = ReactionSession(model, num_samples=samples, seed=0)
        for s in range(2 * warm.window):
            features.push_video(camera[s], s / FPS)
            features.push_audio(sound[s * CHUNK : (s + 1) * CHUNK])
            for chunk in warm.push(features.pop()):
                render_faces(chunk.emotion[0], chunk.coeffs_3dmm[0], size=192)
    session = ReactionSession(model, num_samples=samples, seed=0)
    # Two clocks per stage: wall time (what this machine, shared or not, gave) and this process's
    # CPU time (what the work costs on a core of its own; not inflated by other jobs' load).
    costs = {clock: {"features": np.zeros(frames), "model": np.zeros(frames), "render": np.zeros(frames)} for clock in ("wall", "cpu")}
    emitted = {}  # listener frame -> the speaker frame whose processing emitted it
    with LiveFeatures(model.stream_names) as features:
        for s in range(frames):
            marks = [(time.perf_counter(), time.process_time())]
            features.push_video(camera[s], s / FPS)
            features.push_audio(sound[s * CHUNK : (s + 1) * CHUNK])
            rows = features.pop()
            marks.append((time.perf_counter(), time.process_time()))
            # Window 0 depends on no speaker frame: the session emits it on the first push.
            chunks = session.push(rows)
            marks.append((time.perf_counter(), time.process_time()))
            for chunk in chunks:
                render_faces(chunk.emotion[0], chunk.coeffs_3dmm[0], size=192)
            marks.append((time.perf_counter(), time.process_time()))
            for index, clock in enumerate(("wall", "cpu")):
                for stage, (a, b) in zip(("features", "model", "render"), zip(marks, marks[1:])):
                    costs[clock][stage][s] = b[index] - a[index]
            for chunk in chunks:
                for listener in range(chunk.start, chunk.stop):
                    emitted[listener] = s
    result = {"checkpoint": str(checkpoint), "window": session.window, "frames": frames}
    for clock, stages in costs.items():
        total = sum(stages.values())
        # Real-time replay: frame s arrives at s / 25 s and is processed after the frame before it.
        finished, now = np.zeros(frames), 0.0
        for s in range(frames):
            now = max(now, s / FPS) + total[s]
            finished[s] = now
        latency, window_part = [], []
        for s in range(frames):
            first = session.first_dependent(s)
            if first in emitted:
                latency.append(finished[emitted[first]] - s / FPS)
                # With no compute at all, the listener frame would be there when that speaker frame arrives.
                window_part.append((emitted[first] - s) / FPS)
        latency, window_part = np.array(latency), np.array(window_part)
        result[clock] = {
            **{f"{name}_ms": 1000 * value.mean() for name, value in stages.items()},
            "total_ms": 1000 * total.mean(), "total_p95_ms": 1000 * np.percentile(total, 95), "total_max_ms": 1000 * total.max(),
            "latency_median_ms": 1000 * np.median(latency), "latency_p95_ms": 1000 * np.percentile(latency, 95),
            "window_median_ms": 1000 * np.median(window_part), "compute_median_ms": 1000 * np.median(latency - window_part),
            "compute_p95_ms": 1000 * np.percentile(latency - window_part, 95),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, nargs="+", required=True, help="online checkpoints (or run folders)")
    parser.add_argument("--video", type=Path, default=MEDIA / "face_expressive.mp4")
    parser.add_argument("--audio", type=Path, default=MEDIA / "conversation_16k.wav")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=1, help="reactions generated per frame (the live page: 1)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="torch CPU threads; several values: one set of rows each (reactdiff serve uses 1 by default)")
    args = parser.parse_args()
    import torch

    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for path in args.checkpoint:
            rows.append({**run(path, args.video, args.audio, args.seconds, args.samples), "threads": threads})
    print(f"Live reaction cost per 25 fps frame and end-to-end latency ({rows[0]['frames']} frames of {args.video.name} + "
          f"{args.audio.name}, K = {args.samples}); goals: compute < 40 ms/frame, latency < 500 ms")
    print()
    print("| checkpoint | window (frames) | torch threads | clock | features ms/frame | model ms/frame | render ms/frame | compute ms/frame (mean / p95 / max) "
          "| latency median ms | latency p95 ms | of which window (median) | of which compute (median / p95) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        for clock, label in (("wall", "wall (this machine)"), ("cpu", "CPU time (own core)")):
            r = row[clock]
            print(f"| {row['checkpoint']} | {row['window']} | {row['threads']} | {label} | {r['features_ms']:.1f} | {r['model_ms']:.1f} | {r['render_ms']:.1f} | "
                  f"{r['total_ms']:.1f} / {r['total_p95_ms']:.1f} / {r['total_max_ms']:.1f} | {r['latency_median_ms']:.0f} | "
                  f"{r['latency_p95_ms']:.0f} | {r['window_median_ms']:.0f} | {r['compute_median_ms']:.0f} / {r['compute_p95_ms']:.0f} |")
    print()
    from reactdiff.hardware import hardware_line

    # Printed at the end: a load average well above the core count means a machine shared with other jobs.
    print(hardware_line("torch threads per row as the table says"))


if __name__ == "__main__":
    main()
