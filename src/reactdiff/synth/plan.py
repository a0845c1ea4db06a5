"""Who is recorded where: the sessions, clips and pair rows of a synthetic dataset, with the hidden
labels (speaker prototype, reaction mode) that define appropriateness.

The plan is small (a few numbers per pair) and fully determined by the config, so it is built
up front; the per-clip behaviour is then generated and written one pair at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reactdiff.constants import SPLITS
from reactdiff.synth.settings import PRESET_CLIPS_PER_SESSION, SynthConfig

#: RECOLA groups and their two persons; each split gets one group (sessions never cross splits).
RECOLA_GROUPS = (("group-1", "P25", "P26"), ("group-2", "P41", "P42"), ("group-3", "P45", "P46"))
NOXI_PERSONS = ("Expert_video", "Novice_video")
NOXI_CITIES = ("Paris", "Nottingham", "Augsburg")
#: REACT 2024 names the persons P1/P2 in the Emotion folder only.
EMOTION_PERSON = {"Expert_video": "P1", "Novice_video": "P2", "P25": "P1", "P41": "P1", "P45": "P1",
                  "P26": "P2", "P42": "P2", "P46": "P2"}

NUM_PROTOTYPES = 4
NUM_MODES = 3


@dataclass(frozen=True)
class PairPlan:
    """One row of a split CSV and the hidden labels that generated it."""

    split: str
    index: int  # row in the split CSV
    site: str
    session: str
    clip: str
    speaker_person: str
    listener_person: str
    prototype: int  # speaker behaviour prototype (behaviour.PROTOTYPES)
    mode: int  # listener reaction mode (behaviour.REACTION_MODES)

    @property
    def speaker_path(self) -> str:
        return f"{self.site}/{self.session}/{self.speaker_person}/{self.clip}"

    @property
    def listener_path(self) -> str:
        return f"{self.site}/{self.session}/{self.listener_person}/{self.clip}"


def emotion_path(clip_path: str) -> str:
    """The clip path with the person renamed as in the REACT 2024 Emotion folder."""
    site, session, person, clip = clip_path.split("/")
    return f"{site}/{session}/{EMOTION_PERSON[person]}/{clip}"


def _noxi_session_name(number: int) -> str:
    # Dates and cities only look like NoXI's; they carry no meaning.
    day = 1 + (number * 7) % 28
    month = 3 + (number // 28) % 9
    return f"{number:03d}_2016-{month:02d}-{day:02d}_{NOXI_CITIES[number % len(NOXI_CITIES)]}"


def build_plan(config: SynthConfig) -> dict[str, list[PairPlan]]:
    """The pair rows of every split, in CSV order, with their prototype and mode labels."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0x504C414E]))
    clips_per_session = PRESET_CLIPS_PER_SESSION[config.preset]
    plan: dict[str, list[PairPlan]] = {}
    noxi_number = 1
    for split_index, (split, num_pairs) in enumerate(zip(SPLITS, config.split_pairs())):
        num_recola = int(round(config.recola_fraction * num_pairs))
        if config.recola_fraction > 0 and num_pairs >= 3:
            num_recola = max(num_recola, 1)  # keep both sites present even in tiny datasets
        num_recola = min(num_recola, num_pairs)
        sessions: list[tuple[str, str, tuple[str, str], int]] = []
        remaining = num_pairs - num_recola
        while remaining > 0:
            count = min(clips_per_session, remaining)
            sessions.append(("NoXI", _noxi_session_name(noxi_number), NOXI_PERSONS, count))
            noxi_number += 1
            remaining -= count
        if num_recola:
            group, first, second = RECOLA_GROUPS[split_index]
            sessions.append(("RECOLA", group, (first, second), num_recola))
        rows: list[PairPlan] = []
        for site, session, persons, count in sessions:
            for clip_number in range(1, count + 1):
                # Either person may be the speaker of a row; both directions are evaluated anyway.
                speaker_first = bool(rng.integers(2))
                speaker, listener = persons if speaker_first else persons[::-1]
                rows.append(
                    PairPlan(
                        split=split,
                        index=len(rows),
                        site=site,
                        session=session,
                        clip=str(clip_number),
                        speaker_person=speaker,
                        listener_person=listener,
                        prototype=int(rng.integers(NUM_PROTOTYPES)),
                        mode=int(rng.integers(NUM_MODES)),
                    )
                )
        plan[split] = rows
    return plan


def neighbour_matrix(rows: list[PairPlan]) -> np.ndarray:
    """The N x N appropriateness matrix (N = 2 x rows) in evaluation order.

    Forward directions (rows as listed) are appropriate to each other when their speakers share
    a prototype. A mirrored direction's speaker is a listener clip, labelled by what produced it
    (speaker prototype, reaction mode); two mirrored directions are appropriate to each other when
    the labels match. Forward and mirrored speakers behave differently (talking vs listening), so
    they are never neighbours.
    """
    prototypes = np.array([row.prototype for row in rows])
    labels = np.array([row.prototype * NUM_MODES + row.mode for row in rows])
    forward = prototypes[:, None] == prototypes[None, :]
    mirrored = labels[:, None] == labels[None, :]
    num_rows = len(rows)
    matrix = np.zeros((2 * num_rows, 2 * num_rows), dtype=bool)
    matrix[:num_rows, :num_rows] = forward
    matrix[num_rows:, num_rows:] = mirrored
    return matrix
