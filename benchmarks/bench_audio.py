"""Benchmark audio decoding and each audio feature stream on one recording.

Usage: python benchmarks/bench_audio.py [--audio FILE] [--repeats N]

Each stage runs in a fresh Python process so its peak memory (VmHWM, see peak_memory.py) is its own. Prints a
table: first call (includes imports and, for ``voice``, loading the VAD network), best of
``--repeats`` warm calls, seconds of compute per second of audio, speed relative to real time,
and peak RSS. ``bench_extract.py`` can reuse :func:`benchmark_audio` and :func:`format_table`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AUDIO = ROOT.parent / "shared" / "media" / "conversation_16k.wav"
STAGES = ("decode", "mfcc", "mfcc78", "voice", "prosody")


sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak_memory import peak_rss_mib as _peak_rss_mib  # noqa: E402


def _measure(stage: str, audio: Path, repeats: int) -> dict:
    """Time one stage in this (fresh) process and report its peak memory."""
    from reactdiff.features.audio import AUDIO_FUNCTIONS, load_audio, num_video_frames

    before = _peak_rss_mib()
    if stage == "decode":
        run = lambda: load_audio(audio)  # noqa: E731
        samples, sample_rate = load_audio(audio)
        before = _peak_rss_mib()
    else:
        samples, sample_rate = load_audio(audio)
        num_frames = num_video_frames(samples, sample_rate)
        compute = AUDIO_FUNCTIONS[stage]
        run = lambda: compute(samples, sample_rate, num_frames)  # noqa: E731
        before = _peak_rss_mib()
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        warm.append(time.perf_counter() - start)
    return {
        "stage": stage,
        "audio_seconds": len(samples) / sample_rate,
        "first_s": first,
        "best_s": min(warm),
        "setup_rss_mib": before,
        "peak_rss_mib": _peak_rss_mib(),
    }


def _run_stage(stage: str, audio: Path, repeats: int) -> dict:
    """Run :func:`_measure` in a fresh interpreter so peak memory is the stage's own."""
    command = [sys.executable, __file__, "--measure", stage, "--audio", str(audio), "--repeats", str(repeats)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def benchmark_audio(audio: Path = DEFAULT_AUDIO, repeats: int = 3, stages: tuple[str, ...] = STAGES) -> list[dict]:
    """Measure each stage in its own subprocess; returns one result dict per stage.

    Also times decoding a 44.1 kHz stereo copy (REACT's own audio format), which adds
    downmixing and 44.1 -> 16 kHz resampling to the plain decode.
    """
    rows = [_run_stage(stage, audio, repeats) for stage in stages]
    import numpy as np
    import soundfile

    from reactdiff.features.audio import load_audio, resample

    samples, _rate = load_audio(audio)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "stereo_44k.wav"
        channel = resample(samples, 16000, 44100)
        soundfile.write(copy, np.stack([channel, channel], axis=1), 44100, subtype="PCM_16")
        row = _run_stage("decode", copy, repeats)
    row["stage"] = "decode 44.1 kHz stereo"
    rows.insert(1, row)
    return rows


def hardware_line() -> str:
    """The shared hardware line with the libraries decoding and feature extraction use."""
    import numpy

    from reactdiff.hardware import hardware_line as shared_line

    return shared_line(f"numpy {numpy.__version__}")


def format_table(rows: list[dict]) -> str:
    """Markdown table of :func:`benchmark_audio` results."""
    lines = [
        "| stage | first call s | warm s (best) | s per s audio | x real time | setup RSS MiB | peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        per_second = row["best_s"] / row["audio_seconds"]
        lines.append(
            f"| {row['stage']} | {row['first_s']:.3f} | {row['best_s']:.4f} | {per_second:.5f} | "
            f"{1.0 / per_second:,.0f} | {row['setup_rss_mib']:.0f} | {row['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO, help="audio or video file to decode")
    parser.add_argument("--repeats", type=int, default=3, help="warm calls per stage (best is reported)")
    parser.add_argument("--measure", choices=STAGES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.measure, args.audio, args.repeats)))
        return
    rows = benchmark_audio(args.audio, args.repeats)
    print(f"audio: {args.audio.name}, {rows[0]['audio_seconds']:.1f} s, decoded to 16 kHz mono")
    print(hardware_line())
    print(format_table(rows))


if __name__ == "__main__":
    main()
