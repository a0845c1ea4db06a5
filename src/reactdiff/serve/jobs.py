"""Upload jobs of ``reactdiff serve``: a speaker clip (+ optional audio) in, K reactions out as the
side-by-side video with sound and the plots, with progress while it works.

The same path as ``reactdiff react`` (features -> K reactions -> predictions.npz -> grid video),
composed here so the server's already loaded model is reused and every phase reports progress.
Everything a job writes stays in its own folder under the server's working folder.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reactdiff.errors import ReactDiffError

#: What the type check accepts (the contents are checked by decoding them, too).
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")
AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".ogg", ".flac", ".webm", ".aac")


@dataclass
class Job:
    id: str
    folder: Path
    samples: int
    state: str = "queued"  # queued, running, done, error
    phase: str = "waiting"
    progress: float = 0.0
    message: str = ""
    files: dict[str, str] = field(default_factory=dict)  # label -> file name inside the folder
    started: float = field(default_factory=time.time)

    def as_json(self) -> dict:
        return {"id": self.id, "state": self.state, "phase": self.phase, "progress": round(self.progress, 3),
                "message": self.message, "seconds": round(time.time() - self.started, 1),
                "files": {label: f"/api/jobs/{self.id}/files/{name}" for label, name in self.files.items()}}


class JobRunner:
    """Runs upload jobs one at a time in a worker thread (the machine has few cores)."""

    def __init__(self, model, workdir: Path, max_seconds: float):
        self.model = model
        self.workdir = workdir
        self.max_seconds = max_seconds
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def new_job(self, samples: int) -> Job:
        job_id = uuid.uuid4().hex[:12]
        folder = self.workdir / "jobs" / job_id
        folder.mkdir(parents=True)
        job = Job(job_id, folder, samples)
        self.jobs[job_id] = job
        return job

    def run(self, job: Job, video: Path, audio: Path | None) -> None:
        """The job's work (blocking; call from a worker thread). Errors end up in ``job.message``."""
        with self._lock:
            job.state = "running"
            try:
                self._work(job, video, audio)
                job.state, job.phase, job.progress = "done", "done", 1.0
            except ReactDiffError as exc:
                job.state, job.message = "error", str(exc)
            except Exception as exc:  # a bug must not take the server down; say what happened
                job.state, job.message = "error", f"internal error: {type(exc).__name__}: {exc}"

    def _work(self, job: Job, video: Path, audio: Path | None) -> None:
        from reactdiff.errors import FeatureError
        from reactdiff.features import extract
        from reactdiff.features.extract import clip_frames
        from reactdiff.predictions import Predictions
        from reactdiff.render.rows import plot_row, render_row

        model = self.model
        job.phase = "checking the clip"
        frames = clip_frames(video)
        if frames > self.max_seconds * 25:
            raise FeatureError(video.name, f"clip is {frames / 25:.1f} s; this server takes clips up to {self.max_seconds:g} s")
        job.phase = "extracting features"
        done = [0]

        def tick(count: int) -> None:
            done[0] += count
            job.progress = 0.6 * min(1.0, done[0] / frames)

        streams = extract(video, audio_path=audio, streams=model.stream_names, progress=tick)
        count = min(len(values) for values in streams.values())
        speaker = {name: np.asarray(values[:count], np.float32) for name, values in streams.items()}
        job.phase, job.progress = f"generating {job.samples} reactions", 0.6
        reactions = model.generate(speaker, num_samples=job.samples, seed=0)
        predictions = Predictions(
            emotion=reactions["emotion"][None], coeffs_3dmm=reactions["coeffs_3dmm"][None],
            speaker_path=[video.name], listener_path=["generated"],
            meta={"method": model.name, "checkpoint": model.source, "samples": job.samples, "seed": 0, **model.sampling()},
        )
        path = job.folder / "predictions.npz"
        predictions.save(path)
        job.files["predictions"] = path.name
        job.phase, job.progress = "rendering the video", 0.7
        out = render_row(path, 0, job.folder / "reactions.mp4", speaker_video=video, audio=audio)
        job.files["video"] = out.name
        job.phase, job.progress = "drawing the plots", 0.9
        for figure in plot_row(path, 0, job.folder / "plots"):
            job.files[Path(figure).stem] = f"plots/{Path(figure).name}"
