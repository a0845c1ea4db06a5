"""``reactdiff data check`` for the MARS layout (REACT 2025/2026): every problem with its file.

Reported: a missing split or role folder, an empty session folder, a stem with no partner under the
other role, unreadable/mis-shaped/non-finite attribute and coefficient files, out-of-range
attribute values, missing/truncated/unreadable audio, length mismatches (attributes against
coefficients, audio against attributes beyond :data:`~reactdiff.data.wav.SHORTFALL_TOLERANCE_SECONDS`,
speaker against listener), a missing mean face, and bad personality or EEG files. Archive debris
(``._x.npy``, ``.DS_Store``, ``__MACOSX``, ``PaxHeader``) is skipped silently.
"""

from __future__ import annotations

from pathlib import Path

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM
from reactdiff.data.problems import Problem, emotion_problems, mean_face_problems
from reactdiff.data.mars import ATTRIBUTES, EEG, PERSONALITY, ROLES, MarsLayout, partner_of, read_frames_npy
from reactdiff.data.wav import SHORTFALL_TOLERANCE_SECONDS, wav_problems
from reactdiff.errors import DataError


def check_mars(layout: MarsLayout, splits) -> list[Problem]:
    """Every problem of the MARS dataset at ``layout.root`` in ``splits``."""
    problems: list[Problem] = mean_face_problems(layout)
    for split in splits:
        if not layout.has_split(split):
            problems.append(Problem(layout.split_dir(split) / ATTRIBUTES, "split folder missing (no facial-attributes)"))
            continue
        try:
            problems += _split_problems(layout, split)
        except DataError as exc:  # a folder resolving outside the root
            problems.append(Problem(exc.path, exc.problem))
    return problems


def _split_problems(layout: MarsLayout, split: str) -> list[Problem]:
    problems: list[Problem] = []
    base = layout.split_dir(split) / ATTRIBUTES
    listing = layout.listing(split)
    for role in ROLES:
        if not (base / role).is_dir():
            problems.append(Problem(base / role, f"{role} folder missing"))
    for (role, session), stems in listing.items():
        if not stems:
            problems.append(Problem(base / role / session, "empty session folder (no .npy files)"))
    lengths: dict[str, int] = {}
    for clip in layout.clips(split):
        clip_problems, frames = _clip_problems(layout, split, clip)
        problems += clip_problems
        if frames is not None:
            lengths[clip] = frames
    for clip in layout.unpaired(split):
        problems.append(Problem(layout.emotion_path(split, clip), f"no partner: {partner_of(clip)} is missing"))
    for pair in layout.pairs(split):
        speaker, listener = lengths.get(pair.speaker), lengths.get(pair.listener)
        if speaker is not None and listener is not None and speaker != listener:
            problems.append(Problem(
                layout.emotion_path(split, pair.listener),
                f"length mismatch: listener has {listener} frames, its speaker {pair.speaker} has {speaker} "
                f"(prepare stores both at {min(speaker, listener)})",
            ))
    problems += _personality_problems(layout, split)
    problems += _eeg_problems(layout, split, lengths)
    return problems


def _clip_problems(layout: MarsLayout, split: str, clip: str) -> tuple[list[Problem], int | None]:
    """Problems of one clip's files, and its attribute frame count when readable."""
    problems: list[Problem] = []
    attributes_path, coeffs_path, audio_path = (
        layout.emotion_path(split, clip), layout.coeffs_path(split, clip), layout.audio_path(split, clip),
    )
    frames = coeff_frames = None
    try:
        attributes = read_frames_npy(attributes_path, EMOTION_DIM, "facial-attributes array")
        frames = int(attributes.shape[0])
        problems += [Problem(attributes_path, message) for message in emotion_problems(attributes)]
    except DataError as exc:
        problems.append(Problem(exc.path, exc.problem))
    if not coeffs_path.is_file():
        problems.append(Problem(coeffs_path, "3DMM coefficient file missing"))
    else:
        try:
            coeff_frames = int(read_frames_npy(coeffs_path, COEFFS_3DMM_DIM, "3DMM coefficient array").shape[0])
        except DataError as exc:
            problems.append(Problem(exc.path, exc.problem))
    if frames is not None and coeff_frames is not None and frames != coeff_frames:
        problems.append(Problem(coeffs_path, f"length mismatch: {coeff_frames} frames, the facial attributes have {frames}"))
    if not audio_path.is_file():
        problems.append(Problem(audio_path, "audio WAV missing"))
    elif frames is not None:
        # Short audio is reported by wav_problems; long audio (beyond rounding) is a mismatch too.
        messages = wav_problems(audio_path, frames, fps=layout.fps)
        problems += [Problem(audio_path, message) for message in messages]
        if not messages:
            audio = layout.file_frames(split, clip)["audio"]
            tolerance = round(SHORTFALL_TOLERANCE_SECONDS * layout.fps)
            if audio is not None and audio - frames > tolerance:
                problems.append(Problem(audio_path, f"length mismatch: audio covers {audio} frames at {layout.fps} fps, the facial attributes have {frames}"))
    return problems, frames


def _personality_problems(layout: MarsLayout, split: str) -> list[Problem]:
    from reactdiff.data.mars_extras import personality_range_problems

    folder = layout.split_dir(split) / PERSONALITY
    if not folder.is_dir():
        return []  # REACT 2025 has none
    problems = []
    for role in ROLES:
        path = layout.personality_path(split, role)
        if not path.is_file():
            if role == "listener":  # the 2026 loader requires it; speaker.csv is optional
                problems.append(Problem(path, "listener personality table missing"))
            continue
        try:
            problems += [Problem(path, message) for message in personality_range_problems(path)]
        except DataError as exc:
            problems.append(Problem(exc.path, exc.problem))
    return problems


def _eeg_problems(layout: MarsLayout, split: str, lengths: dict[str, int]) -> list[Problem]:
    from reactdiff.data.mars_extras import read_eeg_csv

    if not (layout.split_dir(split) / EEG).is_dir():
        return []  # REACT 2025 has none; a missing file per clip is read as zeros with mask 0
    problems = []
    for clip, frames in lengths.items():
        path = layout.eeg_path(split, clip)
        if not path.is_file():
            continue
        try:
            values, _mask = read_eeg_csv(path)
        except DataError as exc:
            problems.append(Problem(exc.path, exc.problem))
            continue
        seconds = frames / layout.fps
        if len(values) < seconds - 1:
            problems.append(Problem(path, f"{len(values)} rows (one per second) cover less than the clip's {seconds:.1f} s; the last row is repeated"))
    return problems


__all__ = ["check_mars"]
