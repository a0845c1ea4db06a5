"""Who is recorded where in a MARS-layout (REACT 2025/2026) synthetic corpus: the scripted sessions,
the dyads that perform them, every stem's length, and the hidden labels (session script, listener
reaction mode, persons' Big-Five traits).

MARS defines appropriateness by the session folder: every listener of a session reacted to the
same scripted speaker behaviour. So a session here is a *script* (``SessionScript``): a speaker
behaviour prototype with its own perturbed levels and rates, plus the mood its content puts any
listener in (a sad story lowers the listener's valence whoever tells it); the same script in every
split, as the real session folders hold the same pre-defined sentences. Every dyad of the session
performs it. A split holds its own dyads (subject-independent splits); a dyad performs several sessions, so
one person appears in several session folders. Roles are fixed per dyad (speaker / listener).
The plan is small and fully determined by the config; clips are generated one stem at a time.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from dataclasses import dataclass

import numpy as np

from reactdiff.constants import SPLITS
from reactdiff.synth.behaviour import PROTOTYPES, REACTION_MODES, PersonStyle, Prototype
from reactdiff.synth.settings import MARS_PRESETS, SynthConfig

ROLES = ("speaker", "listener")
#: MARS has 23 scripted sessions, session0 ... session22.
NUM_SESSIONS = 23
BIG_FIVE = ("Extraversion", "Agreeableness", "Conscientiousness", "Neuroticism", "Openness")
#: How often a listener reacts in their own preferred mode (otherwise any mode at random).
PREFERRED_MODE_PROBABILITY = 0.7
#: Big-Five shifts (1-5 scale) of a listener who prefers each reaction mode, so personality is
#: informative about how a person reacts: mimicking ~ agreeable, backchanneling ~ extraverted,
#: reserved ~ introverted and neurotic.
MODE_TRAITS = {
    "mimicking": {"Agreeableness": 0.8, "Extraversion": 0.3},
    "backchanneling": {"Extraversion": 0.8, "Openness": 0.3},
    "reserved": {"Extraversion": -0.8, "Neuroticism": 0.6, "Agreeableness": -0.3},
}

# Tags that keep the plan's random streams apart.
_PLAN_STREAM = 0x4D504C4E
_SCRIPT_STREAM = 0x53435054


@dataclass(frozen=True)
class MarsStem:
    """One dyad's recording of one session: a speaker file and a listener file with the same stem."""

    split: str
    index: int  # position in the split (keys the stem's random stream)
    session: str  # "session7"
    stem: str  # "Camera-2024-06-21-103121-103102"
    speaker_person: str
    listener_person: str
    mode: int  # listener reaction mode (behaviour.REACTION_MODES)
    num_frames: int  # both files, at 30 fps

    @property
    def script(self) -> int:
        return int(self.session.removeprefix("session"))

    def path(self, role: str) -> str:
        """``<role>/<session>/<stem>`` (no extension), as every per-file folder spells it."""
        return f"{role}/{self.session}/{self.stem}"


@dataclass(frozen=True)
class MarsPlan:
    stems: dict[str, list[MarsStem]]  # split -> stems in (session number, stem) order
    traits: dict[str, dict[str, float]]  # person -> Big-Five scores on the 1-5 scale
    preferred_modes: dict[str, int]  # listener person -> preferred reaction mode


@dataclass(frozen=True)
class SessionScript:
    """What every dyad of one session performs: the speaker's behaviour, and the shift of the
    listener's valence and arousal levels that the script's content causes."""

    speaker: Prototype
    listener_valence: float
    listener_arousal: float


def session_script(seed: int, number: int) -> SessionScript:
    """The script of ``session<number>``: the prototype ``number mod 4`` with levels and rates of
    its own (drawn from the seed), so two sessions of the same prototype are still different
    scripts, and a listener mood shift that follows the speaker's levels plus its own part."""
    base = PROTOTYPES[number % len(PROTOTYPES)]
    rng = np.random.default_rng(np.random.SeedSequence([seed, _SCRIPT_STREAM, number]))
    rate = lambda value: float(value * np.exp(rng.normal(0, 0.3)))  # noqa: E731
    tempo = float(np.exp(rng.normal(0, 0.2)))
    valence = float(np.clip(base.valence + rng.normal(0, 0.25), -0.8, 0.8))
    arousal = float(np.clip(base.arousal + rng.normal(0, 0.25), -0.8, 0.8))
    speaker = dataclasses.replace(
        base,
        name=f"session{number}:{base.name}",
        valence=valence,
        arousal=arousal,
        smile_rate=rate(base.smile_rate),
        frown_rate=rate(base.frown_rate),
        emphasis_rate=rate(base.emphasis_rate),
        contempt_rate=rate(base.contempt_rate),
        turn_s=(base.turn_s[0] * tempo, base.turn_s[1] * tempo),
        pause_s=(base.pause_s[0] / tempo, base.pause_s[1] / tempo),
    )
    return SessionScript(
        speaker,
        listener_valence=float(0.5 * valence + rng.normal(0, 0.15)),
        listener_arousal=float(0.5 * arousal + rng.normal(0, 0.15)),
    )


def content_mood(style: PersonStyle, script: SessionScript) -> PersonStyle:
    """A listener's style in a session: the script's content moves their valence and arousal
    levels, on top of the contagion from the speaker."""
    return dataclasses.replace(
        style,
        valence_bias=style.valence_bias + script.listener_valence,
        arousal_bias=style.arousal_bias + script.listener_arousal,
    )


def _session_sizes(rng: np.random.Generator, num_stems: int, low: int, high: int) -> list[int]:
    """Dyads per session summing to ``num_stems``, each in [low, high] where the total allows it."""
    if num_stems > NUM_SESSIONS * high:  # more stems than the preset's sessions hold: fill all 23
        return [len(part) for part in np.array_split(np.arange(num_stems), NUM_SESSIONS)]
    sizes, remaining = [], num_stems
    while remaining > 0:
        size = min(int(rng.integers(low, high + 1)), remaining)
        if 0 < remaining - size < low:  # never leave a lone dyad for the last session
            size = remaining if remaining <= high else max(low, remaining - low)
        sizes.append(size)
        remaining -= size
    return sizes


def _clock(seconds: int) -> str:
    seconds %= 24 * 3600
    return f"{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"


def _traits(rng: np.random.Generator, preferred_mode: int | None) -> dict[str, float]:
    shifts = MODE_TRAITS[REACTION_MODES[preferred_mode].name] if preferred_mode is not None else {}
    return {
        trait: round(float(np.clip(3.0 + shifts.get(trait, 0.0) + rng.normal(0, 0.45), 1.0, 5.0)), 2)
        for trait in BIG_FIVE
    }


def build_mars_plan(config: SynthConfig) -> MarsPlan:
    """Every split's stems (sessions, dyads, lengths, modes) and every person's traits."""
    preset = MARS_PRESETS[config.preset]
    low, high = preset.dyads_per_session
    shortest, longest = config.clip_lengths()
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, _PLAN_STREAM]))
    split_sizes = config.split_pairs()
    sizes_per_split = [_session_sizes(rng, n, low, high) for n in split_sizes]
    # A split holds fewer dyads than stems, so dyads (and persons) recur across its sessions.
    dyads_per_split = [max(max(sizes), math.ceil(0.6 * n)) for sizes, n in zip(sizes_per_split, split_sizes)]
    total_dyads = sum(dyads_per_split)
    # Each dyad is recorded on a day of its own (so stems never collide) at its own time of day.
    days = rng.choice(max(4 * total_dyads, 120), size=total_dyads, replace=False)
    start_of_day = rng.integers(9 * 3600, 16 * 3600, size=total_dyads)

    stems: dict[str, list[MarsStem]] = {}
    traits: dict[str, dict[str, float]] = {}
    preferred: dict[str, int] = {}
    first_dyad = 0
    for split, sizes, num_dyads in zip(SPLITS, sizes_per_split, dyads_per_split):
        dyads = range(first_dyad, first_dyad + num_dyads)
        first_dyad += num_dyads
        for dyad in dyads:
            preferred[f"L{dyad:03d}"] = int(rng.integers(len(REACTION_MODES)))
            traits[f"S{dyad:03d}"] = _traits(rng, None)
            traits[f"L{dyad:03d}"] = _traits(rng, preferred[f"L{dyad:03d}"])
        numbers = sorted(int(n) for n in rng.choice(NUM_SESSIONS, size=len(sizes), replace=False))
        rows = []
        for number, size in zip(numbers, sizes):
            for dyad in sorted(int(d) for d in rng.choice(dyads, size=size, replace=False)):
                day = datetime.date(2024, 3, 1) + datetime.timedelta(days=int(days[dyad]))
                # Sessions follow each other every ~3 minutes; the second clock is the camera's
                # start a few seconds earlier, as in the real stems.
                start = int(start_of_day[dyad]) + number * 190 + int(rng.integers(0, 60))
                stem = f"Camera-{day.isoformat()}-{_clock(start)}-{_clock(start - int(rng.integers(5, 40)))}"
                listener = f"L{dyad:03d}"
                if rng.random() < PREFERRED_MODE_PROBABILITY:
                    mode = preferred[listener]
                else:
                    mode = int(rng.integers(len(REACTION_MODES)))
                num_frames = int(round(math.exp(rng.uniform(math.log(shortest), math.log(longest)))))
                rows.append(
                    MarsStem(split, len(rows), f"session{number}", stem, f"S{dyad:03d}", listener, mode, num_frames)
                )
        stems[split] = rows
    return MarsPlan(stems, traits, preferred)
