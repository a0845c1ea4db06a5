"""Which feature streams ``reactdiff prepare`` computes for a REACT-layout dataset, grouped by
what they are computed from (the names, widths and kinds live in :mod:`reactdiff.streams`)."""

from __future__ import annotations

from dataclasses import dataclass

from reactdiff.errors import ConfigError
from reactdiff.streams import AUDIO_STREAMS, DATASET_STREAMS, EXTRA_STREAMS, VIDEO_STREAMS, StreamInfo


@dataclass(frozen=True)
class StreamPlan:
    """The streams to compute, grouped by the input they are computed from."""

    dataset: tuple[str, ...]
    audio: tuple[str, ...]
    video: tuple[str, ...]
    #: REACT 2026 side streams (EEG, personality): MARS layout only.
    extras: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.dataset + self.audio + self.video + self.extras


def plan_streams(names: tuple[str, ...] | list[str]) -> tuple[StreamPlan, dict[str, StreamInfo]]:
    """Split requested stream names by input; unknown names are an error listing the valid ones.
    The dataset's own emotion and 3DMM files take precedence over their video approximations."""
    groups: dict[str, list[str]] = {"dataset": [], "audio": [], "video": [], "extras": []}
    infos: dict[str, StreamInfo] = {}
    registries = (("dataset", DATASET_STREAMS), ("audio", AUDIO_STREAMS), ("video", VIDEO_STREAMS), ("extras", EXTRA_STREAMS))
    for name in names:
        for group, registry in registries:
            if name in registry:
                groups[group].append(name)
                infos[name] = registry[name]
                break
        else:
            valid = list(dict.fromkeys([*DATASET_STREAMS, *AUDIO_STREAMS, *VIDEO_STREAMS, *EXTRA_STREAMS]))
            raise ConfigError(f"unknown stream '{name}'; valid streams: {', '.join(valid)}")
    plan = StreamPlan(*(tuple(groups[g]) for g in ("dataset", "audio", "video", "extras")))
    return plan, {name: infos[name] for name in plan.all}
