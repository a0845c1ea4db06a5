"""Settings of the synthetic corpus (``reactdiff synth``) and its size presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Pairs per split (train, val, test) of each preset.
PRESET_PAIRS: dict[str, tuple[int, int, int]] = {
    # A handful of pairs: seconds to generate, for tests.
    "tiny": (6, 3, 3),
    # Default for the demo and benchmarks: minutes of CPU training, about 180 MB on disk.
    "small": (44, 14, 14),
    # The REACT 2024 split sizes.
    "react2024": (1593, 562, 807),
}

#: 30 s clips per NoXI-like session of each preset (real NoXI sessions hold dozens of clips).
PRESET_CLIPS_PER_SESSION: dict[str, int] = {"tiny": 2, "small": 6, "react2024": 24}


@dataclass
class SynthConfig:
    """Everything that determines the bytes of a synthetic dataset (same config, same bytes)."""

    #: Size preset: tiny (tests), small (demo, benchmarks), react2024 (real split sizes).
    preset: Literal["tiny", "small", "react2024"] = "small"
    #: Master seed; every clip draws from its own stream derived from it, so runs resume exactly.
    seed: int = 0
    #: Audio sample rate in Hz (real REACT audio is 44.1 kHz; 16 kHz keeps the corpus small).
    sample_rate: int = 16000
    #: Pairs per split (train, val, test); empty means the preset's sizes.
    pairs: tuple[int, ...] = ()
    #: Share of each split's pairs recorded at the RECOLA-like site (the rest are NoXI-like).
    recola_fraction: float = 0.15
    #: Also render every clip's face to an mp4 with its audio muxed in (slow).
    video: bool = False
    #: Rendered video size in pixels (REACT videos are 256x256).
    video_size: int = 256

    def split_pairs(self) -> tuple[int, int, int]:
        """Pairs per split after applying the preset and the ``pairs`` override."""
        from reactdiff.errors import ConfigError

        if not self.pairs:
            return PRESET_PAIRS[self.preset]
        if len(self.pairs) != 3 or min(self.pairs) < 1:
            raise ConfigError(f"pairs: expected three positive counts (train, val, test), got {list(self.pairs)}")
        return (self.pairs[0], self.pairs[1], self.pairs[2])

    def validate(self) -> "SynthConfig":
        """Raise ConfigError on values that cannot make a dataset."""
        from reactdiff.errors import ConfigError

        if not 8000 <= self.sample_rate <= 96000:
            raise ConfigError(f"sample_rate: {self.sample_rate} Hz is outside 8000..96000")
        if not 0.0 <= self.recola_fraction <= 1.0:
            raise ConfigError(f"recola_fraction: {self.recola_fraction} is outside [0, 1]")
        if self.video_size < 32:
            raise ConfigError(f"video_size: {self.video_size} is below 32 pixels")
        self.split_pairs()
        return self
