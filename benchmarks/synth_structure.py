"""Evidence that the synthetic corpus carries the structure it was built with, and what it costs.

    python benchmarks/synth_structure.py ROOT [--preset small] [--seed 0]

If ROOT holds no dataset yet, it is generated first (``reactdiff synth ROOT --preset P --seed S`` in
a child process, timed, with its peak memory). Then it prints:
1. the cross-correlation of listener valence and smile (AU6 + AU12) with the speaker's, over the
   forward pairs of every split: the peak lag in frames (positive = listener follows), per mode;
2. how separate the reaction modes are (between-mode centroid distance vs within-mode spread of
   per-clip summaries, within each speaker prototype);
3. oracle predictors on freshly generated speakers: sampling one mode vs averaging the modes,
   scored with the project's FRCorr, FRDist (per reaction) and FRDiv.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from reactdiff.constants import CLIP_FRAMES, SPLITS
from reactdiff.data.layout import ReactLayout
from reactdiff.hardware import hardware_line
from reactdiff.io import load_json
from reactdiff.synth.structure import (
    lag_profile,
    mode_reactions,
    mode_separation,
    reaction_summary,
    sampling_versus_averaging,
    valence_and_smile,
)
from reactdiff.synth.writer import CONFIG_NAME, LABELS_NAME


def generate(root: Path, preset: str, seed: int) -> tuple[float, float]:
    """Run ``reactdiff synth`` in a child process; return (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    command = [sys.executable, "-m", "reactdiff", "synth", str(root), "--preset", preset, "--seed", str(seed),
               "--no-progress"]
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    # ru_maxrss of children is in KiB on Linux: the largest child, i.e. the generator.
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def load_pairs(root: Path):
    """Speaker and listener emotion (N, T, 25), listener 3DMM, prototypes and modes of all forward pairs."""
    layout = ReactLayout(root)
    labels = load_json(root / LABELS_NAME)
    speakers, listeners, coeffs, prototypes, modes = [], [], [], [], []
    for split in SPLITS:
        for pair, label in zip(layout.pairs(split), labels["splits"][split]):
            assert (pair.speaker, pair.listener) == (label["speaker_path"], label["listener_path"])
            speakers.append(layout.load_emotion(split, pair.speaker)[:CLIP_FRAMES])
            listeners.append(layout.load_emotion(split, pair.listener)[:CLIP_FRAMES])
            coeffs.append(layout.load_3dmm(split, pair.listener)[:CLIP_FRAMES])
            prototypes.append(label["prototype"])
            modes.append(label["mode"])
    return (np.asarray(speakers), np.asarray(listeners), np.asarray(coeffs), np.asarray(prototypes),
            np.asarray(modes), labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--preset", default="small", help="preset to generate when ROOT is empty")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--oracle-speakers", type=int, default=12, help="speakers for the oracle comparison")
    args = parser.parse_args()

    print(hardware_line(f"numpy {np.__version__}"))
    if not (args.root / CONFIG_NAME).exists():
        seconds, peak_mib = generate(args.root, args.preset, args.seed)
        config = load_json(args.root / CONFIG_NAME)
        size_mib = sum(f.stat().st_size for f in args.root.rglob("*") if f.is_file()) / 2**20
        print(f"\n## generation: reactdiff synth --preset {config['preset']} --seed {config['seed']}")
        print("| seconds | peak RSS (MiB) | disk (MiB) |")
        print("|---|---|---|")
        print(f"| {seconds:.1f} | {peak_mib:.0f} | {size_mib:.0f} |")

    speakers, listeners, coeffs, prototypes, modes, labels = load_pairs(args.root)
    mode_names = labels["reaction_modes"]
    speaker_valence, speaker_smile = valence_and_smile(speakers)
    listener_valence, listener_smile = valence_and_smile(listeners)
    print(f"\n## listener follows speaker: cross-correlation peak ({len(speakers)} forward pairs, "
          "lags in frames at 25 fps)")
    print("| pairs | n | valence peak lag | valence r at peak | r at lag 0 | smile peak lag | smile r at peak |")
    print("|---|---|---|---|---|---|---|")
    groups = [("all", np.ones(len(modes), bool))] + [(name, modes == m) for m, name in enumerate(mode_names)]
    for name, mask in groups:
        lags, valence_r = lag_profile(speaker_valence[mask], listener_valence[mask])
        _, smile_r = lag_profile(speaker_smile[mask], listener_smile[mask])
        zero = len(lags) // 2
        print(f"| {name} | {mask.sum()} | {lags[valence_r.argmax()]} | {valence_r.max():.3f} | {valence_r[zero]:.3f} "
              f"| {lags[smile_r.argmax()]} | {smile_r.max():.3f} |")

    summaries = np.array([reaction_summary(e, c) for e, c in zip(listeners, coeffs)])
    separation = mode_separation(summaries, prototypes, modes)
    shuffled = mode_separation(summaries, prototypes, np.random.default_rng(0).permutation(modes))
    print(f"\n## reaction modes ({len(mode_names)}: {', '.join(mode_names)}) within each speaker prototype")
    print("| labels | between-mode centroid distance | within-mode RMS spread | ratio |")
    print("|---|---|---|---|")
    for name, values in (("true modes", separation), ("shuffled modes (control)", shuffled)):
        print(f"| {name} | {values['between']:.2f} | {values['within']:.2f} | {values['ratio']:.2f} |")
    print("\nper-mode mean of listener channels (all prototypes):")
    print("| mode | AU1 | AU6 | AU12 | AU23 | AU25 | valence | arousal | Happy | nod motion |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    columns = [0, 3, 7, 11, 13, 15, 16, 18, 25]
    for m, name in enumerate(mode_names):
        means = summaries[modes == m].mean(axis=0)[columns]
        print(f"| {name} | " + " | ".join(f"{value:.3f}" for value in means) + " |")

    start = time.perf_counter()
    _, reactions, _ = mode_reactions(args.seed + 1, args.oracle_speakers, draws_per_mode=3)
    scores = sampling_versus_averaging(reactions)
    print(f"\n## one-to-many: oracle predictors on {args.oracle_speakers} new speakers "
          f"({len(mode_names)} modes x 1 reference reaction each; {time.perf_counter() - start:.0f} s)")
    print("corrected protocol; FRCorr and FRDist per reaction (divided by K)")
    print("| predictor | FRCorr/K (higher better) | FRDist/K (lower better) "
          "| FRDist/K of AUs / VA / expressions alone | FRDiv |")
    print("|---|---|---|---|---|")
    for name, values in scores.items():
        groups = " / ".join(f"{values[f'frdist_{group}']:.2f}" for group in ("au", "va", "expression"))
        print(f"| {name} | {values['frcorr']:.3f} | {values['frdist']:.2f} | {groups} | {values['frdiv']:.4f} |")


if __name__ == "__main__":
    main()
