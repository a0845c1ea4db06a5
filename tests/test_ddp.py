"""Data-parallel training: two CPU processes (gloo) run the real training loop as torchrun would
launch them; after the steps both ranks hold identical weights, and only rank 0 wrote files."""

from __future__ import annotations

import os
import socket

import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file
from test_train import random_corpus, tiny_model, tiny_train_config

from reactdiff.methods.reactdiff.method import METHOD
from reactdiff.methods.reactdiff.stage_autoencoder import AutoencoderStage
from reactdiff.checkpoint import load_checkpoint
from reactdiff.train.loop import train

WORLD_SIZE = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rank_main(rank: int, port: int, data, out, results) -> None:
    # What torchrun sets for each process.
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(WORLD_SIZE), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    # Different initial weights per rank: DDP must start every rank from rank 0's.
    model = tiny_model(seed=rank)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(results / f"initial{rank}.safetensors"))
    train(METHOD, AutoencoderStage(), tiny_train_config(steps=2, val_every=2), data, out, model=model)
    weights = {name: parameter.detach().contiguous() for name, parameter in model.named_parameters()}
    save_file(weights, str(results / f"rank{rank}.safetensors"))


def test_two_ranks_hold_identical_weights_after_training(tmp_path):
    data = random_corpus(tmp_path / "data", pairs={"train": 2, "val": 1})
    results = tmp_path / "results"
    results.mkdir()
    mp.spawn(_rank_main, args=(_free_port(), data, tmp_path / "run", results), nprocs=WORLD_SIZE, join=True)
    rank0, rank1 = (load_file(results / f"rank{rank}.safetensors") for rank in range(WORLD_SIZE))
    initial0 = load_file(results / "initial0.safetensors")
    assert rank0.keys() == rank1.keys()
    changed = 0
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
        changed += not torch.equal(rank0[name], initial0[name])
    assert changed > 0, "no parameter moved: no training step happened"
    assert load_checkpoint(tmp_path / "run" / "last").step == 2
    assert len(list((tmp_path / "run" / "logs").iterdir())) == 1  # one writer: rank 0
