"""Data-parallel training through PyTorch DDP when launched by ``torchrun`` (same script, no code
change): the environment variables RANK / WORLD_SIZE / LOCAL_RANK select the process's role."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in the job; a single process is rank 0 of a world of 1."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process writes checkpoints, logs and the progress bar."""
        return self.rank == 0


def setup_distributed(device_type: str) -> DistributedContext:
    """Join the process group described by torchrun's environment (no-op without it)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    context = DistributedContext(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        # NCCL for GPUs; gloo runs everywhere else (CI runs two CPU processes).
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    if device_type == "cuda":
        torch.cuda.set_device(context.local_rank)
    return context


def all_agree(flag: bool, context: DistributedContext, device: torch.device) -> bool:
    """True if ``flag`` is true on any rank (so every rank stops at the same step)."""
    if not context.enabled:
        return flag
    # NCCL only reduces tensors on the GPU.
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def teardown_distributed(context: DistributedContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
