"""The generative model of the synthetic corpus: speakers drawn from behaviour prototypes, and
listeners who react to them, with a lag, in one of several reaction modes.

Everything is a latent per-frame ``BehaviourState`` (talking, syllables, facial actions such as a
smile or a frown, valence/arousal, head pose); ``face.py`` turns a state into the 25-d emotion
vector and 58 3DMM coefficients, ``audio.py`` into a waveform. docs/synthetic.md describes the
process and why it is one-to-many and lagged.

Every time constant is in seconds and converted at the clip's frame rate (``fps``: 25 for the
REACT 2024 layout, 30 for MARS), so both corpora have the same structure in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reactdiff.constants import CLIP_FRAMES_STORED, FPS
from reactdiff.synth.signals import (
    Episode,
    bumps,
    damped_oscillation,
    delayed,
    frames_in,
    poisson_episodes,
    segments_of,
    sigma_in,
    smooth_noise,
)

#: Facial actions of the latent state; face.py maps them onto AUs, expressions and 3DMM.
ACTIONS = ("smile", "frown", "brow_raise", "sad", "lip_press", "disgust", "contempt", "squint")

#: Vowel formants (F1, F2, F3 in Hz); "m" is the nasal murmur of backchannels ("mm-hmm").
VOWELS = {"a": (800, 1200, 2500), "e": (500, 1900, 2500), "i": (300, 2300, 3000),
          "o": (500, 900, 2400), "u": (320, 800, 2300), "schwa": (500, 1500, 2500), "m": (250, 1100, 2200)}
SPEECH_VOWELS = ("a", "e", "i", "o", "u", "schwa")
#: Vocal backchannels: "mm", "mm-hmm", "yeah", "okay" as vowel sequences.
BACKCHANNELS = (("m",), ("m", "m"), ("e",), ("o", "e"))


@dataclass(frozen=True)
class Prototype:
    """How a kind of speaker behaves (rates are per second, durations in seconds)."""

    name: str
    valence: float
    arousal: float
    smile_rate: float
    frown_rate: float
    emphasis_rate: float
    sad_level: float
    contempt_rate: float
    turn_s: tuple[float, float]
    pause_s: tuple[float, float]
    syllable_s: tuple[float, float]
    pitch_range: float  # octaves of pitch movement with arousal and emphasis


PROTOTYPES = (
    Prototype("cheerful", 0.45, 0.2, 0.22, 0.01, 0.10, 0.0, 0.0, (3.0, 7.0), (0.4, 1.2), (0.14, 0.24), 0.35),
    Prototype("serious", -0.15, 0.05, 0.02, 0.16, 0.25, 0.0, 0.03, (4.0, 9.0), (0.5, 1.5), (0.16, 0.26), 0.25),
    Prototype("excited", 0.25, 0.65, 0.10, 0.03, 0.35, 0.0, 0.0, (1.5, 4.0), (0.3, 0.8), (0.10, 0.18), 0.5),
    Prototype("subdued", -0.45, -0.45, 0.01, 0.04, 0.03, 0.75, 0.02, (2.0, 5.0), (1.0, 2.5), (0.20, 0.32), 0.12),
)


@dataclass(frozen=True)
class ReactionMode:
    """How a listener reacts: lag range (seconds), contagion gains and response probabilities."""

    name: str
    lag_s: tuple[float, float]
    valence_gain: float
    arousal_gain: float
    valence_bias: float
    arousal_bias: float
    smile_mimicry: float  # probability of mirroring each speaker smile
    nod_probability: float  # probability of nodding at each speaker pause
    nod_amplitude: float  # radians of head pitch
    backchannel_probability: float  # probability of a vocal backchannel at each pause
    talk_nod_rate: float  # nods per second while the speaker talks (attentive listening)
    lip_press_rate: float
    frown_rate: float
    head_mimicry: float  # gain on the speaker's (delayed) head yaw


REACTION_MODES = (
    ReactionMode("mimicking", (0.32, 0.56), 0.9, 0.6, 0.2, 0.15, 0.9, 0.35, 0.05, 0.15, 0.02, 0.0, 0.0, 0.5),
    ReactionMode("backchanneling", (0.2, 0.44), 0.35, 0.2, 0.0, 0.4, 0.3, 0.9, 0.12, 0.85, 0.15, 0.0, 0.0, 0.1),
    ReactionMode("reserved", (0.56, 0.96), 0.1, 0.05, -0.35, -0.5, 0.05, 0.2, 0.03, 0.03, 0.0, 0.09, 0.06, 0.0),
)


@dataclass(frozen=True)
class PersonStyle:
    """What stays the same for one person across a session: biases, voice, idle habits."""

    valence_bias: float
    arousal_bias: float
    expressiveness: float
    f0_hz: float
    idle_action: str  # an action this person shows now and then regardless of the partner
    idle_rate: float
    expression_bias: tuple[float, ...]  # added to the 8 expression logits
    head_offset: tuple[float, float, float]
    coeff_offset: tuple[float, ...]  # 52 person-specific 3DMM expression offsets
    lag_jitter_s: float  # seconds added to this person's reaction lag


def person_style(rng: np.random.Generator) -> PersonStyle:
    """Draw one person's style."""
    low_voice = bool(rng.integers(2))
    return PersonStyle(
        valence_bias=float(rng.normal(0, 0.05)),
        arousal_bias=float(rng.normal(0, 0.05)),
        expressiveness=float(rng.uniform(0.85, 1.15)),
        f0_hz=float(rng.uniform(95, 135) if low_voice else rng.uniform(170, 240)),
        idle_action=str(rng.choice(["lip_press", "squint", "brow_raise", "contempt", "frown", "disgust"])),
        idle_rate=float(rng.uniform(0.01, 0.04)),
        expression_bias=tuple(float(x) for x in rng.normal(0, 0.2, size=8)),
        head_offset=tuple(float(x) for x in rng.normal(0, 0.05, size=3)),
        coeff_offset=tuple(float(x) for x in rng.normal(0, 0.05, size=52)),
        # Whole 25 fps frames (-0.08..0.08 s), the draw the 2024 corpus was made with.
        lag_jitter_s=int(rng.integers(-2, 3)) / 25,
    )


@dataclass
class BehaviourState:
    """Latent per-frame behaviour of one person in one clip."""

    talking: np.ndarray  # (T,) bool
    mouth: np.ndarray  # (T,) jaw/lip opening in [0, 1], from the syllables
    valence: np.ndarray  # (T,) in (-1, 1)
    arousal: np.ndarray  # (T,) in (-1, 1)
    actions: dict[str, np.ndarray]  # ACTIONS -> (T,) intensities, about 0..1
    head_rotation: np.ndarray  # (T, 3) pitch, yaw, roll in radians
    head_translation: np.ndarray  # (T, 3)
    blink: np.ndarray  # (T,) eyelid closure 0..1
    pitch_octaves: np.ndarray  # (T,) voice pitch relative to the person's f0
    syllables: list[tuple[float, float, str]]  # (start s, duration s, vowel)
    events: dict[str, list[Episode]] = field(default_factory=dict)
    voice_level: float = 1.0  # loudness of the voice (backchannels are said softly)
    fps: int = FPS  # frame rate of every per-frame array


def _syllables_in(
    rng: np.random.Generator,
    segments: list[Episode],
    syllable_s: tuple[float, float],
    vowels: tuple[str, ...],
    fps: int = FPS,
) -> list[tuple[float, float, str]]:
    """Fill talking segments with syllables separated by short gaps (consonants)."""
    syllables = []
    for start, duration in segments:
        t, end = start / fps, (start + duration) / fps
        while True:
            length = rng.uniform(*syllable_s)
            if t + length > end:
                break
            syllables.append((round(t, 4), round(length, 4), str(rng.choice(vowels))))
            t += length + rng.uniform(0.02, 0.07)
    return syllables


def _mouth_from_syllables(num_frames: int, syllables: list[tuple[float, float, str]], fps: int = FPS) -> np.ndarray:
    """Per-frame mouth opening: a raised-cosine arch over each syllable (open on the vowel)."""
    mouth = np.zeros(num_frames)
    times = (np.arange(num_frames) + 0.5) / fps
    for start, duration, vowel in syllables:
        inside = (times >= start) & (times < start + duration)
        phase = (times[inside] - start) / duration
        # Nasal murmurs barely open the mouth; open vowels open it most.
        openness = 0.45 if vowel == "m" else (1.0 if vowel in ("a", "o") else 0.85)
        mouth[inside] = np.maximum(mouth[inside], openness * np.sin(np.pi * phase))
    return mouth


def _turn_taking(rng: np.random.Generator, num_frames: int, proto: Prototype, fps: int = FPS) -> np.ndarray:
    """Alternate speaking turns and pauses of the prototype's lengths."""
    talking = np.zeros(num_frames, dtype=bool)
    t = int(rng.uniform(0.0, 1.0) * fps)
    while t < num_frames:
        turn = int(rng.uniform(*proto.turn_s) * fps)
        talking[t : t + turn] = True
        t += turn + int(rng.uniform(*proto.pause_s) * fps)
    return talking


def _blinks(rng: np.random.Generator, num_frames: int, fps: int = FPS) -> np.ndarray:
    blinks = poisson_episodes(rng, num_frames, 0.3, (0.12, 0.2), fps=fps)
    return np.clip(bumps(num_frames, blinks, fps=fps) * 1.3, 0, 1)


def speaker_behaviour(
    proto: Prototype,
    style: PersonStyle,
    rng: np.random.Generator,
    num_frames: int = CLIP_FRAMES_STORED,
    fps: int = FPS,
) -> BehaviourState:
    """A speaker clip drawn from ``proto``: turns and pauses, speech, expressions, head motion."""
    talking = _turn_taking(rng, num_frames, proto, fps)
    syllables = _syllables_in(rng, segments_of(talking), proto.syllable_s, SPEECH_VOWELS, fps)
    mouth = _mouth_from_syllables(num_frames, syllables, fps)

    def episodes(rate: float, duration_s: tuple[float, float], allowed: np.ndarray | None = None) -> list[Episode]:
        return poisson_episodes(rng, num_frames, rate, duration_s, allowed=allowed, fps=fps)

    def noise(sigma_s: float) -> np.ndarray:
        return smooth_noise(rng, num_frames, sigma_in(sigma_s, fps))

    smiles = episodes(proto.smile_rate, (1.0, 3.0))
    frowns = episodes(proto.frown_rate, (1.0, 2.5))
    # Emphasis (brow raise, a small nod, higher pitch) only happens while talking.
    emphasis = episodes(proto.emphasis_rate, (0.3, 0.8), allowed=talking)
    contempt = episodes(proto.contempt_rate, (0.8, 2.0))
    idle = episodes(style.idle_rate, (0.5, 1.5))
    scale = style.expressiveness
    actions = {name: np.zeros(num_frames) for name in ACTIONS}
    actions["smile"] = bumps(num_frames, smiles, rng.uniform(0.75, 1.0, len(smiles)) * scale, fps)
    actions["frown"] = bumps(num_frames, frowns, rng.uniform(0.7, 1.0, len(frowns)) * scale, fps)
    actions["brow_raise"] = bumps(num_frames, emphasis, 0.95 * scale, fps)
    actions["contempt"] = bumps(num_frames, contempt, 0.9, fps)
    # Sadness is a mood, not an event: a slowly varying level around the prototype's.
    actions["sad"] = np.clip(proto.sad_level * (1 + 0.35 * noise(1.6)), 0, None)
    actions["squint"] = 0.5 * actions["frown"]
    actions[style.idle_action] = np.maximum(actions[style.idle_action], bumps(num_frames, idle, 0.8, fps))

    talk_level = bumps(num_frames, segments_of(talking), 1.0, fps)
    valence = np.tanh(
        proto.valence + style.valence_bias + 0.22 * noise(1.6)
        + 0.15 * noise(0.4)  # faster moments make the listener's lag visible
        + 0.45 * actions["smile"] - 0.35 * actions["frown"] - 0.25 * actions["sad"]
    )
    arousal = np.tanh(
        proto.arousal + style.arousal_bias + 0.2 * noise(1.2)
        + 0.25 * talk_level + 0.3 * actions["brow_raise"]
    )

    # Head: slow drift, more movement while talking, a small downward nod on each emphasis.
    emphasis_onsets = [start for start, _ in emphasis]
    pitch = 0.03 * noise(2.0) + damped_oscillation(num_frames, emphasis_onsets, 0.04, 2.0, 0.3, fps)
    yaw = 0.1 * noise(2.4) + 0.03 * talk_level * noise(0.24)
    roll = 0.04 * noise(2.8)
    rotation = np.stack([pitch, yaw, roll], axis=1) + np.asarray(style.head_offset)
    translation = _translation_from(rotation, rng, fps)

    pitch_octaves = proto.pitch_range * (0.5 * arousal + 0.6 * actions["brow_raise"]) - 0.1 * _declination(talking)
    return BehaviourState(
        talking=talking, mouth=mouth, valence=valence, arousal=arousal, actions=actions,
        head_rotation=rotation, head_translation=translation, blink=_blinks(rng, num_frames, fps),
        pitch_octaves=pitch_octaves, syllables=syllables,
        events={"smile": smiles, "pause": segments_of(~talking)}, fps=fps,
    )


def _declination(talking: np.ndarray) -> np.ndarray:
    """0 at the start of each turn rising to 1 at its end: pitch falls over an utterance."""
    ramp = np.zeros(len(talking))
    for start, duration in segments_of(talking):
        ramp[start : start + duration] = np.linspace(0, 1, duration)
    return ramp


def _translation_from(rotation: np.ndarray, rng: np.random.Generator, fps: int = FPS) -> np.ndarray:
    # A turning head also shifts sideways/up a little; depth drifts on its own.
    num_frames = len(rotation)
    x = 0.3 * rotation[:, 1] + 0.01 * smooth_noise(rng, num_frames, sigma_in(3.2, fps))
    y = 0.2 * rotation[:, 0] + 0.01 * smooth_noise(rng, num_frames, sigma_in(3.2, fps))
    z = 0.02 * smooth_noise(rng, num_frames, sigma_in(4.0, fps))
    return np.stack([x, y, z], axis=1)


def reaction_lag(mode: ReactionMode, style: PersonStyle, rng: np.random.Generator, fps: int = FPS) -> int:
    """Frames between a speaker cue and the listener's response (about 0.2-1 s)."""
    low, high = frames_in(mode.lag_s[0], fps), frames_in(mode.lag_s[1], fps)
    lag = rng.integers(low, high + 1) + frames_in(style.lag_jitter_s, fps)
    return int(np.clip(lag, frames_in(0.16, fps), frames_in(1.04, fps)))


def listener_behaviour(
    speaker: BehaviourState,
    mode: ReactionMode,
    style: PersonStyle,
    rng: np.random.Generator,
    lag: int,
) -> BehaviourState:
    """A listener's reaction to ``speaker`` in ``mode``, ``lag`` frames behind its cues (at the
    speaker's frame rate)."""
    num_frames = len(speaker.talking)
    fps = speaker.fps
    jitter_frames = frames_in(0.12, fps)

    def jitter() -> int:
        return int(rng.integers(-jitter_frames, jitter_frames + 1))  # each response has its own timing noise

    def episodes(rate: float, duration_s: tuple[float, float], allowed: np.ndarray | None = None) -> list[Episode]:
        return poisson_episodes(rng, num_frames, rate, duration_s, allowed=allowed, fps=fps)

    def noise(sigma_s: float) -> np.ndarray:
        return smooth_noise(rng, num_frames, sigma_in(sigma_s, fps))

    # Smile mimicry: mirror each speaker smile with the mode's probability, lag frames later.
    smiles = [
        (start + lag + jitter(), max(int(duration * rng.uniform(0.7, 1.2)), frames_in(0.2, fps)))
        for start, duration in speaker.events["smile"]
        if rng.random() < mode.smile_mimicry
    ]
    smiles += episodes(0.01, (1.0, 2.0))  # a few smiles of one's own

    # Pauses of the speaker (not the clip start) invite nods and vocal backchannels.
    min_pause = frames_in(0.32, fps)
    pauses = [(start, duration) for start, duration in speaker.events["pause"] if start > 0 and duration >= min_pause]
    nod_onsets = [start + lag + jitter() for start, _ in pauses if rng.random() < mode.nod_probability]
    # Attentive listeners also nod now and then while the speaker is talking.
    talk_nods = episodes(mode.talk_nod_rate, (0.1, 0.1), allowed=speaker.talking)
    nod_onsets += [start for start, _ in talk_nods]
    backchannels = [start + lag + jitter() for start, _ in pauses if rng.random() < mode.backchannel_probability]
    syllables = []
    for onset in backchannels:
        t = onset / fps
        for vowel in BACKCHANNELS[int(rng.integers(len(BACKCHANNELS)))]:
            length = rng.uniform(0.18, 0.3)
            syllables.append((round(t, 4), round(length, 4), vowel))
            t += length + rng.uniform(0.05, 0.12)
    syllables = [s for s in syllables if s[0] + s[1] < num_frames / fps]
    mouth = _mouth_from_syllables(num_frames, syllables, fps)
    talking = mouth > 0.05

    scale = style.expressiveness
    actions = {name: np.zeros(num_frames) for name in ACTIONS}
    actions["smile"] = bumps(num_frames, smiles, rng.uniform(0.75, 1.0, len(smiles)) * scale, fps)
    # Backchannels come with raised brows (attention, acknowledgement).
    raise_frames = frames_in(0.4, fps)
    actions["brow_raise"] = bumps(num_frames, [(onset, raise_frames) for onset in backchannels], 0.85 * scale, fps)
    actions["lip_press"] = bumps(num_frames, episodes(mode.lip_press_rate, (1.5, 4.0)), 0.9, fps)
    actions["frown"] = bumps(num_frames, episodes(mode.frown_rate, (1.0, 3.0)), 0.8, fps)
    actions["squint"] = 0.6 * actions["frown"]
    idle = episodes(style.idle_rate, (0.5, 1.5))
    actions[style.idle_action] = np.maximum(actions[style.idle_action], bumps(num_frames, idle, 0.8, fps))

    # Emotional contagion: valence and arousal follow the speaker's, delayed and scaled by mode.
    valence = np.tanh(
        style.valence_bias + mode.valence_bias + mode.valence_gain * delayed(speaker.valence, lag)
        + 0.06 * noise(1.6) + 0.3 * actions["smile"] - 0.2 * actions["frown"]
    )
    arousal = np.tanh(
        style.arousal_bias + mode.arousal_bias + mode.arousal_gain * delayed(speaker.arousal, lag)
        + 0.06 * noise(1.2) + 0.2 * actions["brow_raise"]
    )

    # Head: nods (pitch oscillation) at pauses, partial mirroring of the speaker's turns, drift.
    pitch = 0.02 * noise(2.4) + damped_oscillation(num_frames, nod_onsets, mode.nod_amplitude * scale, 2.2, 0.35, fps)
    yaw = mode.head_mimicry * delayed(speaker.head_rotation[:, 1], lag) + 0.05 * noise(2.8)
    roll = 0.03 * noise(3.2)
    rotation = np.stack([pitch, yaw, roll], axis=1) + np.asarray(style.head_offset)
    return BehaviourState(
        talking=talking, mouth=mouth, valence=valence, arousal=arousal, actions=actions,
        head_rotation=rotation, head_translation=_translation_from(rotation, rng, fps),
        blink=_blinks(rng, num_frames, fps), pitch_octaves=0.3 * arousal, syllables=syllables,
        events={"smile": smiles, "pause": [], "nod": [(onset, 1) for onset in nod_onsets]}, voice_level=0.5, fps=fps,
    )
