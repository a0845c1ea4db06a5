"""The ``official`` protocol reproduces the published REACT evaluation on the reference cases, and
the compiled DTW equals its textbook definition."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from reactdiff.metrics import dtw, evaluate, frsyn, min_dtw
from reactdiff.metrics.dtw import FRDIST_GROUPS, definition_dtw

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference" / "metrics"
CASES = sorted(path.stem for path in REFERENCE.glob("*.json"))

#: Reference JSON key -> our result key (the *_loop values are the same metric from the serial loop).
OUR_NAME = {
    "FRCorr": "FRCorr",
    "FRCorr_loop": "FRCorr",
    "FRDist": "FRDist",
    "FRDist_loop": "FRDist",
    "FRDiv": "FRDiv",
    "FRVar": "FRVar",
    "FRDvs": "FRDvs",
    "FRSyn_first_prediction": "FRSyn",
    "FRSyn_all_predictions": "FRSyn_all_predictions",
}


def load_case(name: str):
    inputs = np.load(REFERENCE / f"{name}.npz")
    expected = json.loads((REFERENCE / f"{name}.json").read_text())
    return {key: inputs[key] for key in inputs.files}, expected


def test_reference_cases_present():
    assert len(CASES) >= 2, f"expected the reference cases in {REFERENCE}"


@pytest.mark.parametrize("case", CASES)
def test_official_protocol_matches_published_values(case):
    inputs, expected = load_case(case)
    scores = evaluate(
        inputs["predictions"], inputs["listener"], inputs["speaker"], inputs["neighbours"], protocol="official"
    )
    assert scores["protocol"] == "official"
    for key, value in expected.items():
        assert key in OUR_NAME, f"reference value {key} has no counterpart"
        assert scores[OUR_NAME[key]] == pytest.approx(value, rel=1e-5), key
    reactions = inputs["predictions"].shape[1]
    assert scores["FRCorr_per_reaction"] == pytest.approx(expected["FRCorr"] / reactions, rel=1e-5)
    assert scores["FRDist_per_reaction"] == pytest.approx(expected["FRDist"] / reactions, rel=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("case", CASES)
def test_gpu_matches_cpu(case):
    inputs, _ = load_case(case)
    args = (inputs["predictions"], inputs["listener"], inputs["speaker"], inputs["neighbours"])
    for protocol in ("official", "corrected"):
        cpu = evaluate(*args, protocol=protocol, device="cpu")
        gpu = evaluate(*args, protocol=protocol, device="cuda")
        for key, value in cpu.items():
            if isinstance(value, float):
                assert gpu[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key


@pytest.mark.parametrize("channels", [1, 2, 8, 15])
# The kernel walks the grid two rows at a time: odd and even query lengths, a single row, a single
# column and a query longer than the reference all take different paths through it.
@pytest.mark.parametrize("lengths", [(37, 45), (38, 45), (1, 9), (2, 1), (60, 7)])
def test_dtw_equals_definition(channels, lengths):
    rng = np.random.default_rng(channels)
    query = rng.random((lengths[0], channels)).astype(np.float32)
    reference = rng.random((lengths[1], channels)).astype(np.float32)
    assert dtw(query, reference) == definition_dtw(query, reference)
    assert dtw(query, query) == 0.0


def test_grouped_minimum_with_abandoning_equals_brute_force():
    rng = np.random.default_rng(0)
    # Smooth, distinct sequences so that early abandoning actually triggers.
    predictions = np.cumsum(rng.normal(size=(3, 2, 40, 25)), axis=2).astype(np.float32) * 0.1
    listener = np.cumsum(rng.normal(size=(3, 40, 25)), axis=1).astype(np.float32) * 0.1
    neighbours = np.array([[1, 1, 1], [0, 1, 1], [1, 0, 1]])
    result = min_dtw(predictions, listener, neighbours)
    for row in range(3):
        for reaction in range(2):
            candidates = [
                sum(
                    weight * definition_dtw(predictions[row, reaction][:, start:stop], listener[j][:, start:stop])
                    for start, stop, weight in FRDIST_GROUPS
                )
                for j in np.flatnonzero(neighbours[row])
            ]
            assert result[row, reaction] == pytest.approx(min(candidates), rel=1e-12)


def test_frsyn_first_and_all_reactions_differ_only_in_selection():
    inputs, expected = load_case(CASES[0])
    first = frsyn(inputs["predictions"], inputs["speaker"], "official")
    everything = frsyn(inputs["predictions"], inputs["speaker"], "official", all_reactions=True)
    assert first == pytest.approx(expected["FRSyn_first_prediction"], rel=1e-5)
    assert everything == pytest.approx(expected["FRSyn_all_predictions"], rel=1e-5)


def test_repeated_reactions_get_the_same_minimum_as_computed_alone():
    rng = np.random.default_rng(1)
    predictions = np.cumsum(rng.normal(size=(2, 3, 30, 25)), axis=2).astype(np.float32) * 0.1
    predictions[:, 1] = predictions[:, 0]  # a copied reaction is computed once
    listener = np.cumsum(rng.normal(size=(2, 30, 25)), axis=1).astype(np.float32) * 0.1
    neighbours = np.ones((2, 2))
    together = min_dtw(predictions, listener, neighbours)
    alone = np.concatenate([min_dtw(predictions[:, i : i + 1], listener, neighbours) for i in range(3)], axis=1)
    np.testing.assert_array_equal(together, alone)
    assert together[0, 0] == together[0, 1] != together[0, 2]
