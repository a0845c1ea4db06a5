"""The REACT 2025/2026 protocol (``react2025``): every metric against a direct loop over the spec's
formula (REACT2025_DATA.md section 4.2) on small items of unequal lengths, the quirks kept (constant
channels, AU rounding, NaN-first TLCC), ground-truth alignment, the chunk/window helpers and input
validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from reactdiff.chunks import offline_chunks
from reactdiff.metrics import ALL_PROTOCOLS, PROTOCOLS, evaluate, evaluate_react2025
from reactdiff.metrics import react2025 as react2025_module
from reactdiff.metrics.alignment import ALIGNMENTS, align_ground_truth, emulation_index, resynthesise
from reactdiff.metrics.dtw import definition_dtw
from reactdiff.metrics.evaluate import PROTOCOL_NOTES
from reactdiff.metrics.react2025 import round_action_units
from reactdiff.metrics.validation import check_protocol

CHANNELS = 25


def smooth(rng, frames, channels=CHANNELS, width=5):
    noise = rng.normal(size=(frames + width, channels))
    cumulative = np.cumsum(noise, axis=0)
    return ((cumulative[width:] - cumulative[:-width]) / np.sqrt(width)).astype(np.float32)


def attributes(rng, frames, constant_au=True):
    """(T, 25) attribute-like sequence: binary AUs, VA in [-1, 1], expression probabilities."""
    base = smooth(rng, frames)
    out = np.empty_like(base)
    out[:, :15] = base[:, :15] > 0.3
    if constant_au:
        out[:, 0] = 0.0  # an AU that never fires: a constant channel, as common in real data
    out[:, 15:17] = np.tanh(base[:, 15:17])
    logits = np.exp(base[:, 17:])
    out[:, 17:] = logits / logits.sum(axis=1, keepdims=True)
    return out


def make_items(seed=0, lengths=(50, 64, 64, 103), reactions=3, truths=(0, 11, -7), constant_au=True):
    """Predictions with raw AU values around [-0.6, 1.6] (rounding matters), ground truths of other
    lengths (the paired one first, same length), speakers."""
    rng = np.random.default_rng(seed)
    predictions, appropriate, speaker = [], [], []
    for length in lengths:
        item = np.stack([attributes(rng, length, constant_au) for _ in range(reactions)])
        item[..., 1:15] = rng.uniform(-0.6, 1.6, size=item[..., 1:15].shape)
        predictions.append(item.astype(np.float32))
        appropriate.append([attributes(rng, max(2, length + delta)) for delta in truths])
        speaker.append(attributes(rng, length, constant_au))
    return predictions, appropriate, speaker


# --- reference loops: the spec's formulas written out with plain numpy --------------------------


def ref_ccc(y, p):
    values = []
    for d in range(y.shape[1]):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            r = np.corrcoef(y[:, d].astype(np.float64), p[:, d].astype(np.float64))[0, 1]
        r = 0.0 if np.isnan(r) else np.clip(r, -1, 1)
        sy, sp = np.std(y[:, d].astype(np.float64)), np.std(p[:, d].astype(np.float64))
        bias = (np.mean(y[:, d].astype(np.float64)) - np.mean(p[:, d].astype(np.float64))) ** 2
        values.append(2 * r * sy * sp / (sy**2 + sp**2 + bias + 1e-8))
    return np.mean(values)


def ref_frd_pair(p, y):
    # The spec's weights written out (not imported): AUs / 15, VA / 1, expressions / 8.
    return sum(w * definition_dtw(p[:, a:b], y[:, a:b]) for a, b, w in ((0, 15, 1 / 15), (15, 17, 1.0), (17, 25, 1 / 8)))


def ref_tlcc(p, s, nan_safe=False):
    frames = p.shape[0]
    means = []
    for lag in range(-49, 50):
        if lag > 0:
            a, b = p[lag:], s[:-lag]
        elif lag < 0:
            a, b = p[:lag], s[-lag:]
        else:
            a, b = p, s
        rs = []
        for d in range(p.shape[1]):
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                r = np.corrcoef(a[:, d], b[:, d])[0, 1] if len(a) >= 1 and frames > abs(lag) else np.nan
            rs.append(r)
        rs = np.array(rs)
        if nan_safe:
            usable = rs[~np.isnan(rs)]
            means.append(usable.mean() if usable.size else -np.inf)
        else:
            means.append(np.float32(np.mean(rs.astype(np.float32))))
    means = np.array(means, dtype=np.float64)
    if nan_safe:
        return np.nan if np.isinf(means).all() else abs(49 - int(np.argmax(means)))
    best = int(np.flatnonzero(np.isnan(means))[0]) if np.isnan(means).any() else int(np.argmax(means))
    return abs(49 - best)


def reference(predictions, appropriate, speaker, alignment="index_emulation", nan_safe=False):
    frc, frd, smse, var, tlcc = [], [], [], [], []
    for item, gts, spk in zip(predictions, appropriate, speaker):
        item = item.copy()
        item[..., :15] = np.round(item[..., :15])
        k, length, _ = item.shape
        aligned = [align_ground_truth(gt, length, alignment) for gt in gts]
        frc.append(sum(max(ref_ccc(y, item[i]) for y in aligned) for i in range(k)))
        frd.append(sum(min(ref_frd_pair(item[i], y) for y in aligned) for i in range(k)))
        pairs = sum(((item[i].astype(np.float64) - item[j]) ** 2).sum() for i in range(k) for j in range(k) if i != j)
        smse.append(pairs / (k * (k - 1) * length * CHANNELS))
        var.append(np.mean([np.var(item[i][:, d].astype(np.float64), ddof=1) for i in range(k) for d in range(CHANNELS)]))
        tlcc.append(ref_tlcc(item[0].astype(np.float64), spk.astype(np.float64), nan_safe))
    return frc, frd, smse, var, np.array(tlcc, dtype=np.float64)


# --- the metrics against the loops ----------------------------------------------------------------


@pytest.fixture(scope="module")
def items():
    return make_items()


@pytest.mark.parametrize("alignment", ALIGNMENTS)
def test_metrics_match_spec_loops(items, alignment):
    predictions, appropriate, speaker = items
    scores = evaluate_react2025(predictions, appropriate, speaker, alignment=alignment)
    frc, frd, smse, var, tlcc = reference(predictions, appropriate, speaker, alignment)
    k = predictions[0].shape[0]
    assert scores["protocol"] == "react2025" and scores["alignment"] == alignment and scores["tlcc"] == "official"
    assert scores["FRCorr"] == pytest.approx(np.mean(frc), rel=1e-9, abs=1e-12)
    assert scores["FRCorr_per_reaction"] == pytest.approx(np.mean(frc) / k, rel=1e-9, abs=1e-12)
    assert scores["FRDist"] == pytest.approx(np.mean(frd), rel=1e-12)
    assert scores["FRDist_per_reaction"] == pytest.approx(np.mean(frd) / k, rel=1e-12)
    assert scores["FRDiv"] == pytest.approx(np.mean(smse), rel=1e-9)
    assert scores["FRVar"] == pytest.approx(np.mean(var), rel=1e-9)
    assert scores["FRSyn"] == pytest.approx(tlcc.mean())
    assert scores["num_speakers"] == len(predictions) and scores["num_reactions"] == k
    assert scores["num_ground_truths"] == sum(len(gts) for gts in appropriate)
    notes = " ".join(scores["notes"])
    assert alignment in notes and "FRDvs" in notes and "FRRea" in notes


def test_nan_safe_tlcc_matches_loop(items):
    predictions, appropriate, speaker = items
    scores = evaluate_react2025(predictions, appropriate, speaker, tlcc="nan_safe")
    *_, tlcc = reference(predictions, appropriate, speaker, nan_safe=True)
    usable = ~np.isnan(tlcc)
    assert scores["FRSyn"] == pytest.approx(tlcc[usable].mean())
    assert scores["FRSyn_no_valid_lag"] == int((~usable).sum())
    assert "nan_safe" in " ".join(scores["notes"]) and "NOT the official" in " ".join(scores["notes"])


def test_official_tlcc_without_constant_channels_matches_loop():
    """No channel constant over a whole clip: the official offsets are not all 49 (only lags whose
    window holds a constant stretch, and the 50-frame item's 1-frame window at lag -49, are NaN)."""
    predictions, appropriate, speaker = make_items(seed=4, lengths=(50, 99, 140, 140, 230), constant_au=False)
    scores = evaluate_react2025(predictions, appropriate, speaker)
    tlcc = np.array(
        [ref_tlcc(round_action_units(p)[0].astype(np.float64), s.astype(np.float64)) for p, s in zip(predictions, speaker)]
    )
    assert tlcc[0] == 49 and (tlcc != 49).any()
    assert scores["FRSyn"] == pytest.approx(tlcc.mean())


def test_buckets_do_not_change_results(items, monkeypatch):
    """Items are scored in buckets of equal length; one item per bucket gives the same numbers."""
    predictions, appropriate, speaker = items
    whole = evaluate_react2025(predictions, appropriate, speaker)
    monkeypatch.setattr(react2025_module, "_BUCKET_BYTES", 1)
    assert len(react2025_module._buckets(predictions)) == len(predictions)
    split = evaluate_react2025(predictions, appropriate, speaker)
    for name in ("FRCorr", "FRDist", "FRDiv", "FRVar", "FRSyn"):
        assert split[name] == pytest.approx(whole[name], rel=1e-12)


def test_gpu_dtw_layout_on_cpu_tensors(items, monkeypatch):
    """The CUDA branch hands the same bucket layout to the torch wavefront; run that kernel on CPU
    tensors in place of the numba one: same FRDist to float64 rounding."""
    from reactdiff.metrics.dtw_wavefront import min_grouped_dtw_wavefront

    predictions, appropriate, speaker = items
    expected = evaluate_react2025(predictions, appropriate, speaker)["FRDist"]
    monkeypatch.setattr(
        react2025_module, "min_grouped_dtw",
        lambda block, refs, candidates, groups: min_grouped_dtw_wavefront(block, refs, candidates, groups, "cpu"),
    )
    assert evaluate_react2025(predictions, appropriate, speaker)["FRDist"] == pytest.approx(expected, rel=1e-12)


def test_constant_channel_scores_zero_in_frc():
    """Ground truth copied as every prediction: each non-constant channel has CCC ~1, the constant AU 0
    channel scores 0, so FRC = K * (channels - constant) / 25, not K."""
    rng = np.random.default_rng(1)
    gt = attributes(rng, 80)
    constant = int((gt.max(axis=0) == gt.min(axis=0)).sum())
    assert constant >= 1
    scores = evaluate_react2025([np.stack([gt, gt])], [[gt]], [attributes(rng, 80)])
    expected = 2 * np.mean([ref_ccc(gt, gt)])
    assert scores["FRCorr"] == pytest.approx(expected, rel=1e-9)
    assert scores["FRCorr"] < 2 * (CHANNELS - constant + 0.01) / CHANNELS


def test_constant_channel_tlcc_official_49_nan_safe_not():
    rng = np.random.default_rng(2)
    spk = smooth(rng, 200)
    prediction = np.roll(spk, 5, axis=0)  # prediction[t] = speaker[t - 5]: offset 5
    prediction[:, 0] = 0.0  # a constant channel
    predictions = [np.stack([prediction, prediction + 0.01])]
    args = (predictions, [[spk]], [spk])
    official = evaluate_react2025(*args, round_aus=False)
    safe = evaluate_react2025(*args, round_aus=False, tlcc="nan_safe")
    assert official["FRSyn"] == 49.0
    assert safe["FRSyn"] == 5.0 and safe["FRSyn_no_valid_lag"] == 0
    # Without the constant channel the official rule finds the offset too.
    predictions[0][0][:, 0] = np.roll(spk[:, 0], 5)
    assert evaluate_react2025(*args, round_aus=False)["FRSyn"] == 5.0


def test_au_rounding_half_to_even():
    values = np.zeros((1, 6, CHANNELS), dtype=np.float32)
    values[0, :, 0] = [0.5, 1.5, 2.5, -0.5, 1.7, -0.6]
    values[0, :, 15] = 0.5  # valence: untouched
    values[0, :, 20] = 1.5  # an expression: untouched
    rounded = round_action_units(values)
    assert rounded[0, :, 0].tolist() == [0.0, 2.0, 2.0, 0.0, 2.0, -1.0]
    assert (rounded[0, :, 15] == 0.5).all() and (rounded[0, :, 20] == 1.5).all()
    assert values[0, 0, 0] == 0.5  # a copy


def test_round_aus_is_data_clamp(items):
    predictions, appropriate, speaker = items
    rounded = [round_action_units(item) for item in predictions]
    on = evaluate_react2025(predictions, appropriate, speaker)
    off = evaluate_react2025(rounded, appropriate, speaker, round_aus=False)
    raw = evaluate_react2025(predictions, appropriate, speaker, round_aus=False)
    for name in ("FRCorr", "FRDist", "FRDiv", "FRVar", "FRSyn"):
        assert on[name] == off[name]
    assert raw["FRDiv"] != on["FRDiv"] and raw["round_aus"] is False


# --- alignment -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ALIGNMENTS)
@pytest.mark.parametrize(("frames", "length"), [(40, 40), (40, 70), (70, 40), (1, 30), (800, 1200), (2500, 1200), (300, 2100)])
def test_alignment_shapes_and_value_rules(method, frames, length):
    rng = np.random.default_rng(frames * 7 + length)
    gt = attributes(rng, frames)
    gt[:, 1:15] = rng.uniform(0, 1, size=(frames, 14))  # soft AU values: re-binarisation shows
    aligned = align_ground_truth(gt, length, method)
    assert aligned.shape == (length, CHANNELS) and aligned.dtype == np.float32
    if frames == length:
        np.testing.assert_array_equal(aligned, gt)  # every method: unchanged at equal length
    elif method != "crop_pad":
        assert np.isin(aligned[:, :15], (0.0, 1.0)).all()
        np.testing.assert_allclose(aligned[:, 17:].sum(axis=1), 1.0, rtol=1e-5)


def test_crop_pad_values():
    gt = np.arange(10 * CHANNELS, dtype=np.float32).reshape(10, CHANNELS)
    np.testing.assert_array_equal(align_ground_truth(gt, 4, "crop_pad"), gt[:4])
    padded = align_ground_truth(gt, 13, "crop_pad")
    np.testing.assert_array_equal(padded[:10], gt)
    np.testing.assert_array_equal(padded[10:], np.repeat(gt[-1:], 3, axis=0))


def test_resample_endpoints_and_midpoints():
    gt = np.zeros((3, CHANNELS), dtype=np.float32)
    gt[:, 15] = [0.0, 1.0, 0.0]
    gt[:, 17] = 1.0
    out = align_ground_truth(gt, 5, "resample")
    np.testing.assert_allclose(out[:, 15], [0.0, 0.5, 1.0, 0.5, 0.0])


def test_index_emulation_mapping():
    # Up to 1000 frames: crop_pad (frame t stays frame t), then the post-processor's output rule.
    rng = np.random.default_rng(3)
    gt = attributes(rng, 300)
    for length in (120, 700):
        expected = resynthesise(align_ground_truth(gt, length, "crop_pad").copy())
        np.testing.assert_array_equal(align_ground_truth(gt, length, "index_emulation"), expected)
    # P > T, T = 800 -> P = 1200: S = 2 segments, pieces of m = 400 ground-truth frames. Segment 0
    # decodes 1000 frames: 0..399 reconstructed, then frame 399 repeated; segment 1 decodes 200: 400..599.
    index = emulation_index(800, 1200)
    np.testing.assert_array_equal(index[:400], np.arange(400))
    assert (index[400:1000] == 399).all()
    np.testing.assert_array_equal(index[1000:], np.arange(400, 600))
    # P < T, T = 2500 -> P = 1200: S = 3 pieces of 1000 frames, each decoded to m = 400 frames; the last
    # piece encodes only 500 real frames.
    index = emulation_index(2500, 1200)
    np.testing.assert_array_equal(index, np.concatenate([np.arange(400), 1000 + np.arange(400), 2000 + np.arange(400)]))
    index = emulation_index(2005, 1200)  # last piece: 5 frames, then its last frame repeated
    np.testing.assert_array_equal(index[800:], np.concatenate([2000 + np.arange(5), np.full(395, 2004)]))
    # Where the official segments add up to 317 frames, not 301, the output is still 301 frames; fewer
    # ground-truth frames than segments (the official code fails) reads the zero padding it would see.
    assert emulation_index(20000, 301).size == 301
    assert emulation_index(2, 5000).max() >= 2 and align_ground_truth(gt[:2], 5000).shape == (5000, CHANNELS)


def test_resynthesise_zero_expressions_uniform():
    frames = np.zeros((2, CHANNELS))
    frames[1, 17:] = [2, 0, 0, 0, 0, 0, 0, 2]
    frames[:, :15] = [[0.49] * 15, [0.5] * 15]
    out = resynthesise(frames)
    np.testing.assert_allclose(out[0, 17:], 1 / 8)
    np.testing.assert_allclose(out[1, 17:], [0.5, 0, 0, 0, 0, 0, 0, 0.5])
    assert (out[0, :15] == 0).all() and (out[1, :15] == 1).all()


def test_alignment_errors():
    gt = np.zeros((5, CHANNELS), dtype=np.float32)
    with pytest.raises(ValueError, match="alignment must be one of"):
        align_ground_truth(gt, 5, "vae")
    with pytest.raises(ValueError, match="positive integer"):
        align_ground_truth(gt, 0, "crop_pad")
    with pytest.raises(ValueError, match="ground truth"):
        align_ground_truth(np.zeros((5, 24)), 5, "crop_pad")


# --- chunks and windows ---------------------------------------------------------------------------


def test_offline_chunks():
    assert offline_chunks(1500) == [(0, 750), (750, 1500)]  # a multiple of 750: no empty chunk
    assert offline_chunks(1501) == [(0, 750), (750, 1500), (1500, 1501)]
    assert offline_chunks(58) == [(0, 58)]
    for length in (1, 749, 750, 751, 20000):
        chunks = offline_chunks(length)
        assert len(chunks) == -(-length // 750) and all(stop > start for start, stop in chunks)
        assert chunks[0][0] == 0 and chunks[-1][1] == length
    with pytest.raises(ValueError, match="length"):
        offline_chunks(0)


# --- protocol registry and input validation --------------------------------------------------------


def test_protocol_registry():
    assert "react2025" in ALL_PROTOCOLS and PROTOCOLS == ("official", "corrected")
    assert set(PROTOCOL_NOTES) == set(ALL_PROTOCOLS)
    with pytest.raises(ValueError, match="evaluate_react2025"):
        check_protocol("react2025")
    assert check_protocol("react2025", ALL_PROTOCOLS) == "react2025"
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="does not apply"):
        evaluate(rng.random((2, 2, 99, 25)), rng.random((2, 99, 25)), rng.random((2, 99, 25)), np.eye(2), protocol="react2025")


def _valid(seed=5):
    return make_items(seed, lengths=(30, 40), reactions=2, truths=(0, 3))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p, a, s: (p[:1], a, s), "has 2 items, predictions has 1"),
        (lambda p, a, s: ([x[:1] for x in p], a, s), "K > 1"),
        (lambda p, a, s: ([p[0], p[1][:, :, :24]], a, s), "channels"),
        (lambda p, a, s: ([p[0], np.concatenate([p[1], p[1]])], a, s), "item 0 has 2"),
        (lambda p, a, s: (p, a, [s[0], s[1][:-1]]), "speaker"),
        (lambda p, a, s: (p, [a[0], []], s), "at least 1 ground truth"),
        (lambda p, a, s: (p, [a[0], [a[1][0][:, :20]]], s), "ground truth 0 has shape"),
        (lambda p, a, s: (p, [a[0], [np.full((5, 25), np.nan)]], s), "NaN"),
        (lambda p, a, s: ([], [], []), "no items"),
        (lambda p, a, s: ([p[0], p[1][:, :1]], a, [s[0], s[1][:1]]), "at least 2"),
    ],
)
def test_input_validation(mutate, message):
    with pytest.raises(ValueError, match=message):
        evaluate_react2025(*mutate(*_valid()))


def test_setting_validation():
    predictions, appropriate, speaker = _valid()
    with pytest.raises(ValueError, match="tlcc must be"):
        evaluate_react2025(predictions, appropriate, speaker, tlcc="corrected")
    with pytest.raises(ValueError, match="alignment must be"):
        evaluate_react2025(predictions, appropriate, speaker, alignment="official")
