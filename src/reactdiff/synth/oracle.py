"""The oracle: K reactions per evaluated row drawn from the synthetic corpus's own generative
process, the ceiling a learned generator can reach on this corpus.

- Rows as listed (speaker -> listener): the speaker's behaviour state is regenerated exactly from
  the dataset's seed and the row's plan; each of the K reactions is a fresh listener reacting to
  it: a reaction mode drawn among the modes, a fresh listener style, lag and noise.
- Mirrored rows (the listener's behaviour as the "speaker"): the corpus never generates a speaker
  from a listener, so the exact posterior is not available; each of the K reactions is a fresh
  speaker of the row's hidden prototype (the prior given the label that defines appropriateness).
  These are appropriate by construction but not synchronised with the row's input, so the
  oracle's synchrony on mirrored rows is not a ceiling.

The hidden labels come from the corpus's ``synth_labels.json``; only the oracle reads them.

For a MARS-layout corpus (``--preset mars-*``), ``mars_oracle_reactions`` gives K fresh listener
reactions to one speaker stem of any length (the speaker regenerated exactly, each reaction a new
listener of the session's script, mode drawn among the modes), and ``mars_oracle_predictions``
the rows of a split in evaluation order: mirrored rows (listener -> speaker) get fresh speakers of
the session's script, appropriate by the MARS rule (same session) but, as above, not a synchrony
ceiling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reactdiff.constants import CLIP_FRAMES
from reactdiff.errors import ConfigError
from reactdiff.predictions import Predictions

#: Tag that keeps the oracle's random stream apart from the corpus's own streams.
_ORACLE_STREAM = 0x4F52434C


def is_synthetic(root: str | Path) -> bool:
    from reactdiff.synth.writer import CONFIG_NAME, LABELS_NAME

    root = Path(root)
    return (root / CONFIG_NAME).is_file() and (root / LABELS_NAME).is_file()


def oracle_predictions(root: str | Path, split: str, num_samples: int = 10, seed: int = 0) -> Predictions:
    """The oracle's (N, K, 750, ·) predictions for ``split`` in its evaluation order."""
    from reactdiff.config import from_dict
    from reactdiff.io import load_json
    from reactdiff.synth.behaviour import PROTOTYPES, REACTION_MODES, listener_behaviour, person_style, reaction_lag, speaker_behaviour
    from reactdiff.synth.face import face_from_state
    from reactdiff.synth.generate import pair_rng, style_of
    from reactdiff.synth.plan import build_plan
    from reactdiff.synth.settings import SynthConfig
    from reactdiff.synth.writer import CONFIG_NAME

    root = Path(root)
    if not is_synthetic(root):
        raise ConfigError(f"the oracle needs a synthetic corpus written by `reactdiff synth` ({root} has no {CONFIG_NAME} and synth_labels.json); it does not exist for real data")
    config = from_dict(SynthConfig, load_json(root / CONFIG_NAME))
    if config.is_mars:
        raise ConfigError(f"{root / CONFIG_NAME}: a MARS-layout corpus; use reactdiff.synth.oracle.mars_oracle_reactions")
    rows = build_plan(config)[split]
    frames = CLIP_FRAMES
    emotion = np.empty((2 * len(rows), num_samples, frames, 25), np.float32)
    coeffs = np.empty((2 * len(rows), num_samples, frames, 58), np.float32)
    for index, row in enumerate(rows):
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, _ORACLE_STREAM, seed, index]))
        # The row's speaker exactly as the corpus drew it (same stream, same first draws).
        speaker_style = style_of(config.seed, row.split, row.session, row.speaker_person)
        speaker_state = speaker_behaviour(PROTOTYPES[row.prototype], speaker_style, pair_rng(config.seed, row), frames + 1)
        for k in range(num_samples):
            mode = REACTION_MODES[int(rng.integers(len(REACTION_MODES)))]
            style = person_style(rng)
            state = listener_behaviour(speaker_state, mode, style, rng, reaction_lag(mode, style, rng))
            emotion[index, k], coeffs[index, k] = (array[:frames] for array in face_from_state(state, style, rng))
            fresh_style = person_style(rng)
            fresh_speaker = speaker_behaviour(PROTOTYPES[row.prototype], fresh_style, rng, frames + 1)
            mirrored = len(rows) + index
            emotion[mirrored, k], coeffs[mirrored, k] = (array[:frames] for array in face_from_state(fresh_speaker, fresh_style, rng))
    return Predictions(
        emotion=emotion,
        coeffs_3dmm=coeffs,
        speaker_path=[row.speaker_path for row in rows] + [row.listener_path for row in rows],
        listener_path=[row.listener_path for row in rows] + [row.speaker_path for row in rows],
        meta={"baseline": "oracle", "split": split, "num_samples": num_samples, "seed": seed},
    )


def mars_oracle_predictions(root: str | Path, split: str, num_samples: int = 10, seed: int = 0) -> Predictions:
    """The oracle's predictions for ``split`` of a MARS-layout synthetic corpus, rows of any length
    in the split's evaluation order (see the module docstring)."""
    from reactdiff.data.layouts import open_layout

    pairs = open_layout(root, "react2025").eval_order(split)
    emotion, coeffs = [], []
    for pair in pairs:
        role, session, stem = pair.speaker.split("/")
        reacting = "listener" if role == "speaker" else "speaker"
        rows = mars_oracle_reactions(root, split, session, stem, num_samples, seed, reacting=reacting)
        emotion.append(rows[0])
        coeffs.append(rows[1])
    return Predictions(
        emotion=emotion, coeffs_3dmm=coeffs,
        speaker_path=[pair.speaker for pair in pairs], listener_path=[pair.listener for pair in pairs],
        meta={"baseline": "oracle", "split": split, "num_samples": num_samples, "seed": seed},
    )


def mars_oracle_reactions(
    root: str | Path, split: str, session: str, stem: str, num_samples: int = 10, seed: int = 0,
    reacting: str = "listener",
) -> tuple[np.ndarray, np.ndarray]:
    """K = ``num_samples`` fresh listener reactions to the speaker of ``<split>/speaker/<session>/<stem>``
    of a MARS-layout synthetic corpus: emotion (K, T, 25) and 3DMM offsets from the mean face
    (K, T, 58), T the stem's length. Each is a new listener (style, mode, lag, noise) of the
    session's script, so all are appropriate by the MARS rule (same session). ``reacting="speaker"``:
    K fresh speakers of the session's script instead (the mirrored row's reactions)."""
    from reactdiff.config import from_dict
    from reactdiff.io import load_json
    from reactdiff.synth.behaviour import REACTION_MODES, listener_behaviour, person_style, reaction_lag, speaker_behaviour
    from reactdiff.synth.face import face_from_state
    from reactdiff.synth.mars_plan import build_mars_plan, content_mood, session_script
    from reactdiff.synth.mars_writer import MIN_GENERATED_FRAMES, mars_style, stem_rng
    from reactdiff.synth.settings import MARS_FPS, SynthConfig
    from reactdiff.synth.writer import CONFIG_NAME

    root = Path(root)
    if not is_synthetic(root):
        raise ConfigError(f"the oracle needs a synthetic corpus written by `reactdiff synth` ({root} has no {CONFIG_NAME})")
    config = from_dict(SynthConfig, load_json(root / CONFIG_NAME))
    if not config.is_mars:
        raise ConfigError(f"{root / CONFIG_NAME}: preset {config.preset!r} is not a MARS layout; use oracle_predictions")
    matches = [item for item in build_mars_plan(config).stems.get(split, []) if (item.session, item.stem) == (session, stem)]
    if not matches:
        raise ConfigError(f"{root}: no stem {split}/{session}/{stem} in this corpus")
    item = matches[0]
    script = session_script(config.seed, item.script)
    num_frames = max(item.num_frames, MIN_GENERATED_FRAMES)
    # The stem's speaker exactly as the corpus drew it (same stream, same first draws).
    speaker_style = mars_style(config.seed, item.split, item.speaker_person)
    speaker = speaker_behaviour(script.speaker, speaker_style, stem_rng(config.seed, item), num_frames, MARS_FPS)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, _ORACLE_STREAM, seed, 0x4D415253, item.index]))
    emotion = np.empty((num_samples, item.num_frames, 25), np.float32)
    coeffs = np.empty((num_samples, item.num_frames, 58), np.float32)
    if reacting not in ("listener", "speaker"):
        raise ValueError(f"reacting must be 'listener' or 'speaker', got {reacting!r}")
    for k in range(num_samples):
        if reacting == "speaker":
            style = person_style(rng)
            state = speaker_behaviour(script.speaker, style, rng, num_frames, MARS_FPS)
        else:
            mode = REACTION_MODES[int(rng.integers(len(REACTION_MODES)))]
            style = content_mood(person_style(rng), script)
            state = listener_behaviour(speaker, mode, style, rng, reaction_lag(mode, style, rng, MARS_FPS))
        emotion[k], coeffs[k] = (array[: item.num_frames] for array in face_from_state(state, style, rng))
    return emotion, coeffs
