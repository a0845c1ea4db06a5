"""Settings of the synthetic corpus (``reactdiff synth``) and its size presets: REACT 2024 layout
(tiny, small, react2024) or REACT 2025/2026 MARS layout (mars-tiny, mars-small)."""

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
    # MARS layout: dyad stems (one speaker + one listener file each) per split.
    "mars-tiny": (9, 6, 6),
    # About the frame count of "small" (mean length ~1200 frames at 30 fps).
    "mars-small": (30, 10, 10),
}

#: Frame rate of the MARS layout (REACT 2025/2026).
MARS_FPS = 30


@dataclass(frozen=True)
class MarsPreset:
    """Shape of a MARS-layout preset: dyads per session folder and clip lengths (frames, 30 fps)."""

    dyads_per_session: tuple[int, int]
    lengths: tuple[int, int]


MARS_PRESETS: dict[str, MarsPreset] = {
    "mars-tiny": MarsPreset(dyads_per_session=(3, 4), lengths=(90, 450)),
    "mars-small": MarsPreset(dyads_per_session=(3, 6), lengths=(300, 3000)),
}
#: Settings that only the MARS presets use; left out of a 2024 corpus's synth_config.json so the
#: 2024 presets keep writing the bytes they always wrote.
MARS_ONLY_SETTINGS = ("lengths", "personality", "eeg")

#: 30 s clips per NoXI-like session of each preset (real NoXI sessions hold dozens of clips).
PRESET_CLIPS_PER_SESSION: dict[str, int] = {"tiny": 2, "small": 6, "react2024": 24}


@dataclass
class SynthConfig:
    """Everything that determines the bytes of a synthetic dataset (same config, same bytes)."""

    #: Size preset: tiny (tests), small (demo, benchmarks), react2024 (real split sizes) in the
    #: REACT 2024 layout; mars-tiny (tests), mars-small (demo) in the REACT 2025/2026 MARS layout.
    preset: Literal["tiny", "small", "react2024", "mars-tiny", "mars-small"] = "small"
    #: Master seed; every clip draws from its own stream derived from it, so runs resume exactly.
    seed: int = 0
    #: Audio sample rate in Hz (real REACT audio is 44.1 kHz; 16 kHz keeps the corpus small).
    sample_rate: int = 16000
    #: Pairs per split (train, val, test; dyad stems for MARS presets); empty means the preset's sizes.
    pairs: tuple[int, ...] = ()
    #: Share of each split's pairs recorded at the RECOLA-like site (the rest are NoXI-like).
    recola_fraction: float = 0.15
    #: Also render every clip's face to an mp4 with its audio muxed in (slow).
    video: bool = False
    #: Rendered video size in pixels (REACT 2024 videos are 256x256, MARS face crops 384x384).
    video_size: int = 256
    #: MARS presets only: shortest and longest clip in frames at 30 fps; empty means the preset's.
    lengths: tuple[int, ...] = ()
    #: MARS presets only: write the REACT 2026 Big-Five tables personality/{listener,speaker}.csv.
    personality: bool = False
    #: MARS presets only: write REACT 2026 EEG tables eeg_processed/<role>/<session>/<stem>.csv.
    eeg: bool = False

    @property
    def is_mars(self) -> bool:
        """Whether the preset writes the MARS (REACT 2025/2026) layout."""
        return self.preset in MARS_PRESETS

    @property
    def fps(self) -> int:
        from reactdiff.constants import FPS

        return MARS_FPS if self.is_mars else FPS

    def clip_lengths(self) -> tuple[int, int]:
        """Shortest and longest MARS clip (frames) after applying the preset and ``lengths``."""
        from reactdiff.errors import ConfigError

        if not self.lengths:
            return MARS_PRESETS[self.preset].lengths
        if len(self.lengths) != 2 or not 30 <= self.lengths[0] <= self.lengths[1]:
            raise ConfigError(
                f"lengths: expected [shortest, longest] clip frames with 30 <= shortest <= longest, got {list(self.lengths)}"
            )
        return (self.lengths[0], self.lengths[1])

    def stored(self) -> dict:
        """The settings as saved in synth_config.json (2024 presets without the MARS-only keys)."""
        from reactdiff.config import to_dict

        data = to_dict(self)
        if not self.is_mars:
            for key in MARS_ONLY_SETTINGS:
                data.pop(key)
        return data

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
        if self.is_mars:
            self.clip_lengths()
        else:
            extras = [key for key, value in (("lengths", self.lengths), ("personality", self.personality), ("eeg", self.eeg)) if value]
            if extras:
                raise ConfigError(
                    f"{', '.join(extras)}: only the MARS presets (--preset mars-tiny or mars-small) write "
                    f"REACT 2025/2026 files; preset {self.preset!r} writes the REACT 2024 layout"
                )
        return self
