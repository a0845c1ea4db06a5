"""ReactFace online generation: stateful (each frame encoded once, key/value caches) against the
original's prefix re-encoding (every window encodes the speaker prefix and fuses the listener
history again), at 750 and 7500 frames.

Usage: python benchmarks/bench_reactface.py [--frames 750 7500] [--preset default] [--samples 1]
                                            [--sample-every 10] [--threads 1]

Each measurement runs in a fresh Python process (its own peak RSS). Paths:

- ``whole``: ReactFaceModel.react on the whole clip (speaker encoded in one causal pass);
- ``stream``: ReactFaceStream fed window by window (what a live session runs);
- ``reencode``: reference.react_reencoding, the original's ``inference_step`` cost model.

Re-encoding 7500 frames costs ~100x re-encoding 750 (quadratic), too long for a shared CPU, so
beyond 750 frames the ``reencode`` row times every ``--sample-every``-th window only (a window's
work depends only on its prefix length, not on the values in it) and sums them times
``sample-every``: the row says "estimated" and how many windows it ran. Seconds are CPU seconds
of this process (``time.process_time``), robust to other jobs on the machine; wall seconds are
printed too. Weights are random (timing does not depend on them).
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
from peak_memory import peak_rss_mib  # noqa: E402  (VmHWM: ru_maxrss in a child carries the parent's peak)

ROOT = Path(__file__).resolve().parents[1]
DIMS = {"emotion": 25, "3dmm": 58, "mfcc": 26}
KINDS = {"emotion": "visual", "3dmm": "visual", "mfcc": "audio"}


def _worker(path: str, frames: int, preset: str, samples: int, sample_every: int, threads: int) -> dict:
    import torch

    from reactdiff.methods.reactface.model import ReactFaceStream
    from reactdiff.methods.reactface.reference import react_reencoding
    from reactdiff.methods.registry import METHODS

    torch.set_num_threads(threads)
    method = METHODS["reactface"]
    torch.manual_seed(0)
    model = method.build(method.preset(preset), DIMS, KINDS).eval()
    window = model.window
    frames = -(-frames // window) * window  # padded to whole windows, as generation pads
    speaker = {name: torch.randn(1, frames, dim) for name, dim in DIMS.items()}
    generator = torch.Generator().manual_seed(0)
    windows_run, estimated = frames // window, False
    cpu, wall = time.process_time(), time.perf_counter()
    with torch.no_grad():
        if path == "whole":
            model.react(speaker, generator, num_samples=samples)
        elif path == "stream":
            stream = ReactFaceStream(model, samples, generator)
            for start in range(0, frames, window):
                stream.step({name: value[:, start : start + window] for name, value in speaker.items()})
        elif path == "reencode" and sample_every <= 1:
            react_reencoding(model, speaker, generator, num_samples=samples)
        elif path == "reencode":
            # The reference's work for window i, at every sample_every-th i: encode the speaker
            # prefix [0, (i+1)W), fuse a listener history of (i+1)W frames, sample, decode.
            estimated, windows_run = True, 0
            state = model.start_listener(samples, "cpu")
            for index in range(sample_every - 1, frames // window, sample_every):
                end = (index + 1) * window
                motion, audio, _, _ = model.encode_speaker({name: value[:, :end] for name, value in speaker.items()})
                motion = motion[:, -window:].repeat_interleave(samples, 0)
                audio = audio[:, -window:].repeat_interleave(samples, 0)
                history = torch.zeros(samples, end, 58)
                fused, _ = model.fusion(history, torch.zeros(samples, end, audio.shape[-1]), torch.zeros(samples, end, audio.shape[-1]), 0)
                state["z"], memory, _ = model.latent_memory(fused[:, -window:], state["z"], generator, model.config.momentum)
                model.decoder(memory, audio, motion)
                windows_run += 1
        else:
            raise SystemExit(f"unknown path {path!r}")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    scale = sample_every if estimated else 1
    return {"path": path, "frames": frames, "windows": frames // window, "windows_run": windows_run, "estimated": estimated,
            "cpu_s": cpu * scale, "wall_s": wall * scale, "peak_rss_mib": peak_rss_mib()}


def _run(path: str, frames: int, args) -> dict:
    command = [sys.executable, __file__, "--worker", path, "--frames", str(frames), "--preset", args.preset,
               "--samples", str(args.samples), "--sample-every", str(args.sample_every if frames > 752 else 1),
               "--threads", str(args.threads)]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), OMP_NUM_THREADS=str(args.threads))
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[750, 7500])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--samples", type=int, default=1, help="reactions generated per speaker (K)")
    parser.add_argument("--sample-every", type=int, default=10, help="beyond 750 frames, time every N-th re-encoding window")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.frames[0], args.preset, args.samples, args.sample_every, args.threads)))
        return

    from reactdiff.hardware import hardware_line

    # Printed at the start: a load average above the core count means a machine shared with other jobs.
    print(hardware_line(f"{args.threads} torch thread(s) per worker"))
    print(f"model: reactface preset {args.preset!r}, K = {args.samples} sample(s), batch 1")
    print()
    print("| frames | path | windows (run) | CPU s | wall s | ms CPU / window | peak RSS MiB | CPU time / whole |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for frames in args.frames:
        rows = [_run(path, frames, args) for path in ("whole", "stream", "reencode")]
        base = rows[0]["cpu_s"]
        for row in rows:
            run = f"{row['windows']} ({row['windows_run']}{', estimated' if row['estimated'] else ''})"
            print(f"| {row['frames']} | {row['path']} | {run} | {row['cpu_s']:.2f} | {row['wall_s']:.2f} | "
                  f"{1000 * row['cpu_s'] / row['windows']:.1f} | {row['peak_rss_mib']:.0f} | {row['cpu_s'] / base:.1f} |", flush=True)


if __name__ == "__main__":
    main()
