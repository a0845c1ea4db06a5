"""From a latent behaviour state to what the REACT files store: the 25-d emotion vector (AU
occurrences, valence/arousal, expression probabilities) and the 58 FaceVerse-style 3DMM
coefficients (as offsets from the mean face)."""

from __future__ import annotations

import functools

import numpy as np

from reactdiff.constants import AU_NAMES, COEFFS_3DMM_DIM, EMOTION_DIM, EXPRESSION_NAMES
from reactdiff.synth.behaviour import ACTIONS, BehaviourState, PersonStyle
from reactdiff.synth.signals import sigma_in, smooth_noise

#: Which latent facial actions (or the mouth) activate each AU, and how strongly (FACS-like).
AU_RECIPES: dict[str, dict[str, float]] = {
    "AU1": {"brow_raise": 1.0},
    "AU2": {"brow_raise": 0.9},
    "AU4": {"frown": 1.0},
    "AU6": {"smile": 0.85},
    "AU7": {"squint": 1.0},
    "AU9": {"disgust": 1.0},
    "AU10": {"disgust": 0.8, "smile": 0.3},
    "AU12": {"smile": 1.0},
    "AU14": {"contempt": 1.0},
    "AU15": {"sad": 0.9},
    "AU17": {"sad": 0.7, "lip_press": 0.6},
    "AU23": {"lip_press": 1.0},
    "AU24": {"lip_press": 0.8},
    "AU25": {"mouth": 1.2},  # lips part on every syllable
    "AU26": {"mouth": 0.65},  # the jaw drops only on open vowels
}
AU_THRESHOLD = 0.5

#: Fixed seeds: the "FaceVerse" basis and mean face are properties of the face model, the same in
#: every synthetic dataset whatever its seed (like the real FaceVerse model file).
_BASIS_SEED = 20240
_MEAN_FACE_SEED = 20241
#: Features driving the 52 expression coefficients: AU intensities, mouth, blink, valence, arousal.
_NUM_FEATURES = len(AU_NAMES) + 4


def _expression_basis() -> np.ndarray:
    rng = np.random.default_rng(_BASIS_SEED)
    # Sparse-ish: each coefficient responds to a few features, like localised blendshapes.
    basis = rng.normal(0, 0.25, size=(52, _NUM_FEATURES)) * (rng.random((52, _NUM_FEATURES)) < 0.3)
    return basis


def mean_face() -> np.ndarray:
    """The (58,) mean face stored as ``mean_face.npy`` (stored 3DMM = mean face + offsets)."""
    rng = np.random.default_rng(_MEAN_FACE_SEED)
    expression = rng.normal(0, 0.3, size=52)
    rotation = np.zeros(3)
    translation = np.array([0.0, 0.05, -0.3])
    return np.concatenate([expression, rotation, translation]).astype(np.float32)


def au_intensities(state: BehaviourState, rng: np.random.Generator) -> np.ndarray:
    """(T, 15) continuous AU intensities (before thresholding into occurrences)."""
    sources = dict(state.actions, mouth=state.mouth)
    num_frames = len(state.mouth)
    drive = np.stack(
        [sum(weight * sources[action] for action, weight in AU_RECIPES[name].items()) for name in AU_NAMES], axis=1
    )
    # Fast small noise makes onsets and offsets ragged, as detector outputs are.
    return drive + 0.08 * smooth_noise(rng, num_frames, sigma_in(0.06, state.fps), len(AU_NAMES))


def expression_probabilities(
    state: BehaviourState, style: PersonStyle, rng: np.random.Generator
) -> np.ndarray:
    """(T, 8) probabilities of the 8 expressions, consistent with the actions and valence/arousal."""
    a = state.actions
    valence, arousal = state.valence, state.arousal
    strongest = np.max(np.stack([a[name] for name in ACTIONS]), axis=0)
    logits = np.stack(
        [
            1.5 - 2.0 * strongest - 0.8 * np.abs(valence),  # Neutral
            3.0 * a["smile"] + 1.5 * valence,  # Happy
            2.5 * a["sad"] - 1.0 * valence - 0.5 * arousal - 0.5,  # Sad
            2.5 * a["brow_raise"] * (arousal > 0) + 0.5 * arousal - 1.0,  # Surprise
            1.5 * a["brow_raise"] * a["frown"] - 1.5,  # Fear
            3.0 * a["disgust"] - 1.5,  # Disgust
            2.5 * a["frown"] * (0.5 + np.clip(arousal, 0, None)) - 1.0,  # Anger
            3.0 * a["contempt"] - 1.2,  # Contempt
        ],
        axis=1,
    )
    num_frames = len(valence)
    noise = smooth_noise(rng, num_frames, sigma_in(0.2, state.fps), len(EXPRESSION_NAMES))
    logits += np.asarray(style.expression_bias) + 0.25 * noise
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


_BASIS = _expression_basis()


def coeffs_from_state(
    state: BehaviourState, style: PersonStyle, rng: np.random.Generator, au_drive: np.ndarray
) -> np.ndarray:
    """(T, 58) float32 3DMM coefficient offsets from the mean face, driven by the same state."""
    num_frames = len(state.mouth)
    features = np.concatenate(
        [
            np.clip(au_drive, 0, 1.5),
            np.stack([state.mouth, state.blink, state.valence, state.arousal], axis=1),
        ],
        axis=1,
    )
    expression = features @ _BASIS.T + np.asarray(style.coeff_offset)
    expression += 0.01 * smooth_noise(rng, num_frames, sigma_in(0.12, state.fps), 52)  # tracker jitter
    coeffs = np.concatenate([expression, state.head_rotation, state.head_translation], axis=1)
    assert coeffs.shape[1] == COEFFS_3DMM_DIM
    return coeffs.astype(np.float32)


def face_from_state(
    state: BehaviourState, style: PersonStyle, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Emotion (T, 25) and 3DMM offsets (T, 58) of one clip, from one set of AU intensities."""
    intensities = au_intensities(state, rng)
    occurrences = (intensities > AU_THRESHOLD).astype(np.float32)
    va = np.clip(np.stack([state.valence, state.arousal], axis=1), -1, 1).astype(np.float32)
    probabilities = expression_probabilities(state, style, rng).astype(np.float32)
    # Renormalise in float32 so the stored probabilities sum to 1 at float32 precision.
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    emotion = np.concatenate([occurrences, va, probabilities], axis=1)
    assert emotion.shape[1] == EMOTION_DIM
    return emotion, coeffs_from_state(state, style, rng, intensities)


#: Fixed seed of the clips that measure ``std_face`` (a face-model property, like the mean face).
_STD_FACE_SEED = 20242


@functools.lru_cache(maxsize=None)
def std_face() -> np.ndarray:
    """The (58,) per-coefficient spread stored as ``std_face.npy`` in a MARS-layout corpus, for the
    "standard" normalisation ``(x - mean_face) / std_face``: the standard deviation of the 3DMM
    offsets over a fixed set of speaker and listener clips (one per prototype and mode, 20 s at
    30 fps), floored so no coefficient is divided by ~0. The same for every dataset and seed."""
    from reactdiff.synth.behaviour import PROTOTYPES, REACTION_MODES, listener_behaviour, person_style, reaction_lag, speaker_behaviour

    fps, num_frames = 30, 600
    rng = np.random.default_rng(_STD_FACE_SEED)
    offsets = []
    for prototype, mode in zip(PROTOTYPES, REACTION_MODES * 2):
        speaker_style, listener_style = person_style(rng), person_style(rng)
        speaker = speaker_behaviour(prototype, speaker_style, rng, num_frames, fps)
        listener = listener_behaviour(speaker, mode, listener_style, rng, reaction_lag(mode, listener_style, rng, fps))
        offsets += [face_from_state(speaker, speaker_style, rng)[1], face_from_state(listener, listener_style, rng)[1]]
    return np.maximum(np.concatenate(offsets).std(axis=0), 1e-3).astype(np.float32)
