"""The one place that turns a device setting ("auto", "cpu", "cuda", "cuda:1", "mps") into a torch
device, refusing a device this machine does not have with a one-line error."""

from __future__ import annotations

from reactdiff.errors import ConfigError


def resolve_device(name: str, setting: str = "--device"):
    """``"auto"`` = the GPU when torch sees one, else the CPU. Raises ConfigError naming ``setting``
    for an unknown device or one that is not available here."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"{setting}: {name!r} is not a device (auto, cpu, cuda, cuda:N, mps)") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{setting}: {name!r} requested but torch sees no CUDA GPU here (use auto or cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"{setting}: {name!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"{setting}: 'mps' requested but it is not available here (use auto or cpu)")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"{setting}: {name!r} is not supported (auto, cpu, cuda, cuda:N, mps)")
    return device


def batch_for(device, cpu: int, accelerator: int) -> int:
    """Items per batch for array work on ``device``: ``cpu`` on a CPU, where batches that stay in
    the caches run fastest (measured for the metrics in docs/metrics.md), ``accelerator`` elsewhere,
    where per-launch overhead dominates."""
    import torch

    return cpu if torch.device(device).type == "cpu" else accelerator
