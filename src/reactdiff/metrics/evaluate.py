"""The whole REACT evaluation in one call, under the ``official`` or ``corrected`` protocol."""

from __future__ import annotations

from typing import Any

import numpy as np

from reactdiff.device import resolve_device
from reactdiff.metrics.appropriateness import best_ccc_protocols, min_dtw
from reactdiff.metrics.diversity import diversity
from reactdiff.metrics.realism import frechet_distances
from reactdiff.metrics.synchrony import tlcc_offsets_protocols
from reactdiff.metrics.validation import (
    STACKED_PROTOCOLS,
    check_neighbours,
    check_predictions,
    check_protocol,
    check_sequences,
)

#: The protocols ``evaluate`` computes (stacked arrays, 2024 neighbour matrix); ALL_PROTOCOLS adds
#: ``react2025``, computed by ``reactdiff.metrics.react2025.evaluate_react2025`` on lists of items.
PROTOCOLS = STACKED_PROTOCOLS

#: What each protocol means, printed with every result it produced.
PROTOCOL_NOTES = {
    "official": (
        "official: the published REACT evaluation, quirks included: FRCorr and FRDist sum over the K "
        "reactions; a channel constant in either sequence scores CCC 0 (even when both agree); FRSyn "
        "scores only the first reaction, and a channel constant inside a lag window turns the offset to "
        "49 (NaN argmax); FRSyn_all_predictions is the single-process variant over all K."
    ),
    "corrected": (
        "corrected: CCC from the covariance (identical constant channels score 1); FRSyn over all K "
        "reactions, constant channels left out of each lag's mean, reactions with no usable lag counted "
        "in FRSyn_no_valid_lag instead of scored 49."
    ),
    "react2025": (
        "react2025: the REACT 2025/2026 (MARS) evaluation as its code computes it, on items of any length: "
        "prediction AU columns rounded half-to-even (data_clamp); ground truths aligned to the prediction "
        "length; FRCorr = FRC (sum over K of the best CCC over the item's ground truths, a constant channel "
        "scores 0), FRDist = FRD (sum over K of the smallest DTW(AU)/15 + DTW(VA) + DTW(expr)/8), "
        "FRDiv = smse, FRVar (ddof 1, each item weighted equally), FRSyn = TLCC on the first prediction only, "
        "lags -49..49 (the 25 fps default kept on 30 fps data); all means over items. FRDvs is not computed "
        "(the 2025 code dropped it: items differ in length) and FRRea is not part of the 2025 evaluation code."
    ),
}
REALISM_NOTE = (
    "FD-* are Frechet distances between Gaussian fits of generated and real emotion / 3DMM features "
    "(per frame, and per 2 s window: mean, std, mean |change|); they are not the challenge's FRRea."
)


def evaluate_protocols(
    predictions,
    listener,
    speaker,
    neighbours,
    protocols=PROTOCOLS,
    coeffs_3dmm=None,
    listener_3dmm=None,
    device: str = "cpu",
) -> dict[str, dict[str, Any]]:
    """``evaluate`` under several protocols at once; metrics the protocols share (FRDist, diversity,
    Frechet distances) are computed once. Returns ``{protocol: results}``."""
    protocols = tuple(check_protocol(protocol) for protocol in protocols)
    device = str(resolve_device(device))
    # Validate everything before the expensive parts run.
    predictions = check_predictions(predictions, min_samples=2)
    listener = check_sequences(listener, predictions, "listener")
    speaker = check_sequences(speaker, predictions, "speaker")
    neighbours = check_neighbours(neighbours, predictions.shape[0])
    if (coeffs_3dmm is None) != (listener_3dmm is None):
        raise ValueError("pass both coeffs_3dmm (generated) and listener_3dmm (real), or neither")
    if coeffs_3dmm is not None:
        coeffs_3dmm = check_predictions(coeffs_3dmm, name="coeffs_3dmm")
        if coeffs_3dmm.shape[:3] != predictions.shape[:3]:
            raise ValueError(f"coeffs_3dmm has shape {coeffs_3dmm.shape}, expected {predictions.shape[:3]} + (58,)")
        listener_3dmm = check_sequences(listener_3dmm, coeffs_3dmm, "listener_3dmm")

    reactions = predictions.shape[1]
    dtw_sums = min_dtw(predictions, listener, neighbours, device).sum(axis=1)
    shared = {
        "FRDist": float(dtw_sums.mean()),
        "FRDist_per_reaction": float(dtw_sums.mean() / reactions),
        **diversity(predictions, device),
    }
    shared.update(frechet_distances(predictions, listener, "emotion", device))
    if coeffs_3dmm is not None:
        shared.update(frechet_distances(coeffs_3dmm, listener_3dmm, "3dmm", device))

    # Each protocol's FRCorr and FRSyn differ only in the last step: the covariances and the lagged
    # correlations are computed once for all of them.
    best = best_ccc_protocols(predictions, listener, neighbours, protocols, device)
    all_offsets = tlcc_offsets_protocols(predictions, speaker, protocols, device)
    results = {}
    for protocol in protocols:
        ccc_sums = best[protocol].sum(axis=1)
        offsets = all_offsets[protocol]
        scores: dict[str, Any] = {
            "protocol": protocol,
            "FRCorr": float(ccc_sums.mean()),
            "FRCorr_per_reaction": float(ccc_sums.mean() / reactions),
            "FRDist": shared["FRDist"],
            "FRDist_per_reaction": shared["FRDist_per_reaction"],
        }
        if protocol == "official":
            scores["FRSyn"] = float(offsets[:, 0].mean())
            scores["FRSyn_all_predictions"] = float(offsets.mean())
        else:
            usable = ~np.isnan(offsets)
            scores["FRSyn"] = float(offsets[usable].mean()) if usable.any() else float("nan")
            scores["FRSyn_no_valid_lag"] = int((~usable).sum())
        scores.update({name: value for name, value in shared.items() if not name.startswith("FRDist")})
        scores["num_speakers"] = int(predictions.shape[0])
        scores["num_reactions"] = int(reactions)
        scores["notes"] = [PROTOCOL_NOTES[protocol], REALISM_NOTE]
        results[protocol] = scores
    return results


def evaluate(
    predictions,
    listener,
    speaker,
    neighbours,
    protocol: str = "corrected",
    coeffs_3dmm=None,
    listener_3dmm=None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Every REACT metric for predictions (N, K, T, 25) against listener / speaker emotion (N, T, 25)
    in evaluation order and the (N, N) appropriateness matrix.

    Returns a flat dict: metric name -> value, plus ``protocol`` and ``notes`` (what the protocol
    means). With ``coeffs_3dmm`` (N, K, T, 58) and ``listener_3dmm`` (N, T, 58) it adds the 3DMM
    Frechet distances. ``device`` runs the metrics on "cpu", "cuda" or "auto"; FRDist's DTW runs in the
    compiled CPU kernel on "cpu" and in the torch wavefront kernel on a GPU.
    """
    return evaluate_protocols(
        predictions, listener, speaker, neighbours, (protocol,), coeffs_3dmm, listener_3dmm, device
    )[protocol]
