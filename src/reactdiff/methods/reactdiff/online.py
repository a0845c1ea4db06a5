"""Online ReactDiff, one listener window at a time: the one code path of both the live session
(:mod:`reactdiff.streaming`) and offline generation of an online checkpoint.

Listener window w is conditioned on the raw speaker latents of windows w - context_windows ..
w - 1 (zeros before the clip), so it can be sampled the moment speaker window w - 1 is complete.
Offline generation of an online checkpoint runs the same steps, speaker by speaker, in the same
tensor shapes as the stream: CPU BLAS rounds the last bits of a matrix product differently by
batch size (a 1-row product differs from a 750-row one by ~1e-7), so batching the windows of a
clip would make the offline numbers close to, but not exactly, what a live listener does. With
this path they are bit-identical (tests/test_streaming.py), so the benchmark's online numbers are
the live agent's. It costs offline speed: windows are sampled one after another.
"""

from __future__ import annotations

from collections import deque

import torch

from reactdiff.diffusion.samplers import draw_noise
from reactdiff.methods.outputs import postprocess_emotion


class OnlineWindows:
    """The carried state of one online speaker: the last ``context_windows`` raw speaker latent
    windows and the per-sample initial noise window (``diffusion.clip_noise``)."""

    def __init__(self, net, num_samples: int, generator: torch.Generator | None, *, steps=None, eta=None,
                 sampler: str = "ddim", x_T: torch.Tensor | None = None, decoder_dropout: bool = False,
                 guidance: float | None = None):
        config = net.config
        if not config.diffusion.online:
            raise ValueError("OnlineWindows needs an online model (diffusion.online true)")
        self.net = net
        self.num_samples = num_samples
        self.generator = generator
        self.options = {"steps": steps, "eta": eta, "sampler": sampler, "guidance": guidance}
        self.decoder_dropout = decoder_dropout
        self.window = int(net.window)
        device = next(net.parameters()).device
        latent = config.autoencoder.latent_dim
        span = config.diffusion.context_windows
        self.context = deque([torch.zeros(1, self.window, latent, device=device) for _ in range(span)], maxlen=span)
        if x_T is None and config.diffusion.clip_noise:
            # The clip call's first (and, at eta 0, only) draw: one noise window per sample.
            x_T = draw_noise((1, num_samples, 1, self.window, latent), generator, device, torch.float32)
        self.x_T = x_T
        #: Listener windows produced so far (the clip window the next one is).
        self.windows_out = 0

    @torch.no_grad()
    def push(self, speaker_window: dict[str, torch.Tensor]) -> None:
        """Add one complete speaker window ``{stream: (1, window, D)}``."""
        # A fresh copy of each window: small-batch CPU kernels round differently by the data's memory
        # alignment, and a window sliced out of a longer buffer (a clip, a stream's pending frames)
        # starts wherever the slice does. torch allocates every copy on the same alignment.
        self.context.append(self.net.encode({name: value.clone() for name, value in speaker_window.items()}))

    @torch.no_grad()
    def next_window(self) -> dict[str, torch.Tensor]:
        """The next listener window of every sample: ``{"emotion": (K, window, 25), "coeffs_3dmm": (K, window, 58)}``
        (emotion post-processed into the data's ranges)."""
        condition = torch.cat(list(self.context), dim=1).unsqueeze(1)  # (1, 1, span * window, latent)
        latent = self.net.sample_windows(condition, self.num_samples, generator=self.generator, x_T=self.x_T,
                                         first_window=self.windows_out, **self.options)
        decoded = self.net.decode_generated(latent.reshape(self.num_samples, self.window, -1), self.decoder_dropout, self.generator)
        decoded["emotion"] = postprocess_emotion(decoded["emotion"])
        self.windows_out += 1
        return decoded


@torch.no_grad()
def sample_online(net, speaker_streams: dict[str, torch.Tensor], num_samples: int, generator: torch.Generator | None,
                  **options) -> dict[str, torch.Tensor]:
    """Whole clips (B, T, D) of an online model, window by window as a live session runs them:
    ``{"emotion": (B, K, T, 25), "coeffs_3dmm": (B, K, T, 58)}``; T a multiple of the window.

    With ``clip_noise`` every speaker's initial noise windows are drawn first, in one call of shape
    (B, K, 1, window, latent): for B = 1 exactly the session's draw."""
    batch, frames = next(iter(speaker_streams.values())).shape[:2]
    window = int(net.window)
    if frames % window:
        raise ValueError(f"sequence of {frames} frames is not a multiple of the {window}-frame window")
    config = net.config
    device = next(net.parameters()).device
    x_T = None
    if config.diffusion.clip_noise:
        x_T = draw_noise((batch, num_samples, 1, window, config.autoencoder.latent_dim), generator, device, torch.float32)
    rows = []
    for b in range(batch):
        runner = OnlineWindows(net, num_samples, generator, x_T=None if x_T is None else x_T[b : b + 1], **options)
        windows = []
        for w in range(frames // window):
            windows.append(runner.next_window())
            if (w + 1) * window < frames:  # the last speaker window conditions no listener window
                runner.push({name: value[b : b + 1, w * window : (w + 1) * window] for name, value in speaker_streams.items()})
        rows.append({name: torch.cat([part[name] for part in windows], dim=1) for name in windows[0]})
    return {name: torch.stack([row[name] for row in rows]) for name in rows[0]}
