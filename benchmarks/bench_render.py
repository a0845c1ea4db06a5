"""How long a 30-second, 10-reaction render takes, per renderer.

    python benchmarks/bench_render.py [--renderers face2d mesh] [--reactions 10] [--frames 750]
                                      [--faceverse-model PATH --mean-face PATH]

Each renderer runs in a fresh process (so peak memory is its own) through the same path as
``reactdiff render``: speaker + K listener panels rendered chunk by chunk, composed into the grid
and encoded to H.264 with 30 s of AAC audio. Inputs are synthetic emotion/3DMM sequences with
REACT-like statistics (persistent binary AUs, smooth valence/arousal, softmax expressions).
Prints a markdown table with a hardware line.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak_memory import peak_rss_mib  # noqa: E402


def synthetic_emotion(rng: np.random.Generator, frames: int) -> np.ndarray:
    """(frames, 25): AUs that switch on/off every ~1 s, smooth V/A, softmax expression probabilities."""
    switches = rng.random((frames, 15)) < 1 / 25
    aus = (np.cumsum(switches, axis=0) + rng.integers(0, 2, 15)) % 2
    time_axis = np.linspace(0, 6 * np.pi, frames)[:, None]
    va = 0.6 * np.sin(time_axis * rng.uniform(0.3, 1.0, 2) + rng.uniform(0, 6, 2))
    logits = np.cumsum(rng.normal(scale=0.1, size=(frames, 8)), axis=0)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return np.concatenate([aus, va, probabilities], axis=1).astype(np.float32)


def synthetic_pose(rng: np.random.Generator, frames: int) -> np.ndarray:
    coeffs = np.zeros((frames, 58), np.float32)
    time_axis = np.linspace(0, 4 * np.pi, frames)
    coeffs[:, 52:55] = 0.15 * np.sin(time_axis[:, None] * rng.uniform(0.5, 1.5, 3))
    return coeffs


def run_one(renderer: str, reactions: int, frames: int, faceverse: tuple[str | None, str | None], out_dir: str) -> dict:
    """Render one grid video in this (child) process; return timings and peak memory."""
    from reactdiff.render.grid import compose_grid, rendered_panel
    from reactdiff.render.renderers import get_renderer
    from reactdiff.render.video import write_video

    rng = np.random.default_rng(0)
    render = get_renderer(renderer, *faceverse)
    speaker = rendered_panel("Speaker", render, synthetic_emotion(rng, frames), synthetic_pose(rng, frames), highlight=True)
    listeners = [
        rendered_panel(f"Listener {k + 1}", render, synthetic_emotion(rng, frames), synthetic_pose(rng, frames))
        for k in range(reactions)
    ]
    audio = (0.1 * rng.standard_normal(16000 * frames // 25).astype(np.float32), 16000)
    out = Path(out_dir) / f"bench_{renderer}.mp4"
    start = time.perf_counter()
    write_video(out, compose_grid([speaker] + listeners, frames), audio=audio)
    seconds = time.perf_counter() - start
    peak_mb = peak_rss_mib()  # VmHWM: a spawned child's own peak (ru_maxrss would carry the parent's)
    return {"renderer": renderer, "seconds": seconds, "peak_mb": peak_mb, "file_mb": out.stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renderers", nargs="+", default=["face2d", "mesh"], choices=["face2d", "mesh", "faceverse"])
    parser.add_argument("--reactions", type=int, default=10)
    parser.add_argument("--frames", type=int, default=750)
    parser.add_argument("--faceverse-model", default=None, help="FaceVerse model file (needed for the faceverse renderer)")
    parser.add_argument("--mean-face", default=None, help="REACT mean_face.npy (needed for the faceverse renderer)")
    args = parser.parse_args()

    from reactdiff.render.mesh import mesh_available

    rows = []
    context = multiprocessing.get_context("spawn")  # a clean process per renderer: honest peak memory
    with tempfile.TemporaryDirectory() as out_dir:
        for renderer in args.renderers:
            if renderer == "mesh" and not mesh_available():
                print("skipping mesh: py-feat not installed (scripts/install_mesh_extra.sh)")
                continue
            if renderer == "faceverse" and (args.faceverse_model is None or args.mean_face is None):
                print("skipping faceverse: pass --faceverse-model PATH --mean-face PATH")
                continue
            with context.Pool(1) as pool:
                rows.append(pool.apply(run_one, (renderer, args.reactions, args.frames, (args.faceverse_model, args.mean_face), out_dir)))

    faces = (args.reactions + 1) * args.frames
    print(f"\nrender benchmark: speaker + {args.reactions} listeners, {args.frames} frames "
          f"({args.frames / 25:.0f} s at 25 fps), 256 px panels, H.264 + AAC audio")
    print("| renderer | seconds | composed frames/s | faces/s | peak RSS (MiB) | mp4 (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['renderer']} | {row['seconds']:.1f} | {args.frames / row['seconds']:.1f} | "
              f"{faces / row['seconds']:.0f} | {row['peak_mb']:.0f} | {row['file_mb']:.1f} |")
    import av
    import PIL

    from reactdiff.hardware import hardware_line

    # The load average in it: other work on the machine slows every number above.
    print(hardware_line(f"numpy {np.__version__}, Pillow {PIL.__version__}, PyAV {av.__version__}"))


if __name__ == "__main__":
    main()
