"""reactdiff: listener facial reaction generation (ReactDiff) with the REACT data layer,
metrics, a synthetic dyadic corpus, feature extraction and rendering."""

__version__ = "0.1.0"
