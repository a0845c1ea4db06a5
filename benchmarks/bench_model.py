"""Model benchmark: parameter counts, training steps/s of both stages, generation time and peak
memory. Prints a Markdown table.

    python benchmarks/bench_model.py                 # default preset, GPU if torch sees one
    python benchmarks/bench_model.py --device cpu --preset paper

Every timed case runs in its own subprocess so its peak resident memory (VmHWM, see peak_memory.py)
is its own; GPU memory (``torch.cuda.max_memory_allocated``) is a separate column.
Training cases time full optimizer steps (forward, backward, clipping, AdamW, EMA) at the default
batch size and crop on random tensors shaped like the data (emotion 25, 3DMM 58, MFCC 26 per
frame); data loading is not included (the store is memory-mapped and cheap next to a step).
Stage 2 steps start from latents encoded once, as its training does (the one-off encoding of the
training clips is not a per-step cost). AdamW is the one training builds (``train.loop.adamw``:
fused where PyTorch has the kernel); ``train_diffusion_unfused`` times stage 2 with PyTorch's default
per-tensor AdamW, for the ratio in one run.
Generation cases time ``ReactionModel.generate`` / ``generate_batch`` (10 reactions x 750 frames,
20 DDIM steps) with randomly initialised weights: the cost does not depend on their values. The
online cases generate one speaker with the ``live`` preset: window by window as a live session
does (the default, bit-identical to the stream) and with ``batched_windows`` (every window at once).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak_memory import peak_rss_mib  # noqa: E402

STREAMS = {"emotion": (25, "visual"), "3dmm": (58, "visual"), "mfcc": (26, "audio")}
CASES = ("train_autoencoder", "train_diffusion", "train_diffusion_unfused", "generate_1", "generate_16", "online_windows", "online_batched")
#: The online cases time the `live` preset (10-frame windows, causal) whatever --preset says.
ONLINE_PRESET = "live"


def build(preset: str, device):
    import torch

    from reactdiff.methods.reactdiff import MODEL_PRESETS, build_model

    torch.manual_seed(0)
    model = build_model(MODEL_PRESETS[preset](), {n: d for n, (d, _) in STREAMS.items()}, {n: k for n, (_, k) in STREAMS.items()})
    return model.to(device)


def count_parameters(preset: str) -> dict[str, int]:
    model = build("default" if preset is None else preset, "cpu")
    autoencoder = sum(p.numel() for p in model.autoencoder.parameters())
    diffusion = sum(p.numel() for p in model.diffusion_parameters())
    return {"autoencoder": autoencoder, "denoiser": diffusion, "total": sum(p.numel() for p in model.parameters())}


def random_streams(batch: int, frames: int, device):
    import torch

    return {name: torch.randn(batch, frames, dim, device=device) for name, (dim, _) in STREAMS.items()}


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def run_case(case: str, preset: str, device_name: str, repeats: int) -> dict:
    """Time one case in this process; returns seconds per unit and the process's peak memory."""
    import numpy as np
    import torch

    from reactdiff.methods.reactdiff.stage_autoencoder import AutoencoderStage
    from reactdiff.methods.reactdiff.config import AutoencoderTrainConfig, DiffusionTrainConfig
    from reactdiff.methods.reactdiff.stage_diffusion import DiffusionStage
    from reactdiff.train.ema import EMA
    from reactdiff.device import resolve_device
    from reactdiff.train.loop import Objective, adamw

    device = resolve_device(device_name)
    model = build(ONLINE_PRESET if case.startswith("online") else preset, device)
    latent = model.config.autoencoder.latent_dim
    with torch.no_grad():
        # Whole clips: per-position statistics (the paper preset) need them, per-dimension ones take any shape.
        model.set_latent_stats(torch.randn(4, model.config.diffusion.clip_frames, latent, device=device))
    if case.startswith("train"):
        stage, config = (AutoencoderStage(), AutoencoderTrainConfig()) if case == "train_autoencoder" else (DiffusionStage(), DiffusionTrainConfig())
        parameters = stage.trainable_parameters(model)
        optimizer = adamw(parameters, config.optim, fused=case != "train_diffusion_unfused")  # what training builds
        ema = EMA(model, config.ema_decay)
        objective = Objective(model, stage).train()
        batch = {role: random_streams(config.batch_size, config.crop_frames, device) for role in ("speaker", "listener")}
        if case.startswith("train_diffusion"):
            # Stage 2 trains on latents encoded once per clip (train.diffusion.LatentWindows), so a
            # step is the condition encoder and the denoiser only.
            speaker, listener = (model.encode_windows(batch[role]) for role in ("speaker", "listener"))
            batch = {"speaker": {"condition": model.condition_windows(speaker)}, "listener": {"latent": listener}}

        def step():
            loss, _ = objective(batch, torch.Generator(device=device).manual_seed(0))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, config.optim.grad_clip)
            optimizer.step()
            ema.update(model)

        unit = f"step (batch {config.batch_size} x {config.crop_frames} frames{', cached latents' if case.startswith('train_diffusion') else ''}"
        unit += ", AdamW's default per-tensor loop)" if case == "train_diffusion_unfused" else ")"
    else:
        from reactdiff.methods.reactdiff.method import METHOD
        from reactdiff.pipeline import ReactionModel

        generator = ReactionModel(METHOD, model.config, model, {n: {"dim": d, "kind": k} for n, (d, k) in STREAMS.items()}, device=device)
        speakers = 16 if case == "generate_16" else 1
        streams = {name: np.random.default_rng(0).normal(size=(speakers, 750, dim)).astype(np.float32) for name, (dim, _) in STREAMS.items()}
        options = {"batched_windows": case == "online_batched"} if case.startswith("online") else {}

        def step():
            generator.generate_batch(streams, num_samples=10, steps=20, seed=0, **options)

        unit = f"{speakers} speaker(s) x 10 reactions x 750 frames, 20 steps"
        if case.startswith("online"):
            unit += f", {ONLINE_PRESET} preset, " + ("all windows batched" if options["batched_windows"] else "window by window")
    step()  # warm-up (allocations, kernels)
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        _sync(device)
        times.append(time.perf_counter() - start)
    # Host and GPU memory are different resources: reported side by side, never as one maximum.
    gpu_gib = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return {
        "case": case, "unit": unit, "seconds": float(np.median(times)),
        "host_gib": peak_rss_mib() / 1024, "gpu_gib": gpu_gib, "device": str(device),
    }


def device_detail(device_name: str) -> str:
    """The device the cases run on (the GPU's name when it is one)."""
    import torch

    from reactdiff.device import resolve_device

    device = resolve_device(device_name)
    name = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    return f"device {device}{name}; {platform.system()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="default", help="model preset timed (parameter counts cover default and paper)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions per case (median reported)")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.preset, args.device, args.repeats)))
        return 0

    from reactdiff.hardware import hardware_line

    print(hardware_line(device_detail(args.device)) + "\n")
    print("| model preset | autoencoder params | denoiser + condition params | total params |")
    print("|---|---:|---:|---:|")
    for preset in ("default", "paper"):
        counts = count_parameters(preset)
        print(f"| {preset} | {counts['autoencoder'] / 1e6:.2f} M | {counts['denoiser'] / 1e6:.2f} M | {counts['total'] / 1e6:.2f} M |")
    print(f"\n| case ({args.preset} preset) | unit | seconds / unit | rate | peak host RSS (GiB) | peak GPU allocated (GiB) |")
    print("|---|---|---:|---:|---:|---:|")
    for case in args.cases:
        command = [sys.executable, __file__, "--case", case, "--preset", args.preset, "--device", args.device, "--repeats", str(args.repeats)]
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            print(f"| {case} | failed: {completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else completed.returncode} | | | | |")
            continue
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        rate = f"{1 / result['seconds']:.2f} steps/s" if case.startswith("train") else f"{10 * (16 if case == 'generate_16' else 1) / result['seconds']:.1f} reactions/s"
        gpu = "-" if result["gpu_gib"] is None else f"{result['gpu_gib']:.2f}"
        print(f"| {case} | {result['unit']} | {result['seconds']:.3f} | {rate} | {result['host_gib']:.2f} | {gpu} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
