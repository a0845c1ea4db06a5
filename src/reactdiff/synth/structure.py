"""Measurements that show the synthetic corpus carries the structure it was built with: listeners
lag their speakers, reaction modes are distinct, and sampling a mode beats averaging the modes.
Used by ``benchmarks/synth_structure.py`` and the tests."""

from __future__ import annotations

import numpy as np

from reactdiff.constants import AU_NAMES, ROTATION_SLICE, VA_SLICE

SMILE_AUS = (AU_NAMES.index("AU6"), AU_NAMES.index("AU12"))


def lag_profile(speaker: np.ndarray, listener: np.ndarray, max_lag: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Mean over pairs of the Pearson correlation of ``listener[t + lag]`` with ``speaker[t]``.

    ``speaker`` and ``listener`` are (N, T) signals of N pairs. Returns ``(lags, correlation)``;
    a peak at a positive lag means the listener follows the speaker that many frames later.
    Pairs whose signal is constant over the overlap contribute nothing to that lag.
    """
    lags = np.arange(-max_lag, max_lag + 1)
    correlation = np.zeros(len(lags))
    for position, lag in enumerate(lags):
        if lag >= 0:
            s, l = speaker[:, : speaker.shape[1] - lag], listener[:, lag:]
        else:
            s, l = speaker[:, -lag:], listener[:, : listener.shape[1] + lag]
        s = s - s.mean(axis=1, keepdims=True)
        l = l - l.mean(axis=1, keepdims=True)
        norm = np.sqrt((s**2).sum(axis=1) * (l**2).sum(axis=1))
        valid = norm > 1e-12
        correlation[position] = ((s * l).sum(axis=1)[valid] / norm[valid]).mean() if valid.any() else 0.0
    return lags, correlation


def valence_and_smile(emotion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valence (N, T) and smile (AU6 + AU12, N x T) of emotion sequences (N, T, 25)."""
    return emotion[..., VA_SLICE.start], emotion[..., list(SMILE_AUS)].sum(axis=-1)


def reaction_summary(emotion: np.ndarray, coeffs_3dmm: np.ndarray) -> np.ndarray:
    """A clip's behaviour in a few numbers: the mean of each emotion channel and how much the head
    nods (frame-to-frame pitch motion), as a (26,) vector."""
    pitch = coeffs_3dmm[:, ROTATION_SLICE.start]
    return np.concatenate([emotion.mean(axis=0), [np.abs(np.diff(pitch)).mean()]])


def mode_separation(summaries: np.ndarray, prototypes: np.ndarray, modes: np.ndarray) -> dict[str, float]:
    """How far apart the reaction modes are, relative to the spread within a mode.

    Summaries are z-scored per feature over all clips. Within each speaker prototype, ``between`` is
    the mean distance between the centroids of two modes and ``within`` the root-mean-square
    distance of a clip to its own mode centroid; both are averaged over prototypes. A ratio well
    above 1 means the modes are distinct, separable groups of reactions to the same kind of speaker.
    """
    z = (summaries - summaries.mean(axis=0)) / np.maximum(summaries.std(axis=0), 1e-8)
    between, within = [], []
    for prototype in np.unique(prototypes):
        groups = [z[(prototypes == prototype) & (modes == mode)] for mode in np.unique(modes)]
        groups = [group for group in groups if len(group) >= 2]
        if len(groups) < 2:
            continue
        centroids = [group.mean(axis=0) for group in groups]
        between += [np.linalg.norm(a - b) for i, a in enumerate(centroids) for b in centroids[i + 1 :]]
        within.append(np.sqrt(np.mean([((group - c) ** 2).sum(axis=1).mean() for group, c in zip(groups, centroids)])))
    if not between:
        return {"between": float("nan"), "within": float("nan"), "ratio": float("nan")}
    b, w = float(np.mean(between)), float(np.mean(within))
    return {"between": b, "within": w, "ratio": b / w}


def mode_reactions(
    seed: int, num_speakers: int, draws_per_mode: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reactions of every mode to the same speakers, generated directly (no files).

    Returns ``speakers`` (S, T, 25), ``reactions`` (S, modes, draws, T, 25): independent listener
    reactions (new person, new noise) in each mode, and ``prototypes`` (S,).
    """
    from reactdiff.synth.behaviour import (
        PROTOTYPES, REACTION_MODES, listener_behaviour, person_style, reaction_lag, speaker_behaviour,
    )
    from reactdiff.synth.face import face_from_state

    rng = np.random.default_rng(seed)
    speakers, reactions, prototypes = [], [], []
    for _ in range(num_speakers):
        prototype = int(rng.integers(len(PROTOTYPES)))
        speaker_style = person_style(rng)
        speaker = speaker_behaviour(PROTOTYPES[prototype], speaker_style, rng)
        speakers.append(face_from_state(speaker, speaker_style, rng)[0])
        per_mode = []
        for mode in REACTION_MODES:
            draws = []
            for _ in range(draws_per_mode):
                style = person_style(rng)
                state = listener_behaviour(speaker, mode, style, rng, reaction_lag(mode, style, rng))
                draws.append(face_from_state(state, style, rng)[0])
            per_mode.append(draws)
        reactions.append(per_mode)
        prototypes.append(prototype)
    return np.asarray(speakers), np.asarray(reactions), np.asarray(prototypes)


def sampling_versus_averaging(reactions: np.ndarray, by_group: bool = True) -> dict[str, dict[str, float]]:
    """Score two oracle predictors with the project's metrics (corrected protocol) against each
    speaker's appropriate reactions, the first draw of every mode: *sampling* predicts the other
    draws of all modes (each one a single mode), *averaging* predicts their mean over all modes (what
    a regression to the conditional mean learns), as many times.

    Every (speaker, mode) reference is one evaluation row whose appropriate reactions are the
    references of the same speaker. Returns per predictor ``frcorr`` and ``frdist`` per reaction
    (FRCorr / K, FRDist / K), ``frdiv``, and ``frdist_au`` / ``frdist_va`` / ``frdist_expression``:
    the FRDist DTW of each channel group alone (with its FRDist weight; only with ``by_group``).
    """
    from reactdiff.metrics import best_ccc, frdiv
    from reactdiff.metrics.dtw import FRDIST_GROUPS, min_grouped_dtw

    num_speakers, num_modes, num_draws = reactions.shape[:3]
    references = reactions[:, :, 0].reshape(num_speakers * num_modes, *reactions.shape[3:])
    held_out = reactions[:, :, 1:]
    sampled = held_out.reshape(num_speakers, num_modes * (num_draws - 1), *reactions.shape[3:])
    averaged = np.broadcast_to(held_out.mean(axis=(1, 2))[:, None], sampled.shape)
    neighbours = np.kron(np.eye(num_speakers), np.ones((num_modes, num_modes))).astype(np.int8)
    scores = {}
    for name, per_speaker in (("sampling", sampled), ("averaging", averaged)):
        # One row per reference; the rows of a speaker share its predictions.
        predictions = np.ascontiguousarray(np.repeat(per_speaker, num_modes, axis=0), dtype=np.float32)
        scores[name] = {
            "frcorr": float(best_ccc(predictions, references, neighbours).mean()),
            "frdist": float(min_grouped_dtw(predictions, references, neighbours, FRDIST_GROUPS).mean()),
            "frdiv": frdiv(predictions),
        }
        for group, bounds in zip(("au", "va", "expression"), FRDIST_GROUPS if by_group else ()):
            group_dtw = min_grouped_dtw(predictions, references, neighbours, (bounds,))
            scores[name][f"frdist_{group}"] = float(group_dtw.mean())
    return scores
