"""The original's way of generating online, kept only as the reference that the benchmark
(benchmarks/bench_reactface.py) and the tests measure ReactFace's stateful generation against:
at every window the speaker prefix [0, end) is encoded again from scratch and the whole listener
history is fused again, so a clip of T frames costs time growing with T^2 (``evaluate.py``'s
``inference_step``). With ReactFace's causal layers it computes the same reactions as
:meth:`~reactdiff.methods.reactface.model.ReactFaceModel.react`."""

from __future__ import annotations

from typing import Mapping

import torch

from reactdiff.methods.reactface.model import ReactFaceModel


@torch.no_grad()
def react_reencoding(model: ReactFaceModel, speaker: Mapping[str, torch.Tensor], generator, num_samples: int = 1,
                     momentum: float | None = None) -> dict:
    """Raw ``coeffs_3dmm`` (B*K, T, 58) and ``emotion`` (B*K, T, 25), re-encoding every prefix."""
    momentum = model.config.momentum if momentum is None else momentum
    frames, window = next(iter(speaker.values())).shape[1], model.window
    state = None
    coeffs, emotion = [], []
    for end in range(window, frames + 1, window):
        motion, audio, _, _ = model.encode_speaker({name: value[:, :end] for name, value in speaker.items()})
        motion, audio = motion[:, -window:].repeat_interleave(num_samples, 0), audio[:, -window:].repeat_interleave(num_samples, 0)
        if state is None:
            state = model.start_listener(motion.shape[0], motion.device)
            history = {key: state[key] for key in ("past", "past_audio", "past_motion")}
        fused, _ = model.fusion(history["past"], history["past_audio"], history["past_motion"], 0)
        state["z"], memory, _ = model.latent_memory(fused[:, -window:], state["z"], generator, momentum)
        c, e = model.decoder(memory, audio, motion)
        for key, value in (("past", c), ("past_audio", audio), ("past_motion", motion)):
            history[key] = torch.cat([history[key], value], dim=1)
        coeffs.append(c)
        emotion.append(e)
    return {"coeffs_3dmm": torch.cat(coeffs, 1), "emotion": torch.cat(emotion, 1)}
