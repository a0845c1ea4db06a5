"""Generate one pair (speaker clip and listener clip) from its plan row, with its own random
stream, so pairs can be generated in any order, one at a time, and a resumed run reproduces
exactly the pairs it skipped."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from reactdiff.constants import CLIP_FRAMES_STORED, FPS, SPLITS
from reactdiff.synth.audio import synthesize_audio
from reactdiff.synth.behaviour import (
    PROTOTYPES,
    REACTION_MODES,
    BehaviourState,
    PersonStyle,
    Prototype,
    ReactionMode,
    listener_behaviour,
    person_style,
    reaction_lag,
    speaker_behaviour,
)
from reactdiff.synth.face import face_from_state
from reactdiff.synth.plan import PairPlan

# Tags that keep the random streams of styles and pairs apart.
_STYLE_STREAM = 0x5354594C
_PAIR_STREAM = 0x50414952


@dataclass
class ClipData:
    """What the dataset stores for one clip (3DMM as offsets from the mean face)."""

    emotion: np.ndarray  # (T, 25) float32
    coeffs_3dmm: np.ndarray  # (T, 58) float32
    audio: np.ndarray  # (samples,) float32 in [-1, 1]
    state: BehaviourState


def style_of(seed: int, split: str, session: str, person: str) -> PersonStyle:
    """The style of a person, the same in every clip of their session."""
    key = zlib.crc32(f"{split}/{session}/{person}".encode())
    return person_style(np.random.default_rng(np.random.SeedSequence([seed, _STYLE_STREAM, key])))


def pair_rng(seed: int, row: PairPlan) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _PAIR_STREAM, SPLITS.index(row.split), row.index]))


def generate_pair(
    seed: int, row: PairPlan, sample_rate: int, num_frames: int = CLIP_FRAMES_STORED
) -> tuple[ClipData, ClipData]:
    """The speaker and listener clips of one plan row."""
    speaker_style = style_of(seed, row.split, row.session, row.speaker_person)
    listener_style = style_of(seed, row.split, row.session, row.listener_person)
    return react_pair(
        pair_rng(seed, row), PROTOTYPES[row.prototype], REACTION_MODES[row.mode], speaker_style, listener_style,
        sample_rate, num_frames,
    )


def react_pair(
    rng: np.random.Generator,
    prototype: Prototype,
    mode: ReactionMode,
    speaker_style: PersonStyle,
    listener_style: PersonStyle,
    sample_rate: int,
    num_frames: int,
    fps: int = FPS,
) -> tuple[ClipData, ClipData]:
    """A speaker of ``prototype`` and a listener reacting in ``mode``, both ``num_frames`` long at
    ``fps``, every draw from ``rng`` (the one generator both corpus layouts share)."""
    speaker_state = speaker_behaviour(prototype, speaker_style, rng, num_frames, fps)
    lag = reaction_lag(mode, listener_style, rng, fps)
    listener_state = listener_behaviour(speaker_state, mode, listener_style, rng, lag)
    clips = []
    for state, style in ((speaker_state, speaker_style), (listener_state, listener_style)):
        emotion, coeffs = face_from_state(state, style, rng)
        audio = synthesize_audio(state, style, rng, sample_rate, num_frames)
        clips.append(ClipData(emotion, coeffs, audio, state))
    return clips[0], clips[1]
