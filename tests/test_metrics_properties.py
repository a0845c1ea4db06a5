"""Properties of the metrics (mostly under the corrected protocol) and input validation."""

from __future__ import annotations

import numpy as np
import pytest

from reactdiff.trivial import BASELINES, baseline_reactions
from reactdiff.metrics import (
    MetricInputError,
    best_ccc,
    ccc,
    best_ccc_protocols,
    diversity,
    evaluate,
    evaluate_protocols,
    frcorr,
    frdiv,
    frdist,
    frdvs,
    frechet_distance,
    frechet_distances,
    frsyn,
    frvar,
    tlcc_offsets,
    tlcc_offsets_protocols,
)
from reactdiff.metrics.validation import MIN_SYNCHRONY_FRAMES

FRAMES = 120


def smooth(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Smooth random sequences (random walks over the time axis -2), float32."""
    return (np.cumsum(rng.normal(size=shape), axis=-2) * 0.1).astype(np.float32)


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    n, k = 6, 3
    listener = smooth(rng, (n, FRAMES, 25))
    speaker = smooth(rng, (n, FRAMES, 25))
    predictions = smooth(rng, (n, k, FRAMES, 25))
    neighbours = np.eye(n, dtype=np.int64)
    neighbours[0, 3] = neighbours[4, 1] = 1
    return predictions, listener, speaker, neighbours


@pytest.fixture
def many():
    """More rows than one CPU batch of any metric holds (and not a multiple of one), a channel
    constant in every prediction, and rows with several appropriate reactions."""
    rng = np.random.default_rng(11)
    n, k = 11, 3
    listener = smooth(rng, (n, FRAMES, 25))
    speaker = smooth(rng, (n, FRAMES, 25))
    predictions = smooth(rng, (n, k, FRAMES, 25))
    predictions[:, :, :, 4] = 0.0
    neighbours = np.eye(n, dtype=np.int64)
    neighbours[0, [3, 7]] = neighbours[9, [1, 2, 10]] = neighbours[5, 6] = 1
    return predictions, listener, speaker, neighbours


def ground_truth_copies(listener: np.ndarray, k: int) -> np.ndarray:
    return np.repeat(listener[:, None], k, axis=1)


# -- CCC ---------------------------------------------------------------------------------------


def test_ccc_identical_constant_channels_score_one_corrected_zero_official():
    rng = np.random.default_rng(0)
    sequence = rng.random((50, 4)).astype(np.float32)
    sequence[:, 2] = 0.0  # an AU that never fires
    assert ccc(sequence, sequence, "corrected") == pytest.approx(1.0)
    # Published quirk: the constant channel counts 0, the other three count 1.
    assert ccc(sequence, sequence, "official") == pytest.approx(0.75, abs=1e-6)


def test_ccc_disagreeing_constant_channels_score_zero():
    ones, zeros = np.ones((30, 1), np.float32), np.zeros((30, 1), np.float32)
    assert ccc(ones, zeros, "corrected") == 0.0
    assert ccc(ones, zeros, "official") == 0.0


def test_ccc_matches_formula_on_varying_channels():
    rng = np.random.default_rng(1)
    y, p = rng.random((80, 3)).astype(np.float32), rng.random((80, 3)).astype(np.float32)
    y, p = y.astype(np.float64), p.astype(np.float64)
    expected = np.mean(
        [
            2 * np.cov(y[:, c], p[:, c], bias=True)[0, 1] / (y[:, c].var() + p[:, c].var() + (y[:, c].mean() - p[:, c].mean()) ** 2)
            for c in range(3)
        ]
    )
    assert ccc(y, p, "corrected") == pytest.approx(expected, rel=1e-5)
    assert ccc(y, p, "official") == pytest.approx(expected, rel=1e-5)


# -- appropriateness ---------------------------------------------------------------------------


def test_ground_truth_scores_perfect_appropriateness(data):
    _, listener, _, neighbours = data
    listener = listener.copy()
    listener[:, :, 5] = 0.0  # a silent channel in every clip
    copies = ground_truth_copies(listener, 4)
    assert frdist(copies, listener, neighbours) == 0.0
    assert frcorr(copies, listener, neighbours, "corrected") == pytest.approx(4.0)
    # Official: the silent channel costs 1/25 of every reaction's CCC.
    assert frcorr(copies, listener, neighbours, "official") == pytest.approx(4.0 * 24 / 25, rel=1e-6)


def test_frcorr_takes_the_best_appropriate_reaction(data):
    predictions, listener, _, neighbours = data
    best = best_ccc(predictions, listener, neighbours, "corrected")
    row = 0
    candidates = [ccc(listener[j], predictions[row], "corrected") for j in np.flatnonzero(neighbours[row])]
    np.testing.assert_allclose(best[row], np.max(candidates, axis=0), rtol=1e-9)


# -- diversity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("inputs", ["data", "many"])
def test_diversity_identities_match_pairwise_definitions(inputs, request):
    predictions = request.getfixturevalue(inputs)[0].astype(np.float64)
    n, k, t, c = predictions.shape
    flat = predictions.reshape(n, k, -1)
    pairwise_k = ((flat[:, :, None] - flat[:, None]) ** 2).sum(-1)  # (N, K, K)
    assert frdiv(predictions) == pytest.approx((pairwise_k.sum((1, 2)) / (k * (k - 1) * t * c)).mean(), rel=1e-9)
    pairwise_n = ((flat[:, None] - flat[None]) ** 2).sum(-1)  # (N, N, K)
    assert frdvs(predictions) == pytest.approx(pairwise_n.sum() / (n * (n - 1) * k) / (t * c), rel=1e-9)
    assert frvar(predictions) == pytest.approx(predictions.var(axis=2, ddof=1).mean(), rel=1e-9)


def test_diversity_in_one_pass_equals_each_metric_alone(many):
    predictions = many[0]
    scores = diversity(predictions)
    assert list(scores) == ["FRDiv", "FRVar", "FRDvs"]
    assert scores["FRDiv"] == frdiv(predictions) and scores["FRVar"] == frvar(predictions)
    assert scores["FRDvs"] == frdvs(predictions)


def test_identical_reactions_have_no_diversity(data):
    _, listener, _, _ = data
    assert frdiv(ground_truth_copies(listener, 3)) == pytest.approx(0.0, abs=1e-12)


# -- synchrony ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lag", [0, 7, -12, 30])
def test_lagged_copy_of_speaker_gives_that_lag(lag):
    rng = np.random.default_rng(3)
    frames = 200
    speaker = smooth(rng, (2, frames + 60, 25))
    # The reaction at frame t repeats the speaker at frame t - lag.
    reaction = speaker[:, 30 - lag : 30 - lag + frames]
    speaker = speaker[:, 30 : 30 + frames]
    predictions = np.repeat(reaction[:, None], 2, axis=1)
    offsets = tlcc_offsets(predictions, speaker, "corrected")
    np.testing.assert_array_equal(offsets, abs(lag))
    assert frsyn(predictions, speaker, "official") == abs(lag)


def test_constant_channel_gives_published_offset_49_but_corrected_lag():
    rng = np.random.default_rng(4)
    speaker = smooth(rng, (1, 150, 25))
    reaction = speaker.copy()
    speaker[:, :, 3] = 0.0  # the speaker never shows this AU
    predictions = np.repeat(reaction[:, None], 2, axis=1)
    assert frsyn(predictions, speaker, "official") == 49.0
    assert frsyn(predictions, speaker, "corrected") == 0.0


def test_reaction_without_usable_lag_is_counted_not_scored():
    speaker = np.zeros((2, 120, 25), np.float32)
    predictions = np.random.default_rng(5).random((2, 2, 120, 25)).astype(np.float32)
    offsets = tlcc_offsets(predictions, speaker, "corrected")
    assert np.isnan(offsets).all()
    scores = evaluate(predictions, predictions[:, 0], speaker, np.eye(2), protocol="corrected")
    assert scores["FRSyn_no_valid_lag"] == 4 and np.isnan(scores["FRSyn"])


# -- realism -----------------------------------------------------------------------------------


def test_frechet_distance_of_shifted_gaussian_is_squared_shift():
    covariance = np.diag([1.0, 2.0, 0.0])
    assert frechet_distance(np.zeros(3), covariance, np.zeros(3), covariance) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(np.zeros(3), covariance, np.array([3.0, 4.0, 0.0]), covariance) == pytest.approx(25.0)


def test_frechet_distances_are_named_as_substitutes(data):
    predictions, listener, _, _ = data
    scores = frechet_distances(ground_truth_copies(listener, 1), listener, "emotion")
    assert set(scores) == {"FD-emotion-frame", "FD-emotion-window"}
    assert all(value == pytest.approx(0.0, abs=1e-6) for value in scores.values())
    assert frechet_distances(predictions, listener, "emotion")["FD-emotion-frame"] > 0.01


# -- the whole evaluation ----------------------------------------------------------------------


def test_evaluate_reports_protocol_and_per_reaction_values(data):
    predictions, listener, speaker, neighbours = data
    for protocol in ("official", "corrected"):
        scores = evaluate(predictions, listener, speaker, neighbours, protocol=protocol)
        assert scores["protocol"] == protocol and scores["notes"][0].startswith(protocol)
        assert scores["FRCorr_per_reaction"] == pytest.approx(scores["FRCorr"] / 3)
        assert scores["FRDist_per_reaction"] == pytest.approx(scores["FRDist"] / 3)
        assert not any(name.startswith("FRRea") for name in scores)


def test_both_protocols_at_once_equal_each_protocol_alone(many):
    predictions, listener, speaker, neighbours = many
    both = evaluate_protocols(predictions, listener, speaker, neighbours, ("official", "corrected"))
    for protocol in ("official", "corrected"):
        assert both[protocol] == evaluate(predictions, listener, speaker, neighbours, protocol=protocol)
    shared_ccc = best_ccc_protocols(predictions, listener, neighbours, ("official", "corrected"))
    shared_offsets = tlcc_offsets_protocols(predictions, speaker, ("corrected", "official"))
    for protocol in ("official", "corrected"):
        np.testing.assert_array_equal(shared_ccc[protocol], best_ccc(predictions, listener, neighbours, protocol))
        np.testing.assert_array_equal(shared_offsets[protocol], tlcc_offsets(predictions, speaker, protocol))
    # The constant channel separates the protocols (official CCC scores it 0, corrected does not).
    assert not np.array_equal(shared_ccc["official"], shared_ccc["corrected"])


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, l, s, m: (p[:, :, :100], l, s, m), "does not match the predictions"),
        (lambda p, l, s, m: (p, l[:4], s, m), "does not match the predictions"),
        (lambda p, l, s, m: (p[..., :24], l, s, m), "does not match"),
        (lambda p, l, s, m: (np.where(np.arange(25) == 3, np.nan, p), l, s, m), "NaN/inf"),
        (lambda p, l, s, m: (p, l, np.full_like(s, np.inf), m), "NaN/inf"),
        (lambda p, l, s, m: (p[:, :1], l, s, m), "at least 2 reactions"),
        (lambda p, l, s, m: (p, l, s, m[:5, :5]), "must have shape (6, 6)"),
        (lambda p, l, s, m: (p, l, s, m * 2), "only 0 and 1"),
        (lambda p, l, s, m: (p, l, s, m - np.eye(6, dtype=m.dtype)), "diagonal must be 1"),
    ],
)
def test_invalid_inputs_are_refused_with_a_clear_message(data, change, message):
    with pytest.raises(MetricInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluate(*change(*data))


def test_finite_values_at_the_float32_limit_pass_and_opposite_infinities_are_caught(data):
    predictions, listener, speaker, neighbours = data
    extreme = np.full_like(predictions, np.finfo(np.float32).max)
    assert np.isfinite(frvar(extreme))  # their float64 sum is finite: no false alarm
    opposite = predictions.copy()
    opposite[0, 0, 0, 0], opposite[5, 2, 7, 9] = np.inf, -np.inf  # they would cancel into NaN
    with pytest.raises(MetricInputError, match=r"2 NaN/inf values \(first at index \(0, 0, 0, 0\)\)"):
        frvar(opposite)


def test_sequences_shorter_than_the_synchrony_window_are_refused():
    rng = np.random.default_rng(6)
    frames = MIN_SYNCHRONY_FRAMES - 1
    with pytest.raises(MetricInputError, match=f"at least {MIN_SYNCHRONY_FRAMES} frames"):
        frsyn(rng.random((1, 2, frames, 25)), rng.random((1, frames, 25)))
    assert MIN_SYNCHRONY_FRAMES == 99


def test_metric_input_error_is_a_value_error():
    with pytest.raises(ValueError):
        frvar(np.zeros((2, 2, 10)))


# -- baselines ---------------------------------------------------------------------------------


def test_baselines_have_the_documented_shapes_and_ranges(data):
    _, listener, speaker, _ = data
    rng = np.random.default_rng(0)
    for name in BASELINES:
        reactions = baseline_reactions(name, speaker, listener, listener, 4, rng)
        assert reactions.shape == (6, 4, FRAMES, 25) and reactions.dtype == np.float32
    random = baseline_reactions("random", speaker, listener, listener, 4, rng)
    assert random[..., :15].min() >= 0 and random[..., :15].max() < 1
    assert random[..., 15:17].min() >= -1 and random[..., 15:17].max() < 1 and random[..., 15:17].min() < 0
    mean_frame = baseline_reactions("mean-frame", speaker, listener, listener, 2, rng)
    np.testing.assert_allclose(mean_frame[0, 0, 0], listener.mean(axis=(0, 1)), rtol=1e-5)
    assert (mean_frame == mean_frame[:, :, :1]).all()
    np.testing.assert_array_equal(baseline_reactions("mime", speaker, listener, listener, 2, rng)[:, 1], speaker)
