"""The synthetic dyadic corpus: speakers drawn from behaviour prototypes and listeners reacting
with human-like lags in one of several modes, written in the REACT 2024 layout (docs/synthetic.md).

    from reactdiff.synth import SynthConfig, write_dataset
    write_dataset("data/synth", SynthConfig(preset="tiny", seed=0))
"""

from reactdiff.synth.settings import SynthConfig
from reactdiff.synth.writer import write_dataset

__all__ = ["SynthConfig", "write_dataset"]
