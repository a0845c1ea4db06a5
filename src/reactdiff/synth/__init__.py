"""The synthetic dyadic corpus: speakers drawn from behaviour prototypes and listeners reacting
with human-like lags in one of several modes, written in the REACT 2024 layout (docs/synthetic.md).

    from reactdiff.synth import SynthConfig, write_dataset
    write_dataset("data/synth", SynthConfig(preset="tiny", seed=0))
"""

from reactdiff.synth.settings import SynthConfig

__all__ = ["SynthConfig", "write_dataset"]


def __getattr__(name: str):
    # The writer pulls in scipy and the generators; import it only when used, so that
    # `reactdiff --help` (which imports the settings for the synth flags) stays fast.
    if name == "write_dataset":
        from reactdiff.synth.writer import write_dataset

        return write_dataset
    raise AttributeError(f"module 'reactdiff.synth' has no attribute {name!r}")
