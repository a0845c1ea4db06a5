"""The training loop shared by every stage of every method.

One function, :func:`train`, runs a method's stage from its config: AdamW, warm-up + step decay, gradient
clipping, EMA, periodic validation on the VAL split with the best EMA weights kept, TensorBoard
logs, a tqdm bar, a step and/or wall-clock budget, exact resume, and DDP under ``torchrun``.

Run folder layout (``--out``)::

    last/   resumable checkpoint (raw + EMA weights, optimizer, step, RNG), every checkpoint_every
    best/   checkpoint with the lowest validation loss (what generation uses by default)
    logs/   TensorBoard event files
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reactdiff.device import resolve_device
from reactdiff.errors import ConfigError, DataError
from reactdiff.checkpoint import load_checkpoint, load_weights, recover, rng_state, save_checkpoint, set_rng_state
from reactdiff.config import from_dict, save_config
from reactdiff.methods.base import TrainConfig
from reactdiff.train.distributed import DistributedContext, all_agree, setup_distributed, teardown_distributed
from reactdiff.train.ema import EMA
from reactdiff.train.schedule import WarmupStepDecay


@dataclass
class TrainResult:
    """What a finished (or budget-ended) run reports back."""

    step: int
    train_loss: float
    best_val_loss: float | None
    out_dir: Path


class Objective(nn.Module):
    """``forward(batch) -> (loss, logs)`` around the model, so DDP sees a forward call (it sets up
    gradient all-reduce there) and ``torch.compile`` has one function to compile."""

    def __init__(self, model: nn.Module, stage):
        super().__init__()
        self.model = model
        self.stage = stage

    def forward(self, batch: dict, generator: torch.Generator | None = None):
        return self.stage.loss(self.model, batch, generator)


def adamw(parameters: list[torch.nn.Parameter], optim, fused: bool = True) -> torch.optim.AdamW:
    """AdamW with the fused kernel where this PyTorch has one for the parameters' device (CPU since
    2.4), else PyTorch's default implementation. The default per-tensor loop is a large share of a
    small model's step on a CPU (ReactDiff's stage 2: `python benchmarks/bench_model.py --cases
    train_diffusion train_diffusion_unfused`); the fused kernel makes the same update up to float
    rounding. ``fused=False``: the default implementation (for that comparison)."""
    settings = {"lr": optim.lr, "betas": tuple(optim.betas), "weight_decay": optim.weight_decay}
    if fused:
        try:
            return torch.optim.AdamW(parameters, fused=True, **settings)
        except (RuntimeError, TypeError):  # no fused kernel for this device or PyTorch version
            pass
    return torch.optim.AdamW(parameters, **settings)


def collate(items: list[dict], device: torch.device) -> dict:
    """Stack dataset items into ``{"speaker": {name: (B, ...)}, "listener": {...}}`` (names are
    feature streams in stage 1, cached latents in stage 2)."""
    return {
        role: {name: torch.stack([item[role][name] for item in items]).to(device) for name in items[0][role]}
        for role in ("speaker", "listener")
    }


def stream_description(store, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``streams.json`` content for ``names``: what the checkpoint expects of the data."""
    available = store.streams
    missing = [name for name in names if name not in available]
    if missing:
        raise DataError(
            store.directory,
            f"missing stream(s) {', '.join(missing)} (has: {', '.join(available) or 'none'}); run `reactdiff prepare`",
        )
    return {
        name: {
            "dim": available[name].dim,
            "kind": available[name].kind,
            "approximate": available[name].approximate,
            "source": available[name].source,
        }
        for name in names
    }


def _step_generator(seed: int, rank: int, step: int, device: torch.device) -> torch.Generator:
    """A generator for the diffusion noise of one step: a pure function of (seed, rank, step), so a
    resumed run draws the same noise as an uninterrupted one."""
    generator = torch.Generator(device=device)
    generator.manual_seed((seed * 1_000_003 + rank * 7919 + step) % (2**63))
    return generator


def train(method, stage, config: TrainConfig, data_root: str | Path, out_dir: str | Path, **options) -> TrainResult:
    """Run ``stage`` (the trainer object of one of ``method``'s stages, e.g. ReactDiff's
    :class:`~reactdiff.methods.reactdiff.stage_autoencoder.AutoencoderStage`) with ``config`` on the
    dataset at ``data_root``, writing checkpoints to ``out_dir``.

    ``model``: a model already built (a later stage passes one holding the earlier stage's
    networks); built by ``method.build`` from ``config.model`` and the store's streams otherwise.
    ``resume``: None = continue from ``out_dir/last`` when it exists; True = it must exist; False =
    it must not. Settings are validated before anything is written; the run folder is locked while
    training (a second run into it stops at once, naming the first), and ``train_config.json`` is
    written only once a resume is accepted.
    """
    from reactdiff.train.lock import RunLock

    config.validate(frame_multiple=method.frame_multiple(config.model))
    method.validate_config(config.model)
    main_process = int(os.environ.get("RANK", "0")) == 0  # under torchrun only rank 0 writes
    with RunLock(Path(out_dir)) if main_process else contextlib.nullcontext():
        return _train(method, stage, config, data_root, out_dir, **options)


def _train(
    method,
    stage,
    config: TrainConfig,
    data_root: str | Path,
    out_dir: str | Path,
    *,
    model: nn.Module | None = None,
    resume: bool | None = None,
    extra_manifest: dict[str, Any] | None = None,
) -> TrainResult:
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data.distributed import DistributedSampler
    from torch.utils.tensorboard import SummaryWriter
    from tqdm import tqdm

    from reactdiff.data.dataset import ReactPairDataset
    from reactdiff.store import FeatureStore

    data_root, out_dir = Path(data_root), Path(out_dir)
    device = resolve_device(config.device)
    context = setup_distributed(device.type)
    if context.enabled and device.type == "cuda":
        device = torch.device("cuda", context.local_rank)
    # Seed every RNG; ranks differ so their crops and dropout differ.
    torch.manual_seed(config.seed + context.rank)

    store = FeatureStore(data_root / "features")
    streams = stream_description(store, stage.data_streams(config.model))
    model_streams = {name: streams[name] for name in config.model.streams}
    if model is None:
        model = method.build(
            config.model,
            {name: info["dim"] for name, info in model_streams.items()},
            {name: info["kind"] for name, info in model_streams.items()},
        )
    model.to(device)
    parameters = stage.trainable_parameters(model)
    optimizer = adamw(parameters, config.optim)
    schedule = WarmupStepDecay(config.optim)
    ema = EMA(model, config.ema_decay) if context.is_main else None

    step, elapsed_before, best_val = 0, 0.0, None
    last_dir, best_dir = out_dir / "last", out_dir / "best"
    recover(last_dir)
    recover(best_dir)
    has_last = (last_dir / "checkpoint.json").is_file()
    if resume is True and not has_last:
        raise DataError(last_dir, "no checkpoint to resume from")
    if resume is False and has_last:
        raise DataError(out_dir, "already holds a run; choose another --out or resume it")
    if has_last:
        step, elapsed_before, best_val = _resume(method, last_dir, model, optimizer, ema, context, config)
    if context.is_main:
        # Only now, with the settings validated (and a resume accepted), do they describe the run.
        save_config(config, out_dir / "train_config.json")

    dataset, val_dataset = stage.datasets(model, data_root, tuple(streams), config.crop_frames, device)
    sampler = DistributedSampler(
        dataset, num_replicas=context.world_size, rank=context.rank, shuffle=True, seed=config.seed, drop_last=True
    )
    batches_per_epoch = len(sampler) // config.batch_size
    if batches_per_epoch == 0:
        raise DataError(data_root / "train.csv", f"{len(dataset)} training items: too few for batch size {config.batch_size} x {context.world_size} process(es)")

    objective: nn.Module = Objective(model, stage)
    if context.enabled:
        objective = DistributedDataParallel(objective, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile:
        objective = torch.compile(objective)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.precision == "bf16")

    writer = SummaryWriter(out_dir / "logs", purge_step=step) if context.is_main else None
    if context.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    progress_bar = tqdm(total=config.steps, initial=step, disable=not context.is_main, unit="step", dynamic_ncols=True)
    start_time = time.monotonic()
    budget_seconds = None if config.max_minutes is None else config.max_minutes * 60.0
    manifest = dict(extra_manifest or {})
    train_loss = float("nan")

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - start_time

    def budget_progress() -> float:
        fraction = step / config.steps
        return max(fraction, elapsed() / budget_seconds) if budget_seconds else fraction

    def checkpoint(directory: Path) -> None:
        save_checkpoint(
            directory,
            method=method.name,
            method_version=method.version,
            stage=stage.name,
            step=step,
            model_config=config.model,
            train_config=config,
            streams=model_streams,
            ema_weights=ema.state_dict(),
            raw_weights=dict(model.state_dict()),
            optimizer=optimizer,
            training_state={
                "step": step,
                "elapsed_seconds": elapsed(),
                "best_val_loss": best_val,
                "ema_updates": ema.updates,
                "rng": rng_state(),
            },
            extra_manifest=dict(manifest, best_val_loss=best_val),
        )

    model.train()
    stop = step >= config.steps
    while not stop:
        epoch, position = divmod(step, batches_per_epoch)
        # The data order is a function of (seed, epoch): a resumed run skips to the same batch.
        sampler.set_epoch(epoch)
        order = list(sampler)
        for batch_index in range(position, batches_per_epoch):
            indices = order[batch_index * config.batch_size : (batch_index + 1) * config.batch_size]
            batch = collate([dataset[i] for i in indices], device)
            lr = schedule.apply(optimizer, step, budget_progress())
            with autocast:
                loss, logs = objective(batch, _step_generator(config.seed, context.rank, step, device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(parameters, config.optim.grad_clip if config.optim.grad_clip > 0 else float("inf"))
            optimizer.step()
            step += 1
            if ema is not None:
                ema.update(model)
            train_loss = float(loss.detach())
            progress_bar.update(1)
            if context.is_main and (step % config.log_every == 0 or step == 1):
                progress_bar.set_postfix(loss=f"{train_loss:.4f}", lr=f"{lr:.2e}")
                writer.add_scalar("train/loss", train_loss, step)
                writer.add_scalar("train/lr", lr, step)
                writer.add_scalar("train/grad_norm", float(grad_norm), step)
                for name, value in (logs or {}).items():
                    writer.add_scalar(f"train/{name}", float(value), step)
            out_of_budget = step >= config.steps or (budget_seconds is not None and elapsed() >= budget_seconds)
            stop = all_agree(out_of_budget, context, device)
            if context.is_main:
                if val_dataset is not None and (step % config.val_every == 0 or stop):
                    val_loss = validate(stage, ema.module, val_dataset, config, device)
                    writer.add_scalar("val/loss", val_loss, step)
                    if best_val is None or val_loss < best_val:
                        best_val = val_loss
                        checkpoint(best_dir)
                if step % config.checkpoint_every == 0 or stop:
                    checkpoint(last_dir)
            if stop:
                break
    progress_bar.close()

    if context.is_main:
        # Stage-specific completion (stage 1: latent statistics) on the last and the best weights.
        stage.finish(ema.module, _stats_dataset(ReactPairDataset, data_root, tuple(streams), config.crop_frames), device, config.batch_size)
        _copy_buffers(ema.module, model)
        manifest.update(getattr(stage, "manifest_on_finish", {}))
        checkpoint(last_dir)
        if val_dataset is None or not (best_dir / "checkpoint.json").is_file():
            # Without a val split there is nothing to select on: the last weights are the best.
            checkpoint(best_dir)
        elif stage.finish_changes_weights:
            _finish_best(method, stage, best_dir, config, model_streams, data_root, streams, device, manifest)
        writer.close()
    teardown_distributed(context)
    return TrainResult(step=step, train_loss=train_loss, best_val_loss=best_val, out_dir=out_dir)


@torch.no_grad()
def validate(stage, model: nn.Module, dataset, config: TrainConfig, device: torch.device) -> float:
    """Mean loss of ``model`` (the EMA weights) over the first ``val_batches`` batches of the VAL
    split, with fixed noise so successive validations are comparable. A stage whose training loss
    holds terms that say nothing of the fit (ReactFace's diversity reward) defines
    ``validation_loss(model, batch, generator) -> float tensor``, which is used instead."""
    was_training = model.training
    model.eval()
    num_items = len(dataset) if config.val_batches == 0 else min(len(dataset), config.val_batches * config.batch_size)
    total, count = 0.0, 0
    # Validation must not consume the training RNG streams (resume exactness depends on it).
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        generator = _step_generator(config.seed, 0, 0, device)
        for start in range(0, num_items, config.batch_size):
            items = [dataset[i] for i in range(start, min(start + config.batch_size, num_items))]
            if hasattr(stage, "validation_loss"):
                loss = stage.validation_loss(model, collate(items, device), generator)
            else:
                loss, _ = stage.loss(model, collate(items, device), generator)
            total += float(loss) * len(items)
            count += len(items)
    model.train(was_training)
    return total / max(count, 1)


def _stats_dataset(dataset_cls, data_root: Path, streams: tuple[str, ...], crop_frames: int | None):
    """The TRAIN split as full clips in a fixed order (for statistics over the training set); where
    clips differ in length (REACT 2025/2026), the first ``crop_frames`` of every clip that long."""
    return dataset_cls(data_root, "train", streams, train=False, item_frames=crop_frames)


def _copy_buffers(source: nn.Module, target: nn.Module) -> None:
    """Give ``target`` the buffers ``finish`` set on ``source`` (e.g. latent statistics)."""
    target_buffers = dict(target.named_buffers())
    for name, buffer in source.named_buffers():
        if name in target_buffers:
            target_buffers[name].copy_(buffer)


def _finish_best(method, stage, best_dir: Path, config, model_streams, data_root, streams, device, manifest) -> None:
    """Run the stage's completion on the best checkpoint's weights too and re-save it."""
    from reactdiff.data.dataset import ReactPairDataset

    best = load_checkpoint(best_dir)
    dims = {name: info["dim"] for name, info in model_streams.items()}
    kinds = {name: info["kind"] for name, info in model_streams.items()}
    ema_model = method.build(config.model, dims, kinds).to(device)
    raw_model = method.build(config.model, dims, kinds).to(device)
    load_weights(ema_model, best.weights(ema=True), best.directory / "model.safetensors")
    load_weights(raw_model, best.weights(ema=False), best.directory / "weights.safetensors")
    stage.finish(ema_model, _stats_dataset(ReactPairDataset, data_root, tuple(streams), config.crop_frames), device, config.batch_size)
    _copy_buffers(ema_model, raw_model)
    save_checkpoint(
        best_dir,
        method=method.name,
        method_version=method.version,
        stage=stage.name,
        step=best.step,
        model_config=config.model,
        train_config=config,
        streams=model_streams,
        ema_weights=dict(ema_model.state_dict()),
        raw_weights=dict(raw_model.state_dict()),
        extra_manifest=dict(manifest, best_val_loss=best.manifest.get("best_val_loss")),
    )


def _resume(method, last_dir: Path, model, optimizer, ema, context: DistributedContext, config: TrainConfig):
    """Load ``last_dir`` into the model, optimizer and EMA; restore the RNG. Returns (step,
    elapsed seconds, best val loss)."""
    checkpoint = load_checkpoint(last_dir)
    if checkpoint.method != method.name:
        raise ConfigError(f"{last_dir}: holds a {checkpoint.method} run, not {method.name}; use another --out")
    state = checkpoint.training_state
    if state is None:
        raise DataError(last_dir, "checkpoint has no training state to resume from")
    missing = [key for key in ("step", "elapsed_seconds", "best_val_loss", "ema_updates", "rng") if key not in state]
    if missing:
        raise DataError(last_dir / "training_state.json", f"incomplete training state (missing {', '.join(missing)}); cannot resume exactly")
    saved_model = from_dict(type(config.model), method.upgrade_config(checkpoint.model), prefix="model.")
    if saved_model != config.model:
        raise ConfigError(f"{last_dir}: the run was trained with other model settings; resume with the same --model.* flags or use another --out")
    load_weights(model, checkpoint.weights(ema=False), last_dir / "weights.safetensors")
    optimizer.load_state_dict(checkpoint.optimizer_state())
    if ema is not None:
        load_weights(ema.module, checkpoint.weights(ema=True), last_dir / "model.safetensors")
        ema.updates = int(state["ema_updates"])
    if context.is_main:
        set_rng_state(state["rng"])
    else:
        # Only rank 0's RNG was saved; the other ranks start fresh streams of their own.
        torch.manual_seed(config.seed + context.rank + 1_000_003 * state["step"])
    return int(state["step"]), float(state["elapsed_seconds"]), state["best_val_loss"]

