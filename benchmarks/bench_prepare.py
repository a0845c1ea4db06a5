"""Benchmark ``data check`` and ``prepare`` on a REACT-layout dataset: what the input checks and the
freshness signatures cost.

Usage: python benchmarks/bench_prepare.py [--data ROOT | --preset tiny] [--repeats N]

Without ``--data`` a synthetic corpus of ``--preset`` is written to a temporary folder. Each stage
runs in a fresh Python process (its peak memory is its own) on its own copy of the dataset: ``check``
(``reactdiff data check``), ``prepare (cold)`` (emotion, 3dmm and mfcc for every clip into an empty
store) and ``prepare (up to date)`` (a re-run with nothing to do: one signature per stream file,
median of ``--repeats``). Prints a table with seconds, milliseconds per clip and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak_memory import peak_rss_mib  # noqa: E402  (VmHWM: ru_maxrss in a child carries the parent's peak)

STAGES = ("check", "prepare (cold)", "prepare (up to date)")


def _measure(stage: str, root: Path, repeats: int) -> dict:
    from reactdiff.data.check import check_dataset
    from reactdiff.data.layout import ReactLayout
    from reactdiff.data.prepare import PrepareConfig, prepare

    layout = ReactLayout(root)
    clips = sum(len(layout.clips(split)) for split in ("train", "val", "test") if layout.split_csv(split).is_file())
    if stage == "check":
        run = lambda: check_dataset(root)  # noqa: E731
    else:
        run = lambda: prepare(root, PrepareConfig(), progress=False)  # noqa: E731
        if stage == "prepare (up to date)":
            run()
    times = []
    for _ in range(1 if stage == "prepare (cold)" else repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    return {
        "stage": stage,
        "clips": clips,
        "seconds": seconds,
        "ms_per_clip": 1000 * seconds / clips,
        "peak_rss_mib": peak_rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="dataset root (copied per stage; default: a synthetic corpus)")
    parser.add_argument("--preset", default="tiny", help="synthetic preset when --data is not given")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(_measure(args.stage, args.data, args.repeats)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        source = args.data
        if source is None:
            source = Path(tmp) / "corpus"
            subprocess.run([sys.executable, "-m", "reactdiff", "synth", str(source), "--preset", args.preset, "--no-progress"], check=True, capture_output=True)
        rows = []
        for stage in STAGES:
            copy = Path(tmp) / "copy"
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("features"))
            command = [sys.executable, __file__, "--stage", stage, "--data", str(copy), "--repeats", str(args.repeats)]
            rows.append(json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout))
            shutil.rmtree(copy)

    from reactdiff.hardware import hardware_line

    print(hardware_line(platform.system()))
    print(f"dataset: {args.data or f'synthetic preset {args.preset}'}; median of {args.repeats} runs except the cold prepare")
    print("| stage | clips | seconds | ms per clip | peak RSS (MiB) |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['stage']} | {row['clips']} | {row['seconds']:.3f} | {row['ms_per_clip']:.2f} | {row['peak_rss_mib']:.0f} |")


if __name__ == "__main__":
    main()
