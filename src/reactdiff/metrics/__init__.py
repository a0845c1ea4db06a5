"""The REACT evaluation suite: appropriateness (FRCorr, FRDist), diversity (FRDiv, FRVar, FRDvs),
synchrony (FRSyn) and Frechet-distance realism substitutes, under the ``official`` protocol (the
published numbers, quirks included) or the ``corrected`` one. See docs/metrics.md.

    from reactdiff.metrics import evaluate
    scores = evaluate(predictions, listener, speaker, neighbours, protocol="corrected")

REACT 2025/2026 (MARS, items of any length, lists of ground truths of any length):

    from reactdiff.metrics import evaluate_react2025
    scores = evaluate_react2025(predictions, appropriate, speaker, alignment="index_emulation")
"""

from reactdiff.metrics.alignment import ALIGNMENTS, DEFAULT_ALIGNMENT, align_ground_truth
from reactdiff.metrics.appropriateness import best_ccc, best_ccc_protocols, frcorr, frdist, min_dtw
from reactdiff.metrics.ccc import ccc
from reactdiff.metrics.diversity import diversity, frdiv, frdvs, frvar
from reactdiff.metrics.dtw import dtw
from reactdiff.metrics.evaluate import PROTOCOLS, evaluate, evaluate_protocols
from reactdiff.metrics.react2025 import TLCC_VARIANTS, evaluate_react2025
from reactdiff.metrics.realism import frechet_distance, frechet_distances
from reactdiff.metrics.synchrony import frsyn, tlcc_offsets, tlcc_offsets_protocols
from reactdiff.metrics.validation import ALL_PROTOCOLS, MetricInputError

__all__ = [
    "ALIGNMENTS",
    "ALL_PROTOCOLS",
    "DEFAULT_ALIGNMENT",
    "PROTOCOLS",
    "TLCC_VARIANTS",
    "MetricInputError",
    "align_ground_truth",
    "best_ccc",
    "best_ccc_protocols",
    "ccc",
    "diversity",
    "dtw",
    "evaluate",
    "evaluate_protocols",
    "evaluate_react2025",
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
    "tlcc_offsets_protocols",
]
