"""The REACT evaluation suite: appropriateness (FRCorr, FRDist), diversity (FRDiv, FRVar, FRDvs),
synchrony (FRSyn) and Frechet-distance realism substitutes, under the ``official`` protocol (the
published numbers, quirks included) or the ``corrected`` one. See docs/metrics.md.

    from reactdiff.metrics import evaluate
    scores = evaluate(predictions, listener, speaker, neighbours, protocol="corrected")
"""

from reactdiff.metrics.appropriateness import best_ccc, frcorr, frdist, min_dtw
from reactdiff.metrics.ccc import ccc
from reactdiff.metrics.diversity import frdiv, frdvs, frvar
from reactdiff.metrics.dtw import dtw
from reactdiff.metrics.evaluate import PROTOCOLS, evaluate, evaluate_protocols
from reactdiff.metrics.realism import frechet_distance, frechet_distances
from reactdiff.metrics.synchrony import frsyn, tlcc_offsets
from reactdiff.metrics.validation import MetricInputError

__all__ = [
    "PROTOCOLS",
    "MetricInputError",
    "best_ccc",
    "ccc",
    "dtw",
    "evaluate",
    "evaluate_protocols",
    "frcorr",
    "frdist",
    "frdiv",
    "frdvs",
    "frechet_distance",
    "frechet_distances",
    "frsyn",
    "frvar",
    "min_dtw",
    "tlcc_offsets",
]
