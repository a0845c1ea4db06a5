"""Reading the REACT 2025/2026 dataset layout (MARS; see docs/data.md and the MARS data spec).

There are no split lists: a clip is named ``<role>/<session>/<stem>``, e.g.
``speaker/session3/Camera-2024-06-21-103121-103102``, found by walking
``<root>/<split>/facial-attributes/``, and every file of a clip follows from its name::

    <root>/<split>/facial-attributes/<clip>.npy    (T, 25) per-frame attributes, 30 fps
    <root>/<split>/coefficients/<clip>.npy         (T, 58) FaceVerse 3DMM (singleton dims allowed)
    <root>/<split>/audio/<clip>.wav
    <root>/<split>/video-face-crop/<clip>.mp4
    <root>/<split>/eeg_processed/<clip>.csv        REACT 2026 only (see reactdiff.data.mars_extras)
    <root>/<split>/personality/<role>.csv          REACT 2026 only

A speaker and a listener clip with the same session and stem are one dyad. Clips are ordered as the
2026 baseline's deterministic metrics script orders them: roles speaker then listener, sessions and
files sorted lexicographically (``session0, session1, session10, ...``). Archive debris (names
starting with ``.`` or ``._``, ``__MACOSX``, ``PaxHeader``) is skipped.
"""

from __future__ import annotations

import math
import os
import random
from pathlib import Path

import numpy as np

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM, SPLITS
from reactdiff.data.base import Pair, RootedLayout, check_finite
from reactdiff.errors import DataError
from reactdiff.io import load_json, load_npy, require_real, save_json

#: MARS videos and per-frame files are 30 fps.
MARS_FPS = 30
ROLES = ("speaker", "listener")
ATTRIBUTES, COEFFICIENTS, AUDIO, VIDEO, EEG, PERSONALITY = (
    "facial-attributes", "coefficients", "audio", "video-face-crop", "eeg_processed", "personality",
)
#: Ground truths per evaluation item (1 paired + 9 drawn), and the seed of the deterministic draw
#: (the 2026 baseline's ``baseline_reaction_metrics.py``).
APPROPRIATE_SIZE = 10
APPROPRIATE_SEED = 1234
APPROPRIATE_FORMAT = "reactdiff-appropriate-sets/1"


def is_debris(name: str) -> bool:
    """Archive debris the reader skips silently: hidden and AppleDouble (``._x``) files, macOS
    ``__MACOSX`` folders and tar ``PaxHeader`` entries."""
    return name.startswith(".") or name == "__MACOSX" or name.startswith("PaxHeader")


def read_frames_npy(path: Path, width: int, what: str) -> np.ndarray:
    """A per-frame ``.npy`` as ``(T, width)`` float32: singleton dimensions squeezed away (the
    coefficients may be (T, 1, 1, 58)), real and finite values only, never pickle."""
    values = require_real(load_npy(path, what), path, what)
    squeezed = values.reshape([size for size in values.shape if size != 1] or [1])
    if squeezed.ndim == 1 and squeezed.shape[0] == width:
        squeezed = squeezed[None, :]  # a one-frame file
    if squeezed.ndim != 2 or squeezed.shape[1] != width or squeezed.shape[0] == 0:
        raise DataError(path, f"{what} must have shape (T, {width}) once singleton dimensions are squeezed, got {values.shape}")
    return check_finite(squeezed.astype(np.float32), path)


def partner_of(clip: str) -> str:
    """The same session and stem under the other role (the dyad's other person)."""
    role, session, stem = clip.split("/")
    return f"{ROLES[1 - ROLES.index(role)]}/{session}/{stem}"


class MarsLayout(RootedLayout):
    """A MARS-layout dataset (REACT 2025/2026) with the public interface of
    :class:`~reactdiff.data.layout.ReactLayout` where it applies.

    ``load_emotion`` and ``load_3dmm`` return whole files; ``clip_frames`` is the length every
    stream of a clip is cut to when prepared (the shortest of the dyad's files, see there)."""

    name = "react2025"
    fps = MARS_FPS

    def __init__(self, root: str | Path, mean_face: str | Path | None = None):
        super().__init__(root, mean_face)
        self._listings: dict[str, dict[tuple[str, str], list[str]]] = {}
        self._file_frames: dict[tuple[str, str], dict[str, int | None]] = {}
        self._personality_tables: dict[tuple[str, str], dict] = {}
        self._eeg_archives: dict[str, object] = {}

    # -- enumeration ---------------------------------------------------------------------------
    def split_dir(self, split: str) -> Path:
        if split not in SPLITS:
            raise DataError(None, f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        return self.root / split

    def has_split(self, split: str) -> bool:
        """Whether ``<split>/facial-attributes`` exists (the folder clips are found in)."""
        return (self.split_dir(split) / ATTRIBUTES).is_dir()

    def listing(self, split: str) -> dict[tuple[str, str], list[str]]:
        """``{(role, session): sorted stems}`` of every session folder under facial-attributes
        (empty folders included, with no stems); debris skipped."""
        if split not in self._listings:
            found: dict[tuple[str, str], list[str]] = {}
            base = self._inside(self.split_dir(split) / ATTRIBUTES)
            for role in ROLES:
                role_dir = base / role
                if not role_dir.is_dir():
                    continue
                self._inside(role_dir)
                for session in sorted(_entries(role_dir)):
                    session_dir = self._inside(role_dir / session)
                    if not session_dir.is_dir():
                        continue
                    stems = [name[: -len(".npy")] for name in _entries(session_dir) if name.endswith(".npy")]
                    found[(role, session)] = sorted(stems)
            self._listings[split] = found
        return self._listings[split]

    def clips(self, split: str) -> list[str]:
        """Every clip of a split once: speakers then listeners, sessions and stems sorted."""
        return [f"{role}/{session}/{stem}" for (role, session), stems in self.listing(split).items() for stem in stems]

    def folder_clips(self, split: str, role: str, session: str) -> list[str]:
        """The clips in one role/session folder (the appropriate-reaction pool of that session)."""
        return [f"{role}/{session}/{stem}" for stem in self.listing(split).get((role, session), [])]

    def pairs(self, split: str) -> list[Pair]:
        """Speaker -> listener for every stem present under both roles of a session."""
        listing = self.listing(split)
        pairs = []
        for (role, session), stems in listing.items():
            if role != "speaker":
                continue
            listeners = set(listing.get(("listener", session), ()))
            pairs += [Pair(f"speaker/{session}/{stem}", f"listener/{session}/{stem}") for stem in stems if stem in listeners]
        return pairs

    def eval_order(self, split: str) -> list[Pair]:
        """All pairs, then all pairs mirrored (N = 2 x stems): the 2025 loader's both directions
        in our 2024 order. Predictions files and appropriate sets are indexed in this order."""
        pairs = self.pairs(split)
        return pairs + [pair.mirrored() for pair in pairs]

    def unpaired(self, split: str) -> list[str]:
        """Clips whose dyad partner is missing (the loaders skip them)."""
        clips = set(self.clips(split))
        return [clip for clip in self.clips(split) if partner_of(clip) not in clips]

    # -- appropriate-reaction sets (replace 2024's neighbour matrix) ----------------------------
    def appropriate_sets(self, split: str, seed: int = APPROPRIATE_SEED, size: int = APPROPRIATE_SIZE) -> list[list[str]]:
        """The ``size`` ground-truth clips of every eval-order item (MARS spec section 2).

        The paired target first; then ``size - 1`` drawn from the other clips of the target role's
        folder of the same session: without replacement when there are enough, with replacement
        when there are 1 to size - 2, the paired target repeated when there are none. One
        ``random.Random(seed)`` draws over the eval order (speaker-role inputs first), from pools
        in sorted order, as the 2026 ``baseline_reaction_metrics.py`` does: the result depends on
        the data only, never on workers or batch sizes."""
        if size < 1:
            raise DataError(None, f"appropriate-set size must be at least 1, got {size}")
        rng = random.Random(seed)
        sets = []
        for pair in self.eval_order(split):
            target = pair.listener
            role, session, _stem = target.split("/")
            others = [clip for clip in self.folder_clips(split, role, session) if clip != target]
            extra = size - 1
            if len(others) >= extra:
                drawn = rng.sample(others, extra)
            elif others:
                drawn = rng.choices(others, k=extra)
            else:
                drawn = [target] * extra
            sets.append([target, *drawn])
        return sets

    def has_neighbours(self, split: str) -> bool:
        """Whether :meth:`neighbours` can be built (any split that exists: it follows from sessions)."""
        return self.has_split(split)

    def neighbours(self, split: str) -> np.ndarray:
        """The N x N appropriateness matrix of the eval order that methods training on every
        appropriate reaction (REGNN, ReactFace) read, by the MARS rule: item j's target is
        appropriate to item i when both targets are of the same role and session. (Evaluation
        uses :meth:`appropriate_sets`, the protocol's 10 drawn per item.)"""
        folders = [tuple(pair.listener.split("/")[:2]) for pair in self.eval_order(split)]
        index = {folder: number for number, folder in enumerate(dict.fromkeys(folders))}
        codes = np.array([index[folder] for folder in folders])
        return (codes[:, None] == codes[None, :]).astype(np.int8)

    # -- file locations ------------------------------------------------------------------------
    def _clip_file(self, split: str, folder: str, clip: str, suffix: str) -> Path:
        parts = clip.split("/")
        if len(parts) != 3 or parts[0] not in ROLES or any(not part or part == ".." or any(ord(c) < 32 for c in part) for part in parts):
            raise DataError(
                self.split_dir(split) / folder,
                f"clip name {clip!r} is not <role>/<session>/<stem> with role speaker or listener",
            )
        return self._inside(self.split_dir(split) / folder / f"{clip}{suffix}", split, clip)

    def emotion_path(self, split: str, clip: str) -> Path:
        return self._clip_file(split, ATTRIBUTES, clip, ".npy")

    def coeffs_path(self, split: str, clip: str) -> Path:
        return self._clip_file(split, COEFFICIENTS, clip, ".npy")

    def audio_path(self, split: str, clip: str) -> Path:
        return self._clip_file(split, AUDIO, clip, ".wav")

    def video_path(self, split: str, clip: str) -> Path | None:
        """The 384x384 face-crop video; None when absent."""
        path = self._clip_file(split, VIDEO, clip, ".mp4")
        return path if path.is_file() else None

    def eeg_path(self, split: str, clip: str) -> Path:
        return self._clip_file(split, EEG, clip, ".csv")

    def personality_path(self, split: str, role: str) -> Path:
        if role not in ROLES:
            raise DataError(None, f"unknown role {role!r}; expected speaker or listener")
        return self._inside(self.split_dir(split) / PERSONALITY / f"{role}.csv")

    # -- loading -------------------------------------------------------------------------------
    def load_emotion(self, split: str, clip: str) -> np.ndarray:
        """(T, 25) float32, the whole file (T = the file's frames, not :meth:`clip_frames`)."""
        path = self.emotion_path(split, clip)
        if not path.is_file():
            raise DataError(path, "facial-attributes file not found")
        return read_frames_npy(path, EMOTION_DIM, "facial-attributes array")

    def load_3dmm(self, split: str, clip: str) -> np.ndarray:
        """(T, 58) float32 minus the mean face ("zero_center", as for the 2024 layout: our
        renderer adds the mean face back). The MARS loaders' default also divides by std_face."""
        path = self.coeffs_path(split, clip)
        if not path.is_file():
            raise DataError(path, "3DMM coefficient file not found")
        return read_frames_npy(path, COEFFS_3DMM_DIM, "3DMM coefficient array") - self.mean_face

    def file_frames(self, split: str, clip: str) -> dict[str, int | None]:
        """Frames of the clip's attribute and coefficient files, and the frames at 30 fps its audio
        covers (a partial last frame counts); None for an absent audio file."""
        cache_key = (split, clip)
        if cache_key not in self._file_frames:
            attributes = read_frames_npy(self._existing(self.emotion_path(split, clip), "facial-attributes file"), EMOTION_DIM, "facial-attributes array")
            coefficients = read_frames_npy(self._existing(self.coeffs_path(split, clip), "3DMM coefficient file"), COEFFS_3DMM_DIM, "3DMM coefficient array")
            audio = self.audio_path(split, clip)
            self._file_frames[cache_key] = {
                "attributes": int(attributes.shape[0]),
                "coefficients": int(coefficients.shape[0]),
                "audio": audio_frames(audio, self.fps) if audio.is_file() else None,
            }
        return self._file_frames[cache_key]

    @staticmethod
    def _existing(path: Path, what: str) -> Path:
        if not path.is_file():
            raise DataError(path, f"{what} not found")
        return path

    def dyad(self, split: str, clip: str) -> list[str]:
        """The clip and, when it exists, its partner: the clips whose files set its length."""
        partner = partner_of(clip)
        return [clip, partner] if self.emotion_path(split, partner).is_file() else [clip]

    def clip_frames(self, split: str, clip: str) -> int:
        """Frames every stream of the clip is cut to: the fewest of the attribute, coefficient and
        audio frames of the clip and its dyad partner (the 2026 loader's defensive T = min(...)),
        so that both people of a dyad are stored with the same length."""
        lengths = [value for member in self.dyad(split, clip) for value in self.file_frames(split, member).values() if value is not None]
        return min(lengths)

    def length_sources(self, split: str, clip: str) -> list[Path]:
        """The files :meth:`clip_frames` depends on (inputs of every stored stream of the clip)."""
        paths = []
        for member in self.dyad(split, clip):
            paths += [self.emotion_path(split, member), self.coeffs_path(split, member)]
            audio = self.audio_path(split, member)
            paths += [audio] if audio.is_file() else []
        return paths

    def personality(self, split: str, clip: str) -> np.ndarray | None:
        """(1, 5) float32 Big-Five vector of the clip's person (MARS spec section 5), looked up by
        (session, stem) then stem in ``personality/<role>.csv``; None when the table has no row."""
        from reactdiff.data.mars_extras import lookup_personality, read_personality_csv

        role, session, stem = clip.split("/")
        path = self.personality_path(split, role)
        if (split, role) not in self._personality_tables:
            self._personality_tables[(split, role)] = read_personality_csv(path)
        vector = lookup_personality(self._personality_tables[(split, role)], session, stem)
        return None if vector is None else vector[None, :]

    def load_personality(self, split: str, clip: str) -> np.ndarray:
        """:meth:`personality`, with a missing row a DataError naming the table."""
        vector = self.personality(split, clip)
        if vector is None:
            role, session, stem = clip.split("/")
            raise DataError(self.personality_path(split, role), f"no personality row for {clip} (looked up session {session!r} and stem {stem!r})")
        return vector

    def eeg_archive_path(self, split: str) -> Path:
        return self._inside(self.split_dir(split) / f"{EEG}.tar.gz")

    def eeg_source(self, split: str, clip: str) -> Path | None:
        """Where the clip's EEG is read from: its CSV, else the split's ``eeg_processed.tar.gz``
        (the baseline's fallback, used only without an ``eeg_processed`` folder); None when neither
        exists. A DataError when the split has no EEG at all (the stream was asked for by mistake)."""
        folder = self.split_dir(split) / EEG
        if folder.is_dir():
            path = self.eeg_path(split, clip)
            return path if path.is_file() else None
        archive = self.eeg_archive_path(split)
        if archive.is_file():
            return archive
        raise DataError(folder, f"no EEG folder (nor {archive.name}) in this split (REACT 2026 data only); drop the eeg streams")

    def load_eeg(self, split: str, clip: str, num_frames: int) -> tuple[np.ndarray, np.ndarray, bool]:
        """Per-frame ``(eeg, mask, found)``, each array (num_frames, 14). A clip without an EEG file
        gets zeros with mask 0 and ``found`` False, as the 2026 loader does."""
        from reactdiff.data.mars_extras import EegArchive, eeg_per_frame, missing_eeg, read_eeg_csv

        source = self.eeg_source(split, clip)
        if source is None:
            return (*missing_eeg(num_frames), False)
        if source.name.endswith(".tar.gz"):
            if split not in self._eeg_archives:
                self._eeg_archives[split] = EegArchive(source)
            data = self._eeg_archives[split].read(clip)
            if data is None:
                return (*missing_eeg(num_frames), False)
            values, mask = read_eeg_csv(source / clip, data)
        else:
            values, mask = read_eeg_csv(source)
        return (*eeg_per_frame(values, mask, num_frames, self.fps), True)


def _entries(folder: Path) -> list[str]:
    """Names in a folder, archive debris left out."""
    return [name for name in os.listdir(folder) if not is_debris(name)]


def audio_frames(path: Path, fps: int) -> int:
    """Frames at ``fps`` a WAV covers (partial last frame counted); a DataError when unreadable."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise DataError(path, f"unreadable audio ({exc})") from exc
    return int(math.ceil(info.frames * fps / info.samplerate)) if info.samplerate else 0


# -- recorded appropriate sets ------------------------------------------------------------------
def save_appropriate_sets(path: str | Path, sets: list[list[str]], seed: int, items: list[Pair] | None = None) -> None:
    """Write the drawn ground-truth membership (paths, order, repeats) atomically as JSON, so every
    model is scored against the same sets. ``items`` (the eval order) is recorded beside them."""
    record = {"format": APPROPRIATE_FORMAT, "seed": seed, "size": len(sets[0]) if sets else 0, "sets": sets}
    if items is not None:
        if len(items) != len(sets):
            raise DataError(path, f"{len(items)} items but {len(sets)} appropriate sets")
        record["items"] = [[pair.speaker, pair.listener] for pair in items]
    save_json(path, record)


def load_appropriate_sets(path: str | Path) -> list[list[str]]:
    """The sets written by :func:`save_appropriate_sets`, validated."""
    record = load_json(path)
    if not isinstance(record, dict) or record.get("format") != APPROPRIATE_FORMAT:
        raise DataError(path, f"not an appropriate-sets file (expected format {APPROPRIATE_FORMAT!r})")
    sets = record.get("sets")
    if not isinstance(sets, list) or not all(
        isinstance(members, list) and members and all(isinstance(clip, str) for clip in members) for members in sets
    ):
        raise DataError(path, "'sets' must be a list of non-empty lists of clip names")
    return sets


__all__ = [
    "APPROPRIATE_SEED", "APPROPRIATE_SIZE", "MARS_FPS", "MarsLayout", "ROLES", "is_debris",
    "load_appropriate_sets", "partner_of", "read_frames_npy", "save_appropriate_sets",
]
